"""Write a study's output folder: tables, figures, report (manifest by the caller)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mrkit._core.files import atomic_write
from mrkit.methods import get_method
from mrkit.report import figures, plots
from mrkit.report.html import render_report, strobe_rows
from mrkit.report.supplement import write_supplement

_VECTORS = ("beta_exposure", "se_exposure", "beta_outcome", "se_outcome")
slug = plots.slug


def figure_stem(exposure: str, outcome: str) -> str:
    """A pair's figure name: ``<exposure>__<outcome>``, or ``<exposure>+<outcome>``.

    ``__`` is used when it splits only one way: neither id holds ``__``, the exposure
    does not end and the outcome does not start with ``_`` (``a__b`` with ``c`` and
    ``a`` with ``b__c`` would both be ``a__b__c``). ``+`` is in no id, so the two
    forms never meet and no two pairs share a name.
    """
    e, o = slug(exposure), slug(outcome)
    if "__" in e or "__" in o or e.endswith("_") or o.startswith("_"):
        return f"{e}+{o}"
    return f"{e}__{o}"


def snp_flow(harmonised: pd.DataFrame) -> pd.DataFrame:
    """Per pair: how many variants ended in each state (``used`` or a drop reason).

    Every row of the harmonised table is in exactly one state, so the counts
    of a pair add up to its candidate instruments (STROBE-MR item 10a).
    """
    if harmonised.empty:
        return pd.DataFrame(columns=["exposure", "outcome", "state", "n"])
    state = harmonised["reason"].where(~harmonised["keep"].astype(bool), "used")
    state = state.fillna("dropped (no reason recorded)")
    flow = (
        harmonised.assign(state=state)
        .groupby(["exposure", "outcome", "state"], sort=False)
        .size()
        .rename("n")
        .reset_index()
    )
    return flow


def _write_tables(
    out_dir: Path, results: pd.DataFrame, harmonised: pd.DataFrame, diagnostics: pd.DataFrame
) -> dict[str, Path]:
    files = {
        "results_parquet": out_dir / "results.parquet",
        "results_csv": out_dir / "results.csv",
        "harmonised": out_dir / "harmonised.parquet",
        "diagnostics": out_dir / "diagnostics.csv",
    }
    atomic_write(files["results_parquet"], lambda t: results.to_parquet(t, index=False))
    atomic_write(
        files["results_csv"], lambda t: results.to_csv(t, index=False, float_format="%.10g")
    )
    h = harmonised.copy()
    for col in h.columns:
        if h[col].dtype != object:
            continue
        values = h[col].dropna()
        if len(values) and values.map(lambda v: isinstance(v, (bool, np.bool_))).all():
            h[col] = h[col].astype("boolean")  # palindromic, remove, mr_keep, ...: booleans
        else:
            h[col] = h[col].map(lambda v: None if v is None or v != v else str(v))
    atomic_write(files["harmonised"], lambda t: h.to_parquet(t, index=False))
    atomic_write(
        files["diagnostics"], lambda t: diagnostics.to_csv(t, index=False, float_format="%.10g")
    )
    return files


def _total_n(trait: Any) -> float | None:
    """A trait's sample size: ``n``, else cases plus controls."""
    n = getattr(trait, "n", None)
    if n:
        return float(n)
    total = (getattr(trait, "ncase", 0) or 0) + (getattr(trait, "ncontrol", 0) or 0)
    return float(total) or None


def trait_names(
    study: Any, infos: dict[str, dict[str, Any]], exposure: str, outcome: str
) -> plots.Names:
    """Axis names of a pair: each GWAS's trait and units (study file, then catalog)."""
    entries = study.gwas_by_id()

    def get(gid: str, key: str) -> str | None:
        v = getattr(entries[gid], key, None) if gid in entries else None
        v = v or infos.get(gid, {}).get(key)
        return str(v) if v else None

    return plots.Names(
        exposure=get(exposure, "trait") or exposure,
        outcome=get(outcome, "trait") or outcome,
        exposure_units=get(exposure, "units"),
        outcome_units=get(outcome, "units"),
    )


def figure_formats(study: Any) -> tuple[str, ...]:
    """``[report] figure_formats``, with SVG or PNG among them (the report shows one)."""
    asked = list(getattr(study.report, "figure_formats", ["svg"]))
    return tuple(asked) if {"svg", "png"} & set(asked) else ("svg", *asked)


def summary_forest(
    results: pd.DataFrame, stem: Path, *, title: str, formats: tuple[str, ...] = ("png", "svg")
) -> list[Path]:
    """Primary-method estimate of every pair, significant pairs highlighted."""
    rows = results.assign(label=results["exposure"] + " → " + results["outcome"])
    hi = rows.loc[rows["significant"].fillna(False).astype(bool), "label"].tolist()
    fig = figures.forest(
        rows[["label", "estimate", "ci_lower", "ci_upper"]], title=title, highlight=hi
    )
    return figures.save(fig, stem, formats)


def detail_pairs(
    study: Any, results: pd.DataFrame, outputs: list[Any]
) -> set[tuple[str, str, str]]:
    """Pairs ``(exposure, outcome, direction)`` that get figures and a report section.

    ``[report] pair_figures``: ``all``; ``none``; ``significant`` (primary
    method significant after correction); ``auto`` (default): every pair when
    the study has at most ``max_pairs`` pairs, otherwise the significant pairs
    with the smallest p-values, at most ``max_pairs`` of them.
    """
    policy, limit = study.report.pair_figures, study.report.max_pairs
    every = [(o.exposure, o.outcome, o.direction) for o in outputs if o.estimates]
    if policy == "all" or (policy == "auto" and len(outputs) <= limit):
        return set(every)
    if policy == "none" or results.empty:
        return set()
    primary = results[
        results["method"].isin([study.analysis.primary, "wald_ratio"])
        & results["significant"].astype(bool)
    ].sort_values("pval", kind="stable")
    keys = list(zip(primary["exposure"], primary["outcome"], primary["direction"], strict=True))
    return set(keys[:limit] if policy == "auto" else keys)


def _pair_job(job: tuple) -> tuple[tuple[str, str], dict[str, list[Path]]]:
    key, stem, used, estimates, single, loo, names, formats = job
    data = tuple(used[c].to_numpy(float) for c in _VECTORS)
    out: dict[str, list[Path]] = {}
    for kind in plots.REPORT_KINDS:
        fig = plots.pair_figure(
            kind, data=data, estimates=estimates, single=single, loo=loo, names=names
        )
        if fig is not None:
            path = stem.with_name(f"{stem.name}_{plots.SUFFIX[kind]}")
            out[kind] = figures.save(fig, path, formats)
    return key, out


def _map_figures(jobs: list[tuple]) -> list[tuple[tuple[str, str], dict[str, list[Path]]]]:
    """Draw the per-pair figures, on every core when there are several pairs.

    Matplotlib is single-threaded, so worker processes (forked, sharing the
    imported modules) make the report stage scale with cores.
    """
    import multiprocessing as mp

    workers = min(len(jobs), os.cpu_count() or 1)
    if workers <= 1 or "fork" not in mp.get_all_start_methods():
        return [_pair_job(j) for j in jobs]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(
        workers, mp_context=mp.get_context("fork"), initializer=_die_with_parent
    ) as pool:
        return list(pool.map(_pair_job, jobs))


def _die_with_parent() -> None:
    """A figure worker gets SIGKILL when the run that forked it dies (Linux' PDEATHSIG):
    a killed ``mrkit run`` leaves no process writing figures behind it."""
    import contextlib
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):  # no glibc (musl): workers end with the pool
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def write_outputs(
    out_dir: Path,
    *,
    study: Any,
    results: pd.DataFrame,
    harmonised: pd.DataFrame,
    diagnostics: pd.DataFrame,
    outputs: list[Any],
    infos: dict[str, dict[str, Any]],
    instruments: dict[str, pd.DataFrame],
    manifest: dict[str, Any],
    pair_log: pd.DataFrame | None = None,
    traits: dict[str, Any] | None = None,
    families: list[dict[str, Any]] | None = None,
) -> dict[str, Path]:
    """Write every output file; returns ``{name: path}``.

    Per-pair figures and report sections are drawn for the pairs chosen by
    :func:`detail_pairs`; ``pairs.csv`` (from ``pair_log``) lists every pair's
    status, error and time; ``supplement/`` holds the tables for a paper
    (:mod:`mrkit.report.supplement`). ``traits`` (binary, N, cases of each
    GWAS) give odds ratios and power; ``families`` the multiple-testing families.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    files = _write_tables(out_dir, results, harmonised, diagnostics)
    labels = {m: get_method(m).label for m in {*study.analysis.methods, "wald_ratio"}}
    if pair_log is not None:
        files["pairs"] = out_dir / "pairs.csv"
        atomic_write(files["pairs"], lambda t: pair_log.to_csv(t, index=False, float_format="%.6g"))
    fig_dir = out_dir / "figures"
    detailed = detail_pairs(study, results, outputs)
    jobs = []
    for o in outputs:
        if o.error or not o.estimates or (o.exposure, o.outcome, o.direction) not in detailed:
            continue
        used = o.harmonised[o.harmonised["keep"].astype(bool)]
        stem = fig_dir / figure_stem(o.exposure, o.outcome)
        jobs.append(
            (
                (o.exposure, o.outcome),
                stem,
                used,
                o.estimates,
                pd.DataFrame(o.single_snp),
                pd.DataFrame(o.leave_one_out),
                trait_names(study, infos, o.exposure, o.outcome),
                figure_formats(study),
            )
        )
    pair_figs = dict(_map_figures(jobs))
    primary = results[results["method"].isin([study.analysis.primary, "wald_ratio"])]
    limit = study.report.max_pairs
    summary_figs = {}
    for direction in ("forward", "reverse"):
        rows = primary[primary["direction"] == direction]
        title = f"{study.analysis.primary.upper()} estimates ({direction} direction)"
        if limit and len(rows) > limit:
            title += f": the {limit} smallest p of {len(rows)}"
            rows = rows.sort_values("pval", kind="stable").head(limit)
        if len(rows):
            summary_figs[direction] = summary_forest(
                rows, fig_dir / f"summary_{direction}", title=title, formats=figure_formats(study)
            )
    flow = snp_flow(harmonised)
    traits = traits or {}
    n_exposure = {k: _total_n(t) for k, t in traits.items()}
    checklist = strobe_rows(study, labels, manifest, families or [])
    supp = write_supplement(
        out_dir / "supplement",
        results=results,
        diagnostics=diagnostics,
        outputs=outputs,
        n_exposure=n_exposure,
        checklist=checklist,
    )
    files.update({f"supplement_{k}": v for k, v in supp.items()})
    html = render_report(
        study=study,
        results=results,
        diagnostics=diagnostics,
        flow=flow,
        outputs=outputs,
        infos=infos,
        instruments=instruments,
        manifest=manifest,
        pair_figs=pair_figs,
        summary_figs=summary_figs,
        labels=labels,
        detailed=detailed,
        pair_log=pair_log,
        traits=traits,
        families=families,
        base=out_dir,
        supplement={f"{k}.csv": v for k, v in supp.items()},
    )
    files["report"] = out_dir / "report.html"
    atomic_write(files["report"], lambda t: t.write_text(html, encoding="utf-8"))
    return files
