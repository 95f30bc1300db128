"""R's ``density()`` (stats 4.2) reproduced for the mode-based estimators, batched.

``stats::density(x, weights = w, bw = h)`` with the Gaussian kernel and
``n = 512`` grid points:

1. ``from = min(x) - 3h``, ``to = max(x) + 3h``, ``lo = from - 4h``,
   ``up = to + 4h``;
2. the weights are linearly binned onto 512 equally spaced points over
   ``[lo, up]`` (C ``BinDist``; a vector of length 1024 whose upper half is 0);
3. the binned masses are circularly convolved, by FFT, with the Gaussian
   density evaluated at ``seq(0, 2 (up - lo), length.out = 1024)`` (the upper
   half mirrored to negative lags). Note the kernel grid step
   ``2 (up - lo)/1023`` differs slightly from the bin step ``(up - lo)/511``:
   R before 4.4.0 (``old.coords = TRUE``) does this and we follow it, since
   TwoSampleMR 0.7.9 and MendelianRandomization 0.10.0 were run with R 4.2.2;
4. the first 512 values (floored at 0) are linearly interpolated from the bin
   grid onto ``seq(from, to, length.out = 512)``.

The mode is the grid point of ``seq(from, to, length.out = 512)`` with the
largest interpolated density (the first one on ties).

Every function works on a 2-D array of rows (bootstrap draws x variants), with
one bandwidth per row, so a whole bootstrap is a handful of array operations.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from mrkit.methods._common import FloatArray

NGRID = 512
_CUT = 3.0


def r_seq(start: FloatArray, stop: FloatArray, num: int) -> FloatArray:
    """``seq.int(start, stop, length.out = num)`` per row, as R computes it.

    R fills the first half forwards from ``start`` and the second half
    backwards from ``stop``, with the two end points exact.
    """
    start = np.asarray(start, dtype=np.float64)[..., None]
    stop = np.asarray(stop, dtype=np.float64)[..., None]
    by = (stop - start) / (num - 1)
    half = num // 2
    out = np.empty((*np.broadcast_shapes(start.shape, stop.shape)[:-1], num))
    out[..., :half] = start + np.arange(half, dtype=np.float64) * by
    out[..., half:] = stop - np.arange(num - 1 - half, -1, -1, dtype=np.float64) * by
    out[..., 0] = start[..., 0]
    out[..., -1] = stop[..., 0]
    return out


def r_sd(x: FloatArray) -> FloatArray:
    """R's ``sd`` of each row."""
    return np.std(x, axis=-1, ddof=1)


def r_mad(x: FloatArray) -> FloatArray:
    """R's ``mad`` of each row: ``1.4826 * median(|x - median(x)|)``."""
    med = np.median(x, axis=-1, keepdims=True)
    return 1.4826 * np.median(np.abs(x - med), axis=-1)


def silverman_bickel(x: FloatArray) -> FloatArray:
    """Hartwig's bandwidth ``0.9 min(sd, mad) / J^(1/5)`` of each row (before ``phi``)."""
    n = x.shape[-1]
    return 0.9 * np.minimum(r_sd(x), r_mad(x)) / n ** (1.0 / 5.0)


_CHUNK = 128  # rows per batch: (rows x 1024) float64 arrays of 1 MB stay in cache


def density_mode(x: FloatArray, w: FloatArray, bw: FloatArray) -> FloatArray:
    """Argmax of R's ``density(x[i], weights = w[i], bw = bw[i])`` for each row i.

    ``x`` and ``w`` are (rows, J) (``w`` may be 1-D, shared), ``bw`` is (rows,).
    Weights need not sum to one (the argmax does not depend on the scale).
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    nrow = x.shape[0]
    w = np.broadcast_to(np.asarray(w, dtype=np.float64), x.shape)
    bw = np.broadcast_to(np.asarray(bw, dtype=np.float64), (nrow,))
    if nrow <= _CHUNK:
        return _density_mode(x, w, bw)
    starts = range(0, nrow, _CHUNK)
    workers = min(len(starts), os.cpu_count() or 1)

    def one(i: int) -> FloatArray:
        return _density_mode(x[i : i + _CHUNK], w[i : i + _CHUNK], bw[i : i + _CHUNK])

    if workers <= 1:
        return np.concatenate([one(i) for i in starts])
    # NumPy releases the GIL in its array loops and FFTs: chunks run on every core.
    with ThreadPoolExecutor(workers) as pool:
        return np.concatenate(list(pool.map(one, starts)))


def _density_mode(x: FloatArray, w: FloatArray, bw: FloatArray) -> FloatArray:
    nrow = x.shape[0]
    n = NGRID
    frm = x.min(axis=1) - _CUT * bw
    to = x.max(axis=1) + _CUT * bw
    lo = frm - 4.0 * bw
    up = to + 4.0 * bw

    # 1. linear binning (C BinDist) onto 2n slots, the upper n of them empty
    delta = (up - lo) / (n - 1)
    xpos = (x - lo[:, None]) / delta[:, None]
    ix = np.floor(xpos)
    fx = xpos - ix
    ix = ix.astype(np.int64)
    inside = (ix >= 0) & (ix <= n - 2)  # always true: data sit 7 bw inside [lo, up]
    base = (np.arange(nrow, dtype=np.int64) * (2 * n))[:, None]
    idx = np.where(inside, base + ix, base)
    y = np.bincount(
        np.concatenate([idx.ravel(), (idx + 1).ravel()]),
        weights=np.concatenate([(w * (1.0 - fx) * inside).ravel(), (w * fx * inside).ravel()]),
        minlength=nrow * 2 * n,
    ).reshape(nrow, 2 * n)

    # 2. Gaussian kernel at R's (slightly mis-spaced) lags, mirrored. The
    # constant 1/(sqrt(2 pi) bw) scales a row's density and cannot move its
    # argmax, so it is left out.
    kern = r_seq(np.zeros(nrow), 2.0 * (up - lo), 2 * n)
    kern[:, n + 1 :] = -kern[:, n - 1 : 0 : -1]
    kern *= (1.0 / bw)[:, None]
    np.square(kern, out=kern)
    kern *= -0.5
    np.exp(kern, out=kern)

    # 3. circular cross-correlation: ifft(fft(y) * conj(fft(kern)))
    conv = np.fft.irfft(
        np.fft.rfft(y, axis=1) * np.conj(np.fft.rfft(kern, axis=1)), n=2 * n, axis=1
    )
    dens = np.maximum(conv[:, :n], 0.0)

    # 4. approx() from the bin grid onto seq(from, to, 512), then argmax
    xords = r_seq(lo, up, n)
    grid = r_seq(frm, to, n)
    j = np.floor((grid - lo[:, None]) / delta[:, None]).astype(np.int64)
    j = np.clip(j, 0, n - 2)
    # R's approx finds the bracketing interval by bisection on xords; fix any
    # off-by-one from the arithmetic index
    flat = (np.arange(nrow, dtype=np.int64) * n)[:, None]
    xo = xords.ravel()
    j = np.where(grid < xo[flat + j], j - 1, j)
    j = np.where(grid > xo[flat + j + 1], j + 1, j)
    j = np.clip(j, 0, n - 2) + flat
    x0, x1 = xo[j], xo[j + 1]
    de = dens.ravel()
    y0, y1 = de[j], de[j + 1]
    yi = y0 + (y1 - y0) * ((grid - x0) / (x1 - x0))
    yi = np.where(grid == x1, y1, np.where(grid == x0, y0, yi))
    k = np.argmax(yi, axis=1)
    return grid[np.arange(nrow), k]


__all__ = ["density_mode", "r_mad", "r_sd", "r_seq", "silverman_bickel"]
