"""Per-pair counts of a many-pair harmonisation: optional columns and logs.

Private to :mod:`mrkit.harmonise`: every count is a ``bincount`` over the pair
index of the rows, so that each pair gets what a ``harmonise()`` call on it
alone reports.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mrkit.harmonise._inputs import OPTIONAL_OUT, isin

_CASE_KEYS = (
    "switched_alleles",
    "flipped_alleles_basic",
    "flipped_alleles_palindrome",
    "flipped_alleles_no_oa",
)


def has_optional(ex, out, raw_snp, codes, labels, proxies, key):
    """Per optional column, per exposure: does an input of the pair have a value?

    ``harmonise()`` writes ``log10p_*``, ``ncase_*``, ``ncontrol_*`` when the
    exposure's rows or the outcome rows it reads (those of its SNPs and of the
    proxies' SNPs) have one.
    """
    n = len(labels)
    proxy_snps = np.array([], dtype=object)
    pcodes = np.array([], dtype=np.intp)
    if proxies is not None and "proxy_snp" in getattr(proxies, "columns", ()):
        ok = proxies["proxy_snp"].notna().to_numpy()
        proxy_snps = proxies["proxy_snp"].astype(str).to_numpy(object)[ok]
        if key is not None:
            pk = pd.Index(labels, dtype=object).get_indexer(proxies[key].to_numpy(object))[ok]
            proxy_snps, pcodes = proxy_snps[pk >= 0], pk[pk >= 0]
    has: dict[str, np.ndarray] = {}
    base = out.iloc[: len(raw_snp)]  # the outcome's own rows (proxy rows are copies of them)
    for col in OPTIONAL_OUT:
        res = np.bincount(codes[ex[col].notna().to_numpy()], minlength=n) > 0
        if n == 1 and key is None:  # one exposure: it reads every outcome row kept
            has[col] = res | bool(base[col].notna().any())
            continue
        with_value = set(raw_snp[base[col].notna().to_numpy()])
        if with_value:
            res |= np.bincount(codes[isin(ex["snp"], with_value)], minlength=n) > 0
            hit = np.array([s in with_value for s in proxy_snps], dtype=bool)
            if key is None:
                res |= bool(hit.any())
            else:
                res |= np.bincount(pcodes[hit], minlength=n) > 0
        has[col] = res
    return has


def pair_logs(rows, cols, *, group, n_candidates, action, labels, outcome_id):
    """:attr:`HarmonisedResult.log` and ``tsmr_log`` of every pair, by ``bincount``."""
    n = len(labels)

    def count(mask: np.ndarray) -> list[int]:
        return np.bincount(group[mask], minlength=n).tolist()

    in_r, matched = rows["in_r"], rows["matched"]
    total = count(in_r)
    incompatible = count(in_r & cols["remove"])
    ambiguous = count(in_r & cols["ambiguous"])
    for_mr = count(cols["mr_keep"])
    proxy = count(in_r & cols["proxy"])
    absent = count(~matched)
    palindromic = count(in_r & cols["palindromic"])
    dups, kept = count(rows["dup"]), count(cols["keep"])
    cases = []  # per case: present per pair, and its flag sums per pair
    for name, (at, flags) in rows["cases"].items():
        g = group[at]
        sums = {
            k: np.bincount(g, weights=v, minlength=n).astype(np.int64).tolist()
            for k, v in flags.items()
        }
        cases.append((name, (np.bincount(g, minlength=n) > 0).tolist(), sums))
    logs, tsmr_logs = [], []
    for i, label in enumerate(labels):
        nc = int(n_candidates[i])
        case_logs = [
            {"alleles": name, **{k: v[i] for k, v in sums.items()}}
            for name, present, sums in cases
            if present[i]
        ]
        common: dict[str, Any] = {"incompatible_alleles": incompatible[i]}
        if action != 1:
            common["ambiguous_alleles"] = ambiguous[i]
        common.update(
            candidate_variants=nc,
            variants_absent_from_reference=nc - total[i],
            total_variants=total[i],
            total_variants_for_mr=for_mr[i],
            proxy_variants=proxy[i],
        )
        keys: list[str] = []
        for c in case_logs:
            keys += [k for k in c if k not in keys]
        tsmr_log = []
        for c in case_logs:
            rec: dict[str, Any] = {"id.exposure": label, "id.outcome": outcome_id}
            rec.update({k: c.get(k) for k in keys})
            rec.update(common)
            tsmr_log.append(rec)
        log: dict[str, Any] = {"action": action, "candidate_variants": nc}
        log["absent_from_outcome"] = absent[i]
        for k in _CASE_KEYS:
            log[k] = int(sum(c.get(k, 0) for c in case_logs))
        log["palindromic"] = palindromic[i]
        log.update(common)
        log["ambiguous_alleles"] = ambiguous[i]
        log["duplicate_snps"] = dups[i]
        log["kept"] = kept[i]
        logs.append(log)
        tsmr_logs.append(tsmr_log)
    return logs, tsmr_logs
