"""coloc.signals: colocalisation of several signals per trait by conditioning or masking.

coloc's pre-SuSiE multi-signal method (Wallace 2020). :func:`finemap_signals` finds up to
``maxhits`` signals per trait, each with ``|z| >= z(pthr)``: ``single`` takes the top SNP;
``mask`` takes the top SNP among those not in LD (``r^2 > r2thr``) with earlier hits,
scored by ``|z| - |R z_hits|``; ``cond`` takes the top SNP of the z-scores conditional on
the earlier hits (GCTA-COJO-style, :func:`est_cond`). :func:`coloc_signals` then runs a
coloc per pair of signals: with ``cond`` on the conditional summary statistics (each hit
conditioned on the others, ``allbutone``, or on the earlier ones, ``iterative``); with
``mask``/``single`` on the marginal ones with the other hits' LD neighbourhoods masked.

References
----------
Wallace C (2020). Eliciting priors and relaxing the single causal variant assumption in
colocalisation analyses. PLoS Genet 16:e1008720.
https://doi.org/10.1371/journal.pgen.1008720

Yang J et al. (2012). Conditional and joint multiple-SNP analysis of GWAS summary
statistics. Nat Genet 44:369-375. https://doi.org/10.1038/ng.2213
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import ndtri

from mrkit.coloc.bf import dataset_labf, labf_from_estimates, logsumexp, sdy_est
from mrkit.coloc.data import ColocDataset, as_dataset
from mrkit.coloc.susie_coloc import ld_matrix
from mrkit.errors import InputError

__all__ = ["ColocSignals", "coloc_signals", "est_cond", "finemap_signals"]

FloatArray = NDArray[np.float64]
Method = Literal["single", "mask", "cond"]
Mode = Literal["iterative", "allbutone"]
PP_COLUMNS = [f"pp_h{h}" for h in range(5)]
#: SNPs in r^2 above this with a conditioning hit get no conditional estimate (coloc).
COND_R2_MAX = 0.8
#: log BF that coloc.signals gives masked SNPs.
MASKED_LBF = -1.1


@dataclass(frozen=True, eq=False)
class ColocSignals:
    """Result of :func:`coloc_signals`.

    Attributes
    ----------
    summary
        One row per pair of signals: ``row, hit1, hit2, nsnps, pp_h0 .. pp_h4, best1,
        best2, best4`` (SNPs of largest log BF for trait 1, 2 and both), ``hit1_margz,
        hit2_margz`` (the hits' z-scores when found). ``row`` numbers the combinations in
        coloc's order (trait 1 fastest); coloc re-sorts its summary by hit2, then hit1.
    snps
        Long table ``row, snp, snp_pp_h4, z_df1, z_df2`` per combination (``z`` 0 where
        masked; conditional z for ``cond``), SNPs sorted by name as coloc merges them.
        It includes the combination of iterative ``cond`` with all hits conditioned away,
        which has no summary row (as in coloc).
    hits1, hits2
        The signals found: SNP -> z-score, in the order found.
    priors
        ``p1, p2, p12`` as used.
    skipped, notes
        Combinations not tested, and warnings (sdY estimated, ...).
    """

    summary: pd.DataFrame
    snps: pd.DataFrame
    hits1: dict[str, float]
    hits2: dict[str, float]
    priors: dict[str, float]
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def snps_wide(self) -> pd.DataFrame:
        """``snp`` then ``snp_pp_h4_row<k>``, ``z_df1_row<k>``, ``z_df2_row<k>`` per combination."""
        out = pd.DataFrame({"snp": pd.unique(self.snps["snp"])}) if len(self.snps) else None
        if out is None:
            return pd.DataFrame({"snp": []})
        for k, part in self.snps.groupby("row", sort=True):
            for c in ("snp_pp_h4", "z_df1", "z_df2"):
                out[f"{c}_row{k}"] = part[c].to_numpy()
        return out

    def __repr__(self) -> str:
        rows = "; ".join(
            f"{r.hit1}/{r.hit2} H3={r.pp_h3:.3g} H4={r.pp_h4:.3g}"
            for r in self.summary.itertuples()
        )
        return f"ColocSignals({len(self.summary)} pairs: {rows or 'none'})"


# ------------------------------------------------------------------------ one trait
def _marginal_z(d: ColocDataset) -> FloatArray:
    """``beta/sqrt(varbeta)``, or ``qnorm(p/2, lower = FALSE)`` (positive) from p-values."""
    if d.beta is not None and d.varbeta is not None:
        out: FloatArray = d.beta / np.sqrt(d.varbeta)
        return out
    assert d.pvalues is not None
    return np.asarray(-ndtri(0.5 * d.pvalues), dtype=float)


def _n(d: ColocDataset) -> float:
    if d.n is None:
        raise InputError(f"{d.name}: conditioning needs the sample size `N`")
    if np.unique(d.n).size > 1:
        raise InputError(f"{d.name}: `N` varies between SNPs; conditioning takes one N")
    return float(d.n[0])


def _yy(d: ColocDataset) -> float:
    """``Y'Y`` as coloc takes it: ``N sdY^2`` (quantitative traits)."""
    assert d.sdy is not None
    return _n(d) * d.sdy * d.sdy


def est_cond(d: ColocDataset, R: FloatArray, sig: list[int]) -> tuple[FloatArray, FloatArray]:
    r"""Effects and variances conditional on the SNPs ``sig`` (coloc's ``est_cond``).

    With :math:`X'X \approx N\,R_{jk}\sqrt{v_j v_k}`, :math:`v_j = 2f_j(1-f_j)`,
    :math:`D = \mathrm{diag}(X'X)` and 1 = ``sig``, 2 = the other SNPs not in
    :math:`r^2 > 0.8` with any of ``sig``:

    .. math::

        \hat b_1 &= (X_1'X_1)^{-1} D_1 \beta_1,\qquad
        \beta_{2|1} = \beta_2 - X_2'X_1 \hat b_1 / D_2 \\
        \sigma^2_c &= \big(Y'Y - \hat b_1' D_1\beta_1 - \beta_{2|1} D_2 \beta_2\big)
                     / (N - |1| - 1) \\
        \mathrm{var}(\beta_{2|1}) &= \big|\sigma^2_c\,(D_2 - \mathrm{diag}(X_2'X_1
                     (X_1'X_1)^{-1}X_1'X_2)) / D_2^2\big|

    Other SNPs get ``beta = 0`` and their marginal ``varbeta``. Returns arrays in input order.
    """
    assert d.beta is not None
    assert d.varbeta is not None
    assert d.maf is not None
    n = _n(d)
    s = np.asarray(sig, dtype=np.intp)
    use = np.ones(len(d), dtype=bool)
    use[s] = False
    use &= np.max(R[s] ** 2, axis=0) <= COND_R2_MAX
    vx = 2.0 * d.maf * (1.0 - d.maf)
    sq = np.sqrt(vx)
    xx1 = n * R[np.ix_(s, s)] * np.outer(sq[s], sq[s])
    xx21 = n * R[np.ix_(use, s)] * np.outer(sq[use], sq[s])
    dd = n * np.diagonal(R) * vx
    d1, d2 = dd[s], dd[use]
    b_s, b_u = d.beta[s], d.beta[use]
    b1 = np.linalg.solve(xx1, d1 * b_s)
    b2 = b_u - (xx21 @ b1) / d2
    sc = (_yy(d) - float(b1 @ (d1 * b_s)) - b2 * d2 * b_u) / (n - s.size - 1)
    w = np.linalg.solve(xx1, xx21.T)  # (X1'X1)^{-1} X1'X2
    vb2 = np.abs(sc * (d2 - np.einsum("ij,ji->i", xx21, w)) / (d2 * d2))
    beta = np.zeros(len(d))
    varbeta = d.varbeta.copy()
    beta[use], varbeta[use] = b2, vb2
    return beta, varbeta


def _map_mask(z: FloatArray, R: FloatArray, r2thr: float, sig: list[int]) -> int | None:
    """coloc's ``map_mask``: the top SNP outside the hits' LD, by ``|z| - |R z_hits|``."""
    if not sig:
        return int(np.argmax(np.abs(z)))
    rs = R[:, sig]
    use = ~np.any(np.abs(rs) > math.sqrt(r2thr), axis=1)
    if not use.any():
        return None
    expected = rs @ np.abs(z[sig])
    idx = np.flatnonzero(use)
    return int(idx[np.argmax(np.abs(z[idx]) - np.abs(expected[idx]))])


def _prepared(d: Any, name: str, method: Method) -> tuple[ColocDataset, list[str]]:
    """The checked dataset, with sdY estimated for a quantitative trait without it."""
    ds = as_dataset(d, name)
    notes: list[str] = []
    if method == "cond":
        if ds.beta is None or ds.varbeta is None or ds.maf is None:
            raise InputError(f"{name}: method 'cond' needs beta, varbeta and MAF")
        if ds.type == "cc":
            raise InputError(
                f"{name}: conditioning a case-control trait (coloc's linear approximation, "
                "bin2lin) is not supported; use method 'mask'"
            )
    if ds.type == "quant" and ds.sdy is None and ds.varbeta is not None and ds.maf is not None:
        assert ds.n is not None
        ds = replace(ds, sdy=sdy_est(ds.varbeta, ds.maf, ds.n))
        notes.append(f"{name}: sdY estimated from MAF, N and varbeta as {ds.sdy:.6g}")
    return ds, notes


def _hits(
    ds: ColocDataset,
    R: FloatArray | None,
    method: Method,
    r2thr: float,
    pthr: float,
    maxhits: int,
) -> dict[str, float]:
    """The loop of coloc's ``finemap.signals`` on a prepared dataset (LD in its order)."""
    zthr = -float(ndtri(pthr / 2.0))
    z = _marginal_z(ds)
    found: list[int] = []
    zs: list[float] = []
    while len(found) < maxhits:
        if method == "mask":
            assert R is not None
            k = _map_mask(z, R, r2thr, found)
            zk = None if k is None else float(z[k])
        elif not found:
            k = int(np.argmax(np.abs(z)))
            zk = float(z[k])
        else:
            assert R is not None
            b, v = est_cond(ds, R, found)
            zc = b / np.sqrt(v)
            k = int(np.argmax(np.abs(zc)))
            zk = float(zc[k])
        if k is None or zk is None or abs(zk) < zthr:
            break
        found.append(k)
        zs.append(zk)
        if method == "single":
            break
    return {str(ds.snp[k]): zk for k, zk in zip(found, zs, strict=True)}


def finemap_signals(
    d: Any,
    ld: Any = None,
    *,
    method: Method = "single",
    r2thr: float = 0.01,
    pthr: float = 1e-6,
    maxhits: int = 3,
) -> dict[str, float]:
    """Signals of one trait, SNP -> z-score in the order found (coloc's ``finemap.signals``).

    ``d`` is anything :func:`~mrkit.coloc.data.as_dataset` accepts; ``ld`` (needed for
    ``mask`` and ``cond``) any form :func:`~mrkit.coloc.susie_coloc.ld_matrix` accepts.
    Stops at ``maxhits`` hits or when the next best ``|z|`` is below
    :math:`\\Phi^{-1}(1 - p_{thr}/2)`; empty when no SNP reaches it.
    """
    ds, _ = _prepared(d, "dataset", method)
    R = None if ld is None else ld_matrix(ld, [str(s) for s in ds.snp], "LD of dataset")
    if R is None and method != "single":
        raise InputError(f"method {method!r} needs LD (`ld`)")
    return _hits(ds, R, method, r2thr, pthr, maxhits)


# ----------------------------------------------------------------------- two traits
def _common(s1: NDArray[Any], s2: NDArray[Any]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Rows of the SNPs in both datasets, sorted by name (coloc's ``merge``)."""
    where = {str(s): i for i, s in enumerate(s2.tolist())}
    pairs = sorted((str(s), i, where[str(s)]) for i, s in enumerate(s1.tolist()) if s in where)
    if not pairs:
        raise InputError("the two datasets share no SNP")
    return (
        np.array([p[1] for p in pairs], dtype=np.intp),
        np.array([p[2] for p in pairs], dtype=np.intp),
    )


def _pair(
    l1: FloatArray,
    l2: FloatArray,
    drop1: NDArray[np.bool_],
    drop2: NDArray[np.bool_],
    p1: float,
    p2: float,
    p12: float,
) -> tuple[FloatArray, FloatArray, tuple[int, int, int]]:
    r"""Posteriors of one combination as coloc's ``coloc.process`` computes them.

    Masked SNPs get log BF -1.1 for their trait and for H4; H3 sums over all ordered
    pairs of SNPs (the same SNP twice included), a pair with a masked member counting
    :math:`e^0`:

    .. math:: \log B_3 = \log p_1 p_2 + \log\Big(\sum_{i\notin M_1} e^{\ell_{1i}}
              \sum_{j\notin M_2} e^{\ell_{2j}} + Q^2 - |\bar M_1||\bar M_2|\Big)

    Returns PP.H0..H4, SNP.PP.H4 and the positions of the best SNPs for 1, 2 and 4.
    """
    q = l1.size
    m1 = np.where(drop1, MASKED_LBF, l1)
    m2 = np.where(drop2, MASKED_LBF, l2)
    m4 = np.where(drop1 | drop2, MASKED_LBF, l1 + l2)
    keep1, keep2 = ~drop1, ~drop2
    s3 = (logsumexp(l1[keep1]) if keep1.any() else -np.inf) + (
        logsumexp(l2[keep2]) if keep2.any() else -np.inf
    )
    zero_pairs = q * q - int(keep1.sum()) * int(keep2.sum())
    if zero_pairs > 0:
        s3 = float(np.logaddexp(s3, math.log(zero_pairs)))
    s4 = logsumexp(m4)
    lh = np.array(
        [
            0.0,
            math.log(p1) + logsumexp(m1),
            math.log(p2) + logsumexp(m2),
            math.log(p1) + math.log(p2) + s3,
            math.log(p12) + s4,
        ]
    )
    pp: FloatArray = np.exp(lh - logsumexp(lh))
    best = (int(np.argmax(m1)), int(np.argmax(m2)), int(np.argmax(m4)))
    return pp, np.exp(m4 - s4), best


def _masks(nhits: int, k: int, mode: Mode, r2: FloatArray | None, q: int) -> NDArray[np.bool_]:
    """Common SNPs masked for hit ``k`` (0-based): ``r^2 > r2thr`` with the other hits.

    ``allbutone``: all other hits; ``iterative``: the hits before ``k`` (coloc's ``gethits``).
    """
    none = np.zeros(q, dtype=bool)
    if nhits <= 1 or r2 is None:
        return none
    others = [i for i in range(nhits) if i != k] if mode == "allbutone" else list(range(k))
    if not others:
        return none
    return np.asarray(np.max(r2[others], axis=0) > 0, dtype=bool)


def coloc_signals(
    d1: Any,
    d2: Any,
    ld: Any = None,
    *,
    p12: float,
    ld2: Any = None,
    method: Method = "single",
    mode: Mode = "iterative",
    p1: float = 1e-4,
    p2: float = 1e-4,
    maxhits: int = 3,
    r2thr: float = 0.01,
    pthr: float = 1e-6,
) -> ColocSignals:
    """Colocalise every pair of signals of two traits (coloc's ``coloc.signals``).

    Parameters
    ----------
    d1, d2
        Datasets (:func:`~mrkit.coloc.data.as_dataset`); ``cond`` needs beta, varbeta,
        MAF and N.
    ld, ld2
        LD of trait 1 (and 2 unless ``ld2``), needed for ``mask`` and ``cond``.
    p12
        Required, as in coloc (which has no default; its vignette uses 1e-6).
    method, mode, p1, p2, maxhits, r2thr, pthr
        As in coloc. A trait without a signal at ``pthr`` keeps its top SNP.

    Notes
    -----
    coloc 6.0.1 computes these posteriors with ``p1 = p2 = 1e-4`` whatever it is given,
    and returns ``priors = c(p1 = p2, p2 = p2, p12)``; here ``p1``, ``p2`` are used and
    reported as given (the same numbers at the defaults).
    """
    ds1, n1 = _prepared(d1, "dataset1", method)
    ds2, n2 = _prepared(d2, "dataset2", method)
    ldb = ld2 if ld2 is not None else ld
    if method != "single" and (ld is None or ldb is None):
        raise InputError(f"method {method!r} needs LD (`ld`)")
    R1 = None if ld is None else ld_matrix(ld, [str(s) for s in ds1.snp], "LD of dataset1")
    R2 = None if ldb is None else ld_matrix(ldb, [str(s) for s in ds2.snp], "LD of dataset2")
    fm1 = _hits(ds1, R1, method, r2thr, pthr, maxhits) or _best(ds1)
    fm2 = _hits(ds2, R2, method, r2thr, pthr, maxhits) or _best(ds2)
    i1, i2 = _common(ds1.snp, ds2.snp)
    snps = ds1.snp[i1]
    rows: list[dict[str, Any]] = []
    per_snp: list[pd.DataFrame] = []
    skipped: list[str] = []
    priors = {"p1": p1, "p2": p2, "p12": p12}

    def add(
        row: int, h1: str | None, h2: str | None, la: FloatArray, lb: FloatArray, za: Any, zb: Any
    ) -> None:
        q = snps.size
        masking = method == "mask"
        drop1 = _masks(len(fm1), _pos(fm1, h1), mode, r2c1 if masking else None, q)
        drop2 = _masks(len(fm2), _pos(fm2, h2), mode, r2c2 if masking else None, q)
        if (~(drop1 | drop2)).sum() <= 1:
            skipped.append(f"{h1}/{h2}: at most one SNP left after masking")
            return
        pp, snp_pp, best = _pair(la, lb, drop1, drop2, p1, p2, p12)
        per_snp.append(
            pd.DataFrame(
                {
                    "row": row,
                    "snp": snps,
                    "snp_pp_h4": snp_pp,
                    "z_df1": np.where(drop1, 0.0, za),
                    "z_df2": np.where(drop2, 0.0, zb),
                }
            )
        )
        if h1 is None or h2 is None:  # iterative cond: all hits conditioned away
            return
        rows.append(
            {"row": row, "hit1": h1, "hit2": h2, "nsnps": int(snps.size)}
            | dict(zip(PP_COLUMNS, pp.tolist(), strict=True))
            | {"best1": snps[best[0]], "best2": snps[best[1]], "best4": snps[best[2]]}
            | {"hit1_margz": fm1[h1], "hit2_margz": fm2[h2]}
        )

    r2c1 = _r2_by_hit(fm1, R1, ds1, i1, r2thr)
    r2c2 = _r2_by_hit(fm2, R2, ds2, i2, r2thr)
    if method in ("single", "mask"):
        la, lb = dataset_labf(ds1, n1)[i1], dataset_labf(ds2, n2)[i2]
        za, zb = _marginal_z(ds1)[i1], _marginal_z(ds2)[i2]
        row = 0
        for h2 in fm2:
            for h1 in fm1:
                row += 1
                add(row, h1, h2, la, lb, za, zb)
    else:
        assert R1 is not None
        assert R2 is not None
        v1 = _versions(ds1, R1, fm1, mode)
        v2 = _versions(ds2, R2, fm2, mode)
        row = 0
        for c2, (b2, vb2) in v2:
            lb = labf_from_estimates(b2, vb2, type=ds2.type, sdy=ds2.sdy or 1.0)[i2]
            for c1, (b1, vb1) in v1:
                row += 1
                la = labf_from_estimates(b1, vb1, type=ds1.type, sdy=ds1.sdy or 1.0)[i1]
                add(row, c1, c2, la, lb, (b1 / np.sqrt(vb1))[i1], (b2 / np.sqrt(vb2))[i2])
    cols = ["row", "hit1", "hit2", "nsnps", *PP_COLUMNS, "best1", "best2", "best4"]
    summary = pd.DataFrame(rows, columns=[*cols, "hit1_margz", "hit2_margz"])
    snp_cols = ["row", "snp", "snp_pp_h4", "z_df1", "z_df2"]
    table = pd.concat(per_snp, ignore_index=True) if per_snp else pd.DataFrame(columns=snp_cols)
    return ColocSignals(summary, table, fm1, fm2, priors, skipped, n1 + n2)


def _best(ds: ColocDataset) -> dict[str, float]:
    """coloc's ``find.best.signal``: the top |z| SNP when none reaches ``pthr``."""
    z = _marginal_z(ds)
    k = int(np.argmax(np.abs(z)))
    return {str(ds.snp[k]): float(z[k])}


def _pos(hits: dict[str, float], h: str | None) -> int:
    return list(hits).index(h) if h is not None else len(hits)


def _r2_by_hit(
    hits: dict[str, float],
    R: FloatArray | None,
    ds: ColocDataset,
    idx: NDArray[np.intp],
    r2thr: float,
) -> FloatArray | None:
    """Per hit, whether each common SNP has ``r^2 > r2thr`` with it (rows = hit order)."""
    if R is None or len(hits) <= 1:
        return None
    pos = {str(s): i for i, s in enumerate(ds.snp.tolist())}
    rows = np.array([pos[h] for h in hits], dtype=np.intp)
    out: FloatArray = (R[np.ix_(rows, idx)] ** 2 > r2thr).astype(float)
    return out


def _versions(
    ds: ColocDataset, R: FloatArray, hits: dict[str, float], mode: Mode
) -> list[tuple[str | None, tuple[FloatArray, FloatArray]]]:
    """coloc's ``est_all_cond``: (hit, conditional beta/varbeta) per conditioned dataset.

    One hit: the marginal data. ``allbutone``: hit k conditioned on all other hits;
    ``iterative``: hit k conditioned on hits 1..k-1, plus one dataset conditioned on all
    hits (hit None).
    """
    assert ds.beta is not None
    assert ds.varbeta is not None
    names = list(hits)
    pos = {str(s): i for i, s in enumerate(ds.snp.tolist())}
    idx = [pos[h] for h in names]
    marginal = (ds.beta, ds.varbeta)
    if len(names) == 1:
        return [(names[0], marginal)]
    if mode == "allbutone":
        return [(h, est_cond(ds, R, idx[:k] + idx[k + 1 :])) for k, h in enumerate(names)]
    out: list[tuple[str | None, tuple[FloatArray, FloatArray]]] = [(names[0], marginal)]
    for k in range(1, len(names) + 1):
        out.append((names[k] if k < len(names) else None, est_cond(ds, R, idx[:k])))
    return out
