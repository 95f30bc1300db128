"""The analysis of one exposure-outcome pair from its harmonised table.

A pure function of tables (no store, no files), so that :mod:`mrkit.study.engine` can
run it anywhere: in-process or on a Dask worker. It applies the per-pair SNP
filters (Steiger, MR-PRESSO outliers), runs the methods and diagnostics and
returns plain records.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mrkit.diagnostics import steiger
from mrkit.errors import MrkitError, MrkitWarning
from mrkit.estimate import Pairs, analyse
from mrkit.results import records


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
class PairOutput:
    """Records produced for one pair; ``error`` is set when the pair could not run."""

    exposure: str
    outcome: str
    direction: str
    harmonised: pd.DataFrame
    estimates: list[dict[str, Any]] = field(default_factory=list)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    heterogeneity: list[dict[str, Any]] = field(default_factory=list)
    leave_one_out: list[dict[str, Any]] = field(default_factory=list)
    single_snp: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None


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


def analyse_harmonised(
    table: pd.DataFrame,
    *,
    exposure: TraitInfo,
    outcome: TraitInfo,
    direction: str = "forward",
    methods: list[str],
    sensitivity: list[str],
    steiger_filter: bool = False,
    presso_correct: bool = False,
    alpha: float = 0.05,
    seed: int = 1,
    nboot: int = 1000,
) -> PairOutput:
    """Filter, estimate and diagnose one pair (``table`` keeps every SNP with its reason).

    ``steiger_filter`` drops variants explaining more variance in the outcome
    than in the exposure (reason ``Steiger: wrong direction``); with ``"presso"``
    in ``sensitivity`` MR-PRESSO is run and, if ``presso_correct``, its outliers
    are dropped (reason ``outlier (MR-PRESSO)``) before the estimates.
    """
    tab = table.copy()
    out = PairOutput(exposure.id, outcome.id, direction, tab)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MrkitWarning)
        _analyse(
            out,
            tab,
            exposure,
            outcome,
            methods,
            sensitivity,
            steiger_filter,
            presso_correct,
            alpha,
            seed,
            nboot,
        )
    notes = sorted({str(w.message) for w in caught if issubclass(w.category, MrkitWarning)})
    if notes:
        out.diagnostics["warnings"] = "; ".join(notes)
    return out


def _analyse(
    out: PairOutput,
    tab: pd.DataFrame,
    exposure: TraitInfo,
    outcome: TraitInfo,
    methods: list[str],
    sensitivity: list[str],
    steiger_filter: bool,
    presso_correct: bool,
    alpha: float,
    seed: int,
    nboot: int,
) -> None:
    try:
        _steiger(tab, out, exposure, outcome, steiger_filter, "steiger" in sensitivity)
        if "presso" in sensitivity:
            _presso(tab, out, seed=seed, correct=presso_correct)
        used = tab[tab["keep"].astype(bool)]
        if len(used) == 0:
            out.error = "no instruments left after harmonisation"
            return
        arrays = [
            used[c].to_numpy(float)
            for c in ("beta_exposure", "se_exposure", "beta_outcome", "se_outcome")
        ]
        names = list(methods) if len(used) > 1 else ["wald_ratio"]
        res = analyse(
            Pairs.from_arrays(*arrays, snp=used["snp"].astype(str).tolist()),
            names,
            alpha=alpha,
            seed=seed,
            nboot=nboot,
        )
    except MrkitError as exc:
        out.error = str(exc)
        return
    except Exception as exc:  # one broken pair must not stop the study
        out.error = f"internal error: {type(exc).__name__}: {exc}"
        return
    keys = {"exposure": exposure.id, "outcome": outcome.id, "direction": out.direction}
    pair = res.pairs[0]
    out.estimates = [{**keys, **r} for r in records(res.estimates)]
    out.skipped = [*out.skipped, *pair.skipped]
    out.heterogeneity = [{**keys, **h} for h in pair.heterogeneity]
    out.leave_one_out = [{**keys, **r} for r in records(res.leave_one_out)]
    out.single_snp = [{**keys, **r} for r in records(res.single_snp)]
    f = (arrays[0] / arrays[1]) ** 2
    out.diagnostics.update(
        {
            **keys,
            "nsnp": len(used),
            "f_mean": pair.f_mean,
            "f_min": float(f.min()),
            "i2gx": pair.i2gx,
            "r2_exposure_sum": float(np.nansum(used.get("rsq_exposure", pd.Series(dtype=float)))),
        }
    )
    if pair.pleiotropy:
        out.diagnostics.update(
            {
                "egger_intercept": pair.pleiotropy["egger_intercept"],
                "egger_intercept_se": pair.pleiotropy["se"],
                "egger_intercept_pval": pair.pleiotropy["pval"],
            }
        )
    for h in pair.heterogeneity:
        out.diagnostics[f"q_{h['method']}"] = h["q"]
        out.diagnostics[f"q_{h['method']}_pval"] = h["q_pval"]


def _steiger(
    tab: pd.DataFrame,
    out: PairOutput,
    exposure: TraitInfo,
    outcome: TraitInfo,
    filter_: bool,
    report: bool,
) -> None:
    if not (filter_ or report):
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
        out.skipped.append({"method": "steiger", "reason": str(exc)})
        return
    for col in ("rsq_exposure", "rsq_outcome", "steiger_dir", "steiger_pval"):
        tab.loc[used, col] = per[col].to_numpy()
    test = steiger.steiger_test(r2e, r2o, ne, no)
    out.diagnostics["steiger_r2_exposure"] = float(r2e.sum())
    out.diagnostics["steiger_r2_outcome"] = float(r2o.sum())
    out.diagnostics["steiger_correct_direction"] = bool(test["correct_causal_direction"])
    out.diagnostics["steiger_pval"] = float(test["steiger_pval"])
    if filter_:
        wrong = used.copy()
        wrong[used] = ~per["steiger_dir"].to_numpy(bool)
        tab.loc[wrong, "keep"] = False
        tab.loc[wrong, "reason"] = "Steiger: wrong direction"


def _presso(tab: pd.DataFrame, out: PairOutput, *, seed: int, correct: bool) -> None:
    from mrkit.methods import get_method
    from mrkit.methods.presso import mark_presso_outliers

    used = tab[tab["keep"].astype(bool)]
    try:
        res = get_method("presso")(
            used["beta_exposure"].to_numpy(float),
            used["se_exposure"].to_numpy(float),
            used["beta_outcome"].to_numpy(float),
            used["se_outcome"].to_numpy(float),
            seed=seed,
        )
    except MrkitError as exc:
        out.skipped.append({"method": "presso", "reason": str(exc)})
        return
    out.diagnostics["presso_global_pval"] = res.extras.get("global_pval")
    out.diagnostics["presso_outliers"] = len(res.extras.get("outliers", []))
    if not correct:
        return
    marked = mark_presso_outliers(used, res)
    tab.loc[used.index, "keep"] = marked["keep"].to_numpy()
    tab.loc[used.index, "reason"] = marked["reason"].to_numpy()
