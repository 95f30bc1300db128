"""LD proxies for exposure variants absent from the outcome (harmonisation hook).

The LD module supplies a table of candidate proxies; this module picks, for
each absent target SNP, the proxy with the highest r² that the outcome has and
whose outcome alleles map onto the target's, and relabels that outcome row to
the target SNP (the same substitution TwoSampleMR's ``extract_outcome_data(...,
proxies = TRUE)`` makes, after which harmonisation treats it like any row).

Allele mapping: ``proxy_effect_allele`` is in phase with
``target_effect_allele`` (and the other alleles with each other). An outcome
allele equal to the proxy effect allele becomes the target effect allele, one
equal to the proxy other allele the target other allele. When neither outcome
allele matches and the proxy is not palindromic, the outcome alleles are read
on the other strand first. A proxy whose outcome alleles cannot be mapped is
skipped in favour of the next best.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mrkit.harmonise._inputs import check_frame
from mrkit.ld.proxies import PROXY_COLUMNS

_COMPLEMENT = str.maketrans("ACGT", "TGCA")
_PALINDROMES = {("A", "T"), ("T", "A"), ("C", "G"), ("G", "C")}


def _txt(v: object) -> str | None:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    t = str(v).strip().upper()
    return t or None


def _map(ea, oa, pa1, pa2, ta1, ta2):
    table = {pa1: ta1, pa2: ta2}
    new_ea = table.get(ea)
    if new_ea is None:
        return None
    if oa is None:
        return new_ea, None
    new_oa = table.get(oa)
    if new_oa is None or new_oa == new_ea:
        return None
    return new_ea, new_oa


def map_proxy_alleles(ea, oa, pa1, pa2, ta1, ta2) -> tuple[str, str | None] | None:
    """Outcome alleles ``(ea, oa)`` at the proxy, expressed as target alleles.

    Returns ``(effect, other)`` (``other`` is ``None`` when ``oa`` is missing)
    or ``None`` when the alleles do not map, directly or on the other strand.
    """
    if None in (ea, pa1, pa2, ta1, ta2) or pa1 == pa2:
        return None
    got = _map(ea, oa, pa1, pa2, ta1, ta2)
    if got is None and (pa1, pa2) not in _PALINDROMES:
        fo = None if oa is None else oa.translate(_COMPLEMENT)
        got = _map(ea.translate(_COMPLEMENT), fo, pa1, pa2, ta1, ta2)
    return got


def proxy_rows(
    outcome: pd.DataFrame,
    proxies: pd.DataFrame,
    absent: np.ndarray,
    *,
    key: np.ndarray | None = None,
    proxy_key: np.ndarray | None = None,
) -> pd.DataFrame:
    """Outcome rows of the best usable proxy for each absent target SNP.

    ``outcome`` is the prepared outcome table (columns ``snp, effect_allele,
    other_allele, ...``, ``proxy, proxy_snp, proxy_r2``); the result has the
    same columns, ``snp`` set to the target, alleles mapped, ``proxy = True``.
    For each target, the candidates are taken by decreasing ``r2`` (then in
    table order) and the first whose SNP the outcome has and whose alleles map
    is used.

    With ``key`` (one integer per ``absent`` target, e.g. the exposure) and
    ``proxy_key`` (one per row of ``proxies``), a proxy row serves only the
    targets of its own key, the choice is made per ``(key, target)`` and the
    result has a column ``_key``.
    """
    check_frame(proxies, "proxies", required=PROXY_COLUMNS, expected=", ".join(PROXY_COLUMNS))
    cand = proxies.loc[:, list(PROXY_COLUMNS)].reset_index(drop=True)
    cand["target_snp"] = cand["target_snp"].astype(str)
    on = ["target_snp"]
    if key is None:
        wanted = cand["target_snp"].isin(set(map(str, absent))).to_numpy()
    else:
        cand["_key"] = np.asarray(proxy_key)
        on = ["_key", "target_snp"]
        needed = pd.MultiIndex.from_arrays([np.asarray(key), [str(a) for a in absent]])
        wanted = pd.MultiIndex.from_frame(cand[on]).isin(needed)
    cand = cand.loc[wanted]
    if cand.empty:
        return outcome.iloc[0:0]
    cand["proxy_snp"] = cand["proxy_snp"].astype(str)
    cand["r2"] = pd.to_numeric(cand["r2"], errors="coerce")
    cand["_order"] = np.arange(len(cand))
    cand = cand.sort_values([*on, "r2", "_order"], ascending=[True] * len(on) + [False, True])
    first_row = outcome.reset_index(drop=True).drop_duplicates("snp").reset_index(drop=True)
    at = pd.Index(first_row["snp"]).get_indexer(cand["proxy_snp"])
    cand, at = cand.loc[at >= 0], at[at >= 0]
    ea = first_row["effect_allele"].to_numpy(object)[at]
    oa = first_row["other_allele"].to_numpy(object)[at]
    alleles = cand[[f"{s}_{a}_allele" for s in ("proxy", "target") for a in ("effect", "other")]]
    got = [
        map_proxy_alleles(_txt(e), _txt(o), *map(_txt, rest))
        for e, o, *rest in zip(ea, oa, *alleles.to_numpy(object).T, strict=True)
    ]
    usable = np.flatnonzero([g is not None for g in got])
    best = np.zeros(len(cand), dtype=bool)  # the first usable candidate of each target
    best[usable[~cand.iloc[usable][on].duplicated().to_numpy()]] = True
    if not best.any():
        return outcome.iloc[0:0]
    res = first_row.iloc[at[best]].reset_index(drop=True)
    chosen = cand.loc[best]
    # (every best row is usable: its g is set)
    mapped = [g for g, b in zip(got, best, strict=True) if b and g is not None]
    res["snp"] = chosen["target_snp"].to_numpy(object)
    res["effect_allele"] = np.array([g[0] for g in mapped], dtype=object)
    res["other_allele"] = np.array([g[1] for g in mapped], dtype=object)
    res["proxy"] = True
    res["proxy_snp"] = chosen["proxy_snp"].to_numpy(object)
    res["proxy_r2"] = chosen["r2"].to_numpy(float)
    if key is not None:
        res["_key"] = chosen["_key"].to_numpy()
    return res
