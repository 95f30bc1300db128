"""PLINK 1 files: the one reader of ``.bed/.bim/.fam`` file sets (and ``.frq``) in mrkit.

A binary file set is three files sharing a prefix (``ref/EUR.bed``, ``.bim``, ``.fam``):

``.bim``
    One line per variant, six fields separated by tabs or spaces: chromosome,
    variant id, genetic position (cM), base-pair position, allele 1 (A1, the allele
    the ``.bed`` counts) and allele 2 (A2).
``.fam``
    One line per sample; only their number matters here.
``.bed``
    The magic bytes ``6c 1b``, the mode byte ``01`` (variant-major), then per
    variant ``ceil(n_samples / 4)`` bytes of 2-bit codes, the first sample in the
    lowest bits: ``00`` two copies of A1, ``10`` one, ``11`` none, ``01`` missing.

:func:`open_fileset` checks the three files against each other and returns a
:class:`FileSet`, which reads only the variants asked for: their raw ``.bed`` bytes
(a memory map) or their A1 counts. The ``.bim`` is parsed by Arrow's CSV reader
(a tolerant line-by-line reader takes over for irregular whitespace), so that
opening a panel needs neither pandas nor bed-reader and a panel of millions of
variants stays compact: variant ids stay one Arrow string array.

The streaming summary-statistics reader works in DuckDB SQL: :func:`bim_sql` and
:func:`frq_sql` give it a ``.bim`` or a ``.frq`` (``plink --freq``) as a relation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
from numpy.typing import ArrayLike

from mrkit.errors import PanelError

try:  # Arrow's kernels without pyarrow.compute, whose generated wrappers take ~50 ms to import
    from pyarrow._compute import MatchSubstringOptions, SetLookupOptions, call_function
except ImportError:  # pragma: no cover - another pyarrow layout
    from pyarrow.compute import MatchSubstringOptions, SetLookupOptions, call_function

__all__ = [
    "BIM_COLUMNS",
    "Bim",
    "FileSet",
    "arrow_numbers",
    "arrow_take",
    "bim_sql",
    "count_samples",
    "decode_genotypes",
    "fileset_prefix",
    "frq_sql",
    "looks_like_bim",
    "looks_like_frq",
    "lookup",
    "open_fileset",
    "read_bim",
    "string_array",
    "take_strings",
]

#: The six fields of a ``.bim`` line and their types (Arrow / DuckDB).
BIM_COLUMNS: dict[str, tuple[pa.DataType, str]] = {
    "chr": (pa.string(), "VARCHAR"),
    "snp": (pa.string(), "VARCHAR"),
    "cm": (pa.float64(), "DOUBLE"),
    "pos": (pa.int64(), "BIGINT"),
    "a1": (pa.string(), "VARCHAR"),
    "a2": (pa.string(), "VARCHAR"),
}
BED_MAGIC = b"\x6c\x1b"
_BIM_HINT = "6 fields: chromosome, variant id, cM, base-pair position, A1, A2"

# A1 count of each 2-bit code (00 -> 2, 01 -> missing, 10 -> 1, 11 -> 0), and per byte
# the counts of its four samples, lowest bits first.
_CODE = np.array([2, -127, 1, 0], dtype=np.int8)
_BYTE = _CODE[(np.arange(256)[:, None] >> (2 * np.arange(4))) & 3]


class Bim:
    """The variants of a ``.bim`` file, in file order.

    Attributes
    ----------
    chr
        Chromosome names as written (numpy ``str`` array).
    snp
        Variant ids: one Arrow string array (compact; looked up by :func:`lookup`).
    cm, pos
        Genetic (float64) and base-pair (int64) positions.
    a1, a2
        The alleles, upper case (numpy object arrays); the ``.bed`` counts A1.
        Given as Arrow arrays they are converted on first use (clumping by
        variant id never needs them).
    """

    def __init__(
        self,
        chr: np.ndarray,
        snp: pa.Array,
        cm: np.ndarray,
        pos: np.ndarray,
        a1: np.ndarray | pa.Array,
        a2: np.ndarray | pa.Array,
    ) -> None:
        self.chr, self.snp, self.cm, self.pos = chr, snp, cm, pos
        self._alleles = {"a1": a1, "a2": a2}

    def _allele(self, name: str) -> np.ndarray:
        col = self._alleles[name]
        if not isinstance(col, np.ndarray):
            col = self._alleles[name] = _strings(call_function("utf8_upper", [col]), object)
        return col

    @property
    def a1(self) -> np.ndarray:
        return self._allele("a1")

    @property
    def a2(self) -> np.ndarray:
        return self._allele("a2")

    def __len__(self) -> int:
        return len(self.pos)

    @classmethod
    def concat(cls, parts: Sequence[Bim]) -> Bim:
        """The variants of several ``.bim`` files, one after the other."""
        if len(parts) == 1:
            return parts[0]
        return cls(
            chr=np.concatenate([b.chr for b in parts]),
            snp=pa.concat_arrays([b.snp for b in parts]),
            cm=np.concatenate([b.cm for b in parts]),
            pos=np.concatenate([b.pos for b in parts]),
            a1=np.concatenate([b.a1 for b in parts]),
            a2=np.concatenate([b.a2 for b in parts]),
        )

    def to_frame(self):
        """The variants as a pandas DataFrame ``chr, snp, cm, pos, a1, a2``."""
        import pandas as pd

        return pd.DataFrame(
            {
                "chr": self.chr.astype(object),
                "snp": self.snp.to_pandas(),
                "cm": self.cm,
                "pos": self.pos,
                "a1": self.a1,
                "a2": self.a2,
            }
        )


def arrow_numbers(arr: pa.Array | pa.ChunkedArray, fill: float | None = None) -> np.ndarray:
    """A numeric Arrow array as numpy, its nulls set to ``fill``.

    Read from the buffers: pyarrow's ``to_numpy`` imports pandas (about 0.3 s) to
    check the array's type. ``fill=None`` refuses nulls.

    Raises
    ------
    ValueError
        The array holds nulls and ``fill`` is None.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    t = arr.type
    kind = "f" if pa.types.is_floating(t) else "i" if pa.types.is_signed_integer(t) else "u"
    dtype = np.dtype(f"{kind}{t.bit_width // 8}")
    out = np.frombuffer(
        arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * dtype.itemsize
    )
    if arr.null_count:
        if fill is None:
            raise ValueError(f"{arr.null_count} missing value(s)")
        bits = np.frombuffer(arr.buffers()[0], dtype=np.uint8)
        valid = np.unpackbits(bits, bitorder="little")[arr.offset : arr.offset + len(arr)]
        out = np.where(valid.astype(bool), out, fill)
    return out.copy() if not out.flags.writeable else out


def string_array(values: Sequence[str]) -> pa.StringArray:
    """An Arrow string array of Python strings, built from its buffers.

    ``pa.array`` would import pandas (about 0.3 s) to ask whether a list is a
    pandas object; this does not. The text must be under 2 GiB in total.
    """
    encoded = [v.encode() for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    if offsets[-1] >= 2**31:
        raise ValueError(f"{offsets[-1]} bytes of text: more than an Arrow string array holds")
    return pa.StringArray.from_buffers(
        len(encoded), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(b"".join(encoded))
    )


def lookup(values: Sequence[str] | pa.Array, value_set: pa.Array) -> np.ndarray:
    """Position in ``value_set`` of each value (its first occurrence), -1 where absent.

    The smaller side is hashed: a few thousand variants looked up in a panel of
    millions cost a scan of the panel, not a hash table of it.
    """
    keys = values if isinstance(values, pa.Array | pa.ChunkedArray) else string_array(values)
    if len(keys) >= len(value_set):
        hit = call_function("index_in", [keys], SetLookupOptions(value_set))
        return arrow_numbers(hit, fill=-1).astype(np.int64)
    own = SetLookupOptions(keys)
    first = arrow_numbers(call_function("index_in", [keys], own), fill=-1).astype(np.int64)
    back = arrow_numbers(call_function("index_in", [value_set], own), fill=-1)
    rows = np.flatnonzero(back >= 0)
    row_of = np.full(len(keys), -1, dtype=np.int64)
    row_of[back[rows][::-1].astype(np.int64)] = rows[::-1]  # the first row wins
    return row_of[first]


def arrow_take(values: pa.Array | pa.ChunkedArray, idx: Sequence[int] | np.ndarray) -> pa.Array:
    """Entries ``idx`` of an Arrow array (``Array.take`` would import pyarrow.compute)."""
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    where = pa.Array.from_buffers(pa.int64(), idx.size, [None, pa.py_buffer(idx)])
    return call_function("take", [values, where])


def take_strings(values: Sequence[str] | pa.Array, idx: Sequence[int] | np.ndarray) -> list[str]:
    """The strings at positions ``idx`` of a list, numpy array or Arrow string array."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return [str(v) for v in arrow_take(values, idx).to_pylist()]
    return [str(values[i]) for i in np.asarray(idx, dtype=np.int64).tolist()]


def _strings(col: pa.ChunkedArray | pa.Array, dtype: type) -> np.ndarray:
    """A string column as numpy, converting each distinct value once."""
    enc = call_function("dictionary_encode", [col])
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks() if enc.num_chunks != 1 else enc.chunk(0)
    names: np.ndarray = np.asarray(enc.dictionary.to_pylist(), dtype=dtype)
    return names[arrow_numbers(enc.indices)]


def _bim(strings: dict[str, pa.ChunkedArray | pa.Array], cm: ArrayLike, pos: ArrayLike) -> Bim:
    snp = strings["snp"]
    return Bim(
        chr=_strings(strings["chr"], str),
        snp=snp.combine_chunks() if isinstance(snp, pa.ChunkedArray) else snp,
        cm=np.asarray(cm, dtype=np.float64),
        pos=np.asarray(pos, dtype=np.int64),
        a1=strings["a1"],
        a2=strings["a2"],
    )


def _read_bim_arrow(path: Path, delimiter: str) -> Bim:
    import pyarrow.csv as pcsv

    table = pcsv.read_csv(
        path,
        read_options=pcsv.ReadOptions(column_names=list(BIM_COLUMNS)),
        parse_options=pcsv.ParseOptions(delimiter=delimiter, quote_char=False),
        convert_options=pcsv.ConvertOptions(
            column_types={k: t for k, (t, _) in BIM_COLUMNS.items()},
            strings_can_be_null=False,
        ),
    )
    cm, pos = table.column("cm"), table.column("pos")
    if cm.null_count or pos.null_count:
        raise ValueError("a position is missing")
    strings = {k: table.column(k) for k in ("chr", "snp", "a1", "a2")}
    other = " " if delimiter == "\t" else "\t"  # the fields of a .bim hold no whitespace
    has = MatchSubstringOptions(other)
    if any(call_function("any", [call_function("match_substring", [c], has)]).as_py()
           for c in strings.values()):  # fmt: skip
        raise ValueError("mixed separators")
    return _bim(strings, arrow_numbers(cm), arrow_numbers(pos))


def _read_bim_lines(path: Path) -> Bim:
    """The tolerant reader: any whitespace between fields; names the first bad line."""
    fields: list[list[str | float]] = []  # chr, snp, cm (float), pos (int), a1, a2
    with open(path, encoding="utf-8", errors="replace") as fh:
        for i, line in enumerate(fh, 1):
            f: list[str | float] = [*line.split()]
            if not f:
                continue
            if len(f) != 6:
                raise PanelError(
                    f"{path}, line {i}: not a PLINK .bim line ({len(f)} fields; {_BIM_HINT})"
                )
            try:
                f[2], f[3] = float(f[2]), int(f[3])
            except ValueError:
                raise PanelError(
                    f"{path}, line {i}: not a PLINK .bim line (cM {f[2]!r} and position "
                    f"{f[3]!r} must be numbers; {_BIM_HINT})"
                ) from None
            fields.append(f)
    chr_, snp, cm, pos, a1, a2 = (
        (list(c) for c in zip(*fields, strict=True)) if fields else [[]] * 6
    )
    strings = {"chr": chr_, "snp": snp, "a1": a1, "a2": a2}
    return _bim({k: string_array(v) for k, v in strings.items()}, cm, pos)


def read_bim(path: str | Path) -> Bim:
    """The variants of a ``.bim`` file (tab- or space-separated, 6 fields a line).

    Raises
    ------
    PanelError
        A line does not have 6 fields, or a position is not a number; the message
        names the file (and the line, when known).
    """
    path = Path(path)
    with open(path, "rb") as fh:
        first = fh.readline().decode("utf-8", errors="replace").rstrip("\r\n")
    delimiter = "\t" if "\t" in first else " "
    if first.split(delimiter) == first.split() and len(first.split()) == 6:
        try:
            return _read_bim_arrow(path, delimiter)
        except (pa.ArrowInvalid, ValueError):
            pass  # e.g. runs of spaces further down: the tolerant reader names the line
    return _read_bim_lines(path)


def count_samples(path: str | Path) -> int:
    """Number of samples of a ``.fam`` file (its non-blank lines)."""
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def decode_genotypes(raw: np.ndarray, n_samples: int) -> np.ndarray:
    """``(n_samples, k)`` int8 A1 counts (-127 = missing) from ``(k, bytes)`` raw ``.bed`` rows."""
    k, width = raw.shape
    return _BYTE[raw].reshape(k, 4 * width)[:, :n_samples].T.copy()


def fileset_prefix(path: str | Path) -> Path:
    """The prefix of a file set given as its prefix or as one of its three files."""
    text = str(path)
    for ext in (".bed", ".bim", ".fam"):
        if text.endswith(ext):
            return Path(text[: -len(ext)])
    return Path(text)


class FileSet:
    """One PLINK 1 binary file set whose three files agree (see :func:`open_fileset`).

    Attributes
    ----------
    prefix
        The path without extension.
    bim
        Its variants (:class:`Bim`).
    n_samples
        Number of samples (lines of the ``.fam``).
    """

    def __init__(self, prefix: Path, bim: Bim, n_samples: int) -> None:
        self.prefix = prefix
        self.bim = bim
        self.n_samples = n_samples
        self._bed: np.memmap | None = None

    def __repr__(self) -> str:
        return (
            f"FileSet({str(self.prefix)!r}: {self.n_variants} variants, {self.n_samples} samples)"
        )

    @property
    def n_variants(self) -> int:
        return len(self.bim)

    @property
    def bytes_per_variant(self) -> int:
        return (self.n_samples + 3) // 4

    def path(self, ext: str) -> Path:
        """The file with extension ``ext`` (``".bed"``, ``".bim"``, ``".fam"``)."""
        return self.prefix.with_name(self.prefix.name + ext)

    def raw(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """``(len(rows), bytes_per_variant)`` uint8: the ``.bed`` bytes of variants ``rows``.

        Only those variants are read (through a memory map); rows may come in any order.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0 or self.n_variants == 0:
            return np.empty((rows.size, self.bytes_per_variant), dtype=np.uint8)
        if self._bed is None:
            self._bed = np.memmap(
                self.path(".bed"),
                dtype=np.uint8,
                mode="r",
                offset=3,
                shape=(self.n_variants, self.bytes_per_variant),
            )
        return np.asarray(self._bed[rows])

    def genotypes(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """``(n_samples, len(rows))`` int8 counts of A1 for variants ``rows`` (-127 = missing)."""
        return decode_genotypes(self.raw(rows), self.n_samples)


def open_fileset(prefix: str | Path) -> FileSet:
    """Open and check a PLINK 1 binary file set (prefix, or the path of one of its files).

    Raises
    ------
    PanelError
        A file is missing, the ``.bim`` is malformed, the ``.bed`` is not variant-major
        PLINK 1, or its size disagrees with the ``.bim`` and ``.fam``. The message
        names the file.
    """
    prefix = fileset_prefix(prefix)
    files = {ext: prefix.with_name(prefix.name + ext) for ext in (".bed", ".bim", ".fam")}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise PanelError(
            f"PLINK file(s) missing: {', '.join(missing)} (a file set is "
            f"{prefix.name}.bed/.bim/.fam; give its prefix without extension)"
        )
    bim = read_bim(files[".bim"])
    n = count_samples(files[".fam"])
    bed = files[".bed"]
    with open(bed, "rb") as fh:
        head = fh.read(3)
    if len(head) < 3 or head[:2] != BED_MAGIC:
        raise PanelError(f"{bed}: not a PLINK 1 .bed file (bad magic bytes {head[:2]!r})")
    if head[2] != 1:
        raise PanelError(
            f"{bed}: individual-major .bed (mode byte {head[2]}); only variant-major "
            "(SNP-major) files are supported: rewrite it with `plink1.9 --bfile X --make-bed`"
        )
    expected = 3 + len(bim) * ((n + 3) // 4)
    size = bed.stat().st_size
    if size != expected:
        raise PanelError(
            f"{bed}: {size} bytes, but {len(bim)} variants in {files['.bim']} x "
            f"{n} samples in {files['.fam']} need {expected}: the files disagree"
        )
    return FileSet(prefix, bim, n)


# --- text files as DuckDB relations ------------------------------------------------------
def looks_like_bim(fields: Sequence[str]) -> bool:
    """Whether the fields of a first line are those of a ``.bim`` (6, position a number)."""
    return len(fields) == 6 and fields[3].isdigit()


def looks_like_frq(fields: Sequence[str]) -> bool:
    """Whether a first line is the header of a ``.frq`` (``CHR SNP A1 A2 MAF NCHROBS``)."""
    return [c.upper() for c in fields[:4]] == ["CHR", "SNP", "A1", "A2"]


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _fields_sql(path: Path, compression: str, skip: int) -> str:
    """SQL of one list column ``f``: the whitespace-separated fields of each non-blank line."""
    src = (
        f"read_csv({_q(str(path))}, delim = '\\x1f', quote = '', escape = '', header = false, "
        f"skip = {skip}, auto_detect = false, compression = '{compression}', "
        "columns = {'line': 'VARCHAR'})"
    )
    split = "string_split_regex(trim(line), '[ \\t]+')"
    return f"SELECT {split} AS f FROM {src} WHERE trim(line) <> ''"


def bim_sql(path: str | Path, compression: str = "none") -> str:
    """DuckDB SQL of a ``.bim`` as the relation ``chr, snp, cm, pos, a1, a2``.

    Alleles are upper case; a position that is not a number is NULL.
    """
    cols = []
    for i, (name, (_, sql_type)) in enumerate(BIM_COLUMNS.items(), 1):
        value = f"f[{i}]" if sql_type == "VARCHAR" else f"TRY_CAST(f[{i}] AS {sql_type})"
        cols.append(f"{'upper(' + value + ')' if name in ('a1', 'a2') else value} AS {name}")
    return f"SELECT {', '.join(cols)} FROM ({_fields_sql(Path(path), compression, 0)})"


def frq_sql(path: str | Path, compression: str = "none") -> str:
    """DuckDB SQL of a ``.frq`` (``plink --freq``) as ``chr, snp, a1, a2, maf``.

    Alleles are upper case; ``maf`` (the frequency of A1) is NULL where not a number.
    """
    return (
        "SELECT f[1] AS chr, f[2] AS snp, upper(f[3]) AS a1, upper(f[4]) AS a2, "
        f"TRY_CAST(f[5] AS DOUBLE) AS maf FROM ({_fields_sql(Path(path), compression, 1)})"
    )
