"""``mrkit clump``, ``mrkit ld`` and ``mrkit instruments``: LD from a local PLINK panel."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mrkit.cli import app
from mrkit.errors import InputError

if TYPE_CHECKING:
    import pandas as pd


def _load(source: str, store: str | None) -> pd.DataFrame:
    """A normalised GWAS (file or store id) via :func:`mrkit.store.catalog.load_gwas`."""
    from mrkit.store.catalog import load_gwas

    return load_gwas(source, store=store)[0]


def _write(df: pd.DataFrame, out: str | Path) -> None:
    out = Path(out)
    sep = "," if out.suffix.lower() == ".csv" else "\t"
    df.to_csv(out, sep=sep, index=False)


#: Columns ``mrkit clump`` uses: SNP and P, and position and alleles to match by when given.
_CLUMP_COLUMNS = ("snp", "p", "chr", "pos", "effect_allele", "other_allele")


def _read_arrow(source: Any, skip: int, sep: str, width: int, where: dict[str, int]) -> Any:
    """The columns ``where`` names (field positions), parsed by Arrow's CSV reader."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from mrkit.io.plink import arrow_numbers

    names = [f"c{j}" for j in range(width)]
    text = {"snp", "chr", "effect_allele", "other_allele"}
    table = pcsv.read_csv(
        source,
        read_options=pcsv.ReadOptions(column_names=names, skip_rows=skip),
        parse_options=pcsv.ParseOptions(delimiter=sep),
        convert_options=pcsv.ConvertOptions(
            include_columns=[names[j] for j in where.values()],
            column_types={
                names[j]: pa.string() if k in text else pa.float64() for k, j in where.items()
            },
            strings_can_be_null=False,
        ),
    )
    cols: dict[str, Any] = {}
    for k, j in where.items():
        col = table.column(names[j]).combine_chunks()
        if k in ("p", "pos"):
            cols[k] = arrow_numbers(col, fill=float("nan"))
        elif k in ("effect_allele", "other_allele"):
            cols[k] = col.to_pylist()
        else:
            cols[k] = col
    return cols


def _read_plain(path: Path) -> dict[str, Any] | None:
    """The clumping columns of a plain delimited table, or None to use the full reader.

    Like ``plink --clump``, any table whose header names a SNP and a P column
    (:data:`mrkit._core.columns.VARIANT_ALIASES`, any case) is read as it is:
    tab-, comma- or whitespace-separated (aligned columns too), plain or gzip; a
    p-value that is not a number (``NA``) is missing. None when the header does not
    name them or a row has another number of fields: the summary-statistics reader
    then reads the file (or says what is wrong).
    """
    import gzip
    import re

    import pyarrow as pa

    from mrkit._core.columns import VARIANT_ALIASES

    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    with (gzip.open if gz else open)(path, "rt", encoding="utf-8", errors="replace") as fh:
        header = fh.readline()
        sep = "\t" if "\t" in header else "," if "," in header else None
        names = [n.strip().lower() for n in header.split(sep)]
        where: dict[str, int] = {}
        for canon, aliases in VARIANT_ALIASES.items():
            hit = next((names.index(a) for a in aliases if a in names), None)
            if canon in _CLUMP_COLUMNS and hit is not None:
                where[canon] = hit
        if not {"snp", "p"} <= set(where):
            return None
        width = len(names)
        if sep is not None or header.rstrip("\r\n").split(" ") == header.split():
            try:  # one tab, comma or space between fields: Arrow reads the file itself
                stream = pa.input_stream(str(path), compression="gzip" if gz else None)
                return _usable(_read_arrow(stream, 1, sep or " ", width, where))
            except (pa.ArrowInvalid, ValueError):
                if sep is not None:
                    return None
        # aligned columns (runs of blanks): one space between fields, then Arrow
        body = re.sub(r"(?m)^ | $", "", re.sub(r"[ \t]+", " ", fh.read()))
    try:
        return _usable(_read_arrow(pa.BufferReader(body.encode()), 0, " ", width, where))
    except (pa.ArrowInvalid, ValueError):
        return None


def _usable(out: dict[str, Any]) -> dict[str, Any]:
    """The columns clumping can use: position only with chromosome, alleles in pairs."""
    if not {"chr", "pos"} <= set(out):
        out.pop("chr", None)
        out.pop("pos", None)
    if not {"effect_allele", "other_allele"} <= set(out):
        out.pop("effect_allele", None)
        out.pop("other_allele", None)
    return out


def _clump_input(source: str, store: str | None) -> dict[str, Any]:
    """Columns of the variants to clump: a plain table as it is, else the full reader."""
    path = Path(source)
    if path.is_file() and (cols := _read_plain(path)) is not None:
        return cols
    df = _load(source, store)
    out: dict[str, Any] = {"snp": df["snp"].astype(str).tolist(), "p": df["p"].to_numpy(float)}
    if "log10p" in df.columns:  # ranks by the exact log10p where p underflowed to 0
        out["log10p"] = df["log10p"].to_numpy(float)
    if {"chr", "pos"} <= set(df.columns):
        out["chr"] = df["chr"].astype(str).tolist()
        out["pos"] = df["pos"].to_numpy(float)
    if {"effect_allele", "other_allele"} <= set(df.columns):
        out["effect_allele"] = df["effect_allele"].astype(str).tolist()
        out["other_allele"] = df["other_allele"].astype(str).tolist()
    return out


def _write_columns(cols: dict[str, Any], out: str | Path) -> None:
    """Columns as a table: CSV for ``.csv``, else tab-separated; NaN and None empty."""
    import csv
    import math

    out = Path(out)
    sep = "," if out.suffix.lower() == ".csv" else "\t"

    def text(v: Any) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
            return str(int(v))
        return str(v)

    lists = {k: v.tolist() if hasattr(v, "tolist") else list(v) for k, v in cols.items()}
    lists["p"] = [repr(float(x)) for x in lists["p"]]
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh, delimiter=sep, lineterminator="\n")
        w.writerow(lists)
        w.writerows([text(v) for v in row] for row in zip(*lists.values(), strict=True))


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
    """LD-clump a GWAS like `plink1.9 --clump`: index SNPs with the SNPs they clumped.

    A table whose header names a SNP and a P column (a PLINK .assoc, or any GWAS;
    tab-, comma- or whitespace-separated, gzip ok) is read as it is, like plink;
    other files (GWAS-VCF, files without P) go through the summary-statistics
    reader, and anything else is looked up as an id in the store.
    """
    # numpy's OpenBLAS starts a thread per core when imported (~0.1 s here); clumping
    # does not use them (and plink is timed with --threads 1)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from mrkit.ld.greedy import clump_rows, clump_variants
    from mrkit.ld.panel import ReferencePanel

    cols = _clump_input(sumstats, store)
    ref = ReferencePanel(panel)
    snp, p = cols.pop("snp"), cols.pop("p")
    rank = p
    if "log10p" in cols:  # the reader's path (pandas already imported): exact order at p = 0
        from mrkit.ld.clump import rank_p

        rank = rank_p(p, cols.pop("log10p"))
    res = clump_variants(
        ref, snp, rank, **cols, p1=p1, p2=p2, r2=r2, kb=kb,
        missing="drop" if drop_missing else "keep", all_rows=False,
    )  # fmt: skip
    _write_columns(clump_rows(ref, snp, res, cols.get("chr"), cols.get("pos"), p), out)
    n = len(res.order)
    absent = int((res.rows[res.order] < 0).sum())
    typer.echo(f"{n} clumps written to {out}")  # plain lines: no rich to import
    if absent:
        typer.echo(f"{absent} index variant(s) not in the LD panel, kept unclumped")
    n_drop = int((res.reason == "not in LD panel").sum())
    if drop_missing and n_drop:
        typer.echo(f"{n_drop} variant(s) dropped: not in LD panel")


@app.command("ld")
def ld_cmd(
    snps: str = typer.Argument(..., help="File of SNP ids (one a line, or a table with `snp`)."),
    panel: str = typer.Option(..., "--panel", help="PLINK panel prefix."),
    out: str = typer.Option(..., "--out", help="Output matrix (.tsv or .csv)."),
) -> None:
    """Signed LD (r) matrix of the SNPs, coded by effect_allele when the file gives it."""
    import pandas as pd

    from mrkit._core.columns import canonical_columns
    from mrkit.cli import console
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
    from mrkit.cli import console
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
