"""MR-RAPS, first generation: the (robust) profile-likelihood estimators of mr.raps.

``mr.raps.simple``, ``mr.raps.simple.robust``, ``mr.raps.overdispersed`` and
``mr.raps.overdispersed.robust`` (``mr.raps.mle``), with their expected-information
sandwich SEs. :func:`mrkit.methods.raps.raps` uses them as ``solver="mle"`` and to
start the score equations of the default solver. The one-dimensional searches are
R's ``optimize`` (Brent, tolerance :math:`\\sqrt{\\epsilon}`); the robust
:math:`\\tau^2` equation is solved to machine precision (R's ``uniroot`` stops at
:math:`10^{-4}` of its bracket).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import optimize

from mrkit._core.arrays import FloatArray
from mrkit.errors import InputError, StatisticalWarning
from mrkit.methods._raps_loss import Loss, loss_constants, psi, rho

__all__ = ["mle_overdispersed", "mle_simple"]

_EPS = np.finfo(float).eps
_OPT_TOL = _EPS**0.5


def _quantile95(x: FloatArray) -> float:
    return float(np.quantile(x, 0.95))  # R's default type 7


def _maximise(f, lo: float, hi: float) -> float:
    """R ``optimize(f, c(lo, hi), maximum = TRUE, tol = sqrt(eps))`` (Brent)."""
    res = optimize.minimize_scalar(
        lambda b: -f(b),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": _OPT_TOL, "maxiter": 1000},
    )
    return float(res.x)


#: Doublings of the search interval for beta before the fit is declared divergent.
MAX_DOUBLINGS = 60


def _maximise_beta(f, bound: float) -> float:
    """Maximise over [-bound, bound], doubling the bound while the maximum is at its edge.

    mr.raps doubles without end (or 21 times, then carries on with a warning);
    here, a maximum still at the edge after :data:`MAX_DOUBLINGS` doublings
    (|beta| ~ 1e18 times the ratio estimates) means the objective keeps rising
    towards infinity (Tukey's bounded loss does when most variants are outliers
    at every finite beta), and raises :class:`~mrkit.errors.InputError`, so the
    engine reports the method as skipped rather than returning beta = 1e19.
    """
    start = bound
    beta = _maximise(f, -bound, bound)
    for _ in range(MAX_DOUBLINGS):
        if abs(beta) <= 0.95 * bound:
            return beta
        bound *= 2.0
        beta = _maximise(f, -bound, bound)
    if abs(beta) <= 0.95 * bound and np.isfinite(beta):
        return beta
    msg = (
        f"`raps`: the fit diverges: the objective still increases at |beta| = {abs(beta):.3g} "
        f"after widening the search {MAX_DOUBLINGS} times from +-{start:.3g}; the loss "
        "(Tukey's biweight is bounded) finds no finite maximum on these data: use "
        "loss='huber' or 'l2'"
    )
    raise InputError(msg)


def mle_simple(bx, sx, by, sy, loss: Loss, k: float) -> dict[str, float]:
    """``mr.raps.simple`` (l2) or ``mr.raps.simple.robust`` (huber/tukey).

    Besides the sandwich SE also mr.raps's ``naive.se`` :math:`I^{-1/2}` (the
    inverse information alone, :math:`I = \\delta\\sum_j [(\\beta_{Xj}^2 -
    \\sigma_{Xj}^2)\\sigma_{Yj}^2 + (\\beta_{Yj}^2 - \\sigma_{Yj}^2)\\sigma_{Xj}^2] /
    (\\sigma_{Yj}^2 + \\hat\\beta^2\\sigma_{Xj}^2)^2`, :math:`\\delta = 1` for l2) and
    ``chi.sq.test`` :math:`\\sum_j t_j^2`, the sum of the squared standardised
    residuals :math:`t_j = (\\beta_{Yj} - \\hat\\beta\\beta_{Xj}) / (\\sigma_{Yj}^2 +
    \\hat\\beta^2\\sigma_{Xj}^2)^{1/2}` (a heterogeneity statistic, about
    :math:`\\chi^2_{J-1}` without pleiotropy).
    """

    def objective(b: float) -> float:
        t = (by - bx * b) / np.sqrt(sy**2 + sx**2 * b**2)
        if loss == "l2":
            return float(-0.5 * np.sum(t * t))
        return float(-np.sum(rho(t, loss, k)))

    beta = _maximise_beta(objective, _quantile95(np.abs(by / bx)) * 2.0)
    den = (sy**2 + beta**2 * sx**2) ** 2
    core = (bx**2 - sx**2) * sy**2 + (by**2 - sy**2) * sx**2
    score_var = float(np.sum((core + sx**2 * sy**2) / den))
    info = float(np.sum(core / den))
    if loss != "l2":
        delta, c1, _, _ = loss_constants(loss, k)
        score_var *= c1
        info *= delta
    t = (by - beta * bx) / np.sqrt(sy**2 + beta**2 * sx**2)
    return {
        "beta": beta,
        "tau2": 0.0,
        "beta_se": float(np.sqrt(score_var / info**2)),
        "tau2_se": 0.0,
        "naive_se": float(np.sqrt(1.0 / info)),
        "chi_sq_test": float(np.sum(t * t)),
    }


def _od_sandwich(bx, sx, by, sy, beta, tau2, consts) -> tuple[float, float]:
    delta, c1, c2, c3 = consts
    s = tau2 + sy**2
    den = (s + sx**2 * beta**2) ** 2
    core = (bx**2 - sx**2) * s + (by**2 - tau2 - sy**2) * sx**2
    score_var = np.diag([c1 * np.sum((core + sx**2 * s) / den), c2 / 2 * np.sum(2 * sx**4 / den)])
    info = np.array(
        [
            [-delta * np.sum(core / den), -delta * np.sum(sx**2 * beta / den)],
            [0.0, -(delta + c3) / 2 * np.sum(sx**2 / den)],
        ]
    )
    inv = np.linalg.inv(info)
    v = inv @ score_var @ inv.T
    return float(np.sqrt(v[0, 0])), float(np.sqrt(v[1, 1]))


def mle_overdispersed(bx, sx, by, sy, loss: Loss, k: float, niter: int = 20) -> dict[str, float]:
    """``mr.raps.overdispersed`` (l2) or ``mr.raps.overdispersed.robust``."""
    bound_beta = _quantile95(np.abs(by / bx)) * 10.0
    bound_tau2 = _quantile95(sy**2) * 100.0  # mr.raps 0.4.2 (both l2 and robust)
    if loss == "l2":
        beta = mle_simple(bx, sx, by, sy, "l2", k)["beta"]
        tau2 = 0.0
        consts = (1.0, 1.0, 2.0, 1.0)
    else:
        init = mle_overdispersed(bx, sx, by, sy, "l2", k, niter)
        beta, tau2 = init["beta"], init["tau2"]
        consts = loss_constants(loss, k)
    delta = consts[0]
    for _ in range(niter):
        beta_old, tau2_old = beta, tau2
        if loss == "l2":

            def ll_tau(t2: float, b: float = beta) -> float:
                v = t2 + sy**2 + sx**2 * b**2
                return float(
                    -0.5 * np.sum(sx**2 * np.log(v)) - 0.5 * np.sum(sx**2 * (by - bx * b) ** 2 / v)
                )

            tau2 = _maximise(ll_tau, 0.0, bound_tau2)
        else:

            def est_eq(t2: float, b: float = beta) -> float:
                v = t2 + sy**2 + sx**2 * b**2
                t = (by - b * bx) / np.sqrt(v)
                return float(np.sum(sx**2 * (t * psi(t, loss, k) - delta) / v))

            tau2 = _root_tau2(est_eq, bound_tau2)
        if tau2 > 0.95 * bound_tau2:
            warnings.warn(
                "mr.raps: estimated over-dispersion seems abnormally large",
                StatisticalWarning,
                stacklevel=3,
            )

        def ll_beta(b: float, t2: float = tau2) -> float:
            t = (by - bx * b) / np.sqrt(t2 + sy**2 + sx**2 * b**2)
            if loss == "l2":
                return float(-0.5 * np.sum(t * t))
            return float(-0.5 * np.sum(rho(t, loss, k)))

        beta = _maximise_beta(ll_beta, bound_beta)
        change = abs(beta_old - beta) / abs(beta + 1e-10) + abs(tau2_old - tau2) / abs(tau2 + 1e-10)
        if change <= _OPT_TOL:
            break
    beta_se, tau2_se = _od_sandwich(bx, sx, by, sy, beta, tau2, consts)
    return {"beta": beta, "tau2": tau2, "beta_se": beta_se, "tau2_se": tau2_se}


def _root_tau2(f, bound: float) -> float:
    """Root of the robust tau2 equation on [0, bound], extending upwards; 0 if none."""
    lo, hi = 0.0, bound
    flo, fhi = f(lo), f(hi)
    for _ in range(60):
        if np.sign(flo) != np.sign(fhi):
            break
        hi *= 2.0
        fhi = f(hi)
    else:
        return 0.0
    if flo == 0.0:
        return 0.0
    root = optimize.brentq(f, lo, hi, xtol=1e-300, rtol=4 * _EPS, maxiter=500)
    return max(float(root), 0.0)
