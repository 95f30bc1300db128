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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mrkit._core.columns import CHR_RANK, normalise_chr
from mrkit.errors import FileFormatError
from mrkit.io.sumstats._inflate import InflateError
from mrkit.io.sumstats._locate import locate_error
from mrkit.io.sumstats._rules import N_MAX, POS_MAX, VALID_CHR
from mrkit.io.sumstats._sniff import NULLS, Layout

BATCH_ROWS = 1 << 17
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
    "pos": lambda lo, hi: lo >= 0 and hi <= POS_MAX,
    "se": lambda lo, hi: lo > 0 and hi < math.inf,
    "beta": lambda lo, hi: -math.inf < lo and hi < math.inf,
    "eaf": lambda lo, hi: lo >= 0 and hi <= 1,
    "p": lambda lo, hi: lo >= 0 and hi <= 1,
    "log10p": lambda lo, hi: lo >= 0 and hi < math.inf,
    "n": lambda lo, hi: lo >= 1 and hi <= N_MAX,
}
_VALID_CHR = pa.array(sorted(VALID_CHR))
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
    cols["chr"], chroms = _normalise(batch.column("chr"), _norm_chr_values)
    if pc.any(pc.invert(pc.is_in(chroms, value_set=_VALID_CHR))).as_py():  # (nulls skipped)
        return "chr", batch
    ea = cols.get("effect_allele", batch.column("effect_allele"))
    oa = cols.get("other_allele", batch.column("other_allele"))
    if pc.any(pc.equal(ea, oa)).as_py():
        return "oa", batch
    for name, col in cols.items():
        if col is not batch.column(name):
            batch = batch.set_column(batch.schema.get_field_index(name), name, col)
    out = batch.drop_columns([c for c in batch.schema.names if c in ("_err", "_const")])
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
    #: the one value of the trait/units columns of the file (``_const``), once seen
    constant: str | None = None
    #: hashes of the names of the rows kept (``_h``), one array per batch
    hashes: list[np.ndarray] = field(default_factory=list)

    def repeated_hashes(self) -> list[int]:
        """Hashes of the names on more than one row (usually none)."""
        if not self.hashes:
            return []
        h = np.sort(np.concatenate(self.hashes))
        self.hashes = []
        return np.unique(h[1:][h[1:] == h[:-1]]).tolist()


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
        raise _locate(lay, str(exc)) from None
    return res


class MixedLineEndsError(Exception):
    """Every line is fine but the file mixes CRLF and LF: read it in DuckDB's lax mode."""


def _locate(lay: Layout, hint: str) -> Exception:
    """The error naming the first bad line (:func:`._locate.locate_error`).

    When no line is bad and the file mixes CRLF and LF line ends (which DuckDB's
    strict mode refuses), :class:`MixedLineEndsError` instead, so that the caller reads
    the file again without strict mode.
    """
    err, lines = locate_error(lay)
    if err is not None:
        return err
    if lines.mixed_ends and lay.strict:
        return MixedLineEndsError()
    msg = hint.strip().splitlines()[0] if hint.strip() else "could not be read"
    return FileFormatError(lay.path, f"could not be read: {msg}")


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
        names = [n for n in reader.schema.names if not n.startswith("_")]
        res.schema = pa.schema([reader.schema.field(n) for n in names])
    for batch in _batches(reader):
        nrow = batch.num_rows
        if nrow == 0:
            continue
        res.rows_read += nrow
        if on_rows is not None:
            on_rows(res.rows_read)
        code, out = check_batch(batch)
        if code is None and lay.constant:
            code = _check_constant(batch.column("_const"), res)
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
            raise _locate(lay, f"invalid value ({code})")
        if "_h" in out.schema.names:
            res.hashes.append(out.column("_h").to_numpy(zero_copy_only=False).copy())
            out = out.drop_columns(["_h"])
        if out.num_rows == 0:
            continue
        res.rows += out.num_rows
        if res.order is not None:
            res.order.update(out.column("chr"), out.column("pos"))
        sink(out)


def _check_constant(col: pa.Array, res: ScanResult) -> str | None:
    """``"const"`` when the trait columns change within the file (see ``Layout.constant``)."""
    if res.constant is None:
        res.constant = col[0].as_py()
    if not pc.all(pc.equal(col, res.constant)).as_py():
        return "const"
    return None


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
