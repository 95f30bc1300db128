"""LD proxies from a reference panel, with alleles mapped through the sign of r."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from mrkit._core.columns import canonical_columns
from mrkit.errors import InputError

#: Columns of a proxy table (consumed by :func:`mrkit.harmonise.core.harmonise`).
PROXY_COLUMNS: tuple[str, ...] = (
    "target_snp",
    "proxy_snp",
    "r2",
    "target_effect_allele",
    "target_other_allele",
    "proxy_effect_allele",
    "proxy_other_allele",
)


def _as_table(x: Iterable[str] | pd.DataFrame) -> pd.DataFrame:
    if isinstance(x, pd.DataFrame):
        return canonical_columns(x)
    return pd.DataFrame({"snp": [str(s) for s in x]})


def _r_one_vs_many(g: np.ndarray, i: int) -> np.ndarray:
    """Pairwise-complete Pearson r of column ``i`` against every column of ``g``."""
    ok = g >= 0
    x = np.where(ok, g, 0).astype(np.float64)
    oi = ok[:, i].astype(np.float64)
    xi = x[:, i]
    okf = ok.astype(np.float64)
    n = oi @ okf
    sxi = xi @ okf  # target sums over samples where each candidate is present
    sxi2 = (xi * xi) @ okf
    sy = oi @ x
    sy2 = oi @ (x * x)
    sxy = xi @ x
    num = n * sxy - sxi * sy
    den = np.sqrt((n * sxi2 - sxi**2) * (n * sy2 - sy**2))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = num / den
    return np.where(np.isfinite(r), np.clip(r, -1, 1), 0.0)


def find_proxies(
    panel,
    targets: Iterable[str] | pd.DataFrame,
    candidates: Iterable[str] | pd.DataFrame,
    *,
    r2: float = 0.8,
    kb: float = 500,
) -> pd.DataFrame:
    """Best LD proxy of each target among the candidate variants.

    Parameters
    ----------
    panel
        A :class:`mrkit.ld.panel.ReferencePanel`.
    targets
        Variants that need a proxy (e.g. instruments missing from the
        outcome): IDs, or a table with ``snp`` and optionally
        ``effect_allele``/``other_allele`` (default: the panel's A1/A2).
    candidates
        Variants allowed as proxies (e.g. every SNP of the outcome GWAS).
    r2
        Minimum r² (genotype correlation, as ``plink1.9 --r2``).
    kb
        Search window half-width in kilobases, same chromosome.

    Returns
    -------
    pandas.DataFrame
        One row per target that has a proxy, columns ``target_snp, proxy_snp,
        r2, target_effect_allele, target_other_allele, proxy_effect_allele,
        proxy_other_allele``. The proxy's effect allele is the allele on the
        same haplotype as the target's effect allele: the proxy's A1 when
        ``r`` (between A1 codings) times the target's coding sign is positive.
        The best proxy has the highest r², then the shortest distance. Targets
        absent from the panel, or with no proxy at ``r² >= r2``, have no row.
    """
    if not (0 < r2 <= 1):
        raise InputError(f"r2 must be in (0, 1], got {r2}")
    t = _as_table(targets)
    c = _as_table(candidates)
    trow = panel.locate(t)
    crow = np.unique(panel.locate(c))
    crow = crow[crow >= 0]
    v = panel.bim
    chrom, pos, a1, a2 = v.chr, v.pos, v.a1, v.a2
    has_alleles = {"effect_allele", "other_allele"} <= set(t.columns)
    window = kb * 1000.0
    out: list[tuple] = []
    tsnp = t["snp"].astype(str).to_numpy()
    for k in np.flatnonzero(trow >= 0):
        row = trow[k]
        near = crow[(chrom[crow] == chrom[row]) & (np.abs(pos[crow] - pos[row]) <= window)]
        near = near[near != row]
        if near.size == 0:
            continue
        g = panel.genotypes(np.concatenate([[row], near]))
        r = _r_one_vs_many(g, 0)[1:]
        rr = r * r
        ok = rr >= r2
        if not ok.any():
            continue
        dist = np.abs(pos[near] - pos[row])
        best = np.lexsort((near, dist, -rr))[0]
        if has_alleles:
            ea = str(t["effect_allele"].iloc[k]).upper()
            oa = str(t["other_allele"].iloc[k]).upper()
        else:
            ea, oa = a1[row], a2[row]
        sign = 1.0 if ea == a1[row] else -1.0
        j = near[best]
        if r[best] * sign > 0:
            pea, poa = a1[j], a2[j]
        else:
            pea, poa = a2[j], a1[j]
        out.append((tsnp[k], v.snp[int(j)].as_py(), float(rr[best]), ea, oa, pea, poa))
    return pd.DataFrame(out, columns=PROXY_COLUMNS)
