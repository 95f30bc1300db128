"""Render the self-contained HTML report (Jinja2 template ``template.html``).

Figures are embedded as base64 PNG, styles inline: the file opens offline with
no network request.
"""

from __future__ import annotations

import base64
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from mrkit._core.fmt import fmt_num, fmt_p


def _img(paths: list[Path] | None) -> str | None:
    if not paths:
        return None
    png = next(p for p in paths if p.suffix == ".png")
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()


def render_report(
    *,
    study: Any,
    results: pd.DataFrame,
    diagnostics: pd.DataFrame,
    flow: pd.DataFrame,
    outputs: list[Any],
    infos: dict[str, dict[str, Any]],
    instruments: dict[str, pd.DataFrame],
    manifest: dict[str, Any],
    pair_figs: dict[tuple[str, str], dict[str, list[Path]]],
    summary_figs: dict[str, list[Path]],
    labels: dict[str, str],
    detailed: set[tuple[str, str, str]] | None = None,
    pair_log: pd.DataFrame | None = None,
) -> str:
    """The report as an HTML string.

    Every pair is in the overview (primary method) and, when it failed, in the
    failed-pairs table; a full section (SNP flow, estimates, diagnostics,
    figures) is given to the pairs in ``detailed`` (all when ``None``).
    """
    env = Environment(
        loader=PackageLoader("mrkit", "report"), autoescape=select_autoescape(["html"])
    )
    env.filters["fmt"] = fmt_num
    env.filters["pfmt"] = fmt_p
    a = study.analysis
    primary = results[results["method"].isin([a.primary, "wald_ratio"])]
    many = len(outputs) > study.report.max_pairs
    if many:  # a long overview reads best from the strongest evidence down
        primary = primary.sort_values("pval", kind="stable")
    diag = {(r["exposure"], r["outcome"]): r for r in diagnostics.to_dict("records")}
    est: dict[tuple[str, str], list[dict[Hashable, Any]]] = {}
    for r in results.to_dict("records"):
        est.setdefault((r["exposure"], r["outcome"]), []).append(r)
    flows: dict[tuple[str, str], list[dict[Hashable, Any]]] = {}
    for r in flow.to_dict("records"):
        flows.setdefault((r["exposure"], r["outcome"]), []).append(r)
    pairs = []
    for o in outputs:
        key = (o.exposure, o.outcome)
        brief = detailed is not None and (o.exposure, o.outcome, o.direction) not in detailed
        if brief and (not o.error or many):
            continue
        pairs.append(
            {
                "exposure": o.exposure,
                "outcome": o.outcome,
                "direction": o.direction,
                "error": o.error,
                "estimates": est.get(key, []),
                "heterogeneity": o.heterogeneity,
                "diag": diag.get(key, {}),
                "flow": flows.get(key, []),
                "skipped": o.skipped,
                "figs": {k: _img(v) for k, v in pair_figs.get(key, {}).items()},
            }
        )
    failed = [
        {"exposure": o.exposure, "outcome": o.outcome, "direction": o.direction, "error": o.error}
        for o in outputs
        if o.error
    ]
    timing = None
    if pair_log is not None and len(pair_log):
        el = pair_log["elapsed_s"].astype(float)
        # (pandas-stubs take no Hashable row label, which idxmax() gives, with a column list)
        slowest = pair_log.loc[el.idxmax(), ["exposure", "outcome"]]  # type: ignore[index]
        timing = {
            "n": len(pair_log),
            "reused": int(pair_log["reused"].astype(bool).sum()),
            "total": float(el.sum()),
            "median": float(el.median()),
            "max": float(el.max()),
            "slowest": slowest.tolist(),
        }
    sources = []
    for gid, info in infos.items():
        entry = study.gwas_by_id()[gid]
        sources.append(
            {
                "id": gid,
                "trait": info.get("trait"),
                "units": info.get("units"),
                "n": info.get("n"),
                "ncase": info.get("ncase"),
                "ncontrol": info.get("ncontrol"),
                "build": info.get("build"),
                "rows": info.get("rows"),
                "sha256": str(info.get("sha256", ""))[:16],
                "file": entry.file,
                "n_instruments": int(instruments[gid]["keep"].sum())
                if gid in instruments
                else None,
            }
        )
    tmpl = env.get_template("template.html")
    return tmpl.render(
        study=study,
        a=a,
        primary=primary.to_dict("records"),
        pairs=pairs,
        sources=sources,
        manifest=manifest,
        labels=labels,
        summary_figs={k: _img(v) for k, v in summary_figs.items()},
        n_tests={d: int((primary["direction"] == d).sum()) for d in ("forward", "reverse")},
        failed=failed,
        timing=timing,
        n_pairs=len(outputs),
        n_detailed=sum(1 for p in pairs if p["estimates"]),
    )
