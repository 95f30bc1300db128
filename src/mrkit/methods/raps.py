"""MR-RAPS: robust adjusted profile score (Zhao, Wang, Hemani, Bowden, Small 2020).

The profile score for :math:`\\beta` (and the over-dispersion :math:`\\tau^2`)
with standardised residuals

.. math::

    t_j = \\frac{\\beta_{Yj} - \\beta\\beta_{Xj}}{\\sqrt{\\tau^2 + \\sigma_{Yj}^2
          + \\beta^2\\sigma_{Xj}^2}}, \\qquad
    \\hat\\gamma_j = \\frac{\\beta_{Xj}/\\sigma_{Xj}^2 + \\beta\\beta_{Yj}/(\\sigma_{Yj}^2+\\tau^2)}
                          {1/\\sigma_{Xj}^2 + \\beta^2/(\\sigma_{Yj}^2+\\tau^2)},

is made robust by a loss :math:`\\rho` (squared error, Huber with :math:`k = 1.345`
or Tukey's biweight with :math:`k = 4.685`):

.. math::

    \\psi_1 = \\sum_j \\hat\\gamma_j\\,\\rho'(t_j)/\\sqrt{v_j} = 0, \\qquad
    \\psi_2 = \\sum_j \\big(t_j\\rho'(t_j) - \\delta\\big)/v_j = 0,

with :math:`v_j = \\beta^2\\sigma_{Xj}^2 + \\sigma_{Yj}^2 + \\tau^2` and
:math:`\\delta = E[Z\\rho'(Z)]`. Standard errors are the sandwich
:math:`V_2^{-1}V_1V_2^{-T}` of mr.raps, using the constants :math:`c_1 =
E\\rho'(Z)^2`, :math:`c_2 = E Z^2\\rho'(Z)^2 - \\delta^2`, :math:`c_3 =
E Z^2\\rho''(Z)`, computed by adaptive quadrature with R ``integrate()``'s
settings (QUADPACK QAGI, tolerances :math:`\\epsilon^{1/4}`, 100 subdivisions).

``solver="score"`` (default) is mr.raps 0.4.2's ``mr.raps()`` (=
``mr.raps.shrinkage(shrinkage = FALSE)``; TwoSampleMR ``mr_raps``), started from
the first-generation estimate. ``solver="mle"`` is that first-generation
estimator (``mr.raps.mle`` / ``mr.raps.simple``, ``mr.raps.overdispersed``,
``mr.raps.simple.robust``, ``mr.raps.overdispersed.robust``), which maximises the
(robust) profile likelihood and uses the expected-information sandwich.

References
----------
Zhao Q, Wang J, Hemani G, Bowden J, Small DS (2020). Ann Stat 48:1742-1769.
doi:10.1214/19-AOS1866. Reference implementation: R package mr.raps 0.4.2.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from mrkit._core.arrays import FloatArray, as_arrays, interval, pvalue
from mrkit.errors import InputError, StatisticalWarning
from mrkit.methods import register
from mrkit.methods._raps_loss import DEFAULT_K, Loss, loss_constants, psi, psi_deriv, rho
from mrkit.methods._raps_mle import mle_overdispersed, mle_simple
from mrkit.results import MRResult

RAPS_DOI = "doi:10.1214/19-AOS1866"


# ---------------------------------------------------------------- score equations (0.4.2)


def _gamma(bx, sx, by, sy, beta, tau2):
    s = sy**2 + tau2
    den = 1.0 / sx**2 + beta**2 / s
    g = (bx / sx**2 + beta * by / s) / den
    g_beta = (by / s) / den  # as mr.raps: derivative of the numerator only
    g_tau2 = -beta * by / s**2 / den
    return g, g_beta, g_tau2, den


def _score_terms(
    param: FloatArray, bx, sx, by, sy, od: bool, loss: Loss, k: float, delta: float
) -> list[FloatArray]:
    beta = param[0]
    tau2 = param[1] if od else 0.0
    v = beta**2 * sx**2 + sy**2 + tau2
    t = (by - bx * beta) / np.sqrt(v)
    g = _gamma(bx, sx, by, sy, beta, tau2)[0]
    p = psi(t, loss, k)
    terms = [g * p / np.sqrt(v)]
    if od:
        terms.append((t * p - delta) / v)
    return terms


def _score(param: FloatArray, *args) -> FloatArray:
    return np.array([np.sum(term) for term in _score_terms(param, *args)])


def _solve(init: FloatArray, args) -> tuple[FloatArray, bool]:
    """Root of the score equations (MINPACK hybrid, then Levenberg-Marquardt).

    A root is accepted when every equation is zero to 1e-10 of the sum of the
    absolute values of its terms (MINPACK's own flag is unreliable at tight xtol).
    """
    x = init
    for method in ("hybr", "lm"):
        with np.errstate(all="ignore"):
            sol = optimize.root(
                _score,
                init,
                args=args,
                method=method,
                options={"xtol": 1e-14} if method == "hybr" else {},
            )
            x = np.asarray(sol.x, float)
            if not np.all(np.isfinite(x)) or abs(x[0]) > 1e8 * (1.0 + abs(init[0])):
                continue
            terms = _score_terms(x, *args)
        if all(abs(np.sum(t)) <= 1e-10 * max(np.sum(np.abs(t)), 1e-300) for t in terms):
            return x, True
    return x, False


def _raps_score(
    bx,
    sx,
    by,
    sy,
    od: bool,
    loss: Loss,
    k: float,
    num_init: int,
    rng: np.random.Generator,
    notes: list[str],
) -> dict[str, Any]:
    consts = loss_constants(loss, k) if loss != "l2" else loss_constants("l2", k)
    delta, c1, c2, c3 = consts
    if od:
        first = mle_overdispersed(bx, sx, by, sy, loss, k)
        init = np.array([first["beta"], first["tau2"]])
    else:
        init = np.array([mle_simple(bx, sx, by, sy, "l2", k)["beta"]])
    b0 = init[0]
    starts = b0 + np.concatenate([[0.0], 2.0 * b0 * rng.standard_normal(num_init - 1)])
    roots: list[FloatArray | None] = []
    args = (bx, sx, by, sy, od, loss, k, delta)
    limit = float(np.median(sy)) * 10.0
    for b in starts:
        x0 = init.copy()
        x0[0] = b
        x, ok = _solve(x0, args)
        if not ok or (od and x[1] > limit):
            roots.append(None)
        else:
            roots.append(x)
    betas = np.array([np.nan if r is None else r[0] for r in roots])
    if np.all(np.isnan(betas)):
        if od:
            notes.append("mr.raps: no solution with finite over-dispersion; using tau2 = 0")
            return _raps_score(bx, sx, by, sy, False, loss, k, num_init, rng, notes)
        msg = "`raps`: the estimating equations have no solution near the initial estimate"
        raise InputError(msg)
    j = int(np.nanargmin(np.abs(betas - b0)))
    bj = betas[j]
    for bi in betas:
        if np.isfinite(bi) and abs(bi - bj) > 1e-4 and abs(bi - b0) < 100 * abs(bj - b0):
            notes.append(
                f"mr.raps: the estimating equations might have another finite root: closest "
                f"beta = {bj:.6g}, other beta = {bi:.6g}, initialisation {b0:.6g}"
            )
    root = roots[j]
    assert root is not None
    if od and root[1] < 0:
        notes.append("mr.raps: estimated over-dispersion is negative; using tau2 = 0")
        return _raps_score(bx, sx, by, sy, False, loss, k, num_init, rng, notes)
    beta = float(root[0])
    tau2 = float(root[1]) if od else 0.0
    v = beta**2 * sx**2 + sy**2 + tau2
    t = (by - bx * beta) / np.sqrt(v)
    g, g_beta, g_tau2, den = _gamma(bx, sx, by, sy, beta, tau2)
    p = psi(t, loss, k)
    a = float(np.sum((g_beta * p + g * delta * (-bx) / np.sqrt(v)) / np.sqrt(v)))
    v1_beta = c1 * float(np.sum(g**2 / v))
    if not od:
        beta_se, tau2_se = float(np.sqrt(v1_beta / a**2)), 0.0
    else:
        v1 = np.diag([v1_beta, c2 * float(np.sum(1.0 / v**2))])
        v2 = np.array(
            [
                [a, float(np.sum(g_tau2 * p / np.sqrt(v)))],
                [0.0, (delta + c3) / 2.0 * float(np.sum(1.0 / v**2))],
            ]
        )
        inv = np.linalg.inv(v2)
        cov = inv @ v1 @ inv.T
        beta_se, tau2_se = float(np.sqrt(cov[0, 0])), float(np.sqrt(cov[1, 1]))
    z = g / np.sqrt(1.0 / den)
    return {
        "beta": beta,
        "tau2": tau2,
        "beta_se": beta_se,
        "tau2_se": tau2_se,
        "std_resid": (t * np.sign(z)).tolist(),
        "gamma_hat_z": np.abs(z).tolist(),
        "over_dispersion": od,
    }


@register(
    "raps",
    label="Robust adjusted profile score (RAPS)",
    min_snps=3,
    reference=RAPS_DOI,
    kernel="pair",
    aliases=("mr_raps", "mr.raps"),
)
def raps(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    loss: Loss = "huber",
    over_dispersion: bool = True,
    k: float | None = None,
    solver: Literal["score", "mle"] = "score",
    num_init: int = 10,
    seed: int | None = 1,
) -> MRResult:
    """MR-RAPS estimate; by default mr.raps 0.4.2 ``mr.raps()`` / TwoSampleMR ``mr_raps``.

    Parameters
    ----------
    loss
        ``"huber"`` (default, :math:`k = 1.345`), ``"tukey"`` (:math:`k = 4.685`)
        or ``"l2"``.
    over_dispersion
        Model the pleiotropic variance :math:`\\tau^2` (default true, as mr.raps
        0.4.2 and TwoSampleMR; the old CRAN ``mr.raps`` defaulted to false).
    k
        Tuning constant of the robust loss; default as mr.raps.
    solver
        ``"score"`` (default): solve the profile-score equations from the
        first-generation estimate (mr.raps 0.4.2 ``mr.raps.shrinkage`` without
        shrinkage). ``"mle"``: the first-generation estimators
        (``mr.raps.mle``).
    num_init, seed
        As mr.raps, the equations are also solved from ``num_init - 1`` random
        starting points :math:`\\hat\\beta_0(1 + 2Z)` only to find the root closest
        to :math:`\\hat\\beta_0` and to warn about other roots; the estimate does
        not depend on the seed unless the equations have several roots.

    Notes
    -----
    p-value and interval from the normal distribution (TwoSampleMR ``mr_raps``).
    Extras: ``tau2``, ``tau2_se``, ``over_dispersion`` (false when mr.raps falls
    back to :math:`\\tau^2 = 0`), ``loss``, ``k``, ``solver``, ``std_resid`` and
    ``gamma_hat_z`` (score solver; mr.raps's ``t`` and ``gamma.hat.z``),
    ``naive_se`` and ``chi_sq_test`` (``solver="mle"`` without over-dispersion:
    mr.raps's ``naive.se``, the SE from the inverse information alone, and
    ``chi.sq.test``, the sum of squared standardised residuals), and
    ``warnings``. The over-dispersed first-generation fit bounds :math:`\\tau^2`
    by :math:`100\\,q_{0.95}(\\sigma_{Y}^2)`, as mr.raps. A fit whose estimate
    runs off to infinity (possible with Tukey's bounded loss) raises
    :class:`~mrkit.errors.InputError`, which the engine reports as skipped.

    .. warning:: The first-generation *robust over-dispersed* fit
       (``solver="mle"``, Huber/Tukey, ``over_dispersion=True``) is not at parity
       with ``mr.raps.overdispersed.robust``: it solves the :math:`\\tau^2` equation
       to machine precision (R's ``uniroot`` stops at :math:`10^{-4}` of its
       bracket) and maximises over :math:`\\beta` on the whole bracket (R runs
       ``L-BFGS-B`` from the previous estimate, a local search), so where the
       robust profile has several maxima the two differ by far more than
       rounding (BMI -> SBP, Huber: 0.400 here, 0.920 in R). The default solver
       and the other first-generation fits agree with R.
    """
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method="raps", min_snps=3)
    if loss not in DEFAULT_K:
        msg = f"`raps`: loss must be 'l2', 'huber' or 'tukey', got {loss!r}"
        raise InputError(msg)
    if solver not in ("score", "mle"):
        msg = f"`raps`: solver must be 'score' or 'mle', got {solver!r}"
        raise InputError(msg)
    if num_init < 1:
        msg = f"`raps`: num_init must be >= 1, got {num_init}"
        raise InputError(msg)
    kk = float(DEFAULT_K[loss] if k is None else k)
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StatisticalWarning)
        if solver == "score":
            fit = _raps_score(
                bx_,
                sx_,
                by_,
                sy_,
                over_dispersion,
                loss,
                kk,
                num_init,
                np.random.default_rng(seed),
                notes,
            )
        elif over_dispersion:
            fit = mle_overdispersed(bx_, sx_, by_, sy_, loss, kk)
        else:
            fit = mle_simple(bx_, sx_, by_, sy_, loss, kk)
    notes.extend(str(w.message) for w in caught)
    if over_dispersion and fit["tau2"] <= float(np.min(sy_**2)) / 5.0:
        notes.append(
            "mr.raps: the estimated over-dispersion is very small; consider the "
            "model without over-dispersion"
        )
    for note in notes:
        warnings.warn(note, StatisticalWarning, stacklevel=2)
    b, se = fit["beta"], fit["beta_se"]
    lo, hi = interval(b, se, alpha)
    extras: dict[str, Any] = {
        "tau2": fit["tau2"],
        "tau2_se": fit["tau2_se"],
        "over_dispersion": bool(fit.get("over_dispersion", over_dispersion)),
        "loss": loss,
        "k": kk,
        "solver": solver,
    }
    for key in ("naive_se", "chi_sq_test", "std_resid", "gamma_hat_z"):
        if key in fit:
            extras[key] = fit[key]
    extras["warnings"] = notes
    return MRResult("raps", b, se, lo, hi, float(pvalue(b / se)), bx_.shape[0], alpha, extras)


__all__ = ["loss_constants", "psi", "psi_deriv", "raps", "rho"]
