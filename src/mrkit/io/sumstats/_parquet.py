"""Parquet output of the normalised table: a writer thread, the writer's settings, sorting.

Used by the store (:mod:`mrkit.store.catalog`) behind :func:`mrkit.io.sumstats._ingest.scan`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mrkit.io.sumstats._ingest import BATCH_ROWS, chr_rank
from mrkit.io.sumstats._normsql import sql_str

ROW_GROUP_ROWS = 1 << 19


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
