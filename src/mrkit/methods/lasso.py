"""MR-Lasso, as MendelianRandomization ``mr_lasso``.

Each variant gets its own pleiotropic intercept :math:`\\alpha_j`, penalised by the
lasso:

.. math::

    \\min_{\\theta, \\alpha}\\; \\sum_j \\frac{(\\beta_{Yj} - \\alpha_j - \\theta\\beta_{Xj})^2}
    {2n\\sigma_{Yj}^2} + \\lambda \\sum_j x_{s,j} |\\alpha_j|

(glmnet's parametrisation; see :mod:`mrkit.methods._lasso`). Variants with
:math:`\\hat\\alpha_j = 0` are *valid*; :math:`\\lambda` is chosen along glmnet's path
by the heterogeneity stopping rule, and the reported estimate is the post-lasso IVW
estimate on the valid variants, with its standard error divided by
:math:`\\min(\\hat\\sigma, 1)` (random effects, never under-dispersed).

References
----------
Rees JMB, Wood AM, Dudbridge F, Burgess S (2019). Robust methods in Mendelian
randomization via penalization of heterogeneous causal estimates. PLoS One
14:e0222362. doi:10.1371/journal.pone.0222362
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from mrkit._core.arrays import as_arrays, interval, pvalue
from mrkit.errors import InputError, TooFewVariantsError
from mrkit.methods import register
from mrkit.methods._lasso import fit_lambda, lasso_path, post_lasso, reg_estimate, select
from mrkit.results import MRResult

LASSO_DOI = "doi:10.1371/journal.pone.0222362"


@register(
    "lasso", label="MR-Lasso", min_snps=3, reference=LASSO_DOI, kernel="pair", aliases=("mr_lasso",)
)
def lasso(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    lam: float | None = None,
    dist: Literal["normal", "t"] = "normal",
) -> MRResult:
    """Post-lasso IVW estimate on the variants MR-Lasso finds valid.

    Parameters
    ----------
    lam
        The penalty (R ``lambda``); ``None`` (default) chooses it along glmnet's
        path with MendelianRandomization's heterogeneity stopping rule.
    dist
        ``"normal"`` (default) or ``"t"`` on (number valid - 1) degrees of freedom.

    Returns
    -------
    MRResult
        Extras: ``valid_snps`` (0-based indices of the variants with
        :math:`\\hat\\alpha_j = 0`), ``n_valid``, ``lambda``, ``reg_estimate`` (the
        lasso fit's own estimate, R ``RegEstimate``) and ``reg_intercept`` (the
        :math:`\\hat\\alpha_j`, on the data oriented so that :math:`\\beta_X > 0`).

    Raises
    ------
    TooFewVariantsError
        With fewer than 3 variants, or when the chosen ``lam`` leaves fewer than two
        valid variants (the post-lasso IVW cannot be fitted; lower ``lam``).
    """
    bx_, _sx, by_, sy_ = as_arrays(bx, sx, by, sy, method="lasso", min_snps=3)
    sign = np.sign(bx_)
    bxo = np.abs(bx_)[:, None]
    byo = by_ * sign
    if lam is None:
        fit = select(bxo, byo, sy_, lasso_path(bxo, byo, sy_))
    else:
        if not lam >= 0:
            msg = f"`lasso`: `lam` must be >= 0, got {lam!r}"
            raise InputError(msg)
        fit = fit_lambda(bxo, byo, sy_, float(lam))
    valid = fit.alpha == 0
    nv = int(valid.sum())
    if nv < 2:
        raise TooFewVariantsError("lasso (post-lasso IVW on the valid variants)", 2, nv)
    coef, se_arr, sigma = post_lasso(bxo, byo, sy_, valid)
    est, se = float(coef[0]), float(se_arr[0])
    lo, hi = interval(est, se, alpha, dist=dist, df=nv - 1)
    extras = {
        "valid_snps": np.flatnonzero(valid).tolist(),
        "n_valid": nv,
        "lambda": fit.lam,
        "reg_estimate": float(reg_estimate(bxo, byo, sy_, fit.alpha)[0]),
        "reg_intercept": fit.alpha.tolist(),
        "rse": sigma,
    }
    p = float(pvalue(est / se, dist=dist, df=nv - 1))
    return MRResult("lasso", est, se, lo, hi, p, int(bx_.shape[0]), alpha, extras)


__all__ = ["lasso"]
