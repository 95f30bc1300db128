"""The MR-Lasso solution path shared by :mod:`mrkit.methods.lasso` and :mod:`mrkit.methods.mvmr`.

MendelianRandomization (``mr_lasso``/``mr_mvlasso``) fits, with glmnet, the lasso of
:math:`y = (I - P_b) S^{1/2} \\beta_Y` on :math:`X = (I - P_b) S^{1/2}` without an
intercept, where :math:`S = \\mathrm{diag}(\\sigma_Y^{-2})`, :math:`b = S^{1/2} B_X`
and :math:`P_b` is the projection onto the columns of :math:`b`. The coefficients are
the variant-specific pleiotropic effects :math:`\\alpha_j`. glmnet's conventions are
kept: columns scaled by their standard deviation :math:`x_{s,j}` (glmnet computes it
*centred*, :math:`\\sqrt{\\overline{X_j^2} - \\bar X_j^2}`, even though no intercept is
fitted and the columns are not centred), objective

.. math::

    \\frac{1}{2n}\\lVert y - X\\alpha\\rVert^2 + \\lambda \\sum_j x_{s,j} |\\alpha_j|,

100 values of :math:`\\lambda` log-spaced from :math:`\\lambda_{max} = \\max_j
|x_j^\\top y| / (n x_{s,j})` down to :math:`10^{-4}\\lambda_{max}`, and glmnet's early
end of the path (after the fifth value, when the deviance ratio grows by less than
:math:`10^{-5}` of itself or exceeds 0.999).

Rather than coordinate descent, the problem is solved exactly: since
:math:`\\lVert (I - P_b)\\,v\\rVert^2 = \\min_\\theta \\lVert v - b\\theta\\rVert^2`, the
lasso equals the joint minimisation over :math:`(\\theta, \\alpha)` of
:math:`\\sum_j (\\beta_{Yj} - \\alpha_j - B_{Xj}^\\top\\theta)^2 / (2n\\sigma_{Yj}^2) +
\\lambda\\sum_j x_{s,j}|\\alpha_j|`. For fixed :math:`\\theta` each :math:`\\alpha_j` is a
soft-threshold of the residual at :math:`t_j = n\\lambda x_{s,j}\\sigma_{Yj}^2`, so
:math:`\\theta` minimises a convex Huber loss, found by a semismooth Newton iteration
that ends when the set of unpenalised variants no longer changes (an exact solution).
An :math:`\\alpha_j` whose size is within :data:`ZERO_TOL` (relative) of its threshold
is set to exactly zero, as glmnet's coordinate descent gives it: at
:math:`\\lambda_{max}` the variant that sets it has :math:`|r_j| = t_j` up to
rounding, and a 7e-18 remainder would otherwise count it as invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

NLAMBDA = 100
LAMBDA_MIN_RATIO = 1e-4  # glmnet: nobs >= nvars (here nobs == nvars)
MNLAM = 5
FDEV = 1e-5
DEVMAX = 0.999
#: A pleiotropic effect within this fraction of its threshold is exactly zero.
ZERO_TOL = 1e-10


@dataclass(frozen=True)
class LassoFit:
    """The lasso fit at one lambda: pleiotropic effects and the profile estimate."""

    lam: float
    alpha: np.ndarray
    theta: np.ndarray
    rsq: float


def _design(bx: np.ndarray, sy: np.ndarray, by: np.ndarray):
    n = bx.shape[0]
    d = 1.0 / sy
    b = bx * d[:, None]
    btb_inv = np.linalg.inv(b.T @ b)
    lev = np.einsum("ij,jk,ik->i", b, btb_inv, b)
    # glmnet scales each column by its *centred* standard deviation even without an
    # intercept: mean(x_j^2) - mean(x_j)^2, with column means of (I - P_b) S^(1/2)
    colmean = d * (1.0 - b @ (btb_inv @ b.sum(axis=0))) / n
    xs = np.sqrt(np.clip(d**2 * (1.0 - lev) / n - colmean**2, 0.0, None))
    z = d * by
    resid0 = z - b @ (btb_inv @ (b.T @ z))
    xty = d * resid0
    return xs, xty, float(resid0 @ resid0)


def _huber_theta(bx, by, sy, t, theta0, n):
    """Minimise the Huber profile objective over theta (exact, semismooth Newton)."""
    w = 1.0 / (n * sy**2)

    def objective(theta):
        r = by - bx @ theta
        a = np.abs(r)
        return float(np.sum(w * np.where(a <= t, 0.5 * r * r, t * a - 0.5 * t * t)))

    theta = theta0.copy()
    f = objective(theta)
    for _ in range(500):
        r = by - bx @ theta
        inside = np.abs(r) <= t
        psi = np.clip(r, -t, t)
        grad = -(bx.T @ (w * psi))
        hess = (bx[inside] * w[inside, None]).T @ bx[inside]
        step = np.linalg.lstsq(hess, -grad, rcond=None)[0] if inside.any() else -grad
        slope = float(grad @ step)
        if slope >= 0:  # singular Hessian direction: fall back to gradient descent
            step = -grad
            slope = float(grad @ step)
        s = 1.0
        while True:
            cand = theta + s * step
            fc = objective(cand)
            if fc <= f + 1e-4 * s * slope or s < 1e-12:
                break
            s *= 0.5
        r_new = by - bx @ cand
        same = np.array_equal(np.abs(r_new) <= t, inside)
        moved = float(np.max(np.abs(cand - theta))) if theta.size else 0.0
        theta, f = cand, min(fc, f)
        if (same and s == 1.0) or moved <= 1e-15 * (1.0 + float(np.max(np.abs(theta)))):
            break
    return theta


def fit_at(bx, by, sy, xs, lam, theta0) -> tuple[np.ndarray, np.ndarray]:
    """Exact lasso solution (alpha, theta) at one lambda."""
    n = bx.shape[0]
    t = n * lam * xs * sy**2
    theta = _huber_theta(bx, by, sy, t, theta0, n)
    r = by - bx @ theta
    excess = np.abs(r) - t
    # |r_j| = t_j in exact arithmetic (e.g. the variant that sets lambda_max) can come
    # out a few ulps above t_j: glmnet has an exact zero there, so excesses within
    # rounding of the threshold are zero (else the path starts one lambda too late)
    excess[excess <= ZERO_TOL * np.maximum(t, np.abs(r))] = 0.0
    alpha = np.sign(r) * excess
    return alpha, theta


def _rsq(bx, by, sy, alpha, theta, null_dev):
    res = (by - alpha - bx @ theta) / sy
    return 1.0 - float(res @ res) / null_dev


def lasso_path(bx: np.ndarray, by: np.ndarray, sy: np.ndarray) -> list[LassoFit]:
    """glmnet's default path (decreasing lambda, with its early stop)."""
    n = bx.shape[0]
    xs, xty, null_dev = _design(bx, sy, by)
    ok = xs > 0
    lam_max = float(np.max(np.abs(xty[ok]) / (n * xs[ok])))
    lams = lam_max * LAMBDA_MIN_RATIO ** (np.arange(NLAMBDA) / (NLAMBDA - 1))
    wts = 1.0 / sy**2
    theta = np.linalg.solve((bx * wts[:, None]).T @ bx, (bx * wts[:, None]).T @ by)
    out: list[LassoFit] = []
    rsq_prev = 0.0
    for m, lam in enumerate(lams, start=1):
        alpha, theta = fit_at(bx, by, sy, xs, lam, theta)
        rsq = _rsq(bx, by, sy, alpha, theta, null_dev)
        out.append(LassoFit(float(lam), alpha, theta, rsq))
        if m >= MNLAM and (rsq - rsq_prev < FDEV * rsq or rsq > DEVMAX):
            break
        rsq_prev = rsq
    return out


def fit_lambda(bx, by, sy, lam: float) -> LassoFit:
    """The lasso at a user-given lambda."""
    xs, _, null_dev = _design(bx, sy, by)
    wts = 1.0 / sy**2
    theta0 = np.linalg.solve((bx * wts[:, None]).T @ bx, (bx * wts[:, None]).T @ by)
    alpha, theta = fit_at(bx, by, sy, xs, lam, theta0)
    return LassoFit(float(lam), alpha, theta, _rsq(bx, by, sy, alpha, theta, null_dev))


def _rse_valid(bx, by, sy, valid) -> float:
    k = bx.shape[1]
    nv = int(valid.sum())
    if nv <= k:
        return float("nan")
    xw = bx[valid] / sy[valid, None]
    yw = by[valid] / sy[valid]
    coef = np.linalg.lstsq(xw, yw, rcond=None)[0]
    res = yw - xw @ coef
    return float(np.sqrt(res @ res / (nv - k)))


def select(bx, by, sy, path: list[LassoFit]) -> LassoFit:
    """MendelianRandomization's heterogeneity stopping rule over the path.

    With the path in increasing lambda, choose the last lambda before the residual
    standard error of the IVW fit on the unpenalised variants exceeds 1 and rises by
    more than :math:`\\chi^2_{1,0.95}` divided by their number; never a lambda with
    at most ``K`` unpenalised variants.
    """
    k = bx.shape[1]
    asc = path[::-1]
    rse = np.array([_rse_valid(bx, by, sy, f.alpha == 0) for f in asc])
    nvalid = np.array([int(np.sum(f.alpha == 0)) for f in asc])
    crit = float(stats.chi2.isf(0.05, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        inc = rse[1:] - rse[:-1]
        het = np.flatnonzero((rse[1:] > 1) & (inc > crit / nvalid[1:]))
    pos = int(het[0]) if het.size else len(asc) - 1
    enough = np.flatnonzero(nvalid > k)
    if enough.size and pos < enough[0]:
        pos = int(enough[0])
    return asc[pos]


def post_lasso(bx, by, sy, valid):
    """IVW (multivariable) on the valid variants, SE divided by min(sigma, 1)."""
    k = bx.shape[1]
    nv = int(valid.sum())
    xw = bx[valid] / sy[valid, None]
    yw = by[valid] / sy[valid]
    xtx_inv = np.linalg.inv(xw.T @ xw)
    coef = xtx_inv @ (xw.T @ yw)
    res = yw - xw @ coef
    sigma = float(np.sqrt(res @ res / (nv - k)))
    se = np.sqrt(np.diag(xtx_inv)) * sigma / min(sigma, 1.0)
    return coef, se, sigma


def reg_estimate(bx, by, sy, alpha) -> np.ndarray:
    """``solve(Bx' S Bx, Bx' S (By - alpha))``: the estimate of the lasso fit."""
    w = 1.0 / sy**2
    return np.linalg.solve((bx * w[:, None]).T @ bx, (bx * w[:, None]).T @ (by - alpha))
