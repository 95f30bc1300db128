"""Render the self-contained HTML report (Jinja2 template ``template.html``).

Figures are embedded as base64 PNG, styles inline: the file opens offline with
no network request.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "NA"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "NA"
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.{digits}e}"
        return f"{v:.{digits + 1}g}"
    return str(v)


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
) -> str:
    """The report as an HTML string."""
    env = Environment(
        loader=PackageLoader("mrkit", "report"), autoescape=select_autoescape(["html"])
    )
    env.filters["fmt"] = _fmt
    a = study.analysis
    primary = results[results["method"].isin([a.primary, "wald_ratio"])]
    diag = {(r["exposure"], r["outcome"]): r for r in diagnostics.to_dict("records")}
    pairs = []
    for o in outputs:
        key = (o.exposure, o.outcome)
        pairs.append(
            {
                "exposure": o.exposure,
                "outcome": o.outcome,
                "direction": o.direction,
                "error": o.error,
                "estimates": [
                    r
                    for r in results.to_dict("records")
                    if r["exposure"] == o.exposure and r["outcome"] == o.outcome
                ],
                "heterogeneity": o.heterogeneity,
                "diag": diag.get(key, {}),
                "flow": flow[
                    (flow["exposure"] == o.exposure) & (flow["outcome"] == o.outcome)
                ].to_dict("records"),
                "skipped": o.skipped,
                "figs": {k: _img(v) for k, v in pair_figs.get(key, {}).items()},
            }
        )
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
    )
