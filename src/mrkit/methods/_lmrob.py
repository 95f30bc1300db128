"""robustbase's ``lmrob`` MM-estimator of linear regression, with its default control.

A port of the algorithm of robustbase 0.95-0 (``lmrob``, ``lmrob.S``,
``lmrob..M..fit``, ``.vcov.avar1`` and the C routines ``fast_s``,
``refine_fast_s``, ``find_scale`` and ``rwls``), as MendelianRandomization calls it
(``lmrob(y ~ x, weights = w, k.max = 500, maxit.scale = 500)``):

1. **S-estimate** with Tukey's bisquare :math:`\\rho` (``tuning.chi`` :math:`c_0 =
   1.54764`, :math:`b = 1/2`). Each elemental candidate (an exact fit through
   :math:`p` observations) gets one IRWLS step from its MAD scale; the ``best_r = 2``
   candidates of smallest M-scale :math:`s`, the root of
   :math:`\\frac{1}{n-p}\\sum_i \\rho(r_i/s) = b`, are refined to convergence
   (``refine.tol`` 1e-7, ``k.max`` steps); the one of smaller scale is the S-estimate.
2. **M-step**: IRWLS with the bisquare :math:`\\psi` (``tuning.psi`` :math:`c_1 =
   4.685061`) at the fixed S-scale, to relative L1 change 1e-7 (``max.it`` 50).
3. **Covariance** ``.vcov.avar1``: the asymptotic covariance of the MM-estimate
   accounting for the S-scale (Croux, Dhaene and Hoorelbeke 2003), eigenvalues
   below zero set to zero and the diagonal restored (``posdefify``).

Weights enter as in ``lmrob``: rows with weight 0 are dropped, the others are
multiplied by :math:`\\sqrt{w_i}`.

Candidates. R draws ``nResample = 500`` random subsamples with R's own random
stream (``GetRNGstate``; ``lmrob.control(seed = NULL)`` continues the session's
stream), which cannot be reproduced here. mrkit instead evaluates *every*
elemental subset when there are few enough (:math:`\\binom{n}{p} n \\le`
``max_work``; always for the univariable IVW, :math:`p = 1`) and refines the best
one, which is the limit of R's search as the number of draws grows (R keeps the
two best *draws*; once the best subset is drawn twice it fills both) and makes the
result deterministic;
otherwise it draws ``n_resample`` subsets with ``numpy.random.default_rng(seed)``.
The final MM-estimate depends on the start only through which local minimum of the
S-objective the best candidates reach; on the reference datasets every start
reaches the same one (tests/methods/test_robust.py).

One R detail is kept for parity: the S residuals that ``.vcov.avar1`` uses are
those left by the *last* refined candidate, one iteration before its
convergence (they equal the best candidate's to the refinement tolerance when
both reach the same minimum).

References
----------
Yohai VJ (1987). Ann Stat 15:642-656. doi:10.1214/aos/1176350366;
Salibian-Barrera M, Yohai VJ (2006). J Comput Graph Stat 15:414-427.
doi:10.1198/106186006X113629; Koller M, Stahel WA (2011). Comput Stat Data Anal
55:2504-2515. doi:10.1016/j.csda.2011.02.014
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np
from numpy.typing import ArrayLike

from mrkit._core.arrays import FloatArray
from mrkit.errors import InputError, MrkitError

#: Bisquare tuning constants of ``lmrob.control()`` (S: 50% breakdown; M: 95% efficiency).
C_CHI = 1.54764
C_PSI = 4.685061
BB = 0.5
#: Residuals below this count as exact zeros (robustbase's ``EPS_SCALE``).
EPS_SCALE = 1e-10


def rho(u: FloatArray, c: float) -> FloatArray:
    """Bisquare :math:`\\tilde\\rho(u) = 1 - (1 - (u/c)^2)^3` for :math:`|u| \\le c`, else 1."""
    t = np.minimum((u / c) ** 2, 1.0)
    return t * (3.0 + t * (-3.0 + t))


def wgt(u: FloatArray, c: float) -> FloatArray:
    """Bisquare weight :math:`\\psi(u)/u = (1 - (u/c)^2)^2` for :math:`|u| \\le c`, else 0."""
    a = u / c
    return np.where(np.abs(u) > c, 0.0, ((1.0 - a) * (1.0 + a)) ** 2)


def psi(u: FloatArray, c: float) -> FloatArray:
    """Bisquare :math:`\\psi(u) = u (1 - (u/c)^2)^2` (:math:`\\psi'(0) = 1`)."""
    return u * wgt(u, c)


def psi_prime(u: FloatArray, c: float) -> FloatArray:
    """:math:`\\psi'(u) = (1 - (u/c)^2)(1 - 5(u/c)^2)` for :math:`|u| \\le c`, else 0."""
    x2 = (u / c) ** 2
    return np.where(np.abs(u) > c, 0.0, (1.0 - x2) * (1.0 - 5.0 * x2))


@dataclass(frozen=True)
class LmrobFit:
    """The MM-estimate as ``summary(lmrob(...))`` reports it.

    Attributes
    ----------
    coef, se
        Coefficients and ``sqrt(diag(cov))``.
    cov
        ``.vcov.avar1`` covariance matrix.
    scale
        The S-scale (``summary(...)$sigma``).
    resid, rweights
        Final residuals (unweighted scale) and robustness weights of the rows used.
    n_candidates
        Elemental subsets evaluated; ``exhaustive`` when that was all of them.
    """

    coef: FloatArray
    se: FloatArray
    cov: FloatArray
    scale: float
    resid: FloatArray
    rweights: FloatArray
    n_candidates: int
    exhaustive: bool


def _wls(x: FloatArray, y: FloatArray, w: FloatArray) -> FloatArray:
    """Weighted least squares by QR (LAPACK ``dgels`` in R)."""
    sw = np.sqrt(w)
    xw = x * sw[:, None]
    if np.linalg.matrix_rank(xw) < x.shape[1]:
        msg = (
            "robust regression: the design with the bisquare weights is not of full rank "
            "(too few observations keep a non-zero weight)"
        )
        raise MrkitError(msg)
    return np.asarray(np.linalg.lstsq(xw, y * sw, rcond=None)[0], dtype=np.float64)


def _wls_batch(x: FloatArray, y: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """WLS of ``y`` on ``x`` for each row of weights ``w`` (K x n): (coef K x p, ok K)."""
    xtwx = np.einsum("ki,ij,il->kjl", w, x, x)
    xtwy = np.einsum("ki,ij,i->kj", w, x, y)
    det = np.linalg.det(xtwx)
    scale = np.prod(np.diagonal(xtwx, axis1=1, axis2=2), axis=1)
    ok = np.abs(det) > 1e-12 * np.abs(scale)
    coef = np.full((w.shape[0], x.shape[1]), np.nan)
    if ok.any():
        coef[ok] = np.linalg.solve(xtwx[ok], xtwy[ok][..., None])[..., 0]
    return coef, ok


def _mscale(r: FloatArray, s0: FloatArray, p: int, maxit: int, tol: float) -> FloatArray:
    """M-scale of each row of ``r`` by robustbase's ``find_scale`` fixed-point iteration."""
    n = r.shape[1]
    s = s0.copy()
    todo = np.flatnonzero(s > 0)
    for _ in range(maxit):
        if todo.size == 0:
            break
        cur = s[todo]
        new = cur * np.sqrt(rho(r[todo] / cur[:, None], C_CHI).sum(axis=1) / (n - p) / BB)
        s[todo] = new
        todo = todo[np.abs(new - cur) > tol * cur]
    return s


def _best_scales(res: FloatArray, s1: FloatArray, p: int, best_r: int, maxit: int) -> FloatArray:
    """M-scales of the rows of ``res`` that can be among the ``best_r`` smallest (others inf).

    As R's ``fast_s`` computes a candidate's scale only when
    :math:`\\frac{1}{n-p}\\sum\\rho(r_i/s_w) < b` for the worst retained scale
    :math:`s_w`: exact scales of a few promising rows give a threshold, and only the
    rows passing that test (their scale is below it) are solved.
    """
    n = res.shape[1]
    out = np.full(res.shape[0], np.inf)
    approx = s1 * np.sqrt(rho(res / s1[:, None], C_CHI).sum(axis=1) / (n - p) / BB)
    first = np.argsort(approx, kind="stable")[: best_r + 4]
    out[first] = _mscale(res[first], s1[first], p, maxit, 1e-10)
    thresh = np.sort(out[first])[min(best_r, first.size) - 1]
    test = rho(res / thresh, C_CHI).sum(axis=1) / (n - p) < BB
    more = np.flatnonzero(test & np.isinf(out))
    if more.size:
        out[more] = _mscale(res[more], s1[more], p, maxit, 1e-10)
    return out


def _elemental(
    x: FloatArray, y: FloatArray, rng: np.random.Generator | None, n_resample: int
) -> FloatArray:
    """Exact fits through p rows: all subsets (``rng`` None) or ``n_resample`` random ones."""
    n, p = x.shape
    if rng is None:
        if p == 1:
            idx = np.arange(n)[:, None]
        else:
            idx = np.array(np.triu_indices(n, 1)).T if p == 2 else _combinations(n, p)
    else:
        idx = np.array([rng.choice(n, p, replace=False) for _ in range(n_resample)])
    xs = x[idx]  # K x p x p
    # equilibrate rows, as robustbase's LU on the equilibrated design, to judge singularity
    rowmax = np.abs(xs).max(axis=2, keepdims=True)
    rowmax[rowmax == 0] = 1.0
    det = np.linalg.det(xs / rowmax)
    ok = np.abs(det) >= 1e-7
    beta = np.full((idx.shape[0], p), np.nan)
    if ok.any():
        beta[ok] = np.linalg.solve(xs[ok], y[idx[ok]][..., None])[..., 0]
    return beta[ok]


def _combinations(n: int, p: int) -> np.ndarray:
    return np.array(list(combinations(range(n), p)), dtype=np.int64)


def _refine(
    x: FloatArray,
    y: FloatArray,
    beta: FloatArray,
    scale: float,
    *,
    k_max: int,
    tol: float,
) -> tuple[FloatArray, float, FloatArray, bool]:
    """``refine_fast_s`` to convergence: (beta, scale, residuals left, converged)."""
    n, p = x.shape
    res = y - x @ beta
    if np.sum(np.abs(res) < EPS_SCALE) > (n + p) / 2:
        return beta, 0.0, res, True
    s0 = scale
    beta_ref = beta
    for _ in range(k_max):
        s0 = s0 * np.sqrt(rho(res / s0, C_CHI).sum() / (n - p) / BB)
        beta_ref = _wls(x, y, wgt(res / s0, C_CHI))
        if np.linalg.norm(beta - beta_ref) <= tol * max(tol, float(np.linalg.norm(beta))):
            return beta_ref, float(s0), res, True
        res = y - x @ beta_ref
        beta = beta_ref
    return beta_ref, float(s0), res, False


def s_estimate(
    x: FloatArray,
    y: FloatArray,
    *,
    seed: int | None,
    n_resample: int = 500,
    max_work: float = 5e6,
    best_r: int = 2,
    k_max: int = 200,
    maxit_scale: int = 200,
    refine_tol: float = 1e-7,
) -> tuple[FloatArray, float, FloatArray, int, bool]:
    """The S-estimate (``lmrob.S``): (coef, scale, residuals, candidates, exhaustive)."""
    n, p = x.shape
    exhaustive = comb(n, p) * n <= max_work
    rng = None if exhaustive else np.random.default_rng(seed)
    cand = _elemental(x, y, rng, n_resample)
    if cand.shape[0] == 0:
        msg = "robust regression: no non-singular subsample of the observations"
        raise MrkitError(msg)
    # one refinement step of every candidate from its MAD scale (refine_fast_s, k = 1)
    res = y[None, :] - cand @ x.T
    s0 = np.median(np.abs(res), axis=1) * 1.4826
    good = s0 > 0
    cand, res, s0 = cand[good], res[good], s0[good]
    if cand.shape[0] == 0:
        msg = "robust regression: exact fit (more than half of the residuals are zero)"
        raise MrkitError(msg)
    s1 = s0 * np.sqrt(rho(res / s0[:, None], C_CHI).sum(axis=1) / (n - p) / BB)
    beta1, ok = _wls_batch(x, y, wgt(res / s1[:, None], C_CHI))
    beta1, s1 = beta1[ok], s1[ok]
    res1 = y[None, :] - beta1 @ x.T
    scales = _best_scales(res1, s1, p, best_r, maxit_scale)
    order = np.argsort(scales, kind="stable")
    # R keeps the best_r draws of smallest scale, repeats included: once the best
    # subset has been drawn twice it holds every slot, so the limit of its search
    # (all subsets) refines the best candidate alone
    best = order[:1] if exhaustive else order[:best_r]
    best_sc = np.inf
    coef = beta1[best[0]]
    res_left = res1[best[0]]
    for i in best:
        b, s, res_left, conv = _refine(
            x, y, beta1[i], float(scales[i]), k_max=k_max, tol=refine_tol
        )
        if not conv:  # R: converged = FALSE, so no M-step and no covariance (NA SEs)
            msg = f"robust regression: the S-estimate did not converge in {k_max} refinement steps"
            raise MrkitError(msg)
        if s < best_sc:
            best_sc, coef = s, b
    return coef, float(best_sc), res_left, int(cand.shape[0]), exhaustive


def _m_step(
    x: FloatArray, y: FloatArray, beta0: FloatArray, scale: float, max_it: int, tol: float
) -> tuple[FloatArray, FloatArray]:
    """``rwls``: IRWLS with the bisquare psi at a fixed scale; raises when not converged."""
    resid = y - x @ beta0
    it = 0
    while (it := it + 1) < max_it:
        beta = _wls(x, y, wgt(resid / scale, C_PSI))
        resid = y - x @ beta
        d = float(np.abs(beta0 - beta).sum())
        beta0 = beta
        if d <= tol * max(tol, float(np.abs(beta).sum())):
            return beta, resid
    msg = f"robust regression: the M-step did not converge in {max_it} iterations"
    raise MrkitError(msg)


def _vcov_avar1(x: FloatArray, r: FloatArray, r0: FloatArray, scale: float) -> FloatArray:
    """robustbase's ``.vcov.avar1``: asymptotic covariance of an MM-estimate."""
    n = r.shape[0]
    rs, r0s = r / scale, r0 / scale
    w = psi_prime(rs, C_PSI)
    w0 = psi(r0s, C_CHI) / (C_CHI**2 / 6.0)  # chi'(r0) = psi / rho(Inf)
    a_mat = np.linalg.inv(x.T @ (x * w[:, None])) * scale
    a = a_mat @ (x.T @ (w * rs)) / np.mean(w0 * r0s)
    wp = psi(rs, C_PSI)
    chi0 = rho(r0s, C_CHI)
    xww = x.T @ (wp * chi0)
    u1 = a_mat @ (x.T @ (x * (wp**2)[:, None])) @ (n * a_mat)
    u2 = np.outer(a, xww @ a_mat)
    u3 = np.outer(a_mat @ xww, a)
    u4 = np.mean(chi0**2 - BB**2) * np.outer(a, a)
    ret = (u1 - u2 - u3 + u4) / n
    lam, q = np.linalg.eigh(ret)
    if np.any(lam < 0):  # posdefify: drop negative eigenvalues, keep the diagonal
        d0 = np.diag(ret).copy()
        ret = (q * np.maximum(lam, 0.0)) @ q.T
        dd = np.sqrt(np.maximum(d0, 0.0) / np.diag(ret))
        ret = dd[:, None] * ret * dd[None, :]
    return ret


def lmrob(
    x: ArrayLike,
    y: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    seed: int | None = 1,
    n_resample: int = 500,
    max_work: float = 5e6,
    k_max: int = 500,
    maxit_scale: int = 500,
    max_it: int = 50,
    rel_tol: float = 1e-7,
) -> LmrobFit:
    """MM-regression of ``y`` on the columns of ``x`` (include a column of ones for an intercept).

    Defaults are ``lmrob.control()``'s with MendelianRandomization's ``k.max = 500``
    and ``maxit.scale = 500``. ``seed`` and ``n_resample`` are used only when the
    elemental subsets are too many to evaluate all (see the module notes).
    """
    xa = np.asarray(x, dtype=np.float64)
    if xa.ndim == 1:
        xa = xa[:, None]
    ya = np.asarray(y, dtype=np.float64)
    wa = np.ones_like(ya) if weights is None else np.asarray(weights, dtype=np.float64)
    if np.any(wa < 0) or not np.all(np.isfinite(wa)):
        msg = "robust regression: weights must be finite and non-negative"
        raise InputError(msg)
    keep = wa != 0
    sw = np.sqrt(wa[keep])
    xw, yw = xa[keep] * sw[:, None], ya[keep] * sw
    n, p = xw.shape
    if n <= p:
        msg = f"robust regression needs more than {p} observations with non-zero weight, got {n}"
        raise InputError(msg)
    coef_s, scale, r0, ncand, exhaustive = s_estimate(
        xw, yw, seed=seed, n_resample=n_resample, max_work=max_work,
        k_max=k_max, maxit_scale=maxit_scale,
    )  # fmt: skip
    if scale == 0:
        msg = "robust regression: exact fit (S-scale 0); the data lie on a line"
        raise MrkitError(msg)
    coef, r = _m_step(xw, yw, coef_s, scale, max_it, rel_tol)
    cov = _vcov_avar1(xw, r, r0, scale)
    return LmrobFit(
        coef=coef,
        se=np.sqrt(np.diag(cov)),
        cov=cov,
        scale=scale,
        resid=r / sw,
        rweights=wgt(r / scale, C_PSI),
        n_candidates=ncand,
        exhaustive=exhaustive,
    )


__all__ = ["C_CHI", "C_PSI", "LmrobFit", "lmrob", "s_estimate"]
