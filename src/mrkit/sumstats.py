"""Read GWAS summary statistics of any common layout into one normalised table.

The normalised table (DESIGN.md) has the columns :data:`COLUMNS`::

    snp, chr, pos, effect_allele, other_allele, eaf, beta, se, p, log10p, n

Rows are parsed by DuckDB's CSV reader (multi-threaded, gzip/bgzip aware);
Python only looks at the header (:mod:`mrkit._sniff`) and, when something is
wrong, re-reads the file to name the bad line and column
(:mod:`mrkit._locate`).

Conventions
-----------
* Alleles are upper case; valid alleles are A/C/G/T strings or ``D``/``I``.
* ``chr`` is text without a ``chr`` prefix; PLINK codes 23/24/25/26 become
  X/Y/XY/MT.
* ``log10p`` is :math:`-\\log_{10} p` and stays exact when ``p`` underflows a
  double: it is taken from a -log10 p column (REGENIE ``LOG10P``, GWAS-VCF
  ``LP``, FinnGen ``mlogp``, GWAS-SSF ``neg_log_10_p_value``), else from the
  p-value's text (``1.2e-400`` gives 399.92), else from :math:`z = \\beta/SE`.
  ``p`` itself is then 0.0.
* Odds ratios become :math:`\\beta = \\ln OR`; the SE comes from an SE
  column (of log OR), else from the 95% CI,
  :math:`(\\ln U - \\ln L) / (2 \\times 1.959964)`, else from the p-value,
  :math:`|\\beta| / z_{p/2}`. A beta without SE gets the same p-based SE.
* LDSC ``.sumstats`` carry only Z and N. With an allele frequency ``f`` the
  per-allele scale is used, :math:`SE = 1/\\sqrt{2f(1-f)(N + Z^2)}`,
  :math:`\\beta = Z \\cdot SE`; without one the standardised scale
  :math:`\\beta = Z/\\sqrt N`, :math:`SE = 1/\\sqrt N` (beta in SD units per
  SD of genotype). The same holds for METAL files with Zscore only.
* A missing rsID becomes ``chr:pos:A1:A2`` with the two alleles in
  alphabetical order, so that the same variant gets the same name in every
  GWAS whatever its effect allele.
* Rows with a missing essential value (allele, beta, SE, p) are dropped and
  counted (``attrs["mrkit"]["dropped"]``); values that are *wrong* (text in
  a numeric column, se <= 0, p outside [0, 1], OR <= 0, non-ACGT alleles,
  ragged rows, ...) raise :class:`~mrkit.errors.FileFormatError` naming the
  file, line and column.
* PLINK files with a ``TEST`` column keep only the ``ADD`` rows.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa
from scipy import special

from mrkit._locate import locate
from mrkit._sniff import NULLS, Layout, sniff
from mrkit.errors import FileFormatError, InputError

if TYPE_CHECKING:
    import pandas as pd

    from mrkit.store import Store

__all__ = ["COLUMNS", "FORMATS", "detect_format", "load_gwas", "read_sumstats"]

from mrkit.formats import FORMATS

COLUMNS = (
    "snp",
    "chr",
    "pos",
    "effect_allele",
    "other_allele",
    "eaf",
    "beta",
    "se",
    "p",
    "log10p",
    "n",
)
Z975 = 1.959963984540054
#: Sort rank of a chromosome name: 1-22, X, Y, XY, MT, then the rest.
CHR_RANK = (
    "CASE WHEN TRY_CAST(chr AS INTEGER) IS NOT NULL THEN TRY_CAST(chr AS INTEGER) "
    "WHEN chr = 'X' THEN 23 WHEN chr = 'Y' THEN 24 WHEN chr = 'XY' THEN 25 "
    "WHEN chr = 'MT' THEN 26 ELSE 1000 END"
)
_TYPES = {"pos": "BIGINT", "p": "VARCHAR"}
_NUMERIC = {"eaf", "beta", "or", "or_lo", "or_hi", "se", "log10p", "z", "n", "ncase", "ncontrol"}
_ALLELE_OK = "({x} IN ('A', 'C', 'G', 'T') OR regexp_full_match({x}, '[ACGT]+|[DI]'))"


def detect_format(path: str | Path) -> str:
    """Name of the format of ``path`` as detected from its header (see :data:`FORMATS`)."""
    return sniff(path).fmt


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# --- derived quantities (vectorised UDFs, registered per connection) ---------------------
def _udf_log10p_from_z(z: pa.Array) -> pa.Array:
    a = np.abs(z.to_numpy(zero_copy_only=False))
    with np.errstate(all="ignore"):
        v = -(special.log_ndtr(-a) + math.log(2.0)) / math.log(10.0)
    return pa.array(v, from_pandas=True)


def _udf_z_from_log10p(lp: pa.Array) -> pa.Array:
    a = lp.to_numpy(zero_copy_only=False)
    with np.errstate(all="ignore"):
        v = -special.ndtri_exp(-a * math.log(10.0) - math.log(2.0))
    return pa.array(v, from_pandas=True)


_UDFS = {"mrkit_log10p_z": _udf_log10p_from_z, "mrkit_z_lp": _udf_z_from_log10p}


@contextmanager
def connection(memory_limit: str | None = None, temp_dir: str | None = None):
    """An in-memory DuckDB connection with mrkit's helper functions."""
    con = duckdb.connect(":memory:")
    try:
        if memory_limit:
            con.execute(f"SET memory_limit = {_q(memory_limit)}")
        if temp_dir:
            con.execute(f"SET temp_directory = {_q(temp_dir)}")
        con.execute("SET preserve_insertion_order = true")
        for name, fn in _UDFS.items():
            con.create_function(name, fn, ["DOUBLE"], "DOUBLE", type="arrow")
        yield con
    finally:
        for name in _UDFS:
            with contextlib.suppress(duckdb.Error):
                con.remove_function(name)
        con.close()


# --- SQL construction ---------------------------------------------------------------------
def _read_csv_sql(lay: Layout) -> tuple[str, dict[str, str]]:
    """SQL of the raw relation; returns it and the SQL name of each role's column."""
    comp = "gzip" if lay.compression == "gzip" else "none"
    common = (
        f"header = false, skip = {lay.skip}, auto_detect = false, compression = '{comp}', "
        "strict_mode = true, null_padding = false, max_line_size = 10000000"
    )
    if lay.fmt == "gwas-vcf":
        cols = {f"c{i}": "VARCHAR" for i in range(len(lay.columns))}
        cols["c1"] = "BIGINT"
        spec = "{" + ", ".join(f"{_q(k)}: {_q(v)}" for k, v in cols.items()) + "}"
        src = (
            f"read_csv({_q(str(lay.path))}, delim = '\\t', quote = '', escape = '', "
            f"columns = {spec}, nullstr = ['.', ''], {common})"
        )
        fk = "string_split(c8, ':')"
        sv = "string_split(c9, ':')"

        def field(key: str) -> str:
            return f"nullif({sv}[list_position({fk}, {_q(key)})], '.')"

        sql = (
            f"SELECT c0 AS r_chr, c1 AS r_pos, c2 AS r_snp, c3 AS r_oa, c4 AS r_ea, "
            f"{field('ES')} AS t_beta, {field('SE')} AS t_se, {field('LP')} AS t_log10p, "
            f"{field('AF')} AS t_eaf, {field('SS')} AS t_n, {field('ID')} AS r_id2 FROM {src}"
        )
        names = {"chr": "r_chr", "pos": "r_pos", "snp": "r_snp", "oa": "r_oa", "ea": "r_ea"}
        for role in ("beta", "se", "log10p", "eaf", "n"):
            names[role] = f"TRY_CAST(t_{role} AS DOUBLE)"
        return sql, names
    used = {i: role for role, i in lay.roles.items()}
    names = {role: f"c{i}" for role, i in lay.roles.items()}
    if lay.delim == "ws":
        src = (
            f"read_csv({_q(str(lay.path))}, delim = '\\x1f', quote = '', escape = '', "
            f"columns = {{'line': 'VARCHAR'}}, {common})"
        )
        parts = []
        for i in range(len(lay.columns)):
            role = used.get(i)
            typ = "DOUBLE" if role in _NUMERIC else _TYPES.get(role or "", "VARCHAR")
            cell = f"nullif(f[{i + 1}], '')"
            cell = f"CASE WHEN f[{i + 1}] IN ({', '.join(_q(n) for n in NULLS)}) THEN NULL ELSE f[{i + 1}] END"  # noqa: E501
            parts.append(
                f"CAST({cell} AS {typ}) AS c{i}" if typ != "VARCHAR" else f"{cell} AS c{i}"
            )
        inner = f"SELECT string_split_regex(trim(line), '[ \\t]+') AS f FROM {src}"
        sql = f"SELECT len(f) AS _nf, {', '.join(parts)} FROM ({inner})"
        return sql, names
    cols = {}
    for i in range(len(lay.columns)):
        role = used.get(i)
        cols[f"c{i}"] = "DOUBLE" if role in _NUMERIC else _TYPES.get(role or "", "VARCHAR")
    spec = "{" + ", ".join(f"{_q(k)}: {_q(v)}" for k, v in cols.items()) + "}"
    delim = "\\t" if lay.delim == "\t" else lay.delim
    src = (
        f"read_csv({_q(str(lay.path))}, delim = '{delim}', quote = '\"', escape = '\"', "
        f"columns = {spec}, nullstr = {'[' + ', '.join(_q(n) for n in NULLS) + ']'}, {common})"
    )
    return f"SELECT * FROM {src}", names


def _norm_sql(lay: Layout, names: dict[str, str], n: float | None) -> tuple[str, bool]:
    """SQL turning the raw relation into the normalised columns plus ``_err``/``_miss``."""
    r = names.get
    vcf = lay.fmt == "gwas-vcf"
    ea = f"upper(trim({r('ea')}))"
    if "oa" in names:
        oa = f"upper(trim({r('oa')}))"
    elif lay.fmt == "plink2" and "omitted" in names:
        oa = f"upper(trim({r('omitted')}))"
    elif lay.fmt == "plink2":
        ref, alt = f"upper(trim({r('ref')}))", f"upper(trim({r('alt')}))"
        oa = f"CASE WHEN {ea} = {alt} THEN {ref} WHEN {ea} = {ref} THEN {alt} END"
    else:
        oa = "NULL::VARCHAR"
    # chromosome and position
    if "chr" in names:
        c = f"trim(CAST({r('chr')} AS VARCHAR))"
        c = f"CASE WHEN lower(left({c}, 3)) = 'chr' THEN upper(substr({c}, 4)) ELSE upper({c}) END"
    elif "snp" in names:
        c = f"nullif(regexp_extract({r('snp')}, '^(?:chr)?([0-9XYMT]+)[:_]([0-9]+)', 1), '')"
    else:
        c = "NULL::VARCHAR"
    chr_ = (
        f"CASE {c} WHEN '23' THEN 'X' WHEN '24' THEN 'Y' WHEN '25' THEN 'XY' "
        f"WHEN '26' THEN 'MT' WHEN 'M' THEN 'MT' ELSE {c} END"
    )
    if "pos" in names:
        pos = f"CAST({r('pos')} AS BIGINT)"
    elif "snp" in names:
        pos = (
            f"TRY_CAST(nullif(regexp_extract({r('snp')}, "
            f"'^(?:chr)?[0-9XYMT]+[:_]([0-9]+)', 1), '') AS BIGINT)"
        )
    else:
        pos = "NULL::BIGINT"
    # effect and SE
    z_only = "beta" not in names and "or" not in names and "z" in names
    if "beta" in names:
        beta = r("beta")
    elif "or" in names:
        beta = f"CASE WHEN {r('or')} > 0 THEN ln({r('or')}) END"
    elif z_only:
        beta = None
    else:
        beta = "NULL::DOUBLE"
    ncol = "NULL::DOUBLE"
    if "n" in names:
        ncol = r("n")
    elif "ncase" in names and "ncontrol" in names:
        ncol = f"({r('ncase')} + {r('ncontrol')})"
    nexpr = f"COALESCE({ncol}, {float(n)!r})" if n is not None else ncol
    eaf = r("eaf") if "eaf" in names else "NULL::DOUBLE"
    # p-value text -> p, log10p
    pnum = f"TRY_CAST({r('p')} AS DOUBLE)" if "p" in names else None
    if "log10p" in names:
        lp_file = r("log10p")
    elif pnum is not None:
        t = r("p")
        lp_text = (
            f"-(log10(TRY_CAST(regexp_extract({t}, '^\\s*([0-9.]+)[eE]', 1) AS DOUBLE)) + "
            f"TRY_CAST(regexp_extract({t}, '[eE]([-+]?[0-9]+)\\s*$', 1) AS DOUBLE))"
        )
        lp_file = f"CASE WHEN {pnum} >= 1e-300 THEN -log10({pnum}) ELSE {lp_text} END"
    else:
        lp_file = None
    sel = [
        f"{ea} AS effect_allele",
        f"{oa} AS other_allele",
        f"{chr_} AS chr",
        f"{pos} AS pos",
        f"{eaf} AS eaf",
        f"{nexpr} AS n",
    ]
    if z_only:
        zc = r("z")
        sel.append(
            f"CASE WHEN {eaf} > 0 AND {eaf} < 1 THEN 1 / sqrt(2 * {eaf} * (1 - {eaf}) * "
            f"({nexpr} + {zc} * {zc})) ELSE 1 / sqrt({nexpr}) END AS se0"
        )
        sel.append(f"{zc} AS z0")
    else:
        sel.append(f"{beta} AS beta")
        if "se" in names:
            sel.append(f"{r('se')} AS se0")
        elif "or" in names and "or_lo" in names and "or_hi" in names:
            sel.append(
                f"CASE WHEN {r('or_lo')} > 0 AND {r('or_hi')} > 0 THEN "
                f"(ln({r('or_hi')}) - ln({r('or_lo')})) / {2 * Z975!r} END AS se0"
            )
        else:
            sel.append("NULL::DOUBLE AS se0")
    sel.append(f"{lp_file} AS lp0" if lp_file is not None else "NULL::DOUBLE AS lp0")
    sel.append(f"{pnum} AS p0" if pnum is not None else "NULL::DOUBLE AS p0")
    snp = f"nullif(trim({r('snp')}), '')" if "snp" in names else "NULL::VARCHAR"
    if lay.fmt == "finngen":
        snp = f"nullif(split_part({snp}, ',', 1), '')"
    if vcf:
        snp = f"COALESCE({snp}, r_id2)"
    sel.append(f"{snp} AS snp0")
    # error codes: the first failing check of the row (details come from _locate)
    errs = []
    if lay.delim == "ws":
        errs.append((f"_nf <> {len(lay.columns)}", "ragged"))
    errs.append((f"{ea} IS NOT NULL AND NOT {_ALLELE_OK.format(x=ea)}", "ea"))
    if oa != "NULL::VARCHAR":
        errs.append((f"{ea} IS NOT NULL AND {oa} IS NULL AND {r('ea')} IS NOT NULL", "oa")
                    if lay.fmt == "plink2" and "oa" not in names and "omitted" not in names
                    else (f"{oa} IS NOT NULL AND NOT {_ALLELE_OK.format(x=oa)}", "oa"))  # fmt: skip
    if "pos" in names:
        errs.append((f"{r('pos')} < 0", "pos"))
    for role, cond in (
        ("se", "NOT ({x} > 0 AND isfinite({x}))"),
        ("or", "NOT ({x} > 0 AND isfinite({x}))"),
        ("or_lo", "{x} <= 0"),
        ("or_hi", "{x} <= 0"),
        ("log10p", "{x} < 0 OR isnan({x})"),
        ("eaf", "{x} < 0 OR {x} > 1"),
        ("n", "{x} <= 0"),
        ("beta", "NOT isfinite({x})"),
        ("z", "NOT isfinite({x})"),
    ):
        if role in names:
            errs.append((cond.format(x=r(role)), role))
    if pnum is not None:
        errs.append((f"{r('p')} IS NOT NULL AND {pnum} IS NULL", "p"))
        errs.append((f"{pnum} < 0 OR {pnum} > 1", "p"))
    if vcf:
        for role in ("beta", "se", "log10p", "eaf", "n"):
            errs.append((f"t_{role} IS NOT NULL AND {r(role)} IS NULL", role))
        errs.append((f"contains({r('ea')}, ',')", "multi"))
    err = "CASE " + " ".join(f"WHEN {c} THEN '{k}'" for c, k in errs) + " END AS _err"
    sel.append(err)
    where = ""
    if "test" in names:
        where = f" WHERE {r('test')} IS NULL OR upper({r('test')}) = 'ADD'"
    return f"SELECT {', '.join(sel)} FROM raw{where}", z_only


def _final_sql(z_only: bool) -> str:
    """Second stage: beta, se, p, log10p and the missing-value flag."""
    if z_only:
        beta, se, z = "z0 * se0", "se0", "z0"
    else:
        beta = "beta"
        z_lp = "mrkit_z_lp(lp0)"
        se = f"COALESCE(se0, CASE WHEN {z_lp} > 0 THEN abs(beta) / {z_lp} END)"
        z = "beta / se0"
    log10p = f"COALESCE(lp0, CASE WHEN {z} IS NOT NULL THEN mrkit_log10p_z({z}) END)"
    return (
        "SELECT *, COALESCE(snp0, chr || ':' || pos || ':' || least(effect_allele, other_allele)"
        " || ':' || greatest(effect_allele, other_allele)) AS snp "
        f"FROM (SELECT *, {beta} AS beta_, {se} AS se_, {log10p} AS log10p_ FROM norm0)"
    )


OUT_SQL = (
    "snp, chr, pos, effect_allele, other_allele, eaf, beta_ AS beta, se_ AS se, "
    "COALESCE(p0, pow(10, -log10p_)) AS p, log10p_ AS log10p, n"
)
MISS = (
    "effect_allele IS NULL OR other_allele IS NULL OR beta_ IS NULL OR se_ IS NULL "
    "OR NOT (se_ > 0) OR log10p_ IS NULL OR (snp IS NULL)"
)


def load_into(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    *,
    format: str = "auto",
    n: float | None = None,
    ncase: float | None = None,
    ncontrol: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Parse ``path`` into the temporary table ``gwas`` of ``con``; return metadata.

    The table holds the :data:`COLUMNS` of the valid rows. Raises
    :class:`FileFormatError` on any invalid content.
    """
    if n is None and ncase is not None and ncontrol is not None:
        n = float(ncase) + float(ncontrol)
    for label, v in (("n", n), ("ncase", ncase), ("ncontrol", ncontrol)):
        if v is not None and not (v > 0):
            raise InputError(f"{label} must be a positive number, got {v}")
    lay = sniff(path, format)
    _require(lay, n)
    raw_sql, names = _read_csv_sql(lay)
    norm_sql, z_only = _norm_sql(lay, names, n)
    if progress:
        progress("reading")
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW raw AS {raw_sql}")
        con.execute(f"CREATE OR REPLACE TEMP VIEW norm0 AS {norm_sql}")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE gwas_all AS SELECT {OUT_SQL}, _err, ({MISS}) AS _miss, "
            f"({CHR_RANK}) * 10000000000 + pos AS _k FROM ({_final_sql(z_only)})"
        )
    except duckdb.Error as exc:
        raise locate(lay, str(exc)) from None
    if progress:
        progress("validating")
    total, nerr, bad = con.execute(
        "SELECT count(*), count(_err), any_value(_err) FROM gwas_all"
    ).fetchone()
    if nerr:
        raise locate(lay, f"invalid value ({bad})")
    if total == 0:
        raise FileFormatError(lay.path, "no data rows to read")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW gwas AS SELECT {', '.join(COLUMNS)} FROM gwas_all "
        "WHERE NOT _miss"
    )
    return {
        "path": str(lay.path),
        "format": lay.fmt,
        "rows_read": int(total),
        "build": _vcf_build(lay.meta),
        "columns": {role: lay.column_name(role) for role in sorted(lay.roles)},
    }


def _require(lay: Layout, n: float | None) -> None:
    """Raise when the header lacks a column the normalised table needs."""
    if lay.fmt == "gwas-vcf":
        missing = [k for k in ("ES", "SE") if k not in lay.vcf_keys]
        if missing:
            raise FileFormatError(
                lay.path,
                f"GWAS-VCF FORMAT lacks {'/'.join(missing)} (found {':'.join(lay.vcf_keys)})",
            )
        return
    roles = lay.roles
    found = ", ".join(lay.columns)
    hint = f"; columns found: {found}. Rename the column or name the format with --format"

    def need(what: str, ok: bool, *aliases: str) -> None:
        if not ok:
            raise FileFormatError(
                lay.path,
                f"no {what} column (looked for {', '.join(aliases)}){hint}",
                line=lay.header_line,
            )

    spec = FORMATS[lay.fmt]

    def al(role: str) -> tuple[str, ...]:
        from mrkit.formats import ALIASES

        names = spec.roles.get(role, ())
        return (names + ALIASES.get(role, ())) if spec.use_aliases else names or ALIASES[role][:4]

    need("effect-allele", "ea" in roles, *al("ea")[:5])
    if lay.fmt == "plink2":
        need("other-allele (REF/ALT)", "omitted" in roles or {"ref", "alt"} <= set(roles), "REF")
    else:
        need("other-allele", "oa" in roles, *al("oa")[:5])
    need("effect (beta, OR or Z)", bool({"beta", "or", "z"} & set(roles)), *al("beta")[:4], "OR")
    has_var = "snp" in roles or {"chr", "pos"} <= set(roles)
    need("variant (rsID or chromosome and position)", has_var,
         *al("snp")[:4])  # fmt: skip
    if "beta" in roles or "or" in roles:
        ok = bool({"se", "p", "log10p"} & set(roles)) or {"or", "or_lo", "or_hi"} <= set(roles)
        need("standard error (or p-value to derive it)", ok, *al("se")[:4], "P")
    if "beta" not in roles and "or" not in roles and "n" not in roles and n is None:
        raise FileFormatError(
            lay.path,
            "Z-only file without a sample-size column: give n (--n N) to derive beta and SE",
        )


def _vcf_build(meta: list[str]) -> str | None:
    for line in meta:
        m = re.search(r"assembly=([A-Za-z0-9.]+)", line) or re.match(
            r"##reference=.*?(GRCh3[78]|hg19|hg38)", line
        )
        if m:
            b = m.group(1)
            return {"hg19": "GRCh37", "hg38": "GRCh38", "b37": "GRCh37"}.get(b, b)
    return None


def read_sumstats(
    path: str | Path,
    *,
    format: str = "auto",
    n: float | None = None,
    ncase: float | None = None,
    ncontrol: float | None = None,
) -> pd.DataFrame:
    """Read one summary-statistics file into the normalised table.

    Parameters
    ----------
    path
        Plain, gzip or bgzip text file (tab, space, comma; CRLF and BOM are fine)
        or a GWAS-VCF.
    format
        ``"auto"`` (detect from the header) or one of :data:`FORMATS`.
    n, ncase, ncontrol
        Sample size used where the file has none (``n = ncase + ncontrol``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS` in file order; ``df.attrs["mrkit"]`` holds the
        detected format, rows read and dropped, the column used for each role
        and the genome build when the file states it (GWAS-VCF).

    Raises
    ------
    FileFormatError
        Naming the file, line and column of the first problem.
    """
    with connection() as con:
        meta = load_into(con, path, format=format, n=n, ncase=ncase, ncontrol=ncontrol)
        df = con.execute("SELECT * FROM gwas").df()
    meta["rows"] = len(df)
    meta["dropped"] = meta["rows_read"] - len(df)
    df["pos"] = df["pos"].astype("Int64")
    for c in ("snp", "chr", "effect_allele", "other_allele"):
        df[c] = df[c].astype(object)
    df.attrs["mrkit"] = meta
    return df


def load_gwas(
    source: str | Path, *, store: Store | str | Path | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Normalised table and metadata of a GWAS given as a file path or a store id.

    A path that exists is read with :func:`read_sumstats`; anything else is
    looked up as an id in ``store`` (a :class:`~mrkit.store.Store` or its
    path; default ``./mrkit.duckdb``).
    """
    p = Path(source)
    if p.is_file():
        df = read_sumstats(p)
        meta = dict(df.attrs["mrkit"])
        meta.setdefault("id", p.name.split(".")[0])
        meta.setdefault("trait", meta["id"])
        return df, meta
    from mrkit.store import Store

    st = store if isinstance(store, Store) else Store(store or "mrkit.duckdb", read_only=True)
    if not st.has(str(source)):
        from mrkit.errors import StoreError

        raise StoreError(
            f"{source!r} is neither a file nor a GWAS id in the store {st.path}; "
            "import it with `mrkit import` or check `mrkit studies`"
        )
    return st.get(str(source)), st.info(str(source))
