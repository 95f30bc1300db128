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

import warnings
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, stats

from mrkit._core.arrays import as_arrays, interval, pvalue
from mrkit._core.roptim import OPTIMIZE_TOL, r_optimize, r_sum
from mrkit.errors import InputError, StatisticalWarning
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


def _q_exact(beta: float, ratio, bx, sx, sy) -> float:
    """RadialMR's ``PL2`` (phi = 1): :math:`Q(\\beta)` with exact weights, summed as R."""
    w = 1.0 / (sy**2 / bx**2 + beta**2 * sx**2 / bx**2)
    return r_sum(w * (ratio - beta) ** 2)


def _exact(bx, sx, by, sy, precise: bool, notes: list[str]) -> float:
    """The minimiser of the exact :math:`Q(\\beta)`.

    RadialMR: ``optimize(PL2, interval = c(-2, 2))`` with R's default tolerance
    (about 1e-4). When that interval does not contain the minimum (RadialMR then
    reports an end of it), and with ``precise``, the search is over the first-order
    estimate plus or minus 10 SEs instead, to full precision with ``precise``.
    """
    ratio = by / bx
    w1 = bx**2 / sy**2
    b1, se1, rse1 = _slope(ratio, w1)
    wide = (b1 - 10 * se1 * max(1.0, rse1), b1 + 10 * se1 * max(1.0, rse1))
    if precise:
        res = optimize.minimize_scalar(
            lambda b: _q_exact(b, ratio, bx, sx, sy),
            bounds=wide,
            method="bounded",
            options={"xatol": 1e-12 * (1 + abs(b1))},
        )
        return float(res.x)
    b = r_optimize(lambda v: _q_exact(v, ratio, bx, sx, sy), -2.0, 2.0)
    if abs(b) > 2.0 - 1e-3:
        notes.append(
            f"RadialMR searches the exact estimate in (-2, 2) and would report {b:.4g}; "
            "the minimum lies outside, so it was searched around the first-order estimate"
        )
        b = r_optimize(lambda v: _q_exact(v, ratio, bx, sx, sy), *wide)
    return b


def _exact_ci(b: float, se: float, df: int, alpha: float, ratio, bx, sx, sy, precise: bool):
    """RadialMR's ``CIfunc`` for the exact (FE) estimate: where :math:`Q(\\beta)` crosses
    :math:`\\chi^2_{df}` at level :math:`2(1 - \\Phi(t_{df,1-\\alpha/2}))`, searched by
    minimising the squared difference on each side of the estimate."""
    z = float(stats.t.isf(alpha / 2, df))
    z2 = 2.0 * float(stats.norm.sf(z))
    target = float(stats.chi2.isf(z2, df))

    def pl3(v: float) -> float:
        return (_q_exact(v, ratio, bx, sx, sy) - target) ** 2

    tol = 1e-12 * (1 + abs(b)) if precise else OPTIMIZE_TOL
    lo = r_optimize(pl3, b - 10 * se, b, tol=tol)
    hi = r_optimize(pl3, b, b + 10 * se, tol=tol)
    return lo, hi


def _radial_weights(weights: str, bx, sx, by, sy, tol: float, precise: bool, notes: list[str]):
    """Weights :math:`W_j`, the exact estimate (or None) and the iterations used."""
    ratio = by / bx
    w = bx**2 / sy**2
    if weights == "first":
        return w, None, 0
    if weights == "second":
        return ratio_weights(bx, sx, by, sy, "second"), None, 0
    b1 = _slope(ratio, w)[0]
    if weights == "modified":
        return _w_at(b1, bx, sx, sy), None, 0
    if weights == "iterative":
        b = 0.0
        step_tol = 1e-15 * (1.0 + abs(b1)) if precise else tol
        for count in range(1, 1001):
            w = _w_at(b, bx, sx, sy)
            new = _slope(ratio, w)[0]
            if abs(new - b) < step_tol:
                # RadialMR reports this fit (weights at the previous estimate);
                # `precise` updates once more so that weights and estimate agree
                return (_w_at(new, bx, sx, sy) if precise else w), None, count
            b = new
        msg = "`ivw_radial`: iterative weights did not converge in 1000 iterations"
        raise InputError(msg)
    if weights == "exact":
        b = _exact(bx, sx, by, sy, precise, notes)
        return _w_at(b, bx, sx, sy), b, 0
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
    tol: float = 1e-5,
    ci_dist: Literal["t", "normal"] = "t",
    precise: bool = False,
) -> MRResult:
    """Radial IVW estimate, Cochran's Q and per-variant outlier flags.

    Parameters
    ----------
    weights
        ``"modified"`` (default; RadialMR ``weights = 3``, as TwoSampleMR
        ``mr_ivw_radial``), ``"first"`` (1), ``"second"`` (2), ``"iterative"``
        (RadialMR's "Iterative": from 0, modified weights at the current estimate
        until the estimate moves by less than ``tol``, default 1e-5 as RadialMR;
        the fit reported is the last one, whose weights are those of the previous
        estimate) or ``"exact"`` (RadialMR's "Exact (FE)": minimises the exact
        :math:`Q(\\beta)` with R's ``optimize`` on (-2, 2) at its default tolerance
        of about 1e-4, so the estimate is RadialMR's to that precision; SE
        :math:`(\\sum_j W_j)^{-1/2}`; interval RadialMR's profile interval where
        :math:`Q(\\beta)` crosses the :math:`\\chi^2_{J-1}` quantile; a minimum
        outside (-2, 2), which RadialMR misses, is searched around the first-order
        estimate, with a warning).
    precise
        Full-precision variants instead of RadialMR's numbers: ``"iterative"``
        iterates to 1e-15 and updates once more (weights and estimate agree);
        ``"exact"`` minimises :math:`Q(\\beta)` and finds the interval ends with
        Brent's search at its limit (about 1e-8 relative, :math:`\\sqrt{\\epsilon}`)
        instead of R's 1e-4. Other weights are unaffected.
    ci_dist
        Interval from ``"t"`` on J - 1 degrees of freedom (default: R's
        ``confint`` of RadialMR's ``lm``) or ``"normal"``. The p-value is normal
        either way, as RadialMR's table and TwoSampleMR. For ``"exact"`` the
        interval is the profile interval above.
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
        :math:`W_j`), ``rse``, ``mean_f`` (mean of :math:`\\beta_X^2/\\sigma_X^2`),
        ``iterations`` (``"iterative"``: RadialMR's "Number of iterations"),
        ``ci_dist``, ``precise`` and ``warnings``.
    """
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method="ivw_radial", min_snps=2)
    if ci_dist not in ("t", "normal"):
        msg = f"`ivw_radial`: ci_dist must be 't' or 'normal', got {ci_dist!r}"
        raise InputError(msg)
    ratio = by_ / bx_
    notes: list[str] = []
    w, b_exact, iterations = _radial_weights(weights, bx_, sx_, by_, sy_, tol, precise, notes)
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
    if b_exact is not None:
        lo, hi = _exact_ci(b, float(se), n - 1, alpha, ratio, bx_, sx_, sy_, precise)
    else:
        lo, hi = interval(b, se, alpha, dist=ci_dist, df=n - 1)
    for note in notes:
        warnings.warn(note, StatisticalWarning, stacklevel=2)
    extras = {
        **_heterogeneity(qj, n - 1, outlier_alpha, bonferroni),
        "weights": w.tolist(),
        "weighting": weights,
        "rse": sigma,
        "mean_f": float(np.mean(bx_**2 / sx_**2)),
        "iterations": iterations,
        "ci_dist": ci_dist,
        "precise": precise,
        "warnings": notes,
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
