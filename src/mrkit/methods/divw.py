"""Debiased inverse-variance weighted estimator (dIVW; Ye, Shao, Kang 2021).

.. math::

    \\hat\\beta_{dIVW} = \\frac{\\sum_j \\beta_{Xj}\\beta_{Yj}\\sigma_{Yj}^{-2}}
                             {\\sum_j (\\beta_{Xj}^2 - \\sigma_{Xj}^2)\\sigma_{Yj}^{-2}}

The IVW denominator is debiased by subtracting the exposure variances, which
removes the weak-instrument bias towards zero. With :math:`\\mu_j =
\\beta_{Xj}/\\sigma_{Xj}`, :math:`r_j = \\sigma_{Xj}/\\sigma_{Yj}` and the
over-dispersion :math:`\\hat\\tau^2 = \\sum_j[(\\beta_{Yj} - \\hat\\beta\\beta_{Xj})^2 -
\\sigma_{Yj}^2 - \\hat\\beta^2\\sigma_{Xj}^2]\\sigma_{Yj}^{-2} / \\sum_j\\sigma_{Yj}^{-2}`
truncated at zero, :math:`\\hat\\tau^2_+ = \\max(0, \\hat\\tau^2)`,

.. math::

    \\mathrm{SE}^2 = \\frac{\\sum_j r_j^2\\mu_j^2 + \\hat\\beta^2 r_j^4(\\mu_j^2 + 1)
                    + \\hat\\tau^2_+ r_j^2\\mu_j^2/\\sigma_{Yj}^2}
                   {\\big(\\sum_j r_j^2(\\mu_j^2 - 1)\\big)^2}.

References
----------
Ye T, Shao J, Kang H (2021). Ann Stat 49:2079-2100. doi:10.1214/20-AOS2027.
Reference implementation: MendelianRandomization 0.10.0 ``mr_divw``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mrkit._core.arrays import as_arrays, interval, pvalue
from mrkit.methods import register
from mrkit.results import MRResult


@register(
    "divw",
    label="Debiased inverse-variance weighted",
    min_snps=2,
    reference="doi:10.1214/20-AOS2027",
    kernel="pair",
    aliases=("mr_divw",),
)
def divw(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    over_dispersion: bool = True,
) -> MRResult:
    """dIVW estimate, as MendelianRandomization ``mr_divw`` (same defaults).

    Parameters
    ----------
    over_dispersion
        Include the estimated over-dispersion in the SE (default true, as
        ``mr_divw``), truncated at zero as ``mr_divw`` does
        (``max(0, tau.square)``): a negative :math:`\\hat\\tau^2` (under-dispersion,
        common with valid instruments) would shrink the SE, or make it NaN with
        few variants. False sets :math:`\\tau^2 = 0`.

    Notes
    -----
    Normal p-value and interval. Extras: ``tau2`` (the untruncated estimate
    :math:`\\hat\\tau^2`, even when not used; it may be negative), ``tau2_used`` (the
    value in the SE: :math:`\\max(0, \\hat\\tau^2)`, or 0 without over-dispersion)
    and ``condition``, the instrument-strength
    diagnostic :math:`(\\overline{\\mu^2} - 1)\\sqrt{J}` (R's ``Condition``; values
    well above 20 indicate that dIVW is reliable).
    """
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method="divw", min_snps=2)
    n = bx_.shape[0]
    w = sy_**-2.0
    b = float(np.sum(by_ * bx_ * w) / np.sum((bx_**2 - sx_**2) * w))
    mu = bx_ / sx_
    ratio = sx_ / sy_
    condition = float((np.mean(mu**2) - 1.0) * np.sqrt(n))
    tau2_hat = float(np.sum(((by_ - b * bx_) ** 2 - sy_**2 - b**2 * sx_**2) * w) / np.sum(w))
    tau2 = max(0.0, tau2_hat) if over_dispersion else 0.0
    v1 = float(
        np.sum(
            ratio**2 * mu**2 + b**2 * ratio**4 * (mu**2 + 1.0) + tau2 * ratio**2 / sy_**2 * mu**2
        )
    )
    v2 = float(np.sum(ratio**2 * (mu**2 - 1.0)))
    se = float(np.sqrt(v1 / v2**2))
    lo, hi = interval(b, se, alpha)
    extras = {
        "tau2": tau2_hat,
        "tau2_used": tau2,
        "over_dispersion": over_dispersion,
        "condition": condition,
    }
    return MRResult("divw", b, se, lo, hi, float(pvalue(b / se)), n, alpha, extras)


__all__ = ["divw"]
