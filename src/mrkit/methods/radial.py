"""Radial IVW and radial MR-Egger (RadialMR ``ivw_radial`` / ``egger_radial``).

Radial MR regresses :math:`\\hat\\theta_j\\sqrt{W_j}` on :math:`\\sqrt{W_j}`, where
:math:`\\hat\\theta_j = \\beta_{Yj}/\\beta_{Xj}` is the ratio estimate and :math:`W_j`
its inverse-variance weight:

.. math::

    \\text{first order: } W_j = \\beta_{Xj}^2/\\sigma_{Yj}^2, \\qquad
    \\text{second order: } W_j^{-1} = \\frac{\\sigma_{Yj}^2}{\\beta_{Xj}^2}
      + \\frac{\\beta_{Yj}^2\\sigma_{Xj}^2}{\\beta_{Xj}^4},

modified second order: :math:`W_j^{-1} = (\\sigma_{Yj}^2 + \\hat\\beta^2\\sigma_{Xj}^2)
/\\beta_{Xj}^2` with :math:`\\hat\\beta` the first-order estimate (RadialMR's and
TwoSampleMR's default); *iterative* repeats that update to convergence and *exact*
minimises :math:`Q(\\beta) = \\sum_j W_j(\\beta)(\\hat\\theta_j - \\beta)^2` with
:math:`W_j(\\beta)^{-1} = (\\sigma_{Yj}^2 + \\beta^2\\sigma_{Xj}^2)/\\beta_{Xj}^2`.
Each variant's contribution :math:`Q_j = W_j(\\hat\\theta_j - \\hat\\beta)^2` is tested
against :math:`\\chi^2_1`; variants with :math:`P(\\chi^2_1 > Q_j)` below the threshold
are flagged as outliers.

References
----------
Bowden J, Spiller W, Del Greco M F, et al. (2018). Improving the visualization,
interpretation and analysis of two-sample summary data Mendelian randomization via the
Radial plot and Radial regression. Int J Epidemiol 47:1264-1278. doi:10.1093/ije/dyy101
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, stats

from mrkit._core.arrays import as_arrays, interval, pvalue
from mrkit.errors import InputError
from mrkit.methods import register
from mrkit.methods._ratio import ratio_weights
from mrkit.results import MRResult

RADIAL_DOI = "doi:10.1093/ije/dyy101"
Weights = Literal["first", "second", "modified", "iterative", "exact"]


def _w_at(beta: float, bx, sx, sy) -> np.ndarray:
    return bx**2 / (sy**2 + beta**2 * sx**2)


def _slope(ratio: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """lm(ratio*sqrt(w) ~ -1 + sqrt(w)): slope, fixed-effect SE and residual SE."""
    sw = float(w.sum())
    b = float(np.dot(w, ratio) / sw)
    n = ratio.shape[0]
    rss = float(np.dot(w, (ratio - b) ** 2))
    return b, 1.0 / np.sqrt(sw), float(np.sqrt(rss / (n - 1)))


def _heterogeneity(qj: np.ndarray, df: int, alpha: float, bonferroni: bool) -> dict[str, Any]:
    """Q, its test on ``df`` degrees of freedom, and the outliers by each variant's Q_j.

    A variant is an outlier when its :math:`Q_j` (1 degree of freedom) has
    p < ``alpha`` (``alpha / J`` with ``bonferroni``).
    """
    q = float(qj.sum())
    pj = stats.chi2.sf(qj, 1)
    thr = alpha / qj.shape[0] if bonferroni else alpha
    return {
        "q": q,
        "q_df": df,
        "q_pval": float(stats.chi2.sf(q, df)),
        "qj": qj.tolist(),
        "qj_pval": pj.tolist(),
        "outliers": np.flatnonzero(pj < thr).tolist(),
        "outlier_threshold": thr,
    }


def _radial_weights(weights: str, bx, sx, by, sy, tol: float):
    ratio = by / bx
    w = bx**2 / sy**2
    if weights == "first":
        return w, None
    if weights == "second":
        return ratio_weights(bx, sx, by, sy, "second"), None
    b1 = _slope(ratio, w)[0]
    if weights == "modified":
        return _w_at(b1, bx, sx, sy), None
    if weights == "iterative":
        b = 0.0
        for _ in range(1000):
            w = _w_at(b, bx, sx, sy)
            new = _slope(ratio, w)[0]
            if abs(new - b) < tol:
                return _w_at(new, bx, sx, sy), None
            b = new
        msg = "`ivw_radial`: iterative weights did not converge in 1000 iterations"
        raise InputError(msg)
    if weights == "exact":
        se1 = _slope(ratio, w)[1] * max(1.0, _slope(ratio, w)[2])

        def q(beta: float) -> float:
            return float(np.dot(_w_at(beta, bx, sx, sy), (ratio - beta) ** 2))

        lo, hi = b1 - 10 * se1, b1 + 10 * se1
        res = optimize.minimize_scalar(
            q, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12 * (1 + abs(b1))}
        )
        return _w_at(float(res.x), bx, sx, sy), float(res.x)
    msg = (
        f"`ivw_radial`: unknown weights {weights!r}; use first, second, modified, "
        "iterative or exact"
    )
    raise InputError(msg)


@register(
    "ivw_radial",
    label="IVW radial",
    min_snps=2,
    reference=RADIAL_DOI,
    kernel="pair",
    aliases=("mr_ivw_radial",),
)
def ivw_radial(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    weights: Weights = "modified",
    model: Literal["mre", "fixed", "random"] = "mre",
    outlier_alpha: float = 0.05,
    bonferroni: bool = True,
    tol: float = 1e-12,
) -> MRResult:
    """Radial IVW estimate, Cochran's Q and per-variant outlier flags.

    Parameters
    ----------
    weights
        ``"modified"`` (default; RadialMR ``weights = 3``, as TwoSampleMR
        ``mr_ivw_radial``), ``"first"`` (1), ``"second"`` (2), ``"iterative"``
        (modified weights updated until the estimate moves by less than ``tol``;
        RadialMR's default ``tol`` is 1e-5) or ``"exact"`` (minimises the exact
        :math:`Q(\\beta)`; SE :math:`(\\sum_j W_j)^{-1/2}`, RadialMR's "Exact (FE)",
        found here to full precision rather than with R's ``optimize``).
    model
        SE of the radial regression: ``"mre"`` (default, the ``lm`` SE,
        :math:`\\hat\\phi/\\sqrt{\\sum W_j}`, as RadialMR and TwoSampleMR), ``"fixed"``
        (:math:`1/\\sqrt{\\sum W_j}`; always used for ``"exact"``) or ``"random"``
        (never below fixed).
    outlier_alpha, bonferroni
        A variant is an outlier when :math:`P(\\chi^2_1 > Q_j)` is below
        ``outlier_alpha / J`` (``bonferroni=True``, mrkit's default) or below
        ``outlier_alpha`` (``bonferroni=False``, what RadialMR does with its
        ``alpha``).

    Returns
    -------
    MRResult
        p-value from the normal distribution (as TwoSampleMR). Extras: ``q``,
        ``q_df`` (J - 1), ``q_pval``, ``qj`` and ``qj_pval`` (per variant),
        ``outliers`` (0-based indices), ``outlier_threshold``, ``weights`` (the
        :math:`W_j`), ``rse``, ``mean_f`` (mean of :math:`\\beta_X^2/\\sigma_X^2`).
    """
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method="ivw_radial", min_snps=2)
    ratio = by_ / bx_
    w, b_exact = _radial_weights(weights, bx_, sx_, by_, sy_, tol)
    b, se_fe, sigma = _slope(ratio, w)
    if b_exact is not None:  # the minimiser of Q(beta), not the WLS slope at its weights
        b = b_exact
        sigma = float(np.sqrt(np.dot(w, (ratio - b) ** 2) / (ratio.shape[0] - 1)))
    if weights == "exact" or model == "fixed":
        se = se_fe
    elif model == "mre":
        se = se_fe * sigma
    else:
        se = se_fe * max(1.0, sigma)
    n = bx_.shape[0]
    qj = w * (ratio - b) ** 2
    lo, hi = interval(b, se, alpha)
    extras = {
        **_heterogeneity(qj, n - 1, outlier_alpha, bonferroni),
        "weights": w.tolist(),
        "weighting": weights,
        "rse": sigma,
        "mean_f": float(np.mean(bx_**2 / sx_**2)),
    }
    return MRResult("ivw_radial", b, float(se), lo, hi, float(pvalue(b / se)), n, alpha, extras)


@register(
    "egger_radial",
    label="MR Egger radial",
    min_snps=3,
    reference=RADIAL_DOI,
    kernel="pair",
    aliases=("mr_egger_radial",),
)
def egger_radial(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    weights: Literal["first", "second", "modified"] = "modified",
    dist: Literal["normal", "t"] = "t",
    outlier_alpha: float = 0.05,
    bonferroni: bool = True,
) -> MRResult:
    """Radial MR-Egger: ``lm(theta_j sqrt(W_j) ~ sqrt(W_j))`` with an intercept.

    .. math::

        \\hat\\theta_j\\sqrt{W_j} = \\beta_0 + \\beta_1\\sqrt{W_j} + \\epsilon_j, \\qquad
        Q_j = W_j(\\hat\\theta_j - \\beta_0/\\sqrt{W_j} - \\beta_1)^2

    Parameters
    ----------
    weights
        ``"modified"`` (default, RadialMR 3: second-order weights evaluated at the
        first-order radial Egger slope), ``"first"`` or ``"second"``.
    dist
        ``"t"`` on J - 2 degrees of freedom (default, RadialMR's ``lm`` table) or
        ``"normal"``. SEs are the ``lm`` SEs (residual scale estimated, no floor).
    outlier_alpha, bonferroni
        As :func:`ivw_radial`.

    Returns
    -------
    MRResult
        The slope (causal estimate). Extras: ``egger_intercept``,
        ``egger_intercept_se``, ``egger_intercept_pval``, ``q`` with ``q_df = J - 2``
        and ``q_pval`` (RadialMR prints J - 1 degrees of freedom for the p-value with
        modified weights; mrkit uses J - 2 throughout), ``qj``, ``qj_pval``,
        ``outliers``, ``outlier_threshold``, ``rse``.
    """
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method="egger_radial", min_snps=3)
    ratio = by_ / bx_
    n = bx_.shape[0]

    def fit(w):
        sw = np.sqrt(w)
        x = np.column_stack([np.ones(n), sw])
        yv = ratio * sw
        xtx_inv = np.linalg.inv(x.T @ x)
        coef = xtx_inv @ (x.T @ yv)
        res = yv - x @ coef
        sigma = float(np.sqrt(res @ res / (n - 2)))
        return coef, np.sqrt(np.diag(xtx_inv)) * sigma, sigma

    if weights == "first":
        w = bx_**2 / sy_**2
    elif weights == "second":
        w = ratio_weights(bx_, sx_, by_, sy_, "second")
    elif weights == "modified":
        coef1, _, _ = fit(bx_**2 / sy_**2)
        w = _w_at(float(coef1[1]), bx_, sx_, sy_)
    else:
        msg = f"`egger_radial`: unknown weights {weights!r}; use first, second or modified"
        raise InputError(msg)
    coef, ses, sigma = fit(w)
    b0, b1 = float(coef[0]), float(coef[1])
    se0, se1 = float(ses[0]), float(ses[1])
    qj = w * (ratio - b0 / np.sqrt(w) - b1) ** 2
    df = n - 2
    lo, hi = interval(b1, se1, alpha, dist=dist, df=df)
    extras = {
        "egger_intercept": b0,
        "egger_intercept_se": se0,
        "egger_intercept_pval": float(pvalue(b0 / se0, dist=dist, df=df)),
        **_heterogeneity(qj, df, outlier_alpha, bonferroni),
        "weighting": weights,
        "rse": sigma,
    }
    p = float(pvalue(b1 / se1, dist=dist, df=df))
    return MRResult("egger_radial", b1, se1, lo, hi, p, n, alpha, extras)


__all__ = ["egger_radial", "ivw_radial"]
