"""IBSS for SuSiE on sufficient statistics, step for step as susieR 0.12.35 ``susie_suff_stat``.

The fit starts from ``alpha = 1/p``, ``mu = mu2 = 0`` and prior variance ``V = 0.2 var(y)``
for every effect, updates the effects in order ``1..L`` (each a single-effect regression
on the residual ``X'y - X'X r_{-l}``), evaluates the ELBO after each sweep and stops when
it gains less than ``tol``. The prior variance of each effect is re-estimated in every
update by maximising the single-effect log likelihood over ``log V`` in ``[-30, 15]`` with
Brent's method (R's ``optim(method = "Brent")``, i.e. ``optimize`` with
``tol = sqrt(.Machine$double.eps)``, :func:`mrkit._core.roptim.r_optimize`), kept at its
previous value if that is no better, and set to 0 when 0 is at least as good. Replaying
the same steps gives R's iteration count and trace, so fits agree to rounding.

References
----------
Wang G, Sarkar A, Carbonetto P, Stephens M (2020). A simple new approach to variable
selection in regression, with application to genetic fine mapping. J R Stat Soc B
82:1273-1300. https://doi.org/10.1111/rssb.12388

Brent RP (1973). Algorithms for Minimization without Derivatives, ch. 5; the ``fmin``
of Forsythe, Malcolm & Moler (1977) that R's ``optimize`` implements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from mrkit._core.roptim import r_optimize
from mrkit.errors import InputError

FloatArray = NDArray[np.float64]
PriorMethod = Literal["optim", "EM", "simple"]

#: R's ``optim`` default ``reltol``, passed to ``optimize`` as its ``tol`` for method Brent.
BRENT_TOL = math.sqrt(np.finfo(float).eps)
#: Bounds of ``log V`` in susieR's ``optimize_prior_variance``.
LOG_V_BOUNDS = (-30.0, 15.0)
_DBL_MAX = float(np.finfo(float).max)


def _lbf(v: float, betahat: FloatArray, shat2: FloatArray) -> FloatArray:
    r"""Per-variable log Bayes factor of the single-effect model with prior variance ``v``.

    .. math:: \log BF_j = \log\phi(\hat b_j; 0, V + s_j^2) - \log\phi(\hat b_j; 0, s_j^2)
              = \tfrac12\log\frac{s_j^2}{V + s_j^2} + \frac{\hat b_j^2}{2}
                \Big(\frac1{s_j^2} - \frac1{V + s_j^2}\Big)

    and 0 where :math:`s_j^2` is infinite (a variable that does not vary).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        tot = v + shat2
        out = 0.5 * np.log(shat2 / tot) + 0.5 * betahat * betahat * (1.0 / shat2 - 1.0 / tot)
    out[np.isinf(shat2)] = 0.0
    return out


class SerLoglik:
    r"""The single-effect log likelihood ratio as a function of ``V`` (susieR's ``loglik``).

    .. math:: \ell(V) = \log\sum_j \pi_j BF_j(V)

    Built once per update so that each of Brent's evaluations is a few vector operations:
    with one :math:`s^2` for every variable (the usual case, all :math:`d_j` equal),
    :math:`\log BF_j = a(V) + c(V) T_j` with :math:`T_j = \hat b_j^2/s^2`,
    :math:`a = \tfrac12\log(s^2/(V+s^2))`, :math:`c = V/(2(V+s^2))`, and the largest
    :math:`T_j` is taken out before exponentiating. Variables with infinite
    :math:`s_j^2` have :math:`\log BF_j = 0`.
    """

    def __init__(self, betahat: FloatArray, shat2: FloatArray, pi: FloatArray) -> None:
        inf = np.isinf(shat2)
        self.pi_flat = float(pi[inf].sum())  # variables whose BF is 1
        keep = ~inf
        b, s2, self.pi = betahat[keep], shat2[keep], pi[keep]
        self.const = s2.size > 0 and bool(np.all(s2 == s2[0]))
        if self.const:
            self.s2 = float(s2[0])
            t2 = b * b / self.s2
            self.tmax = float(t2.max())
            self.dt = t2 - self.tmax
        else:
            self.b2, self.s2v = b * b, s2

    def __call__(self, v: float) -> float:
        r""":math:`\ell(V)`."""
        if self.pi.size == 0:
            return math.log(self.pi_flat)
        if self.const:
            t = v + self.s2
            c = 0.5 * v / t
            m = c * self.tmax + 0.5 * math.log(self.s2 / t)
            w = float(np.dot(np.exp(c * self.dt), self.pi))
        else:
            tot = v + self.s2v
            lbf = 0.5 * np.log(self.s2v / tot) + 0.5 * self.b2 * (1.0 / self.s2v - 1.0 / tot)
            m = float(lbf.max())
            w = float(np.dot(np.exp(lbf - m), self.pi))
        if self.pi_flat > 0:  # the BF = 1 variables join the sum
            if m < 0:
                w, m = w * math.exp(m) + self.pi_flat, 0.0
            else:
                w += self.pi_flat * math.exp(-m)
        return math.log(w) + m


def optimize_prior_variance(
    method: PriorMethod,
    betahat: FloatArray,
    shat2: FloatArray,
    pi: FloatArray,
    v_init: float,
    check_null_threshold: float,
    alpha: FloatArray | None = None,
    post_mean2: FloatArray | None = None,
) -> float:
    """The prior variance of one effect as susieR's ``optimize_prior_variance`` chooses it.

    ``optim``: Brent on ``-loglik(exp(lV))`` over ``lV`` in [-30, 15], rejected if worse than
    ``log(v_init)``; ``EM``: ``sum(alpha mu2)``; ``simple``: ``v_init``. Then 0 if
    ``loglik(0) + check_null_threshold >= loglik(V)``.
    """
    loglik = SerLoglik(betahat, shat2, pi)
    v = v_init
    if method == "optim":

        def neg(lv: float) -> float:
            f = -loglik(math.exp(lv))
            # as R's optimize replaces NA/Inf (r_optimize does too); also for the test below
            return f if math.isfinite(f) else _DBL_MAX

        lv = r_optimize(neg, *LOG_V_BOUNDS, tol=BRENT_TOL)
        lv_old = math.log(v) if v > 0 else -math.inf
        if neg(lv) > neg(lv_old):
            lv = lv_old
        v = math.exp(lv)
    elif method == "EM":
        assert alpha is not None
        assert post_mean2 is not None
        v = float(np.sum(alpha * post_mean2))
    if loglik(0.0) + check_null_threshold >= loglik(v):
        v = 0.0
    return v


@dataclass
class SER:
    """One single-effect regression: posterior over which variable, its moments, the BFs."""

    alpha: FloatArray
    mu: FloatArray
    mu2: FloatArray
    lbf: FloatArray
    lbf_model: float
    V: float


def single_effect_regression(
    xty: FloatArray,
    dxtx: FloatArray,
    v: float,
    sigma2: float,
    pi: FloatArray,
    method: PriorMethod | None,
    check_null_threshold: float,
) -> SER:
    r"""susieR's ``single_effect_regression_ss`` on the residual ``X'r``.

    With :math:`\hat b_j = X_j'r/d_j`, :math:`s_j^2 = \sigma^2/d_j`: alpha is the
    prior-weighted softmax of the log BFs; posterior variance
    :math:`(1/V + d_j/\sigma^2)^{-1}`, mean :math:`\text{var}\cdot X_j'r/\sigma^2`.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        betahat = xty / dxtx
        shat2 = sigma2 / dxtx
    if method is not None and method != "EM":
        v = optimize_prior_variance(method, betahat, shat2, pi, v, check_null_threshold)
    lbf = _lbf(v, betahat, shat2)
    maxlbf = float(lbf.max())
    w = np.exp(lbf - maxlbf) * pi
    wsum = float(w.sum())
    alpha = w / wsum
    # V = 0: 1/V = inf and the posterior variance is 0, as in R
    post_var = 1.0 / (1.0 / v + dxtx / sigma2) if v > 0 else np.zeros_like(dxtx)
    post_mean = post_var * xty / sigma2
    post_mean2 = post_var + post_mean * post_mean
    lbf_model = maxlbf + math.log(wsum)
    if method == "EM":
        v = optimize_prior_variance(
            "EM", betahat, shat2, pi, v, check_null_threshold, alpha, post_mean2
        )
    return SER(alpha, post_mean, post_mean2, lbf, lbf_model, v)


@dataclass(frozen=True)
class IbssFit:
    """The state IBSS ends with (matrices are ``L x p``).

    :class:`~mrkit.coloc.susie.SusieFit` extends it with the names, PIPs and credible sets.
    """

    alpha: FloatArray
    mu: FloatArray
    mu2: FloatArray
    V: FloatArray
    lbf: FloatArray
    lbf_variable: FloatArray
    KL: FloatArray
    sigma2: float
    elbo: FloatArray
    niter: int
    converged: bool


def expected_rss(
    xty: FloatArray,
    d: FloatArray,
    alpha: FloatArray,
    mu: FloatArray,
    mu2: FloatArray,
    xb: FloatArray,
    yty: float,
) -> float:
    r"""Expected residual sum of squares :math:`E\|y - Xb\|^2` (susieR's ``get_ER2_ss``).

    .. math:: y'y - 2\bar b'X'y + \bar b'X'X\bar b - \sum_l B_l'X'XB_l
              + \sum_j d_j \sum_l \alpha_{lj}\mu^{(2)}_{lj}

    with :math:`B_l = \alpha_l\circ\mu_l`, :math:`\bar b = \sum_l B_l`, and ``xb`` the rows
    :math:`X'XB_l` already formed by the updates (so no matrix product is needed here).
    """
    b = alpha * mu
    betabar = b.sum(axis=0)
    return (
        yty
        - 2.0 * float(betabar @ xty)
        + float(betabar @ xb.sum(axis=0))
        - float(np.sum(b * xb))
        + float(d @ (alpha * mu2).sum(axis=0))
    )


def ibss(
    xtx: FloatArray,
    xty: FloatArray,
    yty: float,
    n: float,
    *,
    L: int,
    scaled_prior_variance: float,
    residual_variance: float | None,
    estimate_residual_variance: bool,
    estimate_prior_variance: bool,
    estimate_prior_method: PriorMethod,
    check_null_threshold: float,
    prior_weights: FloatArray,
    max_iter: int,
    tol: float,
    check_prior: bool,
) -> IbssFit:
    r"""Iterate single-effect updates over ``L`` effects until the ELBO gain is below ``tol``.

    ``xtx`` and ``xty`` are already standardised. The ELBO after each sweep is
    :math:`-\tfrac n2\log(2\pi\sigma^2) - E\|y-Xb\|^2/(2\sigma^2) - \sum_l KL_l`, computed
    before any residual-variance update (as susieR does).
    """
    p = xty.size
    L = min(L, p)
    var_y = yty / (n - 1.0)
    sigma2 = var_y if residual_variance is None else float(residual_variance)
    if not sigma2 > 0:
        msg = f"residual variance must be positive, got {sigma2}"
        raise InputError(msg)
    d = np.ascontiguousarray(np.diagonal(xtx))
    alpha = np.full((L, p), 1.0 / p)
    mu = np.zeros((L, p))
    mu2 = np.zeros((L, p))
    V = np.full(L, scaled_prior_variance * var_y)
    lbf = np.full(L, np.nan)
    lbf_variable = np.full((L, p), np.nan)
    KL = np.full(L, np.nan)
    xtxr = np.zeros(p)
    xb = np.zeros((L, p))  # X'X B_l of each effect, as last updated
    method: PriorMethod | None = estimate_prior_method if estimate_prior_variance else None
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (xty / d) / np.sqrt(sigma2 / d)
    zm = float(np.max(np.abs(z[~np.isnan(z)])))
    elbo = [-np.inf]
    converged = False
    niter = 0
    for it in range(1, max_iter + 1):
        niter = it
        for l in range(L):  # noqa: E741 (susieR's name for the effect)
            xtxr = xtxr - xb[l]
            xtr = xty - xtxr
            res = single_effect_regression(
                xtr, d, float(V[l]), sigma2, prior_weights, method, check_null_threshold
            )
            alpha[l], mu[l], mu2[l] = res.alpha, res.mu, res.mu2
            V[l], lbf[l], lbf_variable[l] = res.V, res.lbf_model, res.lbf
            eb, eb2 = res.alpha * res.mu, res.alpha * res.mu2
            KL[l] = -res.lbf_model - 0.5 / sigma2 * (-2.0 * float(eb @ xtr) + float(d @ eb2))
            xb[l] = xtx @ eb if eb.any() else 0.0
            xtxr = xtxr + xb[l]
        if check_prior and np.any(100.0 * zm * zm < V):
            msg = (
                "the estimated prior variance is unreasonably large; this is usually caused "
                "by a mismatch between the summary statistics and the LD matrix: check the "
                "LD (same SNPs, same effect alleles) and the sample size"
            )
            raise InputError(msg)
        er2 = expected_rss(xty, d, alpha, mu, mu2, xb, yty)
        elbo.append(-n / 2.0 * math.log(2.0 * math.pi * sigma2) - er2 / (2.0 * sigma2) - KL.sum())
        if not np.isfinite(elbo[-1]):
            msg = "the SuSiE objective became infinite: check the summary statistics and LD"
            raise InputError(msg)
        if elbo[-1] - elbo[-2] < tol:
            converged = True
            break
        if estimate_residual_variance:
            sigma2 = expected_rss(xty, d, alpha, mu, mu2, xb, yty) / n
            if sigma2 < 0:
                msg = "estimating the residual variance failed: the estimate is negative"
                raise InputError(msg)
    return IbssFit(
        alpha=alpha,
        mu=mu,
        mu2=mu2,
        V=V,
        lbf=lbf,
        lbf_variable=lbf_variable,
        KL=KL,
        sigma2=sigma2,
        elbo=np.array(elbo[1:]),
        niter=niter,
        converged=converged,
    )
