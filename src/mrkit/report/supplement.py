"""Tables for a paper's supplement: one CSV per table in ``<output>/supplement/``.

``instruments.csv`` (every variant that reached harmonisation, per pair: alleles,
EAF, β/SE/p for both traits, F, R², proxy, palindromic, used, reason),
``estimates.csv`` (every method of every pair, corrected p-values, odds ratios),
``sensitivity.csv`` (heterogeneity, pleiotropy, Steiger, MR-PRESSO per pair),
``checklist.csv`` (the STROBE-MR checklist as answered in the report). CSV
because no xlsx writer is a dependency of mrkit; numbers at full precision
(``%.10g``), missing values empty.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mrkit.report import pairs as pr
from mrkit.report.strobe import Row

INSTRUMENT_COLUMNS = [
    "exposure", "outcome", "snp", "effect_allele", "other_allele", "eaf_exposure",
    "beta_exposure", "se_exposure", "p_exposure", "eaf_outcome", "beta_outcome", "se_outcome",
    "p_outcome", "f", "r2", "proxy_snp", "proxy_r2", "palindromic", "keep", "reason",
]  # fmt: skip


def instruments_table(outputs: Sequence[Any], n_exposure: dict[str, float | None]) -> pd.DataFrame:
    """Per-instrument rows of every pair (variants removed by clumping left out)."""
    frames = []
    for o in outputs:
        tab = o.harmonised
        if tab is None or tab.empty or "beta_exposure" not in tab.columns:
            continue
        clumped = tab["reason"].astype(str).eq("clumped") & ~tab["keep"].astype(bool)
        t = tab[~clumped].copy()
        if t.empty:
            continue
        t["exposure"], t["outcome"] = o.exposure, o.outcome
        t["f"] = (t["beta_exposure"].astype(float) / t["se_exposure"].astype(float)) ** 2
        t["r2"], _ = pr.instrument_r2(t, n_exposure.get(o.exposure))
        frames.append(t.reindex(columns=INSTRUMENT_COLUMNS))
    if not frames:
        return pd.DataFrame(columns=INSTRUMENT_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def checklist_table(rows: Sequence[Row]) -> pd.DataFrame:
    """The checklist rows with the answers as plain text."""
    status = {"run": "from the run", "partly": "partly from the run", "authors": "authors"}
    return pd.DataFrame(
        {
            "item": [r.number for r in rows],
            "section": [r.section for r in rows],
            "checklist_item": [r.item for r in rows],
            "status": [status[r.status] for r in rows],
            "answer": [re.sub(r"<[^>]+>", "", str(r.answer)) for r in rows],
            "report_section": [f"report.html#{r.link}" if r.link else "" for r in rows],
        }
    )


def write_supplement(
    out_dir: Path,
    *,
    results: pd.DataFrame,
    diagnostics: pd.DataFrame,
    outputs: Sequence[Any],
    n_exposure: dict[str, float | None],
    checklist: Sequence[Row],
) -> dict[str, Path]:
    """Write the four CSVs; returns ``{table: path}``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sens_cols = [
        c
        for c in diagnostics.columns
        if c in ("exposure", "outcome", "direction", "error", "nsnp", "f_mean", "f_min", "i2gx")
        or c.startswith(("q_", "egger_", "steiger_", "presso_"))
    ]
    tables = {
        "instruments": instruments_table(outputs, n_exposure),
        "estimates": results,
        "sensitivity": diagnostics[sens_cols] if len(diagnostics) else diagnostics,
        "checklist": checklist_table(checklist),
    }
    files = {}
    for name, df in tables.items():
        path = out_dir / f"{name}.csv"
        df = df.replace([np.inf, -np.inf], np.nan)
        df.to_csv(path, index=False, float_format="%.10g")
        files[name] = path
    return files


__all__ = ["INSTRUMENT_COLUMNS", "checklist_table", "instruments_table", "write_supplement"]
