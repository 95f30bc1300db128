"""One trait's summary statistics in a region, as coloc's ``dataset`` lists hold them.

A :class:`ColocDataset` is built from a file (:func:`read_dataset`), a table or a
mapping (:func:`as_dataset`) and checked as coloc's ``check_dataset`` does; every
problem is an :class:`~mrkit.errors.InputError` naming the file, line and column (or
the dataset and key).

The file columns are those of coloc's lists, ``snp, position, beta, varbeta, pvalues,
MAF, N, type, s, sdY`` (any case), with these aliases: ``SNP``/``rsid``/``id`` for
``snp``; ``pos``/``bp`` for ``position``; ``se`` for ``varbeta`` (``varbeta = se²``);
``p``/``pval``/``p_value`` for ``pvalues``; ``maf``/``eaf``/``freq`` for ``MAF`` (a
frequency above 0.5 is folded to ``1 - f``); ``n``/``samplesize`` for ``N``. Optional
``effect_allele``/``other_allele`` (``ea``/``oa``, ``a1``/``a2``) are kept to align LD.
``N``, ``type``, ``s`` and ``sdY`` are per dataset: repeated on every row, empty cells
allowed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from mrkit.errors import FileFormatError, InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ColocDataset", "DataFileError", "as_dataset", "read_dataset"]

FloatArray = NDArray[np.float64]
TraitType = Literal["quant", "cc"]

#: Canonical column -> accepted header names (lower case), in order of preference.
ALIASES: dict[str, tuple[str, ...]] = {
    "snp": ("snp", "rsid", "rs_id", "id", "variant_id", "marker", "markername", "snpid"),
    "position": ("position", "pos", "bp", "base_pair_location"),
    "beta": ("beta", "b", "effect"),
    "varbeta": ("varbeta", "var_beta"),
    "se": ("se", "standard_error", "se_beta", "sebeta"),
    "pvalues": ("pvalues", "pvalue", "p", "pval", "p_value", "p-value"),
    "MAF": ("maf", "eaf", "freq", "af", "effect_allele_frequency"),
    "N": ("n", "samplesize", "sample_size", "n_total"),
    "type": ("type",),
    "s": ("s", "prop_cases", "case_fraction"),
    "sdY": ("sdy", "sd_y"),
    "effect_allele": ("effect_allele", "ea", "a1", "alt"),
    "other_allele": ("other_allele", "oa", "a2", "ref"),
}


class DataFileError(FileFormatError, InputError):
    """A DATA file cannot be used; the message names the file, line and column."""


@dataclass(frozen=True)
class ColocDataset:
    """One trait's per-SNP summary statistics (coloc's ``dataset`` list).

    Attributes
    ----------
    snp
        SNP identifiers (unique).
    type
        ``"quant"`` (quantitative trait) or ``"cc"`` (case-control).
    beta, varbeta
        Effect estimates and their variances (``se²``), or None.
    pvalues
        Two-sided p-values, or None; used only without ``beta``/``varbeta``.
    maf
        Minor allele frequencies, in (0, 1), or None.
    n
        Sample size per SNP (coloc takes one number; a constant array here), or None.
    s
        Fraction of cases (``cc`` only), or None.
    sdy
        Standard deviation of the trait (``quant``), or None to estimate it.
    position
        Positions, or None.
    effect_allele, other_allele
        Alleles (upper case), or None; ``beta`` is per copy of ``effect_allele``.
    name
        Where the data came from (file name or ``dataset1``), used in messages.
    """

    snp: NDArray[Any]
    type: TraitType
    beta: FloatArray | None = None
    varbeta: FloatArray | None = None
    pvalues: FloatArray | None = None
    maf: FloatArray | None = None
    n: FloatArray | None = None
    s: float | None = None
    sdy: float | None = None
    position: FloatArray | None = None
    effect_allele: NDArray[Any] | None = None
    other_allele: NDArray[Any] | None = None
    name: str = "dataset"

    def __len__(self) -> int:
        return int(self.snp.size)

    @property
    def has_estimates(self) -> bool:
        """True when ``beta`` and ``varbeta`` are given (coloc then ignores p-values)."""
        return self.beta is not None and self.varbeta is not None

    @property
    def z(self) -> FloatArray:
        """``beta / sqrt(varbeta)``, or ``|z|`` from the p-values when only those are given."""
        if self.beta is not None and self.varbeta is not None:
            out: FloatArray = self.beta / np.sqrt(self.varbeta)
            return out
        from scipy.special import ndtri

        assert self.pvalues is not None
        return np.asarray(-ndtri(0.5 * self.pvalues), dtype=float)

    def take(self, index: NDArray[np.intp]) -> ColocDataset:
        """The dataset restricted to (and reordered by) ``index``."""

        def sub(a: Any) -> Any:
            return None if a is None else a[index]

        return replace(
            self,
            snp=self.snp[index],
            beta=sub(self.beta),
            varbeta=sub(self.varbeta),
            pvalues=sub(self.pvalues),
            maf=sub(self.maf),
            n=sub(self.n),
            position=sub(self.position),
            effect_allele=sub(self.effect_allele),
            other_allele=sub(self.other_allele),
        )

    def check(self) -> ColocDataset:
        """Raise :class:`InputError` where coloc's ``check_dataset`` would stop; return self."""
        who = f"{self.name}:"
        m = self.snp.size
        if self.type not in ("quant", "cc"):
            raise InputError(f"{who} `type` must be quant or cc, got {self.type!r}")
        if m == 0:
            raise InputError(f"{who} no SNPs")
        arrays = {
            "beta": self.beta,
            "varbeta": self.varbeta,
            "pvalues": self.pvalues,
            "MAF": self.maf,
            "N": self.n,
            "position": self.position,
        }
        for key, a in arrays.items():
            if a is None:
                continue
            if a.shape != (m,):
                raise InputError(f"{who} `{key}` has {a.size} values for {m} SNPs")
            bad = ~np.isfinite(a)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise InputError(f"{who} `{key}` is missing or infinite for SNP {self.snp[i]}")
        names = self.snp.tolist()
        if len(set(names)) < m:
            counts = Counter(names)
            dup = [x for x in counts if counts[x] > 1]
            raise InputError(f"{who} duplicated SNP(s) {', '.join(map(str, dup[:5]))}")
        self._positive(self.varbeta, "varbeta", who)
        self._positive(self.n, "N", who)
        if self.maf is not None and ((self.maf <= 0) | (self.maf >= 1)).any():
            i = int(np.flatnonzero((self.maf <= 0) | (self.maf >= 1))[0])
            raise InputError(f"{who} `MAF` must be strictly between 0 and 1 (SNP {self.snp[i]})")
        if self.s is not None and not 0 < self.s < 1:
            raise InputError(f"{who} `s` (fraction of cases) must be between 0 and 1")
        if self.sdy is not None and not (np.isfinite(self.sdy) and self.sdy > 0):
            raise InputError(f"{who} `sdY` must be positive")
        if (self.beta is None) != (self.varbeta is None):
            have = "beta" if self.beta is not None else "varbeta"
            raise InputError(f"{who} `{have}` without its partner; give both beta and varbeta")
        if not self.has_estimates:
            if self.pvalues is None or self.maf is None:
                raise InputError(
                    f"{who} give beta and varbeta, or pvalues with MAF and N "
                    "(neither set is complete)"
                )
            p = self.pvalues
            if ((p <= 0) | (p > 1)).any():
                i = int(np.flatnonzero((p <= 0) | (p > 1))[0])
                raise InputError(f"{who} `pvalues` must be in (0, 1] (SNP {self.snp[i]})")
            if self.n is None:
                raise InputError(f"{who} p-values need the sample size `N`")
            if self.type == "cc" and self.s is None:
                raise InputError(f"{who} p-values of a case-control trait need `s`")
        if (
            self.type == "quant"
            and self.has_estimates
            and self.sdy is None
            and (self.maf is None or self.n is None)
        ):
            raise InputError(
                f"{who} give `sdY` for a quantitative trait, or MAF and N to estimate it"
            )
        object.__setattr__(self, "_checked", True)  # as_dataset need not check it again
        return self

    def _positive(self, a: FloatArray | None, key: str, who: str) -> None:
        if a is not None and (a <= 0).any():
            i = int(np.flatnonzero(a <= 0)[0])
            raise InputError(f"{who} `{key}` must be positive (SNP {self.snp[i]})")


# ----------------------------------------------------------------------------- builders
def _float(value: Any) -> float | None:
    if value is None:
        return None
    a = np.asarray(value, dtype=float).ravel()
    a = a[np.isfinite(a)]
    return float(a[0]) if a.size else None


def _array(value: Any, m: int) -> FloatArray | None:
    if value is None:
        return None
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        a = np.full(m, float(a))
    return a


def as_dataset(obj: Any, name: str = "dataset") -> ColocDataset:
    """A checked :class:`ColocDataset` from a dataset, a mapping or a table.

    A mapping holds coloc's list elements (``snp, beta, varbeta, pvalues, MAF, N, type,
    s, sdY, position``; scalars are per dataset); a pandas table holds the columns of a
    DATA file (aliases accepted, see the module docstring).
    """
    if isinstance(obj, ColocDataset):
        return obj if getattr(obj, "_checked", False) else obj.check()
    if hasattr(obj, "columns"):
        return _from_frame(obj, name, None)
    if not isinstance(obj, Mapping):
        raise InputError(f"{name}: expected a mapping or table of summary statistics")
    d = {str(k): v for k, v in obj.items()}
    low = {k.lower(): k for k in d}

    def get(*keys: str) -> Any:
        for k in keys:
            if k.lower() in low:
                return d[low[k.lower()]]
        return None

    if get("snp") is None:
        raise InputError(f"{name}: missing required element `snp`")
    snp = np.asarray([str(x) for x in np.atleast_1d(get("snp"))], dtype=object)
    m = snp.size
    varbeta = get("varbeta")
    se = get("se")
    if varbeta is None and se is not None:
        varbeta = np.asarray(se, dtype=float) ** 2
    typ = get("type")
    if typ is None:
        raise InputError(f"{name}: missing required element `type` (quant or cc)")
    ea, oa = get("effect_allele"), get("other_allele")
    ds = ColocDataset(
        snp=snp,
        type=str(np.atleast_1d(typ)[0]),  # type: ignore[arg-type]
        beta=_array(get("beta"), m),
        varbeta=_array(varbeta, m),
        pvalues=_array(get("pvalues", "p"), m),
        maf=_array(get("MAF"), m),
        n=_array(get("N"), m),
        s=_float(get("s")),
        sdy=_float(get("sdY")),
        position=_array(get("position"), m),
        effect_allele=None if ea is None else np.char.upper(np.asarray(ea, dtype=str)),
        other_allele=None if oa is None else np.char.upper(np.asarray(oa, dtype=str)),
        name=name,
    )
    return ds.check()


def read_dataset(path: str | Path) -> ColocDataset:
    """Read one DATA file (CSV or TSV, gzip ok) into a checked :class:`ColocDataset`.

    Raises
    ------
    DataFileError
        A missing or non-numeric value, a missing column, or an inconsistent per-dataset
        value; the message names the file, the 1-based line (header = line 1) and column.
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise DataFileError(p, "no such file")
    try:
        frame = pd.read_csv(p, sep=None, engine="python", dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise DataFileError(p, f"cannot be read as a CSV/TSV table ({e})") from None
    return _from_frame(frame, str(p), p)


def _from_frame(frame: pd.DataFrame, name: str, path: Path | None) -> ColocDataset:
    """Resolve aliases, parse numbers with file/line/column errors, then check."""
    import pandas as pd

    def fail(message: str, line: int | None = None, column: str | None = None) -> InputError:
        if path is not None:
            return DataFileError(path, message, line=line, column=column)
        where = f"{name}" + (f", row {line - 1}" if line is not None else "")
        where += f", column `{column}`" if column is not None else ""
        return InputError(f"{where}: {message}")

    lower: dict[str, str] = {}
    for c in frame.columns:
        lower.setdefault(str(c).strip().lower(), str(c))
    cols: dict[str, str] = {}
    for canon, names in ALIASES.items():
        hit = next((lower[n] for n in names if n in lower), None)
        if hit is not None:
            cols[canon] = hit
    if "snp" not in cols:
        raise fail("no SNP column (snp, SNP, rsid or id)")
    if "type" not in cols:
        raise fail("no `type` column (quant or cc)")
    m = len(frame)
    if m == 0:
        raise fail("no rows")

    def text(canon: str) -> NDArray[Any]:
        s = frame[cols[canon]]
        out = s.astype(str).str.strip().to_numpy(dtype=object)
        out[s.isna().to_numpy()] = ""  # NaN/None of a table given in memory = empty
        return out

    def numbers(canon: str, *, required: bool) -> FloatArray | None:
        if canon not in cols:
            return None
        raw = text(canon)
        empty = np.asarray([v == "" or v.upper() in ("NA", "NAN") for v in raw], dtype=bool)
        if empty.all() and not required:
            return None
        vals = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(vals)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            what = "missing" if empty[i] else f"not a finite number ({raw[i]!r})"
            raise fail(f"value is {what}", line=i + 2, column=cols[canon])
        return vals

    def per_dataset(canon: str) -> float | None:
        if canon not in cols:
            return None
        raw = text(canon)
        vals = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(dtype=float)
        given = np.flatnonzero(raw != "")
        bad = given[~np.isfinite(vals[given])]
        if bad.size:
            i = int(bad[0])
            raise fail(f"not a number ({raw[i]!r})", line=i + 2, column=cols[canon])
        if given.size == 0:
            return None
        u = np.unique(vals[given])
        if u.size > 1:
            i = int(given[np.flatnonzero(vals[given] != vals[given[0]])[0]])
            raise fail(
                f"`{canon}` is one value per dataset, but this row has {raw[i]} "
                f"and line 2 has {vals[given[0]]:g}",
                line=i + 2,
                column=cols[canon],
            )
        return float(u[0])

    snp = text("snp")
    empty_snp = np.flatnonzero(snp == "")
    if empty_snp.size:
        raise fail("empty SNP id", line=int(empty_snp[0]) + 2, column=cols["snp"])
    types = text("type")
    given = types[types != ""]
    kinds = set(given.tolist())
    if not kinds or not kinds <= {"quant", "cc"} or len(kinds) > 1:
        i = int(np.flatnonzero((types != types[0]) | ~np.isin(types, ["quant", "cc"]))[0])
        raise fail(
            f"`type` must be quant or cc on every row, got {types[i]!r}",
            line=i + 2,
            column=cols["type"],
        )
    beta = numbers("beta", required=False)
    varbeta = numbers("varbeta", required=False)
    if varbeta is None and "se" in cols:
        se = numbers("se", required=False)
        varbeta = None if se is None else se**2
    if beta is not None and varbeta is None:
        raise fail("a `beta` column needs `varbeta` (or `se`)")
    pvalues = numbers("pvalues", required=beta is None)
    maf = numbers("MAF", required=False)
    if maf is not None:
        maf = np.where(maf > 0.5, 1.0 - maf, maf)
        bad = np.flatnonzero((maf <= 0) | (maf >= 1))
        if bad.size:
            i = int(bad[0])
            raise fail("MAF must be strictly between 0 and 1", line=i + 2, column=cols["MAF"])
    n = per_dataset("N")
    checks = (
        ("se" if "varbeta" not in cols else "varbeta", varbeta, lambda a: a <= 0, "positive"),
        ("pvalues", pvalues, lambda a: (a <= 0) | (a > 1), "in (0, 1]"),
    )
    for key, arr, is_bad, rule in checks:
        hits = np.flatnonzero(is_bad(arr)) if arr is not None and key in cols else None
        if hits is not None and hits.size:
            i = int(hits[0])
            raise fail(f"must be {rule}, got {text(key)[i]}", line=i + 2, column=cols[key])
    seen: dict[str, int] = {}
    for i, sid in enumerate(snp.tolist()):
        if sid in seen:
            raise fail(
                f"SNP {sid} appears twice (also on line {seen[sid] + 2})",
                line=i + 2,
                column=cols["snp"],
            )
        seen[sid] = i
    position = numbers("position", required=False)
    ea = text("effect_allele") if "effect_allele" in cols else None
    oa = text("other_allele") if "other_allele" in cols else None
    ds = ColocDataset(
        snp=snp,
        type=next(iter(kinds)),
        beta=beta,
        varbeta=varbeta,
        pvalues=pvalues,
        maf=maf,
        n=None if n is None else np.full(m, n),
        s=per_dataset("s"),
        sdy=per_dataset("sdY"),
        position=position,
        effect_allele=None if ea is None else np.asarray([a.upper() for a in ea], dtype=object),
        other_allele=None if oa is None else np.asarray([a.upper() for a in oa], dtype=object),
        name=name,
    )
    try:
        return ds.check()
    except InputError as e:
        if path is None:
            raise
        msg = str(e).removeprefix(f"{name}:").strip()
        raise DataFileError(path, msg) from None
