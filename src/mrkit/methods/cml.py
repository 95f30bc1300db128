"""MR-cML: constrained maximum likelihood with model averaging (MendelianRandomization ``mr_cML``).

For each number :math:`K` of invalid variants (:math:`K = 0, \\dots, J-2`) the
profile likelihood

.. math::

    -\\ell(\\theta, b, r) = \\sum_j \\frac{(\\beta_{Xj} - b_j)^2}{2\\sigma_{Xj}^2}
    + \\sum_j \\frac{(\\beta_{Yj} - \\theta b_j - r_j)^2}{2\\sigma_{Yj}^2},
    \\qquad \\|r\\|_0 = K,

is minimised by block coordinate descent from :math:`\\theta = 0, b = 0` (R's
``cML_estimate``): :math:`r` keeps the :math:`K` largest
:math:`(\\beta_{Yj} - \\theta b_j)^2/\\sigma_{Yj}^2`, then
:math:`b_j = (\\beta_{Xj}/\\sigma_{Xj}^2 + \\theta(\\beta_{Yj} - r_j)/\\sigma_{Yj}^2)
/(\\sigma_{Xj}^{-2} + \\theta^2\\sigma_{Yj}^{-2})` and :math:`\\theta = \\sum (\\beta_{Yj}
- r_j) b_j \\sigma_{Yj}^{-2} / \\sum b_j^2\\sigma_{Yj}^{-2}`, until :math:`\\theta`
moves less than 1e-7 (at most ``maxit`` rounds). The SE of each fit is the
profile-likelihood one over the valid variants. Model averaging weights the fits by
:math:`\\exp(-\\mathrm{BIC}_K/2)`, :math:`\\mathrm{BIC}_K = \\log(n) K + 2\\ell_K`:

.. math::

    \\hat\\theta = \\sum_K w_K\\hat\\theta_K, \\qquad
    \\mathrm{SE} = \\sum_K w_K\\sqrt{\\mathrm{SE}_K^2 + (\\hat\\theta_K - \\hat\\theta)^2}.

**Data perturbation** (``cml_ma_dp``, R's default ``DP = TRUE``) repeats the fits on
``num_pert`` copies of the data with :math:`N(0, \\sigma^2)` noise added to every
association, and averages the per-:math:`K` estimates and likelihoods over them;
the per-:math:`K` SE is the standard deviation over the copies. The fits (copies
times :math:`K`) run compiled (numba).

``n`` is the GWAS sample size of the BIC: MendelianRandomization's reference call
uses the smaller of the exposure and outcome sample sizes; the engine passes the
minimum of a table's ``samplesize_exposure``/``samplesize_outcome`` when the option
is not set.

References
----------
Xue H, Shen X, Pan W (2021). Constrained maximum likelihood-based Mendelian
randomization robust to both correlated and uncorrelated pleiotropic effects. Am J
Hum Genet 108:1251-1269. doi:10.1016/j.ajhg.2021.05.014
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise

import numba as nb
import numpy as np
from numpy.typing import ArrayLike

from mrkit._core.arrays import FloatArray, as_arrays, critical, norm_sf, usable_cores
from mrkit.errors import InputError
from mrkit.methods import register
from mrkit.methods._density import _select
from mrkit.results import MRResult

CML_DOI = "doi:10.1016/j.ajhg.2021.05.014"


@dataclass(frozen=True)
class Fits:
    """Per data copy (rows) and K (columns): estimate, SE (NaN when not identified), -log lik."""

    theta: FloatArray
    se: FloatArray
    negl: FloatArray


@nb.njit(cache=True, nogil=True)
def _fit_one(
    bx: FloatArray, by: FloatArray, wx: FloatArray, wy: FloatArray, k: int, maxit: int
) -> tuple[float, float, float]:  # pragma: no cover - compiled
    """``cML_estimate`` then ``cML_SdTheta`` of one data copy and one K.

    ``wx``, ``wy`` are the inverse variances :math:`\\sigma_X^{-2}`, :math:`\\sigma_Y^{-2}`.
    """
    j = bx.shape[0]
    theta = 0.0
    theta_old = -1.0
    mu = np.zeros(j)
    v = np.zeros(j)
    imp = np.empty(j)
    buf = np.empty(j)
    it = 0
    while abs(theta_old - theta) > 1e-7 and it < maxit:
        theta_old = theta
        it += 1
        if k > 0:
            for i in range(j):
                r = by[i] - theta * mu[i]
                imp[i] = r * r * wy[i]
            # the k largest, ties taken in input order (R's stable decreasing order);
            # the k-th largest is the (j - k)-th smallest (0-based)
            buf[:] = imp
            thr = _select(buf, j - k)
            left = k
            for i in range(j):
                if imp[i] > thr:
                    v[i] = by[i] - theta * mu[i]
                    left -= 1
                else:
                    v[i] = 0.0
            for i in range(j):
                if left == 0:
                    break
                if imp[i] == thr:
                    v[i] = by[i] - theta * mu[i]
                    left -= 1
        num = 0.0
        den = 0.0
        t2 = theta * theta
        for i in range(j):
            e = (by[i] - v[i]) * wy[i]
            m = (bx[i] * wx[i] + theta * e) / (wx[i] + t2 * wy[i])
            mu[i] = m
            num += e * m
            den += m * m * wy[i]
        theta = num / den
    negl = 0.0
    info = 0.0
    for i in range(j):
        if v[i] != 0.0:  # one more step for the invalid variants: b = bx, r = by - theta b
            mu[i] = bx[i]
            v[i] = by[i] - theta * mu[i]
        else:
            g = 2.0 * mu[i] * theta - by[i]
            info += mu[i] * mu[i] * wy[i] - g * g * wy[i] * wy[i] / (wx[i] + theta * theta * wy[i])
        negl += 0.5 * (bx[i] - mu[i]) ** 2 * wx[i]
        negl += 0.5 * (by[i] - theta * mu[i] - v[i]) ** 2 * wy[i]
    se = np.sqrt(1.0 / info) if info > 0 else np.nan
    return theta, se, negl


@nb.njit(cache=True, nogil=True)
def _fit_grid(
    bx: FloatArray, by: FloatArray, sx: FloatArray, sy: FloatArray, ks: np.ndarray, maxit: int
) -> tuple[FloatArray, FloatArray, FloatArray]:  # pragma: no cover - compiled
    copies = bx.shape[0]
    nk = ks.shape[0]
    theta = np.empty((copies, nk))
    se = np.empty((copies, nk))
    negl = np.empty((copies, nk))
    wx = 1.0 / (sx * sx)
    wy = 1.0 / (sy * sy)
    for c in range(copies):
        for a in range(nk):
            theta[c, a], se[c, a], negl[c, a] = _fit_one(bx[c], by[c], wx, wy, ks[a], maxit)
    return theta, se, negl


def fit_all(
    bx: FloatArray, by: FloatArray, sx: FloatArray, sy: FloatArray, ks: np.ndarray, maxit: int
) -> Fits:
    """cML fits for every row of ``bx``/``by`` (copies x J) and every K in ``ks``.

    Compiled (numba, releasing the GIL); many copies are split over the usable cores.
    """
    bx = np.ascontiguousarray(bx)
    by = np.ascontiguousarray(by)
    k64 = ks.astype(np.int64)
    copies = bx.shape[0]
    parts = min(usable_cores(), max(1, copies // 8))
    if parts == 1:
        return Fits(*_fit_grid(bx, by, sx, sy, k64, maxit))
    cuts = np.linspace(0, copies, parts + 1).astype(int)
    with ThreadPoolExecutor(parts) as pool:
        outs = list(
            pool.map(
                lambda ab: _fit_grid(bx[ab[0] : ab[1]], by[ab[0] : ab[1]], sx, sy, k64, maxit),
                pairwise(cuts),
            )
        )
    return Fits(*(np.concatenate([o[i] for o in outs]) for i in range(3)))


def _average(
    theta: FloatArray, se: FloatArray, negl: FloatArray, ks: np.ndarray, n: float
) -> tuple[float, float, int]:
    """BIC model averaging: (estimate, SE, K of the smallest BIC)."""
    bic = np.log(n) * ks + 2.0 * negl
    bic = bic - np.min(bic)
    w = np.exp(-0.5 * bic)
    w = w / w.sum()
    est = float(np.sum(theta * w))
    se_ma = float(np.nansum(w * np.sqrt(se**2 + (theta - est) ** 2)))
    return est, se_ma, int(ks[np.argmin(bic)])


def _inputs(method: str, bx, sx, by, sy, n, maxit):
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method=method, min_snps=3)
    if n is None:
        msg = (
            f"`{method}` needs the GWAS sample size `n` for its BIC: set it "
            f"(`--set {method}.n=N`, options={{'{method}': {{'n': N}}}}) or give a table "
            "with samplesize_exposure/samplesize_outcome (the smaller is used)"
        )
        raise InputError(msg)
    if not (np.isfinite(n) and n > 1):
        msg = f"`{method}`: sample size `n` must be a number above 1, got {n!r}"
        raise InputError(msg)
    if maxit < 1:
        msg = f"`{method}`: `maxit` must be at least 1, got {maxit}"
        raise InputError(msg)
    return bx_, sx_, by_, sy_, np.arange(bx_.shape[0] - 1)


def _result(method, est, se, j, alpha, extras) -> MRResult:
    c = critical(alpha)
    p = float(2.0 * norm_sf(abs(est / se)))
    return MRResult(method, est, se, est - c * se, est + c * se, p, j, alpha, extras)


@register(
    "cml_ma_bic",
    label="MR-cML-MA-BIC",
    min_snps=3,
    reference=CML_DOI,
    aliases=("mr_cml_ma_bic", "cml_ma", "mr_cml_ma"),
)
def cml_ma_bic(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    n: float | None = None,
    maxit: int = 100,
) -> MRResult:
    """MR-cML-MA-BIC without data perturbation (``mr_cML(mri, n = n, DP = FALSE)``).

    Deterministic (R's ``random_start = 0``: one start at :math:`\\theta = 0`).
    Extras: ``n``, ``bic_k`` (number of invalid variants of the smallest BIC).
    """
    bx_, sx_, by_, sy_, ks = _inputs("cml_ma_bic", bx, sx, by, sy, n, maxit)
    f = fit_all(bx_[None], by_[None], sx_, sy_, ks, maxit)
    est, se, kbest = _average(f.theta[0], f.se[0], f.negl[0], ks, float(n))  # type: ignore[arg-type]
    return _result("cml_ma_bic", est, se, bx_.shape[0], alpha, {"n": n, "bic_k": kbest})


@register(
    "cml_ma_dp",
    label="MR-cML-MA-BIC-DP",
    min_snps=3,
    reference=CML_DOI,
    stochastic=True,
    aliases=("mr_cml", "mr_cml_dp", "cml", "cml_dp"),
)
def cml_ma_dp(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    n: float | None = None,
    num_pert: int = 200,
    maxit: int = 100,
    seed: int | None = 1,
) -> MRResult:
    """MR-cML-MA-BIC with data perturbation: MendelianRandomization ``mr_cML(mri, n = n)``.

    ``num_pert`` perturbed copies :math:`\\beta^* = \\beta + \\sigma Z` drawn with
    ``numpy.random.default_rng(seed)``; R's stream differs, so estimates agree within
    Monte-Carlo error (about :math:`\\mathrm{SE}/\\sqrt{\\texttt{num\\_pert}}`).

    Notes
    -----
    Extras: ``gof1_pval`` and ``gof2_pval``, R's goodness-of-fit tests comparing the
    SE of the unperturbed BIC-selected fit with the perturbation SD; ``n``,
    ``num_pert``, ``bic_k``, ``seed``.
    """
    bx_, sx_, by_, sy_, ks = _inputs("cml_ma_dp", bx, sx, by, sy, n, maxit)
    if num_pert < 3:
        msg = f"`cml_ma_dp`: `num_pert` must be at least 3, got {num_pert}"
        raise InputError(msg)
    j = bx_.shape[0]
    orig = fit_all(bx_[None], by_[None], sx_, sy_, ks, maxit)
    rng = np.random.default_rng(seed)
    pbx = bx_[None] + rng.standard_normal((num_pert, j)) * sx_
    pby = by_[None] + rng.standard_normal((num_pert, j)) * sy_
    pert = fit_all(pbx, pby, sx_, sy_, ks, maxit)
    theta_k = pert.theta.mean(axis=0)
    sd_k = pert.theta.std(axis=0, ddof=1)
    est, se, kbest = _average(theta_k, sd_k, pert.negl.mean(axis=0), ks, float(n))  # type: ignore[arg-type]
    g1, g2 = _gof(orig, pert, ks, float(n), sd_k)  # type: ignore[arg-type]
    extras = {
        "gof1_pval": g1,
        "gof2_pval": g2,
        "n": n,
        "num_pert": num_pert,
        "bic_k": kbest,
        "seed": seed,
    }
    return _result("cml_ma_dp", est, se, j, alpha, extras)


def _gof(orig: Fits, pert: Fits, ks: np.ndarray, n: float, sd_k: FloatArray):
    """R's GOF1 and GOF2 p-values at the BIC-selected K of the unperturbed data."""
    bic = np.log(n) * ks + 2.0 * orig.negl[0]
    i = int(np.argmin(bic))
    m = pert.theta.shape[0]
    pt_sd, origin_sd = sd_k[i], orig.se[0, i]
    more_var = float(np.var(pert.se[:, i] ** 2, ddof=1))
    x = pert.theta[:, i]
    vx = float(np.var(x, ddof=1))
    sd_x = np.sqrt((np.mean((x - x.mean()) ** 4) - (m - 3) / (m - 1) * vx**2) / m + more_var)
    t1 = (origin_sd**2 - pt_sd**2) / sd_x
    t2 = (origin_sd**2 - pt_sd**2) / np.sqrt(2 / (m - 1) * pt_sd**4 + more_var)
    return float(2 * norm_sf(abs(t1))), float(2 * norm_sf(abs(t2)))


__all__ = ["Fits", "cml_ma_bic", "cml_ma_dp", "fit_all"]
