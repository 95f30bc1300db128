"""Diagnostics of an MR analysis: heterogeneity, pleiotropy, instrument strength,
single-variant and leave-one-out estimates, and Rücker's model selection.

Every function is a pure function of the four summary-statistic vectors
(``bx, sx, by, sy``: variant-exposure and variant-outcome associations and their
standard errors) and follows TwoSampleMR 0.7.9 unless its docstring says
otherwise. Steiger directionality lives in :mod:`mrkit.diagnostics.steiger`.

References
----------
Bowden J, Del Greco M F, Minelli C, Davey Smith G, Sheehan NA, Thompson JR (2016).
Assessing the suitability of summary data for two-sample Mendelian randomization
analyses using MR-Egger regression: the role of the I² statistic. Int J Epidemiol
45:1961-1974. doi:10.1093/ije/dyw220

Bowden J, Davey Smith G, Burgess S (2015). Mendelian randomization with invalid
instruments: effect estimation and bias detection through Egger regression. Int J
Epidemiol 44:512-525. doi:10.1093/ije/dyv080
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from mrkit._core.arrays import FloatArray, as_arrays, critical
from mrkit.diagnostics import segments
from mrkit.diagnostics.rucker import RuckerResult, rucker
from mrkit.errors import InputError, TooFewVariantsError
from mrkit.methods import _kernels as kernels
from mrkit.methods import get_method
from mrkit.results import MRResult

# The closed-form diagnostics below are the segment kernels of
# mrkit.diagnostics.segments and mrkit.methods._kernels run on one pair: one code
# path for one pair and for the engine's many.


def _egger(bx: FloatArray, sx: FloatArray, by: FloatArray, sy: FloatArray, name: str) -> dict:
    """The Egger kernel on one pair; a collinear design raises, naming ``name``."""
    e = kernels.egger(bx, sx, by, sy, kernels.Segments.single(bx.shape[0]))
    reason = e.pop("reason")[0]
    if reason is not None:
        raise InputError(f"{reason.replace('`egger`', f'`{name}`')}; {kernels.COLLINEAR_HINT}")
    return {k: v[0] for k, v in e.items()}


# ------------------------------------------------------------------ heterogeneity


def heterogeneity(bx: ArrayLike, sx: ArrayLike, by: ArrayLike, sy: ArrayLike) -> list[dict]:
    """Cochran's Q (IVW) and Rücker's Q' (MR-Egger), as TwoSampleMR ``mr_heterogeneity``.

    .. math::

        Q = \\sum_j \\frac{(\\beta_{Yj} - \\hat\\beta_{IVW}\\beta_{Xj})^2}{\\sigma_{Yj}^2}
        \\sim \\chi^2_{J-1}, \\qquad
        Q' = \\sum_j \\frac{(\\beta_{Yj} - \\hat\\beta_{0E} - \\hat\\beta_{E}\\beta_{Xj})^2}
        {\\sigma_{Yj}^2} \\sim \\chi^2_{J-2}

    (Egger on variants oriented to :math:`\\beta_{Xj} \\ge 0`).

    Returns
    -------
    list of dict
        ``{"method": "ivw", "q", "q_df", "q_pval"}`` then the same for ``"egger"``.
        With exactly 2 variants only the IVW record is returned (TwoSampleMR drops
        Egger's NA row); fewer than 2 raises :class:`~mrkit.errors.TooFewVariantsError`.
    """
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method="heterogeneity", min_snps=2)
    ivw = kernels.ivw(bx_, sx_, by_, sy_, kernels.Segments.single(bx_.shape[0]))
    out = [_q_record("ivw", ivw["q"][0], ivw["q_df"][0], ivw["q_pval"][0])]
    if bx_.shape[0] >= 3:
        e = _egger(bx_, sx_, by_, sy_, "heterogeneity")
        out.append(_q_record("egger", e["q"], e["q_df"], e["q_pval"]))
    return out


def _q_record(method: str, q: float, df: int, p: float) -> dict:
    return {"method": method, "q": float(q), "q_df": int(df), "q_pval": float(p)}


def pleiotropy(bx: ArrayLike, sx: ArrayLike, by: ArrayLike, sy: ArrayLike) -> dict[str, float]:
    """MR-Egger intercept test of directional pleiotropy (TwoSampleMR ``mr_pleiotropy_test``).

    The intercept :math:`\\hat\\beta_{0E}` of the weighted regression of
    :math:`\\beta_{Yj}` on :math:`\\beta_{Xj}` (oriented so :math:`\\beta_{Xj}\\ge 0`,
    weights :math:`\\sigma_{Yj}^{-2}`); SE divided by :math:`\\min(1,\\hat\\phi)` and the
    p-value from :math:`t_{J-2}`. Needs at least 3 variants.

    Returns
    -------
    dict
        ``egger_intercept``, ``se``, ``pval``.
    """
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method="pleiotropy", min_snps=3)
    e = _egger(bx_, sx_, by_, sy_, "pleiotropy")
    return {
        "egger_intercept": float(e["egger_intercept"]),
        "se": float(e["egger_intercept_se"]),
        "pval": float(e["egger_intercept_pval"]),
    }


# ---------------------------------------------------------------- instrument strength


def _pair(bx: ArrayLike, sx: ArrayLike, method: str, min_snps: int = 1):
    b, s, _, _ = as_arrays(bx, sx, bx, sx, method=method, min_snps=min_snps)
    return b, s


def i2gx(bx: ArrayLike, sx: ArrayLike, *, absolute: bool = True) -> float:
    """:math:`I^2_{GX}` of the variant-exposure associations (Bowden et al. 2016).

    .. math::

        Q_{GX} = \\sum_j w_j(|\\beta_{Xj}| - \\bar\\beta_X)^2, \\quad
        w_j = \\sigma_{Xj}^{-2}, \\quad
        \\bar\\beta_X = \\frac{\\sum_j w_j|\\beta_{Xj}|}{\\sum_j w_j}, \\qquad
        I^2_{GX} = \\max\\Big(0, \\frac{Q_{GX} - (J-1)}{Q_{GX}}\\Big)

    As TwoSampleMR ``Isq(abs(beta.exposure), se.exposure)``. Values below 0.9
    suggest regression dilution of MR-Egger (the NOME assumption is violated).

    Parameters
    ----------
    absolute
        ``True`` (default): use :math:`|\\beta_{Xj}|` (orientation-free, Bowden's
        definition). ``False``: the signed associations (``Isq(beta.exposure, ...)``).
    """
    b, s = _pair(bx, sx, "i2gx", min_snps=2)
    return float(segments.i2gx(b, s, kernels.Segments.single(b.shape[0]), absolute=absolute)[0])


def f_statistics(bx: ArrayLike, sx: ArrayLike) -> FloatArray:
    """Per-variant F statistic, :math:`F_j = (\\beta_{Xj}/\\sigma_{Xj})^2`.

    The usual approximation to the first-stage F of one variant; ``F < 10`` flags
    a weak instrument.
    """
    b, s = _pair(bx, sx, "f_statistics")
    return (b / s) ** 2


def f_mean(bx: ArrayLike, sx: ArrayLike) -> float:
    """Mean of the per-variant F statistics, :math:`\\bar F = J^{-1}\\sum_j F_j`."""
    b, s = _pair(bx, sx, "f_statistics")
    return float(segments.strength(b, s, kernels.Segments.single(b.shape[0]))["f_mean"][0])


def r2_from_f(f: ArrayLike, n: ArrayLike) -> FloatArray:
    """Variance explained from an F statistic on 1 df and sample size.

    .. math:: R^2_j = \\frac{F_j}{n_j - 2 + F_j}

    (inverting :math:`F = R^2 (n-2)/(1-R^2)`; TwoSampleMR ``get_r_from_bsen`` squared).
    """
    f_, n_ = np.broadcast_arrays(np.asarray(f, dtype=float), np.asarray(n, dtype=float))
    if np.any(n_ <= 2):
        msg = "sample size `n` must be > 2 to convert F to R²"
        raise InputError(msg)
    return f_ / (n_ - 2.0 + f_)


def r2_from_bsen(beta: ArrayLike, se: ArrayLike, n: ArrayLike) -> FloatArray:
    """Per-variant :math:`R^2` from effect, SE and (effective) sample size.

    .. math:: F_j = (\\beta_j/\\sigma_j)^2, \\qquad R^2_j = \\frac{F_j}{n_j - 2 + F_j}

    As TwoSampleMR ``get_r_from_bsen(b, se, n)^2`` (what ``add_rsq`` and
    ``steiger_filtering`` use for continuous traits without SD units).
    """
    return r2_from_f(f_statistics(beta, se), n)


def r2_from_eaf(beta: ArrayLike, eaf: ArrayLike) -> FloatArray:
    """Per-variant :math:`R^2` of a standardised (SD-unit) trait from effect and frequency.

    .. math:: R^2_j = 2\\beta_j^2 f_j(1 - f_j)

    with :math:`f_j` the effect-allele frequency: the variance of an additive
    genotype under Hardy-Weinberg times the squared per-allele effect in SD units.
    As TwoSampleMR ``add_rsq`` when ``units`` contains ``"SD"``.
    """
    b = np.asarray(beta, dtype=float)
    f = np.asarray(eaf, dtype=float)
    if np.any((f < 0) | (f > 1)) or np.any(~np.isfinite(f)):
        msg = "`eaf` must be a frequency in [0, 1]"
        raise InputError(msg)
    return 2.0 * b**2 * f * (1.0 - f)


# ------------------------------------------------------------ per-variant analyses


def single_snp(
    bx: ArrayLike, sx: ArrayLike, by: ArrayLike, sy: ArrayLike, *, alpha: float = 0.05
) -> list[MRResult]:
    """Wald ratio of every variant (the per-SNP rows of TwoSampleMR ``mr_singlesnp``).

    .. math:: \\hat\\beta_j = \\beta_{Yj}/\\beta_{Xj}, \\qquad
              \\mathrm{SE}_j = \\sigma_{Yj}/|\\beta_{Xj}|

    First-order SE (ignores :math:`\\sigma_{Xj}`) and a normal p-value, as
    ``mr_wald_ratio``. The j-th result is variant j, with ``extras["index"] = j``.
    TwoSampleMR's two summary rows ("All - IVW", "All - MR Egger") are not
    included: call those methods directly.
    """
    bx_, _sx, by_, sy_ = as_arrays(bx, sx, by, sy, method="single_snp", min_snps=1)
    zero = np.flatnonzero(bx_ == 0)
    if zero.size:
        msg = f"`single_snp`: `bx` is 0 at row {int(zero[0])}; a Wald ratio needs bx != 0"
        raise InputError(msg)
    critical(alpha)  # checks alpha
    cols = segments.single_snp(bx_, sy_, by_, alpha=alpha)
    return [
        MRResult("wald_ratio", *kernels.core_row(cols, j), 1, alpha, {"index": j})
        for j in range(bx_.shape[0])
    ]


def leave_one_out(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    method: str = "ivw",
    alpha: float = 0.05,
    **opts: Any,
) -> list[MRResult]:
    """Re-estimate with each variant left out (TwoSampleMR ``mr_leaveoneout``).

    The i-th result uses every variant but i (``extras["excluded"] = i``). The
    default method is IVW with multiplicative random effects and the SE floor
    (TwoSampleMR ``mr_ivw``); any registered method can be named, with its options
    in ``opts``. Needs at least 3 variants (TwoSampleMR returns only the all-variant
    estimate below 3), and one more than the method's minimum. The default (IVW
    without options) is the closed form of
    :func:`mrkit.diagnostics.segments.leave_one_out`; other methods and options
    refit the method J times.
    """
    spec = get_method(method)
    needed = max(3, spec.min_snps + 1)
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method="leave_one_out", min_snps=1)
    n = bx_.shape[0]
    if n < needed:
        raise TooFewVariantsError(f"leave_one_out ({spec.name})", needed, n)
    if spec.name == "ivw" and not opts:
        critical(alpha)  # checks alpha
        cols = segments.leave_one_out(bx_, sx_, by_, sy_, kernels.Segments.single(n), alpha=alpha)
        extras = ("q", "q_df", "q_pval", "rse")
        return [
            MRResult(
                "ivw",
                *kernels.core_row(cols, i),
                n - 1,
                alpha,
                {
                    **{k: float(cols[k][i]) for k in extras},
                    "q_df": int(cols["q_df"][i]),
                    "model": "random",
                    "excluded": i,
                },
            )
            for i in range(n)
        ]
    keep = ~np.eye(n, dtype=bool)
    out = []
    for i in range(n):
        m = keep[i]
        r = spec(bx_[m], sx_[m], by_[m], sy_[m], alpha=alpha, **opts)
        out.append(
            MRResult(
                r.method,
                r.estimate,
                r.se,
                r.ci_lower,
                r.ci_upper,
                r.pval,
                r.nsnp,
                r.alpha,
                {**r.extras, "excluded": i},
            )
        )
    return out


__all__ = [
    "RuckerResult",
    "f_mean",
    "f_statistics",
    "heterogeneity",
    "i2gx",
    "leave_one_out",
    "pleiotropy",
    "r2_from_bsen",
    "r2_from_eaf",
    "r2_from_f",
    "rucker",
    "single_snp",
]
