"""Power and minimum detectable effect of an MR analysis from the instruments' R² and N.

The instruments act as one allele score explaining :math:`R^2` of the exposure's
variance (the sum of the variants' :math:`R^2_j`, assuming independent variants);
effects are per standard deviation of the exposure, ``alpha`` is two-sided.

Binary outcome (Brion, Shakhbazov & Visscher 2013, doi:10.1093/ije/dyt179, and
its mRnd calculator's binary derivation): a linear model on the 0/1 scale with
:math:`K` the proportion of cases and :math:`OR` the odds ratio per SD,

.. math::

    b_{01} = K\\left(\\frac{OR}{1 + K(OR - 1)} - 1\\right), \\qquad
    \\mathrm{NCP} = N R^2 \\frac{b_{01}^2}{K(1-K) - b_{01}^2},

and power :math:`= P(\\chi^2_1(\\mathrm{NCP}) > \\chi^2_{1,1-\\alpha})`.

Continuous outcome (Burgess 2014, doi:10.1093/ije/dyu005, eq. for a continuous
outcome with unit residual SD): :math:`\\beta` in outcome SD per exposure SD,

.. math:: \\text{power} = \\Phi\\left(\\sqrt{N R^2}\\,|\\beta| - z_{1-\\alpha/2}\\right).

The minimum detectable effect (MDE) is the smallest effect with the requested
power (80% by default): :math:`\\beta = (z_{1-\\alpha/2} + z_{\\text{power}})/\\sqrt{N R^2}`
for a continuous outcome; for a binary outcome the NCP giving that power is
found, then :math:`b_{01}` and the odds ratio solved from it in closed form.

.. note:: No sample overlap, no confounding of the exposure-outcome association
   (mRnd's :math:`\\beta_{OLS} = \\beta_{IV}`), no weak-instrument bias.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, stats

from mrkit.errors import InputError


def instrument_r2(beta: ArrayLike, se: ArrayLike, n: ArrayLike) -> float:
    """Instruments' :math:`R^2`: the sum of :math:`R^2_j = t_j^2/(t_j^2 + n_j - 2)`.

    :math:`t_j = \\beta_j/\\sigma_j` (TwoSampleMR's ``get_r_from_bsen`` squared; no units or
    frequencies needed).
    """
    t2 = (np.asarray(beta, float) / np.asarray(se, float)) ** 2
    n_ = np.broadcast_to(np.asarray(n, float), t2.shape)
    return float(np.sum(t2 / (t2 + n_ - 2.0)))


def _check(n: float, r2: float, alpha: float) -> None:
    if not (n > 2 and 0 < r2 < 1 and 0 < alpha < 1):
        msg = f"power needs n > 2, 0 < r2 < 1 and 0 < alpha < 1 (got n={n}, r2={r2}, alpha={alpha})"
        raise InputError(msg)


def _chi2_power(ncp: float, alpha: float) -> float:
    crit = stats.chi2.isf(alpha, 1)
    return float(stats.ncx2.sf(crit, 1, ncp)) if ncp > 0 else alpha


def power_binary(n: float, r2: float, odds_ratio: float, k: float, *, alpha: float = 0.05) -> float:
    """Power for an odds ratio per SD of the exposure (Brion et al. 2013, binary outcome).

    ``k`` is the proportion of cases in the outcome sample of size ``n``.
    """
    _check(n, r2, alpha)
    if not 0 < k < 1 or odds_ratio <= 0:
        msg = f"`k` must lie in (0, 1) and `odds_ratio` be > 0 (got {k}, {odds_ratio})"
        raise InputError(msg)
    b01 = k * (odds_ratio / (1.0 + k * (odds_ratio - 1.0)) - 1.0)
    ncp = n * r2 * b01**2 / (k * (1.0 - k) - b01**2)
    return _chi2_power(ncp, alpha)


def power_continuous(n: float, r2: float, beta: float, *, alpha: float = 0.05) -> float:
    """Power for an effect ``beta`` (outcome SD per exposure SD) (Burgess 2014)."""
    _check(n, r2, alpha)
    z = stats.norm.isf(alpha / 2)
    return float(stats.norm.cdf(math.sqrt(n * r2) * abs(beta) - z))


def _ncp_for(power: float, alpha: float) -> float:
    crit = stats.chi2.isf(alpha, 1)
    return float(optimize.brentq(lambda x: stats.ncx2.sf(crit, 1, x) - power, 1e-9, 1e4))


def mde_binary(n: float, r2: float, k: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest odds ratio (> 1) per SD of the exposure detected with ``power``."""
    _check(n, r2, alpha)
    c = _ncp_for(power, alpha) / (n * r2)
    b01 = math.sqrt(k * (1.0 - k) * c / (1.0 + c))
    r = b01 / k + 1.0
    if r * k >= 1.0:
        return math.inf
    return r * (1.0 - k) / (1.0 - r * k)


def mde_continuous(n: float, r2: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest effect (outcome SD per exposure SD) detected with ``power`` (Burgess 2014)."""
    _check(n, r2, alpha)
    return float((stats.norm.isf(alpha / 2) + stats.norm.ppf(power)) / math.sqrt(n * r2))


@dataclass(frozen=True)
class Power:
    """Power summary of one pair; ``reason`` says why a value is missing."""

    r2: float | None
    n: float | None
    k: float | None
    mde: float | None
    mde_scale: str
    power_at_estimate: float | None
    reason: str | None = None


def pair_power(
    *,
    r2: float | None,
    n: float | None,
    ncase: float | None = None,
    estimate: float | None = None,
    binary: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
) -> Power:
    """MDE at ``power`` and the power to detect the pair's own estimate (read as per SD).

    A binary outcome (``binary``) needs ``ncase``: :math:`K = ` ``ncase / n``.
    """
    scale = "OR per SD" if binary else "SD per SD"
    if r2 is None or not np.isfinite(r2) or r2 <= 0:
        return Power(r2, n, None, None, scale, None, "R² of the instruments not known")
    if n is None or not np.isfinite(n) or n <= 2:
        return Power(r2, n, None, None, scale, None, "outcome sample size not known")
    if binary:
        if not ncase or not 0 < ncase < n:
            return Power(r2, n, None, None, scale, None, "outcome case count not known")
        k = ncase / n
        at = None
        if estimate is not None and np.isfinite(estimate):
            at = power_binary(n, r2, math.exp(abs(estimate)), k, alpha=alpha)
        return Power(r2, n, k, mde_binary(n, r2, k, alpha=alpha, power=power), scale, at)
    at = None
    if estimate is not None and np.isfinite(estimate):
        at = power_continuous(n, r2, estimate, alpha=alpha)
    return Power(r2, n, None, mde_continuous(n, r2, alpha=alpha, power=power), scale, at)


__all__ = [
    "Power",
    "instrument_r2",
    "mde_binary",
    "mde_continuous",
    "pair_power",
    "power_binary",
    "power_continuous",
]
