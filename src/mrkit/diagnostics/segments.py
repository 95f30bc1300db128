"""Diagnostics of many pairs at once, in closed form (segment sums).

Instrument strength (I²GX, F), the single-variant Wald ratios and IVW leaving
out each variant in turn, for all rows of all pairs in a few array passes. The
definitions are those of the one-pair functions of :mod:`mrkit.diagnostics.core`
(TwoSampleMR ``Isq``, ``mr_singlesnp``, ``mr_leaveoneout``), checked against them
in ``tests/test_estimate.py``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mrkit._core.arrays import FloatArray, chi2_sf
from mrkit.methods._kernels import Columns, Segments, ci_p


def i2gx(bx: FloatArray, sx: FloatArray, seg: Segments, *, absolute: bool = True) -> FloatArray:
    """:math:`I^2_{GX}` of every pair (NaN below 2 variants; 0 when Q = 0).

    .. math:: I^2_{GX} = \\max\\Big(0, \\frac{Q - (J-1)}{Q}\\Big),\\quad
              Q = \\sum_j w_j (|\\beta_{Xj}| - \\bar\\beta_X)^2,\\quad w_j = \\sigma_{Xj}^{-2}

    (TwoSampleMR ``Isq(abs(b_exp), se_exp)``; Bowden 2016, doi:10.1093/ije/dyw220).
    ``absolute=False``: the signed associations (``Isq(b_exp, se_exp)``).
    """
    x = np.abs(bx) if absolute else bx
    w = sx**-2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = seg.sum(w * x) / seg.sum(w)
        q = seg.sum(w * (x - seg.spread(mu)) ** 2)
        isq = np.where(q == 0.0, 0.0, (q - (seg.n - 1)) / q)
    return np.where(seg.n >= 2, np.maximum(0.0, isq), np.nan)


def strength(bx: FloatArray, sx: FloatArray, seg: Segments) -> Columns:
    """Per pair: ``nsnp``, ``i2gx``, and the mean and smallest per-variant F.

    :math:`F_j = (\\beta_{Xj}/\\sigma_{Xj})^2`.
    """
    f = (bx / sx) ** 2
    n = seg.n
    f_min = np.full(seg.npairs, np.inf)
    np.minimum.at(f_min, seg.group, f)
    with np.errstate(invalid="ignore", divide="ignore"):
        f_mean = seg.sum(f) / n
    return {
        "nsnp": n,
        "i2gx": i2gx(bx, sx, seg),
        "f_mean": f_mean,
        "f_min": np.where(n > 0, f_min, np.nan),
    }


def single_snp(bx: FloatArray, sy: FloatArray, by: FloatArray, *, alpha: float = 0.05) -> Columns:
    """Wald ratio of every row: :math:`\\beta_Y/\\beta_X`, SE :math:`\\sigma_Y/|\\beta_X|`.

    The per-SNP rows of TwoSampleMR ``mr_singlesnp`` (``bx == 0`` gives inf/NaN;
    the engine records such pairs in ``skipped``).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        b = by / bx
        se = sy / np.abs(bx)
    return {"estimate": b, "se": se, **ci_p(b, se, alpha)}


def leave_one_out(
    bx: FloatArray, sx: FloatArray, by: FloatArray, sy: FloatArray, seg: Segments,
    *, alpha: float = 0.05,
) -> Columns:  # fmt: skip
    """IVW (random effects, SE floor) of every pair without each of its rows in turn.

    With :math:`S_{xy} = \\sum w x y`, :math:`S_{xx} = \\sum w x^2` (:math:`w = \\sigma_Y^{-2}`)
    and the full fit's residuals :math:`r_j = y_j - \\hat\\beta x_j`:

    .. math::

        \\hat\\beta_{-i} = \\frac{S_{xy} - w_i x_i y_i}{S_{xx} - w_i x_i^2},\\qquad
        \\mathrm{RSS}_{-i} = \\mathrm{RSS} - w_i r_i^2 - 2\\delta_i w_i r_i x_i
        + \\delta_i^2 (S_{xx} - w_i x_i^2)

    with :math:`\\delta_i = \\hat\\beta - \\hat\\beta_{-i}` (the normal equation
    :math:`\\sum w r x = 0` removes the cross term; no cancellation against
    :math:`\\sum w y^2`). SE :math:`\\max(1, \\hat\\phi_{-i})/\\sqrt{S_{xx,-i}}`,
    :math:`\\hat\\phi^2_{-i} = \\mathrm{RSS}_{-i}/(J-2)`; normal interval and p
    (TwoSampleMR ``mr_leaveoneout`` with ``mr_ivw``). Also Cochran's Q of the
    remaining variants, ``q`` (:math:`\\mathrm{RSS}_{-i}`) on ``q_df`` = J - 2 with
    ``q_pval``, and ``rse`` (:math:`\\hat\\phi_{-i}`), as ``mr_ivw`` gives them.
    Pairs below 3 variants get NaN.

    Removing a row that carries most of a sum (a dominant instrument, a large
    outlier) would cancel digits (relative error :math:`\\epsilon\\,S/S_{-i}`):
    rows whose :math:`S_{xx,-i}` or :math:`\\mathrm{RSS}_{-i}` falls below half the
    pair's sum, or whose :math:`|w_i x_i y_i|` is over half of
    :math:`\\sum |w x y|`, are refitted directly over the pair's other rows (at
    most six per pair), so every row matches a refit to rounding.
    """
    w = sy**-2.0
    n = seg.n
    wxx = w * bx * bx
    wxy = w * bx * by
    sxx = seg.sum(wxx)
    sxy = seg.sum(wxy)
    with np.errstate(invalid="ignore", divide="ignore"):
        b = sxy / sxx
        r = by - seg.spread(b) * bx
        rss = seg.sum(w * r * r)
        sxx_i = seg.spread(sxx) - wxx
        b_i = (seg.spread(sxy) - wxy) / sxx_i
        d = seg.spread(b) - b_i
        rss_i = seg.spread(rss) - w * r * r - 2.0 * d * w * r * bx + d * d * sxx_i
        heavy = (
            (sxx_i < 0.5 * seg.spread(sxx))
            | (np.abs(wxy) > 0.5 * seg.spread(seg.sum(np.abs(wxy))))
            | (rss_i < 0.5 * seg.spread(rss))
        ) & (seg.spread(n) >= 3)
        _refit_rows(np.flatnonzero(heavy), w, bx, by, seg, sxx_i, b_i, rss_i)
        q = np.maximum(rss_i, 0.0)
        df = seg.spread(n) - 2
        phi = np.sqrt(q / df)
        se = np.maximum(1.0, phi) / np.sqrt(sxx_i)
    small = df < 1
    b_i, se, q, phi = (np.where(small, np.nan, a) for a in (b_i, se, q, phi))
    return {
        "estimate": b_i,
        "se": se,
        **ci_p(b_i, se, alpha),
        "q": q,
        "q_df": df,
        "q_pval": chi2_sf(q, np.maximum(df, 1)),
        "rse": phi,
    }


def _refit_rows(
    rows: NDArray[np.int64], w: FloatArray, bx: FloatArray, by: FloatArray, seg: Segments,
    sxx_i: FloatArray, b_i: FloatArray, rss_i: FloatArray,
) -> None:  # fmt: skip
    """IVW without each of ``rows``, summed directly over the other rows of its pair.

    Fills ``sxx_i``, ``b_i`` and ``rss_i`` at ``rows``; one round per row of a pair.
    """
    if not rows.size:
        return
    hit = np.zeros(seg.npairs, dtype=bool)
    hit[seg.group[rows]] = True
    sub = np.flatnonzero(hit[seg.group])  # the rows of the pairs concerned
    gs, ws, xs, ys = seg.group[sub], w[sub], bx[sub], by[sub]
    while rows.size:
        # the first remaining row of every pair this round
        _, first = np.unique(seg.group[rows], return_index=True)
        out, rows = rows[first], np.delete(rows, first)
        pairs = seg.group[out]
        now = np.zeros(seg.npairs, dtype=bool)
        now[pairs] = True
        keep = now[gs]
        keep[np.searchsorted(sub, out)] = False
        g, wk, xk, yk = gs[keep], ws[keep], xs[keep], ys[keep]
        sxx = np.bincount(g, weights=wk * xk * xk, minlength=seg.npairs)
        b = np.bincount(g, weights=wk * xk * yk, minlength=seg.npairs) / sxx
        res = yk - b[g] * xk
        rss = np.bincount(g, weights=wk * res * res, minlength=seg.npairs)
        sxx_i[out], b_i[out], rss_i[out] = sxx[pairs], b[pairs], rss[pairs]


__all__ = ["i2gx", "leave_one_out", "single_snp", "strength"]
