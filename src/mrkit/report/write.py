"""Write a study's output folder: tables, figures, report (manifest by the caller)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from mrkit.report import figures


def slug(text: str) -> str:
    """File-name-safe form of an id."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


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
    results.to_parquet(files["results_parquet"], index=False)
    results.to_csv(files["results_csv"], index=False, float_format="%.10g")
    h = harmonised.copy()
    for col in h.columns:
        if h[col].dtype == object:
            h[col] = h[col].map(lambda v: None if v is None or v != v else str(v))
    h.to_parquet(files["harmonised"], index=False)
    diagnostics.to_csv(files["diagnostics"], index=False, float_format="%.10g")
    return files


def _pair_job(job: tuple) -> tuple[tuple[str, str], dict[str, list[Path]]]:
    key, stem, used, estimates, single, loo, title, labels = job
    return key, figures.pair_figures(stem, used, estimates, single, loo, title=title, labels=labels)


def _map_figures(jobs: list[tuple]) -> list[tuple[tuple[str, str], dict[str, list[Path]]]]:
    """Draw the per-pair figures, on every core when there are several pairs.

    Matplotlib is single-threaded, so worker processes (forked, sharing the
    imported modules) make the report stage scale with cores.
    """
    import multiprocessing as mp
    import os

    workers = min(len(jobs), os.cpu_count() or 1)
    if workers <= 1 or "fork" not in mp.get_all_start_methods():
        return [_pair_job(j) for j in jobs]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
        return list(pool.map(_pair_job, jobs))


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
) -> dict[str, Path]:
    """Write every output file; returns ``{name: path}``."""
    from mrkit.methods import get_method
    from mrkit.report.html import render_report

    out_dir.mkdir(parents=True, exist_ok=True)
    files = _write_tables(out_dir, results, harmonised, diagnostics)
    labels = {m: get_method(m).label for m in {*study.analysis.methods, "wald_ratio"}}
    fig_dir = out_dir / "figures"
    pair_figs: dict[tuple[str, str], dict[str, list[Path]]] = {}
    for o in outputs:
        if o.error or not o.estimates:
            continue
        used = o.harmonised[o.harmonised["keep"].astype(bool)]
        stem = fig_dir / f"{slug(o.exposure)}__{slug(o.outcome)}"
        pair_figs[(o.exposure, o.outcome)] = figures.pair_figures(
            stem,
            used,
            o.estimates,
            pd.DataFrame(o.single_snp),
            pd.DataFrame(o.leave_one_out),
            title=f"{o.exposure} → {o.outcome}",
            labels=labels,
        )
    primary = results[results["method"].isin([study.analysis.primary, "wald_ratio"])]
    summary_figs = {}
    for direction in ("forward", "reverse"):
        rows = primary[primary["direction"] == direction]
        if len(rows):
            summary_figs[direction] = figures.summary_forest(
                rows,
                fig_dir / f"summary_{direction}",
                title=f"{study.analysis.primary.upper()} estimates ({direction} direction)",
            )
    flow = snp_flow(harmonised)
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
    )
    files["report"] = out_dir / "report.html"
    files["report"].write_text(html, encoding="utf-8")
    return files
