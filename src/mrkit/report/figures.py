"""Figures of a study: scatter, forest, funnel and leave-one-out per pair; summary forest.

Pure plotting: tables in, files out (PNG and SVG), with metadata stripped and a
fixed SVG hash salt so that the same inputs give byte-identical files.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

mpl.rcParams["svg.hashsalt"] = "mrkit"
mpl.rcParams["svg.fonttype"] = "none"
mpl.rcParams["font.size"] = 9

COLOURS = ["#1b6ca8", "#d1495b", "#edae49", "#66a182", "#8d5b9e", "#2e4057", "#00798c"]
_META_PNG = {"Software": None}
_META_SVG = {"Date": None, "Creator": None}


def save(fig: Figure, stem: Path) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg`` deterministically; returns the paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    fig.savefig(png, dpi=100, metadata=_META_PNG)
    fig.savefig(svg, metadata=_META_SVG)
    plt.close(fig)
    return [png, svg]


def _method_lines(
    estimates: Sequence[dict[str, Any]], labels: dict[str, str]
) -> Iterator[tuple[dict[str, Any], str, str]]:
    """Each method with a finite estimate: its record, colour (by its place in
    ``estimates``) and legend label."""
    for i, rec in enumerate(estimates):
        if np.isfinite(rec.get("estimate", np.nan)):
            yield rec, COLOURS[i % len(COLOURS)], labels.get(rec["method"], rec["method"])


def _finish(fig: Figure, ax: Axes, xlabel: str, ylabel: str, title: str, *, left: float) -> None:
    """Axis labels, title, legend and margins of the scatter and funnel plots."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    fig.subplots_adjust(left=left, right=0.97, bottom=0.12, top=0.92)


def scatter(
    data: pd.DataFrame, estimates: Sequence[dict[str, Any]], *, title: str, labels: dict[str, str]
) -> Figure:
    """Variant-outcome vs variant-exposure associations with one line per method.

    Variants are oriented to positive exposure effects (as TwoSampleMR's
    ``mr_scatter_plot``); Egger's line has its intercept, the others pass
    through the origin.
    """
    bx = data["beta_exposure"].to_numpy(float)
    sign = np.where(bx < 0, -1.0, 1.0)
    bx, by = bx * sign, data["beta_outcome"].to_numpy(float) * sign
    sx, sy = data["se_exposure"].to_numpy(float), data["se_outcome"].to_numpy(float)
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    ax.errorbar(
        bx, by, xerr=sx, yerr=sy, fmt="o", ms=3, color="#444", ecolor="#bbb", lw=0.8, zorder=2
    )
    xs = np.array([0.0, float(bx.max()) * 1.05 if bx.size else 1.0])
    for rec, colour, label in _method_lines(estimates, labels):
        icpt = rec.get("egger_intercept", 0.0) if rec["method"].startswith("egger") else 0.0
        ax.plot(xs, icpt + rec["estimate"] * xs, color=colour, lw=1.5, label=label, zorder=3)
    ax.axhline(0, color="#888", lw=0.6)
    _finish(fig, ax, "SNP effect on exposure", "SNP effect on outcome", title, left=0.16)
    return fig


def forest(
    rows: pd.DataFrame,
    *,
    title: str,
    xlabel: str = "MR estimate (95% CI)",
    highlight: Sequence[str] = (),
) -> Figure:
    """Horizontal forest plot of ``label, estimate, ci_lower, ci_upper`` rows."""
    n = len(rows)
    fig, ax = plt.subplots(figsize=(5.2, max(1.6, 0.22 * n + 0.9)))
    y = np.arange(n)[::-1]
    est = rows["estimate"].to_numpy(float)
    lo = rows["ci_lower"].to_numpy(float)
    hi = rows["ci_upper"].to_numpy(float)
    colours = ["#d1495b" if lab in highlight else "#1b6ca8" for lab in rows["label"]]
    ax.hlines(y, lo, hi, color=colours, lw=1.2)
    ax.scatter(est, y, color=colours, s=14, zorder=3)
    ax.axvline(0, color="#888", lw=0.6, ls="--")
    ax.set_yticks(y)
    ax.set_yticklabels(rows["label"].tolist(), fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=9)
    longest = max((len(str(lab)) for lab in rows["label"]), default=4)
    height = fig.get_figheight()
    fig.subplots_adjust(
        left=min(0.6, 0.05 + 0.0105 * longest),
        right=0.97,
        bottom=0.45 / height + 0.02,
        top=1 - 0.3 / height,
    )
    return fig


def funnel(
    single: pd.DataFrame, estimates: Sequence[dict[str, Any]], *, title: str, labels: dict[str, str]
) -> Figure:
    """Single-variant estimates against their precision :math:`1/\\mathrm{SE}`."""
    fig, ax = plt.subplots(figsize=(5.2, 4.0))
    ax.scatter(single["estimate"], 1.0 / single["se"], s=12, color="#444")
    for rec, colour, label in _method_lines(estimates, labels):
        ax.axvline(rec["estimate"], color=colour, lw=1.2, label=label)
    _finish(fig, ax, "Wald ratio estimate", "1 / SE", title, left=0.14)
    return fig


def pair_figures(
    stem: Path,
    data: pd.DataFrame,
    estimates: Sequence[dict[str, Any]],
    single: pd.DataFrame,
    loo: pd.DataFrame,
    *,
    title: str,
    labels: dict[str, str],
) -> dict[str, list[Path]]:
    """All per-pair figures; returns ``{kind: [png, svg]}``."""
    out: dict[str, list[Path]] = {}
    out["scatter"] = save(
        scatter(data, estimates, title=title, labels=labels), stem.with_name(stem.name + "_scatter")
    )
    if len(single):
        rows = single.assign(label=single["snp"]).sort_values("estimate")
        summ = pd.DataFrame(
            [
                {
                    "label": labels.get(r["method"], r["method"]),
                    "estimate": r["estimate"],
                    "ci_lower": r["ci_lower"],
                    "ci_upper": r["ci_upper"],
                }
                for r in estimates
                if r["method"] in ("ivw", "egger")
            ]
        )
        rows = pd.concat([rows[["label", "estimate", "ci_lower", "ci_upper"]], summ])
        out["forest"] = save(
            forest(
                rows,
                title=f"{title}: single-SNP estimates",
                highlight=summ["label"].tolist() if len(summ) else (),
            ),
            stem.with_name(stem.name + "_forest"),
        )
        out["funnel"] = save(
            funnel(single, estimates, title=title, labels=labels),
            stem.with_name(stem.name + "_funnel"),
        )
    if len(loo):
        rows = loo.assign(label="without " + loo["snp"])
        out["leave_one_out"] = save(
            forest(
                rows[["label", "estimate", "ci_lower", "ci_upper"]],
                title=f"{title}: leave-one-out (IVW)",
            ),
            stem.with_name(stem.name + "_loo"),
        )
    return out


def summary_forest(results: pd.DataFrame, stem: Path, *, title: str) -> list[Path]:
    """Primary-method estimate of every pair, significant pairs highlighted."""
    rows = results.assign(label=results["exposure"] + " → " + results["outcome"])[
        ["label", "estimate", "ci_lower", "ci_upper", "significant"]
    ]
    hi = rows.loc[rows["significant"].fillna(False).astype(bool), "label"].tolist()
    return save(forest(rows, title=title, highlight=hi), stem)
