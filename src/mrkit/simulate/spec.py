"""What :mod:`mrkit.simulate.run` simulates: traits, causal effects, and their TOML form.

A simulation config (``mrkit simulate --config sim.toml``) is a TOML file::

    seed = 1                      # optional; `--seed` overrides it

    [panel]                       # keyword arguments of mrkit.simulate.panel.simulate_panel
    n_individuals = 5000          # diploid individuals of the LD reference panel
    n_chromosomes = 10
    chrom_length = 5_000_000      # bp per chromosome
    n_snps = 20000                # SNPs kept (MAF >= min_maf), over all chromosomes
    # population_size = 10000, mutation_rate = 1.25e-8, recombination_rate = 1e-8,
    # min_maf = 0.01

    [gwas]                        # options of mrkit.simulate.run.simulate_gwas
    flip_alleles = true           # report a random half of SNPs on the other allele
    ld_window = 500_000           # bp: reach of a causal SNP's LD in the means

    [[trait]]                     # one table per trait
    name = "ms"                   # file name stem: letters, digits, `_`, `-`, `.`
    ncase = 47429                 # binary trait: ncase + ncontrol + prevalence
    ncontrol = 68374
    prevalence = 0.001
    h2 = 0.2                      # SNP heritability of its own causal SNPs (liability)
    n_causal = 150                # number of its own causal SNPs
    # alpha = -1.0                # effect variance ~ [2p(1-p)]^(1 + alpha)

    [[trait]]
    name = "serum_iron"
    n = 163511                    # continuous trait (unit variance): n
    h2 = 0.1
    n_causal = 60

    [[effect]]                    # one table per causal effect
    exposure = "ms"
    outcome = "serum_iron"
    gamma = -0.009                # outcome units per exposure unit (SD or log-odds)
    # pleiotropy_fraction = 0.0   # share of the exposure's causal SNPs with direct
    # pleiotropy_h2 = 0.0         #   effects on the outcome, and the outcome variance
    # pleiotropy_directional = false  # they explain; directional: same sign as on exposure

    [[region]]                    # optional: strong causal variants in one window
    chrom = 1                     # (cis-MR, colocalisation; see mrkit.simulate.regions)
    start = 800_000
    end = 1_200_000
    causal = "shared"             # or "distinct": one variant per trait, in low LD
    h2 = { ms = 0.01, serum_iron = 0.02 }

Unknown keys, missing keys and bad values raise :class:`~mrkit.errors.InputError`
naming the key.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from scipy import stats

from mrkit.errors import InputError
from mrkit.simulate.regions import RegionSpec, check_regions, region_h2

__all__ = [
    "DEFAULT_TOML",
    "EffectSpec",
    "RegionSpec",
    "SimulationConfig",
    "TraitSpec",
    "default_config",
    "load_config",
    "parse_config",
    "topological_order",
]

_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")

PANEL_KEYS = (
    "n_individuals",
    "n_chromosomes",
    "chrom_length",
    "n_snps",
    "population_size",
    "mutation_rate",
    "recombination_rate",
    "min_maf",
)
GWAS_KEYS = ("flip_alleles", "ld_window")


@dataclass(frozen=True)
class TraitSpec:
    """A simulated trait.

    Parameters
    ----------
    name
        Trait name, also the file name stem.
    h2
        Variance of the trait (of its liability, for a binary trait) explained by
        its own causal SNPs; causal effects from other traits come on top.
    n_causal
        Number of its own causal SNPs, drawn at random among the panel's SNPs.
    n
        GWAS sample size of a continuous trait (unit variance, effects in SD units).
    ncase, ncontrol
        Case and control counts of a binary trait (effects in log-odds).
    prevalence
        Population prevalence :math:`K` of a binary trait (liability threshold model).
    alpha
        Frequency dependence of the effect sizes: the variance of the effect of a
        standardised genotype is proportional to :math:`[2p(1-p)]^{1+\\alpha}`
        (``-1``: every causal SNP explains the same variance on average).
    """

    name: str
    h2: float
    n_causal: int
    n: int | None = None
    ncase: int | None = None
    ncontrol: int | None = None
    prevalence: float | None = None
    alpha: float = -1.0

    def __post_init__(self) -> None:
        where = f"trait `{self.name}`"
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise InputError(f"trait name `{self.name}` must be letters, digits, `_`, `-` or `.`")
        if not 0.0 <= self.h2 < 1.0:
            raise InputError(f"{where}: `h2` must be in [0, 1), got {self.h2}")
        if self.n_causal < 0 or (self.h2 > 0 and self.n_causal == 0):
            raise InputError(
                f"{where}: `n_causal` must be positive when h2 > 0, got {self.n_causal}"
            )
        if self.binary:
            if self.n is not None and self.n != (self.ncase or 0) + (self.ncontrol or 0):
                raise InputError(f"{where}: `n` must equal ncase + ncontrol or be left out")
            for key in ("ncase", "ncontrol"):
                value = getattr(self, key)
                if value is None or value <= 0:
                    raise InputError(f"{where}: `{key}` must be a positive count, got {value}")
            if self.prevalence is None or not 0.0 < self.prevalence < 1.0:
                raise InputError(
                    f"{where}: a binary trait needs `prevalence` in (0, 1), got {self.prevalence}"
                )
        else:
            if self.n is None or self.n <= 0:
                raise InputError(
                    f"{where}: `n` must be a positive sample size (or give ncase and "
                    f"ncontrol for a binary trait), got {self.n}"
                )
            if self.prevalence is not None:
                raise InputError(f"{where}: `prevalence` needs `ncase` and `ncontrol`")

    @property
    def binary(self) -> bool:
        """Case/control trait (``ncase`` or ``ncontrol`` given)."""
        return self.ncase is not None or self.ncontrol is not None

    @property
    def sample_size(self) -> int:
        """GWAS sample size (``ncase + ncontrol`` for a binary trait)."""
        if self.binary:
            return int(self.ncase or 0) + int(self.ncontrol or 0)
        return int(self.n or 0)

    @property
    def units(self) -> str:
        """Units of the reported effects: ``log-odds`` or ``sd``."""
        return "log-odds" if self.binary else "sd"

    @property
    def logodds_per_liability(self) -> float:
        """Reported units per SD of liability: :math:`\\varphi(t)/(K(1-K))`, 1 if continuous.

        The first-order slope of the population log-odds of disease on the
        liability at the threshold :math:`t = \\Phi^{-1}(1-K)`; case-control
        sampling leaves odds ratios unchanged, so it holds in the GWAS sample.
        """
        if not self.binary:
            return 1.0
        k = float(self.prevalence)  # type: ignore[arg-type]
        t = stats.norm.isf(k)
        return float(stats.norm.pdf(t) / (k * (1.0 - k)))

    @property
    def z_per_liability(self) -> float:
        """Expected z per unit of liability-scale correlation, divided by sqrt(N).

        1 for a continuous trait; :math:`\\varphi(t)\\sqrt{P(1-P)}/(K(1-K))` for a
        binary one, :math:`P` the case fraction of the GWAS (Lee et al. 2011
        observed-to-liability transformation of one SNP's :math:`h^2`).
        """
        if not self.binary:
            return 1.0
        frac = int(self.ncase or 0) / self.sample_size
        return self.logodds_per_liability * math.sqrt(frac * (1.0 - frac))


@dataclass(frozen=True)
class EffectSpec:
    """A causal effect of one trait on another, in reported units.

    ``gamma`` is the change of the outcome (SD, or log-odds if binary) per unit
    of the exposure (SD, or log-odds if binary): what IVW estimates. A share
    ``pleiotropy_fraction`` of the exposure's own causal SNPs also act on the
    outcome directly (invalid instruments), explaining ``pleiotropy_h2`` of
    the outcome's liability variance; balanced (mean zero, InSIDE holds) unless
    ``pleiotropy_directional`` (every direct effect has the sign of the SNP's effect
    on the exposure, i.e. is positive for the exposure-increasing allele, biasing IVW and giving a
    non-zero Egger intercept).
    """

    exposure: str
    outcome: str
    gamma: float
    pleiotropy_fraction: float = 0.0
    pleiotropy_h2: float = 0.0
    pleiotropy_directional: bool = False

    def __post_init__(self) -> None:
        where = f"effect `{self.exposure}` -> `{self.outcome}`"
        if self.exposure == self.outcome:
            raise InputError(f"{where}: a trait cannot cause itself")
        if not math.isfinite(self.gamma):
            raise InputError(f"{where}: `gamma` must be a finite number")
        if not 0.0 <= self.pleiotropy_fraction <= 1.0:
            raise InputError(f"{where}: `pleiotropy_fraction` must be in [0, 1]")
        if not 0.0 <= self.pleiotropy_h2 < 1.0:
            raise InputError(f"{where}: `pleiotropy_h2` must be in [0, 1)")
        if self.pleiotropy_h2 > 0 and self.pleiotropy_fraction == 0:
            raise InputError(f"{where}: `pleiotropy_h2` needs `pleiotropy_fraction` > 0")


def topological_order(traits: Sequence[TraitSpec], effects: Sequence[EffectSpec]) -> list[str]:
    """Trait names with every exposure before its outcomes; checks names and cycles."""
    names = [t.name for t in traits]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"trait name(s) given twice: {', '.join(dup)}")
    known = set(names)
    pairs = set()
    for e in effects:
        for key in ("exposure", "outcome"):
            if getattr(e, key) not in known:
                raise InputError(
                    f"effect `{key}` = `{getattr(e, key)}` is not a trait; traits: "
                    + ", ".join(names)
                )
        if (e.exposure, e.outcome) in pairs:
            raise InputError(f"effect `{e.exposure}` -> `{e.outcome}` is given twice")
        pairs.add((e.exposure, e.outcome))
    order: list[str] = []
    remaining = list(names)
    while remaining:
        ready = [
            n
            for n in remaining
            if not any(e.outcome == n and e.exposure in remaining for e in effects)
        ]
        if not ready:
            raise InputError(
                "the causal effects form a cycle among: " + ", ".join(sorted(remaining))
            )
        order.extend(ready)
        remaining = [n for n in remaining if n not in ready]
    return order


def _check_variance(
    traits: Sequence[TraitSpec],
    effects: Sequence[EffectSpec],
    regions: Sequence[RegionSpec] = (),
) -> None:
    spec = {t.name: t for t in traits}
    for t in traits:
        total = t.h2 + region_h2(regions, t.name)
        for e in effects:
            if e.outcome == t.name:
                g = e.gamma * spec[e.exposure].logodds_per_liability / t.logodds_per_liability
                total += g * g + e.pleiotropy_h2
        if total >= 1.0:
            raise InputError(
                f"trait `{t.name}`: h2 + causal + pleiotropic variance = {total:.3g} must stay "
                "below 1 (the trait has unit variance); lower h2 or gamma"
            )


@dataclass(frozen=True)
class SimulationConfig:
    """A whole simulated study: panel options, traits, effects, GWAS options, seed, regions."""

    traits: tuple[TraitSpec, ...]
    effects: tuple[EffectSpec, ...] = ()
    panel: Mapping[str, Any] = field(default_factory=dict)
    gwas: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 1
    regions: tuple[RegionSpec, ...] = ()

    def __post_init__(self) -> None:
        if not self.traits:
            raise InputError("a simulation needs at least one `[[trait]]`")
        topological_order(self.traits, self.effects)
        check_regions(self.regions, [t.name for t in self.traits])
        _check_variance(self.traits, self.effects, self.regions)
        _unknown(self.panel, PANEL_KEYS, "panel")
        _unknown(self.gwas, GWAS_KEYS, "gwas")

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-ready), used for the cache key and ``truth.json``.

        ``regions`` appears only when there are some (older keys stay valid).
        """
        out: dict[str, Any] = {
            "seed": self.seed,
            "panel": dict(self.panel),
            "gwas": dict(self.gwas),
            "traits": [asdict(t) for t in self.traits],
            "effects": [asdict(e) for e in self.effects],
        }
        if self.regions:
            out["regions"] = [r.as_dict() for r in self.regions]
        return out


def _unknown(table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    extra = sorted(set(table) - set(allowed))
    if extra:
        raise InputError(f"unknown key `{where}.{extra[0]}`; allowed: {', '.join(sorted(allowed))}")


def _build(cls: type, table: Any, where: str) -> Any:
    if not isinstance(table, Mapping):
        raise InputError(f"`{where}` must be a table")
    names = {f.name: f for f in fields(cls)}
    _unknown(table, names, where)
    for f in fields(cls):
        if f.default is MISSING and f.default_factory is MISSING and f.name not in table:
            raise InputError(f"`{where}.{f.name}` is missing")
    try:
        return cls(**table)
    except TypeError as exc:  # e.g. a string where a number belongs
        raise InputError(f"`{where}`: {exc}") from None


def parse_config(data: Mapping[str, Any], *, seed: int | None = None) -> SimulationConfig:
    """Build a :class:`SimulationConfig` from the parsed TOML (``seed`` overrides)."""
    _unknown(data, ("seed", "panel", "gwas", "trait", "effect", "region"), "config")
    raw_traits = data.get("trait", [])
    raw_effects = data.get("effect", [])
    raw_regions = data.get("region", [])
    if not all(isinstance(x, list) for x in (raw_traits, raw_effects, raw_regions)):
        raise InputError(
            "`trait`, `effect` and `region` must be arrays of tables ([[trait]], [[effect]], "
            "[[region]])"
        )
    traits = tuple(
        _build(TraitSpec, t, f"trait[{i}]" if "name" not in t else f"trait `{t['name']}`")
        for i, t in enumerate(raw_traits)
    )
    effects = tuple(_build(EffectSpec, e, f"effect[{i}]") for i, e in enumerate(raw_effects))
    regions = tuple(
        _build(RegionSpec, r, f"region[{i}]" if "name" not in r else f"region `{r['name']}`")
        for i, r in enumerate(raw_regions)
    )
    use_seed = data.get("seed", 1) if seed is None else seed
    if not isinstance(use_seed, int) or use_seed < 0:
        raise InputError(f"`seed` must be a non-negative integer, got {use_seed!r}")
    panel = data.get("panel", {})
    gwas = data.get("gwas", {})
    if not isinstance(panel, Mapping) or not isinstance(gwas, Mapping):
        raise InputError("`panel` and `gwas` must be tables")
    return SimulationConfig(traits, effects, dict(panel), dict(gwas), use_seed, regions)


def load_config(path: str | Path, *, seed: int | None = None) -> SimulationConfig:
    """Read a simulation config TOML file (format in this module's docstring)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"simulation config `{path}` not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, seed=seed)


#: The design ``mrkit simulate`` uses without ``--config``: a continuous exposure
#: with a causal effect on a continuous outcome (with balanced pleiotropy) and on
#: a binary disease, on a small panel.
DEFAULT_TOML = """\
seed = 1

[panel]
n_individuals = 5000
n_chromosomes = 10
chrom_length = 5_000_000
n_snps = 20000

[[trait]]
name = "exposure"
n = 100000
h2 = 0.15
n_causal = 60

[[trait]]
name = "outcome"
n = 100000
h2 = 0.03
n_causal = 30

[[trait]]
name = "disease"
ncase = 20000
ncontrol = 80000
prevalence = 0.05
h2 = 0.05
n_causal = 30

[[effect]]
exposure = "exposure"
outcome = "outcome"
gamma = 0.2
pleiotropy_fraction = 0.1
pleiotropy_h2 = 0.002

[[effect]]
exposure = "exposure"
outcome = "disease"
gamma = 0.3
"""


def default_config(*, seed: int | None = None) -> SimulationConfig:
    """The built-in design (:data:`DEFAULT_TOML`)."""
    return parse_config(tomllib.loads(DEFAULT_TOML), seed=seed)
