"""Two-sample maximum-likelihood estimator (uncorrelated variants, no sample overlap).

The model :math:`\\beta_{Xj} \\sim N(\\gamma_j, \\sigma_{Xj}^2)`,
:math:`\\beta_{Yj} \\sim N(\\beta\\gamma_j, \\sigma_{Yj}^2)` has negative
log-likelihood

.. math::

    \\ell(\\gamma, \\beta) = \\tfrac12\\sum_j \\frac{(\\beta_{Xj} - \\gamma_j)^2}{\\sigma_{Xj}^2}
      + \\tfrac12\\sum_j \\frac{(\\beta_{Yj} - \\beta\\gamma_j)^2}{\\sigma_{Yj}^2}.

Profiling out :math:`\\gamma` gives :math:`\\ell_p(\\beta) = \\tfrac12 \\sum_j
(\\beta_{Yj} - \\beta\\beta_{Xj})^2/(\\sigma_{Yj}^2 + \\beta^2\\sigma_{Xj}^2)`, minimised
here to machine precision (Brent on a bracket, then Newton on the score). The SE
is from the inverse observed information of the full likelihood (the
:math:`\\beta` element via the Schur complement), and the heterogeneity statistic
is :math:`Q = 2\\ell_p(\\hat\\beta)` on :math:`J - 1` df.

Difference from R: MendelianRandomization ``mr_maxlik`` and TwoSampleMR
``mr_two_sample_ml`` minimise :math:`\\ell` over all :math:`J + 1` parameters with
``optim``'s Nelder-Mead, which stops before the optimum when there are many
variants (28 lipid variants: 3.2249 instead of the maximum 3.1733, which is also
mr.raps's ``mr.raps.simple`` estimate), and use a finite-difference Hessian.
mrkit returns the actual maximum; it agrees with R where Nelder-Mead converged.

References
----------
Burgess S, Butterworth A, Thompson SG (2013). Genet Epidemiol 37:658-665.
doi:10.1002/gepi.21758
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, stats

from mrkit._core.arrays import FloatArray, as_arrays, interval, pvalue
from mrkit.errors import InputError
from mrkit.methods import register
from mrkit.results import MRResult


def _profile(beta: float, bx: FloatArray, sx: FloatArray, by: FloatArray, sy: FloatArray):
    return 0.5 * float(np.sum((by - beta * bx) ** 2 / (sy**2 + beta**2 * sx**2)))


def _profile_score(beta, bx, sx, by, sy) -> float:
    r = by - beta * bx
    v = sy**2 + beta**2 * sx**2
    return float(np.sum(-r * bx / v - r * r * beta * sx**2 / v**2))


def maxlik_fit(bx: FloatArray, sx: FloatArray, by: FloatArray, sy: FloatArray):
    """``(beta, se_fixed, q)``: the profile maximum-likelihood fit."""
    ivw = float(np.sum(bx * by / sy**2) / np.sum(bx**2 / sy**2))
    ratio = np.abs(by / np.where(bx == 0, np.nan, bx))
    width = max(abs(ivw), float(np.nanmax(ratio)) if np.any(np.isfinite(ratio)) else 1.0, 1e-8)
    lo, hi = -4.0 * width, 4.0 * width
    res = optimize.minimize_scalar(
        _profile, bounds=(lo, hi), args=(bx, sx, by, sy), method="bounded", options={"xatol": 1e-12}
    )
    beta = float(res.x)
    # polish on the score (the profile is smooth): secant/Newton with a bracket if possible
    step = 1e-6 * max(1.0, abs(beta))
    a, b = beta - step, beta + step
    fa, fb = _profile_score(a, bx, sx, by, sy), _profile_score(b, bx, sx, by, sy)
    if np.sign(fa) != np.sign(fb):
        beta = float(
            optimize.brentq(
                _profile_score,
                a,
                b,
                args=(bx, sx, by, sy),
                xtol=1e-300,
                rtol=4 * np.finfo(float).eps,
            )
        )
    s = 1.0 / sy**2
    hgg = 1.0 / sx**2 + beta**2 * s
    g = (bx / sx**2 + beta * by * s) / hgg
    hgb = (2.0 * beta * g - by) * s
    hbb = float(np.sum(g * g * s))
    schur = hbb - float(np.sum(hgb * hgb / hgg))
    if schur <= 0:
        msg = "`maxlik`: the information matrix is not positive definite at the maximum"
        raise InputError(msg)
    return beta, float(1.0 / np.sqrt(schur)), 2.0 * _profile(beta, bx, sx, by, sy)


@register(
    "maxlik",
    label="Maximum likelihood",
    min_snps=2,
    reference="doi:10.1002/gepi.21758",
    kernel="pair",
    aliases=("mr_maxlik",),
)
def maxlik(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    model: Literal["default", "fixed", "random"] = "default",
    dist: Literal["normal", "t"] = "normal",
) -> MRResult:
    """Maximum-likelihood estimate (MendelianRandomization ``mr_maxlik``).

    Parameters
    ----------
    model
        ``"default"`` (MendelianRandomization): fixed for fewer than 4 variants,
        random otherwise. ``"random"`` multiplies the SE by
        :math:`\\max(1, \\sqrt{Q/(J-1)})`. ``"fixed"``: no multiplication
        (TwoSampleMR ``mr_two_sample_ml``).
    dist
        ``"normal"`` or ``"t"`` (:math:`J - 1` df) for p-value and interval.

    Notes
    -----
    Extras: ``q``, ``q_df``, ``q_pval`` (heterogeneity, ``Heter.Stat``), ``rse``
    (:math:`\\sqrt{Q/(J-1)}`) and ``model``. See the module notes for the
    difference from R's Nelder-Mead optimum.
    """
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method="maxlik", min_snps=2)
    n = bx_.shape[0]
    if model not in ("default", "fixed", "random"):
        msg = f"`maxlik`: model must be 'default', 'fixed' or 'random', got {model!r}"
        raise InputError(msg)
    if model == "default":
        model = "fixed" if n < 4 else "random"
    beta, se_fixed, q = maxlik_fit(bx_, sx_, by_, sy_)
    df = n - 1
    rse = float(np.sqrt(q / df))
    se = se_fixed * max(1.0, rse) if model == "random" else se_fixed
    lo, hi = interval(beta, se, alpha, dist=dist, df=df)
    extras = {"q": q, "q_df": df, "q_pval": float(stats.chi2.sf(q, df)), "rse": rse, "model": model}
    return MRResult(
        "maxlik", beta, se, lo, hi, float(pvalue(beta / se, dist=dist, df=df)), n, alpha, extras
    )


__all__ = ["maxlik", "maxlik_fit"]
