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

from mrkit._core.columns import SUMSTATS_ALIASES
from mrkit.errors import FileFormatError, InputError
from mrkit.io.sumstats.formats import FORMATS, guess_format, normalise_header, resolve_roles

HEAD_BYTES = 1 << 18

#: Cells read as missing values: every common spelling, so that ``NAN`` is missing as
#: ``NaN`` is (a numeric column never holds a NaN that counts as a value).
NULLS = ("NA", "NaN", "nan", "", ".", "NULL", "null", "N/A", "na", "-nan", "#N/A", "NAN",
         "Nan", "-NaN", "-NAN", "n/a", "Null", "None", "none")  # fmt: skip
#: Header names (lower case) of a column naming the trait of each row: a file whose rows
#: hold several traits is refused (one GWAS per file).
TRAIT_COLUMNS = ("trait", "label", "phenotype", "exposure", "outcome", "id.exposure",
                 "id.outcome", "id")  # fmt: skip
#: TwoSampleMR / MRInstruments columns (lower case, suffix dropped) whose value, constant
#: over the file, is metadata of the GWAS (see :func:`sniff`).
META_COLUMNS = ("units", "ncase", "ncontrol", "samplesize")

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
    #: columns that must hold one value throughout (trait names, units): index -> name
    constant: dict[int, str] = field(default_factory=dict)
    #: metadata read from the first data row (``units``, ``ncase``, ``ncontrol``, ``n``)
    first: dict[str, str] = field(default_factory=dict)
    #: DuckDB's strict CSV mode (off only for a file mixing CRLF and LF line ends,
    #: after :func:`~mrkit.io.sumstats._locate.locate` found every line well formed)
    strict: bool = True

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
    if not p.is_file():  # checked before any open(): opening a FIFO blocks
        raise _fail(
            p,
            "is not a regular file (a pipe, FIFO or device such as <(...) or /dev/stdin); "
            "mrkit reads a file twice (checksum and rows): save it to a file first",
        )
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
        if len(columns) > 10:
            raise _fail(
                p,
                f"GWAS-VCF with {len(columns) - 9} samples ({', '.join(columns[9:])}); "
                "mrkit imports one trait per file: split it with `bcftools view -s NAME`",
                line=header_line,
                column=columns[10],
            )
        first = data[0].split("\t")
        keys = first[8].split(":") if len(first) > 8 else []
        return Layout(p, compression, "\t", columns, header_line, chosen, {}, keys, meta)
    roles = resolve_roles(columns, chosen)
    _one_column_per_role(p, columns, chosen, roles, header_line)
    constant = _constant_columns(columns, chosen, roles)
    first_row: dict[str, str] = {}
    if data:
        cells = split_line(data[0].strip() if delim == "ws" else data[0], delim)
        for j, c in enumerate(columns):
            key = normalise_header(c)
            if key in META_COLUMNS and j < len(cells) and cells[j].strip() not in NULLS:
                first_row[key] = cells[j].strip()
    return Layout(
        p, compression, delim, columns, header_line, chosen, roles, [], meta, constant, first_row
    )


#: Roles whose aliases may appear together (the first by preference is used): a variant
#: name column (``rsid`` beside ``variant_id``), PLINK's test, PLINK 2's REF/ALT.
_MANY_OK = frozenset({"snp", "test", "ref", "alt", "omitted"})


def _one_column_per_role(
    p: Path, columns: list[str], fmt: str, roles: dict[str, int], line: int
) -> None:
    """Refuse a header with two columns for one role (``p`` and ``pval``, ``beta`` and ``OR``).

    Only layouts resolved through the shared aliases can be ambiguous (a named format
    lists its own columns in order of preference); an effect given both as beta and as
    odds ratio is refused in every layout.
    """
    spec = FORMATS[fmt]
    if "beta" in roles and "or" in roles:
        b, o = columns[roles["beta"]], columns[roles["or"]]
        raise _fail(
            p,
            f"two effect columns, `{b}` (beta) and `{o}` (odds ratio): mrkit would use only "
            "one; drop the other",
            line=line,
            column=o,
        )
    if not spec.use_aliases:
        return
    keys = [normalise_header(c) for c in columns]
    for role, i in roles.items():
        if role in _MANY_OK:
            continue
        names = spec.roles.get(role, ()) + SUMSTATS_ALIASES.get(role, ())
        twins = [j for j, k in enumerate(keys) if k in names and j != i]
        others = [j for j in twins if j not in roles.values()]
        if others:
            j = others[0]
            raise _fail(
                p,
                f"two columns for one {_ROLE_WORDS.get(role, role)}, `{columns[i]}` and "
                f"`{columns[j]}`: mrkit would use only the first; drop or rename one",
                line=line,
                column=columns[j],
            )


_ROLE_WORDS = {"ea": "effect allele", "oa": "other allele", "eaf": "allele frequency",
               "beta": "effect", "se": "standard error", "p": "p-value",
               "log10p": "-log10 p-value", "n": "sample size", "chr": "chromosome",
               "pos": "position", "z": "z-score"}  # fmt: skip


def _constant_columns(columns: list[str], fmt: str, roles: dict[str, int]) -> dict[int, str]:
    """Columns naming a trait (or the units) of each row, which must hold one value."""
    used = set(roles.values())
    out = {}
    for j, c in enumerate(columns):
        raw = c.strip().strip('"').lower()
        if j in used:
            continue
        if raw in TRAIT_COLUMNS or normalise_header(c) == "units":
            if raw == "id" and fmt not in ("generic", "twosamplemr"):
                continue
            out[j] = c.strip().strip('"')
    return out
