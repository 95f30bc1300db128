"""Bootstrap estimators (medians, modes) over many pairs at once: compiled rows.

Rows are stacked as in :mod:`mrkit.methods._kernels` (a :class:`Segments` of pair
codes). Pairs are bucketed by their number of variants :math:`J`; each bucket
becomes a (pairs x draws x variants) array whose rows the compiled one-pair cores
(:func:`mrkit.methods._wmedian.weighted_median_rows`,
:func:`mrkit.methods._ratio.mode_estimate_rows`) evaluate threaded over the cores.
Buckets are cut into chunks of at most ``max_cells`` numbers, so memory does not
grow with the number of pairs.

Random draws
------------
``seed`` is an ``int`` or ``None``. With an ``int`` every pair uses that seed,
exactly as the one-pair function called with it, so each pair's draws, estimate
and SE are *identical* to the one-pair call (the standard normals of one
:math:`J` are drawn once and shared by the pairs of that bucket). ``None`` draws
fresh, independent normals for every pair.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from mrkit._core.arrays import FloatArray, ratio_variance
from mrkit.errors import InputError
from mrkit.methods._density import r_mad, silverman_bickel
from mrkit.methods._kernels import Columns, Segments, ci_p, too_few
from mrkit.methods._ratio import (
    MIN_BW,
    MIN_SNPS,
    Kind,
    mode_estimate_rows,
    penalised_weights,
    ratio_weights,
    require_nboot,
)
from mrkit.methods._wmedian import bootstrap_median_rows, weighted_median_rows

IntArray = NDArray[np.int64]
MAX_CELLS = 2_000_000  # numbers per (pairs x draws x variants) chunk: ~16 MB each


def _buckets(
    cols: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    seg: Segments,
    per_pair: int,
    max_cells: int,
    eligible: NDArray[np.bool_],
) -> Iterator[tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray]]:
    """Yield ``(pairs, bx, sx, by, sy)``: eligible pair codes of equal size J and the
    (k, J) rows of the four columns ``cols`` for them.

    Rows keep their input order within each pair.
    """
    n = seg.n
    order = np.argsort(seg.group, kind="stable")
    starts = np.concatenate([[0], np.cumsum(n)[:-1]]).astype(np.int64)
    for j in np.unique(n[eligible]):
        pairs = np.flatnonzero(eligible & (n == j))
        step = max(1, max_cells // (per_pair * int(j)))
        for i in range(0, pairs.size, step):
            chunk = pairs[i : i + step]
            rows = order[starts[chunk][:, None] + np.arange(j)]
            bx, sx, by, sy = cols
            yield chunk, bx[rows], sx[rows], by[rows], sy[rows]


def _normals(seed: int | None, k: int, shape: tuple[int, int], ncall: int) -> list[FloatArray]:
    """Standard normals: ``ncall`` arrays of shape (1 or k, nboot, J)."""
    rng = np.random.default_rng(seed)
    m = 1 if seed is not None else k
    return [rng.standard_normal((m, *shape)) for _ in range(ncall)]


def _setup(
    method: str, bx: FloatArray, seg: Segments, nboot: int, seed: object
) -> tuple[list[str | None], NDArray[np.bool_]]:
    require_nboot(nboot, method)
    if seed is not None and not isinstance(seed, int | np.integer):
        msg = f"`{method}`: `seed` must be an integer or None, got {seed!r}"
        raise InputError(msg)
    reason = too_few(seg.n, MIN_SNPS, method)
    for p in np.flatnonzero(seg.any(bx == 0)):
        if reason[p] is None:
            reason[p] = f"`{method}`: a variant has bx = 0, so its ratio estimate is undefined"
    return reason, np.array([r is None for r in reason], dtype=bool)


def _columns(
    est: FloatArray, se: FloatArray, seg: Segments, alpha: float, p_dist: str, ci_dist: str
) -> Columns:
    df = np.maximum(seg.n - 1, 1).astype(float)
    ci = ci_p(est, se, alpha, ci_dist, df)
    return {
        "estimate": est,
        "se": se,
        "ci_lower": ci["ci_lower"],
        "ci_upper": ci["ci_upper"],
        "pval": ci_p(est, se, alpha, p_dist, df)["pval"],
    }


def median(
    bx: FloatArray, sx: FloatArray, by: FloatArray, sy: FloatArray, seg: Segments,
    *, method: str, kind: Literal["simple", "weighted", "penalised"],
    weights: Literal["second", "first"] = "second", penk: float = 20.0, nboot: int = 1000,
    seed: int | None = 1, alpha: float = 0.05, dist: Literal["normal", "t"] = "normal",
    max_cells: int = MAX_CELLS,
) -> Columns:  # fmt: skip
    """Simple, weighted or penalised weighted median of every pair (:mod:`mrkit.methods.median`).

    .. math::

        w_j = \\Big(\\frac{\\sigma_{Yj}^2}{\\beta_{Xj}^2}
        + \\frac{\\beta_{Yj}^2\\sigma_{Xj}^2}{\\beta_{Xj}^4}\\Big)^{-1}

    (``weights="first"`` drops the second term; ``simple``: :math:`1/J`;
    ``penalised``: times :math:`\\min(1, k P_j)`). SE: standard deviation over
    ``nboot`` parametric bootstrap draws of both associations, weights fixed
    (Bowden et al. 2016, doi:10.1002/gepi.21965).
    """
    reason, ok = _setup(method, bx, seg, nboot, seed)
    est = np.full(seg.npairs, np.nan)
    se = np.full(seg.npairs, np.nan)
    for pairs, bxr, sxr, byr, syr in _buckets((bx, sx, by, sy), seg, nboot, max_cells, ok):
        k, j = bxr.shape
        theta = byr / bxr
        if kind == "simple":
            w = np.full((k, j), 1.0 / j)
        else:
            w = ratio_weights(bxr, sxr, byr, syr, weights)
            if kind == "penalised":
                w = penalised_weights(theta, w, weighted_median_rows(theta, w), penk)
        est[pairs] = weighted_median_rows(theta, w)
        zx, zy = _normals(seed, k, (nboot, j), 2)
        boot = bootstrap_median_rows(bxr, sxr, byr, syr, zx, zy, w)
        se[pairs] = np.std(boot, axis=1, ddof=1)
    out = _columns(est, se, seg, alpha, dist, dist)
    out.update(nboot=nboot, seed=seed, reason=reason)
    if kind != "simple":
        out["weights"] = weights
    return out


def mode(
    bx: FloatArray, sx: FloatArray, by: FloatArray, sy: FloatArray, seg: Segments,
    *, method: str, kind: Kind, nome: bool = False, phi: float = 1.0, penk: float = 20.0,
    nboot: int = 1000, seed: int | None = 1, alpha: float = 0.05,
    dist: Literal["normal", "t"] = "t", max_cells: int = MAX_CELLS,
) -> Columns:  # fmt: skip
    """Mode-based estimate of every pair, as :mod:`mrkit.methods.mode` (TwoSampleMR).

    .. math::

        \\hat\\beta_{MBE} = \\arg\\max_b \\sum_j w_j K_h(b - \\hat\\theta_j),
        \\quad h = \\phi\\, 0.9 \\min(\\mathrm{sd}, \\mathrm{mad}) / J^{1/5}

    with R's ``density()`` grid (Hartwig et al. 2017, doi:10.1093/ije/dyx102).
    SE: R's ``mad`` over ``nboot`` draws
    :math:`\\hat\\theta^*_j \\sim N(\\hat\\theta_j, se_j^2)`; normal interval,
    p-value on ``dist`` (t with J-1 df by default, as TwoSampleMR).
    """
    if not phi > 0:
        msg = f"`{method}`: bandwidth factor `phi` must be > 0, got {phi!r}"
        raise InputError(msg)
    reason, ok = _setup(method, bx, seg, nboot, seed)
    est = np.full(seg.npairs, np.nan)
    se = np.full(seg.npairs, np.nan)
    bw = np.full(seg.npairs, np.nan)
    for pairs, bxr, sxr, byr, syr in _buckets((bx, sx, by, sy), seg, nboot, max_cells, ok):
        k, j = bxr.shape
        theta = byr / bxr
        bw[pairs] = np.maximum(MIN_BW, silverman_bickel(theta) * phi)
        s = syr / np.abs(bxr) if nome else np.sqrt(ratio_variance(bxr, sxr, byr, syr))
        est[pairs] = mode_estimate_rows(theta, s, kind=kind, phi=phi, penk=penk)
        (z,) = _normals(seed, k, (nboot, j), 1)
        draws = (theta[:, None, :] + s[:, None, :] * z).reshape(k * nboot, j)
        boot = mode_estimate_rows(draws, s, kind=kind, phi=phi, penk=penk).reshape(k, nboot)
        se[pairs] = r_mad(boot)
    out = _columns(est, se, seg, alpha, dist, "normal")
    out.update(phi=phi, nboot=nboot, seed=seed, bandwidth=bw, reason=reason)
    return out


#: Registered rows methods -> (kernel, fixed arguments).
ROWS_METHODS: dict[str, tuple[object, dict[str, object]]] = {
    "simple_median": (median, {"kind": "simple"}),
    "weighted_median": (median, {"kind": "weighted"}),
    "penalised_weighted_median": (median, {"kind": "penalised"}),
    "simple_mode": (mode, {"kind": "simple"}),
    "weighted_mode": (mode, {"kind": "weighted"}),
    "penalised_mode": (mode, {"kind": "penalised"}),
    "simple_mode_nome": (mode, {"kind": "simple", "nome": True}),
    "weighted_mode_nome": (mode, {"kind": "weighted", "nome": True}),
}

__all__ = ["MAX_CELLS", "ROWS_METHODS", "median", "mode"]
