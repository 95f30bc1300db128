"""LD clumping of pandas tables with PLINK 1.9 ``--clump`` semantics.

:func:`clump_table` takes a variant table (a whole GWAS or an instrument table)
and returns every row with its clump and reason, plus one row per clump
(:class:`ClumpResult`). The algorithm is :func:`mrkit.ld.greedy.clump_variants`
(PLINK's greedy clumping with its haplotype r²), verified against plink1.9 b6.26
in ``tests/ld``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mrkit._core.columns import canonical_columns
from mrkit.errors import InputError
from mrkit.ld._haplotype import haplotype_r2
from mrkit.ld.greedy import Clumping, clump_rows, clump_variants
from mrkit.results import Summarised

if TYPE_CHECKING:
    from mrkit.ld.panel import ReferencePanel

__all__ = [
    "ClumpResult",
    "Clumping",
    "clump_table",
    "clump_variants",
    "haplotype_r2",
    "rank_p",
]


@dataclass(frozen=True, repr=False)
class ClumpResult(Summarised):
    """What :func:`clump_table` returns.

    Attributes
    ----------
    table
        Every input row, in input order, with added columns ``in_panel``,
        ``index_snp`` (the index variant of its clump; itself for an index),
        ``is_index``, ``r2_index`` (haplotype r² with its index), ``keep``
        and ``reason`` (``clumped``, ``not in LD panel``, ``p > p1`` or empty).
    clumps
        One row per clump: ``snp, chr, pos, p, n_clumped, clumped_snps``
        (comma-separated, as PLINK's ``SP2`` column), ``in_panel``.
    """

    table: pd.DataFrame
    clumps: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """The clumps, one row each (:attr:`clumps`)."""
        return self.clumps

    @property
    def index_snps(self) -> list[str]:
        """The index variants, most significant first."""
        return self.clumps["snp"].tolist()

    @property
    def not_in_panel(self) -> list[str]:
        """Variants that had no genotypes in the LD panel (kept or dropped)."""
        snp = canonical_columns(self.table)["snp"].astype(str)
        return snp[~self.table["in_panel"].to_numpy()].tolist()


#: Below this -log10 p, ``10 ** -log10p`` is a normal double: :func:`rank_p` is p there.
_EXACT_LP = 300.0


def rank_p(p: np.ndarray, log10p: pd.Series | np.ndarray | None) -> np.ndarray:
    """The p-values clumping ranks and thresholds on: exact where ``p`` underflowed.

    ``q = 10^(-L)`` for ``L = -log10 p <= 300`` and ``q = 10^-300 / (1 + L - 300)``
    above: strictly decreasing in ``L``, so variants whose p is 0 as a double
    (``L > 308``) are still ranked by their exact ``L`` (not by panel order), and
    every threshold ``p1, p2 >= 1e-300`` selects the same rows as the exact p.
    ``p`` itself is used wherever it is at least 1e-300 (or ``log10p`` is missing).
    """
    p = np.asarray(p, dtype=float)
    if log10p is None:
        return p
    lp = pd.to_numeric(pd.Series(np.asarray(log10p)), errors="coerce").to_numpy(float)
    with np.errstate(over="ignore", under="ignore"):
        q = np.where(lp <= _EXACT_LP, 10.0 ** -np.minimum(lp, _EXACT_LP), 0.0)
        q = np.where(lp > _EXACT_LP, 10.0**-_EXACT_LP / (1.0 + (lp - _EXACT_LP)), q)
    tiny = ~(p >= 10.0**-_EXACT_LP)  # underflowed, subnormal or missing p
    return np.where(tiny & np.isfinite(lp) & (lp >= 0), q, p)


def clump_table(
    panel: ReferencePanel,
    table: pd.DataFrame,
    *,
    p1: float = 5e-8,
    p2: float = 5e-8,
    r2: float = 0.001,
    kb: float = 10000,
    missing: str = "keep",
) -> ClumpResult:
    """LD-clump variants with PLINK 1.9 ``--clump`` semantics.

    Parameters
    ----------
    panel
        A :class:`mrkit.ld.panel.ReferencePanel`.
    table
        Variants with ``snp`` and ``p`` (and optionally ``log10p``, ranked on when
        ``p`` underflows (:func:`rank_p`), ``chr``, ``pos``,
        ``effect_allele``, ``other_allele`` for matching by position and
        checking alleles); a whole GWAS or a pre-selected instrument table.
    p1, p2
        Index variants need ``p <= p1``; clumped variants ``p <= p2``.
    r2
        Variants with haplotype ``r² >= r2`` with an index are clumped into it.
    kb
        Window half-width in kilobases (same chromosome only).
    missing
        ``"keep"`` (default): a variant absent from the panel with
        ``p <= p1`` is its own clump, flagged ``in_panel = False``;
        ``"drop"``: it is dropped with the reason ``not in LD panel``.

    Notes
    -----
    Defaults follow TwoSampleMR's ``clump_data`` (p1 = p2 = 5e-8,
    r2 = 0.001, 10,000 kb); PLINK's own defaults are p1 = 1e-4, p2 = 0.01,
    r2 = 0.5, 250 kb. Ties in p are broken by panel order; a ``log10p`` column
    separates p-values that are 0 as doubles (:func:`rank_p`).
    """
    t = canonical_columns(table)
    if "p" not in t.columns:
        raise InputError("the variant table needs a `p` column to clump")
    snp = t["snp"].astype(str).to_numpy()
    chr_: list[str] | None = None
    pos: np.ndarray | None = None
    effect_allele: list[str] | None = None
    other_allele: list[str] | None = None
    has_pos = {"chr", "pos"} <= set(t.columns)
    if has_pos:
        chr_ = t["chr"].astype(str).tolist()
        pos = pd.to_numeric(t["pos"], errors="coerce").to_numpy(float)
    if {"effect_allele", "other_allele"} <= set(t.columns):
        effect_allele = t["effect_allele"].astype(str).tolist()
        other_allele = t["other_allele"].astype(str).tolist()
    pv = pd.to_numeric(t["p"], errors="coerce").to_numpy(float)
    res = clump_variants(
        panel,
        snp.tolist(),
        rank_p(pv, t["log10p"] if "log10p" in t.columns else None),
        chr=chr_,
        pos=pos,
        effect_allele=effect_allele,
        other_allele=other_allele,
        p1=p1,
        p2=p2,
        r2=r2,
        kb=kb,
        missing=missing,
    )
    out = table.copy()
    index_of = res.index_of
    out["in_panel"] = res.in_panel
    named = snp[np.maximum(index_of, 0)]
    # (numpy's stubs leave None out of where()'s ArrayLike, and so take its 1-argument form)
    out["index_snp"] = np.where(index_of >= 0, named, None)  # type: ignore[assignment]
    out["is_index"] = res.is_index
    out["r2_index"] = res.r2_index
    out["keep"] = res.keep
    out["reason"] = res.reason
    clumps = pd.DataFrame(clump_rows(panel, snp, res, chr_, pos, pv))
    return ClumpResult(table=out, clumps=clumps)
