"""Checks and weights shared by the bootstrap estimators of the ratio estimates.

The medians (:mod:`mrkit.methods.median`), the modes (:mod:`mrkit.methods.mode`),
their many-pair kernels (:mod:`mrkit.methods._rows`), the bootstrap MR-Egger and
the multivariable median check their inputs and penalise their weights alike.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mrkit._core.arrays import FloatArray, as_arrays, chi2_sf, require_nonzero_bx
from mrkit.errors import InputError

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


__all__ = ["MIN_SNPS", "penalised_weights", "ratio_arrays", "require_nboot"]
