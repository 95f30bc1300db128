"""Look at the start of a summary-statistics file: compression, delimiter, header, format.

Only the first 256 KiB (decompressed) are read here; the rows themselves are
parsed by DuckDB in :mod:`mrkit.io.sumstats.read`. Everything a user can get wrong
before the first data row (empty file, HTML page, Excel workbook, duplicate
columns, ...) is reported here with the file and line.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from mrkit.errors import FileFormatError, InputError
from mrkit.io.sumstats.formats import FORMATS, guess_format, normalise_header, resolve_roles

HEAD_BYTES = 1 << 18

#: Cells read as missing values.
NULLS = ("NA", "NaN", "nan", "", ".", "NULL", "null", "N/A", "na", "-nan", "#N/A")

GZIP_ERRORS = (EOFError, OSError, zlib.error, gzip.BadGzipFile)


@dataclass
class Layout:
    """What :func:`sniff` found at the start of a file."""

    path: Path
    compression: str  # "gzip" or "none"
    delim: str  # "\t", ",", " " or "ws" (runs of blanks, PLINK 1.9 style)
    columns: list[str]
    header_line: int  # 1-based line of the header
    fmt: str
    roles: dict[str, int]
    vcf_keys: list[str] = field(default_factory=list)
    meta: list[str] = field(default_factory=list)  # '##' lines (VCF)

    @property
    def skip(self) -> int:
        return self.header_line

    def column_name(self, role: str) -> str | None:
        """The header name (GWAS-VCF: column or FORMAT key) carrying ``role``, if any."""
        if self.fmt == "gwas-vcf":
            return VCF_COLUMNS.get(role, VCF_FIELDS.get(role))
        i = self.roles.get(role)
        return None if i is None else self.columns[i]


#: GWAS-VCF: the first five columns, in file order, by role ...
VCF_COLUMNS = {"chr": "#CHROM", "pos": "POS", "snp": "ID", "oa": "REF", "ea": "ALT"}
#: ... and the FORMAT keys of the sample column that mrkit reads.
VCF_FIELDS = {"beta": "ES", "se": "SE", "log10p": "LP", "eaf": "AF", "n": "SS"}


def open_text(path: Path, compression: str) -> io.TextIOBase:
    raw = gzip.open(path, "rb") if compression == "gzip" else open(path, "rb")  # noqa: SIM115
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline=None)


def split_line(line: str, delim: str) -> list[str]:
    if delim == "ws":
        return line.split()
    if delim == ",":
        return next(csv.reader([line]), [])
    return [f.strip().strip('"') for f in line.split(delim)]


def _fail(path: Path, msg: str, **kw: object) -> FileFormatError:
    return FileFormatError(path, msg, **kw)  # type: ignore[arg-type]


def sniff(path: str | Path, fmt: str = "auto") -> Layout:
    """Read the start of ``path`` and describe its layout; raise on unusable files."""
    p = Path(path)
    if fmt != "auto" and fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; choose auto or one of: {', '.join(FORMATS)}")
    if not p.exists():
        raise _fail(p, "file not found")
    if p.is_dir():
        raise _fail(p, "is a directory, not a file")
    with open(p, "rb") as fh:
        magic = fh.read(8)
    if not magic:
        raise _fail(p, "empty file (0 bytes)")
    if magic.startswith(b"PK\x03\x04"):
        raise _fail(
            p, "is a zip archive or an Excel workbook (xlsx), not text; export it as tab-separated"
        )
    if magic.startswith(b"BZh"):
        raise _fail(p, "is bzip2-compressed; decompress it or recompress with gzip/bgzip")
    if magic.startswith(b"\x28\xb5\x2f\xfd"):
        raise _fail(p, "is zstd-compressed; decompress it or recompress with gzip/bgzip")
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise _fail(p, "is an old Excel (xls) workbook; export it as tab-separated text")
    compression = "gzip" if magic.startswith(b"\x1f\x8b") else "none"
    try:
        if compression == "gzip":
            with gzip.open(p, "rb") as gz:
                head = gz.read(HEAD_BYTES)
                at_eof = len(head) < HEAD_BYTES or not gz.read(1)
        else:
            with open(p, "rb") as fh:
                head = fh.read(HEAD_BYTES)
                at_eof = len(head) < HEAD_BYTES
    except GZIP_ERRORS as exc:
        raise _fail(p, f"truncated or corrupt gzip stream ({exc}); download it again") from None
    if b"\x00" in head:
        raise _fail(p, "is a binary file, not a text table (NUL bytes found)")
    text = head.decode("utf-8-sig", errors="replace")
    low = text.lstrip()[:512].lower()
    if low.startswith(("<!doctype html", "<html", "<?xml", "<head", "<body")):
        raise _fail(
            p, "is an HTML/XML page, not a summary-statistics table (saved from a browser?)", line=1
        )
    lines = text.splitlines()
    if not at_eof and lines:
        lines = lines[:-1]  # last line may be cut
    meta: list[str] = []
    i = 0
    while i < len(lines) and lines[i].startswith("##"):
        meta.append(lines[i])
        i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines):
        raise _fail(p, "empty file: no header line" + (" after the ## lines" if meta else ""))
    header_line = i + 1
    header = lines[i]
    data = [ln for ln in lines[i + 1 : i + 200] if ln.strip()]
    if "\t" in header:
        delim = "\t"
    elif "," in header:
        delim = ","
    elif any(ln.startswith(" ") or "  " in ln.rstrip() for ln in [header, *data[:50]]):
        delim = "ws"
    else:
        delim = " "
    columns = split_line(header.strip() if delim == "ws" else header, delim)
    if delim != "ws" and columns and not columns[-1].strip() and len(columns) > 1:
        columns = columns[:-1]  # a trailing delimiter on the header line
    seen: dict[str, int] = {}
    for j, c in enumerate(columns):
        key = normalise_header(c)
        if not key:
            raise _fail(p, f"empty column name (column {j + 1} of the header)", line=header_line)
        if key in seen:
            raise _fail(
                p,
                f"duplicate column name (columns {seen[key] + 1} and {j + 1}); "
                "rename or drop one of them",
                line=header_line,
                column=c,
            )
        seen[key] = j
    if len(columns) < 2:
        raise _fail(
            p,
            "header has a single column; expected a tab-, space- or comma-separated table",
            line=header_line,
        )
    if not data:
        raise _fail(p, "header only: the file has no data rows", line=header_line)
    name = p.name[:-3] if p.name.lower().endswith(".gz") else p.name
    chosen = guess_format(columns, name) if fmt == "auto" else fmt
    if chosen == "gwas-vcf":
        if normalise_header(columns[0]) != "#chrom" or len(columns) < 10:
            raise _fail(p, "not a GWAS-VCF: the #CHROM header with a sample column is missing")
        first = data[0].split("\t")
        keys = first[8].split(":") if len(first) > 8 else []
        return Layout(p, compression, "\t", columns, header_line, chosen, {}, keys, meta)
    roles = resolve_roles(columns, chosen)
    return Layout(p, compression, delim, columns, header_line, chosen, roles, [], meta)
