"""Read GWAS summary statistics of any common layout into one normalised table.

The normalised table (DESIGN.md) has the columns :data:`COLUMNS`::

    snp, chr, pos, effect_allele, other_allele, eaf, beta, se, p, log10p, n

Rows are parsed and normalised by DuckDB's CSV reader in one streaming pass
(:mod:`._normsql` builds the SQL, :mod:`._ingest` checks each Arrow
batch); Python reads the header itself (:mod:`mrkit.io.sumstats._sniff`) and, only when
something is wrong, re-reads the file to name the bad line and column
(:mod:`mrkit.io.sumstats._locate`).

Conventions
-----------
* Alleles are upper case; valid alleles are A/C/G/T strings or ``D``/``I``.
* ``chr`` is text without a ``chr`` prefix; PLINK codes 23/24/25/26 become
  X/Y/XY/MT.
* ``log10p`` is :math:`-\\log_{10} p` and stays exact when ``p`` underflows a
  double: it is taken from a -log10 p column (REGENIE ``LOG10P``, GWAS-VCF
  ``LP``, FinnGen ``mlogp``, GWAS-SSF ``neg_log_10_p_value``), else from the
  p-value's text (``1.2e-400`` gives 399.92), else from :math:`z = \\beta/SE`.
  ``p`` itself is then 0.0.
* Odds ratios become :math:`\\beta = \\ln OR`; the SE comes from an SE
  column (of log OR), else from the 95% CI,
  :math:`(\\ln U - \\ln L) / (2 \\times 1.959964)`, else from the p-value,
  :math:`|\\beta| / z_{p/2}`. A beta without SE gets the same p-based SE.
* LDSC ``.sumstats`` carry only Z and N. With an allele frequency ``f`` the
  per-allele scale is used, :math:`SE = 1/\\sqrt{2f(1-f)(N + Z^2)}`,
  :math:`\\beta = Z \\cdot SE`; without one the standardised scale
  :math:`\\beta = Z/\\sqrt N`, :math:`SE = 1/\\sqrt N` (beta in SD units per
  SD of genotype). The same holds for METAL files with Zscore only.
* A missing rsID becomes ``chr:pos:A1:A2`` with the two alleles in
  alphabetical order, so that the same variant gets the same name in every
  GWAS whatever its effect allele.
* ``n`` is an integer count (nullable ``Int64``): fractional sample sizes
  (effective N, GWAS-VCF ``SS``) are rounded to the nearest integer.
* PLINK 1.9 files lacking A2 (``.assoc.linear/.logistic``) or both alleles
  (``.qassoc``) need ``alleles=`` (the ``.frq`` or ``.bim`` of the same run,
  :mod:`mrkit.io.sumstats._plink_alleles`); without it they are refused.
* Rows with a missing essential value (allele, beta, SE, p) are dropped and
  counted (``attrs["mrkit"]["dropped"]``); values that are *wrong* (text in
  a numeric column, se <= 0, p outside [0, 1], OR <= 0, non-ACGT alleles,
  ragged rows, ...) raise :class:`~mrkit.errors.FileFormatError` naming the
  file, line and column.
* PLINK files with a ``TEST`` column keep only the ``ADD`` rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from mrkit._core.columns import BUILDS, SUMSTATS_ALIASES, SUMSTATS_COLUMNS
from mrkit.errors import FileFormatError, InputError
from mrkit.io.sumstats._dups import conflicting_snps, duplicate_error
from mrkit.io.sumstats._inflate import Chunks, worth_chunking
from mrkit.io.sumstats._ingest import FastPathError, MixedLineEndsError, ScanResult, scan
from mrkit.io.sumstats._normsql import connection, has_fast_path, select_sql
from mrkit.io.sumstats._plink_alleles import allele_source
from mrkit.io.sumstats._rules import N_MAX
from mrkit.io.sumstats._sniff import Layout, sniff
from mrkit.io.sumstats.formats import FORMATS

if TYPE_CHECKING:
    import pandas as pd


__all__ = ["COLUMNS", "FORMATS", "connection", "detect_format", "read_sumstats"]

#: The normalised table's columns (:data:`mrkit._core.columns.SUMSTATS_COLUMNS`).
COLUMNS = SUMSTATS_COLUMNS


def detect_format(path: str | Path) -> str:
    """Name of the format of ``path`` as detected from its header (see :data:`FORMATS`)."""
    return sniff(path).fmt


@dataclass(frozen=True)
class Statement:
    """One way of reading a file: the ``SELECT`` of :func:`~mrkit.io.sumstats._normsql.select_sql`.

    ``fast``: the fast first attempt, retried with the complete statement on
    any error (see :func:`~mrkit.io.sumstats._normsql.select_sql`).
    """

    lay: Layout
    n: float | None
    alleles: str | None
    fast: bool

    def sql(self, chunk: Path | None = None, *, skip: int = 0) -> str:
        """The SQL on the file, or on a plain ``chunk`` whose first ``skip`` lines are header."""
        lay = self.lay
        if chunk is not None:
            lay = replace(lay, path=chunk, compression="none", header_line=skip)
        return select_sql(lay, self.n, self.alleles, fast=self.fast)

    def chunk_sqls(self, chunks: Iterable[Path]) -> Iterator[str]:
        """The SQL on each chunk holding data rows (the header may span several chunks)."""
        skip = self.lay.header_line
        for chunk in chunks:
            if skip:
                data = chunk.read_bytes()
                nline = data.count(b"\n") + (not data.endswith(b"\n"))
                if nline <= skip:  # header only
                    skip -= nline
                    continue
            yield self.sql(chunk, skip=skip)
            skip = 0


def sample_size(
    n: float | None, ncase: float | None = None, ncontrol: float | None = None
) -> float | None:
    """The sample size used where a file has none: ``n``, else ``ncase + ncontrol``.

    Raises :class:`~mrkit.errors.InputError` unless each one given is a positive number.
    """
    if n is None and ncase is not None and ncontrol is not None:
        n = float(ncase) + float(ncontrol)
    for label, v in (("n", n), ("ncase", ncase), ("ncontrol", ncontrol)):
        if v is not None and not (0 < v <= N_MAX):
            raise InputError(f"{label} must be a positive number up to {N_MAX:.0e}, got {v}")
    return n


def prepare(
    path: str | Path,
    *,
    format: str = "auto",
    n: float | None = None,
    alleles: str | Path | None = None,
) -> tuple[Layout, tuple[Statement, ...], dict[str, Any]]:
    """Sniff ``path`` and build the SQL of its normalised table (nothing is read yet).

    ``n``: the sample size where the file has none (checked by :func:`sample_size`).
    Returns the layout, the statements to try in turn (a fast one, when the
    layout has one, then the complete one) and the metadata known from the header.
    """
    lay = sniff(path, format)
    al_sql = None
    if alleles is not None:
        al_sql = allele_source(lay, alleles)
    _require(lay, n, al_sql is not None)
    stmts = [Statement(lay, n, al_sql, fast=False)]
    if has_fast_path(lay):
        stmts.insert(0, Statement(lay, n, al_sql, fast=True))
    meta = {
        "path": str(lay.path),
        "format": lay.fmt,
        "build": _vcf_build(lay.meta),
        "columns": {role: lay.column_name(role) for role in sorted(lay.roles)},
    }
    if alleles is not None:
        meta["alleles_from"] = str(Path(alleles).resolve())
    return lay, tuple(stmts), meta


def scan_file(
    con: duckdb.DuckDBPyConnection,
    lay: Layout,
    stmts: tuple[Statement, ...],
    make_sink: Callable[[], Any],
    *,
    check_order: bool = False,
    progress: Callable[[str], None] | None = None,
    tmp_dir: Path | None = None,
) -> tuple[ScanResult, Any]:
    """Stream the normalised rows into a sink (see :mod:`mrkit.io.sumstats._ingest`).

    ``make_sink()`` gives a context manager yielding a callable that takes the
    Arrow batches; a new one is made when the fast statement fails and the file
    is read again with the complete one. A large gzip file is read, in a first
    attempt, from plain chunks inflated ahead in ``tmp_dir`` (default: a new
    temporary directory; see :mod:`mrkit.io.sumstats._inflate`); when that attempt fails
    the file is read directly. Returns the scan result and the sink.
    """
    attempts = [(st, False) for st in stmts]  # (statement, read from inflated chunks)
    if worth_chunking(lay.path, lay.compression):
        if len(stmts) > 1:  # the fast attempt reads chunks
            attempts[0] = (stmts[0], True)
        else:  # GWAS-VCF, blank-separated: no quoting, so no field spans a chunk boundary
            attempts.insert(0, (stmts[0], True))
    for i, (st, chunked) in enumerate(attempts):
        retry = i < len(attempts) - 1
        on_rows = None
        if progress:
            step = "reading" if i == 0 else "reading again"
            progress(step)

            def on_rows(n: int, step: str = step) -> None:
                progress(f"{step}: {n:,} rows")

        kw: dict[str, Any] = {"check_order": check_order, "on_rows": on_rows}
        try:
            with make_sink() as sink:
                if chunked:
                    with Chunks(lay.path, tmp_dir) as chunks:
                        res = scan(con, st.lay, st.chunk_sqls(chunks), sink, retry=True, **kw)
                else:
                    res = scan(con, st.lay, [st.sql()], sink, retry=retry, **kw)
        except FastPathError:
            continue
        except MixedLineEndsError:  # every line fine, CRLF and LF mixed: DuckDB's lax mode
            lax = replace(stmts[-1], lay=replace(stmts[-1].lay, strict=False), fast=False)
            attempts.append((lax, False))
            continue
        if chunked and res.rows_read == 0:  # e.g. a file whose lines end in CR alone
            continue
        if res.rows_read == 0:
            raise FileFormatError(lay.path, "no data rows to read")
        return res, sink
    raise AssertionError("unreachable")  # pragma: no cover


def _require(lay: Layout, n: float | None, alleles: bool = False) -> None:
    """Raise when the header lacks a column the normalised table needs."""
    if lay.fmt == "gwas-vcf":
        missing = [k for k in ("ES", "SE") if k not in lay.vcf_keys]
        if missing:
            raise FileFormatError(
                lay.path,
                f"GWAS-VCF FORMAT lacks {'/'.join(missing)} (found {':'.join(lay.vcf_keys)})",
            )
        return
    roles = lay.roles
    found = ", ".join(lay.columns)
    hint = f"; columns found: {found}. Rename the column or name the format with --format"

    def need(what: str, ok: bool, *aliases: str) -> None:
        if not ok:
            raise FileFormatError(
                lay.path,
                f"no {what} column (looked for {', '.join(aliases)}){hint}",
                line=lay.header_line,
            )

    spec = FORMATS[lay.fmt]

    def al(role: str) -> tuple[str, ...]:
        names = spec.roles.get(role, ())
        aliases = SUMSTATS_ALIASES.get(role, ())
        return (names + aliases) if spec.use_aliases else names or aliases[:4]

    if lay.fmt == "plink" and "oa" not in roles and not alleles:
        what = "A2 (other allele)" if "ea" in roles else "allele columns (A1, A2)"
        raise FileFormatError(
            lay.path,
            f"PLINK 1.9 file without {what}; give the alleles of the same PLINK run with "
            "--alleles FILE (alleles=FILE): its .frq from --freq"
            + (
                ", or the .bim it read"
                if "ea" in roles
                else " (a .bim is not enough: PLINK "
                "1.9 makes the sample's minor allele A1 unless --keep-allele-order)"
            )
            + "; or rerun PLINK with --linear/--logistic or PLINK 2",
            line=lay.header_line,
        )
    if lay.fmt == "plink" and alleles:
        need("effect (beta or OR)", bool({"beta", "or"} & set(roles)), "BETA", "OR")
        need("variant (SNP, CHR and BP)", {"snp", "chr", "pos"} <= set(roles), "SNP", "CHR", "BP")
        return
    need("effect-allele", "ea" in roles, *al("ea")[:5])
    if lay.fmt == "plink2":
        need("other-allele (REF/ALT)", "omitted" in roles or {"ref", "alt"} <= set(roles), "REF")
    else:
        need("other-allele", "oa" in roles, *al("oa")[:5])
    need("effect (beta, OR or Z)", bool({"beta", "or", "z"} & set(roles)), *al("beta")[:4], "OR")
    has_var = "snp" in roles or {"chr", "pos"} <= set(roles)
    need("variant (rsID or chromosome and position)", has_var,
         *al("snp")[:4])  # fmt: skip
    if "beta" in roles or "or" in roles:
        ok = bool({"se", "p", "log10p"} & set(roles)) or {"or", "or_lo", "or_hi"} <= set(roles)
        need("standard error (or p-value to derive it)", ok, *al("se")[:4], "P")
    if "beta" not in roles and "or" not in roles and "n" not in roles and n is None:
        raise FileFormatError(
            lay.path,
            "Z-only file without a sample-size column: give n (--n N) to derive beta and SE",
        )


def _vcf_build(meta: list[str]) -> str | None:
    """The build a GWAS-VCF header names, in the store's spelling (:data:`BUILDS`).

    A patch suffix is dropped (``GRCh37.p13`` is GRCh37); a name the store does not
    know is kept as written.
    """
    for line in meta:
        m = re.search(r"assembly=([A-Za-z0-9.]+)", line) or re.match(
            r"##reference=.*?(GRCh3[78]|hg19|hg38)", line
        )
        if m:
            b = m.group(1)
            return BUILDS.get(b.split(".")[0].lower(), b)
    return None


def read_sumstats(
    path: str | Path,
    *,
    format: str = "auto",
    n: float | None = None,
    ncase: float | None = None,
    ncontrol: float | None = None,
    alleles: str | Path | None = None,
) -> pd.DataFrame:
    """Read one summary-statistics file into the normalised table.

    Parameters
    ----------
    path
        Plain, gzip or bgzip text file (tab, space, comma; CRLF and BOM are fine)
        or a GWAS-VCF.
    format
        ``"auto"`` (detect from the header) or one of :data:`FORMATS`.
    n, ncase, ncontrol
        Sample size used where the file has none (``n = ncase + ncontrol``).
    alleles
        PLINK 1.9 only: the ``.frq`` (``--freq``) or ``.bim`` of the same run,
        giving the other allele of ``.assoc.linear``/``.assoc.logistic`` files
        and both alleles (and the A1 frequency) of ``.qassoc`` files (``.frq``
        only); see ``docs/import.md``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS` in file order; ``df.attrs["mrkit"]`` holds the
        detected format, rows read and dropped, the column used for each role
        and the genome build when the file states it (GWAS-VCF).

    Raises
    ------
    FileFormatError
        Naming the file, line and column of the first problem.
    """
    n = sample_size(n, ncase, ncontrol)
    lay, sql, meta = prepare(path, format=format, n=n, alleles=alleles)
    with connection() as con:
        res, sink = scan_file(con, lay, sql, _ListSink)
        table = pa.Table.from_batches(sink.batches, schema=res.schema)
        con.register("_read", table)
        snps = conflicting_snps(con, "_read", res.repeated_hashes())
        con.unregister("_read")
    if snps:
        raise duplicate_error(lay, snps)
    df = table.to_pandas()
    meta["rows_read"] = res.rows_read
    meta["rows"] = len(df)
    meta["dropped"] = res.rows_read - len(df)
    fix_types(df)
    df.attrs["mrkit"] = meta
    return df


class _ListSink:
    """Collects the batches in memory (``with`` block, like the store's Parquet sink)."""

    def __init__(self) -> None:
        self.batches: list[pa.RecordBatch] = []

    def __enter__(self) -> _ListSink:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __call__(self, batch: pa.RecordBatch) -> None:
        self.batches.append(batch)


def fix_types(df: pd.DataFrame) -> pd.DataFrame:
    """Object text columns, nullable integer ``pos`` and ``n`` (in place; returned)."""
    for c in ("pos", "n"):
        if c in df:
            df[c] = df[c].astype("Int64")
    for c in ("snp", "chr", "effect_allele", "other_allele"):
        if c in df:
            df[c] = df[c].astype(object)
    return df
