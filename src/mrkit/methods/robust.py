"""Robust and penalised IVW and MR-Egger (MendelianRandomization ``robust``/``penalized``).

Four variants of the weighted regressions of :mod:`mrkit.methods.ivw` and
:mod:`mrkit.methods.egger` (Burgess et al. 2016):

* **penalised**: each variant's weight :math:`w_j = \\sigma_{Yj}^{-2}` is multiplied
  by :math:`\\min(1, 100\\,P_j)`, with :math:`P_j` the upper :math:`\\chi^2_1` tail
  of its heterogeneity contribution: for IVW
  :math:`(\\beta_{Xj}^2/\\sigma_{Yj}^2)(\\hat\\theta_j - \\tilde\\theta)^2` about the
  median ratio :math:`\\tilde\\theta`; for Egger
  :math:`w_j(\\beta_{Yj} - \\hat\\beta_{0E} - \\hat\\beta_E\\beta_{Xj})^2` about the
  ordinary Egger line. Then ``lm`` with those weights (variants whose weight
  underflows to 0 leave the residual degrees of freedom, as in R).
* **robust**: the regression is robustbase's ``lmrob`` MM-estimator
  (:mod:`mrkit.methods._lmrob`), its SE from ``.vcov.avar1``.
* **robust + penalised** (option ``penalized=True`` of the robust methods):
  ``lmrob`` with the penalised weights.

As MendelianRandomization (``mr_ivw``/``mr_egger``), every SE is the regression's
SE divided by :math:`\\min(1, \\hat\\sigma)` (random effects; ``model="fixed"``
divides IVW's by :math:`\\hat\\sigma`), with :math:`\\hat\\sigma` the residual
standard error (``lm``) or the S-scale (``lmrob``), reported as ``rse``.

References
----------
Burgess S, Bowden J, Dudbridge F, Thompson SG (2016). Robust instrumental variable
methods using multiple candidate instruments with application to Mendelian
randomization. arXiv:1606.03729; Rees JMB, Wood AM, Dudbridge F, Burgess S (2019).
PLoS One 14:e0222362. doi:10.1371/journal.pone.0222362
"""

from __future__ import annotations

from typing import Literal, cast

import numpy as np
from numpy.typing import ArrayLike

from mrkit._core.arrays import FloatArray, as_arrays, chi2_sf, critical, pvalue
from mrkit.errors import InputError
from mrkit.methods import register
from mrkit.methods._lmrob import lmrob
from mrkit.methods.egger import egger_fit, orient
from mrkit.results import MRResult

ROBUST_REF = "doi:10.1371/journal.pone.0222362"
#: Multiplier of the penalty p-values (MendelianRandomization's fixed 100).
PENK = 100.0

Model = Literal["default", "random", "fixed"]
Dist = Literal["normal", "t"]


def _lm(x: FloatArray, y: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    """R's ``summary(lm(y ~ x - 1, weights = w))``: coef, SE and sigma (zero weights dropped)."""
    keep = w > 0
    sw = np.sqrt(w[keep])
    xw, yw = x[keep] * sw[:, None], y[keep] * sw
    n, p = xw.shape
    if n <= p:
        msg = f"only {n} variants keep a non-zero penalised weight; need more than {p}"
        raise InputError(msg)
    coef = np.asarray(np.linalg.lstsq(xw, yw, rcond=None)[0], dtype=np.float64)
    r = yw - xw @ coef
    sigma = float(np.sqrt(np.dot(r, r) / (n - p)))
    se = np.sqrt(np.diag(np.linalg.inv(xw.T @ xw))) * sigma
    return coef, se, sigma


def ivw_model(model: str, j: int, method: str) -> Model:
    """MendelianRandomization's IVW ``model``: ``default`` is fixed below 4 variants, else random.

    The callers then divide the SE by :math:`\\min(1, \\hat\\sigma)` (random) or by
    :math:`\\hat\\sigma` (fixed); anything but default, random or fixed is refused.
    """
    if model == "default":
        model = "fixed" if j < 4 else "random"
    if model not in ("random", "fixed"):
        msg = f"`{method}`: `model` must be default, random or fixed, got {model!r}"
        raise InputError(msg)
    return cast(Model, model)


def _fit(
    x: FloatArray, y: FloatArray, w: FloatArray, robust: bool, seed: int | None
) -> tuple[FloatArray, FloatArray, float, dict[str, object]]:
    if robust:
        f = lmrob(x, y, w, seed=seed)
        info: dict[str, object] = {"n_subsamples": f.n_candidates, "exhaustive": f.exhaustive}
        return f.coef, f.se, f.scale, info
    coef, se, sigma = _lm(x, y, w)
    return coef, se, sigma, {}


def _ivw_variant(
    method: str,
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    robust: bool,
    penalized: bool,
    alpha: float,
    model: Model,
    dist: Dist,
    seed: int | None,
) -> MRResult:
    bx_, _sx, by_, sy_ = as_arrays(bx, sx, by, sy, method=method, min_snps=2)
    j = bx_.shape[0]
    w = sy_**-2.0
    if penalized:
        if np.any(bx_ == 0):
            msg = f"`{method}`: bx is 0 for a variant, so its ratio estimate is undefined"
            raise InputError(msg)
        ratio = by_ / bx_
        penalty = chi2_sf(bx_**2 * w * (ratio - np.median(ratio)) ** 2, 1)
        w = w * np.minimum(1.0, PENK * penalty)
    coef, se0, sigma, info = _fit(bx_[:, None], by_, w, robust, seed)
    model = ivw_model(model, j, method)
    est = float(coef[0])
    se = float(se0[0]) / (min(sigma, 1.0) if model == "random" else sigma)
    c = critical(alpha, dist=dist, df=j - 1)
    extras: dict[str, object] = {"rse": sigma, "model": model, **info}
    if not penalized:
        q = (j - 1) * sigma**2
        extras.update(q=q, q_df=j - 1, q_pval=float(chi2_sf(q, j - 1)))
    if robust:
        extras["seed"] = seed
    pv = float(pvalue(est / se, dist=dist, df=j - 1))
    return MRResult(method, est, se, est - c * se, est + c * se, pv, j, alpha, extras)


@register(
    "ivw_robust",
    label="Robust IVW",
    min_snps=2,
    reference=ROBUST_REF,
    stochastic=True,
    aliases=("mr_ivw_robust", "robust_ivw"),
)
def ivw_robust(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    penalized: bool = False,
    model: Model = "default",
    dist: Dist = "normal",
    seed: int | None = 1,
) -> MRResult:
    """IVW by robust (MM) regression: MendelianRandomization ``mr_ivw(robust = TRUE)``.

    .. math:: \\hat\\theta = \\mathrm{MM}\\big(\\beta_{Yj} \\sim \\beta_{Xj} - 1;
              \\ w_j = \\sigma_{Yj}^{-2}\\big), \\qquad
              \\mathrm{SE} = \\mathrm{SE}_{\\text{avar1}} / \\min(1, \\hat\\sigma)

    Parameters
    ----------
    penalized
        Also penalise the weights (MendelianRandomization ``robust = TRUE,
        penalized = TRUE``, "Penalized robust IVW").
    model
        ``"default"`` (R's: fixed below 4 variants, else random), ``"random"``
        or ``"fixed"`` (SE divided by :math:`\\hat\\sigma` instead).
    dist
        ``"normal"`` or ``"t"`` (J - 1 degrees of freedom).
    seed
        Used only when the elemental subsets are too many to try all (never for
        one exposure: IVW has one per variant), see :mod:`mrkit.methods._lmrob`.

    Notes
    -----
    Extras: ``rse`` (the S-scale :math:`\\hat\\sigma`), ``q = (J-1)\\hat\\sigma^2``
    with ``q_df``/``q_pval`` (not when penalised), ``n_subsamples``,
    ``exhaustive``, ``seed``.
    """
    return _ivw_variant(
        "ivw_robust", bx, sx, by, sy, robust=True, penalized=penalized,
        alpha=alpha, model=model, dist=dist, seed=seed,
    )  # fmt: skip


@register(
    "ivw_penalized",
    label="Penalized IVW",
    min_snps=2,
    reference=ROBUST_REF,
    aliases=("mr_ivw_penalized", "penalized_ivw", "ivw_penalised", "penalised_ivw"),
)
def ivw_penalized(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    model: Model = "default",
    dist: Dist = "normal",
) -> MRResult:
    """Penalised IVW: MendelianRandomization ``mr_ivw(penalized = TRUE)``.

    .. math:: w_j^* = \\sigma_{Yj}^{-2}\\min\\Big(1, 100\\,\\bar F_{\\chi^2_1}\\big(
              \\tfrac{\\beta_{Xj}^2}{\\sigma_{Yj}^2}(\\hat\\theta_j - \\tilde\\theta)^2
              \\big)\\Big),
              \\qquad \\tilde\\theta = \\mathrm{median}_j\\,\\beta_{Yj}/\\beta_{Xj}

    then IVW (``lm(by ~ bx - 1, weights = w*)``) with the SE divided by
    :math:`\\min(1, \\hat\\sigma)`. No heterogeneity statistic (R reports NaN).
    """
    return _ivw_variant(
        "ivw_penalized", bx, sx, by, sy, robust=False, penalized=True,
        alpha=alpha, model=model, dist=dist, seed=None,
    )  # fmt: skip


def _bounds(est: float, se: float, rse: float, alpha: float, dist: Dist, df: int):
    """MendelianRandomization ``egger.bounds`` and its p-value (the wider with t and rse < 1)."""
    zc = critical(alpha)
    pn = float(pvalue(est / se))
    if dist == "normal":
        return est - zc * se, est + zc * se, pn
    tc = critical(alpha, dist="t", df=df)
    if rse < 1:
        half = max(zc * se, tc * se * rse)
        return est - half, est + half, max(pn, float(pvalue(est / se / rse, dist="t", df=df)))
    return est - tc * se, est + tc * se, float(pvalue(est / se, dist="t", df=df))


def _egger_variant(
    method: str,
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    robust: bool,
    penalized: bool,
    alpha: float,
    dist: Dist,
    seed: int | None,
) -> MRResult:
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method=method, min_snps=3)
    j = bx_.shape[0]
    bxo, byo = orient(bx_, by_)
    w = sy_**-2.0
    if penalized:
        slope, icpt, *_ = egger_fit(bxo, byo, w, method=method)
        penalty = chi2_sf(w * (byo - icpt - slope * bxo) ** 2, 1)
        w = w * np.minimum(1.0, PENK * penalty)
    x = np.column_stack([np.ones(j), bxo])
    coef, se0, sigma, info = _fit(x, byo, w, robust, seed)
    se = se0 / min(sigma, 1.0)
    lo, hi, pv = _bounds(float(coef[1]), float(se[1]), sigma, alpha, dist, j - 2)
    ilo, ihi, ipv = _bounds(float(coef[0]), float(se[0]), sigma, alpha, dist, j - 2)
    extras: dict[str, object] = {
        "egger_intercept": float(coef[0]),
        "egger_intercept_se": float(se[0]),
        "egger_intercept_pval": ipv,
        "egger_intercept_ci_lower": ilo,
        "egger_intercept_ci_upper": ihi,
    }
    if not penalized:
        q = float(np.sum(((byo - coef[0] - coef[1] * bxo) / sy_) ** 2))
        extras.update(q=q, q_df=j - 2, q_pval=float(chi2_sf(q, j - 2)))
    extras.update(rse=sigma, i2gx=_i2gx(bxo, sx_, sy_), **info)
    if robust:
        extras["seed"] = seed
    return MRResult(method, float(coef[1]), float(se[1]), lo, hi, pv, j, alpha, extras)


def _i2gx(bx: FloatArray, sx: FloatArray, sy: FloatArray) -> float:
    """MendelianRandomization's ``I.sq`` of the oriented, ``sy``-scaled exposure associations."""
    u, v = bx / sy, (sx / sy) ** -2.0
    q = float(np.sum(v * (u - np.sum(v * u) / np.sum(v)) ** 2))
    return max(0.0, (q - (bx.shape[0] - 1)) / q)


@register(
    "egger_robust",
    label="Robust MR-Egger",
    min_snps=3,
    reference=ROBUST_REF,
    stochastic=True,
    aliases=("mr_egger_robust", "robust_egger"),
)
def egger_robust(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    penalized: bool = False,
    dist: Dist = "normal",
    seed: int | None = 1,
) -> MRResult:
    """MR-Egger by robust (MM) regression: MendelianRandomization ``mr_egger(robust = TRUE)``.

    Variants oriented so that :math:`\\beta_{Xj} \\ge 0`, then ``lmrob(by ~ bx,
    weights = sy^-2)``; slope and intercept SEs divided by :math:`\\min(1,
    \\hat\\sigma)`. ``penalized=True`` penalises the weights first ("Penalized robust
    MR-Egger"). ``dist="t"``: R's ``egger.bounds`` on J - 2 degrees of freedom (the
    wider of the normal and the t interval when :math:`\\hat\\sigma < 1`). ``seed``
    is used only when there are more than about 5e6 / J pairs of variants to try
    (:mod:`mrkit.methods._lmrob`).

    Notes
    -----
    Extras: the ``egger_intercept`` with its SE, p-value and interval; ``q``, the
    heterogeneity about the robust line :math:`\\sum_j ((\\beta_{Yj} - \\hat\\beta_{0E}
    - \\hat\\beta_E\\beta_{Xj})/\\sigma_{Yj})^2` on J - 2 df (not when penalised);
    ``rse`` (S-scale); ``i2gx`` (R's ``I.sq``); ``n_subsamples``, ``exhaustive``,
    ``seed``.
    """
    return _egger_variant(
        "egger_robust", bx, sx, by, sy, robust=True, penalized=penalized,
        alpha=alpha, dist=dist, seed=seed,
    )  # fmt: skip


@register(
    "egger_penalized",
    label="Penalized MR-Egger",
    min_snps=3,
    reference=ROBUST_REF,
    aliases=("mr_egger_penalized", "penalized_egger", "egger_penalised", "penalised_egger"),
)
def egger_penalized(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    dist: Dist = "normal",
) -> MRResult:
    """Penalised MR-Egger: MendelianRandomization ``mr_egger(penalized = TRUE)``.

    .. math:: w_j^* = \\sigma_{Yj}^{-2}\\min\\Big(1, 100\\,\\bar F_{\\chi^2_1}\\big(
              (\\beta_{Yj} - \\hat\\beta_{0E} - \\hat\\beta_E\\beta_{Xj})^2/\\sigma_{Yj}^2
              \\big)\\Big)

    about the ordinary MR-Egger fit, then MR-Egger with the weights :math:`w^*`
    (SEs divided by :math:`\\min(1, \\hat\\sigma)`). Extras as :func:`egger_robust`
    without ``q``.
    """
    return _egger_variant(
        "egger_penalized", bx, sx, by, sy, robust=False, penalized=True,
        alpha=alpha, dist=dist, seed=None,
    )  # fmt: skip


__all__ = ["egger_penalized", "egger_robust", "ivw_model", "ivw_penalized", "ivw_robust"]
