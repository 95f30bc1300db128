"""Penalised inverse-variance weighted estimator (pIVW; MendelianRandomization ``mr_pivw``).

With :math:`w_j = \\sigma_{Yj}^{-2}`, the debiased IVW numerator and denominator

.. math::

    \\mu_1 = \\sum_j w_j\\beta_{Xj}\\beta_{Yj}, \\qquad
    \\mu_2 = \\sum_j w_j(\\beta_{Xj}^2 - \\sigma_{Xj}^2), \\qquad
    v_2 = \\sum_j w_j^2\\big(4(\\beta_{Xj}^2 - \\sigma_{Xj}^2)\\sigma_{Xj}^2
    + 2\\sigma_{Xj}^4\\big), \\qquad v_{12} = \\sum_j 2w_j^2\\beta_{Yj}\\beta_{Xj}\\sigma_{Xj}^2,

are penalised, :math:`\\mu_2' = \\mu_2/2 + \\mathrm{sign}(\\mu_2)\\sqrt{\\mu_2^2/4 +
\\lambda v_2}` and :math:`\\mu_1' = \\mu_1 + (v_{12}/v_2)(\\mu_2' - \\mu_2)`, and
:math:`\\hat\\beta = \\mu_1'/\\mu_2'`. The over-dispersion
:math:`\\hat\\tau^2 = \\max\\{0, \\sum_j w_j[(\\beta_{Yj} - \\hat\\beta\\beta_{Xj})^2 -
\\sigma_{Yj}^2 - \\hat\\beta^2\\sigma_{Xj}^2] / \\sum_j w_j\\}` enters the SE

.. math::

    \\mathrm{SE} = \\frac{1}{|\\mu_2'|}\\Big(\\sum_j w_j\\beta_{Xj}^2(1 + \\tau^2 w_j)
    + \\hat\\beta^2 w_j^2\\sigma_{Xj}^2(\\beta_{Xj}^2 + \\sigma_{Xj}^2)\\Big)^{1/2}.

The interval and p-value are by default the bootstrap Fieller ones: ``nboot``
parametric draws of the data under :math:`\\hat\\beta, \\hat\\tau^2` give the
distribution of the Fieller statistic; the interval solves the quadratic
:math:`(\\mu_1' - \\beta\\mu_2')^2 = q(v_1' - 2\\beta v_{12}' + \\beta^2 v_2')` at its
:math:`1 - \\alpha` quantile :math:`q` (it can be two half-lines or the whole line),
and the p-value is the share of draws above :math:`\\mu_1'^2/v_1'`. R draws with its
own ``set.seed(1)`` stream; mrkit with ``numpy.random.default_rng(seed)``, so the
interval and p-value agree within Monte-Carlo error, the estimate and SE exactly.

References
----------
Xu S, Wang P, Fung WK, Liu Z (2023). A novel penalized inverse-variance weighted
estimator for Mendelian randomization with applications to COVID-19 outcomes.
Biometrics 79:2184-2195. doi:10.1111/biom.13732
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mrkit._core.arrays import FloatArray, as_arrays, critical, pvalue
from mrkit.errors import InputError
from mrkit.methods import register
from mrkit.results import MRResult

PIVW_DOI = "doi:10.1111/biom.13732"


def _moments(bx: FloatArray, sx: FloatArray, by: FloatArray, sy: FloatArray, lam: float):
    """(mu1', mu2', mu2, v2, v12) of the penalised IVW; works on leading batch axes."""
    w = sy**-2.0
    v2 = np.sum(w * w * (4 * (bx**2 - sx**2) * sx**2 + 2 * sx**4), axis=-1)
    v12 = np.sum(2 * w * w * by * bx * sx**2, axis=-1)
    mu1 = np.sum(w * by * bx, axis=-1)
    mu2 = np.sum(w * (bx**2 - sx**2), axis=-1)
    mu2p = mu2 / 2 + np.sign(mu2) * np.sqrt(mu2**2 / 4 + lam * v2)
    mu1p = mu1 + (v12 / v2) * (mu2p - mu2)
    return mu1p, mu2p, mu2, v2, v12


def _v1(bx, sx, by, sy, tau2):
    return np.sum(sy**-4.0 * (by**2 * bx**2 - (by**2 - sy**2 - tau2) * (bx**2 - sx**2)), axis=-1)


def _boot_fieller(bx, sx, sy, beta, tau2, lam, nboot: int, rng: np.random.Generator) -> FloatArray:
    """R's ``BF_dist``: ``nboot`` non-negative Fieller statistics under (beta, tau2), sorted."""
    out: list[FloatArray] = []
    have = 0
    j = bx.shape[0]
    while have < nboot:
        m = max(16, int((nboot - have) * 1.1))
        alpha = rng.standard_normal((m, j)) * np.sqrt(tau2)
        byh = bx * beta + alpha + rng.standard_normal((m, j)) * sy
        bxh = bx + rng.standard_normal((m, j)) * sx
        mu1p, mu2p, mu2, v2, v12 = _moments(bxh, sx, byh, sy, lam)
        v1 = _v1(bxh, sx, byh, sy, tau2)
        w = mu2p / (2 * mu2p - mu2)
        z = (mu1p - beta * mu2p) ** 2 / (v1 - 2 * beta * w * v12 + beta**2 * w * w * v2)
        z = z[z >= 0][: nboot - have]
        out.append(z)
        have += z.size
    return np.sort(np.concatenate(out))


@register(
    "pivw",
    label="Penalized inverse-variance weighted (pIVW)",
    min_snps=2,
    reference=PIVW_DOI,
    stochastic=True,
    aliases=("mr_pivw", "penalized_ivw_pivw"),
)
def pivw(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    lam: float = 1.0,
    over_dispersion: bool = True,
    boot_fieller: bool = True,
    nboot: int = 1000,
    seed: int | None = 1,
) -> MRResult:
    """pIVW: MendelianRandomization ``mr_pivw(mri)`` (``delta = 0``: no IV selection).

    Parameters
    ----------
    lam
        Penalty :math:`\\lambda \\ge 0` (R's ``lambda``, default 1).
    over_dispersion
        Estimate :math:`\\tau^2` (default) or fix it at 0.
    boot_fieller
        Bootstrap Fieller interval and p-value (default, R's ``Boot.Fieller``);
        ``False``: the normal ones from the SE.
    nboot, seed
        Draws of the bootstrap (R: 1000) and their seed.

    Notes
    -----
    Extras: ``tau2``, ``condition`` (R's ``Condition``, :math:`\\eta = \\sqrt{J}
    (\\overline{\\beta_X^2/\\sigma_X^2} - 1)`, the instrument strength), ``lambda``,
    ``fieller_quantile``, ``ci_two_sided`` (false when the Fieller set is unbounded:
    the interval is then reported as :math:`(-\\infty, \\infty)` and, when the set is
    two half-lines, ``excluded_lower``/``excluded_upper`` give the gap between
    them), ``pval_at_limit`` (no draw exceeded the statistic: the p-value is the
    bound :math:`1/n_{boot}`, where R prints 0), ``nboot``, ``seed``.
    """
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method="pivw", min_snps=2)
    if lam < 0:
        msg = f"`pivw`: `lam` (lambda) cannot be negative, got {lam}"
        raise InputError(msg)
    j = bx_.shape[0]
    condition = float((np.mean(bx_**2 / sx_**2) - 1) * np.sqrt(j))
    mu1p, mu2p, mu2, v2, v12 = _moments(bx_, sx_, by_, sy_, lam)
    beta = float(mu1p / mu2p)
    w = sy_**-2.0
    tau2 = 0.0
    if over_dispersion:
        resid = (by_ - beta * bx_) ** 2 - sy_**2 - beta**2 * sx_**2
        tau2 = max(0.0, float(np.sum(resid * w) / np.sum(w)))
    se = float(
        np.sqrt(np.sum(bx_**2 * w * (1 + tau2 * w) + beta**2 * sx_**2 * w * w * (bx_**2 + sx_**2)))
        / abs(mu2p)
    )
    extras: dict[str, object] = {"tau2": tau2, "condition": condition, "lambda": lam}
    if not boot_fieller:
        c = critical(alpha)
        pv = float(pvalue(beta / se))
        return MRResult("pivw", beta, se, beta - c * se, beta + c * se, pv, j, alpha, extras)
    if nboot < 10:
        msg = f"`pivw`: `nboot` must be at least 10 for the bootstrap Fieller interval, got {nboot}"
        raise InputError(msg)
    zb = _boot_fieller(bx_, sx_, sy_, beta, tau2, lam, nboot, np.random.default_rng(seed))
    v1p = float(_v1(bx_, sx_, by_, sy_, tau2))
    wt = mu2p / (2 * mu2p - mu2)
    v2p, v12p = wt * wt * v2, wt * v12
    z0 = mu1p**2 / v1p
    pv = float(np.mean(z0 < zb))
    qt = zb[int(np.round(zb.size * (1 - alpha))) - 1]
    a = mu2p**2 - qt * v2p
    b = 2 * (qt * v12p - mu1p * mu2p)
    cc = mu1p**2 - qt * v1p
    d = b * b - 4 * a * cc
    if a > 0:
        lo, hi, two = (-b - np.sqrt(d)) / 2 / a, (-b + np.sqrt(d)) / 2 / a, True
    elif d > 0:  # two half-lines: the whole line without the open interval between the roots
        lo, hi, two = -np.inf, np.inf, False
        roots = sorted(((-b - np.sqrt(d)) / 2 / a, (-b + np.sqrt(d)) / 2 / a))
        extras.update(excluded_lower=float(roots[0]), excluded_upper=float(roots[1]))
    else:
        lo, hi, two = -np.inf, np.inf, False
    if pv == 0:
        extras["pval_at_limit"] = True  # below the bootstrap's resolution 1/nboot
        pv = 1.0 / zb.size
    extras.update(ci_two_sided=two, fieller_quantile=float(qt), nboot=nboot, seed=seed)
    return MRResult("pivw", beta, se, float(lo), float(hi), pv, j, alpha, extras)


__all__ = ["pivw"]
