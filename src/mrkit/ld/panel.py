"""LD from a local PLINK 1 reference panel: r matrices, clumping and proxies.

:class:`ReferencePanel` opens one ``.bed/.bim/.fam`` file set, or one per
chromosome (``ref/EUR.chr{chr}`` or ``ref/EUR.chr{1..22}``), checks that the
files agree, and reads only the genotypes of the variants asked for (through
bed-reader). Variants are found by rsID, or by ``chr:pos`` with an allele
check when the table has positions and alleles.

Two LD estimates are used, each where the field's references use it:

* :meth:`ReferencePanel.clump` uses PLINK 1.9's haplotype-frequency r²
  (see :mod:`mrkit.ld.clump`), so that the index variants are PLINK's.
* :meth:`ReferencePanel.ld_matrix` and :meth:`ReferencePanel.proxies` use the
  genotype (dosage) Pearson correlation over the samples genotyped at both
  variants, as ``plink1.9 --r`` / ``--r2`` (what ieugwasr's ``ld_matrix``
  and LD-proxy lookups return).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mrkit._core.columns import canonical_columns as _normalise
from mrkit.errors import InputError, PanelError

__all__ = ["ReferencePanel"]

_BED_MAGIC = b"\x6c\x1b"


@dataclass(frozen=True)
class _FileSet:
    prefix: Path
    n_variants: int
    offset: int  # global index of its first variant


def _expand(prefix: str | Path) -> list[Path]:
    text = str(prefix)
    for suffix in (".bed", ".bim", ".fam"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    m = re.search(r"\{(\d+)\.\.(\d+)\}", text)
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
        return [Path(text[: m.start()] + str(c) + text[m.end() :]) for c in range(lo, hi + 1)]
    if "{chr}" in text:
        found = []
        for c in [*map(str, range(1, 27)), "X", "Y", "XY", "MT"]:
            p = Path(text.replace("{chr}", c))
            if p.with_name(p.name + ".bed").exists():
                found.append(p)
        if not found:
            raise PanelError(
                f"no file set matches the LD panel pattern `{text}` "
                "(looked for chromosomes 1-26, X, Y, XY, MT with .bed/.bim/.fam)"
            )
        return found
    return [Path(text)]


def _file(prefix: Path, ext: str) -> Path:
    return prefix.with_name(prefix.name + ext)


def _read_bim(path: Path) -> pd.DataFrame:
    try:
        bim = pd.read_csv(
            path,
            sep=r"\s+",
            header=None,
            names=["chr", "snp", "cm", "pos", "a1", "a2"],
            dtype={"chr": str, "snp": str, "cm": float, "pos": np.int64, "a1": str, "a2": str},
            engine="c",
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise PanelError(f"{path}: not a PLINK .bim file (6 columns expected): {exc}") from exc
    if bim.isna().any().any():
        raise PanelError(f"{path}: not a PLINK .bim file (6 columns expected on every line)")
    bim["a1"] = bim["a1"].str.upper()
    bim["a2"] = bim["a2"].str.upper()
    return bim


def _count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def _check_fileset(prefix: Path) -> tuple[pd.DataFrame, int]:
    missing = [
        str(_file(prefix, e)) for e in (".bed", ".bim", ".fam") if not _file(prefix, e).exists()
    ]
    if missing:
        raise PanelError(
            f"LD panel file(s) missing: {', '.join(missing)} "
            "(a panel is a PLINK 1 .bed/.bim/.fam set; give the prefix without extension)"
        )
    bed = _file(prefix, ".bed")
    bim = _read_bim(_file(prefix, ".bim"))
    n = _count_lines(_file(prefix, ".fam"))
    with open(bed, "rb") as fh:
        head = fh.read(3)
    if len(head) < 3 or head[:2] != _BED_MAGIC:
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
            f"{bed}: {size} bytes, but {len(bim)} variants in {_file(prefix, '.bim')} x "
            f"{n} samples in {_file(prefix, '.fam')} need {expected}: the files disagree"
        )
    return bim, n


class ReferencePanel:
    """A PLINK 1 binary LD reference panel on disk.

    Parameters
    ----------
    prefix
        File-set prefix (``ref/EUR``), a per-chromosome pattern with ``{chr}``
        (``ref/EUR.chr{chr}``) or a range (``ref/EUR.chr{1..22}``).

    Raises
    ------
    PanelError
        A file is missing, a ``.bed`` is not variant-major PLINK 1, the
        ``.bed`` size disagrees with the ``.bim``/``.fam``, or the per-
        chromosome files hold different samples. The message names the file.
    """

    def __init__(self, prefix: str | Path) -> None:
        self.prefix = str(prefix)
        parts: list[pd.DataFrame] = []
        self._sets: list[_FileSet] = []
        n_samples: int | None = None
        offset = 0
        for p in _expand(prefix):
            bim, n = _check_fileset(p)
            if n_samples is not None and n != n_samples:
                raise PanelError(
                    f"{_file(p, '.fam')}: {n} samples, but the first file set of the panel "
                    f"has {n_samples}; per-chromosome files must hold the same people"
                )
            n_samples = n
            bim["fileset"] = len(self._sets)
            bim["local"] = np.arange(len(bim))
            parts.append(bim)
            self._sets.append(_FileSet(p, len(bim), offset))
            offset += len(bim)
        self.n_samples = int(n_samples or 0)
        self.variants = pd.concat(parts, ignore_index=True)
        self._beds: dict[int, object] = {}
        self._by_id = None  # pyarrow array of IDs, built on first lookup
        self._by_pos: dict[tuple[str, int], list[int]] | None = None

    def __repr__(self) -> str:
        return (
            f"ReferencePanel({self.prefix!r}: {len(self.variants)} variants, "
            f"{self.n_samples} samples, {len(self._sets)} file set(s))"
        )

    @property
    def n_variants(self) -> int:
        return len(self.variants)

    # ------------------------------------------------------------------ lookup
    def _ids(self):
        """The panel's variant IDs as one Arrow array (hash lookups in C)."""
        if self._by_id is None:
            import pyarrow as pa

            self._by_id = pa.array(self.variants["snp"].astype(str))
        return self._by_id

    def _positions(self) -> dict[tuple[str, int], list[int]]:
        if self._by_pos is None:
            d: dict[tuple[str, int], list[int]] = {}
            chrs = self.variants["chr"].to_numpy()
            pos = self.variants["pos"].to_numpy()
            for i, key in enumerate(zip(chrs, pos.tolist(), strict=True)):
                d.setdefault(key, []).append(i)
            self._by_pos = d
        return self._by_pos

    def locate(
        self,
        snps: Iterable[str] | pd.DataFrame,
    ) -> np.ndarray:
        """Panel row of each variant, ``-1`` where the panel does not have it.

        ``snps`` is a list of IDs, or a table with ``snp`` and optionally
        ``chr``, ``pos``, ``effect_allele``, ``other_allele``: an rsID is
        matched first; otherwise ``chr:pos`` is tried. When alleles are given
        they must be the panel's two alleles (either order) or the row is
        counted as absent.
        """
        if isinstance(snps, pd.DataFrame):
            table = _normalise(snps)
        else:
            table = pd.DataFrame({"snp": [str(s) for s in snps]})
        import pyarrow as pa
        import pyarrow.compute as pc

        # index_in gives the first matching row: first occurrence wins, as in PLINK
        hit = pc.index_in(pa.array(table["snp"].astype(str)), value_set=self._ids())
        out = hit.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        has_pos = {"chr", "pos"} <= set(table.columns)
        has_alleles = {"effect_allele", "other_allele"} <= set(table.columns)
        a1 = self.variants["a1"].to_numpy()
        a2 = self.variants["a2"].to_numpy()
        if has_alleles:
            ea = table["effect_allele"].astype(str).str.upper().to_numpy()
            oa = table["other_allele"].astype(str).str.upper().to_numpy()
        if has_pos and (out < 0).any():
            chrs = table["chr"].astype(str).str.removeprefix("chr").to_numpy()
            pos = pd.to_numeric(table["pos"], errors="coerce").to_numpy()
            bypos = self._positions()
            for i in np.flatnonzero(out < 0):
                if not np.isfinite(pos[i]):
                    continue
                for j in bypos.get((chrs[i], int(pos[i])), []):
                    if not has_alleles or {ea[i], oa[i]} == {a1[j], a2[j]}:
                        out[i] = j
                        break
        if has_alleles:
            hit = np.flatnonzero(out >= 0)
            bad = ~(
                ((ea[hit] == a1[out[hit]]) & (oa[hit] == a2[out[hit]]))
                | ((ea[hit] == a2[out[hit]]) & (oa[hit] == a1[out[hit]]))
            )
            out[hit[bad]] = -1
        return out

    # --------------------------------------------------------------- genotypes
    def _bed(self, k: int):
        if k not in self._beds:
            from bed_reader import open_bed

            fs = self._sets[k]
            self._beds[k] = open_bed(
                _file(fs.prefix, ".bed"),
                iid_count=self.n_samples,
                sid_count=fs.n_variants,
                num_threads=1,
            )
        return self._beds[k]

    def genotypes(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """``(n_samples, len(rows))`` int8 counts of each variant's A1 (-127 = missing)."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((self.n_samples, rows.size), dtype=np.int8)
        if rows.size == 0:
            return out
        fsets = self.variants["fileset"].to_numpy()[rows]
        local = self.variants["local"].to_numpy()[rows]
        for k in np.unique(fsets):
            sel = np.flatnonzero(fsets == k)
            order = np.argsort(local[sel], kind="stable")
            g = self._bed(int(k)).read(index=np.s_[:, local[sel][order]], dtype="int8")
            out[:, sel[order]] = g
        return out

    # ----------------------------------------------------------------- LD
    def _rows_or_raise(self, snps: Sequence[str] | pd.DataFrame) -> np.ndarray:
        rows = self.locate(snps)
        if (rows < 0).any():
            names = snps["snp"] if isinstance(snps, pd.DataFrame) else pd.Series(list(snps))
            absent = [str(s) for s, r in zip(names, rows, strict=True) if r < 0]
            raise InputError(
                f"{len(absent)} variant(s) not in the LD panel {self.prefix}: "
                f"{', '.join(absent[:10])}{' ...' if len(absent) > 10 else ''}"
            )
        return rows

    def r(self, snps: Sequence[str]) -> pd.DataFrame:
        """Signed genotype correlation between variants, coded as the panel's A1."""
        return self.ld_matrix(snps)

    def ld_matrix(
        self, snps: Sequence[str], effect_alleles: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Signed LD (r) matrix, labelled by SNP.

        With ``effect_alleles`` each variant is coded as the count of its
        effect allele (the sign of r flips where it is the panel's A2); an
        effect allele that is neither panel allele raises :class:`InputError`.
        r is the Pearson correlation of genotype counts over the samples
        genotyped at both variants (``plink1.9 --r``).
        """
        snps = [str(s) for s in snps]
        rows = self._rows_or_raise(snps)
        r = genotype_r(self.genotypes(rows))
        if effect_alleles is not None:
            sign = self._allele_sign(rows, effect_alleles, snps)
            r = r * np.outer(sign, sign)
        return pd.DataFrame(r, index=snps, columns=snps)

    def _allele_sign(self, rows, alleles, snps) -> np.ndarray:
        ea = np.array([str(a).upper() for a in alleles])
        if ea.size != rows.size:
            raise InputError(f"{ea.size} effect alleles for {rows.size} variants")
        a1 = self.variants["a1"].to_numpy()[rows]
        a2 = self.variants["a2"].to_numpy()[rows]
        bad = (ea != a1) & (ea != a2)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"effect allele {ea[i]} of {snps[i]} is neither panel allele ({a1[i]}/{a2[i]})"
            )
        return np.where(ea == a1, 1.0, -1.0)


def genotype_r(g: np.ndarray) -> np.ndarray:
    """Pearson r between the columns of an int8 genotype matrix, pairwise-complete.

    Missing genotypes (negative codes) are left out pair by pair, as
    ``plink1.9 --r``; a monomorphic variant has r = 0 with everything
    (1 on the diagonal).
    """
    ok = (g >= 0).astype(np.float64)
    x = np.where(g >= 0, g, 0).astype(np.float64)
    if ok.all():
        xc = x - x.mean(axis=0)
        ss = np.sqrt((xc * xc).sum(axis=0))
        cov = xc.T @ xc
        with np.errstate(divide="ignore", invalid="ignore"):
            r = cov / np.outer(ss, ss)
    else:
        n = ok.T @ ok
        sx = x.T @ ok  # sx[i, j]: sum of x_i over samples with j present
        sxx = (x * x).T @ ok
        sxy = x.T @ x
        num = n * sxy - sx * sx.T
        vi = n * sxx - sx * sx
        with np.errstate(divide="ignore", invalid="ignore"):
            r = num / np.sqrt(vi * vi.T)
    r = np.where(np.isfinite(r), r, 0.0)
    np.fill_diagonal(r, 1.0)
    return np.clip(r, -1.0, 1.0)
