"""LD (signed r) matrices for colocalisation: from a file or from a PLINK panel.

Three sources, each returned as a square :class:`pandas.DataFrame` labelled by SNP:

* a square matrix file (:func:`read_ld`): a header of SNP names, then one row per
  SNP, optionally led by its name (CSV, TSV or whitespace; gzip ok);
* a long table (:func:`read_ld`): columns ``snp_i, snp_j, r`` (also ``SNP_A, SNP_B, R``
  as ``plink --r`` writes), one pair per row; the upper triangle is enough (each entry
  is mirrored), a missing diagonal is 1;
* a PLINK 1 panel (:func:`panel_ld`) through :class:`mrkit.ld.panel.ReferencePanel`,
  with r coded by each SNP's effect allele.

:func:`ld_for` then takes the rows and columns of a dataset's SNPs and checks the
matrix: every SNP present, symmetric, unit diagonal, ``|r| <= 1`` and positive
semi-definite (smallest eigenvalue ``>= -tol``, susieR's ``r_tol``).
"""

from __future__ import annotations

import gzip
import warnings
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mrkit.coloc.data import ColocDataset, DataFileError
from mrkit.errors import InputError, StatisticalWarning
from mrkit.ld.panel import ReferencePanel

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LDError", "align_alleles", "ld_for", "panel_ld", "read_ld"]

#: Header names of the long format (lower case), in order of preference.
LONG_COLUMNS = {
    "snp_i": ("snp_i", "snp_a", "snp1", "snpa", "variant_i", "id_a"),
    "snp_j": ("snp_j", "snp_b", "snp2", "snpb", "variant_j", "id_b"),
    "r": ("r", "ld", "corr", "r_signed"),
}
#: Largest tolerated asymmetry / diagonal error of a matrix read from a file.
SYMMETRY_TOL = 1e-6


class LDError(InputError):
    """The LD matrix and the summary statistics disagree, or the matrix is not valid LD."""


def _open_text(path: Path) -> Any:
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt") if gz else open(path)


def read_ld(path: str | Path) -> pd.DataFrame:
    """Read an LD file, square or long (see the module docstring), as a labelled matrix.

    Raises
    ------
    DataFileError
        Unreadable, a non-number, a square file whose header and rows disagree, or a
        long table with conflicting entries; the message names file, line and column.
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise DataFileError(p, "no such LD file")
    with _open_text(p) as fh:
        header = fh.readline()
    sep = "\t" if "\t" in header else "," if "," in header else r"\s+"
    names = [
        h.strip().strip('"').lower()
        for h in (header.split() if sep == r"\s+" else header.split(sep))
    ]
    found = {k: next((n for n in v if n in names), None) for k, v in LONG_COLUMNS.items()}
    try:
        frame = pd.read_csv(
            p, sep=sep, keep_default_na=False, engine="python" if sep == r"\s+" else "c"
        )
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise DataFileError(p, f"cannot be read as a table ({e})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if all(found.values()):
        return _long(frame, p, found)  # type: ignore[arg-type]
    return _square(frame, p)


def _numbers(frame: pd.DataFrame, column: str, path: Path) -> NDArray[np.float64]:
    import pandas as pd

    col = frame[column]
    if col.dtype.kind in "fi":
        vals = col.to_numpy(dtype=float)
        if np.isfinite(vals).all():
            return vals
    raw = col.astype(str).str.strip()
    vals = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(vals))
    if bad.size:
        i = int(bad[0])
        raise DataFileError(path, f"not a number ({raw.iloc[i]!r})", line=i + 2, column=column)
    return vals


def _long(frame: pd.DataFrame, path: Path, found: dict[str, str]) -> pd.DataFrame:
    import pandas as pd

    lower = {c.lower(): c for c in frame.columns}
    ci, cj, cr = (lower[found[k]] for k in ("snp_i", "snp_j", "r"))
    a = frame[ci].astype(str).str.strip().to_numpy()
    b = frame[cj].astype(str).str.strip().to_numpy()
    r = _numbers(frame, cr, path)
    codes, uniq = pd.factorize(np.concatenate([a, b]))
    ia, ib = codes[: a.size], codes[a.size :]
    snps = [str(x) for x in uniq]
    m = len(snps)
    mat = np.full((m, m), np.nan)
    mat[ia, ib] = r
    mat[ib, ia] = r  # last row of a pair wins; any row that disagrees with it is a clash
    clash = np.flatnonzero(np.abs(mat[ia, ib] - r) > SYMMETRY_TOL)
    if clash.size:
        i = int(clash[0])
        k = int(np.flatnonzero((ia == ib[i]) & (ib == ia[i]) | (ia == ia[i]) & (ib == ib[i]))[-1])
        raise DataFileError(
            path,
            f"r({a[k]}, {b[k]}) = {r[k]:g} but line {i + 2} has r({a[i]}, {b[i]}) = {r[i]:g}",
            line=k + 2,
            column=cr,
        )
    diag = np.diag(mat).copy()
    diag[np.isnan(diag)] = 1.0
    np.fill_diagonal(mat, diag)
    return pd.DataFrame(mat, index=snps, columns=snps)


def _square(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    import pandas as pd

    cols = list(frame.columns)
    m = len(frame)
    first = cols[0]
    labelled = len(cols) == m + 1
    if labelled:
        snps = cols[1:]
        rows = frame[first].astype(str).str.strip().tolist()
        if rows != snps:
            k = next(i for i, (x, y) in enumerate(zip(rows, snps, strict=True)) if x != y)
            raise DataFileError(
                path,
                f"row {k + 1} is labelled {rows[k]!r} but column {k + 1} is {snps[k]!r}; "
                "rows and columns must list the SNPs in the same order",
                line=k + 2,
                column=first,
            )
    elif len(cols) == m:
        snps = cols
    else:
        raise DataFileError(
            path,
            f"neither a square matrix ({len(cols)} header names, {m} rows) nor a long table "
            "with columns snp_i, snp_j, r",
        )
    mat = np.column_stack([_numbers(frame, c, path) for c in snps])
    return pd.DataFrame(mat, index=snps, columns=snps)


def ld_for(
    snps: NDArray[Any] | list[str],
    ld: pd.DataFrame,
    *,
    source: str = "the LD matrix",
    tol: float = 1e-8,
) -> NDArray[np.float64]:
    """The LD of ``snps`` (in their order) from a labelled matrix, checked.

    Parameters
    ----------
    snps
        SNP names of the summary statistics.
    ld
        Square matrix labelled by SNP (rows and columns).
    source
        Name of the matrix in messages (its file).
    tol
        Smallest eigenvalue allowed is ``-tol`` (susieR's ``r_tol``, 1e-8).

    Raises
    ------
    LDError
        SNPs missing from the matrix, asymmetric, diagonal not 1, ``|r| > 1``, or not
        positive semi-definite beyond ``tol``.
    """
    names = [str(s) for s in snps]
    where = {str(s): i for i, s in enumerate(ld.index)}
    missing = [s for s in names if s not in where]
    if missing:
        raise LDError(
            f"{len(missing)} of {len(names)} SNPs are not in {source}: "
            f"{', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}"
        )
    cols = {str(s): i for i, s in enumerate(ld.columns)}
    if set(cols) != set(where):
        raise LDError(f"{source}: row and column SNP labels differ")
    ri = np.array([where[s] for s in names])
    cj = np.array([cols[s] for s in names])
    r = np.asarray(ld.to_numpy(dtype=float)[np.ix_(ri, cj)])
    if not np.all(np.isfinite(r)):
        i, j = np.argwhere(~np.isfinite(r))[0]
        raise LDError(f"{source}: r({names[i]}, {names[j]}) is missing")
    asym = np.abs(r - r.T)
    if asym.max() > SYMMETRY_TOL:
        i, j = np.unravel_index(int(np.argmax(asym)), asym.shape)
        raise LDError(
            f"{source} is not symmetric: r({names[i]}, {names[j]}) = {r[i, j]:g}, "
            f"r({names[j]}, {names[i]}) = {r[j, i]:g}"
        )
    d = np.abs(np.diag(r) - 1.0)
    if d.max() > SYMMETRY_TOL:
        i = int(np.argmax(d))
        raise LDError(f"{source}: the diagonal must be 1, r({names[i]}, {names[i]}) = {r[i, i]:g}")
    if np.abs(r).max() > 1 + SYMMETRY_TOL:
        i, j = np.unravel_index(int(np.argmax(np.abs(r))), r.shape)
        raise LDError(f"{source}: |r({names[i]}, {names[j]})| = {abs(r[i, j]):g} > 1")
    r = 0.5 * (r + r.T)
    low = float(np.linalg.eigvalsh(r)[0])
    if low < -tol:
        raise LDError(
            f"{source} is not positive semi-definite: smallest eigenvalue {low:.3g} < -{tol:g} "
            "(was it computed from another sample, or with pairwise-missing genotypes?)"
        )
    return r


def panel_ld(prefix: str | Path, data: ColocDataset) -> pd.DataFrame:
    """Signed LD of a dataset's SNPs from a PLINK 1 panel, coded by the effect alleles.

    SNPs are matched by name; with ``effect_allele``/``other_allele`` in the data they
    must be the panel's two alleles (either order) and r is coded by the effect allele
    (its sign flips where that is the panel's A2). Without alleles r is coded by the
    panel's A1, with a :class:`~mrkit.errors.StatisticalWarning`.

    Raises
    ------
    LDError
        SNPs missing from the panel, or alleles that are not the panel's.
    """
    panel = ReferencePanel(prefix)
    snps = [str(s) for s in data.snp]
    rows = panel.find(snps)
    missing = [s for s, r in zip(snps, rows, strict=True) if r < 0]
    if missing:
        raise LDError(
            f"{len(missing)} of {len(snps)} SNPs of {data.name} are not in the LD panel "
            f"{prefix}: {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}"
        )
    if data.effect_allele is None or data.other_allele is None:
        warnings.warn(
            f"{data.name} has no effect_allele/other_allele columns: LD from the panel is "
            "coded by the panel's A1 alleles, which may not be the alleles of beta",
            StatisticalWarning,
            stacklevel=2,
        )
        return panel.ld_matrix(snps)
    a1 = panel.bim.a1[rows].astype(str)
    a2 = panel.bim.a2[rows].astype(str)
    ea = data.effect_allele.astype(str)
    oa = data.other_allele.astype(str)
    ok = ((ea == a1) & (oa == a2)) | ((ea == a2) & (oa == a1))
    if not ok.all():
        bad = np.flatnonzero(~ok)
        i = int(bad[0])
        raise LDError(
            f"{len(bad)} SNP(s) of {data.name} have alleles that are not the panel's, e.g. "
            f"{snps[i]}: {ea[i]}/{oa[i]} in the data, {a1[i]}/{a2[i]} in {prefix}"
        )
    return panel.ld_matrix(snps, effect_alleles=list(ea))


def align_alleles(d: ColocDataset, ref: ColocDataset) -> tuple[ColocDataset, int]:
    """``d`` with ``beta`` flipped where its alleles are ``ref``'s swapped; and how many.

    Only SNPs in both datasets are compared; alleles are compared in upper case. Without
    alleles in either dataset, ``d`` is returned as it is.

    Raises
    ------
    InputError
        A common SNP whose two alleles are not ``ref``'s two alleles.
    """
    if (
        d.effect_allele is None
        or d.other_allele is None
        or ref.effect_allele is None
        or ref.other_allele is None
    ):
        return d, 0
    where = {s: i for i, s in enumerate(ref.snp.tolist())}
    idx = np.array([where.get(s, -1) for s in d.snp.tolist()], dtype=np.intp)
    common = np.flatnonzero(idx >= 0)
    ea, oa = d.effect_allele[common], d.other_allele[common]
    rea, roa = ref.effect_allele[idx[common]], ref.other_allele[idx[common]]
    same = (ea == rea) & (oa == roa)
    swap = (ea == roa) & (oa == rea)
    bad = np.flatnonzero(~(same | swap))
    if bad.size:
        k = int(common[bad[0]])
        i = int(idx[k])
        raise InputError(
            f"{len(bad)} SNP(s) have different alleles in {d.name} and {ref.name}, e.g. "
            f"{d.snp[k]}: {d.effect_allele[k]}/{d.other_allele[k]} against "
            f"{ref.effect_allele[i]}/{ref.other_allele[i]}"
        )
    flip = common[swap & ~same]
    if flip.size == 0 or d.beta is None:
        return d, int(flip.size)
    beta = d.beta.copy()
    beta[flip] = -beta[flip]
    ea2, oa2 = d.effect_allele.copy(), d.other_allele.copy()
    ea2[flip], oa2[flip] = d.other_allele[flip], d.effect_allele[flip]
    return replace(d, beta=beta, effect_allele=ea2, other_allele=oa2), int(flip.size)
