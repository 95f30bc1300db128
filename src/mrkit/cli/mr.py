"""``mrkit mr``: estimates and diagnostics for a harmonised table."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mrkit.cli import app, console


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "NA"
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def print_analysis(res: Any) -> None:
    """Readable tables of an :class:`~mrkit.api.MRAnalysis` on the console."""
    from mrkit.methods import get_method

    for pair in res.pairs:
        title = (
            f"{pair.label['exposure']} -> {pair.label['outcome']}" if pair.label else "MR estimates"
        )
        t = Table(title=f"{title} ({pair.nsnp} variants)", title_justify="left")
        for col in ("method", "nsnp", "estimate", "se", "95% CI", "pval"):
            t.add_column(col, justify="left" if col == "method" else "right")
        for r in pair.estimates:
            t.add_row(
                get_method(r.method).label,
                str(r.nsnp),
                _fmt(r.estimate),
                _fmt(r.se),
                f"{_fmt(r.ci_lower)} to {_fmt(r.ci_upper)}",
                _fmt(r.pval, 3),
            )
        console.print(t)
        for h in pair.heterogeneity:
            console.print(
                f"  Heterogeneity ({h['method']}): Q = {_fmt(h['q'])} on {h['q_df']} df, "
                f"p = {_fmt(h['q_pval'], 3)}"
            )
        if pair.pleiotropy:
            pl = pair.pleiotropy
            console.print(
                f"  Egger intercept: {_fmt(pl['egger_intercept'])} (se {_fmt(pl['se'])}), "
                f"p = {_fmt(pl['pval'], 3)}"
            )
        console.print(f"  I²GX = {_fmt(pair.i2gx, 3)}, mean F = {_fmt(pair.f_mean, 4)}")
        for s in pair.skipped:
            console.print(f"  [yellow]skipped {s['method']}[/]: {s['reason']}")


@app.command("mr")
def mr_command(
    table: Annotated[Path, typer.Argument(help="Harmonised table (CSV/TSV, gzip ok).")],
    methods: Annotated[
        str, typer.Option(help="`default`, `all`, or comma-separated method names.")
    ] = "default",
    seed: Annotated[int | None, typer.Option(help="Seed of every bootstrap.")] = None,
    nboot: Annotated[int, typer.Option(help="Bootstrap draws.")] = 1000,
    alpha: Annotated[float, typer.Option(help="1 - confidence level.")] = 0.05,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write all results as JSON (`-` = stdout).")
    ] = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Write the estimates as CSV.")
    ] = None,
) -> None:
    """Estimate causal effects with every requested method, plus diagnostics."""
    from mrkit.api import mr

    res = mr(table, methods=methods, seed=seed, nboot=nboot, alpha=alpha)
    if csv_out is not None:
        res.estimates.to_csv(csv_out, index=False)
    if json_out is not None:
        text = json.dumps(res.to_dict(), indent=2, allow_nan=False)
        if str(json_out) == "-":
            typer.echo(text)
            return
        json_out.write_text(text + "\n")
        console.print(f"wrote {json_out}")
        return
    print_analysis(res)
