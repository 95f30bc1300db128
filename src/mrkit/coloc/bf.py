"""Wakefield approximate Bayes factors and their combination into coloc's H0..H4 posteriors.

Closed forms on numpy arrays, computed in log space so that posteriors as small as
1e-300 keep their relative precision. :mod:`mrkit.coloc.abf` (coloc.abf, finemap.abf)
and the SuSiE colocalisation build on these.

References
----------
Wakefield J (2009). Bayes factors for genome-wide association studies: comparison with
P-values. Genet Epidemiol 33:79-86. https://doi.org/10.1002/gepi.20359

Giambartolomei C et al. (2014). Bayesian test for colocalisation between pairs of genetic
association studies using summary statistics. PLoS Genet 10:e1004383.
https://doi.org/10.1371/journal.pgen.1004383
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mrkit.coloc.data import ColocDataset
from mrkit.errors import InputError, StatisticalWarning

__all__ = [
    "EFFECT_PRIORS",
    "adjust_prior",
    "combine_abf",
    "dataset_labf",
    "labf_from_estimates",
    "labf_from_pvalues",
    "logsumexp",
    "sdy_est",
]

#: Prior standard deviation of the effect (coloc's ``effect_priors``): ``0.15 sdY`` for a
#: quantitative trait, 0.2 on the log-odds scale for a case-control trait.
EFFECT_PRIORS = {"quant": 0.15, "cc": 0.2}

FloatArray = NDArray[np.float64]


def logsumexp(x: ArrayLike) -> float:
    r"""``log(sum(exp(x)))`` taking out the maximum, as coloc's ``logsum``.

    .. math:: \log\sum_i e^{x_i} = m + \log\sum_i e^{x_i - m},\quad m = \max_i x_i
    """
    a = np.asarray(x, dtype=float)
    m = float(np.max(a))
    if not np.isfinite(m):
        return m
    return m + float(np.log(np.sum(np.exp(a - m))))


def _logdiff(x: float, y: float) -> float:
    """``log(exp(x) - exp(y))``, floored at ``log(0) = -inf`` (coloc's ``logdiff``)."""
    m = max(x, y)
    d = np.exp(x - m) - np.exp(y - m)
    return m + float(np.log(d)) if d > 0 else -np.inf


def _log_priors(
    n: int,
    p1: float,
    p2: float,
    p12: float,
    prior_weights1: ArrayLike | None,
    prior_weights2: ArrayLike | None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-SNP log priors ``log p1_i, log p2_i, log p12_i`` (coloc's combine_abf_weighted).

    With weights ``w``, ``p1_i = Q p1 w_i / sum(w)``; ``p12_i = p1_i p2_i p12 / (p1 p2)``.
    """

    def one(p: float, w: ArrayLike | None, name: str) -> FloatArray:
        if w is None:
            return np.full(n, np.log(p))
        a = np.asarray(w, dtype=float)
        if a.shape != (n,):
            msg = f"`{name}` has {a.size} weights for {n} SNPs; give one weight per SNP"
            raise InputError(msg)
        if not np.all(np.isfinite(a)) or np.any(a < 0) or a.sum() <= 0:
            msg = f"`{name}` must be finite, non-negative and not all zero"
            raise InputError(msg)
        with np.errstate(divide="ignore"):
            return np.log(n * p * a / a.sum())

    lp1 = one(p1, prior_weights1, "prior_weights1")
    lp2 = one(p2, prior_weights2, "prior_weights2")
    lp12 = lp1 + lp2 + np.log(p12) - np.log(p1) - np.log(p2)
    return lp1, lp2, lp12


def combine_abf(
    labf1: ArrayLike,
    labf2: ArrayLike,
    p1: float,
    p2: float,
    p12: float,
    *,
    prior_weights1: ArrayLike | None = None,
    prior_weights2: ArrayLike | None = None,
) -> FloatArray:
    r"""Posterior probabilities of H0..H4 from per-SNP log Bayes factors (coloc's ``combine.abf``).

    With per-SNP log ABFs :math:`\ell_{1i}, \ell_{2i}` over the same :math:`Q` SNPs,

    .. math::

        \log B_0 &= 0 \\
        \log B_1 &= \log p_1 + \log\sum_i e^{\ell_{1i}},\quad
        \log B_2 = \log p_2 + \log\sum_i e^{\ell_{2i}} \\
        \log B_3 &= \log p_1 + \log p_2 + \log\Big(\sum_i e^{\ell_{1i}}\sum_j e^{\ell_{2j}}
                   - \sum_i e^{\ell_{1i}+\ell_{2i}}\Big) \\
        \log B_4 &= \log p_{12} + \log\sum_i e^{\ell_{1i}+\ell_{2i}}

    and :math:`PP_h = B_h / \sum_k B_k`, all in log space. With prior weights the
    constant priors become per-SNP ones inside the sums (coloc's ``combine_abf_weighted``):
    :math:`p_{1i} = Q p_1 w_{1i}/\sum w_1` and :math:`p_{12,i} = p_{1i} p_{2i} p_{12}/(p_1 p_2)`.

    Parameters
    ----------
    labf1, labf2
        Per-SNP natural-log approximate Bayes factors of trait 1 and 2, aligned by SNP.
    p1, p2, p12
        Prior probability that a SNP is causal for trait 1 only, 2 only, and both.
    prior_weights1, prior_weights2
        Optional non-negative per-SNP weights, aligned with ``labf1``/``labf2``.

    Returns
    -------
    numpy.ndarray
        ``[PP.H0, PP.H1, PP.H2, PP.H3, PP.H4]``, summing to 1.
    """
    l1 = np.asarray(labf1, dtype=float)
    l2 = np.asarray(labf2, dtype=float)
    if l1.shape != l2.shape or l1.ndim != 1:
        msg = f"`labf1` and `labf2` must be 1-d of equal length, got {l1.shape} and {l2.shape}"
        raise InputError(msg)
    if l1.size == 0:
        msg = "no SNPs to colocalise: the two datasets share no SNP"
        raise InputError(msg)
    lsum = l1 + l2
    if prior_weights1 is None and prior_weights2 is None:
        s1, s2, s12 = logsumexp(l1), logsumexp(l2), logsumexp(lsum)
        lh = np.array(
            [
                0.0,
                np.log(p1) + s1,
                np.log(p2) + s2,
                np.log(p1) + np.log(p2) + _logdiff(s1 + s2, s12),
                np.log(p12) + s12,
            ]
        )
    else:
        lp1, lp2, lp12 = _log_priors(l1.size, p1, p2, p12, prior_weights1, prior_weights2)
        s1, s2 = logsumexp(lp1 + l1), logsumexp(lp2 + l2)
        lh = np.array(
            [
                0.0,
                s1,
                s2,
                _logdiff(s1 + s2, logsumexp(lp1 + lp2 + lsum)),
                logsumexp(lp12 + lsum),
            ]
        )
    out: FloatArray = np.exp(lh - logsumexp(lh))
    return out


# ------------------------------------------------------------------------ Bayes factors
def _labf(z: FloatArray, v: FloatArray, sd_prior: float | FloatArray) -> FloatArray:
    r = sd_prior**2 / (sd_prior**2 + v)
    out: FloatArray = 0.5 * (np.log1p(-r) + r * z * z)
    return out


def labf_from_estimates(
    beta: ArrayLike,
    varbeta: ArrayLike,
    *,
    type: str = "quant",
    sdy: float = 1.0,
) -> FloatArray:
    r"""Wakefield's log approximate Bayes factor from estimates (coloc's ``approx.bf.estimates``).

    .. math::

        \log ABF = \tfrac12\big(\log(1 - r) + r z^2\big),\quad
        r = \frac{W}{W + V},\quad z = \beta/\sqrt{V},\quad V = \mathrm{varbeta}

    with prior effect variance :math:`W = (0.15\,sd_Y)^2` (``quant``) or :math:`0.2^2`
    (``cc``, log odds).
    """
    b = np.asarray(beta, dtype=float)
    v = np.asarray(varbeta, dtype=float)
    sd = EFFECT_PRIORS["quant"] * sdy if type == "quant" else EFFECT_PRIORS["cc"]
    return _labf(b / np.sqrt(v), v, sd)


def labf_from_pvalues(
    pvalues: ArrayLike,
    maf: ArrayLike,
    n: ArrayLike,
    *,
    type: str = "quant",
    s: float | None = None,
) -> FloatArray:
    r"""Log ABF from p-values, MAF and N (coloc's ``approx.bf.p``).

    :math:`z = \Phi^{-1}(1 - p/2)`; the variance is
    :math:`V = 1/(2 N f (1-f))` for ``quant`` (prior sd 0.15, trait sd taken as 1) and
    :math:`V = 1/(2 N f (1-f) s (1-s))` for ``cc`` (prior sd 0.2); then as
    :func:`labf_from_estimates`.
    """
    from scipy.special import ndtri

    p = np.asarray(pvalues, dtype=float)
    f = np.asarray(maf, dtype=float)
    v = 1.0 / (2.0 * np.asarray(n, dtype=float) * f * (1.0 - f))
    if type == "cc":
        if s is None:
            raise InputError("p-values of a case-control trait need `s`, the fraction of cases")
        v = v / (s * (1.0 - s))
    z = -ndtri(0.5 * p)
    return _labf(z, v, EFFECT_PRIORS["cc" if type == "cc" else "quant"])


def sdy_est(varbeta: ArrayLike, maf: ArrayLike, n: ArrayLike) -> float:
    r"""Trait standard deviation from varbeta, MAF and N (coloc's ``sdY.est``).

    Since :math:`\mathrm{var}(\hat\beta) \approx \mathrm{var}(Y) / (N\,\mathrm{var}(X))` with
    :math:`\mathrm{var}(X) = 2f(1-f)`, regress :math:`2 N f (1-f)` on :math:`1/\mathrm{varbeta}`
    through the origin; :math:`\hat{sd}_Y = \sqrt{\hat c}`,
    :math:`\hat c = \sum x_i y_i / \sum x_i^2`.
    """
    x = 1.0 / np.asarray(varbeta, dtype=float)
    f = np.asarray(maf, dtype=float)
    y = 2.0 * np.asarray(n, dtype=float) * f * (1.0 - f)
    c = float(np.dot(x, y) / np.dot(x, x))
    if c < 0:
        raise InputError(
            "estimated sdY is negative (small or faulty dataset); give `sdY` explicitly"
        )
    return float(np.sqrt(c))


def dataset_labf(d: ColocDataset, notes: list[str] | None = None) -> FloatArray:
    """Per-SNP log ABF of one dataset, as coloc's ``process.dataset`` chooses.

    beta/varbeta when given (estimating ``sdY`` for a quantitative trait without it, with
    a :class:`~mrkit.errors.StatisticalWarning`), otherwise p-values with MAF and N.
    """
    if d.beta is not None and d.varbeta is not None:
        sdy = 1.0
        if d.type == "quant":
            if d.sdy is None:
                assert d.maf is not None
                assert d.n is not None
                sdy = sdy_est(d.varbeta, d.maf, d.n)
                _note(
                    notes,
                    f"{d.name}: sdY estimated from MAF, N and varbeta as {sdy:.6g}; "
                    "give sdY if known",
                )
            else:
                sdy = d.sdy
        return labf_from_estimates(d.beta, d.varbeta, type=d.type, sdy=sdy)
    assert d.pvalues is not None
    assert d.maf is not None
    assert d.n is not None
    return labf_from_pvalues(d.pvalues, d.maf, d.n, type=d.type, s=d.s)


def _note(notes: list[str] | None, message: str) -> None:
    warnings.warn(message, StatisticalWarning, stacklevel=3)
    if notes is not None:
        notes.append(message)


def adjust_prior(p: float, nsnps: int, which: str, notes: list[str] | None = None) -> float:
    """``p``, or ``1/(nsnps + 1)`` when ``nsnps * p >= 1`` (coloc's ``adjust_prior``)."""
    if not 0 < p < 1:
        raise InputError(f"`{which}` must be a probability in (0, 1), got {p}")
    if nsnps * p >= 1:
        _note(notes, f"{which} * nsnps >= 1, so {which} = 1/(nsnps + 1) = {1 / (nsnps + 1):.6g}")
        return 1.0 / (nsnps + 1)
    return p
