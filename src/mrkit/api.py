"""``mrkit.mr``: every requested estimator and the standard diagnostics on a table.

This is the one-call entry point of the foundation, the equivalent of
TwoSampleMR's ``mr()``, ``mr_heterogeneity()``, ``mr_pleiotropy_test()``,
``mr_leaveoneout()`` and ``mr_singlesnp()`` together::

    >>> import mrkit
    >>> res = mrkit.mr("examples/lipids-chd/ldlc_chd.csv", seed=1)  # doctest: +SKIP
    >>> res.estimates[["method", "estimate", "se", "pval"]]          # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mrkit.diagnostics import core as diagnostics
from mrkit.errors import InputError, TooFewVariantsError
from mrkit.io.harmonised import analysable, check_frame, iter_pairs
from mrkit.methods import get_method, resolve
from mrkit.results import CORE_FIELDS, MRResult


@dataclass
class PairAnalysis:
    """Results for one exposure-outcome pair.

    ``label`` holds ``exposure``/``outcome`` when the table names pairs;
    ``skipped`` lists each method or diagnostic that could not run, with why.
    """

    label: dict[str, str]
    nsnp: int
    snps: list[str]
    estimates: list[MRResult]
    skipped: list[dict[str, str]] = field(default_factory=list)
    heterogeneity: list[dict[str, Any]] = field(default_factory=list)
    pleiotropy: dict[str, float] | None = None
    i2gx: float | None = None
    f_mean: float | None = None
    leave_one_out: list[dict[str, Any]] = field(default_factory=list)
    single_snp: list[dict[str, Any]] = field(default_factory=list)


class MRAnalysis:
    """The result of :func:`mr`: estimates and diagnostics for one or more pairs.

    Attributes
    ----------
    pairs
        One :class:`PairAnalysis` per exposure-outcome pair, in table order.
    estimates
        DataFrame, one row per pair and method (``method, estimate, se,
        ci_lower, ci_upper, pval, nsnp`` + extras; ``exposure``/``outcome`` first
        when the table names pairs).
    """

    def __init__(self, pairs: list[PairAnalysis], *, parameters: dict[str, Any]) -> None:
        self.pairs = pairs
        self.parameters = parameters

    # -- tables ---------------------------------------------------------------------------
    @property
    def multi(self) -> bool:
        """True when the table named exposure-outcome pairs."""
        return any(p.label for p in self.pairs)

    def _frame(self, rows_of: Callable[[PairAnalysis], Iterable[dict[str, Any]]]) -> pd.DataFrame:
        rows = []
        for pair in self.pairs:
            for rec in rows_of(pair):
                rows.append({**_pair_keys(pair), **rec})
        return pd.DataFrame(rows)

    @property
    def estimates(self) -> pd.DataFrame:
        """One row per pair x method."""
        return self._frame(lambda p: (r.to_record() for r in p.estimates))

    @property
    def heterogeneity(self) -> pd.DataFrame:
        """Cochran's Q (IVW) and Rücker's Q' (Egger) per pair."""
        return self._frame(lambda p: p.heterogeneity)

    @property
    def pleiotropy(self) -> pd.DataFrame:
        """Egger intercept test per pair."""
        return self._frame(lambda p: [p.pleiotropy] if p.pleiotropy else [])

    @property
    def leave_one_out(self) -> pd.DataFrame:
        """IVW leaving out each variant in turn."""
        return self._frame(lambda p: p.leave_one_out)

    @property
    def single_snp(self) -> pd.DataFrame:
        """Wald ratio of each variant."""
        return self._frame(lambda p: p.single_snp)

    @property
    def skipped(self) -> pd.DataFrame:
        """Methods and diagnostics that could not run, with the reason."""
        return self._frame(lambda p: p.skipped)

    def summary(self) -> pd.DataFrame:
        """The core columns of :attr:`estimates`."""
        est = self.estimates
        keys = [c for c in ("exposure", "outcome") if c in est.columns]
        return est[keys + [c for c in CORE_FIELDS if c in est.columns]]

    # -- serialisation --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the keys of the ``mrkit mr --json`` contract.

        ``estimates``, ``heterogeneity``, ``leave_one_out``, ``single_snp`` and
        ``skipped`` are lists of records. For a single pair ``pleiotropy`` is a
        dict and ``i2gx``/``f_mean`` numbers; for several pairs they are lists of
        records carrying ``exposure`` and ``outcome``.
        """
        out: dict[str, Any] = {
            "estimates": _records(self.estimates),
            "heterogeneity": _records(self.heterogeneity),
        }
        if self.multi:
            out["pleiotropy"] = _records(self.pleiotropy)
            out["i2gx"] = [{**_pair_keys(p), "i2gx": _num(p.i2gx)} for p in self.pairs]
            out["f_mean"] = [{**_pair_keys(p), "f_mean": _num(p.f_mean)} for p in self.pairs]
        else:
            pair = self.pairs[0]
            out["pleiotropy"] = (
                {k: _num(v) for k, v in pair.pleiotropy.items()} if pair.pleiotropy else None
            )
            out["i2gx"] = _num(pair.i2gx)
            out["f_mean"] = _num(pair.f_mean)
        out["leave_one_out"] = _records(self.leave_one_out)
        out["single_snp"] = _records(self.single_snp)
        out["skipped"] = _records(self.skipped)
        out["parameters"] = self.parameters
        return out

    def __repr__(self) -> str:
        lines = [f"MRAnalysis: {len(self.pairs)} pair(s), methods {self.parameters['methods']}"]
        with pd.option_context("display.width", 120, "display.max_columns", 12):
            lines.append(self.summary().to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = f"<p><b>MRAnalysis</b>: {len(self.pairs)} pair(s)</p>"
        return head + self.summary().to_html(index=False, float_format=lambda v: f"{v:.4g}")


def _pair_keys(pair: PairAnalysis) -> dict[str, str]:
    return {k: pair.label[k] for k in ("exposure", "outcome") if k in pair.label}


def _num(v: Any) -> Any:
    if isinstance(v, float | np.floating) and not math.isfinite(float(v)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _num(v) for k, v in rec.items()} for rec in df.to_dict(orient="records")]


def _try(skipped: list[dict[str, str]], name: str, fn: Callable[[], Any]) -> Any:
    """Run a method/diagnostic; too few variants is recorded in ``skipped``, not raised."""
    try:
        return fn()
    except TooFewVariantsError as exc:
        skipped.append({"method": name, "reason": str(exc)})
        return None


def analyse_pair(
    bx: np.ndarray,
    sx: np.ndarray,
    by: np.ndarray,
    sy: np.ndarray,
    *,
    snps: list[str],
    methods: list[str],
    label: dict[str, str] | None = None,
    alpha: float = 0.05,
    seed: int | None = None,
    nboot: int = 1000,
    with_diagnostics: bool = True,
) -> PairAnalysis:
    """All requested methods and the diagnostics for one pair (arrays in)."""
    n = len(bx)
    pair = PairAnalysis(label=dict(label or {}), nsnp=n, snps=list(snps), estimates=[])
    for name in methods:
        spec = get_method(name)
        if name == "wald_ratio" and n != 1:
            pair.skipped.append({"method": name, "reason": f"applies to a single variant, got {n}"})
            continue
        res = _try(
            pair.skipped,
            name,
            lambda spec=spec: spec(bx, sx, by, sy, alpha=alpha, seed=seed, nboot=nboot),
        )
        if res is not None:
            pair.estimates.append(res)
    if not with_diagnostics:
        return pair
    pair.heterogeneity = (
        _try(pair.skipped, "heterogeneity", lambda: diagnostics.heterogeneity(bx, sx, by, sy)) or []
    )
    pair.pleiotropy = _try(
        pair.skipped, "pleiotropy", lambda: diagnostics.pleiotropy(bx, sx, by, sy)
    )
    if n >= 2:
        pair.i2gx = float(diagnostics.i2gx(bx, sx))
    pair.f_mean = float(diagnostics.f_mean(bx, sx))
    loo = (
        _try(
            pair.skipped,
            "leave_one_out",
            lambda: diagnostics.leave_one_out(bx, sx, by, sy, alpha=alpha),
        )
        or []
    )
    if loo:
        pair.leave_one_out = [_snp_record(s, r) for s, r in zip(snps, loo, strict=True)]
    single = diagnostics.single_snp(bx, sx, by, sy, alpha=alpha)
    pair.single_snp = [_snp_record(s, r) for s, r in zip(snps, single, strict=True)]
    return pair


def _snp_record(snp: str, res: MRResult) -> dict[str, Any]:
    return {
        "snp": snp,
        "estimate": res.estimate,
        "se": res.se,
        "ci_lower": res.ci_lower,
        "ci_upper": res.ci_upper,
        "pval": res.pval,
    }


def mr(
    table: pd.DataFrame | str | Path,
    *,
    methods: str | Iterable[str] | None = "default",
    alpha: float = 0.05,
    seed: int | None = None,
    nboot: int = 1000,
    diagnostics: bool = True,
) -> MRAnalysis:
    """Run MR methods and diagnostics on a harmonised table.

    Parameters
    ----------
    table
        DataFrame or path of a harmonised table (TwoSampleMR or snake_case
        names). Rows with ``keep``/``mr_keep`` false are ignored. Columns
        ``id.exposure``/``id.outcome`` (or ``exposure``/``outcome``) split it into
        pairs, as TwoSampleMR's ``mr()``.
    methods
        ``"default"`` (TwoSampleMR's defaults: Wald ratio for one variant, else
        MR Egger, weighted median, IVW, weighted mode), ``"all"``, a
        comma-separated string or a list of method names.
    alpha
        Significance level of the confidence intervals.
    seed, nboot
        Seed and number of draws of every bootstrap method.
    diagnostics
        Also compute heterogeneity, pleiotropy, I²GX, F, leave-one-out and
        single-variant estimates.

    Returns
    -------
    MRAnalysis
    """
    if nboot < 1:
        msg = f"`nboot` must be a positive number of draws, got {nboot}"
        raise InputError(msg)
    df = check_frame(table)
    names = resolve(methods)
    pairs = []
    for label, rows in iter_pairs(df):
        used = analysable(rows)
        if len(used) == 0:
            what = f" for {label['exposure']} -> {label['outcome']}" if label else ""
            msg = f"no variants with keep = TRUE{what}; nothing to analyse"
            raise InputError(msg)
        pairs.append(
            analyse_pair(
                used["beta_exposure"].to_numpy(float),
                used["se_exposure"].to_numpy(float),
                used["beta_outcome"].to_numpy(float),
                used["se_outcome"].to_numpy(float),
                snps=used["snp"].tolist(),
                methods=names,
                label=label,
                alpha=alpha,
                seed=seed,
                nboot=nboot,
                with_diagnostics=diagnostics,
            )
        )
    params = {"methods": names, "alpha": alpha, "seed": seed, "nboot": nboot}
    return MRAnalysis(pairs, parameters=params)
