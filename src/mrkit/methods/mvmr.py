"""Multivariable Mendelian randomization (MVMR) on summary statistics.

Pure functions of ``BX`` (J x K variant-exposure associations), ``SX`` (their SEs),
``by`` and ``sy`` (variant-outcome associations and SEs). Each estimator returns an
:class:`MVMRResult` with one row per exposure (the *direct* effect of that exposure
conditional on the others).

* :func:`mvmr_ivw`: weighted regression of :math:`\\beta_Y` on :math:`B_X` without an
  intercept (weights :math:`\\sigma_Y^{-2}`), MendelianRandomization ``mr_mvivw``;
  ``model="mre"`` with ``dist="t"`` is the MVMR package's ``ivw_mvmr``.
* :func:`mvmr_egger`: with an intercept, after orienting on one exposure
  (``mr_mvegger``).
* :func:`mvmr_median`: weighted median regression with a parametric bootstrap SE
  (``mr_mvmedian``).
* :func:`mvmr_lasso`: MR-Lasso with K exposures (``mr_mvlasso``).
* :func:`conditional_f`: conditional F-statistics (MVMR ``strength_mvmr``).
* :func:`q_a`: Sanderson-Windmeijer's :math:`Q_A` pleiotropy statistic (MVMR
  ``pleiotropy_mvmr``).
* From :mod:`mrkit.methods.mvmr_extra`: :func:`mvmr_ivw_robust` (``mr_mvivw(robust =
  TRUE)``), :func:`mv_multiple` (TwoSampleMR ``mv_multiple``) and :func:`q_strength`
  (the MVMR package's ``Q_strength``).

References
----------
Burgess S, Thompson SG (2015). Am J Epidemiol 181:251-260. doi:10.1093/aje/kwu283;
Sanderson E, Davey Smith G, Windmeijer F, Bowden J (2019). Int J Epidemiol 48:713-727.
doi:10.1093/ije/dyy262; Sanderson E, Spiller W, Bowden J (2021). Stat Med
40:5434-5452. doi:10.1002/sim.9133; Rees JMB, Wood AM, Burgess S (2017). Stat Med
36:4705-4718. doi:10.1002/sim.7492; Grant AJ, Burgess S (2021). Am J Hum Genet
108:1195-1207 (MVMR median and lasso). doi:10.1016/j.ajhg.2021.05.001
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from mrkit._core.arrays import critical, pvalue
from mrkit.errors import InputError, TooFewVariantsError
from mrkit.methods._l1 import l1_fit, l1_fit_batch
from mrkit.methods._lasso import fit_lambda, lasso_path, post_lasso, reg_estimate, select
from mrkit.methods._mvmr_core import (
    Dist,
    MVMRResult,
    _as_mv,
    _finish,
    _gencov,
    _names,
    _orientated,
    _strength_q,
    _wls,
)
from mrkit.methods._ratio import require_nboot
from mrkit.methods.mvmr_extra import mv_multiple, mvmr_ivw_robust, q_strength


def mvmr_ivw(
    BX: ArrayLike,
    SX: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    exposures: Sequence[str] | None = None,
    alpha: float = 0.05,
    model: Literal["default", "random", "fixed", "mre"] = "default",
    dist: Dist = "normal",
) -> MVMRResult:
    """Multivariable IVW: :math:`\\hat\\theta = (B_X^\\top W B_X)^{-1}B_X^\\top W\\beta_Y`.

    ``model``: ``"default"`` (fixed below 4 variants, else random; the package),
    ``"random"`` (SE :math:`\\times\\max(1, \\hat\\sigma)`), ``"fixed"`` or ``"mre"``
    (:math:`\\times\\hat\\sigma`, no floor; with ``dist="t"`` this is MVMR
    ``ivw_mvmr``). ``dist="t"`` uses J - K degrees of freedom. Extras: ``rse``,
    ``q`` (:math:`(J-K)\\hat\\sigma^2`), ``q_df``, ``q_pval``, ``model``.
    """
    bx, _sx, byv, syv = _as_mv(BX, SX, by, sy, method="mvmr_ivw")
    j, k = bx.shape
    if model == "default":
        model = "fixed" if j < 4 else "random"
    coef, se0, sigma = _wls(bx, byv, syv**-2.0)
    scale = {"fixed": 1.0, "random": max(1.0, sigma), "mre": sigma}.get(model)
    if scale is None:
        msg = f"`mvmr_ivw`: unknown model {model!r}; use default, random, fixed or mre"
        raise InputError(msg)
    q = (j - k) * sigma**2
    extras = {
        "rse": sigma,
        "q": q,
        "q_df": j - k,
        "q_pval": float(stats.chi2.sf(q, j - k)),
        "model": model,
    }
    return _finish(
        "mvmr_ivw", _names(exposures, k), coef, se0 * scale, j, alpha, dist, j - k, extras
    )


def mvmr_egger(
    BX: ArrayLike,
    SX: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    exposures: Sequence[str] | None = None,
    alpha: float = 0.05,
    orientate: int = 0,
    dist: Dist = "normal",
) -> MVMRResult:
    """Multivariable MR-Egger (``mr_mvegger``): WLS of :math:`\\beta_Y` on :math:`[1, B_X]`.

    Variants are first oriented so that exposure ``orientate`` (0-based; the
    package's ``orientate = 1``) has positive associations. SEs are divided by
    :math:`\\min(\\hat\\sigma, 1)`. ``dist="t"`` uses J - K - 1 degrees of freedom
    for both interval and p-value (the package uses J - K for the p-value). Extras:
    ``egger_intercept``, ``egger_intercept_se``, ``egger_intercept_pval``, ``rse``,
    ``q`` (:math:`(J-K-1)\\hat\\sigma^2`), ``q_df``, ``q_pval``, ``orientate``.
    """
    bx, _sx, byv, syv = _as_mv(BX, SX, by, sy, method="mvmr_egger", min_extra=2)
    j, k = bx.shape
    bxo, byo = _orientated(bx, byv, orientate, "mvmr_egger")
    x = np.column_stack([np.ones(j), bxo])
    coef, se0, sigma = _wls(x, byo, syv**-2.0)
    se = se0 * sigma / min(sigma, 1.0)  # lm SE divided by min(sigma, 1)
    df = j - k - 1
    c = critical(alpha, dist=dist, df=df)
    z0 = coef[0] / se[0]
    p0 = pvalue(z0, dist=dist, df=df)
    q = df * sigma**2
    extras = {
        "egger_intercept": float(coef[0]),
        "egger_intercept_se": float(se[0]),
        "egger_intercept_pval": float(p0),
        "egger_intercept_ci_lower": float(coef[0] - c * se[0]),
        "egger_intercept_ci_upper": float(coef[0] + c * se[0]),
        "rse": sigma,
        "q": q,
        "q_df": df,
        "q_pval": float(stats.chi2.sf(q, df)),
        "orientate": orientate,
    }
    return _finish("mvmr_egger", _names(exposures, k), coef[1:], se[1:], j, alpha, dist, df, extras)


def mvmr_median(
    BX: ArrayLike,
    SX: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    exposures: Sequence[str] | None = None,
    alpha: float = 0.05,
    nboot: int = 10_000,
    seed: int | None = 314159265,
    dist: Dist = "normal",
) -> MVMRResult:
    """Multivariable weighted median (``mr_mvmedian``).

    .. math:: \\hat\\theta = \\arg\\min_\\theta \\sum_j \\sigma_{Yj}^{-2}
              |\\beta_{Yj} - B_{Xj}^\\top\\theta|

    (quantreg ``rq(by ~ BX - 1, weights = sy^-2)``, solved exactly). The SE is the
    standard deviation over ``nboot`` parametric bootstrap fits with
    :math:`B_X^* \\sim N(B_X, S_X^2)`, :math:`\\beta_Y^* \\sim N(\\beta_Y, \\sigma_Y^2)`,
    drawn with ``numpy.random.default_rng(seed)`` and solved together (vectorised);
    R's random stream is not reproduced, so SEs agree within Monte-Carlo error.
    Extras: ``nboot``, ``seed``.
    """
    bx, sx, byv, syv = _as_mv(BX, SX, by, sy, method="mvmr_median", min_extra=1)
    j, k = bx.shape
    require_nboot(nboot, "mvmr_median")
    w = syv**-2.0
    est = l1_fit(bx, byv, w)
    rng = np.random.default_rng(seed)
    chunk = max(1, 4_000_000 // (j * k))
    draws = []
    for start in range(0, nboot, chunk):
        b = min(chunk, nboot - start)
        xb = bx[None] + sx[None] * rng.standard_normal((b, j, k))
        yb = byv[None] + syv[None] * rng.standard_normal((b, j))
        draws.append(l1_fit_batch(xb, yb, w))
    se = np.std(np.concatenate(draws), axis=0, ddof=1)
    return _finish(
        "mvmr_median",
        _names(exposures, k),
        est,
        se,
        j,
        alpha,
        dist,
        j - k,
        {"nboot": nboot, "seed": seed},
    )


def mvmr_lasso(
    BX: ArrayLike,
    SX: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    exposures: Sequence[str] | None = None,
    alpha: float = 0.05,
    orientate: int = 0,
    lam: float | None = None,
    dist: Dist = "normal",
) -> MVMRResult:
    """Multivariable MR-Lasso (``mr_mvlasso``) with post-lasso MVMR-IVW.

    As :func:`mrkit.methods.lasso.lasso` with K exposures (orientation on column
    ``orientate``, 0-based); :math:`\\lambda` by the heterogeneity stopping rule
    unless ``lam`` is given; needs more than K valid variants. ``dist="t"`` uses
    (valid - K) degrees of freedom. Extras: ``valid_snps`` (0-based), ``n_valid``,
    ``lambda``, ``reg_estimate`` (K values), ``reg_intercept``, ``rse``.
    """
    bx, _sx, byv, syv = _as_mv(BX, SX, by, sy, method="mvmr_lasso", min_extra=2)
    j, k = bx.shape
    bxo, byo = _orientated(bx, byv, orientate, "mvmr_lasso")
    fit = (
        select(bxo, byo, syv, lasso_path(bxo, byo, syv))
        if lam is None
        else fit_lambda(bxo, byo, syv, float(lam))
    )
    valid = fit.alpha == 0
    nv = int(valid.sum())
    if nv <= k:
        raise TooFewVariantsError(f"mvmr_lasso post-lasso fit with {k} exposures", k + 1, nv)
    coef, se, sigma = post_lasso(bxo, byo, syv, valid)
    extras = {
        "valid_snps": np.flatnonzero(valid).tolist(),
        "n_valid": nv,
        "lambda": fit.lam,
        "reg_estimate": reg_estimate(bxo, byo, syv, fit.alpha).tolist(),
        "reg_intercept": fit.alpha.tolist(),
        "rse": sigma,
        "orientate": orientate,
    }
    return _finish("mvmr_lasso", _names(exposures, k), coef, se, j, alpha, dist, nv - k, extras)


def conditional_f(BX: ArrayLike, SX: ArrayLike, gencov: float | ArrayLike = 0) -> np.ndarray:
    """Conditional F-statistic per exposure (MVMR ``strength_mvmr``).

    For exposure :math:`k`, :math:`\\hat\\delta` is the OLS fit (no intercept,
    unweighted) of :math:`\\beta_{Xk}` on the other exposures' associations, and

    .. math::

        F_k = \\frac{1}{J}\\sum_j
        \\frac{(\\beta_{Xkj} - B_{X,-k,j}^\\top\\hat\\delta)^2}{\\sigma^2_{kj}}, \\qquad
        \\sigma^2_{kj} = \\sigma_{Xkj}^2 + \\sum_{l\\ne k}\\hat\\delta_l^2\\sigma_{Xlj}^2

    with ``gencov = 0`` (no covariance between the SNP-exposure estimates, e.g.
    non-overlapping exposure samples); otherwise ``gencov`` is a J x K x K array of
    per-variant covariance matrices and :math:`\\sigma^2_{kj} = d^\\top\\Sigma_j d` with
    :math:`d = (-1 \\text{ at } k, \\hat\\delta)`. Divided by J as the MVMR package
    (0.4) does; Sanderson et al. (2021) divide :math:`Q_{X_k}` by J - K + 1.
    """
    q, j = _strength_q(BX, SX, gencov, "conditional_f")
    return q / j


def q_a(
    BX: ArrayLike, SX: ArrayLike, by: ArrayLike, sy: ArrayLike, gencov: float | ArrayLike = 0
) -> dict[str, float]:
    """Sanderson-Windmeijer :math:`Q_A` heterogeneity (pleiotropy) statistic.

    .. math::

        Q_A = \\sum_j \\frac{(\\beta_{Yj} - B_{Xj}^\\top\\hat\\theta)^2}
        {\\sigma_{Yj}^2 + \\sum_k \\hat\\theta_k^2\\sigma_{Xkj}^2}
        \\sim \\chi^2_{J-K-1}

    with :math:`\\hat\\theta` the MVMR-IVW estimate (MVMR ``pleiotropy_mvmr``; with a
    ``gencov`` array the denominator is :math:`\\sigma_{Yj}^2 +
    \\hat\\theta^\\top\\Sigma_j\\hat\\theta`). Returns ``{"q", "q_df", "q_pval"}``.
    """
    bx, sx, byv, syv = _as_mv(BX, SX, by, sy, method="q_a", min_extra=2)
    j, k = bx.shape
    g = _gencov(gencov, j, k)
    theta, _, _ = _wls(bx, byv, syv**-2.0)
    if g is None:
        s2 = syv**2 + (sx**2) @ (theta**2)
    else:
        s2 = syv**2 + np.einsum("k,jkl,l->j", theta, g, theta)
    q = float(np.sum((byv - bx @ theta) ** 2 / s2))
    df = j - k - 1
    return {"q": q, "q_df": df, "q_pval": float(stats.chi2.sf(q, df))}


METHODS: dict[str, Callable[..., MVMRResult]] = {
    "ivw": mvmr_ivw,
    "egger": mvmr_egger,
    "median": mvmr_median,
    "lasso": mvmr_lasso,
    "ivw_robust": mvmr_ivw_robust,
    "multiple": mv_multiple,
}

__all__ = [
    "METHODS",
    "MVMRResult",
    "conditional_f",
    "mv_multiple",
    "mvmr_egger",
    "mvmr_ivw",
    "mvmr_ivw_robust",
    "mvmr_lasso",
    "mvmr_median",
    "q_a",
    "q_strength",
]
