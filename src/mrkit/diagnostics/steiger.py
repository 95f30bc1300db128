"""Steiger directionality: do the instruments explain more of the exposure than the outcome?

If the exposure causes the outcome, a valid instrument explains more variance of
the exposure than of the outcome, :math:`\\rho^2_{GX} > \\rho^2_{GY}`. The two
correlations come from independent samples and are compared with Fisher's z:

.. math::

    z = \\frac{\\operatorname{atanh}\\rho_{GX} - \\operatorname{atanh}\\rho_{GY}}
             {\\sqrt{1/(n_X - 3) + 1/(n_Y - 3)}}, \\qquad p = 2\\Phi(-|z|)

(``psych::r.test(n, n2, r12, r34)``, as TwoSampleMR ``mr_steiger`` and
``steiger_filtering``). For the whole instrument set,
:math:`\\rho^2 = \\sum_j r_j^2` and :math:`n` is the mean sample size; per variant
(``steiger_filtering``) each variant is tested on its own.

Per-variant :math:`r^2` comes from :func:`r2_continuous` (effect, SE and N; or
frequency for SD-unit traits), :func:`r2_from_pn` (p-value and N, what
``directionality_test`` uses) or :func:`r2_binary` (log odds ratio, frequency,
cases, controls and prevalence: the liability scale).

References
----------
Hemani G, Tilling K, Davey Smith G (2017). Orienting the causal relationship between
imprecisely measured traits using GWAS summary data. PLoS Genet 13:e1007081.
doi:10.1371/journal.pgen.1007081
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, special, stats

from mrkit._core.arrays import FloatArray
from mrkit.diagnostics.core import r2_from_bsen, r2_from_eaf
from mrkit.errors import InputError

STEIGER_DOI = "doi:10.1371/journal.pgen.1007081"


def _vec(name: str, values: ArrayLike, *, positive: bool = False) -> FloatArray:
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        msg = f"`{name}` is not numeric ({exc})"
        raise InputError(msg) from None
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        msg = f"`{name}` is not finite at row {int(bad[0])} ({bad.size} such rows)"
        raise InputError(msg)
    if positive and np.any(arr <= 0):
        msg = f"`{name}` must be > 0 (row {int(np.flatnonzero(arr <= 0)[0])})"
        raise InputError(msg)
    return arr


def _n_vec(name: str, n: ArrayLike) -> FloatArray:
    arr = _vec(name, n)
    bad = np.flatnonzero(arr <= 3)
    if bad.size:
        msg = f"sample size `{name}` must be > 3, got {arr[bad[0]]!r} at row {int(bad[0])}"
        raise InputError(msg)
    return arr


# ------------------------------------------------------------------------ r² per variant


def r2_continuous(
    beta: ArrayLike, se: ArrayLike, n: ArrayLike, eaf: ArrayLike | None = None
) -> FloatArray:
    """Per-variant variance explained in a continuous trait.

    Without ``eaf`` (TwoSampleMR ``add_rsq`` / ``steiger_filtering`` default,
    ``get_r_from_bsen(beta, se, n)^2``):

    .. math:: F_j = (\\beta_j/\\sigma_j)^2, \\qquad R^2_j = \\frac{F_j}{n_j - 2 + F_j}

    With ``eaf``, for a trait in SD units (TwoSampleMR ``units`` containing "SD"):
    :math:`R^2_j = 2\\beta_j^2 f_j(1-f_j)`; ``se`` and ``n`` are then not used.
    """
    if eaf is not None:
        return r2_from_eaf(beta, eaf)
    return r2_from_bsen(beta, se, _n_vec("n", n))


def _log_p_from_r2n(r2: float, n: float) -> float:
    """log p of the F test of r² on (1, n - 1) df (TwoSampleMR ``get_p_from_r2n``)."""
    fval = r2 * (n - 2.0) / (1.0 - r2)
    return float(stats.f.logsf(fval, 1.0, n - 1.0))


def r2_from_pn(p: ArrayLike, n: ArrayLike) -> FloatArray:
    """Per-variant :math:`R^2` from a p-value and sample size (TwoSampleMR ``get_r_from_pn``^2).

    .. math:: F_j = F^{-1}_{1,\\,n_j-1}(1 - p_j), \\qquad R^2_j = \\frac{F_j}{n_j - 2 + F_j}

    The quantile is computed through the inverse regularised incomplete beta
    function in the small tail, accurate to ~1e-12 for p down to 1e-300. Where it
    still overflows :math:`R^2` is solved from :math:`\\log p` directly (TwoSampleMR
    uses ``optim`` there). A p-value of
    0 cannot be converted: pass the effect and SE to :func:`r2_continuous` instead.
    """
    p_ = _vec("p", p)
    n_ = _n_vec("n", n)
    p_, n_ = np.broadcast_arrays(p_, n_)
    if np.any((p_ <= 0) | (p_ > 1)):
        j = int(np.flatnonzero((p_ <= 0) | (p_ > 1))[0])
        msg = (
            f"`p` must be in (0, 1], got {p_[j]!r} at row {j}; a p-value of 0 cannot be "
            "converted to r², use r2_continuous(beta, se, n) instead"
        )
        raise InputError(msg)
    # upper tail of F(1, d) at F is the regularised I_y(1/2, d/2) complement with
    # y = F/(d + F): inverting it in y keeps full precision for tiny p, where
    # F.isf (through x = d/(d + F) near 1) loses digits
    d = n_ - 1.0
    y = special.betainccinv(0.5, d / 2.0, p_)
    with np.errstate(divide="ignore", invalid="ignore"):
        fval = d * y / (1.0 - y)
        r2 = fval / (n_ - 2.0 + fval)
    for j in map(int, np.flatnonzero(~np.isfinite(r2))):
        target = math.log(p_[j])

        def gap(x: float, j: int = j, target: float = target) -> float:
            return _log_p_from_r2n(x, n_[j]) - target

        lo, hi = 1e-300, 1.0 - 1e-15
        if gap(hi) > 0:
            msg = (
                f"p = {float(p_[j])!r} at row {int(j)} is too small for a sample size of "
                f"{float(n_[j])!r}; check the p-value and n, or use r2_continuous(beta, se, n)"
            )
            raise InputError(msg)
        r2[j] = optimize.brentq(gap, lo, hi, xtol=1e-300, rtol=1e-15)
    return r2


def effective_n(ncase: ArrayLike, ncontrol: ArrayLike) -> FloatArray:
    """Effective sample size of a case-control study, :math:`2/(1/n_1 + 1/n_0)`.

    (TwoSampleMR ``effective_n``; used as ``n`` for binary traits.)
    """
    return 2.0 / (
        1.0 / _vec("ncase", ncase, positive=True) + 1.0 / _vec("ncontrol", ncontrol, positive=True)
    )


def _population_af(af: ArrayLike, prop: ArrayLike, odds_ratio: ArrayLike, prevalence: ArrayLike):
    """Population allele frequency from case-control frequency, as TwoSampleMR 0.7.9
    ``get_population_allele_frequency`` (vectorised; no ``zapsmall`` rounding).

    The case-allele cell :math:`z` of the 2x2 table of allele by status with margins
    ``af`` and ``prop`` and the given odds ratio solves
    :math:`(OR - 1) z^2 + ((af + prop)(1 - OR) - 1) z + OR\\, af\\, prop = 0`
    (:math:`z = -c/b` when :math:`|OR - 1| < 10^{-15}`); the root
    :math:`(-b + \\sqrt{\\max(0, b^2 - 4ac)})/2a` is used when all four cells
    :math:`z, prop - z, af - z, 1 + z - af - prop` are :math:`\\ge -10^{-7}`, else the
    other root. Then :math:`f_{controls} = (af - z)/(1 - prop)`, :math:`f_{cases} =
    z/prop` and :math:`f_{pop} = f_{controls}(1 - K) + f_{cases} K`. (Older
    TwoSampleMR rounded the cells with ``zapsmall`` to 7 significant digits, which
    moved per-variant Steiger p-values by up to ~5e-6.)
    """
    f, pr, orr, k = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (af, prop, odds_ratio, prevalence))
    )
    a = orr - 1.0
    b = (f + pr) * (1.0 - orr) - 1.0
    c = orr * f * pr
    linear = np.abs(a) < 1e-15
    with np.errstate(divide="ignore", invalid="ignore"):
        sqrt_d = np.sqrt(np.maximum(0.0, b * b - 4.0 * a * c))
        z_pos = (-b + sqrt_d) / (2.0 * a)
        z_neg = (-b - sqrt_d) / (2.0 * a)
        tol = -1e-7
        valid_pos = (
            (z_pos >= tol) & (pr - z_pos >= tol) & (f - z_pos >= tol) & (1 + z_pos - f - pr >= tol)
        )
        z = np.where(linear, -c / b, np.where(valid_pos, z_pos, z_neg))
    out = (f - z) / (1.0 - pr) * (1.0 - k) + z / pr * k
    if np.ndim(af) == 0:
        return float(out)
    return out


def r2_binary(
    beta_logodds: ArrayLike,
    eaf: ArrayLike,
    ncase: ArrayLike,
    ncontrol: ArrayLike,
    prevalence: ArrayLike,
    *,
    model: Literal["logit", "probit"] = "logit",
    correction: bool = False,
) -> FloatArray:
    """Per-variant variance of liability explained by a variant for a binary trait.

    TwoSampleMR ``get_r_from_lor(...)^2`` (Lee et al. 2012, Genet Epidemiol 36:214,
    eq. 10): with :math:`f` the population effect-allele frequency recovered from the
    case-control frequency, the case proportion :math:`n_1/(n_1+n_0)`, the odds ratio
    and the prevalence :math:`K`,

    .. math::

        V_G = \\beta^2 f(1-f), \\qquad R^2 = \\frac{V_G}{V_G + V_E}, \\qquad
        V_E = \\pi^2/3 \\text{ (logit) or } 1 \\text{ (probit)}

    ``correction=True`` divides :math:`R^2` by 0.58 as TwoSampleMR does. ``ncase``,
    ``ncontrol`` and ``prevalence`` may be scalars or per-variant arrays.
    """
    lor = _vec("beta_logodds", beta_logodds)
    f = _vec("eaf", eaf)
    if f.shape != lor.shape:
        msg = f"`eaf` has {f.shape[0]} values but `beta_logodds` has {lor.shape[0]}"
        raise InputError(msg)
    if np.any((f <= 0) | (f >= 1)):
        msg = "`eaf` must be in (0, 1)"
        raise InputError(msg)
    n1 = _vec("ncase", ncase, positive=True)
    n0 = _vec("ncontrol", ncontrol, positive=True)
    k = _vec("prevalence", prevalence)
    if np.any((k <= 0) | (k >= 1)):
        msg = "`prevalence` must be in (0, 1)"
        raise InputError(msg)
    try:
        lor, f, n1, n0, k = np.broadcast_arrays(lor, f, n1, n0, k)
    except ValueError:
        msg = "`ncase`, `ncontrol` and `prevalence` must be scalars or one value per variant"
        raise InputError(msg) from None
    if model == "logit":
        ve = math.pi**2 / 3.0
    elif model == "probit":
        ve = 1.0
    else:
        msg = f"`model` must be 'logit' or 'probit', got {model!r}"
        raise InputError(msg)
    prop = n1 / (n1 + n0)
    popaf = np.asarray(_population_af(f, prop, np.exp(lor), k))
    vg = lor**2 * popaf * (1.0 - popaf)
    r2 = vg / (vg + ve)
    return r2 / 0.58 if correction else r2


# ----------------------------------------------------------------------------- the tests


def _fisher_z(r_exp: FloatArray, r_out: FloatArray, n_exp: FloatArray, n_out: FloatArray):
    return (np.arctanh(r_exp) - np.arctanh(r_out)) / np.sqrt(
        1.0 / (n_exp - 3.0) + 1.0 / (n_out - 3.0)
    )


def _two_sided(z: FloatArray) -> FloatArray:
    return 2.0 * special.ndtr(-np.abs(z))


def steiger_sensitivity(r_exp: float, r_out: float) -> dict[str, float]:
    """How much measurement error it would take to reverse the inferred direction.

    TwoSampleMR ``steiger_sensitivity`` (Hemani et al. 2017), with :math:`a` the
    larger and :math:`b` the smaller of the two *correlations* (not :math:`r^2`):

    .. math::

        v_z = a\\ln a - b\\ln b + ab(\\ln b - \\ln a), \\qquad
        v_{z0} = -2b - b\\ln a - ab\\ln a + 2ab, \\qquad
        v_{z1} = |v_z - v_{z0}|, \\qquad \\text{ratio} = v_{z1}/v_{z0}
    """
    a, b = (r_out, r_exp) if r_out > r_exp else (r_exp, r_out)
    if not 0.0 < b <= a < 1.0:
        msg = f"correlations must be in (0, 1), got r_exp = {r_exp!r}, r_out = {r_out!r}"
        raise InputError(msg)
    la, lb = math.log(a), math.log(b)
    vz = a * la - b * lb + a * b * (lb - la)
    vz0 = -2.0 * b - b * la - a * b * la + 2.0 * a * b
    vz1 = abs(vz - vz0)
    return {"vz": vz, "vz0": vz0, "vz1": vz1, "sensitivity_ratio": vz1 / vz0}


def steiger_test(
    r2_exp: ArrayLike,
    r2_out: ArrayLike,
    n_exp: ArrayLike,
    n_out: ArrayLike,
    *,
    r_xxo: float = 1.0,
    r_yyo: float = 1.0,
) -> dict[str, Any]:
    """MR Steiger test of direction for a set of instruments (TwoSampleMR ``mr_steiger2``).

    Parameters
    ----------
    r2_exp, r2_out
        Per-variant (or already summed) variance explained in exposure and outcome;
        they are summed, :math:`\\rho^2 = \\sum_j r_j^2`.
    n_exp, n_out
        Sample sizes (per variant or one each); their means enter the test.
    r_xxo, r_yyo
        Measurement precision of exposure and outcome, in [0, 1]; the adjusted
        values use :math:`\\rho^2/r_{xxo}^2` and :math:`\\rho^2/r_{yyo}^2`.

    Returns
    -------
    dict
        ``r2_exp, r2_out, r2_exp_adj, r2_out_adj, correct_causal_direction,
        steiger_pval, correct_causal_direction_adj, steiger_pval_adj, z, vz, vz0, vz1,
        sensitivity_ratio`` (TwoSampleMR's ``steiger_test`` is ``steiger_pval``). The
        sensitivity volumes are NaN when either summed r² is 0, and
        ``steiger_pval_adj`` is NaN when an adjusted correlation reaches 1.
    """
    re2 = _vec("r2_exp", r2_exp)
    ro2 = _vec("r2_out", r2_out)
    if np.any(re2 < 0) or np.any(ro2 < 0):
        msg = "r² values must be >= 0"
        raise InputError(msg)
    ne = float(np.mean(_n_vec("n_exp", n_exp)))
    no = float(np.mean(_n_vec("n_out", n_out)))
    for name, v in (("r_xxo", r_xxo), ("r_yyo", r_yyo)):
        if not 0.0 < v <= 1.0:
            msg = f"`{name}` must be in (0, 1], got {v!r}"
            raise InputError(msg)
    rx = math.sqrt(float(np.sum(re2)))
    ry = math.sqrt(float(np.sum(ro2)))
    if rx >= 1.0 or ry >= 1.0:
        msg = (
            f"summed r² must be < 1 (exposure {rx**2:.4g}, outcome {ry**2:.4g}); "
            "are the variants LD-pruned?"
        )
        raise InputError(msg)
    if rx > 0.0 and ry > 0.0:
        sens = steiger_sensitivity(rx, ry)
    else:  # the volumes involve log(r): undefined when a trait has r² = 0
        sens = dict.fromkeys(("vz", "vz0", "vz1", "sensitivity_ratio"), float("nan"))
    rx_adj, ry_adj = rx / r_xxo, ry / r_yyo
    z = float(_fisher_z(np.array(rx), np.array(ry), np.array(ne), np.array(no)))
    if rx_adj < 1.0 and ry_adj < 1.0:
        z_adj = float(_fisher_z(np.array(rx_adj), np.array(ry_adj), np.array(ne), np.array(no)))
        p_adj = float(_two_sided(np.array(z_adj)))
    else:
        p_adj = float("nan")
    return {
        "r2_exp": rx**2,
        "r2_out": ry**2,
        "r2_exp_adj": rx_adj**2,
        "r2_out_adj": ry_adj**2,
        "correct_causal_direction": bool(rx > ry),
        "steiger_pval": float(_two_sided(np.array(z))),
        "correct_causal_direction_adj": bool(rx_adj > ry_adj),
        "steiger_pval_adj": p_adj,
        "z": z,
        **sens,
    }


def directionality_test(
    p_exp: ArrayLike,
    p_out: ArrayLike,
    n_exp: ArrayLike,
    n_out: ArrayLike,
    *,
    r2_exp: ArrayLike | None = None,
    r2_out: ArrayLike | None = None,
) -> dict[str, Any]:
    """Steiger directionality of the whole instrument set (TwoSampleMR ``directionality_test``).

    Per-variant :math:`r^2` is taken from ``r2_exp`` / ``r2_out`` where given
    (NaN entries, or ``None``, are filled from the p-value and sample size with
    :func:`r2_from_pn`, assuming a continuous trait, as TwoSampleMR does); then
    :func:`steiger_test`. For a binary trait, pass ``r2_*`` from :func:`r2_binary`.

    Returns
    -------
    dict
        :func:`steiger_test`'s keys, with ``snp_r2_exposure`` and ``snp_r2_outcome``
        (the summed :math:`r^2`, TwoSampleMR's ``snp_r2.exposure``/``snp_r2.outcome``).
    """
    r2e = _fill_r2("exp", p_exp, n_exp, r2_exp)
    r2o = _fill_r2("out", p_out, n_out, r2_out)
    res = steiger_test(r2e, r2o, n_exp, n_out)
    return {"snp_r2_exposure": res["r2_exp"], "snp_r2_outcome": res["r2_out"], **res}


def _fill_r2(side: str, p: ArrayLike, n: ArrayLike, r2: ArrayLike | None) -> FloatArray:
    p_arr = np.atleast_1d(np.asarray(p, dtype=np.float64))
    if r2 is None:
        return r2_from_pn(p_arr, n)
    out = np.atleast_1d(np.asarray(r2, dtype=np.float64)).copy()
    if out.shape != p_arr.shape:
        msg = f"`r2_{side}` has {out.shape[0]} values but `p_{side}` has {p_arr.shape[0]}"
        raise InputError(msg)
    miss = np.isnan(out)
    if miss.any():
        n_arr = np.broadcast_to(np.asarray(n, dtype=np.float64), p_arr.shape)
        out[miss] = r2_from_pn(p_arr[miss], n_arr[miss])
    return out


def steiger_filtering(
    r2_exp: ArrayLike, r2_out: ArrayLike, n_exp: ArrayLike, n_out: ArrayLike
) -> pd.DataFrame:
    """Steiger test of each variant (TwoSampleMR ``steiger_filtering``).

    Each variant's :math:`r^2` in exposure and outcome is compared with Fisher's z
    using that variant's (effective) sample sizes. To reproduce TwoSampleMR for
    continuous traits without units, pass ``r2_continuous(beta, se, n)`` for both;
    for a binary trait :func:`r2_binary` with ``n = effective_n(ncase, ncontrol)``.

    Returns
    -------
    pandas.DataFrame
        One row per variant, in input order: ``rsq_exposure``, ``rsq_outcome``,
        ``steiger_dir`` (``rsq_exposure > rsq_outcome``) and ``steiger_pval``.
        Drop variants with ``steiger_dir`` false (and, if wanted, a small
        ``steiger_pval``) to keep those oriented exposure -> outcome.
    """
    re2 = _vec("r2_exp", r2_exp)
    ro2 = _vec("r2_out", r2_out)
    if re2.shape != ro2.shape:
        msg = f"`r2_out` has {ro2.shape[0]} values but `r2_exp` has {re2.shape[0]}"
        raise InputError(msg)
    for name, v in (("r2_exp", re2), ("r2_out", ro2)):
        if np.any((v < 0) | (v >= 1)):
            msg = f"`{name}` must be in [0, 1)"
            raise InputError(msg)
    ne = np.broadcast_to(_n_vec("n_exp", n_exp), re2.shape)
    no = np.broadcast_to(_n_vec("n_out", n_out), re2.shape)
    z = _fisher_z(np.sqrt(re2), np.sqrt(ro2), ne, no)
    return pd.DataFrame(
        {
            "rsq_exposure": re2,
            "rsq_outcome": ro2,
            "steiger_dir": re2 > ro2,
            "steiger_pval": _two_sided(z),
        }
    )


__all__ = [
    "STEIGER_DOI",
    "directionality_test",
    "effective_n",
    "r2_binary",
    "r2_continuous",
    "r2_from_pn",
    "steiger_filtering",
    "steiger_sensitivity",
    "steiger_test",
]
