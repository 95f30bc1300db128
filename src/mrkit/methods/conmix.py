"""Contamination mixture method (MR-ConMix), as MendelianRandomization ``mr_conmix``.

Each variant's ratio estimate :math:`\\hat\\theta_j = \\beta_{Yj}/\\beta_{Xj}` (standard
error :math:`s_j = \\sigma_{Yj}/|\\beta_{Xj}|`) is either *valid*, distributed
:math:`N(\\theta, s_j^2)`, or *invalid*, distributed :math:`N(0, \\psi^2 + s_j^2)`.
For a causal effect :math:`\\theta` the profile log-likelihood takes, for each
variant, whichever of the two components is larger:

.. math::

    \\ell(\\theta) = \\sum_j \\max\\{\\log\\phi(\\hat\\theta_j; \\theta, s_j^2),\\;
                                   \\log\\phi(\\hat\\theta_j; 0, \\psi^2 + s_j^2)\\}.

It is evaluated on a grid of :math:`\\theta`; the estimate is the grid point with the
largest :math:`\\ell`, and the confidence set is every grid point with
:math:`2\\ell(\\theta) > 2\\max\\ell - \\chi^2_{1,1-\\alpha}\\,\\hat\\phi^2` where
:math:`\\hat\\phi = \\max(1, \\text{RSE of the valid variants' ratio estimates})`.
The set may be a union of disjoint intervals.

References
----------
Burgess S, Foley CN, Allara E, Staley JR, Howson JMM (2020). A robust and efficient
method for Mendelian randomization with hundreds of genetic variants. Nat Commun
11:376. doi:10.1038/s41467-019-14156-4
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from mrkit._core.arrays import as_arrays
from mrkit.errors import InputError
from mrkit.methods import register
from mrkit.results import MRResult

CONMIX_DOI = "doi:10.1038/s41467-019-14156-4"
_CHUNK = 4_000_000  # grid points x variants evaluated at once


def _r_seq(start: float, stop: float, step: float) -> np.ndarray:
    """R's ``seq(from, to, by)``: ``from + (0:n) * by`` with R's 1e-10 fuzz."""
    n = math.floor((stop - start) / step + 1e-10)
    if n < 0:
        msg = f"`conmix`: empty grid: ci_min = {start!r} > ci_max = {stop!r}"
        raise InputError(msg)
    return start + np.arange(n + 1, dtype=np.float64) * step


def _loglik(theta: np.ndarray, ratio: np.ndarray, rse: np.ndarray, psi: float) -> np.ndarray:
    """Profile log-likelihood at each grid value (evaluated in chunks)."""
    var_in = rse**2
    exc = -(ratio**2) / 2.0 / (psi**2 + var_in) - np.log(np.sqrt(2 * np.pi * (psi**2 + var_in)))
    log_norm_in = np.log(np.sqrt(2 * np.pi * var_in))
    out = np.empty(theta.shape[0])
    step = max(1, _CHUNK // ratio.shape[0])
    for start in range(0, theta.shape[0], step):
        t = theta[start : start + step, None]
        inc = -((t - ratio) ** 2) / 2.0 / var_in - log_norm_in
        out[start : start + step] = np.maximum(inc, exc).sum(axis=1)
    return out


def _valid_at(
    theta: float, ratio: np.ndarray, rse: np.ndarray, psi: float
) -> tuple[np.ndarray, float]:
    var_in = rse**2
    inc = -((theta - ratio) ** 2) / 2.0 / var_in - np.log(np.sqrt(2 * np.pi * var_in))
    exc = -(ratio**2) / 2.0 / (psi**2 + var_in) - np.log(np.sqrt(2 * np.pi * (psi**2 + var_in)))
    return inc > exc, float(np.maximum(inc, exc).sum())


@register(
    "conmix",
    label="Contamination mixture",
    min_snps=2,
    reference=CONMIX_DOI,
    kernel="pair",
    aliases=("mr_conmix",),
)
def conmix(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    psi: float = 0.0,
    ci_min: float | None = None,
    ci_max: float | None = None,
    ci_step: float = 0.01,
    grid: Literal["all", "r"] = "all",
) -> MRResult:
    """Contamination mixture estimate with a profile-likelihood confidence set.

    Parameters
    ----------
    psi
        Standard deviation of the invalid variants' estimands; ``0`` (default, as
        the package) means :math:`1.5\\,\\mathrm{sd}(\\hat\\theta_j)`.
    ci_min, ci_max, ci_step
        The grid of :math:`\\theta` (R ``CIMin``, ``CIMax``, ``CIStep``, default
        0.01). The estimate is a grid point, so it is only as precise as
        ``ci_step``. Given ``ci_min``/``ci_max`` are used as they are.
    grid
        The default ends when ``ci_min``/``ci_max`` are not given. ``"r"``:
        MendelianRandomization 0.10.0's ``min((by - 2 sy)/bx)`` and
        ``max((by + 2 sy)/bx)``, which ignore the sign of ``bx``: with a negative
        ``bx`` the term is the *upper* end of that variant's interval, so the grid
        can miss ratio estimates and the maximum (CRP -> CAD: R reports the grid's
        end as the estimate; mrkit raises). ``"all"`` (default): R's grid extended
        by whole steps until it contains every ratio estimate's interval
        :math:`\\hat\\theta_j \\pm 2 s_j`; it keeps R's grid points, so wherever R's
        grid contains the maximum the two give the same answer.

    Returns
    -------
    MRResult
        ``se`` is NaN by design (the method gives none); ``ci_lower``/``ci_upper``
        are the ends of the confidence set, which may be a union of intervals:
        extras ``ci_intervals`` (list of ``[lo, hi]``), ``psi``, ``phi`` (the
        dispersion factor), ``valid_snps`` (0-based indices of the variants
        assigned to the valid component at the estimate), ``ci_min``, ``ci_max``,
        ``ci_step``.

    Raises
    ------
    InputError
        When the maximum is at an end of the grid (the grid does not contain the
        estimate: widen ``ci_min``/``ci_max``), or the grid is empty.

    Notes
    -----
    The p-value is MendelianRandomization 0.10.0's likelihood-ratio test of
    :math:`\\theta = 0`, :math:`P(\\chi^2_1 > 2(\\max\\ell - \\ell(0))\\,\\hat\\phi^2)`
    with :math:`\\ell(0)` evaluated exactly at zero. Note the statistic is
    *multiplied* by :math:`\\hat\\phi^2` (as the package does), whereas the
    confidence set divides by it; with over-dispersion (:math:`\\hat\\phi > 1`) the
    p-value is therefore smaller than the confidence set implies. The confidence set is
    the inference to report.

    .. warning:: The confidence set is made of grid points, so each end lies up to
       one ``ci_step`` inside the true end of the set. With the default step of
       0.01 and a causal effect whose standard error is of that order, the
       interval is too narrow: an audit simulation found 85% coverage of nominal
       95% intervals with valid, strong instruments. Choose ``ci_step`` well below
       the expected standard error (e.g. a tenth of the IVW SE) when the interval
       matters.
    """
    bx_, _sx, by_, sy_ = as_arrays(bx, sx, by, sy, method="conmix", min_snps=2)
    if not 0.0 < alpha < 1.0:
        msg = f"`conmix`: `alpha` must be in (0, 1), got {alpha!r}"
        raise InputError(msg)
    if not ci_step > 0:
        msg = f"`conmix`: `ci_step` must be > 0, got {ci_step!r}"
        raise InputError(msg)
    if grid not in ("all", "r"):
        msg = f"`conmix`: grid must be 'all' or 'r', got {grid!r}"
        raise InputError(msg)
    ratio = by_ / bx_
    rse = np.abs(sy_ / bx_)
    lo_default = float(np.min((by_ - 2 * sy_) / bx_))
    hi_default = float(np.max((by_ + 2 * sy_) / bx_))
    if grid == "all":
        lo_all = float(np.min(ratio - 2 * rse))
        hi_all = float(np.max(ratio + 2 * rse))
        if lo_all < lo_default:
            lo_default -= math.ceil((lo_default - lo_all) / ci_step) * ci_step
        if hi_all > hi_default:
            hi_default += math.ceil((hi_all - hi_default) / ci_step) * ci_step
    cmin = lo_default if ci_min is None else float(ci_min)
    cmax = hi_default if ci_max is None else float(ci_max)
    if psi <= 0:
        psi = 1.5 * float(np.std(ratio, ddof=1))
    theta = _r_seq(cmin, cmax, ci_step)
    if theta.shape[0] > 50_000_000:
        msg = f"`conmix`: the grid has {theta.shape[0]} points; increase `ci_step`"
        raise InputError(msg)
    loglik = _loglik(theta, ratio, rse, psi)
    best = int(np.argmax(loglik))
    if theta.shape[0] < 3 or best in (0, theta.shape[0] - 1):
        msg = (
            f"`conmix`: the likelihood is largest at the end of the grid "
            f"[{cmin:.6g}, {cmax:.6g}] (theta = {theta[best]:.6g}), so the grid does not "
            "contain the estimate; widen `ci_min`/`ci_max`"
            + (" (or use grid='all', the default)" if grid == "r" and ci_min is None else "")
        )
        raise InputError(msg)
    estimate = cmin + ci_step * best
    valid, _ = _valid_at(theta[best], ratio, rse, psi)
    nv = int(valid.sum())
    if nv < 2:
        phi = 1.0
    else:
        w = rse[valid] ** -2.0
        r = ratio[valid]
        wm = float(np.dot(w, r) / w.sum())
        phi = max(math.sqrt(float(np.dot(w, (r - wm) ** 2)) / (nv - 1)), 1.0)
    crit = float(stats.chi2.isf(alpha, 1))
    inside = np.flatnonzero(2 * loglik > 2 * loglik[best] - crit * phi**2)
    ci_range = cmin + ci_step * inside
    breaks = np.flatnonzero(np.diff(inside) > 1)
    lows = np.concatenate([[ci_range[0]], ci_range[breaks + 1]])
    highs = np.concatenate([ci_range[breaks], [ci_range[-1]]])
    _, ll0 = _valid_at(0.0, ratio, rse, psi)
    lr = max(2.0 * (float(loglik[best]) - ll0), 0.0) * phi**2
    pval = float(stats.chi2.sf(lr, 1))
    extras = {
        "ci_intervals": [[float(a), float(b)] for a, b in zip(lows, highs, strict=True)],
        "psi": float(psi),
        "phi": float(phi),
        "valid_snps": np.flatnonzero(valid).tolist(),
        "ci_min": cmin,
        "ci_max": cmax,
        "ci_step": float(ci_step),
        "grid": grid,
        "ci_truncated": bool(inside[0] == 0 or inside[-1] == theta.shape[0] - 1),
    }
    return MRResult(
        "conmix",
        float(estimate),
        float("nan"),
        float(lows[0]),
        float(highs[-1]),
        pval,
        int(bx_.shape[0]),
        alpha,
        extras,
    )


__all__ = ["conmix"]
