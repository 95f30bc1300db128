"""LD from a local PLINK 1 reference panel: variant lookup, genotypes and r matrices.

:class:`ReferencePanel` opens one ``.bed/.bim/.fam`` file set, or one per
chromosome (``ref/EUR.chr{chr}`` or ``ref/EUR.chr{1..22}``), through
:mod:`mrkit.io.plink` (which checks that the files agree), and reads only the
genotypes of the variants asked for. Variants are found by rsID, or by
``chr:pos`` with an allele check when the table has positions and alleles.

Two LD estimates are used, each where the field's references use it:

* clumping (:mod:`mrkit.ld.clump`) uses PLINK 1.9's haplotype-frequency r², so
  that the index variants are PLINK's;
* :meth:`ReferencePanel.ld_matrix` and LD proxies (:mod:`mrkit.ld.proxies`) use
  the genotype (dosage) Pearson correlation over the samples genotyped at both
  variants, as ``plink1.9 --r`` / ``--r2`` (what ieugwasr's ``ld_matrix`` and
  LD-proxy lookups return).

Opening a panel and looking variants up needs numpy and Arrow only; pandas is
imported when a pandas table is given or asked for (:attr:`ReferencePanel.variants`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import pyarrow as pa

from mrkit._core.columns import canonical_columns
from mrkit.errors import InputError, PanelError
from mrkit.io.plink import (
    Bim,
    FileSet,
    decode_genotypes,
    fileset_prefix,
    lookup,
    open_fileset,
    take_strings,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ReferencePanel", "genotype_r"]


def _expand(prefix: str | Path) -> list[Path]:
    """The file-set prefixes of a panel: one, a ``{lo..hi}`` range or a ``{chr}`` pattern."""
    text = str(fileset_prefix(prefix))
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


def _text(values: Iterable[object]) -> list[str]:
    return [str(v) for v in values]


class ReferencePanel:
    """A PLINK 1 binary LD reference panel on disk.

    Parameters
    ----------
    prefix
        File-set prefix (``ref/EUR``), a per-chromosome pattern with ``{chr}``
        (``ref/EUR.chr{chr}``) or a range (``ref/EUR.chr{1..22}``).

    Attributes
    ----------
    bim
        All variants of the panel in order (:class:`mrkit.io.plink.Bim`: numpy and
        Arrow columns); a variant's position in it is its *row*.
    n_samples
        Samples genotyped (the same people in every file set).

    Raises
    ------
    PanelError
        A file is missing, a ``.bed`` is not variant-major PLINK 1, the
        ``.bed`` size disagrees with the ``.bim``/``.fam``, or the per-
        chromosome files hold different samples. The message names the file.
    """

    def __init__(self, prefix: str | Path) -> None:
        self.prefix = str(prefix)
        self._sets: list[FileSet] = []
        for p in _expand(prefix):
            fs = open_fileset(p)
            if self._sets and fs.n_samples != self._sets[0].n_samples:
                raise PanelError(
                    f"{fs.path('.fam')}: {fs.n_samples} samples, but the first file set of "
                    f"the panel has {self._sets[0].n_samples}; per-chromosome files must hold "
                    "the same people"
                )
            self._sets.append(fs)
        self.n_samples = self._sets[0].n_samples if self._sets else 0
        self.bim: Bim = Bim.concat([fs.bim for fs in self._sets])
        sizes = [fs.n_variants for fs in self._sets]
        self._fileset = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
        self._local = np.concatenate([np.arange(n, dtype=np.int64) for n in sizes])
        self._variants: pd.DataFrame | None = None
        self._by_pos: dict[tuple[str, int], list[int]] | None = None

    def __repr__(self) -> str:
        return (
            f"ReferencePanel({self.prefix!r}: {self.n_variants} variants, "
            f"{self.n_samples} samples, {len(self._sets)} file set(s))"
        )

    @property
    def n_variants(self) -> int:
        return len(self.bim)

    @property
    def variants(self) -> pd.DataFrame:
        """The variants as a table: ``chr, snp, cm, pos, a1, a2, fileset, local``.

        ``fileset`` is the index of the file set holding the variant and ``local``
        its row there. Built (with pandas) on first use.
        """
        if self._variants is None:
            v = self.bim.to_frame()
            v["fileset"] = self._fileset
            v["local"] = self._local
            self._variants = v
        return self._variants

    # ------------------------------------------------------------------ lookup
    def _positions(self) -> dict[tuple[str, int], list[int]]:
        if self._by_pos is None:
            d: dict[tuple[str, int], list[int]] = {}
            keys = zip(self.bim.chr.tolist(), self.bim.pos.tolist(), strict=True)
            for i, key in enumerate(keys):
                d.setdefault(key, []).append(i)
            self._by_pos = d
        return self._by_pos

    def locate(self, snps: Iterable[str] | pd.DataFrame) -> np.ndarray:
        """Panel row of each variant, ``-1`` where the panel does not have it.

        ``snps`` is a list of IDs, or a table with ``snp`` and optionally
        ``chr``, ``pos``, ``effect_allele``, ``other_allele`` (or their aliases,
        :data:`mrkit._core.columns.VARIANT_ALIASES`); see :meth:`find`.
        """
        if not hasattr(snps, "columns"):
            return self.find(_text(snps))
        import pandas as pd

        t = canonical_columns(cast("pd.DataFrame", snps))
        chr_: list[str] | None = None
        pos: np.ndarray | None = None
        effect_allele: list[str] | None = None
        other_allele: list[str] | None = None
        if {"chr", "pos"} <= set(t.columns):
            chr_ = _text(t["chr"])
            pos = pd.to_numeric(t["pos"], errors="coerce").to_numpy(float)
        if {"effect_allele", "other_allele"} <= set(t.columns):
            effect_allele = _text(t["effect_allele"])
            other_allele = _text(t["other_allele"])
        return self.find(_text(t["snp"]), chr_, pos, effect_allele, other_allele)

    def find(
        self,
        snp: Sequence[str] | pa.Array,
        chr: Sequence[str] | pa.Array | None = None,
        pos: Sequence[float] | np.ndarray | None = None,
        effect_allele: Sequence[str] | None = None,
        other_allele: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Panel row of each variant given as columns, ``-1`` where the panel lacks it.

        An ID is matched first (the first panel row with that ID, as in PLINK);
        otherwise, with ``chr`` and ``pos``, the position is tried (``chr1`` and ``1``
        alike; a NaN position matches nothing). With both alleles, they must be the
        panel's two alleles (either order, any case) or the variant counts as absent.
        """
        out = lookup(snp, self.bim.snp)
        if effect_allele is not None and other_allele is not None:
            has_alleles = True
            ea = np.array([str(a).upper() for a in effect_allele], dtype=object)
            oa = np.array([str(a).upper() for a in other_allele], dtype=object)
        else:
            has_alleles = False
            ea = oa = np.empty(0, dtype=object)
        a1, a2 = self.bim.a1, self.bim.a2
        if chr is not None and pos is not None and (out < 0).any():
            pos = np.asarray(pos, dtype=float)
            bypos = self._positions()
            absent = np.flatnonzero((out < 0) & np.isfinite(pos))
            for i, c in zip(absent.tolist(), take_strings(chr, absent), strict=True):
                for j in bypos.get((c.removeprefix("chr"), int(pos[i])), []):
                    if not has_alleles or {ea[i], oa[i]} == {a1[j], a2[j]}:
                        out[i] = j
                        break
        if has_alleles:
            hit = np.flatnonzero(out >= 0)
            row = out[hit]
            bad = ~(
                ((ea[hit] == a1[row]) & (oa[hit] == a2[row]))
                | ((ea[hit] == a2[row]) & (oa[hit] == a1[row]))
            )
            out[hit[bad]] = -1
        return out

    # --------------------------------------------------------------- genotypes
    @property
    def bytes_per_variant(self) -> int:
        """Bytes of one variant in a ``.bed`` (4 samples a byte)."""
        return (self.n_samples + 3) // 4

    def raw(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """``(len(rows), bytes_per_variant)`` uint8: the ``.bed`` bytes of panel ``rows``.

        Only those variants are read; :func:`mrkit.io.plink.decode_genotypes` turns
        them into counts.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if len(self._sets) == 1:
            return self._sets[0].raw(rows)
        out = np.empty((rows.size, self.bytes_per_variant), dtype=np.uint8)
        fsets = self._fileset[rows]
        for k in np.unique(fsets):
            sel = np.flatnonzero(fsets == k)
            out[sel] = self._sets[int(k)].raw(self._local[rows[sel]])
        return out

    def genotypes(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """``(n_samples, len(rows))`` int8 counts of each variant's A1 (-127 = missing)."""
        return decode_genotypes(self.raw(rows), self.n_samples)

    # ----------------------------------------------------------------- LD
    def _rows_or_raise(self, snps: Sequence[str]) -> np.ndarray:
        rows = self.find(snps)
        if (rows < 0).any():
            absent = [s for s, r in zip(snps, rows, strict=True) if r < 0]
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
        import pandas as pd

        snps = _text(snps)
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
        a1 = self.bim.a1[rows].astype(str)
        a2 = self.bim.a2[rows].astype(str)
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
