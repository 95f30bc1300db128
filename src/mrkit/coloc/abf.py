"""Wakefield approximate Bayes factors and the coloc.abf posterior (Giambartolomei et al. 2014).

The functions here are closed forms on numpy arrays, computed in log space so that
posteriors as small as 1e-300 keep their relative precision.

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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mrkit.coloc.data import ColocDataset, as_dataset
from mrkit.errors import InputError, StatisticalWarning

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ColocABF",
    "coloc_abf",
    "combine_abf",
    "credible_sets",
    "finemap_abf",
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


# ---------------------------------------------------------------------------- coloc.abf
@dataclass(frozen=True, eq=False)
class ColocABF:
    """Result of :func:`coloc_abf`.

    Attributes
    ----------
    pp
        Posterior probabilities ``[H0, H1, H2, H3, H4]``.
    nsnps
        SNPs in both datasets.
    snp, position
        The common SNPs in dataset 1's order (coloc sorts them by name; see the docs).
    labf1, labf2, z1, z2
        Per-SNP log ABFs and z-scores of each dataset.
    snp_pp_h4
        Posterior that each SNP is the shared causal variant, given H4.
    priors
        ``p1, p2, p12`` as used (after coloc's adjustment for large regions).
    notes
        Warnings raised during the computation (sdY estimated, priors adjusted).
    """

    pp: FloatArray
    nsnps: int
    snp: NDArray[Any]
    labf1: FloatArray
    labf2: FloatArray
    z1: FloatArray
    z2: FloatArray
    snp_pp_h4: FloatArray
    priors: dict[str, float]
    position: FloatArray | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, float]:
        """``nsnps, pp_h0 .. pp_h4`` (coloc's ``summary`` vector)."""
        out: dict[str, float] = {"nsnps": self.nsnps}
        out.update({f"pp_h{h}": float(self.pp[h]) for h in range(5)})
        return out

    @property
    def results(self) -> pd.DataFrame:
        """Per-SNP table: ``snp, position, z_df1, labf_df1, z_df2, labf_df2, snp_pp_h4``."""
        import pandas as pd

        cols: dict[str, Any] = {"snp": self.snp}
        if self.position is not None:
            cols["position"] = self.position
        cols.update(
            z_df1=self.z1,
            labf_df1=self.labf1,
            z_df2=self.z2,
            labf_df2=self.labf2,
            snp_pp_h4=self.snp_pp_h4,
        )
        return pd.DataFrame(cols)

    def __repr__(self) -> str:
        pp = ", ".join(f"H{h}={self.pp[h]:.3g}" for h in range(5))
        return f"ColocABF(nsnps={self.nsnps}, {pp})"


def _align(d1: ColocDataset, d2: ColocDataset) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Rows of ``d1`` and ``d2`` holding the common SNPs, in ``d1``'s order."""
    if d1.snp.size == d2.snp.size and np.array_equal(d1.snp, d2.snp):
        idx = np.arange(d1.snp.size)
        i1, i2 = idx, idx
    else:
        where = {s: i for i, s in enumerate(d2.snp.tolist())}
        pairs = [(i, where[s]) for i, s in enumerate(d1.snp.tolist()) if s in where]
        if not pairs:
            raise InputError(
                f"{d1.name} and {d2.name} share no SNP; check that both use the same IDs"
            )
        i1 = np.fromiter((a for a, _ in pairs), dtype=np.intp, count=len(pairs))
        i2 = np.fromiter((b for _, b in pairs), dtype=np.intp, count=len(pairs))
    if d1.position is not None and d2.position is not None:
        bad = d1.position[i1] != d2.position[i2]
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"SNP {d1.snp[i1[k]]} is at position {d1.position[i1[k]]:g} in {d1.name} but "
                f"{d2.position[i2[k]]:g} in {d2.name} ({int(bad.sum())} such SNPs); "
                "are both on the same genome build?"
            )
    return i1, i2


def coloc_abf(
    d1: Any,
    d2: Any,
    p1: float = 1e-4,
    p2: float = 1e-4,
    p12: float = 1e-5,
    *,
    prior_weights1: ArrayLike | None = None,
    prior_weights2: ArrayLike | None = None,
) -> ColocABF:
    r"""Bayesian colocalisation of two traits under one causal variant each (coloc's ``coloc.abf``).

    Each SNP gets a Wakefield log ABF per trait (:func:`labf_from_estimates` or
    :func:`labf_from_pvalues`); the SNPs of both datasets are matched by name and
    :func:`combine_abf` gives PP.H0..H4. Per SNP,
    :math:`SNP.PP.H4_i = e^{\ell_{1i}+\ell_{2i}} / \sum_j e^{\ell_{1j}+\ell_{2j}}`.

    Parameters
    ----------
    d1, d2
        :class:`~mrkit.coloc.data.ColocDataset`, a mapping of coloc's dataset elements,
        or a table (see :func:`~mrkit.coloc.data.as_dataset`).
    p1, p2, p12
        Prior probability that a SNP is causal for trait 1, trait 2, both (coloc defaults).
    prior_weights1, prior_weights2
        Optional non-negative per-SNP weights in the row order of ``d1`` / ``d2``. They
        follow their SNPs; coloc 6.0.1 applies them in input order to name-sorted rows
        (misaligned unless the input is sorted by name), see ``docs/coloc.md``.

    Notes
    -----
    When ``nsnps * p >= 1`` a prior is set to ``1/(nsnps + 1)``, with a warning, as coloc.
    The per-SNP rows keep dataset 1's order; coloc sorts them by SNP name.
    """
    a = as_dataset(d1, "dataset1")
    b = as_dataset(d2, "dataset2")
    notes: list[str] = []
    la, lb = dataset_labf(a, notes), dataset_labf(b, notes)
    p1 = adjust_prior(p1, len(a), "p1", notes)
    p2 = adjust_prior(p2, len(b), "p2", notes)
    i1, i2 = _align(a, b)
    n = int(i1.size)
    p12 = adjust_prior(p12, n, "p12", notes)
    l1, l2 = la[i1], lb[i2]
    w1 = _weights(prior_weights1, len(a), "prior_weights1", i1)
    w2 = _weights(prior_weights2, len(b), "prior_weights2", i2)
    pp = combine_abf(l1, l2, p1, p2, p12, prior_weights1=w1, prior_weights2=w2)
    lsum = l1 + l2
    snp_pp = np.exp(lsum - logsumexp(lsum))
    return ColocABF(
        pp=pp,
        nsnps=n,
        snp=a.snp[i1],
        labf1=l1,
        labf2=l2,
        z1=a.z[i1],
        z2=b.z[i2],
        snp_pp_h4=snp_pp,
        priors={"p1": p1, "p2": p2, "p12": p12},
        position=None if a.position is None else a.position[i1],
        notes=notes,
    )


def _weights(w: ArrayLike | None, m: int, name: str, idx: NDArray[np.intp]) -> FloatArray | None:
    if w is None:
        return None
    a = np.asarray(w, dtype=float)
    if a.shape != (m,):
        raise InputError(f"`{name}` has {a.size} weights for {m} SNPs; give one per SNP")
    if not np.all(np.isfinite(a)) or (a < 0).any():
        raise InputError(f"`{name}` must contain finite, non-negative weights")
    out: FloatArray = a[idx]
    return out


# -------------------------------------------------------------------------- finemap.abf
def finemap_abf(
    d: Any, p1: float = 1e-4, *, prior_weights: ArrayLike | None = None
) -> pd.DataFrame:
    r"""Single-trait fine-mapping under one causal variant (coloc's ``finemap.abf``).

    Rows are the SNPs in input order and a last ``snp = "null"`` row (no causal variant)
    with :math:`\log ABF = 0` and prior :math:`1 - Q p_1`; SNP rows have prior :math:`p_1`
    (or :math:`Q p_1 w_i/\sum w` with weights), and
    :math:`SNP.PP_i = \pi_i e^{\ell_i} / \sum_j \pi_j e^{\ell_j}` over all rows.

    Returns
    -------
    pandas.DataFrame
        ``snp, position (if given), z, labf, prior, snp_pp``.
    """
    import pandas as pd

    ds = as_dataset(d, "dataset")
    notes: list[str] = []
    labf = dataset_labf(ds, notes)
    m = len(ds)
    p1 = adjust_prior(p1, m, "p1", notes)
    if prior_weights is None:
        prior = np.full(m, p1)
    else:
        w = _weights(prior_weights, m, "prior_weights", np.arange(m))
        assert w is not None
        if w.sum() <= 0:
            raise InputError("`prior_weights` are all zero")
        prior = p1 * m * w / w.sum()
    prior = np.append(prior, 1.0 - m * p1)
    lab = np.append(labf, 0.0)
    with np.errstate(divide="ignore"):
        lp = lab + np.log(prior)
    cols: dict[str, Any] = {"snp": np.append(ds.snp, "null")}
    if ds.position is not None:
        cols["position"] = np.append(ds.position, np.nan)
    v, r = _variance_shrinkage(ds)
    cols.update(
        v=np.append(v, np.nan),
        z=np.append(ds.z, np.nan),
        r=np.append(r, np.nan),
        labf=lab,
        prior=prior,
        snp_pp=np.exp(lp - logsumexp(lp)),
    )
    return pd.DataFrame(cols)


def _variance_shrinkage(d: ColocDataset) -> tuple[FloatArray, FloatArray]:
    """coloc's ``V`` (variance of beta, or its approximation from MAF and N) and ``r``."""
    if d.beta is not None and d.varbeta is not None:
        v = d.varbeta
        if d.type == "quant":
            assert d.maf is not None or d.sdy is not None
            sdy = d.sdy if d.sdy is not None else sdy_est_quiet(d)
            sd = EFFECT_PRIORS["quant"] * sdy
        else:
            sd = EFFECT_PRIORS["cc"]
    else:
        assert d.maf is not None
        assert d.n is not None
        v = 1.0 / (2.0 * d.n * d.maf * (1.0 - d.maf))
        if d.type == "cc":
            assert d.s is not None
            v = v / (d.s * (1.0 - d.s))
        sd = EFFECT_PRIORS[d.type]
    return v, sd**2 / (sd**2 + v)


def sdy_est_quiet(d: ColocDataset) -> float:
    """:func:`sdy_est` of a dataset with beta, varbeta, MAF and N (no warning)."""
    assert d.varbeta is not None
    assert d.maf is not None
    assert d.n is not None
    return sdy_est(d.varbeta, d.maf, d.n)


def credible_sets(finemap: pd.DataFrame, credible_size: float = 0.95) -> pd.DataFrame:
    """Smallest set of rows whose ``snp_pp`` reaches ``credible_size`` (``credible.sets``).

    Rows of :func:`finemap_abf`'s table (the ``null`` row included, as in coloc) sorted
    by decreasing ``snp_pp`` (ties keep input order), up to the first whose cumulative
    sum is ``>= credible_size``. Returns ``snp, snp_pp``.
    """
    if "snp_pp" not in finemap.columns:
        raise InputError("credible_sets needs finemap_abf() output with a `snp_pp` column")
    if not 0 < credible_size <= 1:
        raise InputError(f"`credible_size` must be in (0, 1], got {credible_size}")
    pp = finemap["snp_pp"].to_numpy(dtype=float)
    order = np.argsort(-pp, kind="stable")
    cum = np.cumsum(pp[order])
    hit = np.flatnonzero(cum >= credible_size)
    w = int(hit[0]) + 1 if hit.size else len(order)
    out = finemap.iloc[order[:w]][["snp", "snp_pp"]]
    return out.reset_index(drop=True)
