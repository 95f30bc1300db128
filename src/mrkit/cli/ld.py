"""``mrkit clump``, ``mrkit ld`` and ``mrkit instruments``: LD from a local PLINK panel."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mrkit.cli import app, console
from mrkit.errors import FileFormatError, InputError

if TYPE_CHECKING:
    import pandas as pd


def _load(source: str, store: str | None, *, minimal: bool = False) -> pd.DataFrame:
    """A normalised GWAS via :func:`mrkit.store.catalog.load_gwas`.

    With ``minimal`` (clumping needs only SNP and P), a file that is not a full
    summary-statistics file but has SNP and P columns (e.g. a PLINK ``.assoc``)
    is read as a plain table.
    """
    import pandas as pd

    from mrkit.store.catalog import load_gwas

    try:
        return load_gwas(source, store=store)[0]
    except FileFormatError:
        path = Path(source)
        if not (minimal and path.is_file()):
            raise
        df = pd.read_csv(path, sep=None, engine="python")
        if not {"snp", "p"} <= {c.lower() for c in df.columns}:
            raise
        return df


def _write(df: pd.DataFrame, out: str | Path) -> None:
    out = Path(out)
    sep = "," if out.suffix.lower() == ".csv" else "\t"
    df.to_csv(out, sep=sep, index=False)


@app.command("clump")
def clump_cmd(
    sumstats: str = typer.Argument(..., help="Summary statistics file or store id."),
    panel: str = typer.Option(..., "--panel", help="PLINK panel prefix (or ref/EUR.chr{chr})."),
    p1: float = typer.Option(5e-8, "--p1", help="Index variants need p <= p1."),
    p2: float = typer.Option(5e-8, "--p2", help="Clumped variants need p <= p2."),
    r2: float = typer.Option(0.001, "--r2", help="r² threshold (PLINK haplotype r²)."),
    kb: float = typer.Option(10000, "--kb", help="Window half-width in kb."),
    drop_missing: bool = typer.Option(
        False, "--drop-missing", help="Drop variants absent from the panel (default: keep)."
    ),
    store: str | None = typer.Option(None, "--store", help="Store directory for ids."),
    out: str = typer.Option(..., "--out", help="Output table (.tsv or .csv)."),
) -> None:
    """LD-clump a GWAS like `plink1.9 --clump`: index SNPs with the SNPs they clumped."""
    from mrkit.ld.clump import clump_table
    from mrkit.ld.panel import ReferencePanel

    res = clump_table(
        ReferencePanel(panel),
        _load(sumstats, store, minimal=True),
        p1=p1,
        p2=p2,
        r2=r2,
        kb=kb,
        missing="drop" if drop_missing else "keep",
    )
    _write(res.clumps, out)
    absent = int((~res.clumps["in_panel"]).sum())
    console.print(f"{len(res.clumps)} clumps written to {out}")
    if absent:
        console.print(f"{absent} index variant(s) not in the LD panel, kept unclumped")
    n_drop = int((res.table["reason"] == "not in LD panel").sum())
    if drop_missing and n_drop:
        console.print(f"{n_drop} variant(s) dropped: not in LD panel")


@app.command("ld")
def ld_cmd(
    snps: str = typer.Argument(..., help="File of SNP ids (one a line, or a table with `snp`)."),
    panel: str = typer.Option(..., "--panel", help="PLINK panel prefix."),
    out: str = typer.Option(..., "--out", help="Output matrix (.tsv or .csv)."),
) -> None:
    """Signed LD (r) matrix of the SNPs, coded by effect_allele when the file gives it."""
    import pandas as pd

    from mrkit._core.columns import canonical_columns
    from mrkit.ld.panel import ReferencePanel

    path = Path(snps)
    if not path.exists():
        raise InputError(f"{snps}: no such file")
    lines = [x.strip() for x in path.read_text().splitlines() if x.strip()]
    first = lines[0].replace(",", "\t").split() if lines else []
    if len(first) > 1 or (first and first[0].lower() in ("snp", "rsid", "id")):
        tab = canonical_columns(pd.read_csv(path, sep=None, engine="python"))
        ids = tab["snp"].astype(str).tolist()
        alleles = tab["effect_allele"].tolist() if "effect_allele" in tab.columns else None
    else:
        ids, alleles = lines, None
    out_path = Path(out)
    mat = ReferencePanel(panel).ld_matrix(ids, effect_alleles=alleles)
    sep = "," if out_path.suffix.lower() == ".csv" else "\t"
    mat.to_csv(out, sep=sep, index_label="snp")
    console.print(f"{len(ids)} x {len(ids)} LD matrix written to {out}")


@app.command("instruments")
def instruments_cmd(
    gwas: str = typer.Argument(..., help="Exposure GWAS: store id or file."),
    p: float = typer.Option(5e-8, "--p", help="Significance threshold."),
    clump: bool = typer.Option(True, "--clump/--no-clump", help="LD-clump (needs --panel)."),
    panel: str | None = typer.Option(None, "--panel", help="PLINK panel prefix."),
    r2: float = typer.Option(0.001, "--r2"),
    kb: float = typer.Option(10000, "--kb"),
    min_f: float | None = typer.Option(None, "--min-f", help="Drop instruments with F below."),
    exclude_mhc: bool = typer.Option(False, "--exclude-mhc", help="Drop the MHC region."),
    build: str = typer.Option("GRCh37", "--build"),
    store: str | None = typer.Option(None, "--store"),
    out: str | None = typer.Option(None, "--out", help="Output table (.tsv or .csv)."),
) -> None:
    """Select instruments; every candidate is listed with keep/reason."""
    from mrkit.instruments import select_instruments

    tab = select_instruments(
        _load(gwas, store),
        p=p,
        clump=clump,
        panel=panel,
        r2=r2,
        kb=kb,
        min_f=min_f,
        exclude_mhc=exclude_mhc,
        build=build,
    )
    if out is not None:
        _write(tab, out)
    n_keep = int(tab["keep"].sum())
    console.print(f"{n_keep} instrument(s) of {len(tab)} candidate(s) at p <= {p:g}")
    for reason, n in tab.loc[~tab["keep"], "reason"].value_counts().items():
        console.print(f"  dropped {n}: {reason}")
