"""Select exposure instruments: p-value threshold, MHC, LD clumping, F-statistic.

Every candidate row (``p <= p``) is returned with ``keep`` and ``reason``;
nothing is dropped silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mrkit._core.columns import (
    REASON_MHC,
    REASON_P_ABOVE_P1,
    canonical_columns,
    normalise_chr,
    reason_weak,
)
from mrkit.errors import InputError
from mrkit.ld.clump import clump_table
from mrkit.ld.panel import ReferencePanel

#: The extended MHC region on chromosome 6 (as used by LD Score regression and MR studies).
MHC = {"GRCh37": (28_477_797, 33_448_354), "GRCh38": (28_510_120, 33_480_577)}
#: Drop reason of a candidate outside the region of a cis-MR study (``region=``).
REASON_OUTSIDE_REGION = "outside region"
#: Drop reason of a candidate absent from the LD panel (see ``missing``).
REASON_NOT_IN_PANEL = "not in LD panel"


def _select_p(t: pd.DataFrame, p: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows with p <= ``p``, and the -log10 p they were selected on (None: selected on p).

    The ``log10p`` column, when it has any value, is preferred over ``p`` so that
    p-values below 1e-308 are selected and ordered correctly.
    """
    if "log10p" in t.columns:
        lp = pd.to_numeric(t["log10p"], errors="coerce").to_numpy(float)
        if np.isfinite(lp).any():
            return np.isfinite(lp) & (lp >= -np.log10(p)), lp
    if "p" not in t.columns:
        raise InputError("select_instruments: the GWAS table needs a `p` or `log10p` column")
    pv = pd.to_numeric(t["p"], errors="coerce").to_numpy(float)
    return np.isfinite(pv) & (pv <= p), None


def select_instruments(
    gwas: pd.DataFrame,
    *,
    p: float = 5e-8,
    clump: bool = True,
    panel=None,
    r2: float = 0.001,
    kb: float = 10000,
    min_f: float | None = None,
    exclude_mhc: bool = False,
    build: str = "GRCh37",
    missing: str = "drop",
    region: tuple[str, int, int] | None = None,
) -> pd.DataFrame:
    """Candidate instruments of one exposure GWAS, each with ``keep`` and ``reason``.

    Parameters
    ----------
    gwas
        Normalised summary statistics (``snp, chr, pos, effect_allele,
        other_allele, beta, se, p`` and optionally ``log10p``, which is used
        when present so that p-values below 1e-308 are selected correctly).
    p
        Significance threshold; also clumping's ``p1`` and ``p2``.
    clump, panel, r2, kb
        LD clumping (PLINK 1.9 semantics, :func:`mrkit.ld.clump.clump_table`)
        against ``panel`` (a :class:`~mrkit.ld.panel.ReferencePanel` or its prefix).
        Defaults as TwoSampleMR's ``clump_data``.
    min_f
        Drop index variants with ``F = (beta / se)²`` below it (reason
        ``weak (F < min_f)``).
    exclude_mhc
        Drop variants in the extended MHC (chr6, ``MHC[build]``) before
        clumping (reason ``MHC region``).
    missing
        Candidates absent from the LD panel (their LD with the others is
        unknown): ``"drop"`` (default, reason ``not in LD panel``), as plink
        ``--clump`` and TwoSampleMR's ``clump_data``/ieugwasr ``ld_clump`` do, or
        ``"keep"`` each as its own clump, unclumped (``in_panel = False``).
    region
        ``(chromosome, start, end)`` (bp, inclusive): cis-MR; variants outside
        are dropped before clumping (reason ``outside region``).

    Returns
    -------
    pandas.DataFrame
        The rows with ``p <= p``, in input order, plus ``f_stat``, ``keep``,
        ``reason``, and with clumping ``in_panel``, ``index_snp``,
        ``r2_index``. Reasons: ``outside region``, ``MHC region``, ``clumped``,
        ``not in LD panel``, ``weak (F < 10)``.
    """
    if build not in MHC:
        raise InputError(f"build must be one of {', '.join(MHC)}, got {build!r}")
    t = canonical_columns(gwas)
    cand = gwas.loc[_select_p(t, p)[0]].copy()
    tc = t.loc[cand.index]
    reason = pd.Series("", index=cand.index, dtype=object)
    if {"beta", "se"} <= set(tc.columns):
        b = pd.to_numeric(tc["beta"], errors="coerce")
        s = pd.to_numeric(tc["se"], errors="coerce")
        cand["f_stat"] = (b / s) ** 2
    elif min_f is not None:
        raise InputError("min_f needs `beta` and `se` columns")
    if region is not None:
        if not {"chr", "pos"} <= set(tc.columns):
            raise InputError("region needs `chr` and `pos` columns")
        chrom = tc["chr"].astype(str).map(normalise_chr)
        pos = pd.to_numeric(tc["pos"], errors="coerce")
        inside = (chrom == normalise_chr(str(region[0]))) & pos.between(region[1], region[2])
        reason[~inside] = REASON_OUTSIDE_REGION
    if exclude_mhc:
        if not {"chr", "pos"} <= set(tc.columns):
            raise InputError("exclude_mhc needs `chr` and `pos` columns")
        lo, hi = MHC[build]
        chrom = tc["chr"].astype(str).map(normalise_chr)
        pos = pd.to_numeric(tc["pos"], errors="coerce")
        reason[(reason == "") & (chrom == "6") & (pos >= lo) & (pos <= hi)] = REASON_MHC
    if clump:
        if panel is None:
            raise InputError(
                "clumping needs an LD reference panel: pass panel=PREFIX (PLINK .bed/.bim/.fam) "
                "or clump=False"
            )
        if isinstance(panel, str | Path):
            panel = ReferencePanel(panel)
        live = reason == ""
        res = clump_table(panel, cand.loc[live], p1=p, p2=p, r2=r2, kb=kb, missing=missing)
        tab = res.table
        for col in ("in_panel", "index_snp", "r2_index"):
            cand[col] = tab[col].reindex(cand.index)
        reason[live] = (
            tab["reason"].where(tab["reason"] != REASON_P_ABOVE_P1, "").reindex(reason[live].index)
        )
    if min_f is not None:
        weak = (reason == "") & ~(cand["f_stat"] >= min_f)
        reason[weak] = reason_weak(min_f)
    cand["keep"] = (reason == "").to_numpy()
    cand["reason"] = reason
    return cand


def select_mvmr_instruments(
    gwas: dict[str, pd.DataFrame],
    *,
    p: float = 5e-8,
    clump: bool = True,
    panel=None,
    r2: float = 0.001,
    kb: float = 10000,
    exclude_mhc: bool = False,
    build: str = "GRCh37",
    missing: str = "drop",
) -> pd.DataFrame:
    """Instruments for multivariable MR: the union over exposures, re-clumped.

    A variant is a candidate when it reaches ``p`` for at least one exposure;
    the union is clumped on each variant's smallest p-value across exposures
    (Sanderson et al. 2019, doi:10.1093/ije/dyy262), so the kept set is
    independent across all exposures. Every candidate is returned with
    ``keep``/``reason`` and, per exposure ``E``, its ``beta_E``, ``se_E`` and
    ``p_E`` (NaN where that GWAS lacks the variant: look it up in the full
    GWAS before fitting).

    Parameters
    ----------
    gwas
        ``{exposure id: normalised summary statistics}`` (full GWAS or at least
        every variant that reaches ``p`` in any exposure).
    p, clump, panel, r2, kb, exclude_mhc, build, missing
        As :func:`select_instruments`.
    """
    if len(gwas) < 2:
        raise InputError("multivariable MR needs at least two exposures")
    per: list[pd.DataFrame] = []
    for name, df in gwas.items():
        t = canonical_columns(df)
        sel, lp = _select_p(t, p)
        hit = t.loc[sel]
        if lp is None:
            lp = -np.log10(pd.to_numeric(hit["p"], errors="coerce").to_numpy(float))
        else:
            lp = lp[sel]
        per.append(hit.assign(_lp=lp, _exposure=name))
    pooled = pd.concat(per, ignore_index=True)
    if pooled.empty:
        raise InputError(f"no variant reaches p < {p:g} for any of {', '.join(gwas)}")
    best = pooled.sort_values("_lp", ascending=False, kind="stable").drop_duplicates("snp")
    best = best.assign(p=10.0 ** -best["_lp"], log10p=best["_lp"]).drop(columns="_lp")
    best = best.rename(columns={"_exposure": "strongest_exposure"}).reset_index(drop=True)
    chosen = select_instruments(
        best,
        p=p,
        clump=clump,
        panel=panel,
        r2=r2,
        kb=kb,
        min_f=None,
        exclude_mhc=exclude_mhc,
        build=build,
        missing=missing,
    )
    for name, df in gwas.items():
        t = canonical_columns(df).drop_duplicates("snp").set_index("snp")
        for col in ("beta", "se", "p"):
            if col in t.columns:
                chosen[f"{col}_{name}"] = chosen["snp"].map(t[col]).to_numpy(float)
    return chosen


def not_in_panel_counts(instruments: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Candidates missing from the LD panel: how many dropped and kept unclumped.

    Returns ``{"dropped": D, "kept": K, "by_exposure": {id: {"dropped", "kept"}}}``
    over the tables of :func:`select_instruments` (``in_panel`` False; the
    dropped ones carry the reason ``not in LD panel``).
    """
    by: dict[str, dict[str, int]] = {}
    for e, t in instruments.items():
        if "in_panel" not in t.columns or not len(t):
            continue
        out = t["in_panel"].eq(False).to_numpy()  # NaN: not clumped (dropped before)
        dropped = int((out & (t["reason"] == REASON_NOT_IN_PANEL).to_numpy()).sum())
        kept = int((out & t["keep"].astype(bool).to_numpy()).sum())
        if dropped or kept:
            by[e] = {"dropped": dropped, "kept": kept}
    return {
        "dropped": sum(v["dropped"] for v in by.values()),
        "kept": sum(v["kept"] for v in by.values()),
        "by_exposure": by,
    }
