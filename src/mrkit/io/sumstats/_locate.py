"""Find the first bad line of a file, slowly but exactly.

The fast reader (DuckDB) only says *that* something is wrong; this module
re-reads the file line by line in Python and raises a
:class:`~mrkit.errors.FileFormatError` naming the line and column. It runs
only on the error path.
"""

from __future__ import annotations

import math
import re

from mrkit.errors import FileFormatError
from mrkit.io.sumstats._sniff import (
    GZIP_ERRORS,
    NULLS,
    VCF_COLUMNS,
    VCF_FIELDS,
    Layout,
    open_text,
    split_line,
)

ALLELE_RE = re.compile(r"^(?:[ACGT]+|[DI])$")
_NULLS = frozenset(NULLS)
_NUMERIC = ("beta", "or", "or_lo", "or_hi", "se", "p", "log10p", "z", "eaf", "n", "ncase",
            "ncontrol")  # fmt: skip


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


def locate(layout: Layout, hint: str = "") -> FileFormatError:
    """Scan the file and return the error for its first bad line.

    ``hint`` (DuckDB's message) is used when the scan finds nothing wrong.
    """
    path = layout.path
    ncol = len(layout.columns)
    vcf = layout.fmt == "gwas-vcf"
    names = {r: layout.columns[i] for r, i in layout.roles.items()}
    lineno = layout.header_line
    try:
        with open_text(path, layout.compression) as fh:
            for _ in range(layout.header_line):
                fh.readline()
            pending_blank = 0
            for raw in fh:
                lineno += 1
                line = raw.rstrip("\r\n")
                if not line.strip():
                    pending_blank = pending_blank or lineno
                    continue
                if pending_blank:
                    return FileFormatError(path, "empty line inside the table", line=pending_blank)
                err = _check_line(layout, line, lineno, ncol, vcf, names)
                if err is not None:
                    return err
    except GZIP_ERRORS as exc:
        return FileFormatError(
            path, f"truncated or corrupt gzip stream ({exc}); download it again", line=lineno + 1
        )
    msg = hint.strip().splitlines()[0] if hint.strip() else "could not be read"
    return FileFormatError(path, f"could not be read: {msg}")


def _check_line(
    layout: Layout,
    line: str,
    lineno: int,
    ncol: int,
    vcf: bool,
    names: dict[str, str],
) -> FileFormatError | None:
    path = layout.path
    fields = split_line(line.strip() if layout.delim == "ws" else line, layout.delim)
    if len(fields) != ncol and not (
        layout.delim not in ("ws",) and len(fields) == ncol + 1 and fields[-1] == ""
    ):
        return FileFormatError(
            path, f"ragged row: {len(fields)} fields, the header has {ncol}", line=lineno
        )
    if vcf:
        vals, names = _vcf_values(fields)
    else:
        vals = {r: fields[i].strip() for r, i in layout.roles.items()}
    if "test" in vals and vals["test"].upper() not in ("ADD", *_NULLS):
        return None
    if "pos" in vals and vals["pos"] not in _NULLS:
        try:
            if int(vals["pos"]) < 0:
                raise ValueError
        except ValueError:
            return FileFormatError(
                path,
                f"{vals['pos']!r} is not a base-pair position (a non-negative integer)",
                line=lineno,
                column=names.get("pos", "pos"),
            )
    num: dict[str, float | None] = {}
    for role in _NUMERIC:
        if role not in vals:
            continue
        try:
            num[role] = _num(vals[role])
        except ValueError:
            return FileFormatError(
                path, f"{vals[role]!r} is not a number", line=lineno, column=names.get(role, role)
            )
        v = num[role]
        if v is not None and math.isnan(v):
            num[role] = None
    col = names.get

    def bad(role: str, msg: str) -> FileFormatError:
        return FileFormatError(path, msg, line=lineno, column=col(role, role))

    for role in ("ea", "oa", "ref", "alt", "omitted"):
        a = vals.get(role, "").upper()
        if role in ("ea", "oa") and vcf and "," in a:
            return bad(role, f"multi-allelic record {a!r}; split it with `bcftools norm -m-`")
        if a and a not in _NULLS and not ALLELE_RE.match(a) and role in ("ea", "oa"):
            return bad(role, f"allele {vals[role]!r} is not A/C/G/T bases (or D/I for indels)")
    if layout.fmt == "plink2" and "oa" not in layout.roles:
        a1 = vals.get("ea", "").upper()
        ref, alt = vals.get("ref", "").upper(), vals.get("alt", "").upper()
        if a1 not in _NULLS and a1 not in (ref, alt):
            return bad("ea", f"A1 allele {a1!r} is neither REF {ref!r} nor ALT {alt!r}")
    checks = (
        ("se", lambda v: v > 0 and math.isfinite(v), "standard error must be > 0"),
        ("p", lambda v: 0 <= v <= 1, "p-value must be between 0 and 1"),
        ("log10p", lambda v: v >= 0, "-log10 p-value must be >= 0"),
        ("or", lambda v: v > 0 and math.isfinite(v), "odds ratio must be > 0"),
        ("or_lo", lambda v: v > 0, "confidence limit of an odds ratio must be > 0"),
        ("or_hi", lambda v: v > 0, "confidence limit of an odds ratio must be > 0"),
        ("eaf", lambda v: 0 <= v <= 1, "allele frequency must be between 0 and 1"),
        ("n", lambda v: math.isfinite(v) and round(v) >= 1, "sample size must be >= 1"),
        ("beta", math.isfinite, "effect must be finite"),
        ("z", math.isfinite, "z-score must be finite"),
    )
    for role, ok, msg in checks:
        v = num.get(role)
        if v is not None and not ok(v):
            return bad(role, f"{msg}, got {vals[role]}")
    return None
