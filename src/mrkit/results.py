"""Result types: one estimate (:class:`MRResult`) and an analysis of many pairs
(:class:`MRAnalysis`, what :func:`mrkit.estimate.analyse` returns).

An estimator returns one :class:`MRResult`: a frozen record with the fields of
DESIGN.md (``method, estimate, se, ci_lower, ci_upper, pval, nsnp``) and a
mapping of named extras (Egger intercept, Q, PRESSO global p, ...). Odds
ratios are derived at the report, never here. Every result type has
``summary()`` (a DataFrame), ``__repr__`` and ``_repr_html_``, formatted by
:mod:`mrkit._core.fmt`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import orjson
import pandas as pd

from mrkit._core.fmt import fmt_num, fmt_p, plain

CORE_FIELDS: tuple[str, ...] = (
    "method",
    "estimate",
    "se",
    "ci_lower",
    "ci_upper",
    "pval",
    "nsnp",
)


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays to plain Python objects for DataFrames (NaN kept)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


@dataclass(frozen=True)
class MRResult:
    """The estimate of one method on one exposure-outcome pair.

    Attributes
    ----------
    method
        Canonical snake_case method name (a key of :data:`mrkit.methods.REGISTRY`).
    estimate, se
        Causal effect of the exposure on the outcome (outcome units per exposure
        unit) and its standard error.
    ci_lower, ci_upper
        ``1 - alpha`` confidence interval.
    pval
        Two-sided p-value of the estimate.
    nsnp
        Number of variants the estimate used.
    alpha
        Significance level of the interval.
    extras
        Method-specific named quantities (e.g. ``egger_intercept``, ``q``).
    companions
        Further result rows the same fit gives (MR-PRESSO's outlier-corrected
        estimate, method ``presso_corrected``); :func:`mrkit.estimate.analyse`
        lists them right after this row.
    """

    method: str
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pval: float
    nsnp: int
    alpha: float = 0.05
    extras: Mapping[str, Any] = field(default_factory=dict)
    companions: tuple[MRResult, ...] = ()

    def to_record(self) -> dict[str, Any]:
        """A flat dict: the core fields, then the extras (plain Python types)."""
        rec: dict[str, Any] = {k: _plain(getattr(self, k)) for k in CORE_FIELDS}
        for key, value in self.extras.items():
            rec[key] = _plain(value)
        return rec

    def summary(self) -> pd.DataFrame:
        """The core fields as a one-row DataFrame."""
        return pd.DataFrame([{k: getattr(self, k) for k in CORE_FIELDS}])

    def __repr__(self) -> str:
        return (
            f"MRResult(method={self.method!r}, estimate={fmt_num(self.estimate, 6)}, "
            f"se={fmt_num(self.se, 6)}, ci=[{fmt_num(self.ci_lower, 6)}, "
            f"{fmt_num(self.ci_upper, 6)}], pval={fmt_p(self.pval)}, nsnp={self.nsnp})"
        )

    def _repr_html_(self) -> str:
        return _html_table(self.summary())


def _html_table(df: pd.DataFrame) -> str:
    """A DataFrame as an HTML table, numbers by the one formatting rule."""
    fmt = {c: (fmt_p if c.endswith("pval") else fmt_num) for c in df.columns}
    return df.to_html(index=False, formatters=fmt, na_rep="NA")


def _text_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "(none)"
    fmt = {c: (fmt_p if c.endswith("pval") else fmt_num) for c in df.columns}
    with pd.option_context("display.width", 120, "display.max_columns", 12):
        return df.to_string(index=False, formatters=fmt, na_rep="NA")


class Summarised:
    """``__repr__`` and ``_repr_html_`` of a result type from its ``summary()`` table."""

    def summary(self) -> pd.DataFrame:  # pragma: no cover - overridden
        raise NotImplementedError

    def _title(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"{self._title()}\n{_text_table(self.summary())}"

    def _repr_html_(self) -> str:
        return f"<p><b>{self._title()}</b></p>" + _html_table(self.summary())


#: Columns that name a pair in the tables of :class:`MRAnalysis`.
PAIR_KEYS: tuple[str, ...] = ("exposure", "outcome", "direction")


@dataclass
class MRAnalysis:
    """Estimates and diagnostics of one or more exposure-outcome pairs.

    Every table has one row per pair and item, the pair's key columns first
    (``exposure``, ``outcome``; none for a table of one unnamed pair).

    Attributes
    ----------
    keys
        One row per pair: its key columns and ``nsnp`` (variants analysed).
    estimates
        One row per pair and method: ``method, estimate, se, ci_lower,
        ci_upper, pval, nsnp`` and the method's extras.
    heterogeneity
        Cochran's Q (``method = "ivw"``) and Rücker's Q' (``"egger"``):
        ``q, q_df, q_pval``.
    pleiotropy
        MR-Egger intercept test: ``egger_intercept, se, pval``.
    strength
        ``nsnp, i2gx, f_mean, f_min``.
    leave_one_out, single_snp
        One row per pair and variant (``snp``): IVW without it / its Wald ratio.
    skipped
        What could not run: ``method`` and ``reason`` (``method = "*"``: the pair).
    parameters
        The run's settings (methods, options, alpha, seed, nboot, ...).
    """

    keys: pd.DataFrame
    estimates: pd.DataFrame
    heterogeneity: pd.DataFrame
    pleiotropy: pd.DataFrame
    strength: pd.DataFrame
    leave_one_out: pd.DataFrame
    single_snp: pd.DataFrame
    skipped: pd.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def key_columns(self) -> list[str]:
        """The columns naming a pair (empty for one unnamed pair)."""
        return [c for c in self.keys.columns if c != "nsnp"]

    @property
    def multi(self) -> bool:
        """True when the pairs are named (the table had exposure/outcome columns)."""
        return bool(self.key_columns)

    @property
    def npairs(self) -> int:
        return len(self.keys)

    @property
    def pairs(self) -> list[PairView]:
        """One :class:`PairView` per pair, in table order."""
        return [PairView(self, i) for i in range(self.npairs)]

    def summary(self) -> pd.DataFrame:
        """The core columns of :attr:`estimates`."""
        est = self.estimates
        cols = [*self.key_columns, *CORE_FIELDS]
        return est[[c for c in cols if c in est.columns]]

    def _parts(self) -> list[tuple[str, Any]]:
        """The ``--json`` contract's keys in order; tables as DataFrames, the rest JSON-ready."""
        keys = self.key_columns
        parts: list[tuple[str, Any]] = [
            ("estimates", self.estimates),
            ("heterogeneity", self.heterogeneity),
        ]
        if self.multi:
            parts += [
                ("pleiotropy", self.pleiotropy),
                ("i2gx", self.strength[[*keys, "i2gx"]]),
                ("f_mean", self.strength[[*keys, "f_mean"]]),
            ]
        else:
            pl = records(self.pleiotropy)
            st = records(self.strength)
            parts += [
                ("pleiotropy", pl[0] if pl else None),
                ("i2gx", st[0]["i2gx"] if st else None),
                ("f_mean", st[0]["f_mean"] if st else None),
            ]
        parts += [
            ("leave_one_out", self.leave_one_out),
            ("single_snp", self.single_snp),
            ("skipped", self.skipped),
            ("parameters", {k: plain(v) for k, v in self.parameters.items()}),
        ]
        return parts

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the keys of the ``mrkit mr --json`` contract.

        ``estimates``, ``heterogeneity``, ``leave_one_out``, ``single_snp`` and
        ``skipped`` are lists of records. For a single unnamed pair
        ``pleiotropy`` is a dict (or null) and ``i2gx``/``f_mean`` numbers; for
        named pairs they are lists of records carrying the pair's keys.
        """
        return {k: records(v) if isinstance(v, pd.DataFrame) else v for k, v in self._parts()}

    def write_json(self, out: BinaryIO, *, chunk: int = 20_000) -> None:
        """Write :meth:`to_dict` as JSON to the binary stream ``out``, one record per line.

        Tables are converted ``chunk`` rows at a time, so the memory taken does
        not grow with the number of rows (``to_dict`` of 10,000 pairs holds
        millions of leave-one-out dicts at once).
        """
        out.write(b"{")
        for n, (key, value) in enumerate(self._parts()):
            out.write(b"%s\n  %s: " % (b"," if n else b"", orjson.dumps(key)))
            if not isinstance(value, pd.DataFrame):
                out.write(orjson.dumps(value))
                continue
            out.write(b"[")
            sep = b"\n    "
            for a in range(0, len(value), chunk):
                for rec in records(value.iloc[a : a + chunk]):
                    out.write(sep + orjson.dumps(rec))
                    sep = b",\n    "
            out.write(b"\n  ]" if len(value) else b"]")
        out.write(b"\n}\n")

    def __repr__(self) -> str:
        head = (
            f"MRAnalysis: {self.npairs:,} pair{'s' if self.npairs != 1 else ''}, "
            f"methods {', '.join(self.parameters.get('methods', []))}"
        )
        lines = [head, _text_table(self.summary())]
        if len(self.skipped):
            lines.append(f"skipped: {len(self.skipped):,} (see .skipped)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = f"<p><b>MRAnalysis</b>: {self.npairs:,} pair(s)</p>"
        return head + _html_table(self.summary())


class PairView:
    """One pair of an :class:`MRAnalysis`: its rows of every table."""

    def __init__(self, analysis: MRAnalysis, index: int) -> None:
        self._a = analysis
        self._i = index
        row = analysis.keys.iloc[index]
        self.label = {k: str(row[k]) for k in analysis.key_columns}
        self.nsnp = int(row["nsnp"])

    def _rows(self, df: pd.DataFrame) -> pd.DataFrame:
        if df.empty or not self.label:
            return df
        mask = np.ones(len(df), dtype=bool)
        for k, v in self.label.items():
            mask &= (df[k].astype(str) == v).to_numpy()
        return df[mask]

    @property
    def estimates(self) -> pd.DataFrame:
        return self._rows(self._a.estimates)

    @property
    def heterogeneity(self) -> list[dict[str, Any]]:
        return records(self._rows(self._a.heterogeneity).drop(columns=list(self.label)))

    @property
    def pleiotropy(self) -> dict[str, Any] | None:
        rows = records(self._rows(self._a.pleiotropy).drop(columns=list(self.label)))
        return rows[0] if rows else None

    def _strength(self, key: str) -> float | None:
        rows = self._rows(self._a.strength)
        return plain(rows.iloc[0][key]) if len(rows) else None

    @property
    def i2gx(self) -> float | None:
        return self._strength("i2gx")

    @property
    def f_mean(self) -> float | None:
        return self._strength("f_mean")

    @property
    def skipped(self) -> list[dict[str, Any]]:
        return records(self._rows(self._a.skipped).drop(columns=list(self.label)))

    def __repr__(self) -> str:
        name = " -> ".join(self.label.values()) or "pair"
        return f"PairView({name}, {self.nsnp} variants)"


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a DataFrame as JSON-ready dicts (NaN/inf -> None, numpy -> Python).

    Column by column (``tolist`` gives Python scalars in one C pass), then zipped
    into rows: about 20x faster than ``to_dict`` plus a per-value conversion.
    """
    cols = []
    for name in df.columns:
        s = df[name]
        if s.dtype.kind == "f":
            vals = s.to_numpy()
            values = np.where(np.isfinite(vals), vals, np.nan).astype(object)
            values[~np.isfinite(vals)] = None
            cols.append(values.tolist())
        elif s.dtype.kind in "iub":
            cols.append(s.tolist())
        else:
            cols.append([v if type(v) is str else plain(v) for v in s.tolist()])
    names = [str(c) for c in df.columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*cols, strict=True)]


ResultSet = MRAnalysis
