"""The per-pair SNP filters of a study: Steiger filtering and MR-PRESSO outliers.

Each filter works on ONE pair's harmonised table (every candidate variant with
``keep`` and ``reason``) and changes it in place: a variant it drops gets
``keep = False`` and its reason (``Steiger: wrong direction``,
``outlier (MR-PRESSO)``); rows are never deleted. What a filter learns (Steiger
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
) -> None:
    """Run the pair's filters on ``tab`` (in place), Steiger then PRESSO, into ``notes``.

    ``steiger_filter`` drops variants explaining more variance in the outcome
    than in the exposure; with ``"steiger"`` in ``sensitivity`` the Steiger
    columns and test are reported without dropping. With ``"presso"`` in
    ``sensitivity`` MR-PRESSO runs (``seed``, then ``presso_options``) on the
    variants still kept and, with ``presso_correct``, its outliers are dropped.
    A filter that raises leaves what the earlier one recorded in ``notes``.
    """
    report = "steiger" in sensitivity
    steiger_step(tab, notes, exposure, outcome, drop=steiger_filter, report=report)
    if "presso" in sensitivity:
        presso_step(tab, notes, seed=seed, correct=presso_correct, options=presso_options)


# -- Steiger -------------------------------------------------------------------------------
def _r2(rows: pd.DataFrame, side: str, trait: TraitInfo) -> np.ndarray:
    beta = rows[f"beta_{side}"].to_numpy(float)
    se = rows[f"se_{side}"].to_numpy(float)
    eaf = rows.get(f"eaf_{side}")
    if trait.binary and trait.ncase and trait.ncontrol and eaf is not None:
        prev = trait.prevalence or trait.ncase / (trait.ncase + trait.ncontrol)
        return steiger.r2_binary(beta, eaf.to_numpy(float), trait.ncase, trait.ncontrol, prev)
    n = rows.get(f"n_{side}")
    n_arr = n.to_numpy(float) if n is not None else np.full(len(rows), np.nan)
    fallback = trait.n or ((trait.ncase or 0) + (trait.ncontrol or 0)) or np.nan
    n_arr = np.where(np.isfinite(n_arr), n_arr, fallback)
    return steiger.r2_continuous(beta, se, n_arr)


def _n(rows: pd.DataFrame, side: str, trait: TraitInfo) -> np.ndarray:
    if trait.binary and trait.ncase and trait.ncontrol:
        return np.full(
            len(rows), float(np.ravel(steiger.effective_n(trait.ncase, trait.ncontrol))[0])
        )
    n = rows.get(f"n_{side}")
    fallback = trait.n or np.nan
    if n is None:
        return np.full(len(rows), fallback)
    arr = n.to_numpy(float)
    return np.where(np.isfinite(arr), arr, fallback)


def steiger_step(
    tab: pd.DataFrame,
    notes: FilterNotes,
    exposure: TraitInfo,
    outcome: TraitInfo,
    *,
    drop: bool,
    report: bool,
) -> None:
    """Steiger r² of every kept variant, the direction test and, with ``drop``, the filter.

    Adds ``rsq_exposure, rsq_outcome, steiger_dir, steiger_pval`` to the kept
    rows of ``tab``; variants with ``steiger_dir`` false get ``keep = False``
    and :data:`STEIGER_REASON` when ``drop``.
    """
    if not (drop or report):
        return
    used = tab["keep"].astype(bool).to_numpy()
    rows = tab[used]
    if len(rows) == 0:
        return
    try:
        r2e = _r2(rows, "exposure", exposure)
        r2o = _r2(rows, "outcome", outcome)
        ne, no = _n(rows, "exposure", exposure), _n(rows, "outcome", outcome)
        per = steiger.steiger_filtering(r2e, r2o, ne, no)
    except MrkitError as exc:
        notes.skipped.append({"method": "steiger", "reason": str(exc)})
        return
    for col in ("rsq_exposure", "rsq_outcome", "steiger_dir", "steiger_pval"):
        tab.loc[used, col] = per[col].to_numpy()
    test = steiger.steiger_test(r2e, r2o, ne, no)
    diag = notes.diagnostics
    diag["steiger_r2_exposure"] = float(r2e.sum())
    diag["steiger_r2_outcome"] = float(r2o.sum())
    diag["steiger_correct_direction"] = bool(test["correct_causal_direction"])
    diag["steiger_pval"] = float(test["steiger_pval"])
    if drop:
        wrong = used.copy()
        wrong[used] = ~per["steiger_dir"].to_numpy(bool)
        tab.loc[wrong, "keep"] = False
        tab.loc[wrong, "reason"] = STEIGER_REASON


# -- MR-PRESSO -----------------------------------------------------------------------------
def presso_step(
    tab: pd.DataFrame,
    notes: FilterNotes,
    *,
    seed: int | None,
    correct: bool,
    options: Mapping[str, Any] | None = None,
) -> None:
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
        return
    notes.warnings.extend(res.extras.get("warnings") or [])
    notes.diagnostics["presso_global_pval"] = res.extras.get("global_pval")
    notes.diagnostics["presso_outliers"] = len(res.extras.get("outliers", []))
    if not correct:
        return
    marked = mark_presso_outliers(used, res)
    tab.loc[used.index, "keep"] = marked["keep"].to_numpy()
    tab.loc[used.index, "reason"] = marked["reason"].to_numpy()


__all__ = [
    "STEIGER_REASON",
    "FilterNotes",
    "TraitInfo",
    "apply_filters",
    "presso_step",
    "steiger_step",
]
