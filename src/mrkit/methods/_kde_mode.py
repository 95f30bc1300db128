"""The mode of R's ``density()`` for many rows: a band-limited fast path beside the exact one.

:mod:`mrkit.methods._density` computes, for each row, the 512 binned masses,
their circular convolution with the Gaussian kernel by two 512-point FFTs, and
the argmax of R's ``approx`` onto the output grid. Its spectrum is truncated
where :math:`a j^2 > 50`, :math:`a = 2\\pi^2 r^2 / 512^2`, :math:`r = h/s` the
bandwidth in bins, so for :math:`r \\ge` :data:`FAST_MIN_RATIO` the convolution
has fewer than 128 frequencies (bootstrap rows of ratio estimates typically have
:math:`r` from 7 to 20). Such rows take the fast path here, which gives the same
numbers (to rounding) with less work:

1. the 512-point FFT of the binned masses, as the exact path, kept below
   :math:`K < 128` and times the kernel's closed-form spectrum;
2. the convolution at every other bin by a 256-point inverse FFT (exact, as
   the spectrum is band-limited below 128);
3. the convolution at the bins in between only where the maximum can be. The
   convolution is a positive mixture of Gaussians of standard deviation
   :math:`r` bins, so :math:`g'' \\ge -g/r^2`, and on an interval of
   :math:`d` bins :math:`g \\le \\max(\\text{ends}) + G d^2/(8 r^2)` with
   :math:`G \\le C/(1 - d^2/(8 r^2))`, :math:`C` the largest coarse value.
   Intervals whose bound is below the top (then below the threshold of
   :func:`~mrkit.methods._density.scan_argmax`) are never refined: their bins
   cannot hold the maximum, and the scan never reads them.

Rows with a smaller :math:`r` (data spanning more than about 66 bandwidths, or
R's numerically transformed kernel below :math:`r = 3`) take the exact path.
"""

from __future__ import annotations

import math
import threading

import numba as nb
import numpy as np

from mrkit._core.arrays import FloatArray, for_row_chunks, row_blocks
from mrkit.methods._density import (
    CHUNK,
    MAX_EXPONENT,
    NGRID,
    bin_masses,
    exact_mode_rows,
    scan_argmax,
    silverman_bickel_rows,
    top_threshold,
)

#: Fewest bins per bandwidth for the fast path: then ``a * 128**2 > 50``, so the
#: spectrum has fewer than 128 terms.
FAST_MIN_RATIO = 6.4
_NC = 256  # coarse points: every other bin
_NF = _NC // 2 + 1
_STEP = NGRID // _NC
_ROWS = CHUNK  # rows per batch: (rows x 512) arrays stay in cache
_TWO_PI = 2.0 * math.pi
_COS = np.cos(_TWO_PI * np.arange(NGRID) / NGRID)
_SIN = np.sin(_TWO_PI * np.arange(NGRID) / NGRID)


@nb.njit(cache=True, nogil=True)
def _band(spec, ratio, band, nfreq):  # pragma: no cover - compiled
    """Step 1 for the fast rows: ``band[i, :K] = spec[i, :K]`` times the kernel's closed-form
    spectrum, ``nfreq[i] = K`` (0 for rows left to the exact path)."""
    n = NGRID
    scale = 2.0 * math.pi**2 / (n * n)
    root = math.sqrt(2.0 * math.pi)
    for i in range(spec.shape[0]):
        c = ratio[i]
        nfreq[i] = 0
        band[i, :] = 0.0
        if not c >= FAST_MIN_RATIO:
            continue
        a = scale * c * c
        # k0 exp(-a j^2) by the recurrence g_(j+1) = g_j q_j, q_(j+1) = q_j exp(-2a)
        g = c * root
        q = math.exp(-a)
        q2 = q * q
        kmax = 0
        while kmax < _NF and a * kmax * kmax <= MAX_EXPONENT:
            band[i, kmax] = spec[i, kmax] * g
            g *= q
            q *= q2
            kmax += 1
        if kmax < _NF:
            nfreq[i] = kmax


@nb.njit(cache=True, nogil=True, inline="always")
def _refine(ci, spec_i, kmax, m, cos, sin):  # pragma: no cover - compiled
    """The convolution (coarse inverse FFT's scale) at bin ``2m + 1``."""
    mask = NGRID - 1
    b = _STEP * m + 1
    acc = 0.0
    idx = 0
    for j in range(1, kmax):
        idx = (idx + b) & mask
        acc += spec_i[j].real * cos[idx] - spec_i[j].imag * sin[idx]
    ci[b] = (spec_i[0].real + 2.0 * acc) / _NC


@nb.njit(cache=True, nogil=True)
def _fast_argmax(coarse, spec, nfreq, ratio, limits, out, cos, sin):  # pragma: no cover
    """Steps 3-4 for the fast rows (``nfreq > 0``); see the module docstring."""
    n = NGRID
    ci = np.empty(n)
    hi = np.empty(_NC)  # the larger end of each coarse interval (the last wraps to bin 0)
    done = np.zeros(_NC, dtype=np.bool_)
    for i in range(coarse.shape[0]):
        kmax = nfreq[i]
        if kmax == 0:
            continue
        ci[:] = -np.inf
        c = coarse[i]
        top_c = -np.inf
        for m in range(_NC):
            ci[_STEP * m] = c[m]
            top_c = max(top_c, c[m])
        for m in range(_NC - 1):
            hi[m] = max(c[m], c[m + 1])
        hi[_NC - 1] = max(c[_NC - 1], c[0])
        # on an interval of d bins g <= max(ends) + G d^2 / (8 r^2), G <= C / (1 - d^2/(8 r^2))
        d2 = _STEP * _STEP
        slack = top_c * d2 / (8.0 * ratio[i] * ratio[i] - d2) + 1e-9 * abs(top_c)
        jlo = n - 1
        jhi = 0
        for m in range(_NC):
            done[m] = hi[m] + slack >= top_c
            if done[m]:
                _refine(ci, spec[i], kmax, m, cos, sin)
                jlo = min(jlo, _STEP * m)
                jhi = max(jhi, min(_STEP * (m + 1), n - 1))
        _, thr = top_threshold(ci, limits[i], jlo, jhi)
        for m in range(_NC):
            if not done[m] and (hi[m] + slack >= thr or thr <= 0.0):
                _refine(ci, spec[i], kmax, m, cos, sin)
                jlo = min(jlo, _STEP * m)
                jhi = max(jhi, min(_STEP * (m + 1), n - 1))
        out[i] = scan_argmax(ci, limits[i], thr, jlo, jhi)


class _Workspace(threading.local):
    """Per-thread buffers for one chunk of rows."""

    def __init__(self) -> None:
        self.y = np.zeros((_ROWS, NGRID))
        self.spec = np.zeros((_ROWS, NGRID // 2 + 1), dtype=np.complex128)
        self.band = np.zeros((_ROWS, _NF), dtype=np.complex128)
        self.coarse = np.zeros((_ROWS, _NC))


_WORK = _Workspace()


def _mode_chunk(x: FloatArray, w: FloatArray, rep: int, offset: int, bw: FloatArray) -> FloatArray:
    """The density mode of at most ``_ROWS`` rows: fast rows here, the others exactly."""
    nrow = x.shape[0]
    work = _WORK
    y, spec, band, coarse = work.y[:nrow], work.spec[:nrow], work.band[:nrow], work.coarse[:nrow]
    y.fill(0.0)
    limits = np.empty((nrow, 4))
    bin_masses(x, w, rep, offset, bw, y, limits)
    ratio = bw / (2.0 * (limits[:, 3] - limits[:, 2]) / (2 * NGRID - 1))
    np.fft.rfft(y, axis=1, out=spec)
    nfreq = np.empty(nrow, dtype=np.int64)
    _band(spec, ratio, band, nfreq)
    out = np.empty(nrow)
    fast = nfreq > 0
    if fast.any():
        np.fft.irfft(band, n=_NC, axis=1, out=coarse)
        _fast_argmax(coarse, band, nfreq, ratio, limits, out, _COS, _SIN)
    if not fast.all():
        for part in np.array_split(np.flatnonzero(~fast), -(-int((~fast).sum()) // CHUNK)):
            ws = w[(offset + part) // rep]
            out[part] = exact_mode_rows(x[part], ws, 1, 0, bw[part])
    return out


def _prepare(x: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray, int]:
    x = np.ascontiguousarray(np.atleast_2d(np.asarray(x, dtype=np.float64)))
    w, rep = row_blocks(w, x.shape[0])
    return x, w, rep


def _modes(x: FloatArray, w: FloatArray, rep: int, bw: FloatArray, a: int, b: int) -> FloatArray:
    """:func:`_mode_chunk` of rows ``a:b`` (bandwidths ``bw``) in workspace-sized pieces."""
    out = np.empty(b - a)
    for s in range(a, b, _ROWS):
        e = min(s + _ROWS, b)
        out[s - a : e - a] = _mode_chunk(x[s:e], w, rep, s, bw[s - a : e - a])
    return out


def density_mode(x: FloatArray, w: FloatArray, bw: FloatArray) -> FloatArray:
    """Argmax of R's ``density(x[i], weights = w[i], bw = bw[i])`` for each row i.

    ``x`` is (rows, J), ``bw`` is (rows,). ``w`` is 1-D (shared), (rows, J), or
    one row per block of consecutive rows (see
    :func:`~mrkit._core.arrays.row_blocks`). Weights need not sum to one (the
    argmax does not depend on the scale).
    """
    x, w, rep = _prepare(x, w)
    nrow = x.shape[0]
    bw = np.ascontiguousarray(np.broadcast_to(np.asarray(bw, dtype=np.float64), (nrow,)))
    out = np.empty(nrow)

    def chunk(a: int, b: int) -> None:
        out[a:b] = _modes(x, w, rep, bw[a:b], a, b)

    for_row_chunks(nrow, chunk, chunk=8 * _ROWS)
    return out


def bandwidth_mode(x: FloatArray, w: FloatArray, *, phi: float, min_bw: float) -> FloatArray:
    """:func:`density_mode` with each row's bandwidth ``max(min_bw, phi * silverman_bickel)``.

    Bandwidths and modes are computed chunk by chunk in one pass over the rows.
    """
    x, w, rep = _prepare(x, w)
    nrow = x.shape[0]
    out = np.empty(nrow)

    def chunk(a: int, b: int) -> None:
        h = np.empty(b - a)
        silverman_bickel_rows(x[a:b], h)
        out[a:b] = _modes(x, w, rep, np.maximum(min_bw, h * phi), a, b)

    for_row_chunks(nrow, chunk, chunk=8 * _ROWS)
    return out


__all__ = ["FAST_MIN_RATIO", "bandwidth_mode", "density_mode"]
