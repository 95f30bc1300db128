"""Regional association plot of two traits, points coloured by LD to a lead variant.

:func:`regional_plot` draws, one panel per trait on a shared position axis,
:math:`-\\log_{10} p` of every variant, coloured by its :math:`r^2` with the lead
variant in the LocusZoom bins (0-0.2, 0.2-0.4, 0.4-0.6, 0.6-0.8, 0.8-1; grey
where the LD is unknown), the lead as a purple diamond in both panels. It
returns a :class:`matplotlib.figure.Figure` built without ``pyplot``, so no
global figure state is touched (safe on threads; write it with
``fig.savefig``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike

from mrkit.errors import InputError

__all__ = ["R2_BINS", "R2_COLOURS", "r2_colours", "regional_plot"]

#: Upper edges of the r² colour bins, and their colours (LocusZoom's).
R2_BINS = (0.2, 0.4, 0.6, 0.8, 1.0)
R2_COLOURS = ("#357ebd", "#46b8da", "#5cb85c", "#eea236", "#d43f3a")
_NO_LD = "#bbbbbb"
_LEAD = "#9632b8"


def r2_colours(r2: ArrayLike) -> list[str]:
    """The colour of each r² (NaN: grey), by :data:`R2_BINS`."""
    a = np.asarray(r2, dtype=float)
    k = np.searchsorted(np.asarray(R2_BINS), np.clip(a, 0.0, 1.0), side="left")
    return [_NO_LD if not np.isfinite(v) else R2_COLOURS[int(i)] for v, i in zip(a, k, strict=True)]


def regional_plot(
    position: ArrayLike,
    log10p1: ArrayLike,
    log10p2: ArrayLike,
    r2: ArrayLike | None = None,
    *,
    lead: int | None = None,
    labels: Sequence[str] = ("trait 1", "trait 2"),
    chrom: str | None = None,
    title: str | None = None,
    width: float = 7.0,
    height: float = 5.5,
) -> Figure:
    """Both traits' :math:`-\\log_{10} p` against position, coloured by r² to ``lead``.

    Parameters
    ----------
    position
        Base-pair positions of the variants (one array for both traits).
    log10p1, log10p2
        :math:`-\\log_{10} p` of each variant for trait 1 and trait 2 (NaN: not shown).
    r2
        :math:`r^2` of each variant with the lead variant (NaN: unknown, grey); None
        for no LD colouring.
    lead
        Index of the lead variant (drawn as a diamond); default the variant with the
        largest ``log10p1``.
    labels
        The traits' names (panel titles).
    chrom
        Chromosome, for the axis label.
    title
        Figure title.
    width, height
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Two stacked panels sharing the position axis (Mb).
    """
    pos = np.asarray(position, dtype=float)
    y1 = np.asarray(log10p1, dtype=float)
    y2 = np.asarray(log10p2, dtype=float)
    if not (pos.shape == y1.shape == y2.shape) or pos.ndim != 1:
        msg = "`position`, `log10p1` and `log10p2` must be 1-d arrays of the same length"
        raise InputError(msg)
    if pos.size == 0:
        raise InputError("regional_plot: no variant to draw")
    ld = np.full(pos.size, np.nan) if r2 is None else np.asarray(r2, dtype=float)
    if ld.shape != pos.shape:
        raise InputError("`r2` must have one value per variant")
    if lead is None:
        lead = int(np.nanargmax(np.where(np.isfinite(y1), y1, -np.inf)))
    if not 0 <= lead < pos.size:
        raise InputError(f"`lead` = {lead} is not a variant index (0..{pos.size - 1})")
    colours = np.array(r2_colours(ld), dtype=object)
    order = np.argsort(np.where(np.isfinite(ld), ld, -1.0), kind="stable")  # high r² on top
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    mb = pos / 1e6
    for ax, y, label in zip(axes, (y1, y2), labels, strict=True):
        ok = order[np.isfinite(y[order])]
        ax.scatter(mb[ok], y[ok], c=list(colours[ok]), s=14, edgecolors="none")
        if np.isfinite(y[lead]):
            ax.scatter(
                [mb[lead]], [y[lead]], marker="D", s=46, c=_LEAD, edgecolors="black", zorder=3
            )
        ax.set_ylabel(r"$-\log_{10}\,p$")
        ax.set_title(str(label), loc="left", fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.25)
    axes[1].set_xlabel(f"Position on chromosome {chrom} (Mb)" if chrom else "Position (Mb)")
    if r2 is not None:
        edges = (0.0, *R2_BINS)
        handles = [
            Line2D([], [], marker="o", ls="", color=c, label=f"{lo:.1f}-{hi:.1f}")
            for c, lo, hi in zip(R2_COLOURS[::-1], edges[-2::-1], edges[:0:-1], strict=True)
        ]
        handles.append(
            Line2D([], [], marker="D", ls="", color=_LEAD, mec="black", label="lead variant")
        )
        axes[0].legend(handles=handles, title="r²", fontsize=7, title_fontsize=8, loc="best")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
