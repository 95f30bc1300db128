"""The interpolated weighted median of many rows, compiled.

For one row :math:`\\theta_1..\\theta_J` with weights :math:`w_j`, order the
variants by :math:`(\\theta_j, j)` (R's stable ``order``) and give the
:math:`k`-th the standardised cumulative weight at its midpoint,

.. math::

    p_k = \\Big(\\sum_{i \\le k} w_{(i)} - \\tfrac12 w_{(k)}\\Big) \\Big/ \\sum_j w_j .

With :math:`b` the last position with :math:`p_b < 1/2` (at most the
second-to-last), the estimate is
:math:`\\theta_{(b)} + (\\theta_{(b+1)} - \\theta_{(b)})(1/2 - p_b)/(p_{b+1} - p_b)`,
or the smallest ratio when already :math:`p_1 \\ge 1/2` (Bowden et al. 2016,
doi:10.1002/gepi.21965; TwoSampleMR ``weighted_median``).

Rows are sorted by insertion starting from the previous row's order: bootstrap
draws of one pair come in consecutive rows and are nearly in the same order, so
a row costs little more than a pass. The sorted order, hence the result, does
not depend on where the sort starts.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mrkit._core.arrays import FloatArray, for_row_chunks, row_blocks

#: Rows of at most this many variants are ordered by counting ranks (branch-free,
#: vectorised: J^2 comparisons beat a sort's mispredicted branches up to here).
RANK_MAX = 128


@nb.njit(cache=True, nogil=True, inline="always")
def _rank_order(t, order, seen):  # pragma: no cover - compiled
    """R's stable ``order(t)`` into ``order`` by counting ranks; False if ``t`` has a NaN.

    Variant i goes to ``#{t_j < t_i}`` plus the number of equal values of lower
    index (``seen``, a work array, counts them per rank).
    """
    n = t.shape[0]
    for i in range(n):
        seen[i] = 0.0
    for i in range(n):
        ti = t[i]
        if ti != ti:
            return False
        r = 0
        for j in range(n):
            r += np.int64(t[j] < ti)
        order[r + np.int64(seen[r])] = i
        seen[r] += 1.0
    return True


@nb.njit(cache=True, nogil=True)
def _one(t, wi, order, cum):  # pragma: no cover - compiled
    """The weighted median of one row ``t`` (weights ``wi``), re-sorting ``order`` in place."""
    n = t.shape[0]
    if n <= RANK_MAX:
        if _rank_order(t, order, cum):
            return _interpolate(t, wi, order, cum)
        for k in range(n):  # a NaN: sort from scratch, as before
            order[k] = k
    # insertion sort of the previous order by (value, index): stable, as R's order()
    for k in range(1, n):
        j = order[k]
        tj = t[j]
        m = k
        while m > 0 and (t[order[m - 1]] > tj or (t[order[m - 1]] == tj and order[m - 1] > j)):
            order[m] = order[m - 1]
            m -= 1
        order[m] = j
    return _interpolate(t, wi, order, cum)


@nb.njit(cache=True, nogil=True, inline="always")
def _interpolate(t, wi, order, cum):  # pragma: no cover - compiled
    """The interpolated weighted median of ``t`` given its stable ``order``."""
    n = t.shape[0]
    total = 0.0
    for k in range(n):
        total += wi[order[k]]
    run = 0.0
    below = n - 1  # the last position with p < 1/2
    for k in range(n):
        wk = wi[order[k]]
        run += wk
        cum[k] = (run - 0.5 * wk) / total
        if cum[k] >= 0.5:
            below = k - 1
            break
    if below < 0:  # every weight on the first ratio: the median is that ratio
        return t[order[0]]
    below = min(below, n - 2)  # p < 1/2 up to the last: the last two
    lo_t = t[order[below]]
    hi_t = t[order[below + 1]]
    return lo_t + (hi_t - lo_t) * (0.5 - cum[below]) / (cum[below + 1] - cum[below])


@nb.njit(cache=True, nogil=True)
def _rows(theta, w, rep, offset, out):  # pragma: no cover - compiled
    n = theta.shape[1]
    order = np.arange(n)
    cum = np.empty(n)
    for i in range(theta.shape[0]):
        out[i] = _one(theta[i], w[(offset + i) // rep], order, cum)


@nb.njit(cache=True, nogil=True)
def _boot(bx, sx, by, sy, zx, zy, w, out):  # pragma: no cover - compiled
    """Bootstrap medians of pairs ``0..k-1``: draw b of pair p is the ratio row
    ``(by + sy zy[b]) / (bx + sx zx[b])`` (normals shared when ``zx`` has one block)."""
    n = bx.shape[1]
    t = np.empty(n)
    order = np.arange(n)
    cum = np.empty(n)
    for p in range(bx.shape[0]):
        z = 0 if zx.shape[0] == 1 else p
        for i in range(n):
            order[i] = i
        for b in range(zx.shape[1]):
            for j in range(n):
                t[j] = (by[p, j] + sy[p, j] * zy[z, b, j]) / (bx[p, j] + sx[p, j] * zx[z, b, j])
            out[p, b] = _one(t, w[p], order, cum)


def bootstrap_median_rows(
    bx: FloatArray,
    sx: FloatArray,
    by: FloatArray,
    sy: FloatArray,
    zx: FloatArray,
    zy: FloatArray,
    weights: FloatArray,
) -> FloatArray:
    """Weighted medians of parametric bootstrap draws of ``k`` pairs of ``J`` variants.

    ``bx, sx, by, sy, weights`` are (k, J); ``zx, zy`` standard normals of shape
    (1 or k, nboot, J). Returns (k, nboot): the weighted median of the ratios
    :math:`(\beta_Y + \\sigma_Y z_Y)/(\beta_X + \\sigma_X z_X)` of each draw, the
    draws made in the compiled loop (no (k, nboot, J) temporaries), pairs on
    every core.
    """
    k, nboot = bx.shape[0], zx.shape[1]
    arrs = [np.ascontiguousarray(a, dtype=np.float64) for a in (bx, sx, by, sy, weights)]
    zx = np.ascontiguousarray(zx)
    zy = np.ascontiguousarray(zy)
    out = np.empty((k, nboot))
    shared = zx.shape[0] == 1

    def chunk(a: int, b: int) -> None:
        za, zb = (zx, zy) if shared else (zx[a:b], zy[a:b])
        bxa, sxa, bya, sya, wa = (x[a:b] for x in arrs)
        _boot(bxa, sxa, bya, sya, za, zb, wa, out[a:b])

    for_row_chunks(k, chunk, chunk=max(1, 4096 // max(nboot, 1)))
    return out


def weighted_median_rows(theta: FloatArray, weights: FloatArray) -> FloatArray:
    """Interpolated weighted median of each row of ``theta`` (2-D, draws x variants).

    ``weights`` is 1-D (one weight per variant, shared by every row), the same
    shape as ``theta``, or one row per block of consecutive rows (see
    :func:`~mrkit._core.arrays.row_blocks`). Ties are ordered by position (R's
    ``order`` is stable). Rows run in a compiled loop, on every core.
    """
    theta = np.ascontiguousarray(np.atleast_2d(np.asarray(theta, dtype=np.float64)))
    w, rep = row_blocks(weights, theta.shape[0])
    out = np.empty(theta.shape[0])
    for_row_chunks(theta.shape[0], lambda a, b: _rows(theta[a:b], w, rep, a, out[a:b]))
    return out


__all__ = ["bootstrap_median_rows", "weighted_median_rows"]
