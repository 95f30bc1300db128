"""Render the HTML report (Jinja2 template ``template.html``).

Laid out for reading on a laptop: a summary first, then the study, data
sources, methods, multiple testing and power, one section per pair with its
figures beside its numbers and its instruments in a collapsed table, the
STROBE-MR checklist and the software. Styles are inline; figures are the PNG
files in ``figures/`` next to the report (referenced, not embedded), so the
page stays small and opens offline. Every number is formatted by
:mod:`mrkit._core.fmt`.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from mrkit._core import fmt as nb
from mrkit.report import pairs as pr
from mrkit.report import strobe


def _rel(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path, base)).as_posix()


def _img(paths: list[Path] | None, base: Path) -> str | None:
    if not paths:
        return None
    shown = [p for p in paths if p.suffix in (".svg", ".png")]  # SVG first: crisp at any zoom
    return _rel(min(shown, key=lambda p: p.suffix != ".svg"), base) if shown else None


def _overlap(value: Any, exposure: str, outcome: str) -> str | None:
    if isinstance(value, dict):
        for key in (f"{exposure}->{outcome}", f"{exposure}:{outcome}", f"{outcome}->{exposure}"):
            if key in value:
                return _overlap(value[key], exposure, outcome)
        return None
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return nb.pct(value) if 0 < float(value) < 1 else nb.count(value) + " participants"


def _overlap_text(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_overlap(v, '', '')}" for k, v in value.items())
    return _overlap(value, "", "") or ""


def _rows_text(info: dict[str, Any]) -> str:
    """Rows stored, and the rows ``bad_rows = "skip"`` left out with where they are listed."""
    text = nb.count(info.get("rows"), "not recorded")
    if info.get("rejected"):
        where = Path(str(info.get("rejected_file", ""))).name
        text += f" ({nb.count(info['rejected'])} bad rows left out, listed in {where})"
    return text


def _sources(study: Any, infos: dict, instruments: dict) -> list[dict[str, Any]]:
    out = []
    for gid, info in infos.items():
        entry = study.gwas_by_id()[gid]
        n = entry.n or info.get("n")
        n_text = nb.count(n, "")
        if nb.missing(n) or not n:
            inst = instruments.get(gid)
            per = inst["n"].to_numpy(float) if inst is not None and "n" in inst.columns else []
            per = np.asarray(per, float)
            per = per[np.isfinite(per)]
            if entry.ncase and entry.ncontrol:
                n_text = nb.count(entry.ncase + entry.ncontrol)
            elif per.size:
                n_text = f"{nb.count(np.median(per))} (median per-variant N of the file)"
            else:
                n_text = nb.na("not in the study file or the GWAS file")
        binary = entry.binary
        ncase = entry.ncase or info.get("ncase")
        ncontrol = entry.ncontrol or info.get("ncontrol")
        kept = instruments[gid]["keep"].astype(bool).sum() if gid in instruments else None
        out.append(
            {
                "id": gid,
                "trait": entry.trait or info.get("trait") or gid,
                "units": entry.units or info.get("units") or nb.na("not given: [[gwas]] units"),
                "n": n_text,
                "ncase": nb.count(ncase, "not given") if binary else "—",
                "ncontrol": nb.count(ncontrol, "not given") if binary else "—",
                "population": entry.population
                or info.get("population")
                or study.study.population
                or nb.na("not given: [[gwas]] population or [study] population"),
                "build": entry.build or info.get("build") or nb.na("not given"),
                "rows": _rows_text(info),
                "instruments": nb.count(kept, "not an exposure") if kept is not None else "—",
                "file": entry.file or "(from the store)",
                "sha256": str(info.get("sha256", ""))[:16],
            }
        )
    return out


def _study_info(study: Any) -> list[tuple[str, str, bool]]:
    s = study.study
    rows = []
    for key, label in (
        ("population", "Population (ancestry)"),
        ("overlap", "Sample overlap between exposure and outcome GWAS"),
        ("preregistration", "Pre-registration"),
        ("funding", "Funding"),
        ("data_availability", "Data availability"),
    ):
        value = getattr(s, key)
        if key == "overlap" and value is not None:
            value = _overlap_text(value)
        rows.append((label, value if value else f"not provided ([study] {key})", bool(value)))
    return rows


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
    traits: dict[str, Any] | None = None,
    families: list[dict[str, Any]] | None = None,
    base: Path | None = None,
    supplement: dict[str, Path] | None = None,
) -> str:
    """The report as an HTML string (figures referenced relative to ``base``).

    Every pair is in the summary (primary method) and, when it failed, in the
    failed-pairs table; a full section is given to the pairs in ``detailed``
    (all when ``None``). ``traits`` are the pairs' trait descriptions (binary,
    N, cases) used for odds ratios and power.
    """
    env = Environment(
        loader=PackageLoader("mrkit", "report"), autoescape=select_autoescape(["html"])
    )
    base = base or Path(".")
    a = study.analysis
    entries = study.gwas_by_id()
    traits = traits or {}
    primary = results[results["method"].isin([a.primary, "wald_ratio"])]
    many = len(outputs) > study.report.max_pairs
    if many:  # a long overview reads best from the strongest evidence down
        primary = primary.sort_values("pval", kind="stable")
    flows: dict[tuple[str, str], list[dict[Hashable, Any]]] = {}
    for r in flow.to_dict("records"):
        flows.setdefault((r["exposure"], r["outcome"]), []).append(r)
    name = {gid: (entries[gid].trait or infos.get(gid, {}).get("trait") or gid) for gid in entries}
    anchors: dict[tuple[str, str], str] = {}
    pairs: list[dict[str, Any]] = []
    power_rows: list[dict[str, Any]] = []
    for o in outputs:
        key = (o.exposure, o.outcome)
        brief = detailed is not None and (o.exposure, o.outcome, o.direction) not in detailed
        if brief and (not o.error or many):
            continue
        anchor = f"pair-{len(pairs) + 1}"
        anchors[key] = anchor
        sec: dict[str, Any] = {
            "anchor": anchor,
            "exposure": o.exposure,
            "outcome": o.outcome,
            "title": f"{name.get(o.exposure, o.exposure)} → {name.get(o.outcome, o.outcome)}",
            "direction": o.direction,
            "error": pr.prose(o.error) if o.error else None,
            "flow": [(f["state"] or "used", nb.count(f["n"])) for f in flows.get(key, [])],
            "figs": {k: _img(v, base) for k, v in pair_figs.get(key, {}).items()},
            "overlap": _overlap(study.study.overlap, o.exposure, o.outcome),
        }
        if o.estimates and not o.error:
            exp_t, out_t = traits.get(o.exposure), traits.get(o.outcome)
            n_exp = getattr(exp_t, "n", None) or (
                (getattr(exp_t, "ncase", 0) or 0) + (getattr(exp_t, "ncontrol", 0) or 0) or None
            )
            used = o.harmonised[o.harmonised["keep"].astype(bool)]
            r2v, _ = pr.instrument_r2(used, n_exp)
            r2 = float(np.nansum(r2v)) if np.isfinite(r2v).any() else None
            power = pr.pair_power(o, r2=r2, outcome=out_t, primary=a.primary, alpha=a.alpha)
            sec.update(
                pr.pair_section(
                    o,
                    labels=labels,
                    sensitivity=a.sensitivity,
                    binary_outcome=bool(getattr(out_t, "binary", False)),
                    n_exposure=n_exp,
                    power=power,
                    presso_correct=a.presso_correct,
                )
            )
            sec["instruments"], sec["clumped"] = pr.instrument_rows(o.harmonised, n_exp)
            power_rows.append(_power_row(sec, power, anchor))
        pairs.append(sec)
    overview = [_overview_row(r, labels, anchors) for r in primary.to_dict("records")]
    failed = [
        {
            "exposure": o.exposure,
            "outcome": o.outcome,
            "direction": o.direction,
            "error": pr.prose(o.error),
        }
        for o in outputs
        if o.error
    ]
    facts = _strobe_facts(study, labels, manifest, families or [])
    return env.get_template("template.html").render(
        study=study,
        a=a,
        overview=overview,
        significant=[r for r in overview if r["significant"] == "yes"],
        pairs=pairs,
        sources=_sources(study, infos, instruments),
        study_info=_study_info(study),
        study_missing=[label.lower() for label, _, given in _study_info(study) if not given],
        manifest=manifest,
        labels=labels,
        summary_figs={k: _img(v, base) for k, v in summary_figs.items()},
        families=families or [],
        failed=failed,
        timing=_timing(pair_log),
        n_pairs=len(outputs),
        n_planned=len(manifest.get("pairs", [])) or len(outputs),
        n_detailed=sum(1 for p in pairs if p.get("estimates")),
        power=power_rows,
        checklist=strobe.checklist(facts),
        citation=strobe.CITATION,
        methods_text=facts["methods"],
        supplement={
            k: Path(os.path.relpath(v, base)).as_posix() for k, v in (supplement or {}).items()
        },
        nb=nb,
        plural=lambda n, word: f"{n:,} {word}" + ("" if n == 1 else "s"),
    )


def _overview_row(r: dict, labels: dict[str, str], anchors: dict) -> dict[str, Any]:
    has_or = not nb.missing(r.get("or"))
    return {
        "exposure": r["exposure"],
        "outcome": r["outcome"],
        "direction": r["direction"],
        "method": labels.get(r["method"], r["method"]),
        "nsnp": nb.count(r.get("nsnp")),
        "estimate": nb.num(r.get("estimate"), "not estimated"),
        "ci": nb.ci(r.get("ci_lower"), r.get("ci_upper"), "not estimated"),
        "or": f"{nb.num(r['or'], digits=3)} ({nb.num(r['or_ci_lower'], digits=3)} to "
        f"{nb.num(r['or_ci_upper'], digits=3)})"
        if has_or
        else "—",
        "p": nb.pval(r.get("pval"), "not estimated"),
        "p_adj": nb.pval(r.get("pval_adjusted"), "not estimated"),
        "significant": "yes" if bool(r.get("significant")) else "no",
        "anchor": anchors.get((r["exposure"], r["outcome"])),
    }


def _power_row(sec: dict, power: Any, anchor: str) -> dict[str, Any]:
    why = power.reason or "not computed"
    mde = power.mde
    if mde is not None and power.mde_scale.startswith("OR"):
        mde_text = f"OR {nb.num(mde, digits=3)} per SD"
    else:
        mde_text = f"{nb.num(mde, why, digits=3)} SD per SD" if mde is not None else nb.na(why)
    return {
        "anchor": anchor,
        "pair": sec["title"],
        "direction": sec["direction"],
        "r2": nb.pct(power.r2, why),
        "n": nb.count(power.n, why),
        "k": nb.pct(power.k, "continuous outcome") if power.mde_scale.startswith("OR") else "—",
        "mde": mde_text,
        "power": nb.pct(power.power_at_estimate, why),
    }


def _timing(pair_log: pd.DataFrame | None) -> dict[str, Any] | None:
    if pair_log is None or not len(pair_log):
        return None
    el = pair_log["elapsed_s"].astype(float)
    # (pandas-stubs take no Hashable row label, which idxmax() gives, with a column list)
    slowest = pair_log.loc[el.idxmax(), ["exposure", "outcome"]]  # type: ignore[index]
    return {
        "n": len(pair_log),
        "reused": int(pair_log["reused"].astype(bool).sum()),
        "total": nb.num(float(el.sum()), digits=3),
        "median": nb.num(float(el.median()), digits=3),
        "max": nb.num(float(el.max()), digits=3),
        "slowest": slowest.tolist(),
    }


def strobe_rows(study: Any, labels: dict, manifest: dict, families: list) -> list[strobe.Row]:
    """The STROBE-MR checklist rows of the run (as in the report)."""
    return strobe.checklist(_strobe_facts(study, labels, manifest, families))


def _strobe_facts(study: Any, labels: dict, manifest: dict, families: list) -> dict[str, Any]:
    a, ins, h = study.analysis, study.instruments, study.harmonise
    sel = f"p < {nb.num(ins.p)}"
    if ins.clump:
        sel += f"; LD clumping r² < {nb.num(ins.r2)} within {nb.count(ins.kb)} kb (reference panel)"
        gone = manifest.get("not_in_ld_panel") or {}
        if gone.get("dropped"):
            sel += f"; {nb.count(gone['dropped'])} candidates not in the LD panel dropped"
        if gone.get("kept"):
            sel += f"; {nb.count(gone['kept'])} candidates not in the LD panel kept unclumped"
    if ins.min_f is not None:
        sel += f"; F ≥ {nb.num(ins.min_f)}"
    if ins.exclude_mhc:
        sel += "; MHC region excluded"
    if ins.steiger:
        sel += "; Steiger filtering"
    sel += f"; alleles harmonised with TwoSampleMR action {h.action}"
    fam = "; ".join(
        f"{f['correction']} over {f['m']:,} tests ({f['name']}: {f['planned']:,} planned, "
        f"{f['analysed']:,} analysed; correction over the {f['over']} tests)"
        for f in families
    )
    versions = ", ".join(f"{k} {v}" for k, v in manifest.get("versions", {}).items())
    return {
        "study": study,
        "methods": ", ".join(labels.get(m, m) for m in a.methods),
        "sensitivity": ", ".join(a.sensitivity) or "none",
        "selection": sel + ".",
        "scale": "Effects per unit of the exposure as in its GWAS (units under Data sources); "
        "log odds ratios and odds ratios for binary outcomes; IVW as in TwoSampleMR.",
        "variants": "Inverse-variance (first-order) weights; palindromic variants "
        + (
            "inferred from allele frequencies"
            if h.action == 2
            else "dropped"
            if h.action == 3
            else "kept as given"
        )
        + "; every variant's fate in the per-instrument table.",
        "correction": (fam or a.correction) + f"; α = {nb.num(a.alpha)}.",
        "versions": f"mrkit {manifest.get('mrkit_version', '')}; {versions}; "
        f"seed {study.study.seed}.",
        "bidirectional": a.bidirectional,
        "overlap": _overlap_text(study.study.overlap),
        "has_loo": "leave_one_out" in a.sensitivity,
        "has_presso": "presso" in a.sensitivity,
        "has_steiger": "steiger" in a.sensitivity or ins.steiger,
    }
