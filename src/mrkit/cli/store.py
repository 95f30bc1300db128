"""``mrkit import`` and ``mrkit studies``: fill and list the local GWAS store."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from mrkit.cli import app
from mrkit.errors import InputError
from mrkit.io.sumstats.formats import FORMAT_NAMES

DEFAULT_STORE = Path("mrkit.duckdb")
_FORMATS = ", ".join(("auto", *FORMAT_NAMES))


@app.command("import")
def import_cmd(
    path: Annotated[Path, typer.Argument(help="Summary-statistics file (plain, gzip or bgzip).")],
    id: Annotated[str, typer.Option("--id", help="Id of the GWAS in the store.")],
    trait: Annotated[str, typer.Option("--trait", help="Trait name, e.g. 'body mass index'.")],
    store: Annotated[Path, typer.Option("--store", help="Store file.")] = DEFAULT_STORE,
    units: Annotated[str | None, typer.Option(help="Effect units: log-odds, sd, ...")] = None,
    n: Annotated[float | None, typer.Option("--n", help="Sample size, if not in the file.")] = None,
    ncase: Annotated[float | None, typer.Option("--ncase", help="Number of cases.")] = None,
    ncontrol: Annotated[
        float | None, typer.Option("--ncontrol", help="Number of controls.")
    ] = None,
    build: Annotated[str | None, typer.Option("--build", help="GRCh37 or GRCh38.")] = None,
    population: Annotated[str | None, typer.Option(help="Ancestry, e.g. EUR.")] = None,
    format: Annotated[str, typer.Option("--format", help=f"One of: {_FORMATS}.")] = "auto",
    alleles: Annotated[
        Path | None,
        typer.Option(
            "--alleles",
            help="PLINK 1.9 .qassoc/.assoc.linear/.assoc.logistic only: the .frq (plink "
            "--freq) or .bim of the same run, giving the missing allele(s).",
        ),
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite an existing id.")] = False,
    bad_rows: Annotated[
        str,
        typer.Option(
            "--bad-rows",
            help="error (default): refuse a file with a bad row; skip: drop such rows, "
            "writing line, column and reason to a rejected-rows file in the store.",
        ),
    ] = "error",
) -> None:
    """Import one GWAS summary-statistics file into the store."""
    from rich.markup import escape
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    from mrkit.cli import console, err_console
    from mrkit.store.catalog import Store

    if n is not None and (ncase is not None or ncontrol is not None):
        raise InputError("give either --n or --ncase with --ncontrol, not both")
    st = Store(store)
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as bar:
        task = bar.add_task(escape(f"importing {path.name}"), total=None)

        def progress(step: str) -> None:
            bar.update(task, description=escape(f"{path.name}: {step}"))

        rec = st.import_gwas(
            path,
            id=id,
            trait=trait,
            units=units,
            n=n,
            ncase=ncase,
            ncontrol=ncontrol,
            build=build,
            population=population,
            format=format,
            alleles=alleles,
            bad_rows=bad_rows,  # type: ignore[arg-type]  # (checked by the store)
            replace=replace,
            progress=progress,
        )
    dropped = f", {rec['dropped']:,} rows dropped (missing values)" if rec["dropped"] else ""
    if rec.get("rejected"):
        dropped += f", {rec['rejected']:,} bad rows skipped (see {rec['rejected_file']})"
    console.print(
        Text.assemble(
            "imported ",
            (rec["id"], "bold"),
            f" ({rec['format']}): {rec['rows']:,} variants{dropped}, "
            f"build {rec['build'] or 'unknown'} -> {st.path}",
        ),
        highlight=False,
    )


@app.command("studies")
def studies_cmd(
    store: Annotated[Path, typer.Option("--store", help="Store file.")] = DEFAULT_STORE,
    as_json: Annotated[bool, typer.Option("--json", help="Print the catalog as JSON.")] = False,
) -> None:
    """List the GWAS in the store."""
    from rich.table import Table
    from rich.text import Text

    from mrkit.cli import console
    from mrkit.store.catalog import Store

    df = Store(store, read_only=True).catalog()
    if as_json:
        df = df.astype(object).where(df.notna(), None)
        recs = [{k: (str(v) if k == "imported_at" else v) for k, v in r.items()} for r in
                df.to_dict(orient="records")]  # fmt: skip
        typer.echo(json.dumps(recs, indent=2, default=str))
        return
    if df.empty:
        console.print(Text(f"no GWAS in {store}; add one with `mrkit import`"))
        return
    table = Table(title=str(store))
    for col in ("id", "trait", "units", "n", "build", "format", "rows", "imported_at"):
        table.add_column(col)
    rows: Iterable[Any] = df.itertuples()  # (the catalog's columns, of mixed types)
    for r in rows:
        table.add_row(
            *(Text(_cell(v)) for v in (r.id, r.trait, r.units)),
            "" if _missing(r.n) else f"{r.n:,.0f}",
            *(Text(_cell(v)) for v in (r.build, r.format)),
            "" if _missing(r.rows) else f"{int(r.rows):,}", _cell(r.imported_at)[:19],
        )  # fmt: skip
    console.print(table)


def _missing(v: Any) -> bool:
    """Whether a catalog value is missing (None, NaN or pandas' NA/NaT)."""
    try:
        return v is None or bool(v != v)
    except (TypeError, ValueError):
        return False


def _cell(v: Any) -> str:
    """A catalog value as table text: missing values (None, NaN, NA) empty."""
    return "" if _missing(v) else str(v)
