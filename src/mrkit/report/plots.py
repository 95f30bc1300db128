"""Public plotting API: the figures of an MR analysis, as TwoSampleMR draws them.

:func:`plot_scatter`, :func:`plot_forest`, :func:`plot_leave_one_out`,
:func:`plot_funnel` and :func:`plot_radial` take a result of :func:`mrkit.mr`
(or a harmonised table, which is analysed with the default methods first) and
return a :class:`matplotlib.figure.Figure` (no pyplot state: show it in a
notebook, or ``fig.savefig("scatter.png", dpi=300)``). :func:`write_plots`
writes all five for every pair (``mrkit mr TABLE --plots DIR``). See
``docs/plots.md``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mrkit.errors import InputError
from mrkit.estimate import Pairs, mr
from mrkit.methods import get_method
from mrkit.report import figures
from mrkit.results import MRAnalysis, records

Source = MRAnalysis | pd.DataFrame | str | Path
PairKey = int | tuple[str, str] | None
#: Methods whose "estimate" is not a causal effect (no line in the figures).
NOT_EFFECTS = frozenset({"sign"})
#: The summary rows of the single-SNP forest, as TwoSampleMR's ``mr_singlesnp`` default.
ALL_ROWS = (("ivw", "ivw_mre", "ivw_fe"), ("egger",))
KINDS = ("scatter", "forest", "leave_one_out", "funnel", "radial")
#: File-name suffix of each kind (``<exposure>__<outcome>_<suffix>.png``).
CI_KEYS = ("estimate", "ci_lower", "ci_upper")
#: The study report also draws every method's estimate of a pair as a forest.
REPORT_KINDS = (*KINDS, "methods")
SUFFIX = {k: "loo" if k == "leave_one_out" else k for k in REPORT_KINDS}


def slug(text: str) -> str:
    """File-name-safe form of an id."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def label(method: str) -> str:
    """The method's label in the registry (its name when not registered)."""
    try:
        return get_method(method).label
    except Exception:
        return method


@dataclass(frozen=True)
class Names:
    """Trait names and units shown on the axes (``None``: not known)."""

    exposure: str = "exposure"
    outcome: str = "outcome"
    exposure_units: str | None = None
    outcome_units: str | None = None

    def trait(self, side: str) -> str:
        name = getattr(self, side)
        units = getattr(self, f"{side}_units")
        return f"{name} ({units})" if units else name

    def effect(self, what: str) -> str:
        """``"MR estimate of BMI on CHD (log-odds per SD)"``."""
        per = ""
        if self.outcome_units and self.exposure_units:
            per = f" ({self.outcome_units} per {self.exposure_units})"
        return f"{what} of {self.exposure} on {self.outcome}{per}"

    @property
    def title(self) -> str:
        return f"{self.exposure} → {self.outcome}"


def summary_rows(estimates: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The "All - Inverse variance weighted" and "All - MR Egger" rows of a forest."""
    by = {r["method"]: r for r in estimates if r.get("estimate") is not None}
    rows = []
    for names in ALL_ROWS:
        found = next((by[m] for m in names if m in by), None)
        if found is not None and np.isfinite(found["estimate"]):
            rows.append(
                {
                    "label": f"All - {label(found['method'])}",
                    "estimate": found["estimate"],
                    "ci_lower": found["ci_lower"],
                    "ci_upper": found["ci_upper"],
                }
            )
    return rows


def _ivw(estimates: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    by = {r["method"]: r for r in estimates}
    return next((by[m] for m in ALL_ROWS[0] if m in by), None)


Vectors = tuple[np.ndarray, ...]


def pair_figure(
    kind: str,
    *,
    data: Vectors | None,
    estimates: Sequence[dict[str, Any]],
    single: pd.DataFrame,
    loo: pd.DataFrame,
    names: Names,
    title: bool = True,
) -> Figure | None:
    """One figure of one pair (``None`` when its table is empty, e.g. one variant)."""
    lines = [r for r in estimates if r["method"] not in NOT_EFFECTS]
    labels = {r["method"]: label(r["method"]) for r in lines}
    head = names.title if title else ""
    if kind == "scatter":
        if data is None:
            return None
        bx, sx, by, sy = data
        return figures.scatter(
            bx,
            sx,
            by,
            sy,
            lines,
            labels=labels,
            xlabel=f"SNP effect on {names.trait('exposure')}",
            ylabel=f"SNP effect on {names.trait('outcome')}",
            title=head,
        )
    if kind == "methods":
        rows = pd.DataFrame(
            [
                {
                    "label": labels[r["method"]],
                    **{k: r[k] for k in ("estimate", "ci_lower", "ci_upper")},
                }
                for r in lines
                if r.get("ci_lower") is not None and np.isfinite(r["estimate"])
            ],
            columns=["label", "estimate", "ci_lower", "ci_upper"],
        )
        if rows.empty:
            return None
        return figures.forest(rows, xlabel=names.effect("MR estimate"), title=head)
    if kind == "forest" and len(single):
        summ = summary_rows(lines)
        rows = figures.single_snp_rows(single, summ)
        return figures.forest(
            rows,
            xlabel=names.effect("MR estimate"),
            title=head,
            highlight=[r["label"] for r in summ],
            gap_before=[r["label"] for r in summ[:1]],
        )
    if kind == "leave_one_out" and len(loo):
        ivw = _ivw(lines)
        overall = None
        if ivw is not None:
            overall = {k: ivw[k] for k in ("estimate", "ci_lower", "ci_upper")} | {"label": "All"}
        return figures.forest(
            figures.loo_rows(loo, overall),
            xlabel=names.effect("MR leave-one-out estimate (IVW)"),
            title=head,
            highlight=["All"],
            gap_before=["All"],
        )
    if kind == "funnel" and len(single):
        return figures.funnel(
            single,
            lines,
            labels=labels,
            xlabel=names.effect("Single-SNP (Wald ratio) estimate"),
            title=head,
        )
    if kind == "radial" and len(single):
        ivw = _ivw(lines)
        return figures.radial(single, None if ivw is None else ivw["estimate"], title=head)
    return None


# -- the public functions ---------------------------------------------------------------
def _analysis(result: Source) -> tuple[MRAnalysis, Any]:
    if isinstance(result, MRAnalysis):
        return result, None
    if isinstance(result, pd.DataFrame | str | Path):
        return mr(result), result
    msg = (
        f"expected a result of mrkit.mr() or a harmonised table, got {type(result).__name__}; "
        "run `res = mrkit.mr(table)` first"
    )
    raise InputError(msg)


def _index(res: MRAnalysis, pair: PairKey) -> int:
    keys = res.keys
    if isinstance(pair, int):
        if not 0 <= pair < res.npairs:
            msg = f"`pair` {pair} out of range: the result holds {res.npairs} pair(s)"
            raise InputError(msg)
        return pair
    if pair is None:
        if res.npairs == 1:
            return 0
        msg = (
            f"the result holds {res.npairs} pairs: pass `pair` (an index 0..{res.npairs - 1} "
            "or an (exposure, outcome) tuple)"
        )
        raise InputError(msg)
    if {"exposure", "outcome"} <= set(keys.columns):
        hit = np.flatnonzero(
            (keys["exposure"].astype(str) == str(pair[0])).to_numpy()
            & (keys["outcome"].astype(str) == str(pair[1])).to_numpy()
        )
        if hit.size:
            return int(hit[0])
    msg = f"`pair` {pair!r} is not in the result (pairs: {records(keys)})"
    raise InputError(msg)


def _rows(res: MRAnalysis, table: pd.DataFrame, i: int) -> pd.DataFrame:
    cols = res.key_columns
    if not cols or table.empty:
        return table
    mask = np.ones(len(table), dtype=bool)
    for c in cols:
        mask &= (table[c].astype(str) == str(res.keys.iloc[i][c])).to_numpy()
    return table[mask].reset_index(drop=True)


def _names(
    res: MRAnalysis, i: int, exposure: str | None, outcome: str | None, **units: Any
) -> Names:
    row = res.keys.iloc[i]
    found = {}
    for side in ("exposure", "outcome"):
        for col in (f"{side}_name", side):
            if col in res.keys.columns and str(row[col]) not in ("", "nan", "None"):
                found[side] = str(row[col])
                break
    return Names(
        exposure=exposure or found.get("exposure", "exposure"),
        outcome=outcome or found.get("outcome", "outcome"),
        exposure_units=units.get("exposure_units"),
        outcome_units=units.get("outcome_units"),
    )


def _data(res: MRAnalysis, i: int, table: Any) -> Vectors | None:
    """The pair's kept variants ``(bx, sx, by, sy)`` from its harmonised table."""
    if table is None:
        return None
    pairs = Pairs.from_table(table)
    j = i
    if res.key_columns:
        want = res.keys.iloc[i]
        keys = pairs.keys
        hit = np.ones(len(keys), dtype=bool)
        for c in ("exposure", "outcome"):
            if c in keys.columns and c in want.index:
                hit &= (keys[c].astype(str) == str(want[c])).to_numpy()
        if not hit.any():
            msg = f"pair {dict(want)} is not in the table given as `data`"
            raise InputError(msg)
        j = int(np.flatnonzero(hit)[0])
    return pairs.pair(j)


def _plot(
    kind: str,
    result: Source,
    data: Any,
    pair: PairKey,
    exposure: str | None,
    outcome: str | None,
    units: dict[str, str | None],
    title: bool,
) -> Figure:
    res, table = _analysis(result)
    table = data if data is not None else table
    i = _index(res, pair)
    if kind == "scatter" and table is None:
        msg = (
            "the scatter plot needs the variants' effects: pass the harmonised table, "
            "plot_scatter(res, table) (as TwoSampleMR's mr_scatter_plot(res, dat))"
        )
        raise InputError(msg)
    if kind != "scatter" and kind != "leave_one_out" and _rows(res, res.single_snp, i).empty:
        msg = "no single-SNP estimates in the result: run mrkit.mr(..., diagnostics=True)"
        raise InputError(msg)
    if kind == "leave_one_out" and _rows(res, res.leave_one_out, i).empty:
        msg = "no leave-one-out estimates in the result (it needs 3 or more variants)"
        raise InputError(msg)
    fig = pair_figure(
        kind,
        data=_data(res, i, table) if kind == "scatter" else None,
        estimates=records(_rows(res, res.estimates, i)),
        single=_rows(res, res.single_snp, i),
        loo=_rows(res, res.leave_one_out, i),
        names=_names(res, i, exposure, outcome, **units),
        title=title,
    )
    if fig is None:  # pragma: no cover - every empty case is caught above
        msg = f"nothing to draw for the {kind} plot"
        raise InputError(msg)
    return fig


def plot_scatter(
    result: Source,
    data: pd.DataFrame | str | Path | None = None,
    *,
    pair: PairKey = None,
    exposure: str | None = None,
    outcome: str | None = None,
    exposure_units: str | None = None,
    outcome_units: str | None = None,
    title: bool = True,
) -> Figure:
    """Variant-outcome against variant-exposure effects with a line per method.

    TwoSampleMR's ``mr_scatter_plot(res, dat)``: variants oriented to a positive
    exposure effect, ±1 SE bars, lines through the origin with slope
    :math:`\\hat\\beta` (MR-Egger's through its intercept).

    Parameters
    ----------
    result
        A result of :func:`mrkit.mr`, or a harmonised table (analysed first).
    data
        The harmonised table of ``result`` (needed for the variants' effects).
    pair
        Index or ``(exposure, outcome)`` of the pair when the result holds several.
    exposure, outcome, exposure_units, outcome_units
        Names and units on the axes (default: the table's ``exposure``/``outcome``).
    title
        Put ``exposure → outcome`` above the plot.

    Examples
    --------
    >>> res = mrkit.mr("bmi_chd.csv")  # doctest: +SKIP
    >>> fig = mrkit.plot_scatter(res, "bmi_chd.csv", exposure="BMI")  # doctest: +SKIP
    >>> fig.savefig("scatter.png", dpi=300)  # doctest: +SKIP
    """
    units = {"exposure_units": exposure_units, "outcome_units": outcome_units}
    return _plot("scatter", result, data, pair, exposure, outcome, units, title)


def plot_forest(
    result: Source,
    *,
    pair: PairKey = None,
    exposure: str | None = None,
    outcome: str | None = None,
    exposure_units: str | None = None,
    outcome_units: str | None = None,
    title: bool = True,
) -> Figure:
    """Single-SNP (Wald ratio) estimates with 95% CIs, then "All - IVW" and "All - MR Egger".

    TwoSampleMR's ``mr_forest_plot(mr_singlesnp(dat))``: variants from the
    largest estimate down; the summary rows below a gap, in the second colour.
    Other arguments as :func:`plot_scatter`.
    """
    units = {"exposure_units": exposure_units, "outcome_units": outcome_units}
    return _plot("forest", result, None, pair, exposure, outcome, units, title)


def plot_leave_one_out(
    result: Source,
    *,
    pair: PairKey = None,
    exposure: str | None = None,
    outcome: str | None = None,
    exposure_units: str | None = None,
    outcome_units: str | None = None,
    title: bool = True,
) -> Figure:
    """IVW estimate without each variant (labelled by the variant left out), sorted, then "All".

    TwoSampleMR's ``mr_leaveoneout_plot(mr_leaveoneout(dat))``. Other
    arguments as :func:`plot_scatter`.
    """
    units = {"exposure_units": exposure_units, "outcome_units": outcome_units}
    return _plot("leave_one_out", result, None, pair, exposure, outcome, units, title)


def plot_funnel(
    result: Source,
    *,
    pair: PairKey = None,
    exposure: str | None = None,
    outcome: str | None = None,
    exposure_units: str | None = None,
    outcome_units: str | None = None,
    title: bool = True,
) -> Figure:
    """Single-SNP estimates against their precision 1/SE, a vertical line per method.

    TwoSampleMR's ``mr_funnel_plot``, with the legend above the axes, outside
    the points. Other arguments as :func:`plot_scatter`.
    """
    units = {"exposure_units": exposure_units, "outcome_units": outcome_units}
    return _plot("funnel", result, None, pair, exposure, outcome, units, title)


def plot_radial(
    result: Source,
    *,
    pair: PairKey = None,
    exposure: str | None = None,
    outcome: str | None = None,
    title: bool = True,
) -> Figure:
    """Radial MR plot (Bowden et al. 2018): :math:`\\hat\\beta_j\\sqrt{W_j}` by :math:`\\sqrt{W_j}`.

    First-order weights, the radial IVW line through the origin, the radial
    MR-Egger line, and the variants whose :math:`Q_j` has p < 0.05 named, as
    RadialMR's ``plot_radial``. Other arguments as :func:`plot_scatter`.
    """
    return _plot("radial", result, None, pair, exposure, outcome, {}, title)


def write_plots(
    result: Source,
    data: pd.DataFrame | str | Path | None,
    out_dir: str | Path,
    *,
    formats: Sequence[str] = ("png", "svg"),
) -> list[Path]:
    """All five figures of every pair into ``out_dir``; returns the files written.

    Files are ``<kind>.<format>`` for one unnamed pair, otherwise
    ``<exposure>__<outcome>_<kind>.<format>``; PNG at 300 dpi. A figure a pair
    cannot have (leave-one-out of two variants, ...) is left out.
    """
    res, table = _analysis(result)
    table = data if data is not None else table
    out = Path(out_dir)
    written: list[Path] = []
    for i in range(res.npairs):
        names = _names(res, i, None, None)
        prefix = ""
        if res.key_columns:
            prefix = "__".join(slug(str(res.keys.iloc[i][c])) for c in res.key_columns) + "_"
        vectors = _data(res, i, table)
        estimates = records(_rows(res, res.estimates, i))
        single = _rows(res, res.single_snp, i)
        loo = _rows(res, res.leave_one_out, i)
        for kind in KINDS:
            fig = pair_figure(
                kind, data=vectors, estimates=estimates, single=single, loo=loo, names=names
            )
            if fig is not None:
                written += figures.save(fig, out / f"{prefix}{kind}", formats)
    return written


__all__ = [
    "KINDS",
    "Names",
    "pair_figure",
    "plot_forest",
    "plot_funnel",
    "plot_leave_one_out",
    "plot_radial",
    "plot_scatter",
    "summary_rows",
    "write_plots",
]
