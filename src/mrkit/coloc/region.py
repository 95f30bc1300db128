"""One region of a stored (or any readable) GWAS as a colocalisation dataset.

``mrkit coloc ID1 ID2 --store S --region CHR:START-END`` takes both traits from the
store: each GWAS is read with :func:`mrkit.store.catalog.load_gwas` (a store id, or a
summary-statistics file in any format the readers know), cut to the region and turned
into a :class:`~mrkit.coloc.data.ColocDataset`:

* ``beta``, ``varbeta = se²``, ``pvalues = p``, ``MAF`` from ``eaf`` (folded to the
  minor allele), ``N`` from the per-variant ``n`` (else the catalog's ``n``), alleles;
* a GWAS with ``ncase`` and ``ncontrol`` in the catalog is case-control with
  ``s = ncase / (ncase + ncontrol)``; any other is quantitative, with ``sdY`` estimated
  from MAF, N and varbeta as coloc does (so ``eaf`` is needed);
* rows without beta/se (or without eaf where it is needed) and repeated rsIDs (all but
  the first) are left out and counted in the dataset's notes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mrkit.coloc.data import ColocDataset
from mrkit.errors import InputError
from mrkit.store.catalog import load_gwas

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Region", "dataset_from_sumstats", "load_region", "parse_region"]

Region = tuple[str, int, int]


def parse_region(text: str) -> Region:
    """``"CHR:START-END"`` (``chr`` prefix and thousands separators allowed) -> parts.

    >>> parse_region("chr19:11,100,000-11,250,000")
    ('19', 11100000, 11250000)
    """
    m = re.fullmatch(r"\s*(?:chr)?([0-9XYMT]+)\s*:\s*([\d,]+)\s*-\s*([\d,]+)\s*", str(text), re.I)
    if m is None:
        msg = f"--region {text!r} is not CHR:START-END (e.g. 19:11100000-11250000)"
        raise InputError(msg)
    start, end = int(m.group(2).replace(",", "")), int(m.group(3).replace(",", ""))
    if end < start:
        msg = f"--region {text!r} ends before it starts"
        raise InputError(msg)
    return m.group(1).upper(), start, end


def dataset_from_sumstats(
    table: pd.DataFrame, meta: dict[str, Any], *, name: str, notes: list[str] | None = None
) -> ColocDataset:
    """A :class:`ColocDataset` from a normalised summary-statistics table and its metadata."""
    import pandas as pd

    t = table
    drop = t["beta"].isna() | t["se"].isna() | ~(t["se"] > 0)
    ncase, ncontrol = meta.get("ncase"), meta.get("ncontrol")
    cc = _number(ncase) is not None and _number(ncontrol) is not None
    if not cc:  # sdY is estimated from MAF, N and varbeta
        drop |= t["eaf"].isna()
    n_meta = _number(meta.get("n"))
    n = pd.to_numeric(t["n"], errors="coerce") if "n" in t else pd.Series(np.nan, index=t.index)
    if n_meta is not None:
        n = n.fillna(n_meta)
    drop |= n.isna() & (not cc)
    dups = t["snp"].duplicated() & ~drop
    if drop.any() or dups.any():
        msg = (
            f"{name}: {int(drop.sum())} variant(s) without beta/se"
            + ("" if cc else ", eaf or n")
            + f" and {int(dups.sum())} repeated rsID(s) left out"
        )
        if notes is not None:
            notes.append(msg)
    keep = ~(drop | dups)
    t, n = t[keep], n[keep]
    if len(t) == 0:
        msg = f"{name}: no usable variant in the region"
        raise InputError(msg)
    eaf = t["eaf"].to_numpy(dtype=float)
    maf = np.where(eaf > 0.5, 1.0 - eaf, eaf)
    has_maf = bool(np.isfinite(maf).all() and ((maf > 0) & (maf < 1)).all())
    s = None
    if cc:
        assert ncase is not None
        assert ncontrol is not None
        s = float(ncase) / (float(ncase) + float(ncontrol))
    ds = ColocDataset(
        snp=t["snp"].astype(str).to_numpy(dtype=object),
        type="cc" if cc else "quant",
        beta=t["beta"].to_numpy(dtype=float),
        varbeta=t["se"].to_numpy(dtype=float) ** 2,
        pvalues=None,
        maf=maf if has_maf else None,
        n=None if n.isna().any() else np.asarray(n, dtype=np.float64),
        s=s,
        position=t["pos"].to_numpy(dtype=float),
        effect_allele=t["effect_allele"].astype(str).str.upper().to_numpy(dtype=object),
        other_allele=t["other_allele"].astype(str).str.upper().to_numpy(dtype=object),
        name=name,
    )
    return ds.check()


def _number(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def load_region(
    source: str | Path,
    region: Region | str,
    *,
    store: str | Path | None = None,
    notes: list[str] | None = None,
) -> ColocDataset:
    """The variants of ``source`` (store id or file) in ``region``, as a dataset."""
    chrom, start, end = parse_region(region) if isinstance(region, str) else region
    table, meta = load_gwas(source, store=store)
    chrs = table["chr"].astype(str).str.upper().str.removeprefix("CHR")
    pos = table["pos"].to_numpy(dtype=float)
    inside = (chrs == chrom).to_numpy() & (pos >= start) & (pos <= end)
    if not inside.any():
        msg = f"{source}: no variant in {chrom}:{start}-{end}"
        raise InputError(msg)
    name = str(meta.get("id") or source)
    return dataset_from_sumstats(table[inside], meta, name=name, notes=notes)
