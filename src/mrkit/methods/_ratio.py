"""Checks, weights and mode rows shared by the bootstrap estimators of the ratio estimates.

The medians (:mod:`mrkit.methods.median`), the modes (:mod:`mrkit.methods.mode`),
their many-pair kernels (:mod:`mrkit.methods._rows`), the bootstrap MR-Egger and
the multivariable median check their inputs and penalise their weights alike.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from mrkit._core.arrays import (
    FloatArray,
    as_arrays,
    chi2_sf,
    ratio_variance,
    require_nonzero_bx,
    row_blocks,
)
from mrkit.errors import InputError
from mrkit.methods._kde_mode import bandwidth_mode

#: Fewest variants of a median or mode estimate.
MIN_SNPS = 3


def require_nboot(nboot: int, method: str) -> None:
    """Raise :class:`~mrkit.errors.InputError` unless ``nboot >= 2`` (a bootstrap SE needs two)."""
    if nboot < 2:
        msg = f"`{method}`: `nboot` must be at least 2 to estimate a bootstrap SE, got {nboot}"
        raise InputError(msg)


def ratio_arrays(
    method: str, bx: ArrayLike, sx: ArrayLike, by: ArrayLike, sy: ArrayLike, nboot: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The four vectors of a ratio-bootstrap estimator, checked.

    At least :data:`MIN_SNPS` variants (:func:`~mrkit._core.arrays.as_arrays`), no
    ``bx == 0`` (the ratio would be undefined) and ``nboot >= 2``.
    """
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method=method, min_snps=MIN_SNPS)
    require_nonzero_bx(bx_, method)
    require_nboot(nboot, method)
    return bx_, sx_, by_, sy_


def penalised_weights(
    theta: FloatArray, w: FloatArray, centre: ArrayLike, penk: float
) -> FloatArray:
    """Burgess et al. (2016) weights :math:`w_j \\min(1, k P_j)` around ``centre``.

    :math:`P_j` is the upper :math:`\\chi^2_1` tail of
    :math:`w_j(\\hat\\theta_j - c)^2` and :math:`k` = ``penk``; ``centre`` holds one
    value per row of ``theta`` (a scalar for one row).
    """
    c = np.asarray(centre, dtype=np.float64)
    penalty = chi2_sf(w * (theta - c[..., None]) ** 2, 1)
    return w * np.minimum(1.0, penalty * penk)


def ratio_weights(
    bx: FloatArray,
    sx: FloatArray,
    by: FloatArray,
    sy: FloatArray,
    order: Literal["second", "first"],
) -> FloatArray:
    """Inverse variances of the ratio estimates, first or second order."""
    return 1.0 / ratio_variance(bx, sx, by, sy, order)


MIN_BW = 1e-8

Kind = Literal["simple", "weighted", "penalised"]


def mode_rows(theta: FloatArray, w: FloatArray | None, phi: float) -> FloatArray:
    """Mode-based estimate of each row of ``theta`` (rows x variants).

    ``w``: weights, 1-D (per variant), one row per row of ``theta`` or one row
    per block of consecutive rows (:func:`~mrkit._core.arrays.row_blocks`);
    ``None`` weights equally. Each row's weights are standardised to sum to one.
    """
    theta = np.atleast_2d(theta)
    w = np.ones(theta.shape[1]) if w is None else np.asarray(w, dtype=np.float64)
    return bandwidth_mode(theta, w / w.sum(axis=-1, keepdims=True), phi=phi, min_bw=MIN_BW)


def mode_estimate_rows(
    theta: FloatArray, se: FloatArray, *, kind: Kind, phi: float, penk: float = 20.0
) -> FloatArray:
    """Simple, weighted or penalised mode of each row of ``theta`` (rows x variants).

    ``se`` are the ratio SEs giving the weights :math:`\\mathrm{se}^{-2}`: 1-D
    (shared by every row), one row per row of ``theta``, or one row per block of
    consecutive rows (the draws of one pair). The shared core of the one-pair
    estimators and :mod:`mrkit.methods._rows`.
    """
    if kind == "simple":
        return mode_rows(theta, None, phi)
    wm = mode_rows(theta, se**-2.0, phi)
    if kind == "weighted":
        return wm
    # penalised: each row penalised around its own weighted mode, with the
    # weights of the point data (TwoSampleMR mr_mode)
    w, rep = row_blocks(se**-2.0, np.atleast_2d(theta).shape[0])
    return mode_rows(theta, penalised_weights(theta, np.repeat(w, rep, axis=0), wm, penk), phi)


__all__ = [
    "MIN_BW",
    "MIN_SNPS",
    "Kind",
    "mode_estimate_rows",
    "mode_rows",
    "penalised_weights",
    "ratio_arrays",
    "ratio_weights",
    "require_nboot",
]
