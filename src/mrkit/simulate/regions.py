"""Causal variants placed in named regions: shared by several traits, or distinct.

A ``[[region]]`` table of a simulation config (``mrkit simulate --config``) puts
strong causal variants in one window of one chromosome, for cis-MR and
colocalisation studies::

    [[region]]
    name = "GENE_A"               # optional; default "<chrom>:<start>-<end>"
    chrom = 1
    start = 800_000               # bp, inclusive
    end = 1_200_000
    causal = "shared"             # "shared": ONE variant acting on every listed trait
                                  # "distinct": one variant per trait, in low LD
    h2 = { protein = 0.03, disease = 0.005 }   # variance each trait's variant explains
    # min_maf = 0.05              # the variants are drawn among SNPs with MAF >= min_maf
    # max_r2 = 0.01               # "distinct": r² (panel) between the variants at most
    # sign = { disease = -1 }     # direction per trait (+1 / -1); default: random

A trait's region effect is an effect :math:`a = \\pm\\sqrt{h^2}` per SD of the
standardised genotype on its (liability) scale, added to its own causal effects:
it explains :math:`h^2` of the trait's variance, and passes on through the
``[[effect]]`` tables like any of its own causal SNPs. When a config has
regions, a trait's own (polygenic) causal SNPs are drawn outside every region
widened by ``ld_window`` on each side (the reach of a causal SNP's LD in the
simulation), so each region's signals are those of the variants asked for. Variants and seeds come
from streams named by the seed and the region, so a config without regions
gives the same files as before regions existed.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from mrkit.errors import InputError

__all__ = ["RegionSpec", "region_effects"]


@dataclass(frozen=True)
class RegionSpec:
    """A window holding causal variants of some traits (see the module docstring).

    Parameters
    ----------
    chrom, start, end
        The window (chromosome number as in the panel, bp inclusive).
    h2
        ``{trait: variance explained by its variant}``, each in (0, 1).
    causal
        ``"shared"``: one variant for all listed traits (colocalisation, H4);
        ``"distinct"``: one variant per trait, pairwise :math:`r^2 \\le` ``max_r2``
        (H3).
    name
        Label in ``truth.json`` (default ``"<chrom>:<start>-<end>"``).
    min_maf
        Smallest minor allele frequency (panel) of a chosen variant.
    max_r2
        Largest panel :math:`r^2` between the variants of a ``"distinct"`` region.
    sign
        ``{trait: +1 or -1}``, the direction of the effect of the panel's A1
        allele; traits not given get a random sign.
    """

    chrom: int
    start: int
    end: int
    h2: Mapping[str, float]
    causal: Literal["shared", "distinct"] = "shared"
    name: str | None = None
    min_maf: float = 0.05
    max_r2: float = 0.01
    sign: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"region `{self.label}`"
        for key in ("chrom", "start", "end"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InputError(f"{where}: `{key}` must be a non-negative integer, got {value!r}")
        if self.end <= self.start:
            raise InputError(f"{where}: `end` ({self.end}) must be after `start` ({self.start})")
        if self.causal not in ("shared", "distinct"):
            raise InputError(
                f'{where}: `causal` must be "shared" or "distinct", got {self.causal!r}'
            )
        if not isinstance(self.h2, Mapping) or not self.h2:
            raise InputError(f"{where}: `h2` must be a table {{trait = variance explained}}")
        for trait, v in self.h2.items():
            if not isinstance(v, int | float) or isinstance(v, bool) or not 0.0 < v < 1.0:
                raise InputError(f"{where}: `h2.{trait}` must be a number in (0, 1), got {v!r}")
        if not isinstance(self.sign, Mapping):
            raise InputError(f"{where}: `sign` must be a table {{trait = 1 or -1}}")
        for trait, s in self.sign.items():
            if trait not in self.h2:
                raise InputError(f"{where}: `sign.{trait}`: trait not listed in `h2`")
            if s not in (1, -1) or isinstance(s, bool):
                raise InputError(f"{where}: `sign.{trait}` must be 1 or -1, got {s!r}")
        if not 0.0 <= self.min_maf < 0.5:
            raise InputError(f"{where}: `min_maf` must be in [0, 0.5), got {self.min_maf}")
        if not 0.0 < self.max_r2 <= 1.0:
            raise InputError(f"{where}: `max_r2` must be in (0, 1], got {self.max_r2}")

    @property
    def label(self) -> str:
        """``name``, or ``"<chrom>:<start>-<end>"``."""
        return self.name or f"{self.chrom}:{self.start}-{self.end}"

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for the config's cache key and ``truth.json``)."""
        return {
            "name": self.label,
            "chrom": self.chrom,
            "start": self.start,
            "end": self.end,
            "causal": self.causal,
            "h2": dict(self.h2),
            "min_maf": self.min_maf,
            "max_r2": self.max_r2,
            "sign": dict(self.sign),
        }


def check_regions(regions: Sequence[RegionSpec], traits: Sequence[str]) -> None:
    """Trait names known, region labels unique."""
    known = set(traits)
    labels = [r.label for r in regions]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise InputError(f"region name(s) given twice: {', '.join(dup)}")
    for r in regions:
        for t in r.h2:
            if t not in known:
                raise InputError(
                    f"region `{r.label}`: `h2.{t}` is not a trait; traits: {', '.join(traits)}"
                )


def region_h2(regions: Sequence[RegionSpec], trait: str) -> float:
    """Variance of ``trait`` explained by its region variants."""
    return float(sum(r.h2.get(trait, 0.0) for r in regions))


def region_mask(bim: pd.DataFrame, regions: Sequence[RegionSpec], pad: int = 0) -> np.ndarray:
    """Boolean mask of the panel's SNPs inside any region (widened by ``pad`` bp each side)."""
    chrom = bim["chr"].astype(str).to_numpy()
    pos = bim["pos"].to_numpy()
    inside = np.zeros(len(bim), dtype=bool)
    for r in regions:
        inside |= (chrom == str(r.chrom)) & (pos >= r.start - pad) & (pos <= r.end + pad)
    return inside


def _rng(seed: int, label: str) -> np.random.Generator:
    key = [seed, zlib.crc32(b"region"), zlib.crc32(label.encode())]
    return np.random.default_rng(np.random.SeedSequence(key))


def region_effects(
    regions: Sequence[RegionSpec],
    bim: pd.DataFrame,
    freq: np.ndarray,
    genotypes: Any,
    seed: int,
) -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    """Effects of the region variants per trait, and their description.

    Parameters
    ----------
    regions
        The regions.
    bim
        The panel's variants (``chr, snp, pos, a1, a2``).
    freq
        Panel frequency of ``a1`` per variant.
    genotypes
        ``genotypes(rows) -> individuals x len(rows)`` counts of ``a1``.
    seed
        The simulation's seed.

    Returns
    -------
    effects, info
        ``{trait: array over the panel's SNPs}`` of effects per SD of the
        standardised genotype, and per region ``{name, chrom, start, end,
        causal, variants: [{trait, row, h2, sign}]}`` (``row`` into ``bim``).
    """
    m = len(bim)
    maf = np.minimum(freq, 1.0 - freq)
    effects: dict[str, np.ndarray] = {}
    info: list[dict[str, Any]] = []
    used: set[int] = set()
    for r in regions:
        rows = np.flatnonzero(region_mask(bim, [r]) & (maf >= r.min_maf))
        rows = np.array([i for i in rows if i not in used], dtype=np.int64)
        names = list(r.h2)
        need = 1 if r.causal == "shared" else len(names)
        if rows.size < need:
            raise InputError(
                f"region `{r.label}`: {rows.size} panel SNP(s) with MAF >= {r.min_maf} in "
                f"{r.chrom}:{r.start}-{r.end}; widen the region or lower `min_maf`"
            )
        rng = _rng(seed, r.label)
        if r.causal == "shared":
            picked = [int(rng.choice(rows))] * len(names)
        else:
            picked = _distinct(r, rows, need, genotypes, rng)
        variants = []
        for t, row in zip(names, picked, strict=True):
            s = int(r.sign.get(t, 0)) or (1 if rng.random() < 0.5 else -1)
            a = effects.setdefault(t, np.zeros(m))
            a[row] += s * math.sqrt(float(r.h2[t]))
            variants.append({"trait": t, "row": row, "h2": float(r.h2[t]), "sign": s})
            used.add(row)
        info.append({**r.as_dict(), "variants": variants})
    return effects, info


def _distinct(
    r: RegionSpec, rows: np.ndarray, need: int, genotypes: Any, rng: np.random.Generator
) -> list[int]:
    """``need`` variants of ``rows`` drawn in turn, each with r² <= max_r2 to those before."""
    G = np.asarray(genotypes(rows), dtype=np.float64)
    G -= G.mean(axis=0)
    sd = G.std(axis=0)
    G /= np.where(sd > 0, sd, 1.0)
    n = G.shape[0]
    chosen: list[int] = []
    ok = np.ones(rows.size, dtype=bool)
    for _ in range(need):
        free = np.flatnonzero(ok)
        if free.size == 0:
            raise InputError(
                f"region `{r.label}`: no further SNP with r² <= {r.max_r2} to the variants "
                "already placed; widen the region or raise `max_r2`"
            )
        k = int(rng.choice(free))
        chosen.append(k)
        r2 = (G.T @ G[:, k] / n) ** 2
        ok &= r2 <= r.max_r2
    return [int(rows[k]) for k in chosen]
