"""Bootstrap estimators (weighted median, mode-based) for many pairs at once.

Rows are stacked as in :mod:`mrkit.methods._kernels` (``group`` = integer pair code). Pairs
are bucketed by their number of variants :math:`J`; each bucket becomes a
3-D array (pairs x draws x variants) that the one-pair cores
(:func:`mrkit.methods.median.weighted_median_rows`,
:func:`mrkit.methods.mode.mode_estimate_rows`) evaluate in a few array passes.
Buckets are cut into chunks of at most ``max_cells`` numbers, so memory does not
grow with the number of pairs.

Random draws
------------
``seed`` is an ``int`` (default 1 in a study), a sequence of one seed per pair,
or ``None``. With an ``int`` every pair uses that seed, exactly as
:func:`mrkit.study.pairwork.analyse_harmonised` does for each pair of a study, so each
pair's draws, estimate and SE are *identical* to the one-pair function called
with that seed (the standard normals of a :math:`J` are then drawn once and
shared by the pairs of that bucket). With a sequence, each pair gets its own
``numpy.random.default_rng(seed[p])``, again identical to the one-pair call.
``None`` draws fresh, independent normals for every pair.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from mrkit._core.arrays import ratio_variance
from mrkit.errors import InputError
from mrkit.methods._density import r_mad
from mrkit.methods._kernels import _ci_p, _prepare
from mrkit.methods.median import ratio_weights, weighted_median_rows
from mrkit.methods.mode import Kind, mode_estimate_rows

F64 = NDArray[np.float64]
Seed = int | None | Sequence[int] | NDArray[np.integer]

MAX_CELLS = 2_000_000  # numbers per (pairs x draws x variants) chunk: ~16 MB each
_MIN_SNPS = 3


def _ratio_buckets(g, npairs, nboot, max_cells, bx, sx, by, sy):
    """:func:`_buckets` as padded (pairs, J) arrays, without pairs that have a ``bx`` of 0
    (their ratio is undefined; they stay NaN)."""
    for pairs, rows in _buckets(g, npairs, nboot, max_cells):
        bxr, sxr, byr, syr = bx[rows], sx[rows], by[rows], sy[rows]
        ok = ~np.any(bxr == 0, axis=1)
        if not ok.all():
            pairs, bxr, sxr, byr, syr = pairs[ok], bxr[ok], sxr[ok], byr[ok], syr[ok]
            if pairs.size == 0:
                continue
        yield pairs, bxr, sxr, byr, syr


def _buckets(
    g: NDArray[np.int64], npairs: int, per_pair: int, max_cells: int
) -> Iterator[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Yield ``(pairs, rows)``: pair codes of equal size J and their (k, J) row indices.

    Rows keep their input order within each pair.
    """
    n = np.bincount(g, minlength=npairs)
    order = np.argsort(g, kind="stable")
    starts = np.concatenate([[0], np.cumsum(n)[:-1]])
    for j in np.unique(n[n >= _MIN_SNPS]):
        pairs = np.flatnonzero(n == j)
        step = max(1, max_cells // (per_pair * int(j)))
        for i in range(0, pairs.size, step):
            chunk = pairs[i : i + step]
            yield chunk, order[starts[chunk][:, None] + np.arange(j)]


def _normals(seed: Seed, pairs: NDArray[np.int64], shape: tuple[int, int], ncall: int):
    """Standard normals for ``pairs``: a list of ``ncall`` arrays (k or 1, nboot, J)."""
    if seed is None or isinstance(seed, (int, np.integer)):
        rng = np.random.default_rng(seed)
        k = 1 if seed is not None else pairs.size
        return [rng.standard_normal((k, *shape)) for _ in range(ncall)]
    seeds = np.asarray(seed)
    out = [np.empty((pairs.size, *shape)) for _ in range(ncall)]
    for i, p in enumerate(pairs):
        rng = np.random.default_rng(int(seeds[p]))
        for arr in out:
            arr[i] = rng.standard_normal(shape)
    return out


def _check(seed: Seed, npairs: int, nboot: int, method: str) -> None:
    if nboot < 2:
        msg = f"`{method}`: `nboot` must be at least 2 to estimate a bootstrap SE, got {nboot}"
        raise InputError(msg)
    shared = seed is None or isinstance(seed, (int, np.integer))
    if not shared and np.asarray(seed).shape != (npairs,):
        msg = f"`{method}`: `seed` must be an int, None, or one seed per pair ({npairs})"
        raise InputError(msg)


def _frame(
    est: F64, se: F64, n: NDArray[np.int64], alpha: float, dist: str, ci_dist: str
) -> pd.DataFrame:
    df = np.maximum(n - 1, 1).astype(float)
    ci = _ci_p(est, se, alpha, None if ci_dist == "normal" else df)
    p = _ci_p(est, se, alpha, None if dist == "normal" else df)["pval"]
    return pd.DataFrame(
        {
            "estimate": est,
            "se": se,
            "ci_lower": ci["ci_lower"],
            "ci_upper": ci["ci_upper"],
            "pval": p,
            "nsnp": n,
        }
    )


def weighted_median_batch(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    group: ArrayLike,
    *,
    weights: Literal["second", "first"] = "second",
    nboot: int = 1000,
    seed: Seed = 1,
    alpha: float = 0.05,
    dist: Literal["normal", "t"] = "normal",
    max_cells: int = MAX_CELLS,
) -> pd.DataFrame:
    """Weighted median of every pair, as :func:`mrkit.methods.median.weighted_median_estimator`.

    .. math::

        w_j = \\Big(\\frac{\\sigma_{Yj}^2}{\\beta_{Xj}^2}
        + \\frac{\\beta_{Yj}^2\\sigma_{Xj}^2}{\\beta_{Xj}^4}\\Big)^{-1}

    (``weights="first"`` drops the second term). SE: standard deviation over
    ``nboot`` parametric bootstrap draws of both associations, weights fixed
    (Bowden et al. 2016, doi:10.1002/gepi.21965). Pairs with fewer than 3
    variants, or a ``bx`` of 0, get NaN. See the module doc for ``seed``.
    Returns one row per pair: ``estimate, se, ci_lower, ci_upper, pval, nsnp``.
    """
    bx_, sx_, by_, sy_, g, npairs = _prepare(bx, sx, by, sy, group)
    _check(seed, npairs, nboot, "weighted_median")
    est = np.full(npairs, np.nan)
    se = np.full(npairs, np.nan)
    for pairs, bxr, sxr, byr, syr in _ratio_buckets(
        g, npairs, nboot, max_cells, bx_, sx_, by_, sy_
    ):
        k, j = bxr.shape
        w = ratio_weights(bxr, sxr, byr, syr, weights)
        est[pairs] = weighted_median_rows(byr / bxr, w)
        zx, zy = _normals(seed, pairs, (nboot, j), 2)
        xb = bxr[:, None, :] + sxr[:, None, :] * zx
        yb = byr[:, None, :] + syr[:, None, :] * zy
        boot = weighted_median_rows((yb / xb).reshape(k * nboot, j), w).reshape(k, nboot)
        se[pairs] = np.std(boot, axis=1, ddof=1)
    n = np.bincount(g, minlength=npairs)
    return _frame(est, se, n, alpha, dist, dist)


def weighted_mode_batch(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    group: ArrayLike,
    *,
    kind: Kind = "weighted",
    nome: bool = False,
    phi: float = 1.0,
    penk: float = 20.0,
    nboot: int = 1000,
    seed: Seed = 1,
    alpha: float = 0.05,
    dist: Literal["normal", "t"] = "t",
    max_cells: int = MAX_CELLS,
) -> pd.DataFrame:
    """Mode-based estimate of every pair, as :mod:`mrkit.methods.mode` (TwoSampleMR).

    .. math::

        \\hat\\beta_{MBE} = \\arg\\max_b \\sum_j w_j K_h(b - \\hat\\theta_j),
        \\quad h = \\phi\\, 0.9 \\min(\\mathrm{sd}, \\mathrm{mad}) / J^{1/5}

    with R's ``density()`` grid (Hartwig et al. 2017, doi:10.1093/ije/dyx102).
    ``kind`` is ``"weighted"`` (default, ``mr_weighted_mode``), ``"simple"`` or
    ``"penalised"``; ``nome=True`` uses first-order ratio SEs. SE: R's ``mad``
    over ``nboot`` draws :math:`\\hat\\theta^*_j \\sim N(\\hat\\theta_j, se_j^2)`;
    normal interval, p-value on ``dist`` (t with J-1 df by default, as
    TwoSampleMR). Pairs with fewer than 3 variants or a ``bx`` of 0 get NaN.
    """
    bx_, sx_, by_, sy_, g, npairs = _prepare(bx, sx, by, sy, group)
    _check(seed, npairs, nboot, "weighted_mode")
    if not phi > 0:
        msg = f"`weighted_mode`: bandwidth factor `phi` must be > 0, got {phi!r}"
        raise InputError(msg)
    est = np.full(npairs, np.nan)
    se = np.full(npairs, np.nan)
    for pairs, bxr, sxr, byr, syr in _ratio_buckets(
        g, npairs, nboot, max_cells, bx_, sx_, by_, sy_
    ):
        k, j = bxr.shape
        theta = byr / bxr
        if nome:
            s = syr / np.abs(bxr)
        else:
            s = np.sqrt(ratio_variance(bxr, sxr, byr, syr))
        est[pairs] = mode_estimate_rows(theta, s, kind=kind, phi=phi, penk=penk)
        (z,) = _normals(seed, pairs, (nboot, j), 1)
        draws = (theta[:, None, :] + s[:, None, :] * z).reshape(k * nboot, j)
        boot = mode_estimate_rows(draws, s, kind=kind, phi=phi, penk=penk).reshape(k, nboot)
        se[pairs] = r_mad(boot)
    n = np.bincount(g, minlength=npairs)
    return _frame(est, se, n, alpha, dist, "normal")


__all__ = ["weighted_median_batch", "weighted_mode_batch"]
