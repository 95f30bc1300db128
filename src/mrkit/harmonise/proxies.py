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

from mrkit.errors import InputError
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


def proxy_rows(outcome: pd.DataFrame, proxies: pd.DataFrame, absent: np.ndarray) -> pd.DataFrame:
    """Outcome rows of the best usable proxy for each absent target SNP.

    ``outcome`` is the prepared outcome table (columns ``snp, effect_allele,
    other_allele, ...``, ``proxy, proxy_snp, proxy_r2``); the result has the
    same columns, ``snp`` set to the target, alleles mapped, ``proxy = True``.
    """
    if not isinstance(proxies, pd.DataFrame):
        raise InputError(f"harmonise: proxies must be a pandas DataFrame, got {type(proxies)}")
    missing = [c for c in PROXY_COLUMNS if c not in proxies.columns]
    if missing:
        raise InputError(
            f"harmonise: the proxies table lacks column(s) {', '.join(missing)}; "
            f"expected {', '.join(PROXY_COLUMNS)}"
        )
    cand = proxies.loc[proxies["target_snp"].astype(str).isin(set(map(str, absent)))].copy()
    if cand.empty:
        return outcome.iloc[0:0]
    cand["target_snp"] = cand["target_snp"].astype(str)
    cand["proxy_snp"] = cand["proxy_snp"].astype(str)
    cand["r2"] = pd.to_numeric(cand["r2"], errors="coerce")
    cand["_order"] = np.arange(len(cand))
    cand = cand.sort_values(["target_snp", "r2", "_order"], ascending=[True, False, True])
    first_row = outcome.reset_index(drop=True).drop_duplicates("snp")
    by_snp = dict(zip(first_row["snp"], range(len(first_row)), strict=True))

    rows: list[pd.Series] = []
    done: set[str] = set()
    for rec in cand.itertuples(index=False):
        target = rec.target_snp
        if target in done or rec.proxy_snp not in by_snp:
            continue
        orow = first_row.iloc[by_snp[rec.proxy_snp]].copy()
        got = map_proxy_alleles(
            _txt(orow["effect_allele"]),
            _txt(orow["other_allele"]),
            _txt(rec.proxy_effect_allele),
            _txt(rec.proxy_other_allele),
            _txt(rec.target_effect_allele),
            _txt(rec.target_other_allele),
        )
        if got is None:
            continue
        orow["snp"] = target
        orow["effect_allele"], orow["other_allele"] = got
        orow["proxy"] = True
        orow["proxy_snp"] = rec.proxy_snp
        orow["proxy_r2"] = float(rec.r2)
        rows.append(orow)
        done.add(target)
    if not rows:
        return outcome.iloc[0:0]
    res = pd.DataFrame(rows).reset_index(drop=True)
    return res.astype({"proxy": bool, "proxy_r2": float})
