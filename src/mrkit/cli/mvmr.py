"""``mrkit mvmr``: multivariable MR from one table with a column pair per exposure.

The table (CSV or TSV, gzip ok) has one row per variant. By default, exposure ``E``
is read from columns ``beta_E`` and ``se_E`` and the outcome from ``beta_outcome``
and ``se_outcome``; ``--beta-cols``/``--se-cols`` and ``--outcome-beta``/
``--outcome-se`` name the columns explicitly. Example::

    mrkit mvmr lipids_sbp.csv --exposures LDL,HDL,TG --methods ivw,egger,median \\
        --seed 1 --json out.json
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from mrkit.cli import app
from mrkit.errors import FileFormatError, InputError


def _read_table(path: Path):
    import pandas as pd

    if not path.exists():
        raise FileFormatError(path, "file not found")
    name = path.name.lower().removesuffix(".gz")
    sep = "\t" if name.endswith((".tsv", ".txt", ".tab")) else ","
    try:
        return pd.read_csv(path, sep=sep)
    except Exception as exc:  # pandas parser errors
        raise FileFormatError(path, f"cannot read as a table ({exc})") from None


def _column(df, path: Path, col: str):
    if col not in df.columns:
        known = ", ".join(map(str, df.columns))
        raise FileFormatError(path, f"no column `{col}` (columns: {known})", column=col)
    values = df[col].to_numpy(dtype=float, na_value=math.nan)
    bad = [i for i, v in enumerate(values) if not math.isfinite(v)]
    if bad:
        raise FileFormatError(
            path,
            f"missing or non-numeric value ({len(bad)} such rows); fix or drop them",
            line=bad[0] + 2,
            column=col,
        )
    return values


def _split(s: str | None) -> list[str]:
    return [p.strip() for p in s.split(",") if p.strip()] if s else []


@app.command("mvmr")
def mvmr_command(
    table: Annotated[Path, typer.Argument(help="Table with one row per variant (CSV/TSV).")],
    exposures: Annotated[
        str, typer.Option(help="Comma-separated exposure names (columns beta_<E>, se_<E>).")
    ],
    methods: Annotated[
        str,
        typer.Option(help="Comma-separated: ivw, egger, median, lasso, ivw_robust, multiple."),
    ] = "ivw,egger,median,lasso",
    beta_cols: Annotated[
        str | None, typer.Option(help="Explicit exposure beta columns, in exposure order.")
    ] = None,
    se_cols: Annotated[
        str | None, typer.Option(help="Explicit exposure SE columns, in exposure order.")
    ] = None,
    outcome_beta: Annotated[str, typer.Option(help="Outcome beta column.")] = "beta_outcome",
    outcome_se: Annotated[str, typer.Option(help="Outcome SE column.")] = "se_outcome",
    seed: Annotated[int | None, typer.Option(help="Seed of the median bootstrap.")] = 314159265,
    nboot: Annotated[int, typer.Option(help="Bootstrap draws (median).")] = 10_000,
    alpha: Annotated[float, typer.Option(help="1 - confidence level.")] = 0.05,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write all results as JSON (`-` = stdout).")
    ] = None,
) -> None:
    """Multivariable MR: direct effects of several exposures, conditional F and Q_A."""
    import numpy as np
    from rich.table import Table

    from mrkit._core.fmt import fmt_num, fmt_p
    from mrkit.cli import console
    from mrkit.methods import mvmr

    names = _split(exposures)
    if not names:
        msg = "--exposures needs at least one name, e.g. --exposures LDL,HDL"
        raise InputError(msg)
    bcols = _split(beta_cols) or [f"beta_{e}" for e in names]
    scols = _split(se_cols) or [f"se_{e}" for e in names]
    if len(bcols) != len(names) or len(scols) != len(names):
        msg = (
            f"{len(names)} exposures but {len(bcols)} beta and {len(scols)} SE columns; "
            "give one of each per exposure"
        )
        raise InputError(msg)
    df = _read_table(table)
    BX = np.column_stack([_column(df, table, c) for c in bcols])
    SX = np.column_stack([_column(df, table, c) for c in scols])
    by = _column(df, table, outcome_beta)
    sy = _column(df, table, outcome_se)
    chosen = _split(methods)
    unknown = [m for m in chosen if m not in mvmr.METHODS]
    if unknown:
        msg = f"unknown MVMR method(s) {', '.join(unknown)}; known: {', '.join(mvmr.METHODS)}"
        raise InputError(msg)
    results = []
    for m in chosen:
        opts: dict[str, Any] = {"exposures": names, "alpha": alpha}
        if m == "median":
            opts.update(seed=seed, nboot=nboot)
        elif m == "ivw_robust":
            opts.update(seed=seed)
        results.append(mvmr.METHODS[m](BX, SX, by, sy, **opts))
    cond_f = mvmr.conditional_f(BX, SX) if len(names) > 1 else None
    q_str = mvmr.q_strength(BX, SX) if len(names) > 1 else None
    qa = mvmr.q_a(BX, SX, by, sy)

    t = Table(title=f"Multivariable MR ({BX.shape[0]} variants)", title_justify="left")
    for col in ("method", "exposure", "estimate", "se", "95% CI", "pval"):
        t.add_column(col, justify="left" if col in ("method", "exposure") else "right")
    for res in results:
        for row in res.summary().itertuples():
            t.add_row(
                res.method,
                str(row.exposure),
                fmt_num(row.estimate),
                fmt_num(row.se),
                f"{fmt_num(row.ci_lower)} to {fmt_num(row.ci_upper)}",
                fmt_p(row.pval),
            )
    console.print(t)
    if cond_f is not None:
        console.print(
            "  Conditional F: "
            + ", ".join(f"{e} {fmt_num(float(f))}" for e, f in zip(names, cond_f, strict=True))
        )
    if q_str is not None:
        pairs = zip(names, q_str, strict=True)
        console.print("  Q_strength: " + ", ".join(f"{e} {fmt_num(float(q))}" for e, q in pairs))
    console.print(f"  Q_A = {fmt_num(qa['q'])} on {qa['q_df']} df, p = {fmt_p(qa['q_pval'])}")

    if json_out is not None:
        doc = {
            "table": str(table),
            "exposures": names,
            "nsnp": int(BX.shape[0]),
            "results": [r.to_record() for r in results],
            "conditional_f": None
            if cond_f is None
            else dict(zip(names, map(float, cond_f), strict=True)),
            "q_a": qa,
            "q_strength": None
            if q_str is None
            else dict(zip(names, map(float, q_str), strict=True)),
            "seed": seed,
        }
        text = json.dumps(doc, indent=2, default=float)
        if str(json_out) == "-":
            typer.echo(text)
        else:
            json_out.write_text(text + "\n")
