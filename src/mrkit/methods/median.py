"""Median-based estimators: simple, weighted and penalised weighted median.

Each variant's ratio estimate :math:`\\hat\\theta_j = \\beta_{Yj}/\\beta_{Xj}`
gets a weight :math:`w_j`; with the ratios sorted and the weights standardised
to sum to one, the point :math:`p_j = \\sum_{k \\le j} w_k - w_j/2` is attached
to the j-th ratio and the estimate is the linear interpolation at
:math:`p = 1/2`:

.. math::

    \\hat\\beta_{WM} = \\hat\\theta_{(k)} + (\\hat\\theta_{(k+1)} - \\hat\\theta_{(k)})
    \\frac{1/2 - p_k}{p_{k+1} - p_k}, \\qquad k = \\max\\{j : p_j < 1/2\\}.

The standard error is the standard deviation of the estimate over parametric
bootstrap draws :math:`\\beta_{Xj}^* \\sim N(\\beta_{Xj}, \\sigma_{Xj}^2)`,
:math:`\\beta_{Yj}^* \\sim N(\\beta_{Yj}, \\sigma_{Yj}^2)` with the weights held
fixed (both R packages); p-values and intervals are normal.

References
----------
Bowden J, Davey Smith G, Haycock PC, Burgess S (2016). Genet Epidemiol
40:304-314. doi:10.1002/gepi.21965
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from mrkit.methods import _rows as rows
from mrkit.methods import register
from mrkit.methods._kernels import Segments, core_row
from mrkit.methods._ratio import ratio_arrays
from mrkit.methods._wmedian import weighted_median_rows
from mrkit.results import MRResult

MEDIAN_DOI = "doi:10.1002/gepi.21965"

Weights = Literal["second", "first"]


def weighted_median(theta: ArrayLike, weights: ArrayLike) -> float:
    """Interpolated weighted median of the ratio estimates ``theta`` (see module doc)."""
    t = np.asarray(theta, dtype=np.float64)[None, :]
    return float(weighted_median_rows(t, np.asarray(weights, dtype=np.float64))[0])


def _median_core(
    method: str,
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    kind: Literal["simple", "weighted", "penalised"],
    weights: Weights,
    penk: float,
    nboot: int,
    seed: int | None,
    alpha: float,
    dist: Literal["normal", "t"],
) -> MRResult:
    bx_, sx_, by_, sy_ = ratio_arrays(method, bx, sx, by, sy, nboot)
    n = bx_.shape[0]
    cols = rows.median(
        bx_, sx_, by_, sy_, Segments.single(n), method=method, kind=kind,
        weights=weights, penk=penk, nboot=nboot, seed=seed, alpha=alpha, dist=dist,
    )  # fmt: skip
    extras: dict[str, object] = {"nboot": nboot, "seed": seed}
    if kind != "simple":
        extras["weights"] = weights
    return MRResult(method, *core_row(cols), n, alpha, extras)


_DOC_COMMON = """
    Parameters
    ----------
    nboot, seed
        Number of bootstrap draws for the SE (TwoSampleMR: 1000;
        MendelianRandomization: 10000) and the seed of ``numpy.random.default_rng``
        (default 1, the engine's, so repeated calls agree; None: fresh entropy).
        R's random streams are not reproduced: SEs agree within Monte-Carlo error.
    dist
        ``"normal"`` (default, both packages) or ``"t"`` on :math:`J-1` degrees of
        freedom (MendelianRandomization ``distribution = "t-dist"``).
"""


@register(
    "simple_median",
    label="Simple median",
    min_snps=3,
    reference=MEDIAN_DOI,
    stochastic=True,
    kernel="rows",
    aliases=("mr_simple_median",),
)
def simple_median(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    nboot: int = 1000,
    seed: int | None = 1,
    dist: Literal["normal", "t"] = "normal",
) -> MRResult:
    """Median of the ratio estimates, each weighted :math:`1/J`.

    TwoSampleMR ``mr_simple_median``; MendelianRandomization
    ``mr_median(weighting = "simple")``.
    """
    return _median_core(
        "simple_median",
        bx,
        sx,
        by,
        sy,
        kind="simple",
        weights="first",
        penk=20.0,
        nboot=nboot,
        seed=seed,
        alpha=alpha,
        dist=dist,
    )


@register(
    "weighted_median",
    label="Weighted median",
    min_snps=3,
    default=True,
    reference=MEDIAN_DOI,
    stochastic=True,
    kernel="rows",
    aliases=("mr_weighted_median",),
)
def weighted_median_estimator(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    weights: Weights = "second",
    nboot: int = 1000,
    seed: int | None = 1,
    dist: Literal["normal", "t"] = "normal",
) -> MRResult:
    """Weighted median of the ratio estimates (TwoSampleMR ``mr_weighted_median``).

    .. math::

        w_j = \\Big(\\frac{\\sigma_{Yj}^2}{\\beta_{Xj}^2}
        + \\frac{\\beta_{Yj}^2\\sigma_{Xj}^2}{\\beta_{Xj}^4}\\Big)^{-1}

    ``weights="second"`` (default) is TwoSampleMR's second-order weight above;
    ``weights="first"`` drops the second term,
    :math:`w_j = \\beta_{Xj}^2/\\sigma_{Yj}^2`, as MendelianRandomization
    ``mr_median(weighting = "weighted")`` does, so its estimate differs.
    """
    return _median_core(
        "weighted_median",
        bx,
        sx,
        by,
        sy,
        kind="weighted",
        weights=weights,
        penk=20.0,
        nboot=nboot,
        seed=seed,
        alpha=alpha,
        dist=dist,
    )


@register(
    "penalised_weighted_median",
    label="Penalised weighted median",
    min_snps=3,
    reference=MEDIAN_DOI,
    stochastic=True,
    kernel="rows",
    aliases=("mr_penalised_weighted_median", "penalized_weighted_median"),
)
def penalised_weighted_median(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    weights: Weights = "second",
    penk: float = 20.0,
    nboot: int = 1000,
    seed: int | None = 1,
    dist: Literal["normal", "t"] = "normal",
) -> MRResult:
    """Penalised weighted median (TwoSampleMR ``mr_penalised_weighted_median``).

    Weights are multiplied by :math:`\\min(1, k\\, P_j)` with :math:`P_j` the
    upper :math:`\\chi^2_1` tail of :math:`w_j(\\hat\\theta_j - \\hat\\beta_{WM})^2`
    and :math:`k` = ``penk`` (20 in both packages). ``weights="first"`` gives
    MendelianRandomization ``mr_median(weighting = "penalized")``.
    """
    return _median_core(
        "penalised_weighted_median",
        bx,
        sx,
        by,
        sy,
        kind="penalised",
        weights=weights,
        penk=penk,
        nboot=nboot,
        seed=seed,
        alpha=alpha,
        dist=dist,
    )


for _f in (simple_median, weighted_median_estimator, penalised_weighted_median):
    _f.__doc__ = (_f.__doc__ or "") + _DOC_COMMON

__all__ = [
    "penalised_weighted_median",
    "simple_median",
    "weighted_median",
    "weighted_median_estimator",
    "weighted_median_rows",
]
