"""coloc.susie: colocalisation of every pair of SuSiE credible sets (Wallace 2021).

Each trait is fine-mapped with SuSiE (:func:`~mrkit.coloc.susie.runsusie`); for each
credible set the row of per-SNP log Bayes factors ``lbf_variable`` of its effect stands in
for coloc's single-variant ABFs, and every pair (set of trait 1, set of trait 2) is
combined as in ``coloc.abf`` (:func:`~mrkit.coloc.abf.combine_abf`) with coloc.susie's
default ``p12 = 5e-6`` (``coloc.bf_bf``).

References
----------
Wallace C (2021). A more accurate method for colocalisation analysis allowing for
multiple causal variants. PLoS Genet 17:e1009440.
https://doi.org/10.1371/journal.pgen.1009440
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from mrkit.coloc.abf import combine_abf, logsumexp
from mrkit.coloc.data import ColocDataset, as_dataset
from mrkit.coloc.ld import ld_for
from mrkit.coloc.susie import SusieFit, runsusie
from mrkit.errors import InputError

__all__ = ["ColocSusie", "coloc_bf_bf", "coloc_susie", "ld_matrix", "runsusie_dataset"]

FloatArray = NDArray[np.float64]
PP_COLUMNS = [f"pp_h{h}" for h in range(5)]


@dataclass(frozen=True, eq=False)
class ColocSusie:
    """Result of :func:`coloc_susie` (or :func:`coloc_bf_bf`).

    Attributes
    ----------
    summary
        One row per colocalised pair of credible sets, in coloc's order (trait-1 sets
        vary fastest): ``hit1, hit2`` (top SNP of each set), ``nsnps``,
        ``pp_h0 .. pp_h4``, ``idx1, idx2`` (the sets' SuSiE effect numbers, 1-based).
    snps
        Long table ``snp, snp_pp_h4, hit1, hit2, idx1, idx2, row``: for summary row
        ``row`` (1-based), the posterior that each SNP is the shared variant given H4.
    skipped
        Why no (or fewer) pairs were tested, e.g. ``"trait 1 has no credible set"``.
    priors
        ``p1, p2, p12`` as used.
    fit1, fit2
        The SuSiE fits, when the result came from :func:`coloc_susie`.
    """

    summary: pd.DataFrame
    snps: pd.DataFrame
    skipped: list[str]
    priors: dict[str, float]
    fit1: SusieFit | None = None
    fit2: SusieFit | None = None
    notes: list[str] = field(default_factory=list)

    def snps_wide(self) -> pd.DataFrame:
        """coloc's ``results`` layout: ``snp`` then one ``snp_pp_h4_row<k>`` column per pair."""
        if self.snps.empty:
            return pd.DataFrame({"snp": []})
        wide = self.snps.pivot(index="snp", columns="row", values="snp_pp_h4")
        order = list(dict.fromkeys(self.snps["snp"].tolist()))
        wide = wide.loc[order]
        wide.columns = [f"snp_pp_h4_row{k}" for k in wide.columns]
        return wide.reset_index()

    def __repr__(self) -> str:
        if self.summary.empty:
            return f"ColocSusie(no pairs: {'; '.join(self.skipped)})"
        rows = "; ".join(
            f"{r.hit1}/{r.hit2} H3={r.pp_h3:.3g} H4={r.pp_h4:.3g}"
            for r in self.summary.itertuples()
        )
        return f"ColocSusie({len(self.summary)} pairs: {rows})"


def _empty(skipped: list[str], priors: dict[str, float], **fits: Any) -> ColocSusie:
    cols = ["hit1", "hit2", "nsnps", *PP_COLUMNS, "idx1", "idx2"]
    snps = pd.DataFrame(columns=["snp", "snp_pp_h4", "hit1", "hit2", "idx1", "idx2", "row"])
    return ColocSusie(pd.DataFrame(columns=cols), snps, skipped, priors, **fits)


def coloc_bf_bf(
    bf1: ArrayLike,
    bf2: ArrayLike,
    snps1: Sequence[str],
    snps2: Sequence[str],
    *,
    idx1: Sequence[int] | None = None,
    idx2: Sequence[int] | None = None,
    p1: float = 1e-4,
    p2: float = 1e-4,
    p12: float = 5e-6,
    overlap_min: float = 0.5,
    trim_by_posterior: bool = True,
    prior_weights1: ArrayLike | None = None,
    prior_weights2: ArrayLike | None = None,
) -> ColocSusie:
    r"""coloc on every pair of rows of two log-BF matrices (coloc's ``coloc.bf_bf``).

    For the pair (row :math:`i` of ``bf1``, row :math:`j` of ``bf2``) over the SNPs both
    matrices name (in ``snps1`` order), :func:`~mrkit.coloc.abf.combine_abf` gives
    PP.H0..H4, and :math:`SNP.PP.H4_k = e^{b_{1ik}+b_{2jk}}/\sum_m e^{b_{1im}+b_{2jm}}`.
    ``hit`` is the SNP of largest log BF in the row.

    With partial SNP overlap, a pair is dropped (and said so in ``skipped``) when the
    shared SNPs carry less than ``overlap_min`` of either row's posterior
    :math:`\propto e^{b}`. coloc 6.0.1 computes that share treating the last SNP as the
    null (``logbf_to_pp(last_is_null = TRUE)`` on a matrix without a null column); here it
    is the share of the row's posterior, as intended. With full overlap both agree.

    Parameters
    ----------
    bf1, bf2
        ``(sets x SNPs)`` natural-log Bayes factors, columns named by ``snps1``/``snps2``.
    idx1, idx2
        Labels of the rows (default 1, 2, ...), reported as ``idx1``/``idx2``.
    p1, p2, p12, prior_weights1, prior_weights2
        Priors as in :func:`~mrkit.coloc.abf.combine_abf`; weights follow ``snps1``/``snps2``.
    """
    b1 = np.atleast_2d(np.asarray(bf1, dtype=float))
    b2 = np.atleast_2d(np.asarray(bf2, dtype=float))
    s1, s2 = list(map(str, snps1)), list(map(str, snps2))
    if b1.shape[1] != len(s1) or b2.shape[1] != len(s2):
        msg = "each log-BF matrix needs one column per SNP name"
        raise InputError(msg)
    lab1 = list(idx1) if idx1 is not None else list(range(1, b1.shape[0] + 1))
    lab2 = list(idx2) if idx2 is not None else list(range(1, b2.shape[0] + 1))
    priors = {"p1": p1, "p2": p2, "p12": p12}
    where2 = {s: k for k, s in enumerate(s2)}
    k1 = np.array([k for k, s in enumerate(s1) if s in where2], dtype=np.intp)
    if k1.size == 0:
        return _empty(["the two datasets share no SNP"], priors)
    k2 = np.array([where2[s1[k]] for k in k1], dtype=np.intp)
    common = [s1[k] for k in k1]
    # pairs in coloc's order: expand.grid(i, j), i fastest
    todo = [(i, j) for j in range(b2.shape[0]) for i in range(b1.shape[0])]
    skipped: list[str] = []
    if trim_by_posterior and (k1.size < len(s1) or k2.size < len(s2)):
        share1 = _share(b1, k1)
        share2 = _share(b2, k2)
        keep = []
        for i, j in todo:
            if share1[i] < overlap_min or share2[j] < overlap_min:
                skipped.append(
                    f"sets {lab1[i]}/{lab2[j]}: the shared SNPs carry {share1[i]:.3g} and "
                    f"{share2[j]:.3g} of the posteriors (< overlap_min = {overlap_min})"
                )
            else:
                keep.append((i, j))
        todo = keep
    w1 = None if prior_weights1 is None else np.asarray(prior_weights1, dtype=float)[k1]
    w2 = None if prior_weights2 is None else np.asarray(prior_weights2, dtype=float)[k2]
    c1, c2 = b1[:, k1], b2[:, k2]
    rows = []
    long = []
    names = np.asarray(common, dtype=object)
    for row, (i, j) in enumerate(todo, start=1):
        pp = combine_abf(c1[i], c2[j], p1, p2, p12, prior_weights1=w1, prior_weights2=w2)
        lsum = c1[i] + c2[j]
        snp_pp = np.exp(lsum - logsumexp(lsum))
        hit1, hit2 = common[int(np.argmax(c1[i]))], common[int(np.argmax(c2[j]))]
        rows.append([hit1, hit2, len(common), *pp.tolist(), lab1[i], lab2[j]])
        long.append(
            pd.DataFrame(
                {
                    "snp": names,
                    "snp_pp_h4": snp_pp,
                    "hit1": hit1,
                    "hit2": hit2,
                    "idx1": lab1[i],
                    "idx2": lab2[j],
                    "row": row,
                }
            )
        )
    if not rows:
        return _empty(skipped, priors)
    summary = pd.DataFrame(rows, columns=["hit1", "hit2", "nsnps", *PP_COLUMNS, "idx1", "idx2"])
    return ColocSusie(summary, pd.concat(long, ignore_index=True), skipped, priors)


def _share(bf: FloatArray, keep: NDArray[np.intp]) -> FloatArray:
    """Per row, the posterior (softmax of the log BFs) carried by the columns ``keep``."""
    m = bf.max(axis=1, keepdims=True)
    w = np.exp(bf - m)
    out: FloatArray = w[:, keep].sum(axis=1) / w.sum(axis=1)
    return out


def _is_long(ld: Any) -> bool:
    return isinstance(ld, pd.DataFrame) and {"snp_i", "snp_j", "r"} <= set(ld.columns)


def _named_ld(ld: Any, which: str) -> tuple[FloatArray, list[str] | None]:
    """``(matrix, names)`` from an accepted LD form; names None for a bare array."""
    if _is_long(ld):
        si = ld["snp_i"].astype(str).to_numpy(dtype=object)
        sj = ld["snp_j"].astype(str).to_numpy(dtype=object)
        codes, uniq = pd.factorize(np.concatenate([si, sj]))
        m = len(uniq)
        i, j = codes[: si.size], codes[si.size :]
        mat = np.full((m, m), np.nan)
        r = ld["r"].to_numpy(dtype=float)
        mat[i, j] = r
        mat[j, i] = r
        diag = np.diagonal(mat).copy()
        np.fill_diagonal(mat, np.where(np.isnan(diag), 1.0, diag))  # a missing diagonal is 1
        return mat, [str(u) for u in uniq]
    if isinstance(ld, pd.DataFrame):
        names = [str(c) for c in ld.columns]
        if isinstance(ld.index, pd.RangeIndex):  # rows in the order of the columns
            return ld.to_numpy(dtype=float), names
        return ld_for(names, ld, source=f"`{which}`"), names
    if isinstance(ld, tuple) and len(ld) == 2:
        mat = np.asarray(ld[0], dtype=float)
        names = [str(x) for x in ld[1]]
        if mat.ndim != 2 or mat.shape[0] != mat.shape[1] or mat.shape[0] != len(names):
            msg = f"`{which}` must be square with one name per row and column"
            raise InputError(msg)
        return mat, names
    return np.asarray(ld, dtype=float), None


def ld_matrix(ld: Any, snps: Sequence[str], which: str = "ld") -> FloatArray:
    """The LD matrix of ``snps``, in their order, from any of the accepted forms.

    ``ld`` is a square DataFrame labelled by SNP (as :func:`mrkit.coloc.ld.read_ld` and
    :func:`~mrkit.coloc.ld.panel_ld` return it; checked by :func:`~mrkit.coloc.ld.ld_for`:
    symmetric, unit diagonal, positive semi-definite), a long DataFrame with columns
    ``snp_i, snp_j, r`` (one triangle is enough; it is mirrored), a pair
    ``(matrix, names)``, or a bare ``p x p`` array already in the order of ``snps``.
    """
    snps = list(map(str, snps))
    if (
        isinstance(ld, pd.DataFrame)
        and not _is_long(ld)
        and not isinstance(ld.index, pd.RangeIndex)
    ):
        return ld_for(snps, ld, source=f"`{which}`")
    mat, names = _named_ld(ld, which)
    if names is None:
        if mat.shape != (len(snps), len(snps)):
            msg = f"`{which}` is {mat.shape}, expected {len(snps)} x {len(snps)} for the data"
            raise InputError(msg)
        return mat
    pos = {s: k for k, s in enumerate(names)}
    missing = [s for s in snps if s not in pos]
    if missing:
        msg = (
            f"`{which}` lacks {len(missing)} of the data's {len(snps)} SNPs "
            f"(e.g. {', '.join(missing[:5])}); give LD for every SNP or drop those SNPs"
        )
        raise InputError(msg)
    idx = np.fromiter((pos[s] for s in snps), dtype=np.intp, count=len(snps))
    out: FloatArray = mat[np.ix_(idx, idx)]
    if np.isnan(out).any():
        i, j = np.argwhere(np.isnan(out))[0]
        msg = f"`{which}` has no value for the pair {snps[i]}, {snps[j]}"
        raise InputError(msg)
    return out


def runsusie_dataset(d: Any, ld: Any, *, name: str = "dataset", **options: Any) -> SusieFit:
    """coloc's ``runsusie(d)``: SuSiE on ``z = beta/sqrt(varbeta)`` with ``n = N``.

    ``d`` is anything :func:`~mrkit.coloc.data.as_dataset` accepts (it needs ``beta``,
    ``varbeta`` and one sample size ``N``, or ``n=`` among the options); ``ld`` any form
    :func:`ld_matrix` accepts. ``options`` go to :func:`~mrkit.coloc.susie.runsusie`.
    """
    if isinstance(d, pd.DataFrame):  # as read_dataset reads a file: text, empty = absent
        d = d.astype(str).mask(d.isna(), "")
    ds: ColocDataset = as_dataset(d, name)
    if ld is None:
        msg = f"{name}: SuSiE needs an LD matrix (`ld`)"
        raise InputError(msg)
    if ds.beta is None or ds.varbeta is None:
        msg = f"{name}: SuSiE needs signed effects; give `beta` and `varbeta` (or `se`)"
        raise InputError(msg)
    n = options.pop("n", None)
    if n is None:
        if ds.n is None:
            msg = f"{name}: SuSiE needs the sample size `N`"
            raise InputError(msg)
        if np.unique(ds.n).size > 1:
            msg = f"{name}: `N` varies between SNPs; SuSiE takes one sample size (pass `n=`)"
            raise InputError(msg)
        n = float(ds.n[0])
    snps = [str(s) for s in ds.snp]
    R = ld_matrix(ld, snps, which=f"LD of {name}")
    z = ds.beta / np.sqrt(ds.varbeta)
    return runsusie(z, R, n, snps=snps, **options)


def coloc_susie(
    d1: Any,
    d2: Any,
    ld: Any = None,
    *,
    ld2: Any = None,
    p1: float = 1e-4,
    p2: float = 1e-4,
    p12: float = 5e-6,
    overlap_min: float = 0.5,
    trim_by_posterior: bool = True,
    prior_weights1: ArrayLike | None = None,
    prior_weights2: ArrayLike | None = None,
    **susie_options: Any,
) -> ColocSusie:
    """Colocalise every pair of SuSiE credible sets of two traits (coloc's ``coloc.susie``).

    Parameters
    ----------
    d1, d2
        A :class:`~mrkit.coloc.susie.SusieFit` (used as it is), or a dataset (table,
        mapping or :class:`~mrkit.coloc.data.ColocDataset` with ``snp, beta, varbeta, N``)
        to fine-map with :func:`runsusie_dataset`.
    ld
        LD of ``d1`` (and of ``d2`` unless ``ld2`` is given), in a form
        :func:`ld_matrix` accepts.
    p1, p2, p12
        Priors; ``p12`` defaults to 5e-6 as in coloc.susie (coloc.abf: 1e-5).
    overlap_min, trim_by_posterior, prior_weights1, prior_weights2
        As in :func:`coloc_bf_bf` (weights in the row order of ``d1``/``d2``).
    **susie_options
        Passed to :func:`~mrkit.coloc.susie.runsusie` for both traits (``L``, ``tol``,
        ``max_iter``, ``coverage``, ``min_abs_corr``, ...).

    Returns
    -------
    ColocSusie
        With no credible set in a trait, ``summary`` is empty and ``skipped`` says which.
    """
    if ld is not None and ld2 is None:  # one conversion for both traits
        mat, names = _named_ld(ld, "ld")
        ld = (mat, names) if names is not None else mat
    fits = []
    for k, (d, r) in enumerate(((d1, ld), (d2, ld2 if ld2 is not None else ld)), start=1):
        if isinstance(d, SusieFit):
            fits.append(d)
        else:
            fits.append(runsusie_dataset(d, r, name=f"dataset{k}", **dict(susie_options)))
    f1, f2 = fits
    priors = {"p1": p1, "p2": p2, "p12": p12}
    skipped = [f"trait {k} has no credible set" for k, f in ((1, f1), (2, f2)) if not f.sets]
    notes = [f"trait {k}: {w}" for k, f in ((1, f1), (2, f2)) for w in f.warnings]
    if skipped:
        out = _empty(skipped, priors, fit1=f1, fit2=f2)
    else:
        e1 = [s.effect for s in f1.sets]
        e2 = [s.effect for s in f2.sets]
        res = coloc_bf_bf(
            f1.lbf_variable[[e - 1 for e in e1]],
            f2.lbf_variable[[e - 1 for e in e2]],
            f1.snps,
            f2.snps,
            idx1=e1,
            idx2=e2,
            p1=p1,
            p2=p2,
            p12=p12,
            overlap_min=overlap_min,
            trim_by_posterior=trim_by_posterior,
            prior_weights1=prior_weights1,
            prior_weights2=prior_weights2,
        )
        out = ColocSusie(res.summary, res.snps, res.skipped, priors, f1, f2)
    out.notes.extend(notes)
    return out
