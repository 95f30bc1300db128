"""Closed-form estimators over many exposure-outcome pairs at once (segment sums).

The rows of all pairs are stacked in four arrays and :class:`Segments` gives each
row's pair as an integer code ``0..P-1``. Every statistic is a segment sum
(``numpy.bincount`` with weights), so thousands of pairs cost a few array passes
instead of a Python loop. Each kernel returns a dict of arrays of length P: the
core result fields (``estimate, se, ci_lower, ci_upper, pval``), the method's
extras as the one-pair function in :mod:`mrkit.methods` names them, and
``reason``: ``None`` where the pair has a result, else why it has none (the
engine records it in ``skipped``). The definitions are those of the one-pair
functions (TwoSampleMR 0.7.9 unless stated); ``tests/test_estimate.py`` checks
them against the slow oracles of ``tests/reference.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from mrkit._core.arrays import FloatArray, chi2_sf, norm_isf, pvalue, t_isf
from mrkit.errors import InputError

IntArray = NDArray[np.int64]
# lm()'s QR pivoting tolerance: a column whose residual norm falls below this
# fraction of its norm is declared collinear (R returns NA for its coefficient).
QR_TOL = 1e-7
#: What to do when MR-Egger's slope is not identified (appended to the error).
COLLINEAR_HINT = "use IVW, or LD-prune / add variants with different exposure effects"
Columns = dict[str, Any]


@dataclass(frozen=True)
class Segments:
    """Pair codes of stacked rows: ``group[i]`` is the pair of row ``i``.

    Attributes
    ----------
    group
        Integer pair code of every row (``0..npairs-1``).
    npairs
        Number of pairs (pairs without rows have ``n == 0``).
    n
        Number of rows of every pair.
    """

    group: IntArray
    npairs: int

    @cached_property
    def n(self) -> IntArray:
        """Rows of every pair (counted once)."""
        return np.bincount(self.group, minlength=self.npairs)

    @classmethod
    def single(cls, n: int) -> Segments:
        """The segments of one pair of ``n`` rows (a one-pair call of a kernel)."""
        return cls(np.zeros(n, dtype=np.int64), 1)

    def any(self, mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Whether any row of each pair is set in ``mask``."""
        return np.bincount(self.group, weights=mask, minlength=self.npairs) > 0

    def sum(self, values: FloatArray) -> FloatArray:
        """:math:`\\sum_{i \\in p}` values, for every pair p."""
        out = np.bincount(self.group, weights=values, minlength=self.npairs)
        return np.asarray(out, dtype=np.float64)

    def spread(self, per_pair: NDArray[Any]) -> NDArray[Any]:
        """A per-pair array repeated onto the rows."""
        return per_pair[self.group]


def ci_p(
    est: FloatArray, se: FloatArray, alpha: float, dist: str = "normal", df: Any = None
) -> Columns:
    """Interval and two-sided p-value on the normal or t(df) distribution."""
    if dist not in ("normal", "t"):
        msg = f"`dist` must be 'normal' or 't', got {dist!r}"
        raise InputError(msg)
    crit = norm_isf(alpha / 2) if dist == "normal" else t_isf(alpha / 2, df)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = pvalue(est / se, dist=dist, df=df)  # type: ignore[arg-type]
    return {"ci_lower": est - crit * se, "ci_upper": est + crit * se, "pval": p}


def core_row(cols: Columns, j: int = 0) -> tuple[float, float, float, float, float]:
    """Row ``j`` of a kernel's core columns: estimate, se, ci_lower, ci_upper, pval."""
    e, se, lo, hi, p = (
        float(cols[k][j]) for k in ("estimate", "se", "ci_lower", "ci_upper", "pval")
    )
    return e, se, lo, hi, p


def too_few(n: IntArray, needed: int, method: str) -> list[str | None]:
    """The engine's reason for pairs with fewer than ``needed`` rows (None otherwise)."""
    s = "s" if needed != 1 else ""
    return [
        None if k >= needed else f"`{method}` needs at least {needed} variant{s}, got {k}"
        for k in n.tolist()
    ]


def wald_ratio(
    bx: FloatArray, sx: FloatArray, by: FloatArray, sy: FloatArray, seg: Segments,
    *, alpha: float = 0.05,
) -> Columns:  # fmt: skip
    """Wald ratio of single-variant pairs.

    :math:`\\beta_Y/\\beta_X`, SE :math:`\\sigma_Y/|\\beta_X|`, normal interval and p.
    """
    n = seg.n
    ones = n == 1
    est = np.full(seg.npairs, np.nan)
    se = np.full(seg.npairs, np.nan)
    rows = np.flatnonzero(ones[seg.group])
    est[seg.group[rows]] = by[rows] / bx[rows]
    se[seg.group[rows]] = sy[rows] / np.abs(bx[rows])
    reason: list[str | None] = [
        None if k == 1 else f"`wald_ratio` applies to a single variant, got {k}" for k in n.tolist()
    ]
    for p in np.flatnonzero(ones & seg.any(bx == 0)):
        reason[p] = "`wald_ratio`: bx is 0, so the ratio is undefined"
    return {"estimate": est, "se": se, **ci_p(est, se, alpha), "reason": reason}


def ivw(
    bx: FloatArray, sx: FloatArray, by: FloatArray, sy: FloatArray, seg: Segments,
    *, method: str = "ivw", alpha: float = 0.05,
    model: Literal["random", "fixed", "mre", "default"] = "random",
    weights: Literal["first", "second"] = "first", dist: Literal["normal", "t"] = "normal",
) -> Columns:  # fmt: skip
    """IVW of every pair, as :func:`mrkit.methods.ivw.ivw` (slope through the origin).

    .. math:: \\hat\\beta = \\frac{\\sum w_j\\beta_{Xj}\\beta_{Yj}}{\\sum w_j\\beta_{Xj}^2},\\quad
              \\mathrm{SE} = \\frac{\\max(1, \\hat\\phi)}{\\sqrt{\\sum w_j\\beta_{Xj}^2}}

    with ``model`` choosing the scale (``random``: max(1, φ), ``fixed``: 1,
    ``mre``: φ, ``default``: fixed for J <= 3 else random).
    """
    if model not in ("random", "fixed", "mre", "default"):
        msg = f"`{method}`: `model` must be 'random', 'fixed', 'mre' or 'default', got {model!r}"
        raise InputError(msg)
    if weights == "first":
        w = sy**-2.0
    elif weights == "second":
        w = 1.0 / (sy**2 + by**2 * sx**2 / bx**2)
    else:
        msg = f"`{method}`: `weights` must be 'first' or 'second', got {weights!r}"
        raise InputError(msg)
    n = seg.n
    sxx = seg.sum(w * bx * bx)
    with np.errstate(invalid="ignore", divide="ignore"):
        b = seg.sum(w * bx * by) / sxx
        resid = by - seg.spread(b) * bx
        df = n - 1
        rss = seg.sum(w * resid * resid)
        sigma = np.sqrt(rss / df)
        se_fe = 1.0 / np.sqrt(sxx)
        q = sigma**2 * df
    models = np.full(seg.npairs, model if model != "default" else "random", dtype=object)
    if model == "default":
        models[n <= 3] = "fixed"
    scale = np.where(models == "mre", sigma, np.maximum(1.0, sigma))
    se = np.where(models == "fixed", se_fe, se_fe * scale)
    return {
        "estimate": b,
        "se": se,
        **ci_p(b, se, alpha, dist, df),
        "q": q,
        "q_df": df,
        "q_pval": chi2_sf(q, np.maximum(df, 1)),
        "rse": sigma,
        "model": models,
        "reason": too_few(n, 2, method),
    }


def egger(
    bx: FloatArray, sx: FloatArray, by: FloatArray, sy: FloatArray, seg: Segments,
    *, alpha: float = 0.05, dist: Literal["t", "normal"] = "t",
) -> Columns:  # fmt: skip
    """MR-Egger of every pair, as :func:`mrkit.methods.egger.egger` (TwoSampleMR).

    Variants oriented to :math:`\\beta_X \\ge 0`; weighted regression with an
    intercept (weights :math:`\\sigma_Y^{-2}`); SEs times :math:`\\max(1, \\hat\\phi)`;
    intervals and p-values on t(J-2). A pair whose :math:`|\\beta_X|` are all equal
    (R's QR tolerance) has no slope: its reason says so.
    """
    sign = np.where(bx < 0, -1.0, 1.0)
    x = bx * sign
    y = by * sign
    w = sy**-2.0
    n = seg.n
    sw = seg.sum(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = seg.sum(w * x) / sw
        my = seg.sum(w * y) / sw
        dx = x - seg.spread(mx)
        sxx = seg.sum(w * dx * dx)
        slope = seg.sum(w * dx * (y - seg.spread(my))) / sxx
        icpt = my - slope * mx
        resid = y - seg.spread(icpt) - seg.spread(slope) * x
        df = n - 2
        sigma = np.sqrt(seg.sum(w * resid * resid) / df)
        scale = np.maximum(1.0, sigma)
        se = scale * np.sqrt(1.0 / sxx)
        se0 = scale * np.sqrt(1.0 / sw + mx * mx / sxx)
        q = sigma**2 * df
    collinear = ~(sxx > (QR_TOL**2) * seg.sum(w * x * x))
    reason = too_few(n, 3, "egger")
    for p in np.flatnonzero(collinear & (n >= 3)):
        reason[p] = (
            "`egger`: the variant-exposure associations are collinear with the intercept "
            "(all |bx| equal), so the Egger slope is not identified"
        )
    inter = ci_p(icpt, se0, alpha, dist, df)
    return {
        "estimate": slope,
        "se": se,
        **ci_p(slope, se, alpha, dist, df),
        "egger_intercept": icpt,
        "egger_intercept_se": se0,
        "egger_intercept_pval": inter["pval"],
        "egger_intercept_ci_lower": inter["ci_lower"],
        "egger_intercept_ci_upper": inter["ci_upper"],
        "q": q,
        "q_df": df,
        "q_pval": chi2_sf(q, np.maximum(df, 1)),
        "rse": sigma,
        "n_flipped": seg.sum((bx < 0).astype(float)).astype(np.int64),
        "reason": reason,
    }


__all__ = ["Segments", "ci_p", "egger", "ivw", "too_few", "wald_ratio"]
