"""``mrkit mr``: estimates and diagnostics for a harmonised table, through the one engine.

Exit status 0 when anything was estimated (what could not run is listed on stderr
and under ``skipped`` in the JSON), 2 for unusable input (a bad table, an unknown
method or option, or nothing estimable at all).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mrkit._core.files import atomic_write
from mrkit.cli import app, console, err_console

#: Pairs printed as tables on the console before the rest is summarised.
MAX_PRINTED = 20
#: Skipped items listed on stderr before the rest is counted.
MAX_SKIPS = 20
#: Labels of result rows that are not registered methods (a method's further rows).
ROW_LABELS = {"presso_corrected": "MR-PRESSO (outlier-corrected)"}


def print_analysis(res: Any) -> None:
    """Readable tables of an :class:`~mrkit.results.MRAnalysis` on the console."""
    from rich.table import Table

    from mrkit._core.fmt import fmt_int, fmt_num, fmt_p
    from mrkit.methods import get_method

    for i, pair in enumerate(res.pairs):
        if i == MAX_PRINTED:
            rest = res.npairs - MAX_PRINTED
            console.print(f"... and {rest:,} more pairs: write them all with --csv or --json")
            break
        title = " -> ".join(pair.label[k] for k in ("exposure", "outcome") if k in pair.label)
        t = Table(
            title=f"{title or 'MR estimates'} ({fmt_int(pair.nsnp)} variants)",
            title_justify="left",
        )
        for col in ("method", "nsnp", "estimate", "se", "95% CI", "p"):
            t.add_column(col, justify="left" if col == "method" else "right")
        for r in pair.estimates.to_dict(orient="records"):
            t.add_row(
                ROW_LABELS.get(r["method"]) or get_method(r["method"]).label,
                fmt_int(r["nsnp"]),
                fmt_num(r["estimate"]),
                fmt_num(r["se"]),
                f"{fmt_num(r['ci_lower'])} to {fmt_num(r['ci_upper'])}",
                fmt_p(r["pval"]),
            )
        console.print(t)
        for h in pair.heterogeneity:
            console.print(
                f"  Heterogeneity ({h['method']}): Q = {fmt_num(h['q'])} on {h['q_df']} df, "
                f"p = {fmt_p(h['q_pval'])}"
            )
        if pair.pleiotropy:
            pl = pair.pleiotropy
            console.print(
                f"  Egger intercept: {fmt_num(pl['egger_intercept'])} (se {fmt_num(pl['se'])}), "
                f"p = {fmt_p(pl['pval'])}"
            )
        console.print(f"  I²GX = {fmt_num(pair.i2gx, 3)}, mean F = {fmt_num(pair.f_mean)}")


def print_skipped(res: Any) -> None:
    """What could not run, on stderr (the first :data:`MAX_SKIPS`, then a count)."""
    skipped = res.skipped
    if skipped.empty:
        return
    keys = res.key_columns
    for rec in skipped.head(MAX_SKIPS).to_dict(orient="records"):
        pair = " -> ".join(str(rec[k]) for k in keys if k in ("exposure", "outcome"))
        where = f" ({pair})" if pair else ""
        what = "pair" if rec["method"] == "*" else rec["method"]
        err_console.print(f"skipped {what}{where}: {rec['reason']}", highlight=False, markup=False)
    if len(skipped) > MAX_SKIPS:
        err_console.print(f"... {len(skipped) - MAX_SKIPS:,} more skipped (listed in the JSON)")


@app.command("mr")
def mr_command(
    table: Annotated[Path, typer.Argument(help="Harmonised table (CSV/TSV, gzip ok).")],
    methods: Annotated[
        str,
        typer.Option(
            help="`default`, `all`, or comma-separated method names (TwoSampleMR's accepted)."
        ),
    ] = "default",
    seed: Annotated[
        int, typer.Option(help="Seed of every random method (recorded in the output).")
    ] = 1,
    nboot: Annotated[int, typer.Option(help="Bootstrap draws.")] = 1000,
    alpha: Annotated[float, typer.Option(help="1 - confidence level.")] = 0.05,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="A method option, METHOD.OPTION=VALUE (repeatable), "
            "e.g. --set presso.n_distributions=10000 --set ivw.model=fixed.",
        ),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write all results as JSON (`-` = stdout).")
    ] = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Write the estimates as CSV.")
    ] = None,
    plots: Annotated[
        Path | None,
        typer.Option(
            "--plots",
            help="Write scatter, forest, leave-one-out, funnel and radial plots "
            "(PNG at 300 dpi and SVG) of every pair into this folder.",
        ),
    ] = None,
) -> None:
    """Estimate causal effects with every requested method, plus diagnostics."""
    from mrkit.errors import InputError
    from mrkit.estimate import mr, parse_setting

    options: dict[str, dict[str, Any]] = {}
    for text in settings or []:
        method, option, value = parse_setting(text)
        options.setdefault(method, {})[option] = value
    res = mr(table, methods=methods, options=options, seed=seed, nboot=nboot, alpha=alpha)
    if res.estimates.empty:
        print_skipped(res)
        msg = f"{table}: no method could be estimated on any pair (see the reasons above)"
        raise InputError(msg)
    if plots is not None:
        from mrkit.report.plots import write_plots

        files = write_plots(res, table, plots)
        err_console.print(f"wrote {len(files)} figure files to {plots}", highlight=False)
    if csv_out is not None:
        atomic_write(csv_out, lambda t: res.estimates.to_csv(t, index=False))
    if json_out is not None:
        if str(json_out) == "-":
            res.write_json(sys.stdout.buffer)
            sys.stdout.flush()
        else:

            def write(tmp: Path) -> None:
                with open(tmp, "wb") as fh:
                    res.write_json(fh)

            atomic_write(json_out, write)
            console.print(f"wrote {json_out}")
    elif csv_out is None:
        print_analysis(res)
    print_skipped(res)
