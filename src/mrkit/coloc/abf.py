"""coloc.abf, finemap.abf and credible sets (Giambartolomei et al. 2014; coloc 6.0.1).

The Bayes factors and :func:`combine_abf` live in :mod:`mrkit.coloc.bf` and are
re-exported here.

References
----------
Wakefield J (2009). Bayes factors for genome-wide association studies: comparison with
P-values. Genet Epidemiol 33:79-86. https://doi.org/10.1002/gepi.20359

Giambartolomei C et al. (2014). Bayesian test for colocalisation between pairs of genetic
association studies using summary statistics. PLoS Genet 10:e1004383.
https://doi.org/10.1371/journal.pgen.1004383
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mrkit.coloc.bf import (
    EFFECT_PRIORS,
    adjust_prior,
    combine_abf,
    dataset_labf,
    labf_from_estimates,
    labf_from_pvalues,
    logsumexp,
    sdy_est,
)
from mrkit.coloc.data import ColocDataset, as_dataset
from mrkit.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

FloatArray = NDArray[np.float64]

__all__ = [  # the Bayes-factor functions of mrkit.coloc.bf are re-exported
    "ColocABF",
    "adjust_prior",
    "coloc_abf",
    "combine_abf",
    "credible_sets",
    "dataset_labf",
    "finemap_abf",
    "labf_from_estimates",
    "labf_from_pvalues",
    "logsumexp",
    "sdy_est",
]


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
            pos = self.position
            integral = np.all(np.mod(pos, 1) == 0) and np.abs(pos).max() < 2**53
            cols["position"] = pos.astype(np.int64) if integral else pos
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
    prior_weights: tuple[ArrayLike | None, ArrayLike | None] | None = None,
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
    prior_weights
        The pair ``(prior_weights1, prior_weights2)`` in one argument (either may be None).

    Notes
    -----
    When ``nsnps * p >= 1`` a prior is set to ``1/(nsnps + 1)``, with a warning, as coloc.
    The per-SNP rows keep dataset 1's order; coloc sorts them by SNP name.
    """
    if prior_weights is not None:
        if prior_weights1 is not None or prior_weights2 is not None:
            raise InputError("give `prior_weights` or `prior_weights1`/`prior_weights2`, not both")
        prior_weights1, prior_weights2 = prior_weights
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
        ``snp, position (if given), v, z, r, labf, prior, snp_pp``: coloc's ``V.``
        (varbeta, or its approximation from MAF and N), ``z.``, ``r.`` (shrinkage
        ``W/(W+V)``), ``lABF.``, ``prior`` and ``SNP.PP``.
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
