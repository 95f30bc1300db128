"""MR-Egger with a parametric bootstrap (TwoSampleMR ``mr_egger_regression_bootstrap``).

Each draw samples :math:`\\beta^*_{Xj} \\sim N(\\beta_{Xj}, \\sigma_{Xj}^2)` and
:math:`\\beta^*_{Yj} \\sim N(\\beta_{Yj}, \\sigma_{Yj}^2)`, orients on the sign of
:math:`\\beta^*_{Xj}` and fits TwoSampleMR's ``linreg`` with weights
:math:`w_j = \\sigma_{Yj}^{-2}`:

.. math::

    \\hat b^* = \\frac{\\mathrm{cov}(w x^*, w y^*)}{\\mathrm{var}(w x^*)}, \\qquad
    \\hat a^* = \\bar{y}^* - \\bar{x}^*\\hat b^* .

(This is TwoSampleMR's own definition, not a weighted least-squares fit.) The
estimate and SE are the mean and standard deviation of the draws; the p-value is
the fraction of draws with the sign opposite to the mean. All draws are computed
as array operations.

Older TwoSampleMR releases kept a row of zeros after the ``nboot`` draws and
included it in the mean and SD (``array(0, c(nboot + 1, 2))``), which inflates the
SE by about :math:`\\hat b^2/n_{boot}` in variance (BMI -> BMI, 812 variants: 0.035
instead of 0.021); TwoSampleMR 0.7.9, the reference, no longer has it. The default
``tsmr_zero_row=False`` leaves it out; true reproduces the old releases.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mrkit._core.arrays import as_arrays, interval
from mrkit.methods import register
from mrkit.methods._ratio import require_nboot
from mrkit.methods.egger import EGGER_DOI
from mrkit.results import MRResult


@register(
    "egger_bootstrap",
    label="MR Egger (bootstrap)",
    min_snps=3,
    reference=EGGER_DOI,
    stochastic=True,
    kernel="pair",
    aliases=("mr_egger_regression_bootstrap",),
)
def egger_bootstrap(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    nboot: int = 1000,
    seed: int | None = 1,
    tsmr_zero_row: bool = False,
) -> MRResult:
    """Bootstrap MR-Egger as TwoSampleMR ``mr_egger_regression_bootstrap``.

    Notes
    -----
    ``pval`` (and ``intercept_pval``) are the one-sided bootstrap fractions of
    TwoSampleMR (resolution ``1/nboot``); the interval is normal,
    ``estimate ± z * se`` as TwoSampleMR's ``mr()``. ``seed`` defaults to 1 (the
    engine's default), so repeated calls give the same numbers; None draws fresh
    entropy. Extras: ``intercept``, ``intercept_se``, ``intercept_pval``,
    ``nboot``, ``seed``, ``tsmr_zero_row``.
    """
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method="egger_bootstrap", min_snps=3)
    require_nboot(nboot, "egger_bootstrap")
    n = bx_.shape[0]
    rng = np.random.default_rng(seed)
    w = sy_**-2.0
    block = max(1, 2_000_000 // n)
    slopes = np.empty(nboot)
    icepts = np.empty(nboot)
    done = 0
    while done < nboot:
        m = min(block, nboot - done)
        xs = bx_ + sx_ * rng.standard_normal((m, n))
        ys = by_ + sy_ * rng.standard_normal((m, n))
        ys = ys * np.sign(xs)
        xs = np.abs(xs)
        xw = xs * w
        yw = ys * w
        xc = xw - xw.mean(axis=1, keepdims=True)
        yc = yw - yw.mean(axis=1, keepdims=True)
        b = np.sum(xc * yc, axis=1) / np.sum(xc * xc, axis=1)
        slopes[done : done + m] = b
        icepts[done : done + m] = ys.mean(axis=1) - xs.mean(axis=1) * b
        done += m
    if tsmr_zero_row:
        slopes_all = np.append(slopes, 0.0)
        icepts_all = np.append(icepts, 0.0)
    else:
        slopes_all, icepts_all = slopes, icepts
    est = float(slopes_all.mean())
    se = float(slopes_all.std(ddof=1))
    a = float(icepts_all.mean())
    a_se = float(icepts_all.std(ddof=1))
    pval = float(np.count_nonzero(np.sign(est) * slopes_all < 0) / nboot)
    a_pval = float(np.count_nonzero(np.sign(a) * icepts_all < 0) / nboot)
    lo, hi = interval(est, se, alpha)
    extras = {
        "intercept": a,
        "intercept_se": a_se,
        "intercept_pval": a_pval,
        "nboot": nboot,
        "seed": seed,
        "tsmr_zero_row": tsmr_zero_row,
    }
    return MRResult("egger_bootstrap", est, se, lo, hi, pval, n, alpha, extras)


__all__ = ["egger_bootstrap"]
