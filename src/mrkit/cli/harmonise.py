"""``mrkit harmonise``: align an outcome GWAS on an exposure's effect alleles."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from mrkit._core.files import atomic_write
from mrkit.cli import app
from mrkit.errors import InputError

if TYPE_CHECKING:
    import pandas as pd


def load_source(source: str, store: Path | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A normalised table and its metadata from a file or a store id (``load_gwas``)."""
    from mrkit.store.catalog import load_gwas

    df, meta = load_gwas(source, store=store)
    return df, dict(meta or {})


def _table_kind(out: Path) -> str:
    name = out.name.lower()
    base = name[:-3] if name.endswith(".gz") else name
    for kind, exts in (("parquet", (".parquet",)), ("csv", (".csv",)), ("tsv", (".tsv", ".txt"))):
        if base.endswith(exts) and not (kind == "parquet" and name.endswith(".gz")):
            return kind
    raise InputError(f"--out {out}: use a .csv, .tsv, .txt (optionally .gz) or .parquet name")


def write_table(table: pd.DataFrame, out: Path) -> None:
    """Write ``table`` as CSV, TSV (``.tsv``/``.txt``, optionally ``.gz``) or Parquet."""
    kind = _table_kind(out)
    name = out.name.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    compression: Literal["gzip"] | None = "gzip" if name.endswith(".gz") else None

    def write(tmp: Path) -> None:
        if kind == "parquet":
            table.to_parquet(tmp, index=False)
        else:
            sep = "," if kind == "csv" else "\t"
            table.to_csv(tmp, index=False, sep=sep, compression=compression)

    atomic_write(out, write)


@app.command("harmonise")
def harmonise_command(
    exposure: Annotated[str, typer.Argument(help="Exposure GWAS: store id or file.")],
    outcome: Annotated[str, typer.Argument(help="Outcome GWAS: store id or file.")],
    out: Annotated[Path, typer.Option("--out", help="Output table (.csv, .tsv, .parquet).")],
    action: Annotated[
        int,
        typer.Option(
            "--action",
            help="1 assume same strand; 2 infer palindromes from frequency; 3 drop palindromes.",
        ),
    ] = 2,
    store: Annotated[
        Path | None, typer.Option("--store", help="Store holding the GWAS ids.")
    ] = None,
    palindrome_tolerance: Annotated[
        float, typer.Option("--palindrome-tolerance", help="Ambiguity band around 0.5.")
    ] = 0.08,
) -> None:
    """Harmonise OUTCOME on EXPOSURE as TwoSampleMR harmonise_data() does; keep every row."""
    from rich.table import Table

    from mrkit.cli import console
    from mrkit.harmonise.core import harmonise

    if action not in (1, 2, 3):
        raise InputError(f"--action must be 1, 2 or 3, got {action}")
    _table_kind(out)
    ex, ex_meta = load_source(exposure, store)
    oc, oc_meta = load_source(outcome, store)
    res = harmonise(
        ex,
        oc,
        action=action,
        palindrome_tolerance=palindrome_tolerance,
        exposure_id=ex_meta.get("id"),
        outcome_id=oc_meta.get("id"),
    )
    write_table(res.table, out)
    tab = Table(title=f"harmonise (action {action})", show_header=True)
    tab.add_column("count")
    tab.add_column("value", justify="right")
    for key, value in res.log.items():
        if key != "action":
            tab.add_row(key, str(value))
    console.print(tab)
    reasons = res.table.loc[~res.table["keep"], "reason"].value_counts()
    for reason, count in reasons.items():
        console.print(f"dropped {count}: {reason}", highlight=False)
    console.print(f"kept {res.log['kept']} of {len(res.table)} rows -> {out}", highlight=False)
