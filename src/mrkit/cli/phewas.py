"""``mrkit phewas``: one exposure against every GWAS in the store, or every GWAS against one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mrkit.cli import app


@app.command("phewas")
def phewas_command(
    store: Annotated[Path, typer.Option("--store", help="Store file.")] = Path("mrkit.duckdb"),
    exposure: Annotated[
        str | None, typer.Option(help="Exposure id: analysed against every other GWAS.")
    ] = None,
    outcome: Annotated[
        str | None, typer.Option(help="Outcome id: every other GWAS is analysed against it.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: phewas_<id>).")] = None,
    methods: Annotated[
        str, typer.Option(help="`default`, `all`, or comma-separated method names.")
    ] = "default",
    p_threshold: Annotated[
        float, typer.Option("--p-threshold", help="Instrument p-value threshold.")
    ] = 5e-8,
    panel: Annotated[
        Path | None,
        typer.Option(help="PLINK reference panel prefix (clumping and LD proxies)."),
    ] = None,
    clump: Annotated[bool, typer.Option(help="LD-clump the instruments (needs --panel).")] = True,
    seed: Annotated[int, typer.Option(help="Seed of every random step.")] = 1,
    nboot: Annotated[int, typer.Option(help="Bootstrap draws.")] = 1000,
    engine: Annotated[str, typer.Option(help="Where pairs run: local or dask.")] = "local",
    workers: Annotated[
        int | None, typer.Option(help="Worker processes of a local Dask cluster.")
    ] = None,
    correction: Annotated[
        str, typer.Option(help="Multiple-testing correction: bonferroni, holm, bh or none.")
    ] = "bonferroni",
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="A method option, METHOD.OPTION=VALUE (repeatable), "
            "e.g. --set presso.n_distributions=10000.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Re-run even if nothing changed.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Phenome-wide MR: the same pipeline and outputs as `mrkit run`."""
    from mrkit.errors import StudyError
    from mrkit.methods import parse_setting
    from mrkit.study.phewas import run_phewas

    if engine not in ("local", "dask"):
        msg = f"--engine must be local or dask (got {engine!r})"
        raise StudyError(msg)
    options: dict[str, dict[str, object]] = {}
    for text in settings or []:
        method, option, value = parse_setting(text)
        options.setdefault(method, {})[option] = value
    res = run_phewas(
        store,
        out=out,
        quiet=quiet,
        force=force,
        exposure=exposure,
        outcome=outcome,
        methods=methods,
        p_threshold=p_threshold,
        panel=panel,
        clump=clump,
        seed=seed,
        nboot=nboot,
        engine=engine,
        workers=workers,
        correction=correction,
        options=options,
    )
    from mrkit.cli.run import print_summary

    print_summary(res)
