"""Find the bad lines of a file, slowly but exactly.

The fast reader (DuckDB) only says *that* something is wrong; this module
re-reads the file line by line in Python and names the line and column
(:class:`~mrkit.errors.FileFormatError`). It runs only on the error path, and
for ``bad_rows="skip"`` (:func:`bad_lines`: every bad line, each with its reason).
The rules are those of :mod:`mrkit.io.sumstats._rules`.

Lines are read as bytes (any of LF, CRLF and CR ends a line) and decoded as
strict UTF-8, so that a Latin-1 byte is named where it is.
"""

from __future__ import annotations

import gzip
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from scipy import special

from mrkit._core.columns import normalise_chr
from mrkit.errors import FileFormatError
from mrkit.io.sumstats._rules import (
    MAX_LINE,
    N_MAX,
    P0_MIN_LOG10P,
    POS_MAX,
    chr_problem,
    exact_log10p,
)
from mrkit.io.sumstats._sniff import (
    GZIP_ERRORS,
    NULLS,
    VCF_COLUMNS,
    VCF_FIELDS,
    Layout,
    split_line,
)

ALLELE_RE = re.compile(r"^(?:[ACGT]+|[DI])$")
#: A variant name starting with its chromosome and position (as in ``_normsql``).
_CHRPOS_NAME = re.compile(r"^(?:chr)?([0-9XYMT]+)[:_]([0-9]+)")
_NULLS = frozenset(NULLS)
_NUMERIC = ("beta", "or", "or_lo", "or_hi", "se", "p", "log10p", "z", "eaf", "n", "ncase",
            "ncontrol")  # fmt: skip
_Z975 = 1.959963984540054


@dataclass
class Lines:
    """The data lines of a file as ``(line number, text)``; counts its line ends."""

    layout: Layout
    crlf: int = 0
    lf: int = 0
    last: int = 0
    errors: list[FileFormatError] = field(default_factory=list)

    def __iter__(self) -> Iterator[tuple[int, str]]:
        lay = self.layout
        raw = gzip.open(lay.path, "rb") if lay.compression == "gzip" else open(lay.path, "rb")  # noqa: SIM115
        lineno = 0
        try:
            with io.TextIOWrapper(raw, encoding="latin-1", newline="") as fh:
                for text in fh:
                    lineno += 1
                    self.last = lineno
                    body = text.rstrip("\r\n")
                    end = text[len(body) :]
                    if end == "\r\n":
                        self.crlf += 1
                    elif end == "\n":
                        self.lf += 1
                    data = body.encode("latin-1")
                    if len(data) > MAX_LINE:
                        raise FileFormatError(
                            lay.path,
                            f"line of {len(data):,} bytes, longer than {MAX_LINE:,}: "
                            "not a table row (a missing line end?)",
                            line=lineno,
                        )
                    try:
                        line = data.decode("utf-8-sig" if lineno == 1 else "utf-8")
                    except UnicodeDecodeError as exc:
                        raise _encoding_error(lay, data, exc, lineno) from None
                    if lineno > lay.header_line:
                        yield lineno, line
        except GZIP_ERRORS as exc:
            raise FileFormatError(
                lay.path,
                f"truncated or corrupt gzip stream ({exc}); download it again",
                line=lineno + 1,
            ) from None

    @property
    def mixed_ends(self) -> bool:
        """Whether the file mixes CRLF and LF line ends."""
        return self.crlf > 0 and self.lf > 0


def _encoding_error(
    lay: Layout, data: bytes, exc: UnicodeDecodeError, lineno: int
) -> FileFormatError:
    byte = data[exc.start]
    column = None
    if lineno > lay.header_line and lay.delim != "ws" and lay.fmt != "gwas-vcf":
        j = data[: exc.start].count(lay.delim.encode())
        if j < len(lay.columns):
            column = lay.columns[j]
    return FileFormatError(
        lay.path,
        f"byte 0x{byte:02X} at character {exc.start + 1} is not UTF-8 text (a Latin-1 or "
        "Windows file?); convert it with `iconv -f latin1 -t utf-8`",
        line=lineno,
        column=column,
    )


def _vcf_values(fields: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """The values of a GWAS-VCF line by role, and the header name of each role."""
    sample = dict(zip(fields[8].split(":"), fields[9].split(":"), strict=False))
    out = {role: fields[i] for i, role in enumerate(VCF_COLUMNS)}
    out.update({role: sample.get(key, "") for role, key in VCF_FIELDS.items()})
    return out, {**VCF_FIELDS, **VCF_COLUMNS}


def _num(v: str) -> float | None:
    if v in _NULLS:
        return None
    return float(v)


@dataclass
class Checker:
    """Checks one line at a time (:meth:`check`), remembering what spans lines."""

    layout: Layout
    first_const: dict[int, tuple[int, str]] | None = None

    def check(self, line: str, lineno: int) -> FileFormatError | None:
        """The problem of ``line`` (None when it is fine)."""
        return _check_line(self, line, lineno)


def locate_error(layout: Layout) -> tuple[FileFormatError | None, Lines]:
    """The first bad line of the file (None if every line is fine) and the lines read."""
    lines = Lines(layout)
    checker = Checker(layout)
    pending_blank = 0
    try:
        for lineno, line in lines:
            if not line.strip():
                pending_blank = pending_blank or lineno
                continue
            if pending_blank:
                return FileFormatError(
                    layout.path, "empty line inside the table", line=pending_blank
                ), lines
            err = checker.check(line, lineno)
            if err is not None:
                return err, lines
    except FileFormatError as exc:
        return exc, lines
    return None, lines


def locate(layout: Layout, hint: str = "") -> FileFormatError:
    """Scan the file and return the error for its first bad line.

    ``hint`` (DuckDB's message) is used when the scan finds nothing wrong.
    """
    err, _ = locate_error(layout)
    if err is not None:
        return err
    msg = hint.strip().splitlines()[0] if hint.strip() else "could not be read"
    return FileFormatError(layout.path, f"could not be read: {msg}")


def bad_lines(layout: Layout) -> Iterator[FileFormatError]:
    """Every bad data line of the file, each as the error naming it (``bad_rows="skip"``).

    A problem of the file as a whole (not UTF-8, a corrupt gzip stream, an over-long
    line) is raised: no row can be skipped around it.
    """
    checker = Checker(layout)
    for lineno, line in Lines(layout):
        if not line.strip():
            continue
        err = checker.check(line, lineno)
        if err is not None:
            yield err


def snp_lines(layout: Layout, snps: set[str]) -> dict[str, list[int]]:
    """Lines of each variant name in ``snps`` (names as the normalised table spells them)."""
    out: dict[str, list[int]] = {}
    for lineno, line in Lines(layout):
        if not line.strip():
            continue
        name = line_snp(layout, line)
        if name in snps:
            out.setdefault(name, []).append(lineno)
    return out


def _values(layout: Layout, line: str) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """Fields, values by role and the header name of each role, of one line."""
    fields = split_line(line.strip() if layout.delim == "ws" else line, layout.delim)
    if layout.fmt == "gwas-vcf":
        vals, names = _vcf_values(fields)
        return fields, vals, names
    names = {r: layout.columns[i] for r, i in layout.roles.items()}
    vals = {r: fields[i].strip() for r, i in layout.roles.items() if i < len(fields)}
    return fields, vals, names


def line_snp(layout: Layout, line: str) -> str | None:
    """The variant name the normalised table gives this line (rsID, else chr:pos:a1:a2)."""
    try:
        _, vals, _ = _values(layout, line)
    except (IndexError, ValueError):
        return None
    snp = vals.get("snp", "")
    if layout.fmt == "finngen":
        snp = snp.split(",")[0]
    if snp and snp not in _NULLS:
        return snp
    a1, a2 = vals.get("ea", "").upper(), vals.get("oa", "").upper()
    c = vals.get("chr", "")
    if not c or c in _NULLS:
        return None
    return f"{normalise_chr(c)}:{vals.get('pos', '')}:{min(a1, a2)}:{max(a1, a2)}"


def _check_line(ck: Checker, line: str, lineno: int) -> FileFormatError | None:
    layout = ck.layout
    path = layout.path
    ncol = len(layout.columns)
    vcf = layout.fmt == "gwas-vcf"
    if layout.delim != "ws" and not vcf and line.count('"') % 2:
        return FileFormatError(
            path,
            "unbalanced double quote: a quoted field opens on this line and does not close",
            line=lineno,
        )
    fields = split_line(line.strip() if layout.delim == "ws" else line, layout.delim)
    if len(fields) != ncol and not (
        layout.delim not in ("ws",) and len(fields) == ncol + 1 and fields[-1] == ""
    ):
        return FileFormatError(
            path, f"ragged row: {len(fields)} fields, the header has {ncol}", line=lineno
        )
    _, vals, names = _values(layout, line)
    if "test" in vals and vals["test"].upper() not in ("ADD", *_NULLS):
        return None
    col = names.get

    def bad(role: str, msg: str) -> FileFormatError:
        return FileFormatError(path, msg, line=lineno, column=col(role, role))

    if layout.constant:
        got = {j: fields[j].strip() for j in layout.constant}
        if ck.first_const is None:
            ck.first_const = {j: (lineno, v) for j, v in got.items()}
        for j, val in got.items():
            first_line, first = ck.first_const[j]
            if val != first:
                return FileFormatError(
                    path,
                    f"a second trait in one file: {val!r} here, {first!r} on line {first_line}; "
                    "split the file, one GWAS per trait (or drop the column if it is not "
                    "a trait)",
                    line=lineno,
                    column=layout.constant[j],
                )
    if "pos" in vals and vals["pos"] not in _NULLS:
        try:  # (a whole number, as DuckDB parses it: 1e5 is fine, 2.5 is not)
            pv = float(vals["pos"])
            if not (0 <= pv <= POS_MAX and pv == math.floor(pv)):
                raise ValueError
        except ValueError:
            return bad(
                "pos",
                f"{vals['pos'][:40]!r} is not a base-pair position (an integer from 0 to "
                f"{POS_MAX:,})",
            )
    chrom, chr_role = vals.get("chr"), "chr"
    if chrom is None and "snp" in vals:  # the chromosome of a chr:pos name
        m = _CHRPOS_NAME.match(vals["snp"])
        chrom, chr_role = (m.group(1), "snp") if m else (None, "snp")
    if chrom is not None and chrom not in _NULLS:
        problem = chr_problem(normalise_chr(chrom), chrom)
        if problem:
            return bad(chr_role, problem)
    num: dict[str, float | None] = {}
    for role in _NUMERIC:
        if role not in vals:
            continue
        try:
            num[role] = _num(vals[role])
        except ValueError:
            return bad(role, f"{vals[role][:40]!r} is not a number")
    for role in ("ea", "oa", "ref", "alt", "omitted"):
        a = vals.get(role, "").upper()
        if role in ("ea", "oa") and vcf and "," in a:
            return bad(role, f"multi-allelic record {a!r}; split it with `bcftools norm -m-`")
        if a and a not in _NULLS and not ALLELE_RE.match(a) and role in ("ea", "oa"):
            return bad(role, f"allele {vals[role]!r} is not A/C/G/T bases (or D/I for indels)")
    ea, oa = vals.get("ea", "").upper(), vals.get("oa", "").upper()
    if ea and ea == oa and ea not in _NULLS:
        return bad("oa", f"effect allele and other allele are both {ea!r}")
    if layout.fmt == "plink2" and "oa" not in layout.roles:
        a1 = vals.get("ea", "").upper()
        ref, alt = vals.get("ref", "").upper(), vals.get("alt", "").upper()
        if a1 not in _NULLS and a1 not in (ref, alt):
            return bad("ea", f"A1 allele {a1!r} is neither REF {ref!r} nor ALT {alt!r}")
    checks = (
        ("se", lambda v: v > 0 and math.isfinite(v), "standard error must be > 0"),
        ("p", lambda v: 0 <= v <= 1, "p-value must be between 0 and 1"),
        ("log10p", lambda v: 0 <= v < math.inf, "-log10 p-value must be finite and >= 0"),
        ("or", lambda v: v > 0 and math.isfinite(v), "odds ratio must be > 0"),
        ("or_lo", lambda v: v > 0, "confidence limit of an odds ratio must be > 0"),
        ("or_hi", lambda v: v > 0, "confidence limit of an odds ratio must be > 0"),
        ("eaf", lambda v: 0 <= v <= 1, "allele frequency must be between 0 and 1"),
        (
            "n",
            lambda v: math.isfinite(v) and 1 <= round(v) <= N_MAX,
            f"sample size must be between 1 and {N_MAX:.0e}",
        ),
        ("ncase", lambda v: math.isfinite(v) and 0 <= v <= N_MAX, "case count out of range"),
        ("ncontrol", lambda v: math.isfinite(v) and 0 <= v <= N_MAX, "control count out of range"),
        ("beta", math.isfinite, "effect must be finite"),
        ("z", math.isfinite, "z-score must be finite"),
    )
    for role, ok, msg in checks:
        v = num.get(role)
        if v is not None and not ok(v):
            return bad(role, f"{msg}, got {vals[role][:40]}")
    if num.get("p") == 0 and "log10p" not in vals and exact_log10p(vals["p"]) is None:
        lp = _z_log10p(num)
        if lp is not None and lp < P0_MIN_LOG10P:
            return bad(
                "p",
                f"p-value written as {vals['p']!r} but beta/SE give p = {10**-lp:.3g}: "
                "a p of 0 must be tiny",
            )
    return None


def _z_log10p(num: dict[str, float | None]) -> float | None:
    """-log10 p of z = beta/SE from the row's numbers (None when they do not give it)."""
    beta, se = num.get("beta"), num.get("se")
    if beta is None and num.get("or") is not None:
        beta = math.log(num["or"])  # type: ignore[arg-type]
    lo, hi = num.get("or_lo"), num.get("or_hi")
    if se is None and lo and hi and hi > lo:
        se = (math.log(hi) - math.log(lo)) / (2 * _Z975)
    if beta is None or se is None or not se > 0:
        return None
    z = abs(beta / se)
    return -(float(special.log_ndtr(-z)) + math.log(2.0)) / math.log(10.0)
