"""The one SQL statement that turns a summary-statistics file into the normalised table.

:func:`select_sql` builds ``SELECT ... FROM read_csv(...)`` whose output has the
normalised :data:`~mrkit.io.sumstats.read.COLUMNS` plus a helper column:

``_err``
    NULL, or a short code naming the first check the row fails (bad allele,
    se <= 0, p outside [0, 1], ...). The exact line and column are found
    afterwards by :func:`mrkit.io.sumstats._locate.locate`, only on that error path.
The range checks of the output columns (alleles, se > 0, 0 <= p <= 1, ...)
and the drop of rows lacking an essential value are done per Arrow batch by
:func:`mrkit.io.sumstats._ingest.check_batch`, where they cost next to nothing.

The expressions are written so that the common case (upper-case single-base
alleles, plain chromosome names) costs one comparison per value; upper/trim and
the ``chr`` prefix handling only run on the other rows.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Callable
from contextlib import contextmanager

import duckdb
import numpy as np
import pyarrow as pa
from scipy import special

from mrkit._core.columns import CHR_CODES
from mrkit.io.sumstats._rules import MAX_LINE, N_MAX, P0_MIN_LOG10P, POS_MAX
from mrkit.io.sumstats._sniff import NULLS, VCF_COLUMNS, VCF_FIELDS, Layout
from mrkit.io.sumstats.formats import NUMERIC_ROLES

Z975 = 1.959963984540054
#: ``pos`` is parsed as a double (DuckDB's integer cast rounds ``2.5`` and reads ``0x10``)
#: and checked to be a whole number of at most POS_MAX before its cast to BIGINT.
_TYPES = {"pos": "DOUBLE", "p": "VARCHAR"}
_BASES = "('A', 'C', 'G', 'T')"
#: A variant name that starts with its chromosome and position (``1:12345``, ``chr1_12345_A_G``).
_CHRPOS_NAME = "'^(?:chr)?([0-9XYMT]+)[:_]([0-9]+)'"
#: Lower bound of -log10 p for the "top hits" side file of the store (p <= 1e-5).
TOP_LOG10P = 5.0


def sql_str(s: str) -> str:
    """``s`` as a SQL string literal (single quotes, inner quotes doubled)."""
    return "'" + s.replace("'", "''") + "'"


def _struct(items: dict[str, str]) -> str:
    """A DuckDB struct literal of strings, ``{'k': 'v', ...}`` (``read_csv``'s ``columns``)."""
    return "{" + ", ".join(f"{sql_str(k)}: {sql_str(v)}" for k, v in items.items()) + "}"


# --- derived quantities (vectorised UDFs, registered per connection) ---------------------
def _udf_log10p_from_z(z: pa.Array) -> pa.Array:
    a = np.abs(z.to_numpy(zero_copy_only=False))
    with np.errstate(all="ignore"):
        v = -(special.log_ndtr(-a) + math.log(2.0)) / math.log(10.0)
    return pa.array(v, from_pandas=True)


def _udf_se_from_beta_log10p(beta: pa.Array, lp: pa.Array) -> pa.Array:
    """SE = |beta| / z(p); null unless finite and > 0 (such rows are dropped as missing)."""
    b = np.abs(beta.to_numpy(zero_copy_only=False))
    a = lp.to_numpy(zero_copy_only=False)
    with np.errstate(all="ignore"):
        se = b / -special.ndtri_exp(-a * math.log(10.0) - math.log(2.0))
    return pa.array(np.where(np.isfinite(se) & (se > 0), se, np.nan), from_pandas=True)


_UDFS: dict[str, tuple[Callable[..., pa.Array], list[str]]] = {
    "mrkit_log10p_z": (_udf_log10p_from_z, ["DOUBLE"]),
    "mrkit_se_lp": (_udf_se_from_beta_log10p, ["DOUBLE", "DOUBLE"]),
}


class _Pool(threading.local):
    """One in-memory connection per thread and process, its helper functions registered once
    (a fresh connection with them costs about 12 ms: a study importing hundreds of GWAS
    paid it twice for each)."""

    con: duckdb.DuckDBPyConnection | None = None
    pid: int = 0


_POOL = _Pool()


def _fresh() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    con.execute("SET preserve_insertion_order = true")
    for name, (fn, args) in _UDFS.items():
        # (duckdb's stubs take a list of their own union of type names, not list[str],
        # and only the PythonUDFType enum, whose module moved between versions)
        con.create_function(name, fn, args, "DOUBLE", type="arrow")  # type: ignore[call-overload]
    return con


def _close(con: duckdb.DuckDBPyConnection) -> None:
    for name in _UDFS:
        with contextlib.suppress(duckdb.Error):
            con.remove_function(name)
    with contextlib.suppress(duckdb.Error):
        con.close()


@contextmanager
def connection(memory_limit: str | None = None, temp_dir: str | None = None):
    """An in-memory DuckDB connection with mrkit's helper functions.

    The thread's connection is reused (settings reset on each use); a block that
    raises closes it, so that a failed query never leaves state behind.
    """
    if _POOL.con is None or _POOL.pid != os.getpid():  # none yet, or inherited by a fork
        _POOL.con, _POOL.pid = _fresh(), os.getpid()
    con = _POOL.con
    con.execute(
        f"SET memory_limit = {sql_str(memory_limit)}" if memory_limit else "RESET memory_limit"
    )
    con.execute(f"SET temp_directory = {sql_str(temp_dir)}" if temp_dir else "RESET temp_directory")
    ok = False
    try:
        yield con
        ok = True
    finally:
        if not ok:
            _POOL.con = None
            _close(con)


# --- stage 0: the file -----------------------------------------------------------------
#: Missing-value markers of the fast first attempt (see :func:`select_sql`).
FAST_NULLS = ("NA", "")


def has_fast_path(lay: Layout) -> bool:
    """Whether :func:`select_sql` has a ``fast`` variant for this layout."""
    return lay.fmt != "gwas-vcf" and lay.delim != "ws"


def _read_csv_sql(lay: Layout, nulls: tuple[str, ...] = NULLS) -> tuple[str, dict[str, str]]:
    """SQL of the raw relation; returns it and the SQL name of each role's column."""
    comp = "gzip" if lay.compression == "gzip" else "none"
    common = (
        f"header = false, skip = {lay.skip}, auto_detect = false, compression = '{comp}', "
        f"strict_mode = {str(lay.strict).lower()}, null_padding = false, "
        f"max_line_size = {MAX_LINE}"
    )
    if lay.fmt == "gwas-vcf":
        cols = {f"c{i}": "VARCHAR" for i in range(len(lay.columns))}
        cols["c1"] = "DOUBLE"
        spec = _struct(cols)
        src = (
            f"read_csv({sql_str(str(lay.path))}, delim = '\\t', quote = '', escape = '', "
            f"columns = {spec}, nullstr = ['.', ''], {common})"
        )
        # the sample's values split once; fields by position when FORMAT is that of the
        # first row (the usual case: one FORMAT for the whole file), else by key
        first = ":".join(lay.vcf_keys)

        def field(key: str) -> str:
            by_key = f"_sv[list_position(string_split(c8, ':'), {sql_str(key)})]"
            if key not in lay.vcf_keys:
                return f"nullif({by_key}, '.')"
            at = lay.vcf_keys.index(key) + 1
            return f"nullif(CASE WHEN c8 = {sql_str(first)} THEN _sv[{at}] ELSE {by_key} END, '.')"

        out = [f"c{i} AS r_{role}" for i, role in enumerate(VCF_COLUMNS)]
        out += [f"{field(key)} AS t_{role}" for role, key in VCF_FIELDS.items()]
        sql = (
            f"SELECT {', '.join(out)}, {field('ID')} AS r_id2 "
            f"FROM (SELECT *, string_split(c9, ':') AS _sv FROM {src})"
        )
        names = {role: f"r_{role}" for role in VCF_COLUMNS}
        names.update({role: f"TRY_CAST(t_{role} AS DOUBLE)" for role in VCF_FIELDS})
        return sql, names
    used = {i: role for role, i in lay.roles.items()}
    names = {role: f"c{i}" for role, i in lay.roles.items()}

    def typ(i: int) -> str:
        role = used.get(i)
        return "DOUBLE" if role in NUMERIC_ROLES else _TYPES.get(role or "", "VARCHAR")

    if lay.delim == "ws":
        src = (
            f"read_csv({sql_str(str(lay.path))}, delim = '\\x1f', quote = '', escape = '', "
            f"columns = {{'line': 'VARCHAR'}}, {common})"
        )
        null_list = ", ".join(sql_str(n) for n in NULLS)
        parts = []
        for i in range(len(lay.columns)):
            cell = f"CASE WHEN f[{i + 1}] IN ({null_list}) THEN NULL ELSE f[{i + 1}] END"
            t = typ(i)
            parts.append(f"CAST({cell} AS {t}) AS c{i}" if t != "VARCHAR" else f"{cell} AS c{i}")
        inner = f"SELECT string_split_regex(trim(line), '[ \\t]+') AS f FROM {src}"
        return f"SELECT len(f) AS _nf, {', '.join(parts)} FROM ({inner})", names
    cols = {f"c{i}": typ(i) for i in range(len(lay.columns))}
    spec = _struct(cols)
    delim = "\\t" if lay.delim == "\t" else lay.delim
    nullstr = "[" + ", ".join(sql_str(n) for n in nulls) + "]"
    src = (
        f"read_csv({sql_str(str(lay.path))}, delim = '{delim}', quote = '\"', escape = '\"', "
        f"columns = {spec}, nullstr = {nullstr}, {common})"
    )
    return f"SELECT * FROM {src}", names


def _allele(x: str) -> str:
    """Upper-case, trimmed allele; one comparison when it already is a single base."""
    return f"CASE WHEN {x} IN {_BASES} THEN {x} ELSE upper(trim({x})) END"


def _chr(x: str) -> str:
    """Normalised chromosome name (the rule of :func:`mrkit.io.sumstats._ingest.norm_chr`)."""
    c = f"trim(CAST({x} AS VARCHAR))"
    c = f"CASE WHEN lower(left({c}, 3)) = 'chr' THEN upper(substr({c}, 4)) ELSE upper({c}) END"
    codes = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, v in CHR_CODES.items())
    return f"CASE {c} {codes} ELSE {c} END"


#: -log10 p from the p-value's text ``r_p`` where the double underflows (the rule of
#: :func:`mrkit.io.sumstats._rules.exact_log10p`): ``[+]m e[+-]k`` gives -(log10 m + k),
#: ``0.<k zeros><digits d>`` gives k - log10(0.d); NULL for a zero mantissa.
_MANT = (
    "TRY_CAST(regexp_extract(r_p, '^\\s*\\+?([0-9]*\\.?[0-9]+)[eE][-+]?[0-9]+\\s*$', 1) AS DOUBLE)"
)
_DEC = "'^\\s*\\+?0*\\.(0*)([1-9][0-9]*)\\s*$'"
_LP_TEXT = (
    f"CASE WHEN {_MANT} > 0 THEN -(log10({_MANT}) + "
    "TRY_CAST(regexp_extract(r_p, '[eE]([-+]?[0-9]+)\\s*$', 1) AS DOUBLE)) "
    f"WHEN regexp_matches(r_p, {_DEC}) THEN strlen(regexp_extract(r_p, {_DEC}, 1)) - "
    f"log10(CAST('0.' || regexp_extract(r_p, {_DEC}, 2) AS DOUBLE)) END"
)


# --- the whole statement ---------------------------------------------------------------
def select_sql(
    lay: Layout, n: float | None, alleles: str | None = None, *, fast: bool = False
) -> str:
    """``SELECT`` of the normalised columns plus ``_err`` (see the module docstring).

    ``alleles`` is the SQL of a relation ``(a_chr, a_snp, a_pos, a_a1, a_a2, a_frq, a_nb)``
    giving the alleles of PLINK 1.9 files that lack A2 (see :mod:`._plink_alleles`).

    ``fast``: the CSV reader treats only :data:`FAST_NULLS` as missing (comparing
    every field with the eleven markers of ``NULLS`` costs ~15% of the parse). A
    file using another marker then fails a check, never silently: in a numeric
    column the marker is not a number, or is NaN, which no range check accepts; in
    an allele column it is not a base. Only the names (rsID, chromosome), where
    any text is valid, map the other markers to missing in SQL. On any error
    the caller re-reads the file with ``fast=False`` before reporting it.
    """
    nulls = FAST_NULLS if fast and has_fast_path(lay) else NULLS
    chr_name = "chr"
    raw, names = _read_csv_sql(lay, nulls)
    r = names.get
    if nulls != NULLS:
        others = [m for m in NULLS if m not in nulls]
        width = max(len(m) for m in others)

        def unmark(col: str) -> str:
            # one WHEN per marker: an IN list (or list_contains) becomes a hash join
            whens = " ".join(f"WHEN {col} = {sql_str(m)} THEN NULL" for m in others)
            return f"(CASE WHEN strlen({col}) > {width} THEN {col} {whens} ELSE {col} END)"

        # the chr column itself is cleaned per batch (mrkit.io.sumstats._ingest.norm_chr)
        chr_name = unmark("chr")
        if "snp" in names:
            names["snp"] = unmark(names["snp"])
        r = names.get
    vcf = lay.fmt == "gwas-vcf"
    # stage 1: per-value normalisation of the raw columns
    s1: list[str] = []
    errs: list[tuple[str, str]] = []  # (condition on stage-1 columns, code)
    if lay.delim == "ws":
        errs.append((f"_nf <> {len(lay.columns)}", "ragged"))
    src = f"({raw}) raw"
    if alleles is not None:
        src += (
            f" LEFT JOIN ({alleles}) al ON al.a_snp = trim({r('snp')}) "
            f"AND al.a_chr = trim(CAST({r('chr')} AS VARCHAR)) "
            f"AND (al.a_pos IS NULL OR al.a_pos = {r('pos')})"
        )
        errs.append(("a_snp IS NULL", "alleles-missing"))
        errs.append(("a_nb > 1", "alleles-duplicate"))
        if "ea" in names:
            errs.append((f"upper(trim({r('ea')})) NOT IN (a_a1, a_a2)", "alleles-mismatch"))
    # chr and alleles read straight from the file are normalised per Arrow batch, on the
    # few distinct values (mrkit.io.sumstats._ingest.normalise_batch), not per row here
    if "ea" in names:
        s1.append(f"{r('ea')} AS effect_allele")
    else:  # PLINK 1.9 .qassoc: A1 from the allele file
        s1.append(f"{_allele('a_a1')} AS effect_allele")
    if "oa" in names:
        s1.append(f"{r('oa')} AS other_allele")
    elif lay.fmt == "plink2" and "omitted" in names:
        s1.append(f"{_allele(names['omitted'])} AS other_allele")
    elif lay.fmt == "plink2":
        ea, ref, alt = (f"upper(trim({r(k)}))" for k in ("ea", "ref", "alt"))
        s1.append(
            f"CASE WHEN {ea} = {alt} THEN {ref} WHEN {ea} = {ref} THEN {alt} END AS other_allele"
        )
        s1.append(f"{r('ea')} AS _ea_raw")
    elif alleles is not None and "ea" in names:
        ea, a1, a2 = _allele(names["ea"]), _allele("a_a1"), _allele("a_a2")
        s1.append(f"CASE WHEN {ea} = {a1} THEN {a2} WHEN {ea} = {a2} THEN {a1} END AS other_allele")
        s1.append(f"{r('ea')} AS _ea_raw")
    elif alleles is not None:
        s1.append(f"{_allele('a_a2')} AS other_allele")
    else:
        s1.append("NULL::VARCHAR AS other_allele")
    for col, typ, group in (("chr", "VARCHAR", 1), ("pos", "BIGINT", 2)):
        if col == "pos" and col in names:
            ok = f"({r(col)} = floor({r(col)}) AND {r(col)} BETWEEN 0 AND {POS_MAX})"
            s1.append(f"CASE WHEN {ok} THEN CAST({r(col)} AS BIGINT) END AS pos")
            errs.append((f"{r(col)} IS NOT NULL AND NOT {ok}", "pos"))
        elif col in names:
            s1.append(f"CAST({r(col)} AS {typ}) AS {col}")
        elif "snp" in names:  # from a chr:pos variant name
            part = f"nullif(regexp_extract({r('snp')}, {_CHRPOS_NAME}, {group}), '')"
            s1.append(f"{_chr(part) if col == 'chr' else f'TRY_CAST({part} AS BIGINT)'} AS {col}")
        else:
            s1.append(f"NULL::{typ} AS {col}")
    z_only = "beta" not in names and "or" not in names and "z" in names
    for role in ("beta", "or", "or_lo", "or_hi", "se", "z", "eaf", "log10p"):
        if role in names:
            s1.append(f"{r(role)} AS r_{role}")
    if "eaf" not in names and alleles is not None:  # .frq MAF: frequency of its A1
        ea = f"upper(trim({r('ea')}))" if "ea" in names else "a_a1"
        s1.append(f"CASE WHEN {ea} = a_a1 THEN a_frq WHEN {ea} = a_a2 THEN 1 - a_frq END AS r_eaf")
    has_n = "n" in names or ("ncase" in names and "ncontrol" in names)
    if "n" in names:
        s1.append(f"{r('n')} AS r_n")
    elif has_n:
        s1.append(f"({r('ncase')} + {r('ncontrol')}) AS r_n")
    if "p" in names:
        s1.append(f"CAST({r('p')} AS DOUBLE) AS p0")  # text: DuckDB raises, locate() tells
        s1.append(f"{r('p')} AS r_p")
    snp = f"nullif(trim({r('snp')}), '')" if "snp" in names else "NULL::VARCHAR"
    if lay.fmt == "finngen":
        snp = f"nullif(split_part({snp}, ',', 1), '')"
    if vcf:
        snp = f"COALESCE({snp}, r_id2)"
        for role in VCF_FIELDS:
            errs.append((f"t_{role} IS NOT NULL AND {r(role)} IS NULL", role))
        errs.append((f"contains({r('ea')}, ',')", "multi"))
    s1.append(f"{snp} AS snp0")
    if lay.constant:  # the trait columns of a mixed file, as one text (see _ingest)
        parts = ", ".join(f"COALESCE(CAST(c{j} AS VARCHAR), '')" for j in lay.constant)
        s1.append(f"concat_ws('\x1f', {parts}) AS _const")
    where = ""
    if "test" in names:
        where = f" WHERE {r('test')} IS NULL OR upper({r('test')}) = 'ADD'"
    if errs:
        raw_err = "CASE " + " ".join(f"WHEN {c} THEN '{k}'" for c, k in errs) + " END"
    else:
        raw_err = "NULL::VARCHAR"
    s1.append(f"{raw_err} AS _err0")
    stage1 = f"SELECT {', '.join(s1)} FROM {src}{where}"

    # stage 2: effect and SE; the checks DuckDB must do (the rest: _ingest.check_batch)
    have = set(names)
    if alleles is not None:
        have.add("eaf")
    checks = [("_err0 IS NOT NULL", "_err0")]
    if (lay.fmt == "plink2" and "oa" not in names and "omitted" not in names) or (
        alleles is not None and "ea" in names
    ):
        checks.append(("_ea_raw IS NOT NULL AND other_allele IS NULL", "'oa'"))
    for role, cond in (
        ("or", "NOT (r_or > 0 AND isfinite(r_or))"),
        ("or_lo", "r_or_lo <= 0"),
        ("or_hi", "r_or_hi <= 0"),
    ):
        if role in have:
            checks.append((cond, f"'{role}'"))
    if has_n:  # beyond N_MAX (or infinite) is an error, not a BIGINT overflow
        checks.append((f"NOT (r_n <= {N_MAX!r})", "'n'"))
    if len(checks) == 1 and not errs:
        err = "NULL::VARCHAR"
    else:
        err = "CASE " + " ".join(f"WHEN {c} THEN {k}" for c, k in checks) + " END"
    eaf = "r_eaf" if "eaf" in have else "NULL::DOUBLE"
    nfile = "r_n" if has_n else "NULL::DOUBLE"
    nexpr = f"COALESCE({nfile}, {float(n)!r})" if n is not None else nfile
    s2 = [
        "snp0",
        "chr",
        "pos",
        "effect_allele",
        "other_allele",
        f"{eaf} AS eaf",
        f"CASE WHEN {nexpr} <= {N_MAX!r} THEN CAST(round({nexpr}) AS BIGINT) END AS n",
        f"{err} AS _err",
    ]
    if lay.constant:
        s2.append("_const")
    if z_only:
        s2.append(
            f"CASE WHEN {eaf} > 0 AND {eaf} < 1 THEN 1 / sqrt(2 * {eaf} * (1 - {eaf}) * "
            f"({nexpr} + r_z * r_z)) ELSE 1 / sqrt({nexpr}) END AS se0"
        )
        s2.append("r_z AS z0")
    else:
        if "beta" in names:
            s2.append("r_beta AS beta")
        elif "or" in names:
            s2.append("CASE WHEN r_or > 0 THEN ln(r_or) END AS beta")
        else:
            s2.append("NULL::DOUBLE AS beta")
        if "se" in names:
            s2.append("r_se AS se0")
        elif {"or", "or_lo", "or_hi"} <= set(names):
            s2.append(
                "CASE WHEN r_or_lo > 0 AND r_or_hi > r_or_lo THEN "
                f"(ln(r_or_hi) - ln(r_or_lo)) / {2 * Z975!r} END AS se0"
            )
        else:
            s2.append("NULL::DOUBLE AS se0")
    if "log10p" in names:
        s2.append("r_log10p AS lp0")
    elif "p" in names:
        s2.append(f"CASE WHEN p0 >= 1e-300 THEN -log10(p0) ELSE {_LP_TEXT} END AS lp0")
    else:
        s2.append("NULL::DOUBLE AS lp0")
    s2.append("p0" if "p" in names else "NULL::DOUBLE AS p0")
    stage2 = f"SELECT {', '.join(s2)} FROM ({stage1})"

    # stage 3: beta, se, log10p from whatever the file has
    if z_only:
        beta, se, z = "z0 * se0", "se0", "z0"
    else:
        beta = "beta"
        # Python UDFs only inside CASE (COALESCE calls them on every row) and only once
        # (DuckDB computes a repeated expression for every row)
        se = "CASE WHEN se0 IS NULL THEN mrkit_se_lp(beta, lp0) ELSE se0 END"
        z = "beta / se0"
    log10p = f"CASE WHEN lp0 IS NULL THEN mrkit_log10p_z({z}) ELSE lp0 END"
    stage3 = f"SELECT *, {beta} AS beta_, {se} AS se_, {log10p} AS log10p_ FROM ({stage2})"
    a1, a2 = "upper(trim(effect_allele))", "upper(trim(other_allele))"
    snp = (  # CASE, not COALESCE: only the rows without a name pay for building one
        f"CASE WHEN snp0 IS NULL THEN {_chr(chr_name)} || ':' || pos || ':' || least({a1}, {a2}) "
        f"|| ':' || greatest({a1}, {a2}) ELSE snp0 END"
    )
    err = "_err"
    if "p" in names and "log10p" not in names:  # p written 0: beta/SE must make it tiny
        p0_bad = f"_err IS NULL AND p0 = 0 AND log10p_ < {P0_MIN_LOG10P!r}"
        err = f"CASE WHEN {p0_bad} THEN 'p' ELSE _err END"
    out = (
        f"{snp} AS snp, chr, pos, effect_allele, other_allele, eaf, beta_ AS beta, se_ AS se, "
        "CASE WHEN p0 IS NULL THEN pow(10, -log10p_) ELSE p0 END AS p, log10p_ AS log10p, n, "
        f"{err} AS _err" + (", _const" if lay.constant else "")
    )
    # _h: a 64-bit hash of the name, computed by DuckDB's threads, so that a name on two
    # rows is found without grouping the whole table (mrkit.io.sumstats._dups)
    return f"SELECT *, hash(snp) AS _h FROM (SELECT {out} FROM ({stage3}))"
