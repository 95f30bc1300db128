"""One file into the store's temporary Parquet files: read, check, sort; bad rows skipped.

:func:`load` is the reading half of :meth:`mrkit.store.catalog.Store.import_gwas`:
one streaming pass (:func:`mrkit.io.sumstats.read.scan_file`) into a Parquet file
and its top-hits file, a check that no variant name is on two different rows, and a
sort when the file was not sorted by chromosome and position.

With ``bad_rows="skip"`` a file whose rows fail a check is not refused: every bad
line is found (:func:`mrkit.io.sumstats._locate.bad_lines`; and every row of a name on
two different rows), a copy of the file without those lines is read instead, and
the lines with their column and reason are returned for the rejected-rows file.
Problems of the whole file (header, encoding, compression) are still refused.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb

from mrkit._core.columns import normalise_build
from mrkit.errors import FileFormatError, InputError
from mrkit.io.sumstats._dups import conflicting_snps, duplicate_error
from mrkit.io.sumstats._locate import bad_lines, snp_lines
from mrkit.io.sumstats._normsql import TOP_LOG10P, sql_str
from mrkit.io.sumstats._parquet import ParquetSink, sort_parquet, write_table
from mrkit.io.sumstats._sniff import Layout
from mrkit.io.sumstats.read import prepare, sample_size, scan_file
from mrkit.store._files import crash_point

BadRows = Literal["error", "skip"]
BAD_ROWS = ("error", "skip")


@dataclass
class Loaded:
    """What :func:`load` read: the layout, metadata, row counts and the rejected lines."""

    lay: Layout
    meta: dict[str, Any]
    rows: int
    rows_read: int
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # line, column, why


def load(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    tmp: Path,
    *,
    format: str,
    n: float | None,
    alleles: str | Path | None,
    bad_rows: BadRows = "error",
    spill: Path,
    progress: Callable[[str], None] | None = None,
) -> Loaded:
    """Read ``src`` into ``tmp`` (and its ``.top``/``.sort`` siblings); see the module doc."""
    if bad_rows not in BAD_ROWS:
        raise InputError(f"bad_rows must be one of {', '.join(BAD_ROWS)}, got {bad_rows!r}")
    lay, stmts, meta = prepare(src, format=format, n=n, alleles=alleles)
    orig = lay  # line numbers are those of the original file
    rejected: dict[int, tuple[int, str, str]] = {}
    path = src
    for _attempt in range(3):
        try:
            got = _read(con, lay, stmts, tmp, spill, progress)
        except FileFormatError as exc:
            if bad_rows != "skip" or exc.line is None or exc.line <= lay.header_line:
                raise
            if rejected:  # (the copy still fails: a check the locator does not know)
                raise FileFormatError(
                    src, f"after skipping {len(rejected)} bad rows: {exc.reason}"
                ) from None
            for err in bad_lines(lay):
                rejected[err.line or 0] = (err.line or 0, err.column or "", err.reason)
            if not rejected:
                raise
        else:
            snps = conflicting_snps(con, f"read_parquet({sql_str(str(tmp))})", got[2])
            if not snps:
                break
            if bad_rows != "skip":
                raise duplicate_error(lay, snps)
            for snp, lines in snp_lines(orig, set(snps)).items():
                for ln in lines:
                    why = (
                        f"variant {snp!r} is on lines {', '.join(map(str, lines))} "
                        "with different values"
                    )
                    rejected.setdefault(ln, (ln, orig.column_name("snp") or "", why))
        path = _without_lines(orig, set(rejected), spill)
        try:
            lay, stmts, _ = prepare(path, format=lay.fmt, n=n, alleles=alleles)
        except FileFormatError as exc:  # (e.g. no data row left)
            first = min(rejected.values())
            raise FileFormatError(
                src,
                f"after skipping {len(rejected)} bad rows (the first on line {first[0]}: "
                f"{first[2]}): {exc.reason}",
            ) from None
    else:  # pragma: no cover - each attempt rejects more lines or succeeds
        raise FileFormatError(src, "rows kept failing their checks after skipping bad rows")
    sink, res_rows, _, res = got
    crash_point("after_read")
    if res_rows == 0:
        raise FileFormatError(src, "no usable rows: every row lacks an essential value")
    write_table(tmp.with_name(tmp.name[: -len(".parquet")] + ".top.parquet"), sink.top, res.schema)
    if res.order is not None and not res.order.sorted:
        if progress:
            progress("sorting")
        tmp_sort = tmp.with_name(tmp.name[: -len(".parquet")] + ".sort.parquet")
        for f in (tmp, tmp.with_name(tmp.name[: -len(".parquet")] + ".top.parquet")):
            sort_parquet(con, f, tmp_sort, res.order.chroms)
            os.replace(tmp_sort, f)
    if path != src:
        path.unlink(missing_ok=True)
    return Loaded(lay, meta, res_rows, res.rows_read, sorted(rejected.values()))


def _read(
    con: duckdb.DuckDBPyConnection,
    lay: Layout,
    stmts: Any,
    tmp: Path,
    spill: Path,
    progress: Callable[[str], None] | None,
) -> tuple[ParquetSink, int, list[int], Any]:
    res, sink = scan_file(
        con,
        lay,
        stmts,
        lambda: ParquetSink(tmp, top=TOP_LOG10P),
        check_order=True,
        progress=progress,
        tmp_dir=spill,
    )
    return sink, res.rows, res.repeated_hashes(), res


def _without_lines(lay: Layout, skip: set[int], spill: Path) -> Path:
    """A plain copy of the original file without the lines ``skip`` (1-based), in ``spill``."""
    spill.mkdir(parents=True, exist_ok=True)
    out = spill / f"kept-{os.getpid()}.txt"
    raw = gzip.open(lay.path, "rb") if lay.compression == "gzip" else open(lay.path, "rb")  # noqa: SIM115
    with io.TextIOWrapper(raw, encoding="latin-1", newline="") as fh, open(out, "wb") as dst:
        for i, text in enumerate(fh, 1):
            if i not in skip:
                dst.write(text.encode("latin-1"))
    return out


def write_rejected(path: Path, rejected: list[tuple[int, str, str]], source: Path) -> None:
    """The rejected-rows file: ``line, column, reason`` of each skipped line of ``source``."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"# rows of {source} skipped on import (--bad-rows skip)\n")
        fh.write("line\tcolumn\treason\n")
        for line, column, why in rejected:
            fh.write(f"{line}\t{column}\t{why.replace(chr(9), ' ')}\n")


def import_params(
    *,
    trait: str,
    units: str | None = None,
    n: float | None = None,
    ncase: float | None = None,
    ncontrol: float | None = None,
    build: str | None = None,
    population: str | None = None,
    format: str = "auto",
    alleles: str | Path | None = None,
    bad_rows: str = "error",
) -> str:
    """The import parameters as canonical JSON (the catalog's ``params``)."""
    if (ncase is None) != (ncontrol is None):
        ncase = ncontrol = None
    n = sample_size(n, ncase, ncontrol)
    return json.dumps(
        {
            "trait": str(trait).strip(),
            "units": units,
            "n": None if n is None else float(n),
            "ncase": None if ncase is None else float(ncase),
            "ncontrol": None if ncontrol is None else float(ncontrol),
            "build": normalise_build(build),
            "population": population,
            "format": format,
            "alleles": None if alleles is None else str(Path(alleles).resolve()),
            "bad_rows": bad_rows,
        },
        sort_keys=True,
    )


def file_metadata(
    first: Mapping[str, str],
    units: str | None,
    n: float | None,
    ncase: float | None,
    ncontrol: float | None,
) -> tuple[str | None, float | None, float | None, float | None]:
    """Units, n, ncase, ncontrol: as given, else from a TwoSampleMR-shaped file's columns.

    ``first``: ``units``/``ncase``/``ncontrol``/``samplesize`` of the first data row
    (``units`` is checked to be the same on every row by the reader).
    """

    def num(key: str) -> float | None:
        try:
            v = float(first[key])
        except (KeyError, ValueError):
            return None
        return v if 0 < v < 1e10 else None

    if units is None:
        units = first.get("units")
    if ncase is None and ncontrol is None and num("ncase") and num("ncontrol"):
        ncase, ncontrol = num("ncase"), num("ncontrol")
    if n is None:
        n = num("samplesize") or (ncase + ncontrol if ncase and ncontrol else None)
    return units, n, ncase, ncontrol
