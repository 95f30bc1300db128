"""Inverse-variance weighted (IVW) estimators and the single-variant Wald ratio.

The IVW estimate is the slope of a weighted regression through the origin of
the variant-outcome on the variant-exposure associations:

.. math::

    \\hat\\beta_{IVW} = \\frac{\\sum_j w_j \\beta_{Xj} \\beta_{Yj}}{\\sum_j w_j \\beta_{Xj}^2},
    \\qquad w_j = \\sigma_{Yj}^{-2},
    \\qquad \\mathrm{SE}_{FE} = \\Big(\\sum_j w_j \\beta_{Xj}^2\\Big)^{-1/2}.

The models differ only in the standard error: fixed effects uses
:math:`\\mathrm{SE}_{FE}`; multiplicative random effects multiplies it by the
residual standard error :math:`\\hat\\phi = \\sqrt{Q/(J-1)}`, with
:math:`Q` Cochran's heterogeneity statistic.

References
----------
Burgess S, Butterworth A, Thompson SG (2013). Genet Epidemiol 37:658-665.
doi:10.1002/gepi.21758
"""

from __future__ import annotations

from typing import Literal

from numpy.typing import ArrayLike

from mrkit._core.arrays import (
    as_arrays,
    require_nonzero_bx,
)
from mrkit.errors import InputError
from mrkit.methods import _kernels as kernels
from mrkit.methods import register
from mrkit.results import MRResult

IVW_DOI = "doi:10.1002/gepi.21758"


@register(
    "wald_ratio",
    label="Wald ratio",
    min_snps=1,
    reference="doi:10.1002/sim.3034",
    kernel="segment",
    aliases=("mr_wald_ratio",),
    max_snps=1,
)
def wald_ratio(
    bx: ArrayLike, sx: ArrayLike, by: ArrayLike, sy: ArrayLike, *, alpha: float = 0.05
) -> MRResult:
    """Wald ratio of a single variant, with TwoSampleMR's first-order SE.

    .. math:: \\hat\\beta = \\beta_Y / \\beta_X, \\qquad \\mathrm{SE} = \\sigma_Y / |\\beta_X|

    The SE ignores the uncertainty in :math:`\\beta_X` (first order, as
    TwoSampleMR ``mr_wald_ratio``); p-value from the normal distribution.
    Exactly one variant is accepted: use :func:`mrkit.diagnostics.core.single_snp`
    for a ratio per variant.
    """
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method="wald_ratio", min_snps=1)
    if bx_.shape[0] != 1:
        msg = (
            f"`wald_ratio` takes exactly one variant, got {bx_.shape[0]}; "
            "use mrkit.diagnostics.core.single_snp for one ratio per variant"
        )
        raise InputError(msg)
    require_nonzero_bx(bx_, "wald_ratio")
    cols = kernels.wald_ratio(bx_, sx_, by_, sy_, kernels.Segments.single(1), alpha=alpha)
    return MRResult("wald_ratio", *kernels.core_row(cols), 1, alpha)


def _ivw_core(
    method: str,
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float,
    model: Literal["random", "fixed", "mre", "default"],
    weights: Literal["first", "second"],
    dist: Literal["normal", "t"],
) -> MRResult:
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method=method, min_snps=2)
    n = bx_.shape[0]
    cols = kernels.ivw(
        bx_, sx_, by_, sy_, kernels.Segments.single(n),
        method=method, alpha=alpha, model=model, weights=weights, dist=dist,
    )  # fmt: skip
    b, se, lo, hi, pv = (
        float(cols[k][0]) for k in ("estimate", "se", "ci_lower", "ci_upper", "pval")
    )
    extras = {
        "q": float(cols["q"][0]),
        "q_df": int(cols["q_df"][0]),
        "q_pval": float(cols["q_pval"][0]),
        "rse": float(cols["rse"][0]),
        "model": str(cols["model"][0]),
    }
    return MRResult(method, b, se, lo, hi, pv, n, alpha, extras)


@register(
    "ivw",
    label="Inverse variance weighted",
    min_snps=2,
    default=True,
    reference=IVW_DOI,
    kernel="segment",
    aliases=("mr_ivw", "inverse_variance_weighted"),
)
def ivw(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    model: Literal["random", "fixed", "mre", "default"] = "random",
    weights: Literal["first", "second"] = "first",
    dist: Literal["normal", "t"] = "normal",
) -> MRResult:
    """IVW estimate; by default TwoSampleMR's ``mr_ivw``.

    Parameters
    ----------
    model
        ``"random"`` (default): multiplicative random effects with the SE never
        below the fixed-effect SE, :math:`\\mathrm{SE}_{FE}\\max(1, \\hat\\phi)`
        (TwoSampleMR ``mr_ivw``; MendelianRandomization ``model = "random"``).
        ``"fixed"``: :math:`\\mathrm{SE}_{FE}`. ``"mre"``:
        :math:`\\mathrm{SE}_{FE}\\hat\\phi` with no floor (TwoSampleMR
        ``mr_ivw_mre``). ``"default"``: MendelianRandomization's default, fixed
        for three or fewer variants, random otherwise.
    weights
        ``"first"`` (default, both packages): :math:`w_j = \\sigma_{Yj}^{-2}`.
        ``"second"``: MendelianRandomization ``weights = "delta"``,
        :math:`w_j = (\\sigma_{Yj}^2 + \\beta_{Yj}^2\\sigma_{Xj}^2/\\beta_{Xj}^2)^{-1}`
        (no exposure-outcome correlation).
    dist
        ``"normal"`` (default, both packages) or ``"t"`` on :math:`J-1` degrees of
        freedom (MendelianRandomization ``distribution = "t-dist"``).

    Notes
    -----
    Extras: Cochran's ``q`` with ``q_df = J - 1`` and ``q_pval``, and the residual
    standard error ``rse`` (:math:`\\hat\\phi`).
    """
    return _ivw_core("ivw", bx, sx, by, sy, alpha=alpha, model=model, weights=weights, dist=dist)


@register(
    "ivw_fe",
    label="Inverse variance weighted (fixed effects)",
    min_snps=2,
    reference=IVW_DOI,
    kernel="segment",
    aliases=("mr_ivw_fe",),
)
def ivw_fe(
    bx: ArrayLike, sx: ArrayLike, by: ArrayLike, sy: ArrayLike, *, alpha: float = 0.05
) -> MRResult:
    """Fixed-effect IVW (TwoSampleMR ``mr_ivw_fe``): SE :math:`(\\sum w_j\\beta_{Xj}^2)^{-1/2}`."""
    return _ivw_core(
        "ivw_fe", bx, sx, by, sy, alpha=alpha, model="fixed", weights="first", dist="normal"
    )


@register(
    "ivw_mre",
    label="Inverse variance weighted (multiplicative random effects)",
    min_snps=2,
    reference=IVW_DOI,
    kernel="segment",
    aliases=("mr_ivw_mre",),
)
def ivw_mre(
    bx: ArrayLike, sx: ArrayLike, by: ArrayLike, sy: ArrayLike, *, alpha: float = 0.05
) -> MRResult:
    """Multiplicative random-effects IVW without the SE floor (TwoSampleMR ``mr_ivw_mre``).

    SE is :math:`\\mathrm{SE}_{FE}\\hat\\phi`, which can be *smaller* than the
    fixed-effect SE when the variants are under-dispersed (:math:`\\hat\\phi < 1`).
    """
    return _ivw_core(
        "ivw_mre", bx, sx, by, sy, alpha=alpha, model="mre", weights="first", dist="normal"
    )


__all__ = ["ivw", "ivw_fe", "ivw_mre", "wald_ratio"]
