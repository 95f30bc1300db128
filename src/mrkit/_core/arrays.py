"""Helpers shared by the estimators: input checks, p-values and intervals."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from mrkit.errors import InputError, TooFewVariantsError

FloatArray = NDArray[np.float64]
Distribution = Literal["normal", "t"]


def as_arrays(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    method: str,
    min_snps: int = 1,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Validate and convert the four summary-statistic vectors.

    Raises :class:`~mrkit.errors.InputError` naming the argument and the first bad
    row (0-based) for mismatched lengths, non-finite values or ``se <= 0``, and
    :class:`~mrkit.errors.TooFewVariantsError` when fewer than ``min_snps`` rows
    are given.
    """
    out = []
    names = ("bx", "sx", "by", "sy")
    for name, values in zip(names, (bx, sx, by, sy), strict=True):
        try:
            arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            msg = f"`{method}`: `{name}` is not numeric ({exc})"
            raise InputError(msg) from None
        arr = np.atleast_1d(arr)
        if arr.ndim != 1:
            msg = f"`{method}`: `{name}` must be one-dimensional, got shape {arr.shape}"
            raise InputError(msg)
        out.append(arr)
    n = out[0].shape[0]
    for name, arr in zip(names, out, strict=True):
        if arr.shape[0] != n:
            msg = f"`{method}`: `{name}` has {arr.shape[0]} values but `bx` has {n}"
            raise InputError(msg)
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            msg = (
                f"`{method}`: `{name}` is not finite at row {int(bad[0])} "
                f"({arr[bad[0]]!r}; {bad.size} such rows); remove or fix those variants"
            )
            raise InputError(msg)
    for name, arr in (("sx", out[1]), ("sy", out[3])):
        bad = np.flatnonzero(arr <= 0)
        if bad.size:
            msg = (
                f"`{method}`: standard error `{name}` must be > 0, got {arr[bad[0]]!r} "
                f"at row {int(bad[0])} ({bad.size} such rows)"
            )
            raise InputError(msg)
    if n < min_snps:
        raise TooFewVariantsError(method, min_snps, n)
    return out[0], out[1], out[2], out[3]


def ratio_variance(
    bx: FloatArray, sx: FloatArray, by: FloatArray, sy: FloatArray, order: str = "second"
) -> FloatArray:
    """Delta-method variance of the ratio estimates :math:`\\beta_Y/\\beta_X`.

    .. math:: v_j = \\frac{\\sigma_{Yj}^2}{\\beta_{Xj}^2}
              + \\frac{\\beta_{Yj}^2\\sigma_{Xj}^2}{\\beta_{Xj}^4}

    ``order="first"`` keeps only the first term.
    """
    v = sy**2 / bx**2
    if order == "second":
        v = v + by**2 * sx**2 / bx**4
    return v


def require_nonzero_bx(bx: FloatArray, method: str) -> None:
    """Raise when a variant has ``bx == 0``: its ratio estimate ``by/bx`` is undefined."""
    zero = np.flatnonzero(bx == 0)
    if zero.size:
        msg = f"`{method}`: bx is 0 at row {int(zero[0])}; ratio undefined"
        raise InputError(msg)


def norm_sf(x: ArrayLike) -> FloatArray:
    """Upper tail of the standard normal (``scipy.stats.norm.sf``, via ``special.ndtr``)."""
    return special.ndtr(-np.asarray(x, dtype=float))


def norm_isf(q: ArrayLike) -> FloatArray:
    """Inverse upper tail of the standard normal (``qnorm(1 - q)``)."""
    return -special.ndtri(np.asarray(q, dtype=float))


def t_sf(x: ArrayLike, df: ArrayLike) -> FloatArray:
    """Upper tail of Student's t on ``df`` degrees of freedom (``special.stdtr``)."""
    return special.stdtr(df, -np.asarray(x, dtype=float))


def t_isf(q: ArrayLike, df: ArrayLike) -> FloatArray:
    """Inverse upper tail of Student's t (``qt(1 - q, df)``)."""
    return -special.stdtrit(df, np.asarray(q, dtype=float))


def chi2_sf(x: ArrayLike, df: ArrayLike) -> FloatArray:
    """Upper tail of the chi-squared distribution (``pchisq(x, df, lower = FALSE)``).

    These five use :mod:`scipy.special` directly (the functions
    :mod:`scipy.stats` calls), which imports in half the time.
    """
    return special.chdtrc(df, np.asarray(x, dtype=float))


def pvalue(z: float | FloatArray, *, dist: Distribution = "normal", df: float | None = None):
    """Two-sided p-value of a z (or t) statistic."""
    if dist == "normal":
        return 2.0 * norm_sf(np.abs(z))
    if df is None:
        msg = "`df` is required for the t distribution"
        raise InputError(msg)
    return 2.0 * t_sf(np.abs(z), df)


def critical(alpha: float, *, dist: Distribution = "normal", df: float | None = None) -> float:
    """The two-sided critical value: ``qnorm(1 - alpha/2)`` or ``qt(1 - alpha/2, df)``."""
    if not 0.0 < alpha < 1.0:
        msg = f"`alpha` must be in (0, 1), got {alpha!r}"
        raise InputError(msg)
    if dist == "normal":
        return float(norm_isf(alpha / 2.0))
    if df is None:
        msg = "`df` is required for the t distribution"
        raise InputError(msg)
    return float(t_isf(alpha / 2.0, df))


def interval(
    estimate: float,
    se: float,
    alpha: float,
    *,
    dist: Distribution = "normal",
    df: float | None = None,
) -> tuple[float, float]:
    """Symmetric Wald interval ``estimate ± critical * se``."""
    c = critical(alpha, dist=dist, df=df)
    return float(estimate - c * se), float(estimate + c * se)


def wls_slope(bx: FloatArray, by: FloatArray, w: FloatArray) -> tuple[float, float, float]:
    """Weighted least squares through the origin of ``by`` on ``bx``.

    Returns ``(slope, se_fixed, sigma)`` where ``se_fixed = 1/sqrt(sum w bx^2)`` is
    the standard error with the residual scale fixed at 1 and ``sigma`` is the
    residual standard error of R's ``lm(by ~ -1 + bx, weights = w)``, i.e.
    ``sqrt(sum w (by - slope bx)^2 / (n - 1))`` (NaN when n = 1).
    """
    sxx = float(np.dot(w, bx * bx))
    slope = float(np.dot(w, bx * by)) / sxx
    resid = by - slope * bx
    n = bx.shape[0]
    rss = float(np.dot(w, resid * resid))
    sigma = float(np.sqrt(rss / (n - 1))) if n > 1 else float("nan")
    return slope, float(1.0 / np.sqrt(sxx)), sigma


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity: a SLURM or taskset allocation)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def for_row_chunks(nrow: int, fn: Callable[[int, int], None], *, chunk: int = 512) -> None:
    """Call ``fn(start, stop)`` over row chunks, on every core when there are several.

    ``fn`` must release the GIL (compiled ``nogil`` kernels, NumPy array loops).
    """
    starts = range(0, nrow, chunk)
    workers = min(len(starts), usable_cores())
    if workers <= 1:
        for a in starts:
            fn(a, min(a + chunk, nrow))
        return
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda a: fn(a, min(a + chunk, nrow)), starts))


def row_blocks(weights: ArrayLike, nrow: int) -> tuple[FloatArray, int]:
    """Per-variant weights as a C-contiguous (m, J) array and the rows each serves.

    ``weights`` is 1-D (shared by all ``nrow`` rows), (nrow, J), or (m, J) with
    ``nrow`` a multiple of m: weight row ``r`` serves rows ``r * rep`` to
    ``(r + 1) * rep - 1`` (e.g. the ``rep`` bootstrap draws of pair ``r``).
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 1:
        w = w[None, :]
    m = w.shape[0]
    if m == 0 or nrow % m:
        msg = f"{m} weight rows do not divide {nrow} data rows"
        raise ValueError(msg)
    return np.ascontiguousarray(w), nrow // m
