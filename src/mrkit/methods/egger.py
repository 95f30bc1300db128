"""MR-Egger regression.

The variants are first oriented so that every variant-exposure association is
non-negative (a variant with :math:`\\beta_{Xj} < 0` has both associations
negated; :math:`\\beta_{Xj} = 0` counts as positive, TwoSampleMR's ``sign0``).
The outcome associations are then regressed on the exposure associations with
an intercept, weighted by :math:`w_j = \\sigma_{Yj}^{-2}`:

.. math::

    \\beta_{Yj} = \\beta_{0E} + \\beta_E \\beta_{Xj} + \\varepsilon_j,
    \\qquad \\mathrm{Var}(\\varepsilon_j) = \\phi^2 \\sigma_{Yj}^2.

The slope :math:`\\hat\\beta_E` is the causal estimate, the intercept
:math:`\\hat\\beta_{0E}` the average directional pleiotropy. Standard errors are
those of the weighted least-squares fit with the residual scale
:math:`\\hat\\phi` (residual standard error) floored at 1,
:math:`\\mathrm{SE} = \\mathrm{SE}_{\\phi=1} \\max(1, \\hat\\phi)`. Rücker's
:math:`Q' = \\hat\\phi^2 (J - 2)` is the heterogeneity about the Egger line.

References
----------
Bowden J, Davey Smith G, Burgess S (2015). Int J Epidemiol 44:512-525.
doi:10.1093/ije/dyv080
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from mrkit._core.arrays import FloatArray, as_arrays
from mrkit.errors import InputError
from mrkit.methods import _kernels as kernels
from mrkit.methods import register
from mrkit.results import MRResult

EGGER_DOI = "doi:10.1093/ije/dyv080"


def orient(bx: FloatArray, by: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Orient variants so ``bx >= 0`` (``bx == 0`` counts as positive, as ``sign0``)."""
    s = np.where(bx < 0, -1.0, 1.0)
    return bx * s, by * s


def egger_fit(
    bx: FloatArray, by: FloatArray, w: FloatArray, *, method: str = "egger"
) -> tuple[float, float, float, float, float]:
    """Weighted regression of ``by`` on ``bx`` with an intercept.

    Returns ``(slope, intercept, se_slope_fixed, se_intercept_fixed, sigma)``: the
    coefficient SEs with the residual scale fixed at 1 and the residual standard
    error ``sigma = sqrt(sum w e^2 / (J - 2))`` of R's ``lm(by ~ bx, weights = w)``.
    Raises :class:`~mrkit.errors.InputError` when ``bx`` is (numerically) constant.
    """
    sw = float(w.sum())
    mx = float(np.dot(w, bx)) / sw
    my = float(np.dot(w, by)) / sw
    dx = bx - mx
    sxx = float(np.dot(w, dx * dx))
    if not sxx > (kernels.QR_TOL**2) * float(np.dot(w, bx * bx)):
        msg = (
            f"`{method}`: the variant-exposure associations are collinear with the "
            "intercept (all |bx| equal), so the Egger slope is not identified; "
            + kernels.COLLINEAR_HINT
        )
        raise InputError(msg)
    slope = float(np.dot(w, dx * (by - my))) / sxx
    intercept = my - slope * mx
    resid = by - intercept - slope * bx
    n = bx.shape[0]
    sigma = float(np.sqrt(np.dot(w, resid * resid) / (n - 2)))
    se_slope = float(np.sqrt(1.0 / sxx))
    se_int = float(np.sqrt(1.0 / sw + mx * mx / sxx))
    return slope, intercept, se_slope, se_int, sigma


@register(
    "egger",
    label="MR Egger",
    min_snps=3,
    default=True,
    reference=EGGER_DOI,
    kernel="segment",
    aliases=("mr_egger_regression", "mr_egger"),
)
def egger(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    dist: Literal["t", "normal"] = "t",
) -> MRResult:
    """MR-Egger regression; by default TwoSampleMR's ``mr_egger_regression``.

    .. math::

        \\mathrm{SE}(\\hat\\beta_E) = \\mathrm{SE}_{\\phi=1}(\\hat\\beta_E)\\,
        \\max(1, \\hat\\phi), \\qquad
        \\hat\\phi^2 = \\frac{1}{J-2}\\sum_j w_j
        (\\beta_{Yj} - \\hat\\beta_{0E} - \\hat\\beta_E\\beta_{Xj})^2

    Parameters
    ----------
    dist
        ``"t"`` (default, TwoSampleMR): p-values and intervals of slope and
        intercept on the t distribution with :math:`J - 2` degrees of freedom
        (MendelianRandomization ``mr_egger(distribution = "t-dist")`` gives the
        same numbers). ``"normal"``: MendelianRandomization's default, normal
        p-values and intervals. TwoSampleMR reports no interval; mrkit's default
        interval uses the same t quantile as its p-value.

    Notes
    -----
    Extras: ``egger_intercept`` with ``egger_intercept_se``,
    ``egger_intercept_pval``, ``egger_intercept_ci_lower``/``_upper``; Rücker's
    ``q`` (:math:`Q'`) with ``q_df = J - 2`` and ``q_pval``; the residual
    standard error ``rse``; ``n_flipped``, how many variants were re-oriented.
    Raises :class:`~mrkit.errors.InputError` when all :math:`|\\beta_{Xj}|` are
    equal (TwoSampleMR warns about collinearity and returns NA).
    """
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method="egger", min_snps=3)
    n = bx_.shape[0]
    cols = kernels.egger(bx_, sx_, by_, sy_, kernels.Segments.single(n), alpha=alpha, dist=dist)
    if (reason := cols.pop("reason")[0]) is not None:
        msg = f"{reason}; {kernels.COLLINEAR_HINT}"
        raise InputError(msg)
    b, se, lo, hi, pv = kernels.core_row(cols)
    extras = {k: float(cols[k][0]) for k in _EXTRAS}
    extras.update(q_df=int(cols["q_df"][0]), n_flipped=int(cols["n_flipped"][0]))
    return MRResult("egger", b, se, lo, hi, pv, n, alpha, extras)


#: The extras of :func:`egger`, in order (``q_df`` and ``n_flipped`` are integers).
_EXTRAS = (
    "egger_intercept",
    "egger_intercept_se",
    "egger_intercept_pval",
    "egger_intercept_ci_lower",
    "egger_intercept_ci_upper",
    "q",
    "q_df",
    "q_pval",
    "rse",
    "n_flipped",
)


__all__ = ["egger", "egger_fit", "orient"]
