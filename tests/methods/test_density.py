"""The compiled density mode, bandwidth and weighted median against literal transcriptions.

The references below follow R 4.2's ``density.default`` (``BinDist`` on 2n
slots, the FFT of the mirrored kernel at ``seq(0, 2 (up - lo), length.out = 2n)``,
``approx`` onto ``seq(from, to, length.out = 512)``) and ``stats::sd``/``mad``
line by line, one row at a time, with NumPy's FFT on 1024 points and the
kernel transformed numerically: no closed form, no 512-point shortcut, no
pruning of the interpolation.
"""

from __future__ import annotations

import numpy as np
import pytest

from mrkit.methods import _density
from mrkit.methods._density import r_seq, silverman_bickel
from mrkit.methods._kde_mode import FAST_MIN_RATIO, density_mode
from mrkit.methods.median import weighted_median_rows


def _r_density_mode(x: np.ndarray, w: np.ndarray, bw: float) -> float:
    n = 512
    frm, to = x.min() - 3 * bw, x.max() + 3 * bw
    lo, up = frm - 4 * bw, to + 4 * bw
    y = np.zeros(2 * n)
    delta = (up - lo) / (n - 1)
    for xi, wi in zip(x, w, strict=True):
        xpos = (xi - lo) / delta
        ix = int(np.floor(xpos))
        fx = xpos - ix
        y[ix] += wi * (1 - fx)
        y[ix + 1] += wi * fx
    kords = r_seq(np.array(0.0), np.array(2 * (up - lo)), 2 * n)
    kords[n + 1 :] = -kords[n - 1 : 0 : -1]
    kords = np.exp(-0.5 * (kords / bw) ** 2) / (bw * np.sqrt(2 * np.pi))
    conv = np.fft.ifft(np.fft.fft(y) * np.conj(np.fft.fft(kords))).real[:n] / (2 * n)
    dens = np.maximum(conv, 0)
    xords = r_seq(np.array(lo), np.array(up), n)
    grid = r_seq(np.array(frm), np.array(to), n)
    yi = np.interp(grid, xords, dens)
    return float(grid[np.argmax(yi)])


def _r_bandwidth(x: np.ndarray) -> float:
    sd = np.std(x, ddof=1)
    mad = 1.4826 * np.median(np.abs(x - np.median(x)))
    return 0.9 * min(sd, mad) / x.size**0.2


def _rows(seed: int, nrow: int, j: int, outliers: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((nrow, j)) * rng.uniform(0.01, 3)
    if outliers:  # data spanning hundreds of bandwidths: the numerically transformed kernel
        x[:, :2] *= rng.uniform(50, 2000, (nrow, 1))
    return x


@pytest.mark.parametrize(("j", "outliers"), [(3, False), (10, True), (28, False), (75, True)])
def test_density_mode_equals_literal_r(j: int, outliers: bool) -> None:
    """``density(x, weights = w, bw = h)$x[which.max(y)]`` for 300 random rows."""
    rng = np.random.default_rng(j)
    x = _rows(j, 300, j, outliers)
    w = rng.uniform(0.1, 5, x.shape)
    bw = silverman_bickel(x) * rng.uniform(0.3, 2, x.shape[0])
    got = density_mode(x, w, bw)
    want = [_r_density_mode(x[i], w[i], bw[i]) for i in range(x.shape[0])]
    np.testing.assert_array_equal(got, want)


def test_density_mode_shared_and_block_weights() -> None:
    """1-D weights, one weight row per block of rows and full weights agree."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 20))
    wk = rng.uniform(0.5, 2, (2, 20))
    bw = silverman_bickel(x)
    full = density_mode(x, np.repeat(wk, 3, axis=0), bw)
    np.testing.assert_array_equal(density_mode(x, wk, bw), full)
    np.testing.assert_array_equal(
        density_mode(x, wk[0], bw), density_mode(x, np.tile(wk[0], (6, 1)), bw)
    )
    with pytest.raises(ValueError, match="do not divide"):
        density_mode(x, rng.uniform(size=(4, 20)), bw)


@pytest.mark.parametrize("seed", range(6))
def test_band_limited_path_equals_exact_path(seed: int) -> None:
    """The fast path (coarse inverse FFT, bins refined only near the top) gives the
    exact path's mode on every row: unimodal, bimodal with near-equal peaks, rounded."""
    rng = np.random.default_rng(seed)
    j = int(rng.integers(3, 120))
    x = rng.standard_normal((512, j)) * rng.uniform(0.01, 3)
    x[128:256, : j // 2] += rng.uniform(2, 6)  # two modes of similar height
    x[256:384] = np.round(x[256:384], 1)  # ties in the data
    w = rng.uniform(0.1, 5, x.shape)
    bw = np.maximum(silverman_bickel(x) * rng.uniform(0.3, 2, x.shape[0]), 1e-8)
    lim = np.empty((x.shape[0], 4))
    _density.bin_masses(x, w, 1, 0, bw, np.zeros((x.shape[0], _density.NGRID)), lim)
    ratio = bw / (2 * (lim[:, 3] - lim[:, 2]) / (2 * _density.NGRID - 1))
    assert (ratio >= FAST_MIN_RATIO).mean() > 0.5  # the fast path is exercised
    exact = np.concatenate(
        [
            _density.exact_mode_rows(x[a : a + 128], w[a : a + 128], 1, 0, bw[a : a + 128])
            for a in range(0, x.shape[0], 128)
        ]
    )
    np.testing.assert_array_equal(density_mode(x, w, bw), exact)


@pytest.mark.parametrize("j", [3, 4, 5, 28, 61, 100])
def test_bandwidth_equals_r_sd_mad(j: int) -> None:
    """``0.9 * min(sd(x), mad(x)) / length(x)^(1/5)``, ties and constant halves included."""
    x = _rows(j, 400, j, outliers=j % 2 == 0)
    x[:50] = np.round(x[:50])
    x[50:60, : j // 2 + 1] = 1.5
    want = np.array([_r_bandwidth(r) for r in x])
    np.testing.assert_allclose(silverman_bickel(x), want, rtol=1e-14, atol=0)


def test_weighted_median_equals_sorting_reference() -> None:
    """Interpolated weighted median (Bowden 2016) with R's stable ``order``."""
    rng = np.random.default_rng(9)
    x = np.round(rng.standard_normal((500, 17)), 1)  # ties
    w = rng.uniform(0.1, 3, x.shape)
    want = []
    for xi, wi in zip(x, w, strict=True):
        o = np.argsort(xi, kind="stable")
        xs, ws = xi[o], wi[o]
        p = (np.cumsum(ws) - 0.5 * ws) / ws.sum()
        below = max(int(np.sum(p < 0.5)) - 1, 0)
        want.append(
            xs[below] + (xs[below + 1] - xs[below]) * (0.5 - p[below]) / (p[below + 1] - p[below])
        )
    np.testing.assert_allclose(weighted_median_rows(x, w), want, rtol=1e-13, atol=1e-15)
