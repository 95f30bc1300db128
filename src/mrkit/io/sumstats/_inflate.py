"""Gzip input inflated ahead of DuckDB into plain chunk files (ISA-L, in a thread).

DuckDB inflates a gzip file with zlib on one thread, and its parser threads
cannot split a compressed file between them: on a 10-million-row file
inflating is about half of ``read_csv``'s time. ISA-L (python-isal) inflates
about three times faster than zlib, and a plain file is parsed by every DuckDB
thread. So :class:`Chunks` inflates the file in a background thread into
plain chunk files of about :data:`CHUNK_BYTES`, each ending at a line end,
which the reader reads one after the other while the next one is inflated
(the first chunks are smaller, so that parsing starts early).
At most ``ahead + 2`` chunks exist on disk at once; all are deleted on exit.

Only a first attempt of an import reads chunks (see
:func:`mrkit.io.sumstats.read.scan_file`): a chunk boundary inside a quoted field, or
a corrupt gzip stream, makes that attempt fail, and the file is then read by
DuckDB itself, whose error is the one reported.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from isal import igzip

#: Bytes of inflated text per chunk file; the first ones are smaller
#: (:data:`FIRST_BYTES`, doubling), so that DuckDB starts early.
CHUNK_BYTES = 1 << 27
FIRST_BYTES = 1 << 24
#: Gzip files smaller than this are left to DuckDB (the chunks would not pay).
MIN_BYTES = 1 << 22
#: Bytes inflated per read.
BLOCK_BYTES = 1 << 23
_END = object()


class InflateError(Exception):
    """The gzip stream could not be inflated (truncated, corrupt, not gzip)."""


def worth_chunking(path: Path, compression: str) -> bool:
    """Whether ``path`` is a gzip file large enough for :class:`Chunks`."""
    return compression == "gzip" and path.is_file() and path.stat().st_size >= MIN_BYTES


class Chunks:
    """Iterate over plain chunk files of the gzip file ``src`` (a ``with`` block).

    Each chunk ends at a line end (except the file's last one when the file
    does not); the first holds the header. A chunk is deleted when the next
    one is asked for. ``dir``: where to write them (default: a new temporary
    directory). Iterating raises :class:`InflateError` at the point where
    inflating failed.
    """

    def __init__(
        self,
        src: Path,
        dir: Path | None = None,
        *,
        chunk_bytes: int | None = None,
        block_bytes: int | None = None,
        ahead: int = 1,
    ):
        self.src = Path(src)
        self._dir = dir
        self._own: str | None = None
        self.chunk_bytes = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
        self.block_bytes = BLOCK_BYTES if block_bytes is None else block_bytes
        self._q: queue.Queue[object] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._made: list[Path] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Chunks:
        if self._dir is None:
            self._own = tempfile.mkdtemp(prefix="mrkit-inflate-")
            self._dir = Path(self._own)
        else:
            self._dir.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        while self._thread.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                self._q.get(timeout=0.05)
        self._thread.join()
        for p in self._made:
            p.unlink(missing_ok=True)
        if self._own is not None:
            shutil.rmtree(self._own, ignore_errors=True)

    def __iter__(self) -> Iterator[Path]:
        while True:
            item = self._q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise InflateError(f"{self.src}: {item}") from None
            assert isinstance(item, Path)
            try:
                yield item
            finally:
                item.unlink(missing_ok=True)

    # -- the inflating thread -------------------------------------------------------------
    def _put(self, item: object) -> bool:
        """Queue ``item``; False when the consumer has left."""
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            self._inflate()
        except BaseException as exc:  # handed to the consumer
            self._put(exc)
        else:
            self._put(_END)

    def _limit(self) -> int:
        """Size of the chunk being written: FIRST_BYTES, doubling up to ``chunk_bytes``."""
        return min(self.chunk_bytes, FIRST_BYTES << min(len(self._made) - 1, 32))

    def _inflate(self) -> None:
        assert self._dir is not None
        out = None
        try:
            with igzip.open(self.src, "rb") as fh:
                while not self._stop.is_set():
                    block = fh.read(self.block_bytes)
                    if not block:
                        break
                    if out is not None and out.tell() + len(block) >= self._limit():
                        cut = block.rfind(b"\n") + 1
                        if cut:  # close the chunk at the block's last line end
                            out.write(block[:cut])
                            out.close()
                            out = None
                            if not self._put(self._made[-1]):
                                return
                            block = block[cut:]
                            if not block:
                                continue
                    if out is None:
                        path = self._dir / f"chunk-{len(self._made):05d}.txt"
                        self._made.append(path)
                        out = open(path, "wb")  # noqa: SIM115 (closed at each cut)
                    out.write(block)
            if out is not None:
                out.close()
                out = None
                self._put(self._made[-1])
        finally:
            if out is not None:
                out.close()
