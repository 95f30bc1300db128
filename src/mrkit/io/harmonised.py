"""Reading harmonised exposure/outcome tables (TwoSampleMR or snake_case names).

A harmonised table has one row per variant and pair with at least
``beta_exposure, se_exposure, beta_outcome, se_outcome``. TwoSampleMR's names
(``beta.exposure``, ``pval.outcome``, ``SNP``, ``mr_keep``, ...) are accepted and
renamed to mrkit's vocabulary (:data:`mrkit._core.columns.HARMONISED_ALIASES`).
Rows with ``keep = false`` stay in the table but are not analysed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mrkit._core.columns import HARMONISED_ALIASES, HARMONISED_REQUIRED
from mrkit.errors import FileFormatError, InputError

NUMERIC: tuple[str, ...] = (
    *HARMONISED_REQUIRED,
    "p_exposure",
    "p_outcome",
    "eaf_exposure",
    "eaf_outcome",
    "n_exposure",
    "n_outcome",
    "ncase_exposure",
    "ncontrol_exposure",
    "ncase_outcome",
    "ncontrol_outcome",
    "prevalence_exposure",
    "prevalence_outcome",
)

_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n", ""}


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a harmonised CSV/TSV (delimiter sniffed, gzip ok) and normalise it.

    Errors name the file, the line (the header is line 1) and the column.
    """
    p = Path(path)
    if not p.exists():
        msg = "file not found"
        raise FileFormatError(p, msg)
    if p.suffix == ".parquet":
        df = pd.read_parquet(p)
        return normalise(df, source=p)
    try:
        opener = __import__("gzip").open if p.suffix == ".gz" else open
        with opener(p, "rt", newline="", encoding="utf-8-sig") as fh:
            head = fh.read(65536)
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise FileFormatError(p, f"cannot be read as text ({exc})") from None
    if not head.strip():
        raise FileFormatError(p, "the file is empty", line=1)
    first = head.splitlines()[0]
    if "\t" in first:
        sep = "\t"
    elif "," in first:
        sep = ","
    else:
        try:
            sep = csv.Sniffer().sniff(first, delimiters=",\t; ").delimiter
        except csv.Error:
            sep = r"\s+"
    table: pd.DataFrame | None = None
    if sep in (",", "\t"):  # Arrow's multi-threaded reader; any doubt: pandas' own, below
        try:
            table = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False, engine="pyarrow")
        except (pa.ArrowInvalid, pd.errors.ParserError, ValueError):
            table = None
    if table is None:
        try:
            table = pd.read_csv(
                p,
                sep=sep,
                dtype=str,
                keep_default_na=False,
                engine="python" if sep == r"\s+" else "c",
            )
        except pd.errors.ParserError as exc:
            raise FileFormatError(p, f"malformed table ({exc})") from None
    return normalise(table, source=p)


def normalise(df: pd.DataFrame, *, source: object = "<table>") -> pd.DataFrame:
    """Rename aliases, check required columns, convert numbers and ``keep``.

    Parameters
    ----------
    df
        A harmonised table (strings or numbers).
    source
        Name used in error messages (file path or ``"<table>"``).
    """
    df = df.copy()
    dupes = df.columns[df.columns.duplicated()].tolist()
    if dupes:
        raise FileFormatError(source, f"duplicate column `{dupes[0]}`", line=1, column=dupes[0])
    renamed = {
        c: HARMONISED_ALIASES[c]
        for c in df.columns
        if c in HARMONISED_ALIASES and HARMONISED_ALIASES[c] not in df.columns
    }
    df = df.rename(columns=renamed)
    missing = [c for c in HARMONISED_REQUIRED if c not in df.columns]
    if missing:
        alias = {v: k for k, v in HARMONISED_ALIASES.items() if "." in k}
        hint = ", ".join(f"`{c}` (or `{alias.get(c, c)}`)" for c in missing)
        raise FileFormatError(source, f"missing required column {hint}", line=1)
    keep = _parse_keep(df, source)
    df["keep"] = keep
    for col in NUMERIC:
        if col in df.columns:
            df[col] = _to_float(df[col], col, source, keep if col in HARMONISED_REQUIRED else None)
    for col in HARMONISED_REQUIRED:
        _check_required(df, col, source)
    if "snp" not in df.columns:
        df.insert(0, "snp", [f"variant{i + 1}" for i in range(len(df))])
    df["snp"] = df["snp"].astype(str)
    return df.reset_index(drop=True)


#: Spellings of a missing number (after trimming, in upper case).
_NA_SPELLINGS = ("", "NA", "NAN", "NULL", ".")
_NA_TEXT = pa.array(_NA_SPELLINGS)


def _line(idx: int) -> int:
    """File line of a 0-based data row (header is line 1)."""
    return int(idx) + 2


def _parse_keep(df: pd.DataFrame, source: object) -> pd.Series:
    if "keep" not in df.columns:
        return pd.Series(True, index=df.index)
    col = df["keep"]
    if col.dtype == bool:
        return col
    text = col.astype(str).str.strip().str.lower()
    bad = ~text.isin(_TRUE | _FALSE | {"nan", "na"})
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        msg = f"`keep` must be TRUE/FALSE, got {col.iloc[i]!r}"
        raise FileFormatError(source, msg, line=_line(i), column="keep")
    return text.isin(_TRUE)


def _to_float(col: pd.Series, name: str, source: object, keep: pd.Series | None) -> pd.Series:
    if pd.api.types.is_numeric_dtype(col):
        return col.astype(float)
    fast = _arrow_float(col)
    if fast is not None:
        return fast
    text = col.astype(str).str.strip()
    na = text.str.upper().isin(_NA_SPELLINGS)
    values = pd.to_numeric(text.where(~na), errors="coerce")
    bad = values.isna() & ~na
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        msg = f"not a number: {col.iloc[i]!r}"
        raise FileFormatError(source, msg, line=_line(i), column=name)
    return values.astype(float)


def _arrow_float(col: pd.Series) -> pd.Series | None:
    """``col`` parsed by Arrow's compiled kernels (missing spellings as NaN), or None
    when a value is not a number (the caller then finds and reports it)."""
    try:
        arr = pa.array(col.to_numpy(object) if col.dtype == object else col.array, pa.string())
        text = pc.utf8_trim_whitespace(arr)
        na = pc.is_in(pc.utf8_upper(text), value_set=_NA_TEXT)
        values = pc.cast(pc.if_else(na, pa.scalar(None, pa.string()), text), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    return pd.Series(values.to_numpy(zero_copy_only=False), index=col.index, dtype=float)


def _check_required(df: pd.DataFrame, col: str, source: object) -> None:
    used = df["keep"].to_numpy(bool)
    values = df[col].to_numpy(float)
    bad = used & ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = (
            "missing or non-finite value in a row used for MR; "
            "fix it or set `keep`/`mr_keep` to FALSE for that variant"
        )
        raise FileFormatError(source, msg, line=_line(i), column=col)
    if col.startswith("se_"):
        bad = used & (values <= 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            msg = f"standard error must be > 0, got {values[i]!r}"
            raise FileFormatError(source, msg, line=_line(i), column=col)


def pair_columns(df: pd.DataFrame) -> tuple[str, str] | None:
    """The columns that identify exposure-outcome pairs, as TwoSampleMR's ``mr()``."""
    if "id_exposure" in df.columns and "id_outcome" in df.columns:
        return "id_exposure", "id_outcome"
    if "exposure" in df.columns and "outcome" in df.columns:
        return "exposure", "outcome"
    return None


def iter_pairs(df: pd.DataFrame) -> Iterator[tuple[dict[str, str], pd.DataFrame]]:
    """Yield ``({"exposure": .., "outcome": ..}, rows)`` per pair (one pair if no id columns)."""
    cols = pair_columns(df)
    if cols is None:
        yield {}, df
        return
    for (exp, out), rows in df.groupby(list(cols), sort=False, dropna=False):
        label = {"exposure": str(exp), "outcome": str(out)}
        if cols[0] == "id_exposure":
            for key in ("exposure", "outcome"):
                if key in rows.columns and rows[key].nunique(dropna=False) == 1:
                    label[f"{key}_name"] = str(rows[key].iloc[0])
        yield label, rows


def analysable(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows used for MR (``keep`` true)."""
    return rows.loc[rows["keep"].to_numpy(bool)]


def check_frame(table: object) -> pd.DataFrame:
    """Accept a DataFrame or a path and return a normalised table."""
    if isinstance(table, pd.DataFrame):
        return normalise(table)
    if isinstance(table, str | Path):
        return read_table(table)
    msg = f"`table` must be a pandas DataFrame or a path, got {type(table).__name__}"
    raise InputError(msg)
