"""The per-pair SNP filters of a study: Steiger filtering and MR-PRESSO outliers.

Each filter works on ONE pair's harmonised table (every candidate variant with
``keep`` and ``reason``) and returns it with its marks (the table it is given
may be changed too: pass a copy): a variant it drops gets ``keep = False`` and
its reason (``Steiger: wrong direction``, ``outlier (MR-PRESSO)``); rows are
never deleted. What a filter learns (Steiger
r², direction test, PRESSO global p) goes to the pair's :class:`FilterNotes`; a
filter that cannot run on the pair records a ``skipped`` entry instead of raising.

The filters run before the pair's estimates (:func:`mrkit.study.engine.analyse_chunk`
then analyses every pair of a chunk in one :func:`mrkit.estimate.analyse` call).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mrkit.diagnostics import steiger
from mrkit.errors import MrkitError
from mrkit.methods import get_method
from mrkit.methods.presso import mark_presso_outliers

#: Reason of a variant dropped by Steiger filtering.
STEIGER_REASON = "Steiger: wrong direction"


@dataclass(frozen=True)
class TraitInfo:
    """What the pair analysis needs to know of a trait (for Steiger r² and ORs)."""

    id: str
    binary: bool = False
    ncase: float | None = None
    ncontrol: float | None = None
    prevalence: float | None = None
    n: float | None = None


@dataclass
class FilterNotes:
    """What the filters of one pair found: diagnostics, skipped filters, warnings."""

    diagnostics: dict[str, Any] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def apply_filters(
    tab: pd.DataFrame,
    notes: FilterNotes,
    exposure: TraitInfo,
    outcome: TraitInfo,
    *,
    sensitivity: list[str],
    steiger_filter: bool = False,
    presso_correct: bool = False,
    seed: int | None = 1,
    presso_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """The pair's filters on ``tab``, Steiger then PRESSO; what they find goes to ``notes``.

    ``steiger_filter`` drops variants explaining more variance in the outcome
    than in the exposure; with ``"steiger"`` in ``sensitivity`` the Steiger
    columns and test are reported without dropping. With ``"presso"`` in
    ``sensitivity`` MR-PRESSO runs (``seed``, then ``presso_options``) on the
    variants still kept and, with ``presso_correct``, its outliers are dropped.
    A filter that raises leaves what the earlier one recorded in ``notes``.
    Returns the table with the filters' columns and marks.
    """
    report = "steiger" in sensitivity
    tab = steiger_step(tab, notes, exposure, outcome, drop=steiger_filter, report=report)
    if "presso" in sensitivity:
        tab = presso_step(tab, notes, seed=seed, correct=presso_correct, options=presso_options)
    return tab


# -- Steiger -------------------------------------------------------------------------------
def _values(tab: pd.DataFrame, name: str, rows: np.ndarray, *, required: bool = True) -> Any:
    """Column ``name`` of the rows ``rows`` as floats (``None`` if optional and absent)."""
    if not required and name not in tab.columns:
        return None
    return tab[name].to_numpy(float)[rows]


def _r2(tab: pd.DataFrame, rows: np.ndarray, side: str, trait: TraitInfo) -> np.ndarray:
    beta = _values(tab, f"beta_{side}", rows)
    se = _values(tab, f"se_{side}", rows)
    eaf = _values(tab, f"eaf_{side}", rows, required=False)
    if trait.binary and trait.ncase and trait.ncontrol and eaf is not None:
        prev = trait.prevalence or trait.ncase / (trait.ncase + trait.ncontrol)
        return steiger.r2_binary(beta, eaf, trait.ncase, trait.ncontrol, prev)
    n = _values(tab, f"n_{side}", rows, required=False)
    n_arr = n if n is not None else np.full(len(beta), np.nan)
    fallback = trait.n or ((trait.ncase or 0) + (trait.ncontrol or 0)) or np.nan
    n_arr = np.where(np.isfinite(n_arr), n_arr, fallback)
    return steiger.r2_continuous(beta, se, n_arr)


def _n(tab: pd.DataFrame, rows: np.ndarray, side: str, trait: TraitInfo) -> np.ndarray:
    k = int(rows.sum())
    if trait.binary and trait.ncase and trait.ncontrol:
        return np.full(k, float(np.ravel(steiger.effective_n(trait.ncase, trait.ncontrol))[0]))
    n = _values(tab, f"n_{side}", rows, required=False)
    fallback = trait.n or np.nan
    if n is None:
        return np.full(k, fallback)
    return np.where(np.isfinite(n), n, fallback)


def _set_rows(tab: pd.DataFrame, rows: np.ndarray, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """``tab.loc[rows, col] = values`` for every column, without pandas' cost for new ones.

    A new column is NaN outside ``rows``, float for numbers and object for
    booleans (as ``.loc`` makes it), appended in one step; an existing column
    goes through ``.loc``.
    """
    new: dict[str, np.ndarray] = {}
    for col, values in columns.items():
        if col in tab.columns:
            tab.loc[rows, col] = values
            continue
        full = np.full(len(tab), np.nan, dtype=object if values.dtype == bool else float)
        full[rows] = values
        new[col] = full
    if not new:
        return tab
    added = pd.DataFrame({c: pd.Series(v, index=tab.index, dtype=v.dtype) for c, v in new.items()})
    return pd.concat([tab, added], axis=1)


def _drop_rows(tab: pd.DataFrame, rows: np.ndarray, reason: str) -> None:
    """``keep = False`` and ``reason`` for ``rows`` (``tab.loc`` semantics, faster)."""
    if not rows.any():
        return
    if tab["keep"].dtype == bool and tab["reason"].dtype == object:
        keep = tab["keep"].to_numpy(copy=True)
        why = tab["reason"].to_numpy(copy=True)
        keep[rows] = False
        why[rows] = reason
        tab["keep"] = keep
        tab["reason"] = pd.Series(why, index=tab.index, dtype=object)
    else:
        tab.loc[rows, "keep"] = False
        tab.loc[rows, "reason"] = reason


def steiger_step(
    tab: pd.DataFrame,
    notes: FilterNotes,
    exposure: TraitInfo,
    outcome: TraitInfo,
    *,
    drop: bool,
    report: bool,
) -> pd.DataFrame:
    """Steiger r² of every kept variant, the direction test and, with ``drop``, the filter.

    Adds ``rsq_exposure, rsq_outcome, steiger_dir, steiger_pval`` to the kept
    rows of ``tab``; variants with ``steiger_dir`` false get ``keep = False``
    and :data:`STEIGER_REASON` when ``drop``.
    """
    if not (drop or report):
        return tab
    used = tab["keep"].astype(bool).to_numpy()
    if not used.any():
        return tab
    try:
        r2e = _r2(tab, used, "exposure", exposure)
        r2o = _r2(tab, used, "outcome", outcome)
        ne, no = _n(tab, used, "exposure", exposure), _n(tab, used, "outcome", outcome)
        per = steiger.steiger_filtering(r2e, r2o, ne, no)
    except MrkitError as exc:
        notes.skipped.append({"method": "steiger", "reason": str(exc)})
        return tab
    cols = ("rsq_exposure", "rsq_outcome", "steiger_dir", "steiger_pval")
    tab = _set_rows(tab, used, {c: per[c].to_numpy() for c in cols})
    test = steiger.steiger_test(r2e, r2o, ne, no)
    diag = notes.diagnostics
    diag["steiger_r2_exposure"] = float(r2e.sum())
    diag["steiger_r2_outcome"] = float(r2o.sum())
    diag["steiger_correct_direction"] = bool(test["correct_causal_direction"])
    diag["steiger_pval"] = float(test["steiger_pval"])
    if drop:
        wrong = used.copy()
        wrong[used] = ~per["steiger_dir"].to_numpy(bool)
        _drop_rows(tab, wrong, STEIGER_REASON)
    return tab


# -- MR-PRESSO -----------------------------------------------------------------------------
def presso_step(
    tab: pd.DataFrame,
    notes: FilterNotes,
    *,
    seed: int | None,
    correct: bool,
    options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """MR-PRESSO on the kept variants; with ``correct`` its outliers are dropped.

    ``options`` are those of the ``presso`` method (``n_distributions``, ...;
    already validated); ``seed`` is used unless they set one. The global test's
    p-value and the number of outliers go to the diagnostics, the method's own
    notes (``warnings`` extra) to the pair's warnings.
    """
    used = tab[tab["keep"].astype(bool)]
    try:
        res = get_method("presso")(
            used["beta_exposure"].to_numpy(float),
            used["se_exposure"].to_numpy(float),
            used["beta_outcome"].to_numpy(float),
            used["se_outcome"].to_numpy(float),
            **{"seed": seed, **dict(options or {})},
        )
    except MrkitError as exc:
        notes.skipped.append({"method": "presso", "reason": str(exc)})
        return tab
    notes.warnings.extend(res.extras.get("warnings") or [])
    ex = res.extras
    notes.diagnostics["presso_global_pval"] = ex.get("global_pval")
    # outliers as SNP ids: `outlier_index` (positions among `used`), else `outliers` as
    # positions (older results) or ids
    index = ex.get("outlier_index")
    outliers = list(index if index is not None else ex.get("outliers") or [])
    notes.diagnostics["presso_outliers"] = len(outliers)
    snps = used["snp"].astype(str).tolist()
    ids = [snps[int(o)] if isinstance(o, int | np.integer) else str(o) for o in outliers]
    notes.diagnostics["presso_outlier_snps"] = "; ".join(ids)
    for key in (
        "n_distributions",
        "global_pval_at_limit",
        "distortion_pval",
        "distortion_pval_at_limit",
        "corrected_estimate",
        "corrected_se",
    ):
        notes.diagnostics[f"presso_{key}"] = ex.get(key)
    notes.diagnostics["presso_corrected_pval"] = ex.get("corrected_pval")
    if not correct:
        return tab
    marked = mark_presso_outliers(used, res)
    tab.loc[used.index, "keep"] = marked["keep"].to_numpy()
    tab.loc[used.index, "reason"] = marked["reason"].to_numpy()
    return tab


__all__ = [
    "STEIGER_REASON",
    "FilterNotes",
    "TraitInfo",
    "apply_filters",
    "presso_step",
    "steiger_step",
]
