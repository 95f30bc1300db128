"""Drawing primitives of the MR figures: arrays and tables in, a matplotlib Figure out.

Scatter, single-SNP forest, leave-one-out, funnel and radial plots follow
TwoSampleMR's ``mr_scatter_plot``, ``mr_forest_plot``, ``mr_leaveoneout_plot``
and ``mr_funnel_plot`` and RadialMR's ``plot_radial``. Figures are built on
:class:`matplotlib.figure.Figure` (no pyplot state, no backend switch); colours
are the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies). :func:`save` writes PNG at 300 dpi, SVG (and PDF on request)
with metadata stripped and a fixed SVG hash salt, so that the same inputs give
byte-identical files. The public functions taking a result of :func:`mrkit.mr`
are in :mod:`mrkit.report.plots`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mrkit._core.arrays import chi2_sf
from mrkit._core.files import atomic_write

#: Okabe & Ito (2008) colour-blind-safe palette, yellow last (weak on white).
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]
POINT = "#444444"
#: PNG resolution (journals ask for 300 dpi).
DPI = 300
_RC: dict[str, Any] = {
    "font.size": 8,
    "svg.hashsalt": "mrkit",
    "svg.fonttype": "none",
    "axes.titlesize": 9,
}
_META = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
}
#: Rows of a forest plot per page of height; longer forests get smaller rows.
_ROW_IN = 0.17


def save(fig: Figure, stem: Path, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Write ``stem.<format>`` for each format (PNG at :data:`DPI`); returns the paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    with mpl.rc_context(_RC):  # type: ignore[arg-type]
        for fmt in formats:

            def write(tmp: Path, fmt: str = fmt) -> None:
                dpi = DPI if fmt == "png" else None
                fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_META.get(fmt))

            out.append(atomic_write(stem.with_name(f"{stem.name}.{fmt}"), write))
    return out


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    with mpl.rc_context(_RC):  # type: ignore[arg-type]
        fig = Figure(figsize=(width, height))
        ax = fig.add_subplot()
    return fig, ax


def _lines(estimates: Sequence[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], str]]:
    """Each method with a finite estimate and its colour (by its place in ``estimates``)."""
    for i, rec in enumerate(estimates):
        est = rec.get("estimate")
        if est is not None and np.isfinite(est):
            yield rec, COLOURS[i % len(COLOURS)]


def _legend_above(ax: Axes, n: int) -> None:
    """Legend above the axes, outside the data (TwoSampleMR's ``legend.position = "top"``)."""
    if n:
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 1.01, 1.0, 0.1),
            ncols=min(n, 2),
            mode="expand",
            fontsize=7,
            frameon=False,
            borderaxespad=0.0,
        )


def _wrap(label: str, width: int = 62) -> str:
    """Long axis labels on two lines rather than cut at the figure's edge."""
    return textwrap.fill(label, width)


def _finish(fig: Figure, ax: Axes, xlabel: str, ylabel: str, title: str, nlegend: int) -> None:
    ax.set_xlabel(_wrap(xlabel))
    ax.set_ylabel(_wrap(ylabel, 55))
    _legend_above(ax, nlegend)
    rows = (nlegend + 1) // 2
    if title:
        fig.suptitle(title, fontsize=9, y=0.995, va="top")
    top_in = 0.12 + 0.15 * rows + (0.25 if title else 0.0)
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.13, top=1 - top_in / fig.get_figheight())


def scatter(
    bx: np.ndarray,
    sx: np.ndarray,
    by: np.ndarray,
    sy: np.ndarray,
    estimates: Sequence[dict[str, Any]],
    *,
    labels: dict[str, str],
    xlabel: str = "SNP effect on exposure",
    ylabel: str = "SNP effect on outcome",
    title: str = "",
) -> Figure:
    """Variant-outcome against variant-exposure effects, one line per method.

    As ``mr_scatter_plot``: variants are oriented to a positive exposure effect,
    bars are ±1 SE on both axes, every line passes through the origin except
    MR-Egger's, which has its intercept.
    """
    sign = np.where(np.asarray(bx, float) < 0, -1.0, 1.0)
    x, y = np.asarray(bx, float) * sign, np.asarray(by, float) * sign
    fig, ax = _figure(5.0, 4.6)
    ax.errorbar(x, y, xerr=sx, yerr=sy, fmt="o", ms=2.5, color=POINT, ecolor="#bbbbbb", lw=0.6)
    ax.axhline(0, color="#999999", lw=0.5)
    xs = np.array([0.0, float(x.max()) * 1.05 if x.size else 1.0])
    n = 0
    for rec, colour in _lines(estimates):
        icpt = rec.get("egger_intercept") if rec["method"].startswith("egger") else 0.0
        icpt = icpt if icpt is not None and np.isfinite(icpt) else 0.0
        label = labels.get(rec["method"], rec["method"])
        ax.plot(xs, icpt + rec["estimate"] * xs, color=colour, lw=1.3, label=label)
        n += 1
    ax.set_xlim(left=0.0)
    _finish(fig, ax, xlabel, ylabel, title, n)
    return fig


def forest(
    rows: pd.DataFrame,
    *,
    xlabel: str = "MR estimate (95% CI)",
    title: str = "",
    highlight: Sequence[str] = (),
    gap_before: Sequence[str] = (),
) -> Figure:
    """Horizontal forest of ``label, estimate, ci_lower, ci_upper`` rows, first row on top.

    Rows named in ``highlight`` are drawn in the second palette colour (the
    "All" rows of TwoSampleMR); a blank row separates ``gap_before`` rows from
    those above. Long forests keep a readable height by shrinking rows and labels.
    """
    labels = [str(s) for s in rows["label"]]
    ypos: list[float] = []
    y = 0.0
    for lab in labels:
        if lab in gap_before and ypos:
            y += 1.0
        ypos.append(y)
        y += 1.0
    ys = -np.asarray(ypos)
    n = max(len(labels), 1)
    row_in = _ROW_IN if n <= 80 else max(0.07, _ROW_IN * 80 / n)
    font = 7 if n <= 80 else max(3.5, 7 * 80 / n)
    height = min(max(1.8, row_in * (y + 1) + 1.1), 24.0)
    fig, ax = _figure(5.4, height)
    est, lo, hi = (rows[c].to_numpy(float) for c in ("estimate", "ci_lower", "ci_upper"))
    colours = [COLOURS[1] if lab in highlight else COLOURS[0] for lab in labels]
    ax.hlines(ys, lo, hi, color=colours, lw=1.0)
    ax.scatter(est, ys, color=colours, s=10, zorder=3)
    ax.axvline(0, color="#999999", lw=0.6, ls="--")
    ax.set_yticks(ys, labels, fontsize=font)
    ax.set_ylim(ys.min() - 0.8 if len(ys) else -1, 0.8)
    ax.set_xlabel(_wrap(xlabel))
    if title:
        ax.set_title(title, fontsize=9)
    longest = max((len(s) for s in labels), default=4)
    left_in = min(2.9, 0.25 + 0.052 * longest * font / 7)
    fig.subplots_adjust(
        left=left_in / 5.4,
        right=0.97,
        bottom=0.5 / height,
        top=1 - (0.35 if title else 0.15) / height,
    )
    return fig


def single_snp_rows(single: pd.DataFrame, summary: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """``mr_forest_plot`` rows: SNPs from the largest estimate down, then the "All" rows."""
    snps = single.sort_values("estimate", ascending=False, kind="stable")
    rows = snps.assign(label=snps["snp"].astype(str))[["label", "estimate", "ci_lower", "ci_upper"]]
    return pd.concat([rows, pd.DataFrame(list(summary), columns=rows.columns)], ignore_index=True)


def loo_rows(loo: pd.DataFrame, overall: dict[str, Any] | None) -> pd.DataFrame:
    """``mr_leaveoneout_plot`` rows: the left-out SNP, sorted by estimate, then "All"."""
    snps = loo.sort_values("estimate", ascending=False, kind="stable")
    rows = snps.assign(label=snps["snp"].astype(str))[["label", "estimate", "ci_lower", "ci_upper"]]
    if overall is None:
        return rows
    return pd.concat([rows, pd.DataFrame([overall], columns=rows.columns)], ignore_index=True)


def funnel(
    single: pd.DataFrame,
    estimates: Sequence[dict[str, Any]],
    *,
    labels: dict[str, str],
    xlabel: str = "Wald ratio estimate",
    title: str = "",
) -> Figure:
    """Wald ratios estimates against their precision :math:`1/\\mathrm{SE}`, lines per method."""
    fig, ax = _figure(5.0, 4.4)
    ax.scatter(single["estimate"], 1.0 / single["se"].to_numpy(float), s=9, color=POINT)
    n = 0
    for rec, colour in _lines(estimates):
        label = labels.get(rec["method"], rec["method"])
        ax.axvline(rec["estimate"], color=colour, lw=1.1, label=label)
        n += 1
    _finish(fig, ax, xlabel, "1 / SE", title, n)
    return fig


def radial_points(single: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """RadialMR coordinates with first-order weights from the Wald ratios.

    .. math:: x_j = \\sqrt{W_j} = 1/\\mathrm{se}(\\hat\\beta_j), \\quad
              y_j = \\hat\\beta_j \\sqrt{W_j},

    as ``ivw_radial(weights = 1)`` (Bowden et al. 2018, doi:10.1093/ije/dyy101),
    with :math:`\\mathrm{se}(\\hat\\beta_j) = \\sigma_{Yj}/|\\beta_{Xj}|`.
    """
    se = single["se"].to_numpy(float)
    x = 1.0 / se
    return x, single["estimate"].to_numpy(float) * x


def radial(
    single: pd.DataFrame,
    ivw: float | None,
    *,
    alpha: float = 0.05,
    xlabel: str = "√W (1 / SE of the ratio estimate)",
    ylabel: str = "Ratio estimate × √W",
    title: str = "",
) -> Figure:
    """Radial IVW and radial MR-Egger fits; variants whose Q contribution has p < ``alpha`` named.

    Radial IVW: :math:`y_j = \\beta x_j` (slope ``ivw``); radial MR-Egger: the
    least-squares line :math:`y_j = \\beta_0 + \\beta_1 x_j`. Each variant's
    :math:`Q_j = (y_j - \\beta x_j)^2` is compared with :math:`\\chi^2_1`
    (RadialMR's outlier rule).
    """
    x, y = radial_points(single)
    fig, ax = _figure(5.0, 4.6)
    ax.scatter(x, y, s=9, color=POINT, zorder=2)
    xs = np.array([0.0, float(x.max()) * 1.05 if x.size else 1.0])
    n = 0
    if ivw is not None and np.isfinite(ivw):
        ax.plot(xs, ivw * xs, color=COLOURS[0], lw=1.3, label="Radial IVW")
        q = (y - ivw * x) ** 2
        out = chi2_sf(q, 1) < alpha
        if out.any():
            ax.scatter(x[out], y[out], s=14, color=COLOURS[1], zorder=3, label=f"Q_j p < {alpha:g}")
            for xi, yi, name in zip(x[out], y[out], single["snp"].astype(str)[out], strict=True):
                ax.annotate(name, (xi, yi), fontsize=5.5, xytext=(2, 2), textcoords="offset points")
            n += 1
        n += 1
    if x.size >= 3:
        b1, b0 = np.polyfit(x, y, 1)
        ax.plot(xs, b0 + b1 * xs, color=COLOURS[2], lw=1.3, ls="--", label="Radial MR-Egger")
        n += 1
    ax.axhline(0, color="#999999", lw=0.5)
    ax.set_xlim(left=0.0)
    _finish(fig, ax, xlabel, ylabel, title, n)
    return fig


__all__ = [
    "COLOURS",
    "DPI",
    "forest",
    "funnel",
    "loo_rows",
    "radial",
    "radial_points",
    "save",
    "scatter",
    "single_snp_rows",
]
