"""MR-GRIP: genotype-recoding invariant regression (TwoSampleMR ``mr_grip``).

MR-Egger's intercept depends on how the alleles are coded; multiplying both
associations by :math:`\\beta_{Xj}` removes that dependence. MR-GRIP regresses
:math:`\\beta_{Yj}\\beta_{Xj}` on :math:`\\beta_{Xj}^2` with an intercept, weighted
by :math:`(\\beta_{Xj}^2\\sigma_{Yj}^2)^{-1}` (NOME):

.. math::

    \\beta_{Yj}\\beta_{Xj} = \\beta_{0G} + \\beta_G\\,\\beta_{Xj}^2 + \\varepsilon_j,

with the SEs of ``lm`` (residual scale estimated, not floored) and p-values on the
t distribution with :math:`J - 2` degrees of freedom. The weak-instrument adjusted
slope (``b_adj``) replaces the moments of :math:`\\beta_X` by their unbiased
versions (:math:`\\beta_X^2 - \\sigma_X^2`, :math:`\\beta_X^4 - 6\\beta_X^2\\sigma_X^2 +
3\\sigma_X^4`) with weights :math:`\\sigma_Y^{-2}`.

References
----------
Dudbridge F, Allen RJ, Sheehan NA, et al. (2024). Adjustment for index event bias
and genotype-recoding invariant regression (MR-GRIP). TwoSampleMR ``mr_grip``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mrkit._core.arrays import as_arrays, critical, pvalue, require_nonzero_bx
from mrkit.errors import InputError
from mrkit.methods import register
from mrkit.results import MRResult


@register(
    "grip",
    label="MR GRIP",
    min_snps=3,
    reference="TwoSampleMR mr_grip (Dudbridge et al.)",
    aliases=("mr_grip", "mr-grip"),
)
def grip(
    bx: ArrayLike, sx: ArrayLike, by: ArrayLike, sy: ArrayLike, *, alpha: float = 0.05
) -> MRResult:
    """MR-GRIP slope (TwoSampleMR ``mr_grip``): ``lm(by*bx ~ bx^2, weights = 1/(bx^2 sy^2))``.

    The interval uses the same t quantile (J - 2 df) as the p-value (TwoSampleMR
    reports none).

    Notes
    -----
    Extras: ``grip_intercept`` with ``grip_intercept_se`` and ``grip_intercept_pval``;
    the weak-instrument adjusted ``b_adj``, ``se_adj``, ``pval_adj`` (``se_adj`` and
    ``pval_adj`` NaN, with ``se_adj_note``, when its variance estimate is negative,
    where R gives NaN with a warning).
    """
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method="grip", min_snps=3)
    require_nonzero_bx(bx_, "grip")
    j = bx_.shape[0]
    ge, go = bx_**2, by_ * bx_
    w = 1.0 / (ge * sy_**2)
    if np.ptp(ge) <= 1e-10 * ge.max():
        msg = (
            "`grip`: all |bx| are equal, so bx^2 is collinear with the intercept and the "
            "GRIP slope is not identified; use ivw"
        )
        raise InputError(msg)
    x = np.column_stack([np.ones(j), ge])
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(x * sw[:, None], go * sw, rcond=None)[0]
    r = (go - x @ coef) * sw
    sigma2 = float(np.dot(r, r)) / (j - 2)
    se = np.sqrt(np.diag(np.linalg.inv((x * w[:, None]).T @ x)) * sigma2)
    b_i, b = float(coef[0]), float(coef[1])
    # weak instrument adjustment (weights 1/sy^2)
    gw = sy_**-2.0
    m2 = bx_**2 - sx_**2
    numer = np.sum(gw) * np.sum(gw * by_ * bx_ * (bx_**2 - 3 * sx_**2)) - np.sum(
        gw * by_ * bx_
    ) * np.sum(gw * m2)
    denom = (
        np.sum(gw) * np.sum(gw * (bx_**4 - 6 * bx_**2 * sx_**2 + 3 * sx_**4)) - np.sum(gw * m2) ** 2
    )
    b_adj = float(numer / denom)
    var_out = np.mean((by_ - (b * ge + b_i) / bx_) ** 2) * bx_**2
    numer = (
        np.sum(gw) ** 2 * np.sum(gw**2 * var_out * (bx_**2 - 3 * sx_**2) ** 2)
        + np.sum(gw**2 * var_out) * np.sum(gw * m2) ** 2
        - 2 * np.sum(gw) * np.sum(gw * m2) * np.sum(gw**2 * m2 * var_out)
    )
    # the variance estimate can be negative (R returns NaN with a warning): NaN, noted
    se_adj = float(np.sqrt(numer) / denom) if numer >= 0 else float("nan")
    df = j - 2
    p = float(pvalue(b / se[1], dist="t", df=df))
    c = critical(alpha, dist="t", df=df)
    extras: dict[str, object] = {
        "grip_intercept": b_i,
        "grip_intercept_se": float(se[0]),
        "grip_intercept_pval": float(pvalue(b_i / se[0], dist="t", df=df)),
        "b_adj": b_adj,
        "se_adj": se_adj,
        "pval_adj": float(pvalue(b_adj / se_adj, dist="t", df=df)),
    }
    if numer < 0:
        extras["se_adj_note"] = "variance estimate of the adjusted slope is negative"
    s1 = float(se[1])
    return MRResult("grip", b, s1, b - c * s1, b + c * s1, p, j, alpha, extras)


__all__ = ["grip"]
