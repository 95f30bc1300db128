"""The per-pair harmonisation as it was before the many-pair engine: the oracle.

A verbatim copy of ``mrkit.harmonise.core.harmonise`` (and of the proxy
substitution it called, ``proxy_rows``) from before
:func:`mrkit.harmonise.many.harmonise_many` replaced it: one exposure-outcome
pair per call, pandas merges and a row loop over proxy candidates. The tests
check that the many-pair engine gives exactly these tables and logs, pair by
pair; ``benchmarks/bench_harmonise.py`` times it as the baseline. Only the
allele rules (``mrkit.harmonise.alleles``, element-wise) are shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from mrkit.errors import InputError
from mrkit.harmonise import alleles as _al
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


#: Columns of a normalised summary-statistics table that harmonisation reads.
INPUT_COLUMNS: tuple[str, ...] = (
    "snp", "chr", "pos", "effect_allele", "other_allele", "eaf", "beta", "se", "p",
    "log10p", "n", "ncase", "ncontrol",
)  # fmt: skip
_REQUIRED = ("snp", "effect_allele", "beta", "se")
_NUMERIC = ("eaf", "beta", "se", "p", "log10p", "n", "ncase", "ncontrol")
_OPTIONAL_OUT = ("log10p", "ncase", "ncontrol")

#: Reasons a row is not kept, in the order they are checked.
REASONS: tuple[str, ...] = (
    "missing SNP id",
    "not in outcome",
    "missing effect allele",
    "palindromic, other allele missing",
    "incompatible alleles",
    "palindromic (action 3)",
    "palindromic, ambiguous frequency",
    "ambiguous alleles, frequency does not confirm",
    "missing beta or se",
    "duplicate SNP",
)


@dataclass(frozen=True)
class HarmonisedResult:
    """The harmonised pair table and TwoSampleMR's log counts.

    Attributes
    ----------
    table
        One row per exposure variant (and per outcome match when the outcome
        repeats a SNP), columns ``snp, chr, pos, effect_allele, other_allele,
        effect_allele_outcome, other_allele_outcome, beta_exposure, se_exposure,
        p_exposure, eaf_exposure, beta_outcome, se_outcome, p_outcome,
        eaf_outcome, n_exposure, n_outcome, palindromic, ambiguous, remove,
        alleles, proxy, proxy_snp, proxy_r2, mr_keep, keep, reason`` (plus
        ``log10p_*``, ``ncase_*``, ``ncontrol_*`` when an input has them).
    log
        Summary counts: TwoSampleMR's (``candidate_variants``,
        ``variants_absent_from_reference``, ``switched_alleles``,
        ``flipped_alleles_basic``, ``flipped_alleles_palindrome``,
        ``flipped_alleles_no_oa``, ``incompatible_alleles``,
        ``ambiguous_alleles``, ``total_variants``, ``total_variants_for_mr``,
        ``proxy_variants``) summed over allele cases, and mrkit's
        (``absent_from_outcome``, ``palindromic``, ``duplicate_snps``,
        ``kept``, ``action``).
    tsmr_log
        TwoSampleMR's ``attr(x, "log")`` as a list of records, one per allele
        case present (``2-2``, ``2-1``, ``1-2``, ``1-1``), with its key names.
    """

    table: pd.DataFrame
    log: dict[str, Any]
    tsmr_log: list[dict[str, Any]] = field(default_factory=list)

    @property
    def kept(self) -> pd.DataFrame:
        """The rows with ``keep = True``."""
        return self.table[self.table["keep"]].reset_index(drop=True)


# --------------------------------------------------------------------------- inputs


def _prepare(df: pd.DataFrame, side: Literal["exposure", "outcome"]) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"harmonise: the {side} must be a pandas DataFrame, got {type(df)}")
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise InputError(
            f"harmonise: the {side} table lacks column(s) {', '.join(missing)}; "
            f"expected the normalised columns {', '.join(INPUT_COLUMNS)}"
        )
    n = len(df)
    cols: dict[str, Any] = {"snp": _as_str(df["snp"], upper=False)}
    for col in ("chr", "pos"):
        cols[col] = df[col].to_numpy() if col in df.columns else np.full(n, np.nan)
    for col in ("effect_allele", "other_allele"):
        cols[col] = (
            _as_str(df[col], upper=True) if col in df.columns else np.full(n, None, dtype=object)
        )
    if side == "outcome":  # TwoSampleMR: an empty outcome other allele is missing
        oa = cols["other_allele"]
        oa[np.array([x == "" for x in oa], dtype=bool)] = None
    for col in _NUMERIC:
        if col not in df.columns:
            cols[col] = np.full(n, np.nan)
        elif pd.api.types.is_numeric_dtype(df[col].dtype) and df[col].dtype != bool:
            cols[col] = df[col].to_numpy(dtype=float, na_value=np.nan)
        else:  # text or mixed: anything that is not a number is missing
            cols[col] = pd.to_numeric(pd.Series(df[col].to_numpy()), errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            )
    if side == "outcome":
        cols["proxy"] = np.zeros(n, dtype=bool)
        cols["proxy_snp"] = np.full(n, None, dtype=object)
        cols["proxy_r2"] = np.full(n, np.nan)
    return pd.DataFrame(cols)


def _as_str(s: pd.Series, *, upper: bool) -> np.ndarray:
    """Strings (stripped, optionally upper-case) as an object array, ``None`` where missing."""
    values = s.to_numpy(dtype=object)
    missing = pd.isna(values).tolist()
    pairs = zip(values, missing, strict=True)
    res = np.empty(len(values), dtype=object)
    if upper:
        res[:] = [None if m else str(v).strip().upper() for v, m in pairs]
    else:
        res[:] = [None if m else str(v).strip() for v, m in pairs]
    return res


# --------------------------------------------------------------------------- main


def harmonise(
    exposure: pd.DataFrame,
    outcome: pd.DataFrame,
    *,
    action: int = 2,
    palindrome_tolerance: float = 0.08,
    proxies: pd.DataFrame | None = None,
    exposure_id: str | None = None,
    outcome_id: str | None = None,
) -> HarmonisedResult:
    """Align an outcome's effects on the exposure's effect alleles (TwoSampleMR rules).

    Parameters
    ----------
    exposure, outcome
        Normalised summary statistics (``snp, effect_allele, beta, se``
        required; ``chr, pos, other_allele, eaf, p, log10p, n, ncase,
        ncontrol`` used when present; missing values as NaN/None).
    action
        1 assume the same strand; 2 infer palindromes' strand from the allele
        frequencies (default); 3 drop every palindromic variant.
    palindrome_tolerance
        A palindromic variant is ambiguous when a frequency lies strictly
        inside ``(0.5 - tol, 0.5 + tol)``; TwoSampleMR fixes 0.08.
    proxies
        Optional LD proxies for exposure SNPs absent from the outcome: columns
        ``target_snp, proxy_snp, r2, target_effect_allele,
        target_other_allele, proxy_effect_allele, proxy_other_allele`` (the
        target and proxy alleles in phase). The outcome row of the best proxy
        (highest r2 whose alleles map) is relabelled to the target SNP.
    exposure_id, outcome_id
        Study ids written into :attr:`HarmonisedResult.tsmr_log`.

    Returns
    -------
    HarmonisedResult
        The table (every exposure row kept, with ``keep`` and ``reason``) and
        the log counts.

    Notes
    -----
    Rules of TwoSampleMR 0.7.9 ``harmonise_data()`` for the ``2-2`` case:
    with exposure alleles :math:`(A_1, A_2)` and outcome :math:`(B_1, B_2)`,
    :math:`B` is swapped when :math:`(A_1, A_2) = (B_2, B_1)`
    (:math:`\\beta_Y \\to -\\beta_Y`, :math:`f_Y \\to 1 - f_Y`); a
    non-palindromic variant still unmatched is compared on the other strand
    and swapped again if needed; anything still unmatched is incompatible.
    Palindromic variants are ambiguous when either frequency (missing counts
    0.5) is in :math:`(0.5 - t, 0.5 + t)`; action 2 negates
    :math:`\\beta_Y` when the two frequencies lie on opposite sides of 0.5.
    """
    if action not in (1, 2, 3):
        raise InputError(f"harmonise: action must be 1, 2 or 3, got {action!r}")
    if not 0 <= palindrome_tolerance < 0.5:
        raise InputError(
            f"harmonise: palindrome_tolerance must be in [0, 0.5), got {palindrome_tolerance}"
        )
    ex = _prepare(exposure, "exposure")
    if isinstance(outcome, pd.DataFrame) and "snp" in outcome.columns:
        # only the rows that can matter (the outcome may be a whole GWAS)
        wanted = set(ex["snp"].dropna())
        if proxies is not None and "proxy_snp" in getattr(proxies, "columns", ()):
            wanted |= set(proxies["proxy_snp"].dropna().astype(str))
        outcome = outcome[outcome["snp"].isin(wanted)]
    out = _prepare(outcome, "outcome")
    out = out[out["snp"].notna()].reset_index(drop=True)
    if proxies is not None and len(proxies):
        absent = ex.loc[ex["snp"].notna() & ~ex["snp"].isin(set(out["snp"])), "snp"]
        extra = proxy_rows(out, proxies, pd.unique(absent))
        if len(extra):
            out = pd.concat([out, extra], ignore_index=True)

    ex["_row"] = np.arange(len(ex))
    renamed = out.rename(columns={c: f"{c}_o" for c in out.columns if c != "snp"})
    renamed["_matched"] = True
    m = ex.merge(renamed, on="snp", how="left", sort=False)
    m["_matched"] = m["_matched"].eq(True) & m["snp"].notna()
    return _assemble(m, ex, out, action, palindrome_tolerance, exposure_id, outcome_id)


def _obj(s: pd.Series) -> np.ndarray:
    res = np.array(s.to_numpy(dtype=object), dtype=object, copy=True)
    res[s.isna().to_numpy()] = None
    return res


def _assemble(m, ex, out, action, tol, exposure_id, outcome_id) -> HarmonisedResult:
    n = len(m)
    A1, A2 = _obj(m["effect_allele"]), _obj(m["other_allele"])
    B1, B2 = _obj(m["effect_allele_o"]), _obj(m["other_allele_o"])
    betaA, betaB = m["beta"].to_numpy(float).copy(), m["beta_o"].to_numpy(float).copy()
    fA, fB = m["eaf"].to_numpy(float).copy(), m["eaf_o"].to_numpy(float).copy()
    matched = m["_matched"].to_numpy(bool)
    hasA1 = np.array([a is not None for a in A1], dtype=bool)
    hasA2 = np.array([a is not None for a in A2], dtype=bool)
    hasB1 = np.array([b is not None for b in B1], dtype=bool)
    hasB2 = np.array([b is not None for b in B2], dtype=bool)
    in_r = matched & hasA1 & hasB1  # the rows TwoSampleMR returns

    remove = np.zeros(n, bool)
    palindromic = _al.is_palindromic(A1, A2)
    ambiguous = np.zeros(n, bool)
    alleles = np.full(n, None, dtype=object)
    eaO, oaO = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    case_logs: list[dict[str, Any]] = []
    cases = (
        ("2-2", in_r & hasA2 & hasB2),
        ("2-1", in_r & hasA2 & ~hasB2),
        ("1-2", in_r & ~hasA2 & hasB2),
        ("1-1", in_r & ~hasA2 & ~hasB2),
    )
    for name, idx in cases:
        if not idx.any():
            continue
        args = (betaA[idx], betaB[idx], fA[idx], fB[idx], tol, action)
        if name == "2-2":
            r = _al.harmonise_22(A1[idx], A2[idx], B1[idx], B2[idx], *args)
        elif name == "2-1":
            r = _al.harmonise_21(A1[idx], A2[idx], B1[idx], *args)
        elif name == "1-2":
            r = _al.harmonise_12(A1[idx], B1[idx], B2[idx], *args)
        else:
            r = _al.harmonise_11(A1[idx], B1[idx], *args)
        A1[idx], A2[idx], eaO[idx], oaO[idx] = r.A1, r.A2, r.B1, r.B2
        betaA[idx], betaB[idx], fA[idx], fB[idx] = r.betaA, r.betaB, r.fA, r.fB
        remove[idx], palindromic[idx], ambiguous[idx] = r.remove, r.palindromic, r.ambiguous
        alleles[idx] = name
        case_logs.append(r.log)

    seA, seB = m["se"].to_numpy(float), m["se_o"].to_numpy(float)
    missing_effect = np.isnan(betaA) | np.isnan(betaB) | np.isnan(seA) | np.isnan(seB)
    if action == 3:
        drop = palindromic | remove | ambiguous
    elif action == 2:
        drop = remove | ambiguous
    else:
        drop = remove
    mr_keep = in_r & ~drop & ~missing_effect
    snps = m["snp"].to_numpy(object)
    dup = mr_keep & pd.Series(snps, dtype=object).where(mr_keep).duplicated().to_numpy()
    keep = mr_keep & ~dup

    one_allele = np.isin(alleles.astype(str), ["2-1", "1-2"])
    conditions = [
        m["snp"].isna().to_numpy(),
        ~matched,
        ~in_r,
        remove & palindromic & one_allele,
        remove,
        (action == 3) & palindromic,
        (action != 1) & ambiguous & palindromic,
        (action != 1) & ambiguous,
        missing_effect,
        dup,
    ]
    reason = np.select(conditions, list(REASONS), default="")
    reason = np.where(keep, "", reason)

    cols: dict[str, Any] = {
        "snp": snps,
        "chr": m["chr"].to_numpy(),
        "pos": m["pos"].to_numpy(),
        "effect_allele": A1,
        "other_allele": A2,
        "effect_allele_outcome": eaO,
        "other_allele_outcome": oaO,
        "beta_exposure": betaA,
        "se_exposure": seA,
        "p_exposure": m["p"].to_numpy(float),
        "eaf_exposure": fA,
        "beta_outcome": np.where(matched, betaB, np.nan),
        "se_outcome": seB,
        "p_outcome": m["p_o"].to_numpy(float),
        "eaf_outcome": np.where(matched, fB, np.nan),
        "n_exposure": m["n"].to_numpy(float),
        "n_outcome": m["n_o"].to_numpy(float),
    }
    for col in _OPTIONAL_OUT:
        if ex[col].notna().any() or out[col].notna().any():
            cols[f"{col}_exposure"] = m[col].to_numpy(float)
            cols[f"{col}_outcome"] = m[f"{col}_o"].to_numpy(float)
    is_proxy = m["proxy_o"].eq(True).to_numpy(bool)
    cols.update(
        palindromic=palindromic,
        ambiguous=ambiguous,
        remove=remove,
        alleles=alleles,
        proxy=is_proxy,
        proxy_snp=_obj(m["proxy_snp_o"]),
        proxy_r2=m["proxy_r2_o"].to_numpy(float),
        mr_keep=mr_keep,
        keep=keep,
        reason=reason,
    )
    table = pd.DataFrame(cols)

    log, tsmr_log = _logs(
        case_logs, n_candidates=len(ex), in_r=in_r, matched=matched,
        remove=remove, ambiguous=ambiguous, palindromic=palindromic, mr_keep=mr_keep,
        keep=keep, dup=dup, proxy=is_proxy, action=action, ids=(exposure_id, outcome_id),
    )  # fmt: skip
    return HarmonisedResult(table, log, tsmr_log)


_CASE_KEYS = (
    "switched_alleles",
    "flipped_alleles_basic",
    "flipped_alleles_palindrome",
    "flipped_alleles_no_oa",
)


def _logs(case_logs, *, n_candidates, in_r, matched, remove, ambiguous, palindromic,
          mr_keep, keep, dup, proxy, action, ids):  # fmt: skip
    total = int(in_r.sum())
    common: dict[str, Any] = {"incompatible_alleles": int(remove[in_r].sum())}
    if action != 1:
        common["ambiguous_alleles"] = int(ambiguous[in_r].sum())
    common.update(
        candidate_variants=int(n_candidates),
        variants_absent_from_reference=int(n_candidates - total),
        total_variants=total,
        total_variants_for_mr=int(mr_keep.sum()),
        proxy_variants=int(proxy[in_r].sum()),
    )
    keys: list[str] = []
    for c in case_logs:
        keys += [k for k in c if k not in keys]
    tsmr_log = []
    for c in case_logs:
        rec: dict[str, Any] = {"id.exposure": ids[0], "id.outcome": ids[1]}
        rec.update({k: c.get(k) for k in keys})
        rec.update(common)
        tsmr_log.append(rec)
    log: dict[str, Any] = {"action": action, "candidate_variants": int(n_candidates)}
    log["absent_from_outcome"] = int((~matched).sum())
    for k in _CASE_KEYS:
        log[k] = int(sum(c.get(k, 0) for c in case_logs))
    log["palindromic"] = int(palindromic[in_r].sum())
    log.update(common)
    log["ambiguous_alleles"] = int(ambiguous[in_r].sum())
    log["duplicate_snps"] = int(dup.sum())
    log["kept"] = int(keep.sum())
    return log, tsmr_log
