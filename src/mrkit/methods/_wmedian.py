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


@nb.njit(cache=True, nogil=True)
def _rows(theta, w, rep, offset, out):  # pragma: no cover - compiled
    n = theta.shape[1]
    order = np.arange(n)
    cum = np.empty(n)
    for i in range(theta.shape[0]):
        t = theta[i]
        wi = w[(offset + i) // rep]
        # insertion sort of the previous order by (value, index): stable, as R's order()
        for k in range(1, n):
            j = order[k]
            tj = t[j]
            m = k
            while m > 0 and (t[order[m - 1]] > tj or (t[order[m - 1]] == tj and order[m - 1] > j)):
                order[m] = order[m - 1]
                m -= 1
            order[m] = j
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
            out[i] = t[order[0]]
            continue
        below = min(below, n - 2)  # p < 1/2 up to the last: the last two
        lo_t = t[order[below]]
        hi_t = t[order[below + 1]]
        out[i] = lo_t + (hi_t - lo_t) * (0.5 - cum[below]) / (cum[below + 1] - cum[below])


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


__all__ = ["weighted_median_rows"]
