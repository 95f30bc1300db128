"""Unweighted regression (TwoSampleMR ``mr_uwr``).

Ordinary least squares of :math:`\\beta_{Yj}` on :math:`\\beta_{Xj}` through the
origin, without weights:

.. math::

    \\hat\\beta = \\frac{\\sum_j \\beta_{Xj}\\beta_{Yj}}{\\sum_j \\beta_{Xj}^2}, \\qquad
    \\mathrm{SE} = \\frac{\\hat s}{\\sqrt{\\sum_j \\beta_{Xj}^2}\\,\\min(1, \\hat s)},

:math:`\\hat s` the residual standard error, so the SE is that of ``lm`` floored at
the :math:`\\hat s = 1` value; normal p-value. TwoSampleMR's ``Q`` is
:math:`(J-1)\\hat s^2` (a heterogeneity statistic only when the outcome SEs are 1).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mrkit._core.arrays import as_arrays, chi2_sf, critical, pvalue
from mrkit.methods import register
from mrkit.results import MRResult


@register(
    "uwr",
    label="Unweighted regression",
    min_snps=2,
    reference="TwoSampleMR mr_uwr",
    aliases=("mr_uwr", "unweighted_regression"),
)
def uwr(
    bx: ArrayLike, sx: ArrayLike, by: ArrayLike, sy: ArrayLike, *, alpha: float = 0.05
) -> MRResult:
    """Unweighted regression through the origin (TwoSampleMR ``mr_uwr``).

    Extras: ``q = (J-1) s^2``, ``q_df``, ``q_pval``, ``rse`` (:math:`\\hat s`). The
    interval is normal (TwoSampleMR reports none).
    """
    bx_, _sx, by_, _sy = as_arrays(bx, sx, by, sy, method="uwr", min_snps=2)
    j = bx_.shape[0]
    sxx = float(np.dot(bx_, bx_))
    b = float(np.dot(bx_, by_)) / sxx
    r = by_ - b * bx_
    s = float(np.sqrt(np.dot(r, r) / (j - 1)))
    se = s / np.sqrt(sxx) / min(1.0, s)
    q = s * s * (j - 1)
    c = critical(alpha)
    extras = {"q": q, "q_df": j - 1, "q_pval": float(chi2_sf(q, j - 1)), "rse": s}
    return MRResult("uwr", b, se, b - c * se, b + c * se, float(pvalue(b / se)), j, alpha, extras)


__all__ = ["uwr"]
