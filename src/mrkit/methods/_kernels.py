"""Closed-form estimators for many exposure-outcome pairs at once.

Rows of all pairs are stacked in one set of arrays and ``group`` gives each
row's pair as an integer code ``0..P-1``. Every statistic is a segment sum
(``numpy.bincount`` with weights), so thousands of pairs cost a few array
passes instead of a Python loop. The results equal the one-pair functions in
:mod:`mrkit.methods` (tested to 1e-10 relative); pairs with too few variants for
a method get NaN there and ``nsnp`` says why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from mrkit.errors import InputError

F64 = NDArray[np.float64]


def _prepare(
    bx: ArrayLike, sx: ArrayLike, by: ArrayLike, sy: ArrayLike, group: ArrayLike
) -> tuple[F64, F64, F64, F64, NDArray[np.int64], int]:
    arrs = [np.asarray(a, dtype=np.float64) for a in (bx, sx, by, sy)]
    g = np.asarray(group)
    if not np.issubdtype(g.dtype, np.integer):
        msg = "`group` must hold integer pair codes 0..P-1 (use pandas.factorize)"
        raise InputError(msg)
    n = arrs[0].shape[0]
    if any(a.shape != (n,) for a in arrs) or g.shape != (n,):
        msg = "`bx`, `sx`, `by`, `sy` and `group` must be 1-D arrays of the same length"
        raise InputError(msg)
    for name, a in zip(("bx", "sx", "by", "sy"), arrs, strict=True):
        bad = np.flatnonzero(~np.isfinite(a))
        if bad.size:
            msg = f"`{name}` is not finite at row {int(bad[0])}"
            raise InputError(msg)
    for name, a in (("sx", arrs[1]), ("sy", arrs[3])):
        bad = np.flatnonzero(a <= 0)
        if bad.size:
            msg = f"standard error `{name}` must be > 0 at row {int(bad[0])}"
            raise InputError(msg)
    npairs = int(g.max()) + 1 if n else 0
    return arrs[0], arrs[1], arrs[2], arrs[3], g.astype(np.int64), npairs


def _ssum(values: F64, g: NDArray[np.int64], npairs: int) -> F64:
    return np.bincount(g, weights=values, minlength=npairs)


def _ci_p(est: F64, se: F64, alpha: float, df: F64 | None = None) -> dict[str, F64]:
    with np.errstate(invalid="ignore", divide="ignore"):
        z = est / se
        if df is None:
            crit = stats.norm.isf(alpha / 2)
            p = 2 * stats.norm.sf(np.abs(z))
        else:
            crit = stats.t.isf(alpha / 2, df)
            p = 2 * stats.t.sf(np.abs(z), df)
    return {"ci_lower": est - crit * se, "ci_upper": est + crit * se, "pval": p}


def ivw_batch(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    group: ArrayLike,
    *,
    model: str = "random",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """IVW for every pair: same definitions as :func:`mrkit.methods.ivw.ivw`.

    ``model`` is ``"random"`` (TwoSampleMR ``mr_ivw``), ``"fixed"`` or ``"mre"``.
    Returns one row per pair code: ``estimate, se, ci_lower, ci_upper, pval,
    nsnp, q, q_df, q_pval``.
    """
    bx_, _, by_, sy_, g, npairs = _prepare(bx, sx, by, sy, group)
    w = sy_**-2.0
    n = np.bincount(g, minlength=npairs).astype(float)
    sxx = _ssum(w * bx_ * bx_, g, npairs)
    sxy = _ssum(w * bx_ * by_, g, npairs)
    with np.errstate(invalid="ignore", divide="ignore"):
        b = sxy / sxx
        resid = by_ - b[g] * bx_
        rss = _ssum(w * resid * resid, g, npairs)
        df = n - 1
        sigma = np.sqrt(rss / df)
        se_fe = 1.0 / np.sqrt(sxx)
        if model == "fixed":
            se = se_fe
        elif model == "mre":
            se = se_fe * sigma
        elif model == "random":
            se = se_fe * np.maximum(1.0, sigma)
        else:
            msg = f"`model` must be 'random', 'fixed' or 'mre', got {model!r}"
            raise InputError(msg)
        q = rss
    valid = n >= 2
    out = {"estimate": b, "se": se, **_ci_p(b, se, alpha)}
    out = {k: np.where(valid, v, np.nan) for k, v in out.items()}
    q_p = np.where(valid, stats.chi2.sf(q, np.maximum(df, 1)), np.nan)
    return pd.DataFrame(
        {
            **out,
            "nsnp": n.astype(int),
            "q": np.where(valid, q, np.nan),
            "q_df": df.astype(int),
            "q_pval": q_p,
        }
    )


def egger_batch(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    group: ArrayLike,
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """MR-Egger for every pair, as :func:`mrkit.methods.egger.egger` (TwoSampleMR).

    Variants are oriented to positive ``bx``; weighted least squares of ``by`` on
    ``bx`` with an intercept (weights ``sy^-2``); SEs multiplied by
    ``max(1, sigma)``; p-values on ``J - 2`` degrees of freedom.
    """
    bx_, _, by_, sy_, g, npairs = _prepare(bx, sx, by, sy, group)
    sign = np.where(bx_ < 0, -1.0, 1.0)
    x = np.abs(bx_)
    y = by_ * sign
    w = sy_**-2.0
    n = np.bincount(g, minlength=npairs).astype(float)
    sw = _ssum(w, g, npairs)
    sx1 = _ssum(w * x, g, npairs)
    sy1 = _ssum(w * y, g, npairs)
    mx = np.divide(sx1, sw, out=np.zeros_like(sw), where=sw > 0)
    my = np.divide(sy1, sw, out=np.zeros_like(sw), where=sw > 0)
    dx = x - mx[g]
    dy = y - my[g]
    sxx = _ssum(w * dx * dx, g, npairs)
    sxy = _ssum(w * dx * dy, g, npairs)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = sxy / sxx
        icpt = my - slope * mx
        resid = y - icpt[g] - slope[g] * x
        rss = _ssum(w * resid * resid, g, npairs)
        df = n - 2
        sigma = np.sqrt(rss / df)
        scale = np.maximum(1.0, sigma)
        se = scale / np.sqrt(sxx)
        se_i = scale * np.sqrt(1.0 / sw + mx * mx / sxx)
    valid = (n >= 3) & (sxx > 0)
    main = {"estimate": slope, "se": se, **_ci_p(slope, se, alpha, df)}
    inter = _ci_p(icpt, se_i, alpha, df)
    out = {k: np.where(valid, v, np.nan) for k, v in main.items()}
    out["nsnp"] = n.astype(int)
    out["egger_intercept"] = np.where(valid, icpt, np.nan)
    out["egger_intercept_se"] = np.where(valid, se_i, np.nan)
    out["egger_intercept_pval"] = np.where(valid, inter["pval"], np.nan)
    out["q"] = np.where(valid, rss, np.nan)
    out["q_df"] = df.astype(int)
    out["q_pval"] = np.where(valid, stats.chi2.sf(rss, np.maximum(df, 1)), np.nan)
    return pd.DataFrame(out)


def i2gx_batch(bx: ArrayLike, sx: ArrayLike, group: ArrayLike) -> F64:
    """I²GX of every pair: Cochran-type :math:`I^2` of ``|bx|`` with weights ``sx^-2``.

    .. math:: I^2_{GX} = \\max\\Big(0, \\frac{Q - (J-1)}{Q}\\Big),\\quad
              Q = \\sum_j w_j (|\\beta_{Xj}| - \\bar\\beta_X)^2

    (TwoSampleMR ``Isq(abs(b_exp), se_exp)``; Bowden 2016, doi:10.1093/ije/dyw220).
    """
    x = np.abs(np.asarray(bx, dtype=np.float64))
    s = np.asarray(sx, dtype=np.float64)
    g = np.asarray(group, dtype=np.int64)
    npairs = int(g.max()) + 1 if g.size else 0
    w = s**-2.0
    sw = _ssum(w, g, npairs)
    mu = _ssum(w * x, g, npairs) / sw
    q = _ssum(w * (x - mu[g]) ** 2, g, npairs)
    k = np.bincount(g, minlength=npairs)
    with np.errstate(invalid="ignore", divide="ignore"):
        isq = (q - (k - 1)) / q
    return np.where(k >= 2, np.maximum(0.0, isq), np.nan)


def f_mean_batch(bx: ArrayLike, sx: ArrayLike, group: ArrayLike) -> F64:
    """Mean per-variant F statistic :math:`(\\beta_X/\\sigma_X)^2` of every pair."""
    f = (np.asarray(bx, dtype=np.float64) / np.asarray(sx, dtype=np.float64)) ** 2
    g = np.asarray(group, dtype=np.int64)
    npairs = int(g.max()) + 1 if g.size else 0
    return _ssum(f, g, npairs) / np.bincount(g, minlength=npairs)


__all__ = ["egger_batch", "f_mean_batch", "i2gx_batch", "ivw_batch"]
