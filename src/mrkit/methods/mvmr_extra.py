"""More multivariable estimators: robust MVMR-IVW, TwoSampleMR's ``mv_multiple``, ``Q_strength``.

* :func:`mvmr_ivw_robust`: MendelianRandomization ``mr_mvivw(robust = TRUE)``, the
  MVMR-IVW regression by robustbase's ``lmrob`` MM-estimator
  (:mod:`mrkit.methods._lmrob`).
* :func:`mv_multiple`: TwoSampleMR ``mv_multiple``, the weighted regression of
  :math:`\\beta_Y` on all exposures at once, with or without an intercept, SEs of
  ``lm`` (residual scale not floored), normal p-values.
* :func:`q_strength`: the MVMR package's instrument-strength statistics
  :math:`Q_{X_k}` (``mvmr(...)$Q_strength``).

References
----------
Burgess S, Thompson SG (2015). Am J Epidemiol 181:251-260. doi:10.1093/aje/kwu283;
Sanderson E, Spiller W, Bowden J (2021). Stat Med 40:5434-5452. doi:10.1002/sim.9133
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from mrkit._core.arrays import chi2_sf, norm_sf
from mrkit.methods._lmrob import lmrob
from mrkit.methods._mvmr_core import Dist, MVMRResult, _as_mv, _finish, _names, _strength_q, _wls
from mrkit.methods.robust import ivw_model


def mvmr_ivw_robust(
    BX: ArrayLike,
    SX: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    exposures: Sequence[str] | None = None,
    alpha: float = 0.05,
    model: Literal["default", "random", "fixed"] = "default",
    dist: Dist = "normal",
    seed: int | None = 1,
) -> MVMRResult:
    """Robust MVMR-IVW: ``lmrob(by ~ BX - 1, weights = sy^-2, k.max = 500, maxit.scale = 500)``.

    SEs of ``.vcov.avar1`` divided by :math:`\\min(1, \\hat\\sigma)` (``model``
    random, the default for four or more variants) or by :math:`\\hat\\sigma`
    (fixed), :math:`\\hat\\sigma` the S-scale. With :math:`K \\ge 2` exposures the
    elemental subsets are usually too many to try all, so ``seed`` draws 500 of them
    (R uses its own stream: the reference call set ``set.seed(12345)``); on the
    reference data every seed tried gives R's estimate to 1e-12. ``dist="t"`` uses
    J - K degrees of freedom. Extras: ``rse``, ``q = (J-K)\\hat\\sigma^2``, ``q_df``,
    ``q_pval``, ``model``, ``n_subsamples``, ``exhaustive``, ``seed``.
    """
    bx, _sx, byv, syv = _as_mv(BX, SX, by, sy, method="mvmr_ivw_robust")
    j, k = bx.shape
    model = ivw_model(model, j, "mvmr_ivw_robust")
    f = lmrob(bx, byv, syv**-2.0, seed=seed)
    sigma = f.scale
    se = f.se / (min(sigma, 1.0) if model == "random" else sigma)
    q = (j - k) * sigma**2
    extras: dict[str, object] = {
        "rse": sigma,
        "q": q,
        "q_df": j - k,
        "q_pval": float(chi2_sf(q, j - k)),
        "model": model,
        "n_subsamples": f.n_candidates,
        "exhaustive": f.exhaustive,
        "seed": seed,
    }
    names = _names(exposures, k)
    return _finish("mvmr_ivw_robust", names, f.coef, se, j, alpha, dist, j - k, extras)


def mv_multiple(
    BX: ArrayLike,
    SX: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    exposures: Sequence[str] | None = None,
    alpha: float = 0.05,
    intercept: bool = True,
    instrument_specific: bool = False,
    pval_threshold: float = 5e-8,
) -> MVMRResult:
    """TwoSampleMR ``mv_multiple``: ``lm(by ~ BX, weights = sy^-2)`` (or ``~ 0 + BX``).

    .. math:: \\hat\\theta = \\arg\\min_{\\theta_0, \\theta}
              \\sum_j \\sigma_{Yj}^{-2}(\\beta_{Yj} - \\theta_0 - B_{Xj}^\\top\\theta)^2

    SEs are those of ``lm`` (:math:`\\hat\\sigma` not floored at 1); p-values and
    intervals normal. ``instrument_specific=True`` fits each exposure's effect on
    the variants associated with it (exposure p below ``pval_threshold``, from
    :math:`2\\Phi(-|\\beta_X/\\sigma_X|)`), NaN when they are too few. Extras:
    ``nsnp_by_exposure`` (variants with exposure p below the threshold, TwoSampleMR's
    ``nsnp``), ``intercept`` (the fitted intercept, when one is fitted),
    ``instrument_specific``.
    """
    bx, sx, byv, syv = _as_mv(BX, SX, by, sy, method="mv_multiple", min_extra=1 + intercept)
    j, k = bx.shape
    w = syv**-2.0
    strong = 2.0 * norm_sf(np.abs(bx / sx)) < pval_threshold
    design = np.column_stack([np.ones(j), bx]) if intercept else bx
    off = int(intercept)
    est = np.full(k, np.nan)
    se = np.full(k, np.nan)
    extras: dict[str, object] = {
        "nsnp_by_exposure": strong.sum(axis=0).astype(int).tolist(),
        "instrument_specific": instrument_specific,
    }
    if not instrument_specific:
        coef, se0, sigma = _wls(design, byv, w)
        est, se = coef[off:], se0[off:] * sigma
        if intercept:
            extras["intercept"] = float(coef[0])
    else:
        for i in range(k):
            rows = strong[:, i]
            if rows.sum() > k + off:
                coef, se0, sigma = _wls(design[rows], byv[rows], w[rows])
                est[i], se[i] = coef[off + i], se0[off + i] * sigma
    return _finish("mv_multiple", _names(exposures, k), est, se, j, alpha, "normal", None, extras)


def q_strength(BX: ArrayLike, SX: ArrayLike) -> np.ndarray:
    """Instrument-strength Q statistics per exposure (MVMR ``mvmr(...)$Q_strength``).

    .. math::

        Q_{X_k} = \\sum_j \\frac{(\\beta_{Xkj} - B_{X,-k,j}^\\top\\hat\\delta_k)^2}
        {\\sigma_{Xkj}^2 + \\sum_{l\\ne k}\\hat\\delta_{kl}^2\\sigma_{Xlj}^2},

    :math:`\\hat\\delta_k` the unweighted regression of exposure :math:`k`'s
    associations on the others' (no covariance between the exposure estimates,
    the package's ``gencov = 0``). Equal to J times
    :func:`mrkit.methods.mvmr.conditional_f`.
    """
    return _strength_q(BX, SX, 0, "q_strength")[0]


__all__ = ["mv_multiple", "mvmr_ivw_robust", "q_strength"]
