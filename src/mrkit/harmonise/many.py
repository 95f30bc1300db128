"""Harmonise the instruments of many exposures against one outcome in one pass.

:func:`harmonise_many` takes the stacked instruments of many exposures (a
column names the exposure of each row) and one outcome table, and applies
TwoSampleMR 0.7.9's ``harmonise_data()`` rules (see :mod:`mrkit.harmonise.core`)
to every row at once: one merge with the outcome, one call of each allele case
of :mod:`mrkit.harmonise.alleles` over all pairs, per-pair counts by
``bincount``. :func:`mrkit.harmonise.core.harmonise` is this function with one
exposure, so a pair gives the same table and logs either way.

Rows are never deleted: every exposure row stays, with ``keep = False`` and a
``reason`` when it cannot be used.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mrkit.errors import InputError
from mrkit.harmonise import alleles as _al
from mrkit.harmonise._counts import has_optional, pair_logs
from mrkit.harmonise._frames import PairFrames
from mrkit.harmonise._inputs import (
    OPTIONAL_OUT,
    REASONS,
    check_frame,
    check_options,
    isin,
    obj,
    prepare,
)
from mrkit.harmonise.proxies import proxy_rows

__all__ = ["HarmonisedMany", "HarmonisedResult", "harmonise_many"]


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


class HarmonisedMany:
    """The harmonised tables of many exposures against one outcome.

    Attributes
    ----------
    ids
        The exposure ids, in order of first appearance in the input.
    logs, tsmr_logs
        Per exposure id: :attr:`HarmonisedResult.log` and
        :attr:`HarmonisedResult.tsmr_log` of its pair.

    :meth:`pair` gives one pair as :func:`mrkit.harmonise.core.harmonise` would
    (same columns, dtypes and values); :meth:`tables` gives every pair's table;
    :attr:`table` stacks them all.
    """

    def __init__(self, frames: PairFrames, logs: list[dict], tsmr_logs: list[list[dict]]) -> None:
        self._frames = frames
        self.ids: list[Hashable] = list(frames.labels)
        self._index = {k: i for i, k in enumerate(self.ids)}
        self.logs: dict[Hashable, dict[str, Any]] = dict(zip(self.ids, logs, strict=True))
        self.tsmr_logs: dict[Hashable, list[dict[str, Any]]] = dict(
            zip(self.ids, tsmr_logs, strict=True)
        )

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        kept = sum(log["kept"] for log in self.logs.values())
        return f"HarmonisedMany({len(self.ids)} exposures, {self._frames.n_rows} rows, {kept} kept)"

    def _at(self, exposure: Hashable) -> int:
        try:
            return self._index[exposure]
        except (KeyError, TypeError):
            shown = ", ".join(map(repr, self.ids[:5])) + (", ..." if len(self.ids) > 5 else "")
            raise InputError(
                f"harmonise: no exposure {exposure!r} among the harmonised ones ({shown})"
            ) from None

    def pair(self, exposure: Hashable) -> HarmonisedResult:
        """The harmonised table and logs of one exposure, exactly as ``harmonise()`` gives."""
        i = self._at(exposure)
        table = self._frames.pair(i)
        return HarmonisedResult(table, self.logs[exposure], self.tsmr_logs[exposure])

    def tables(
        self,
        *,
        dropped: Mapping[Hashable, pd.DataFrame] | pd.DataFrame | None = None,
        outcome: str | None = None,
    ) -> dict[Hashable, pd.DataFrame]:
        """Every exposure's table, built class by class instead of pair by pair.

        Parameters
        ----------
        dropped
            Per exposure id, its variants removed before harmonisation (e.g. by
            instrument selection; columns ``snp, beta, se, p, reason``); or one
            table of them all with the exposure id column ``by`` (then each
            exposure's rows have that table's dtypes). They follow the
            exposure's harmonised rows as ``snp, beta_exposure, se_exposure,
            p_exposure, keep = False, reason``: rows are never deleted.
        outcome
            When given, the tables start with the columns ``exposure`` and
            ``outcome`` (a study's ``harmonised.parquet`` layout).

        Returns
        -------
        dict
            Exposure id -> table; each equals ``harmonise()``'s table of the
            pair (then ``pd.concat`` with its dropped rows, then the two id
            columns), dtypes included.
        """
        return self._frames.tables({} if dropped is None else dropped, outcome)

    @property
    def table(self) -> pd.DataFrame:
        """All pairs stacked: the exposure id column first, then the harmonised columns."""
        return self._frames.stacked()


def harmonise_many(
    exposures: pd.DataFrame,
    outcome: pd.DataFrame,
    *,
    by: str | None = "exposure",
    action: int = 2,
    palindrome_tolerance: float = 0.08,
    proxies: pd.DataFrame | None = None,
    exposure_id: Hashable = None,
    outcome_id: str | None = None,
) -> HarmonisedMany:
    """Harmonise the instruments of many exposures against one outcome, all in one pass.

    Parameters
    ----------
    exposures
        The stacked instruments of the exposures: normalised summary
        statistics (as for :func:`mrkit.harmonise.core.harmonise`) plus the
        column ``by`` naming each row's exposure.
    outcome
        The outcome's normalised summary statistics (may be the whole GWAS:
        only the rows of the exposures' SNPs and of proxies are used).
    by
        The exposure id column; ``None``: every row is one exposure, named
        ``exposure_id``.
    action, palindrome_tolerance
        As for :func:`mrkit.harmonise.core.harmonise`.
    proxies
        LD proxies for SNPs absent from the outcome (columns of
        :data:`mrkit.ld.proxies.PROXY_COLUMNS`). When it has the column
        ``by``, a proxy row serves only that exposure; otherwise every
        exposure whose SNP is absent.
    exposure_id, outcome_id
        Ids written into the logs (``exposure_id`` only with ``by=None``).

    Returns
    -------
    HarmonisedMany
        Per exposure: the table (every row kept, with ``keep`` and
        ``reason``) and the logs, identical to a ``harmonise()`` call on that
        exposure's rows alone with the same outcome and proxies.
    """
    check_options(action, palindrome_tolerance)
    check_frame(exposures, "exposure")
    if by is None:
        labels: list[Hashable] = [exposure_id]
        codes = np.zeros(len(exposures), dtype=np.intp)
    else:
        if by not in exposures.columns:
            raise InputError(
                f"harmonise_many: the exposures table has no column `{by}` naming each row's "
                "exposure; give `by` the id column (or by=None for a single exposure)"
            )
        codes, uniques = pd.factorize(exposures[by], sort=False)
        if (codes < 0).any():
            raise InputError(
                f"harmonise_many: {int((codes < 0).sum())} exposure row(s) have no id in "
                f"column `{by}`; fill it in or drop those rows"
            )
        labels = list(uniques)
        if len(codes) and (np.diff(codes) < 0).any():  # each exposure's rows together
            order = np.argsort(codes, kind="stable")
            exposures, codes = exposures.iloc[order], codes[order]
    ex = prepare(exposures, "exposure")
    keyed = by is not None and isinstance(proxies, pd.DataFrame) and by in proxies.columns

    raw_outcome = outcome
    if isinstance(outcome, pd.DataFrame) and "snp" in outcome.columns:
        # only the rows that can matter (the outcome may be a whole GWAS)
        wanted = set(ex["snp"].dropna())
        if proxies is not None and "proxy_snp" in getattr(proxies, "columns", ()):
            wanted |= set(proxies["proxy_snp"].dropna().astype(str))
        raw_outcome = outcome[isin(outcome["snp"], wanted)]
    out = prepare(raw_outcome, "outcome")
    present = out["snp"].notna().to_numpy()
    raw_snp = raw_outcome["snp"].to_numpy(object)[present]
    out = out[present].reset_index(drop=True)

    extra = None
    if proxies is not None and len(proxies):
        ex_snp = ex["snp"].to_numpy(object)
        absent = ex["snp"].notna().to_numpy() & ~isin(ex_snp, set(out["snp"]))
        if keyed:
            need = pd.DataFrame({"k": codes[absent], "s": ex_snp[absent]}).drop_duplicates()
            target = proxies[by].to_numpy(object)
            # (pandas-stubs type the target as an Index; pandas takes any array-like)
            pkey = pd.Index(labels, dtype=object).get_indexer(target)  # type: ignore[arg-type]
            extra = proxy_rows(
                out, proxies, need["s"].to_numpy(), key=need["k"].to_numpy(), proxy_key=pkey
            )
        else:
            extra = proxy_rows(out, proxies, pd.unique(ex_snp[absent]))
            if len(extra):
                out = pd.concat([out, extra], ignore_index=True)
            extra = None

    left = pd.DataFrame({"snp": ex["snp"], "_row": np.arange(len(ex))})
    right = pd.DataFrame({"snp": out["snp"], "_opos": np.arange(len(out))})
    m = left.merge(right, on="snp", how="left", sort=False)
    row = m["_row"].to_numpy(np.intp)
    opos = m["_opos"].fillna(-1).to_numpy(np.intp)
    if extra is not None and len(extra):  # proxies per exposure: fill the unmatched rows
        miss = np.flatnonzero((opos < 0) & m["snp"].notna().to_numpy())
        wanted_keys = pd.MultiIndex.from_arrays([codes[row[miss]], m["snp"].to_numpy(object)[miss]])
        at = pd.MultiIndex.from_arrays([extra["_key"], extra["snp"]]).get_indexer(wanted_keys)
        opos[miss[at >= 0]] = len(out) + at[at >= 0]
        out = pd.concat([out, extra.drop(columns="_key")], ignore_index=True)
    matched = (opos >= 0) & m["snp"].notna().to_numpy()

    group = codes[row]
    cols, rows = _assemble(ex, out, row, opos, group, matched, action, palindrome_tolerance)
    has = has_optional(ex, out, raw_snp, codes, labels, proxies, by if keyed else None)
    logs, tsmr = pair_logs(
        rows, cols, group=group, n_candidates=np.bincount(codes, minlength=len(labels)),
        action=action, labels=labels, outcome_id=outcome_id,
    )  # fmt: skip
    frames = PairFrames(
        labels, group, cols, has, source=exposures, source_codes=codes, source_row=row, by=by
    )
    return HarmonisedMany(frames, logs, tsmr)


def _take(values: np.ndarray, at: np.ndarray, missing: Any) -> np.ndarray:
    """``values[at]`` with ``missing`` where ``at`` is -1."""
    return np.append(values, np.array([missing], dtype=values.dtype))[at]


def _assemble(ex, out, row, opos, group, matched, action, tol):
    """Every output column of every pair, from the merged row indices.

    Returns the columns and, for the logs, the per-row flags (``matched``,
    ``in_r``, ``dup``; and per allele case its rows and TwoSampleMR's flags).
    """
    n = len(row)
    A1, A2 = obj(ex["effect_allele"])[row], obj(ex["other_allele"])[row]
    B1 = _take(obj(out["effect_allele"]), opos, None)
    B2 = _take(obj(out["other_allele"]), opos, None)
    num = {c: ex[c].to_numpy(float)[row] for c in ("beta", "se", "p", "eaf", "n", *OPTIONAL_OUT)}
    onum = {c: _take(out[c].to_numpy(float), opos, np.nan) for c in (*num, "proxy_r2")}
    betaA, betaB = num["beta"].copy(), onum["beta"].copy()
    fA, fB = num["eaf"].copy(), onum["eaf"].copy()
    hasA1 = np.not_equal(A1, None)
    hasA2 = np.not_equal(A2, None)
    hasB1 = np.not_equal(B1, None)
    hasB2 = np.not_equal(B2, None)
    in_r = matched & hasA1 & hasB1  # the rows TwoSampleMR returns

    remove = np.zeros(n, bool)
    palindromic = _al.is_palindromic(A1, A2)
    ambiguous = np.zeros(n, bool)
    alleles = np.full(n, None, dtype=object)
    eaO, oaO = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    flags: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
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
        flags[name] = (np.flatnonzero(idx), r.flags)

    seA, seB = num["se"], onum["se"]
    missing_effect = np.isnan(betaA) | np.isnan(betaB) | np.isnan(seA) | np.isnan(seB)
    if action == 3:
        drop = palindromic | remove | ambiguous
    elif action == 2:
        drop = remove | ambiguous
    else:
        drop = remove
    mr_keep = in_r & ~drop & ~missing_effect
    snps = obj(ex["snp"])[row]
    dup = np.zeros(n, dtype=bool)  # the second and later usable rows of a SNP in a pair
    usable = np.flatnonzero(mr_keep)
    dup[usable] = pd.DataFrame({"g": group[usable], "s": snps[usable]}).duplicated().to_numpy()
    keep = mr_keep & ~dup

    one_allele = np.isin(alleles.astype(str), ["2-1", "1-2"])
    conditions = [
        ~np.not_equal(snps, None),
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

    cols: dict[str, np.ndarray] = {
        "snp": snps,
        "effect_allele": A1,
        "other_allele": A2,
        "effect_allele_outcome": eaO,
        "other_allele_outcome": oaO,
        "beta_exposure": betaA,
        "se_exposure": seA,
        "p_exposure": num["p"],
        "eaf_exposure": fA,
        "beta_outcome": np.where(matched, betaB, np.nan),
        "se_outcome": seB,
        "p_outcome": onum["p"],
        "eaf_outcome": np.where(matched, fB, np.nan),
        "n_exposure": num["n"],
        "n_outcome": onum["n"],
    }
    for col in OPTIONAL_OUT:
        cols[f"{col}_exposure"] = num[col]
        cols[f"{col}_outcome"] = onum[col]
    is_proxy = _take(out["proxy"].eq(True).to_numpy(bool), opos, False)
    cols.update(
        palindromic=palindromic,
        ambiguous=ambiguous,
        remove=remove,
        alleles=alleles,
        proxy=is_proxy,
        proxy_snp=_take(obj(out["proxy_snp"]), opos, None),
        proxy_r2=onum["proxy_r2"],
        mr_keep=mr_keep,
        keep=keep,
        reason=reason,
    )
    return cols, {"matched": matched, "in_r": in_r, "dup": dup, "cases": flags}
