"""One streaming pass: DuckDB ``read_csv`` -> normalise/validate -> Arrow batches -> a sink.

DuckDB parses and normalises the file (:func:`mrkit.io.sumstats._normsql.select_sql`) and
hands Arrow record batches to Python, which per batch only

* counts the rows read,
* normalises alleles and chromosome names on their distinct values and checks
  the ``_err`` column and the value ranges of the output columns
  (:func:`check_batch`: min/max per column, alleles against A/C/G/T); on any
  bad value :func:`mrkit.io.sumstats._locate.locate` re-reads the file to name the first
  bad line and column (after a fast attempt: :class:`FastPathError`, and the
  file is read again with the complete statement first),
* drops the rows lacking an essential value (allele, beta, SE, p, name),
* tracks whether the rows are sorted by chromosome and position
  (:class:`OrderCheck`), and
* passes the batch on (to a Parquet writer thread in the store, to a list in
  :func:`mrkit.io.sumstats.read.read_sumstats`).

So the file is decompressed and parsed once, and writing overlaps parsing on a
second core.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mrkit._core.columns import CHR_RANK, normalise_chr
from mrkit.errors import FileFormatError
from mrkit.io.sumstats._inflate import InflateError
from mrkit.io.sumstats._locate import locate
from mrkit.io.sumstats._normsql import sql_str
from mrkit.io.sumstats._sniff import NULLS, Layout

BATCH_ROWS = 1 << 17
ROW_GROUP_ROWS = 1 << 19
_POS_MAX = np.iinfo(np.int64).max


def chr_rank(name: str | None) -> tuple[int, int, str]:
    """Sort key of a chromosome: 1-22, X, Y, XY, MT, then other names, missing last."""
    if name is None:
        return (1000, 1, "")
    if name.isdigit():
        return (int(name), 0, name)
    return (CHR_RANK.get(name, 1000), 0, name)


@dataclass
class OrderCheck:
    """Whether batches arrive sorted by (chromosome rank, chromosome, position)."""

    sorted: bool = True
    chroms: set[str | None] = field(default_factory=set)
    _last: tuple[int, int, str] | None = None
    _last_pos: int = -1

    def update(self, chr_col: pa.Array, pos_col: pa.Array) -> None:
        if len(chr_col) == 0:
            return
        if _constant(chr_col):  # the usual batch of a sorted file: one chromosome
            values = [chr_col[0].as_py(), None]
            self.chroms.add(values[0])
            idx = None
        else:
            enc = pc.dictionary_encode(chr_col)
            if isinstance(enc, pa.ChunkedArray):
                enc = enc.combine_chunks()
            values = [*enc.dictionary.to_pylist(), None]
            self.chroms.update(values[:-1])
            if enc.null_count:
                self.chroms.add(None)
            idx = pc.fill_null(enc.indices, len(values) - 1).to_numpy(zero_copy_only=False)
        if not self.sorted:
            return
        pos = pc.fill_null(pos_col, _POS_MAX).to_numpy(zero_copy_only=False)
        if idx is None:
            idx = np.zeros(len(pos), np.int8)
            cut = np.empty(0, np.intp)
        else:
            cut = np.flatnonzero(idx[1:] != idx[:-1]) + 1
        if len(cut) > 256:  # interleaved chromosomes: not sorted, stop looking
            self.sorted = False
            return
        down = pos[1:] < pos[:-1]
        down[cut - 1] = False
        if down.any():
            self.sorted = False
            return
        for start in (0, *cut.tolist()):
            key = chr_rank(values[idx[start]])
            if self._last is not None:
                if key == self._last:
                    if start != 0 or pos[0] < self._last_pos:
                        self.sorted = False  # a chromosome seen again after another one
                        return
                elif key < self._last:
                    self.sorted = False
                    return
            self._last = key
        self._last_pos = int(pos[-1])


_BASES = pa.array(["A", "C", "G", "T"])
_ALLELE_RE = "^(?:[ACGT]+|[DI])$"
_NULLS = frozenset(NULLS)


def norm_chr(name: str | None) -> str | None:
    """``chr``-prefix dropped, upper case, PLINK codes 23-26 (and M) as X, Y, XY, MT.

    A missing-value marker (``NA``, ``.``, ...) gives None.
    """
    if name is None or name in _NULLS:
        return None
    return normalise_chr(name)


def _constant(col: pa.Array) -> bool:
    """Whether ``col`` (no nulls) holds one value throughout."""
    return col.null_count == 0 and pc.all(pc.equal(col, col[0])).as_py()


def _single_bases(col: pa.Array) -> bool:
    """Whether every value of a string column is one of A, C, G, T (no nulls).

    Read straight from the Arrow buffers: all values one byte long means the
    data buffer is the values themselves.
    """
    if col.null_count or not pa.types.is_string(col.type) or len(col) == 0:
        return False
    _, offsets, data = col.buffers()
    off = np.frombuffer(offsets, np.int32, len(col) + 1, col.offset * 4)
    if off[-1] - off[0] != len(col):
        return False
    return bool(_IS_BASE[np.frombuffer(data, np.uint8, len(col), off[0])].all())


_IS_BASE = np.zeros(256, bool)
_IS_BASE[list(b"ACGT")] = True


def _normalise(col: pa.Array, fn: Callable[[pa.Array], pa.Array]) -> tuple[pa.Array, pa.Array]:
    """``col`` with ``fn`` applied to its distinct values, and those normalised values."""
    if _constant(col):
        new = fn(col.slice(0, 1))
        if new.equals(col.slice(0, 1)):
            return col, new
        return pc.take(new, pa.array(np.zeros(len(col), np.int8))), new
    enc = pc.dictionary_encode(col)
    new = fn(enc.dictionary)
    if not new.equals(enc.dictionary):
        col = pc.take(new, enc.indices)
    return col, new


def _norm_chr_values(values: pa.Array) -> pa.Array:
    return pa.array([norm_chr(v) for v in values.to_pylist()], pa.string())


def _min_max(col: pa.Array) -> tuple[float, float]:
    """Min and max (NaN when the column holds a NaN), through numpy when there are no nulls."""
    if col.null_count == 0:
        a = col.to_numpy(zero_copy_only=False)
        return a.min(), a.max()
    mm = pc.min_max(col)
    lo, hi = mm["min"].as_py(), mm["max"].as_py()
    if pa.types.is_floating(col.type) and math.isnan(pc.sum(col).as_py()):
        return math.nan, math.nan
    return lo, hi


def _norm_allele_values(values: pa.Array) -> pa.Array:
    return pc.utf8_upper(pc.utf8_trim_whitespace(values))


#: Allowed range of each numeric output column (NaN is never allowed).
_RANGES: dict[str, Callable[[float, float], bool]] = {
    "pos": lambda lo, hi: lo >= 0,
    "se": lambda lo, hi: lo > 0 and hi < math.inf,
    "beta": lambda lo, hi: -math.inf < lo and hi < math.inf,
    "eaf": lambda lo, hi: lo >= 0 and hi <= 1,
    "p": lambda lo, hi: lo >= 0 and hi <= 1,
    "log10p": lambda lo, hi: lo >= 0,
    "n": lambda lo, hi: lo >= 1,
}
_ESSENTIAL = ("snp", "effect_allele", "other_allele", "beta", "se", "log10p")


def check_batch(batch: pa.RecordBatch) -> tuple[str | None, pa.RecordBatch]:
    """The first failing check of ``batch`` (a column name) and its rows worth keeping.

    Alleles (upper case, trimmed) and chromosome names (:func:`norm_chr`) are
    normalised here, on the dictionary of each column's distinct values.
    """
    err = batch.column("_err")
    if err.null_count < batch.num_rows:
        return pc.drop_null(err)[0].as_py(), batch
    for name, ok in _RANGES.items():
        col = batch.column(name)
        if col.null_count == len(col):
            continue
        if not ok(*_min_max(col)):  # every comparison with NaN is false
            return name, batch
    cols = {}
    for name in ("effect_allele", "other_allele"):
        if _single_bases(batch.column(name)):  # the usual case: nothing to change
            continue
        col, values = _normalise(batch.column(name), _norm_allele_values)
        base = pc.is_in(values, value_set=_BASES)
        if not pc.all(base).as_py():
            other = pc.filter(values, pc.invert(base))
            if not pc.all(pc.match_substring_regex(other, _ALLELE_RE)).as_py():
                return name, batch
        cols[name] = col
    cols["chr"] = _normalise(batch.column("chr"), _norm_chr_values)[0]
    for name, col in cols.items():
        if col is not batch.column(name):
            batch = batch.set_column(batch.schema.get_field_index(name), name, col)
    out = batch.drop_columns(["_err"])
    if any(out.column(c).null_count for c in _ESSENTIAL):
        keep = pc.is_valid(out.column(_ESSENTIAL[0]))
        for c in _ESSENTIAL[1:]:
            keep = pc.and_(keep, pc.is_valid(out.column(c)))
        out = out.filter(keep)
    return None, out


class FastPathError(Exception):
    """A check failed in a fast attempt: read the file again with the complete statement."""


@dataclass
class ScanResult:
    rows_read: int = 0
    rows: int = 0
    order: OrderCheck | None = None
    schema: pa.Schema | None = None


_ALLELE_ERRORS = {
    "alleles-missing": "is not in the allele file given with --alleles",
    "alleles-duplicate": "is listed more than once in the allele file given with --alleles",
    "alleles-mismatch": "has an A1 that is neither allele of the allele file (--alleles)",
}


def scan(
    con: duckdb.DuckDBPyConnection,
    lay: Layout,
    sqls: Iterable[str],
    sink: Callable[[pa.RecordBatch], None],
    *,
    check_order: bool = False,
    batch_rows: int = BATCH_ROWS,
    retry: bool = False,
    on_rows: Callable[[int], None] | None = None,
) -> ScanResult:
    """Run ``sqls`` (from :func:`._normsql.select_sql`) in turn, validating each batch.

    One statement reads the file; several read its consecutive chunks
    (:mod:`mrkit.io.sumstats._inflate`), as one stream. Batches of valid rows, without the
    helper columns, go to ``sink``. Raises :class:`~mrkit.errors.FileFormatError`
    (via :func:`locate`) on any bad value, or :class:`FastPathError` instead
    when ``retry`` (a fast attempt). ``on_rows(n)`` is told the rows read so
    far after each batch (a progress display).
    """
    res = ScanResult(order=OrderCheck() if check_order else None)
    try:
        # let DuckDB run ahead of the consumer by a few batches (default: 10 MB)
        con.execute("SET streaming_buffer_size = '128MB'")
        for sql in sqls:
            _scan_one(con, lay, sql, sink, res, batch_rows, retry, on_rows)
    except (duckdb.Error, pa.ArrowException, _ReadError, InflateError) as exc:
        if retry:
            raise FastPathError(str(exc)) from None
        raise locate(lay, str(exc)) from None
    return res


def _scan_one(
    con: duckdb.DuckDBPyConnection,
    lay: Layout,
    sql: str,
    sink: Callable[[pa.RecordBatch], None],
    res: ScanResult,
    batch_rows: int,
    retry: bool,
    on_rows: Callable[[int], None] | None,
) -> None:
    reader = con.sql(sql).to_arrow_reader(batch_rows)
    if res.schema is None:
        names = [n for n in reader.schema.names if n != "_err"]
        res.schema = pa.schema([reader.schema.field(n) for n in names])
    for batch in _batches(reader):
        nrow = batch.num_rows
        if nrow == 0:
            continue
        res.rows_read += nrow
        if on_rows is not None:
            on_rows(res.rows_read)
        code, out = check_batch(batch)
        if code is not None:
            if retry:
                raise FastPathError(code)
            if code in _ALLELE_ERRORS:
                err = batch.column("_err")
                row = batch.filter(pc.equal(err, code)).slice(0, 1).to_pylist()[0]
                raise FileFormatError(
                    lay.path,
                    f"variant {row['snp']} (chr {row['chr']}, {row['pos']}) "
                    f"{_ALLELE_ERRORS[code]}; was it written by the same PLINK run?",
                )
            raise locate(lay, f"invalid value ({code})")
        if out.num_rows == 0:
            continue
        res.rows += out.num_rows
        if res.order is not None:
            res.order.update(out.column("chr"), out.column("pos"))
        sink(out)


class _ReadError(Exception):
    """An error of DuckDB's stream (pyarrow raises it as a bare OSError)."""


def _batches(reader: pa.RecordBatchReader) -> Iterable[pa.RecordBatch]:
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except OSError as exc:
            raise _ReadError(str(exc)) from None
        yield batch


class ParquetSink:
    """Write batches to a Parquet file in a background thread (``with`` block).

    Rows with ``log10p >= top`` are also kept in memory (:attr:`top`) for the
    store's small "top hits" file. Closing re-raises any error of the thread.
    """

    def __init__(self, path: Path, *, top: float | None = None, compression: str = "snappy"):
        self.path = path
        self.top_threshold = top
        self.top: list[pa.RecordBatch] = []
        self.compression = compression
        self._q: queue.Queue[pa.RecordBatch | None] = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._writer: pq.ParquetWriter | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.schema: pa.Schema | None = None

    def __enter__(self) -> ParquetSink:
        self._thread.start()
        return self

    def __call__(self, batch: pa.RecordBatch) -> None:
        if self._error is not None:
            raise self._error
        if self.top_threshold is not None:
            hits = pc.greater_equal(batch.column("log10p"), self.top_threshold)
            if pc.any(hits).as_py():
                self.top.append(batch.filter(hits))
        self._q.put(batch)

    def _run(self) -> None:
        try:
            while (batch := self._q.get()) is not None:
                if self._writer is None:
                    self.schema = batch.schema
                    self._writer = open_writer(self.path, batch.schema, self.compression)
                self._writer.write_batch(batch, row_group_size=ROW_GROUP_ROWS)
        except BaseException as exc:  # handed to the caller
            self._error = exc
            while self._q.get() is not None:  # drain so the producer never blocks
                pass

    def __exit__(self, *exc: object) -> None:
        self._q.put(None)
        self._thread.join()
        if self._writer is not None:
            self._writer.close()
        if self._error is not None and exc[0] is None:
            raise self._error


#: Columns stored without compression: random doubles that snappy cannot shrink (it
#: only costs CPU), ``chr`` and ``pos`` (dictionary- and delta-encoded: already small).
_UNCOMPRESSED = frozenset({"beta", "se", "log10p", "chr", "pos"})


def open_writer(path: Path, schema: pa.Schema, compression: str = "snappy") -> pq.ParquetWriter:
    """Parquet writer of the normalised table.

    Dictionary encoding only for ``chr`` and ``n`` (few distinct values; trying it
    on every column costs more CPU than it saves bytes once snappy has run);
    ``pos``, sorted, as deltas (a few bits per row); ``compression`` for the
    other columns except :data:`_UNCOMPRESSED`. Min/max statistics for the
    columns queries filter on (``log10p`` for instruments, ``chr``/``pos``).
    """
    names = set(schema.names)
    return pq.ParquetWriter(
        path,
        schema,
        compression={c: "none" if c in _UNCOMPRESSED else compression for c in schema.names},
        use_dictionary=[c for c in ("chr", "n") if c in names],
        column_encoding={"pos": "DELTA_BINARY_PACKED"} if "pos" in names else None,
        write_statistics=["chr", "pos", "p", "log10p"],
    )


def write_table(path: Path, batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> int:
    """Write ``batches`` (possibly none) to ``path``; returns the row count."""
    n = 0
    with open_writer(path, schema) as w:
        for b in batches:
            w.write_batch(b, row_group_size=ROW_GROUP_ROWS)
            n += b.num_rows
    return n


def sort_parquet(
    con: duckdb.DuckDBPyConnection, src: Path, dst: Path, chroms: Iterable[str | None]
) -> None:
    """Rewrite ``src`` sorted by chromosome rank, chromosome and position into ``dst``."""
    ranks = pa.table(
        {
            "chr": pa.array(list(chroms), pa.string()),
            "_rank": pa.array([chr_rank(c)[0] for c in chroms], pa.int32()),
        }
    )
    con.register("_chr_rank", ranks)
    try:
        reader = con.sql(
            f"SELECT g.* FROM read_parquet({sql_str(str(src))}) g LEFT JOIN _chr_rank r "
            "ON g.chr = r.chr ORDER BY r._rank NULLS LAST, g.chr NULLS LAST, g.pos NULLS LAST"
        ).to_arrow_reader(BATCH_ROWS)
        schema = pq.read_schema(src)
        write_table(dst, (b.cast(schema) if b.schema != schema else b for b in reader), schema)
    finally:
        con.unregister("_chr_rank")
