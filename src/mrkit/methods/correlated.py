"""IVW, MR-Egger and maximum likelihood with correlated variants (LD matrix).

MendelianRandomization's ``correl = TRUE`` estimators (the package uses them whenever
the ``mr_input`` carries a ``correlation`` matrix). With :math:`\\rho` the signed LD
correlation matrix of the variants (aligned to the effect alleles), the outcome
associations have covariance :math:`\\Omega = (\\sigma_Y\\sigma_Y^\\top)\\circ\\rho` and
the estimators are generalised least squares:

.. math::

    \\hat\\theta_{IVW} = (B_X^\\top\\Omega^{-1}B_X)^{-1}B_X^\\top\\Omega^{-1}B_Y, \\qquad
    \\mathrm{SE}_{FE} = (B_X^\\top\\Omega^{-1}B_X)^{-1/2},

with the residual standard error :math:`\\hat\\phi = \\sqrt{r^\\top\\Omega^{-1}r/(J-p)}`.
The maximum-likelihood method also models the exposure associations,
:math:`B_X \\sim N(\\xi, \\Sigma_X)`, :math:`B_Y \\sim N(\\theta\\xi, \\Sigma_Y)` with
:math:`\\Sigma_X = (\\sigma_X\\sigma_X^\\top)\\circ\\rho`.

References
----------
Burgess S, Dudbridge F, Thompson SG (2016). Combining information on multiple
instrumental variables in Mendelian randomization: comparison of allele score and
summarized data methods. Stat Med 35:1880-1906. doi:10.1002/sim.6835
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, stats

from mrkit._core.arrays import as_arrays, critical, interval, pvalue
from mrkit.errors import InputError
from mrkit.methods import register
from mrkit.results import MRResult

CORREL_DOI = "doi:10.1002/sim.6835"
Model = Literal["default", "random", "fixed"]


def check_rho(rho: ArrayLike | None, n: int, method: str) -> np.ndarray:
    """Validate an LD correlation matrix: n x n, finite, symmetric, unit diagonal, PD."""
    if rho is None:
        msg = (
            f"`{method}` needs `rho`, the {n} x {n} LD correlation matrix of the variants "
            "(signed r, aligned to the effect alleles); e.g. from mrkit.ld.panel"
        )
        raise InputError(msg)
    r = np.asarray(rho, dtype=np.float64)
    if r.shape != (n, n):
        msg = f"`{method}`: `rho` must be {n} x {n} (one row per variant), got {r.shape}"
        raise InputError(msg)
    if not np.all(np.isfinite(r)):
        msg = f"`{method}`: `rho` has non-finite entries"
        raise InputError(msg)
    if not np.allclose(r, r.T, atol=1e-8):
        msg = f"`{method}`: `rho` is not symmetric"
        raise InputError(msg)
    if not np.allclose(np.diag(r), 1.0, atol=1e-8):
        msg = f"`{method}`: `rho` must have a unit diagonal (it is a correlation matrix)"
        raise InputError(msg)
    try:
        np.linalg.cholesky(r)
    except np.linalg.LinAlgError:
        msg = (
            f"`{method}`: `rho` is not positive definite (variants in near-perfect LD?); "
            "prune the variants or regularise the matrix"
        )
        raise InputError(msg) from None
    return r


def _gls(x: np.ndarray, y: np.ndarray, omega: np.ndarray):
    """GLS coefficients, (X' O^-1 X)^-1 and the quadratic form of the residual."""
    oi_x = np.linalg.solve(omega, x)
    v = np.linalg.inv(x.T @ oi_x)
    coef = v @ (oi_x.T @ y)
    res = y - x @ coef
    quad = float(res @ np.linalg.solve(omega, res))
    return coef, v, quad


def _resolve_model(model: str, n: int) -> Literal["random", "fixed"]:
    if model == "default":
        return "fixed" if n < 4 else "random"
    if model not in ("random", "fixed"):
        msg = f"unknown model {model!r}; use default, random or fixed"
        raise InputError(msg)
    return "random" if model == "random" else "fixed"


def _inputs(
    method: str,
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    rho: ArrayLike | None,
    model: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, Literal["random", "fixed"]]:
    """The checked vectors (two variants or more), ``rho`` and the resolved ``model``."""
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method=method, min_snps=2)
    n = bx_.shape[0]
    return bx_, sx_, by_, sy_, check_rho(rho, n, method), _resolve_model(model, n)


def _result(
    method: str,
    est: float,
    se: float,
    q: float,
    rse: float,
    n: int,
    alpha: float,
    dist: Literal["normal", "t"],
    model: str,
    **more: float,
) -> MRResult:
    """Interval, p-value (t on J - 1 df) and heterogeneity extras of a one-slope fit."""
    lo, hi = interval(est, se, alpha, dist=dist, df=n - 1)
    extras = {
        "q": q,
        "q_df": n - 1,
        "q_pval": float(stats.chi2.sf(q, n - 1)),
        "rse": rse,
        **more,
        "model": model,
    }
    p = float(pvalue(est / se, dist=dist, df=n - 1))
    return MRResult(method, est, se, lo, hi, p, n, alpha, extras)


@register(
    "ivw_correl", label="IVW (correlated variants)", min_snps=2, reference=CORREL_DOI, kernel="pair"
)
def ivw_correl(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    rho: ArrayLike | None = None,
    alpha: float = 0.05,
    model: Model = "default",
    dist: Literal["normal", "t"] = "normal",
) -> MRResult:
    """GLS IVW estimate with an LD matrix (MendelianRandomization ``mr_ivw(correl = TRUE)``).

    Parameters
    ----------
    rho
        J x J LD correlation matrix (signed, aligned to the effect alleles).
    model
        ``"default"`` (fixed for fewer than 4 variants, else random, as the package),
        ``"random"`` (SE :math:`\\mathrm{SE}_{FE}\\max(1, \\hat\\phi)`) or ``"fixed"``.
    dist
        ``"normal"`` or ``"t"`` on J - 1 degrees of freedom.

    Returns
    -------
    MRResult
        Extras ``q`` (:math:`(J-1)\\hat\\phi^2`), ``q_df``, ``q_pval``, ``rse``,
        ``fstat`` (:math:`z^\\top\\rho^{-1}z/J` with :math:`z = \\beta_X/\\sigma_X`),
        ``model``.
    """
    bx_, sx_, by_, sy_, r, model = _inputs("ivw_correl", bx, sx, by, sy, rho, model)
    n = bx_.shape[0]
    omega = np.outer(sy_, sy_) * r
    coef, v, quad = _gls(bx_[:, None], by_, omega)
    est = float(coef[0])
    rse = float(np.sqrt(quad / (n - 1)))
    se = float(np.sqrt(v[0, 0])) * (max(rse, 1.0) if model == "random" else 1.0)
    z = bx_ / sx_
    fstat = float(z @ np.linalg.solve(r, z) / n)
    q = (n - 1) * rse**2
    return _result("ivw_correl", est, se, q, rse, n, alpha, dist, model, fstat=fstat)


def _egger_bound(theta, se, rse, alpha, dist, df, upper: bool) -> float:
    """MendelianRandomization ``egger.bounds``: with rse < 1 the wider of normal and t."""
    zn = critical(alpha)
    if dist == "normal":
        return theta + zn * se if upper else theta - zn * se
    zt = critical(alpha, dist="t", df=df)
    if rse < 1:
        if upper:
            return max(theta + zn * se, theta + zt * se * rse)
        return min(theta - zn * se, theta - zt * se * rse)
    return theta + zt * se if upper else theta - zt * se


def _egger_p(stat, rse, dist, df) -> float:
    pn = float(2 * stats.norm.sf(abs(stat)))
    if dist == "normal":
        return pn
    if rse < 1:
        return max(pn, float(2 * stats.t.sf(abs(stat / rse), df)))
    return float(2 * stats.t.sf(abs(stat), df))


@register(
    "egger_correl",
    label="MR Egger (correlated variants)",
    min_snps=3,
    reference=CORREL_DOI,
    kernel="pair",
)
def egger_correl(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    rho: ArrayLike | None = None,
    alpha: float = 0.05,
    dist: Literal["normal", "t"] = "normal",
) -> MRResult:
    """GLS MR-Egger with an LD matrix (MendelianRandomization ``mr_egger(correl = TRUE)``).

    Variants are oriented so that :math:`\\beta_X > 0` (and :math:`\\rho` with them);
    then :math:`(\\beta_0, \\theta)` is the GLS fit of :math:`B_Y` on :math:`[1, B_X]`
    with covariance :math:`\\Omega`, and the SEs are
    :math:`\\sqrt{V}\\max(1, \\hat\\phi)` (multiplicative random effects, never
    below fixed effects) with :math:`V` the GLS variance, which reproduces
    MendelianRandomization 0.10.0's output (the source of older versions divides by
    :math:`\\min(1, \\hat\\phi)` instead).

    Parameters
    ----------
    dist
        ``"normal"`` or ``"t"`` (J - 2 df; with :math:`\\hat\\phi < 1` the package
        takes the wider of the normal and the :math:`\\hat\\phi`-scaled t interval).

    Returns
    -------
    MRResult
        The slope. Extras ``egger_intercept``, ``egger_intercept_se``,
        ``egger_intercept_pval``, ``egger_intercept_ci_lower``/``_upper``, ``q``
        (:math:`(J-2)\\hat\\phi^2`), ``q_df``, ``q_pval``, ``rse``.
    """
    bx_, _sx, by_, sy_ = as_arrays(bx, sx, by, sy, method="egger_correl", min_snps=3)
    n = bx_.shape[0]
    r = check_rho(rho, n, "egger_correl")
    s = np.sign(bx_)
    bxo, byo = np.abs(bx_), by_ * s
    omega = np.outer(sy_, sy_) * r * np.outer(s, s)
    x = np.column_stack([np.ones(n), bxo])
    coef, v, quad = _gls(x, byo, omega)
    df = n - 2
    rse = float(np.sqrt(quad / df))
    ses = np.sqrt(np.diag(v)) * max(1.0, rse)
    b0, b1 = float(coef[0]), float(coef[1])
    se0, se1 = float(ses[0]), float(ses[1])
    q = df * rse**2
    extras = {
        "egger_intercept": b0,
        "egger_intercept_se": se0,
        "egger_intercept_pval": _egger_p(b0 / se0, rse, dist, df),
        "egger_intercept_ci_lower": _egger_bound(b0, se0, rse, alpha, dist, df, False),
        "egger_intercept_ci_upper": _egger_bound(b0, se0, rse, alpha, dist, df, True),
        "q": q,
        "q_df": df,
        "q_pval": float(stats.chi2.sf(q, df)),
        "rse": rse,
    }
    return MRResult(
        "egger_correl",
        b1,
        se1,
        _egger_bound(b1, se1, rse, alpha, dist, df, False),
        _egger_bound(b1, se1, rse, alpha, dist, df, True),
        _egger_p(b1 / se1, rse, dist, df),
        n,
        alpha,
        extras,
    )


def maxlik_fit(bx, by, tau_x, tau_y):
    """Maximise the two-sample likelihood with precision matrices ``tau_x``, ``tau_y``.

    Minimises :math:`f = \\tfrac12(B_X-\\xi)^\\top T_X(B_X-\\xi) +
    \\tfrac12(B_Y-\\theta\\xi)^\\top T_Y(B_Y-\\theta\\xi)`; for fixed :math:`\\theta`,
    :math:`\\xi = (T_X + \\theta^2T_Y)^{-1}(T_X B_X + \\theta T_Y B_Y)`, so :math:`\\theta`
    solves a one-dimensional problem, to full precision. Returns ``(theta, se2, f)``
    with ``se2`` the :math:`\\theta` element of the inverse analytic Hessian over
    :math:`(\\xi, \\theta)`.
    """
    txx, tyy = tau_x @ bx, tau_y @ by

    def xi_of(theta):
        return np.linalg.solve(tau_x + theta**2 * tau_y, txx + theta * tyy)

    def f(theta):
        xi = xi_of(theta)
        dx, dy = bx - xi, by - theta * xi
        return 0.5 * float(dx @ tau_x @ dx) + 0.5 * float(dy @ tau_y @ dy)

    w = np.diag(tau_y)
    t0 = float(np.sum(w * bx * by) / np.sum(w * bx * bx))
    span = 10 * (abs(t0) + 1.0)
    res = optimize.minimize_scalar(f, bracket=(t0 - 0.1 * span, t0, t0 + 0.1 * span), tol=1e-14)
    theta = float(res.x)
    # polish with Newton on the profile derivative (numerical, central differences)
    for _ in range(5):
        h = 1e-6 * (abs(theta) + 1e-3)
        g = (f(theta + h) - f(theta - h)) / (2 * h)
        c = (f(theta + h) - 2 * f(theta) + f(theta - h)) / h**2
        if c <= 0:
            break
        step = g / c
        if f(theta - step) < f(theta):
            theta -= step
        else:
            break
    xi = xi_of(theta)
    n = bx.shape[0]
    hess = np.empty((n + 1, n + 1))
    hess[:n, :n] = tau_x + theta**2 * tau_y
    cross = tau_y @ (2 * theta * xi - by)
    hess[:n, n] = cross
    hess[n, :n] = cross
    hess[n, n] = float(xi @ tau_y @ xi)
    se2 = float(np.linalg.inv(hess)[n, n])
    return theta, se2, f(theta)


@register(
    "maxlik_correl",
    label="Maximum likelihood (correlated variants)",
    min_snps=2,
    reference=CORREL_DOI,
    kernel="pair",
)
def maxlik_correl(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    rho: ArrayLike | None = None,
    alpha: float = 0.05,
    model: Model = "default",
    dist: Literal["normal", "t"] = "normal",
) -> MRResult:
    """Two-sample maximum likelihood with an LD matrix (``mr_maxlik(correl = TRUE)``).

    .. math::

        B_X \\sim N(\\xi, (\\sigma_X\\sigma_X^\\top)\\circ\\rho), \\qquad
        B_Y \\sim N(\\theta\\xi, (\\sigma_Y\\sigma_Y^\\top)\\circ\\rho)

    The SE is from the inverse Hessian of the negative log-likelihood, multiplied
    under ``"random"`` by :math:`\\max(1, \\sqrt{2f/(J-1)})`. MendelianRandomization
    runs Nelder-Mead (``optim``) from the IVW estimate and a numerical Hessian;
    mrkit solves the profile likelihood exactly and uses the analytic Hessian. R's
    optimiser stops early: on the calcium/fasting-glucose example its
    :math:`2f` is larger than mrkit's minimum (1.7276749 vs 1.7276741) and its estimate
    and SE differ from the exact optimum by about 1e-4 relative.

    Returns
    -------
    MRResult
        Extras ``q`` (:math:`2f`, the likelihood-ratio heterogeneity statistic),
        ``q_df``, ``q_pval``, ``rse`` (:math:`\\sqrt{2f/(J-1)}`), ``model``.
    """
    bx_, sx_, by_, sy_, r, model = _inputs("maxlik_correl", bx, sx, by, sy, rho, model)
    n = bx_.shape[0]
    tau_x = np.linalg.inv(np.outer(sx_, sx_) * r)
    tau_y = np.linalg.inv(np.outer(sy_, sy_) * r)
    theta, se2, fval = maxlik_fit(bx_, by_, tau_x, tau_y)
    q = 2 * fval
    scale = max(q / (n - 1), 1.0) if model == "random" else 1.0
    se = float(np.sqrt(se2 * scale))
    rse = float(np.sqrt(q / (n - 1)))
    return _result("maxlik_correl", theta, se, q, rse, n, alpha, dist, model)


__all__ = ["check_rho", "egger_correl", "ivw_correl", "maxlik_correl", "maxlik_fit"]
