"""Simulated GWAS summary statistics that carry a reference panel's LD, with known truth.

:func:`simulate_gwas` is re-exported by :mod:`mrkit.simulate.run`, which also
writes whole studies.

Model
-----
Every trait :math:`T` has unit variance (its liability, for a binary trait).
Its own causal SNPs (``n_causal`` drawn at random) have effects
:math:`a_j \\sim N(0, \\sigma_j^2)` per SD of the standardised genotype,
:math:`\\sigma_j^2 \\propto [2p_j(1-p_j)]^{1+\\alpha}`, rescaled so that
:math:`\\sum_j a_j^2 = h^2`. A causal effect :math:`\\gamma` of trait :math:`A`
on :math:`B` (in reported units: SD, or log-odds for a binary trait) adds
:math:`\\gamma c_A / c_B \\cdot a_A` to :math:`B`'s effects, with :math:`c` the
log-odds per SD of liability (below; 1 for a continuous trait), plus direct
(pleiotropic) effects on a share of :math:`A`'s causal SNPs.

The marginal z-statistics of a GWAS of :math:`N` people are

.. math::

    z = \\sqrt{N} k R a + \\epsilon, \\qquad \\epsilon \\sim N(0, R),

with :math:`R` the panel's LD (correlation) matrix and :math:`k = 1` for a
continuous trait. Both terms are drawn through the standardised panel
genotypes :math:`X` (:math:`n` individuals, :math:`R = X^\\top X / n`), one
chromosome at a time, without forming :math:`R`:

.. math::

    z = X^\\top \\Big( \\frac{\\sqrt{N} k}{n} X a + \\frac{e}{\\sqrt{n}} \\Big),
    \\qquad e \\sim N(0, I_n),

so :math:`\\epsilon` has covariance exactly :math:`R`. In the mean, a causal
SNP reaches only SNPs within ``ld_window`` to ``2 * ld_window`` bp (windows
of that width and their neighbours): the chance correlations of a finite panel
between distant SNPs would otherwise add :math:`N h^2 / n` of spurious variance.

Binary traits follow the liability threshold model with prevalence :math:`K`,
threshold :math:`t = \\Phi^{-1}(1-K)` and case fraction :math:`P` in the GWAS.
The expected z of a SNP is that of its observed-scale correlation,
:math:`k = \\varphi(t)\\sqrt{P(1-P)}/(K(1-K))` (Lee et al. 2011, AJHG 88:294,
doi:10.1016/j.ajhg.2011.02.002), and effects are reported as log odds ratios
with the standard linear-to-logistic approximation: one SD of liability is
:math:`c = \\varphi(t)/(K(1-K))` log-odds (the slope of the logit of risk at
the threshold; odds ratios do not change under case-control sampling), and

.. math::

    \\mathrm{SE} = 1/\\sqrt{2 f (1-f) N P (1-P)}, \\qquad \\hat\\beta = z\\,\\mathrm{SE},

:math:`f` the allele frequency in the GWAS sample (a binomial draw around the
panel's). For a continuous trait :math:`\\mathrm{SE} = 1/\\sqrt{2f(1-f)N}`.

Reproducibility: every random draw comes from a stream named by the seed and
the trait (or the exposure-outcome pair), so the same seed gives byte-identical
files, and adding a trait does not change the others.
"""

from __future__ import annotations

import contextlib
import math
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from mrkit._core.columns import SUMSTATS_COLUMNS
from mrkit.errors import InputError
from mrkit.simulate.panel import PanelGenotypes, read_panel
from mrkit.simulate.regions import RegionSpec, check_regions, region_effects, region_mask
from mrkit.simulate.spec import EffectSpec, TraitSpec, _check_variance, topological_order

__all__ = ["COLUMNS", "GwasSimulation", "simulate_gwas", "total_effects"]

COLUMNS = list(SUMSTATS_COLUMNS)


def _rng(seed: int, *names: str | int) -> np.random.Generator:
    key = [seed] + [zlib.crc32(n.encode()) if isinstance(n, str) else int(n) for n in names]
    return np.random.default_rng(np.random.SeedSequence(key))


class GwasSimulation(dict):
    """``{trait: summary statistics}`` with the simulated truth in :attr:`truth`."""

    truth: dict[str, Any]


def _own_effects(t: TraitSpec, seed: int, cand: np.ndarray, het: np.ndarray, m: int):
    a = np.zeros(m)
    if t.n_causal == 0 or t.h2 == 0:
        return a, np.zeros(0, dtype=np.int64)
    if t.n_causal > cand.size:
        raise InputError(
            f"trait `{t.name}`: n_causal = {t.n_causal} but the panel has {cand.size} SNPs"
        )
    rng = _rng(seed, t.name, "causal")
    idx = np.sort(rng.choice(cand, size=t.n_causal, replace=False))
    draw = rng.standard_normal(idx.size) * np.sqrt(het[idx] ** (1.0 + t.alpha))
    a[idx] = draw * math.sqrt(t.h2 / float(np.sum(draw**2)))
    return a, idx


def _pleiotropy(e: EffectSpec, seed: int, own_idx: np.ndarray, own: np.ndarray, m: int):
    d = np.zeros(m)
    if e.pleiotropy_fraction == 0 or own_idx.size == 0:
        return d, np.zeros(0, dtype=np.int64)
    rng = _rng(seed, e.exposure, e.outcome, "pleiotropy")
    k = max(1, round(e.pleiotropy_fraction * own_idx.size))
    idx = np.sort(rng.choice(own_idx, size=k, replace=False))
    draw = rng.standard_normal(k)
    if e.pleiotropy_directional:  # same sign as the SNP's effect on the exposure
        draw = np.abs(draw) * np.sign(own[idx])
    if e.pleiotropy_h2 > 0:
        d[idx] = draw * math.sqrt(e.pleiotropy_h2 / float(np.sum(draw**2)))
    return d, idx


def _moments(G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD (ddof 0) of each column of a 0/1/2 int8 genotype matrix."""
    n = G.shape[0]
    n1 = np.count_nonzero(G == 1, axis=0)
    n2 = np.count_nonzero(G == 2, axis=0)
    mu = (n1 + 2.0 * n2) / n
    var = (n1 + 4.0 * n2) / n - mu * mu
    return mu, np.sqrt(np.maximum(var, 0.0))


def _chrom_groups(bim: pd.DataFrame) -> list[np.ndarray]:
    codes = bim["chr"].astype(str).to_numpy()
    return [np.flatnonzero(codes == c) for c in pd.unique(codes)]


def _marginal_z(
    pan: PanelGenotypes,
    groups: list[np.ndarray],
    geno: list[np.ndarray],
    moments: list[tuple[np.ndarray, np.ndarray]],
    A: np.ndarray,
    scale: np.ndarray,
    names: Sequence[str],
    seed: int,
    ld_window: int,
) -> np.ndarray:
    """z (SNPs x traits) = X'(scale/n X A + e/sqrt(n)), windowed means, one chromosome at a time."""
    n = pan.n_individuals
    z = np.zeros(A.shape)
    pos_all = pan.bim["pos"].to_numpy()
    for ci, (rows, G, (mu, sd)) in enumerate(zip(groups, geno, moments, strict=True)):
        E = np.column_stack(
            [_rng(seed, name, "noise", ci).standard_normal(n) for name in names]
        ) / math.sqrt(n)
        bins = (pos_all[rows] - 1) // ld_window
        ub, first = np.unique(bins, return_index=True)
        bounds = [*first.tolist(), rows.size]
        V: dict[int, np.ndarray] = {}
        for b, lo, hi in zip(ub.tolist(), bounds[:-1], bounds[1:], strict=True):
            Ab = A[rows[lo:hi]]
            j = np.flatnonzero(np.any(Ab != 0, axis=1))
            if j.size:
                Xj = (G[:, lo + j] - mu[lo + j]) / sd[lo + j]
                V[b] = Xj @ Ab[j]
        for b, lo, hi in zip(ub.tolist(), bounds[:-1], bounds[1:], strict=True):
            U = E.copy()
            for nb in (b - 1, b, b + 1):
                if nb in V:
                    U += V[nb] * (scale / n)
            Xb = G[:, lo:hi].astype(np.float32)
            Xb -= mu[lo:hi].astype(np.float32)
            Xb *= (1.0 / sd[lo:hi]).astype(np.float32)
            z[rows[lo:hi]] = Xb.T @ U.astype(np.float32)
    return z


def simulate_gwas(
    panel: str | Path | PanelGenotypes,
    traits: Sequence[TraitSpec],
    effects: Sequence[EffectSpec] = (),
    *,
    seed: int = 1,
    flip_alleles: bool = True,
    ld_window: int = 500_000,
    regions: Sequence[RegionSpec] = (),
) -> GwasSimulation:
    """Genome-wide summary statistics of several traits over a panel's SNPs.

    Parameters
    ----------
    panel
        PLINK 1 file set (prefix) or :func:`mrkit.simulate.panel.read_panel` result.
    traits
        The traits (:class:`~mrkit.simulate.spec.TraitSpec`).
    effects
        Causal effects between them (:class:`~mrkit.simulate.spec.EffectSpec`); they
        must not form a cycle.
    seed
        Seed of every draw (causal SNPs, effects, noise, frequencies, alleles).
    flip_alleles
        Report each SNP on a random one of its alleles (independently per
        trait), as real GWAS do; harmonisation has to align them.
    ld_window
        Reach, in bp, of a causal SNP's LD in the expected z (between one and
        two windows).
    regions
        Causal variants placed in windows, shared by several traits or distinct
        (:mod:`mrkit.simulate.regions`); the traits' own causal SNPs are then
        drawn outside every region ± ``ld_window``.

    Returns
    -------
    GwasSimulation
        ``{trait: DataFrame}`` in mrkit's normalised schema, ``snp, chr, pos,
        effect_allele, other_allele, eaf, beta, se, p, log10p, n`` (plus
        ``ncase, ncontrol`` for a binary trait), sorted as the panel; the truth
        (causal and pleiotropic SNPs with their per-allele effects, true
        effects between traits, and with regions their variants) is in ``.truth``.
    """
    pan = panel if isinstance(panel, PanelGenotypes) else read_panel(panel)
    order = topological_order(traits, effects)
    check_regions(regions, [t.name for t in traits])
    _check_variance(traits, effects, regions)
    if ld_window <= 0:
        raise InputError(f"`ld_window` must be positive, got {ld_window}")
    spec = {t.name: t for t in traits}
    bim = pan.bim
    m = len(bim)
    groups = _chrom_groups(bim)
    geno = [pan.genotypes(rows) for rows in groups]
    moments = [_moments(G) for G in geno]
    freq = np.concatenate([mu for mu, _ in moments]) / 2.0
    sd_all = np.concatenate([sd for _, sd in moments])
    moments = [(mu, np.where(sd > 0, sd, 1.0)) for mu, sd in moments]
    poly = np.flatnonzero(sd_all > 0)
    het = 2.0 * freq * (1.0 - freq)
    placed: dict[str, np.ndarray] = {}
    region_info: list[dict[str, Any]] = []
    cand = poly
    if regions:
        cand = poly[~region_mask(bim, regions, pad=ld_window)[poly]]
        placed, region_info = region_effects(regions, bim, freq, pan.genotypes, seed)

    # Effects per SD of standardised genotype on each trait's liability, in causal order.
    total: dict[str, np.ndarray] = {}
    own_idx: dict[str, np.ndarray] = {}
    own_eff: dict[str, np.ndarray] = {}
    pleio: list[dict[str, Any]] = []
    for name in order:
        t = spec[name]
        a, idx = _own_effects(t, seed, cand, het, m)
        if name in placed:
            a = a + placed[name]
        own_idx[name], own_eff[name] = idx, a
        tot = a.copy()
        for e in effects:
            if e.outcome != name:
                continue
            g = e.gamma * spec[e.exposure].logodds_per_liability / t.logodds_per_liability
            tot += g * total[e.exposure]
            d, pidx = _pleiotropy(e, seed, own_idx[e.exposure], own_eff[e.exposure], m)
            tot += d
            pleio.append({"effect": e, "idx": pidx, "d": d})
        total[name] = tot

    names = [t.name for t in traits]
    A = np.column_stack([total[nm] for nm in names])
    scale = np.array([t.z_per_liability * math.sqrt(t.sample_size) for t in traits])
    z = _marginal_z(pan, groups, geno, moments, A, scale, names, seed, ld_window)

    out = GwasSimulation()
    for ti, t in enumerate(traits):
        out[t.name] = _sumstats(t, bim, freq, z[poly, ti], poly, seed, flip_alleles)
    out.truth = _truth(traits, effects, spec, bim, sd_all, own_idx, own_eff, pleio)
    if region_info:
        out.truth["regions"] = _region_truth(region_info, spec, bim, sd_all)
    return out


def _region_truth(info, spec, bim, sd) -> list[dict[str, Any]]:
    """Each region with its variants' per-allele effects (panel A1) in the traits' units."""
    out = []
    for reg in info:
        variants = []
        for v in reg.pop("variants"):
            t, row = spec[v["trait"]], v["row"]
            beta = v["sign"] * math.sqrt(v["h2"]) / sd[row] * t.logodds_per_liability
            variants.append(
                {
                    "trait": t.name,
                    "snp": str(bim["snp"].iloc[row]),
                    "pos": int(bim["pos"].iloc[row]),
                    "effect_allele": str(bim["a1"].iloc[row]),
                    "beta": float(beta),
                    "h2": v["h2"],
                }
            )
        out.append({**reg, "variants": variants})
    return out


def _sumstats(t, bim, freq, z, poly, seed, flip_alleles) -> pd.DataFrame:
    rng = _rng(seed, t.name, "sample")
    N = t.sample_size
    eaf = rng.binomial(2 * N, freq[poly]) / (2.0 * N)
    eaf = np.clip(eaf, 0.5 / N, 1.0 - 0.5 / N)
    frac = (t.ncase or 0) / N if t.binary else 1.0
    info = 2.0 * eaf * (1.0 - eaf) * N * (frac * (1.0 - frac) if t.binary else 1.0)
    se = 1.0 / np.sqrt(info)
    beta = z * se
    log10p = -(stats.norm.logsf(np.abs(z)) + math.log(2.0)) / math.log(10.0)
    a1 = bim["a1"].to_numpy()[poly]
    a2 = bim["a2"].to_numpy()[poly]
    flip = rng.random(poly.size) < 0.5 if flip_alleles else np.zeros(poly.size, dtype=bool)
    chrom = bim["chr"].to_numpy()[poly]
    with contextlib.suppress(ValueError):  # keep X, MT, ... as text
        chrom = chrom.astype(np.int64)
    df = pd.DataFrame(
        {
            "snp": bim["snp"].to_numpy()[poly],
            "chr": chrom,
            "pos": bim["pos"].to_numpy()[poly].astype(np.int64),
            "effect_allele": np.where(flip, a2, a1),
            "other_allele": np.where(flip, a1, a2),
            "eaf": np.where(flip, 1.0 - eaf, eaf),
            "beta": np.where(flip, -beta, beta),
            "se": se,
            "p": np.power(10.0, -log10p),
            "log10p": log10p,
            "n": np.full(poly.size, N, dtype=np.int64),
        }
    )
    if t.binary:
        df["ncase"] = np.full(poly.size, int(t.ncase), dtype=np.int64)
        df["ncontrol"] = np.full(poly.size, int(t.ncontrol), dtype=np.int64)
    return df


def _snp_effects(idx, a, bim, sd, c) -> list[dict[str, Any]]:
    snp = bim["snp"].to_numpy()
    a1 = bim["a1"].to_numpy()
    return [
        {"snp": str(snp[i]), "effect_allele": str(a1[i]), "beta": float(a[i] / sd[i] * c)}
        for i in idx
    ]


def _truth(traits, effects, spec, bim, sd, own_idx, own_eff, pleio) -> dict[str, Any]:
    trait_info = {}
    for t in traits:
        trait_info[t.name] = {
            "type": "binary" if t.binary else "continuous",
            "units": t.units,
            "n": t.sample_size,
            "ncase": t.ncase,
            "ncontrol": t.ncontrol,
            "prevalence": t.prevalence,
            "h2": t.h2,
            "n_causal": t.n_causal,
            "alpha": t.alpha,
            "logodds_per_liability_sd": t.logodds_per_liability,
            "causal_snps": _snp_effects(
                own_idx[t.name], own_eff[t.name], bim, sd, t.logodds_per_liability
            ),
        }
    eff_info = []
    for e, p in zip(effects, pleio, strict=True):
        c_out = spec[e.outcome].logodds_per_liability
        eff_info.append(
            {
                "exposure": e.exposure,
                "outcome": e.outcome,
                "gamma": e.gamma,
                "gamma_liability": e.gamma * spec[e.exposure].logodds_per_liability / c_out,
                "pleiotropy_fraction": e.pleiotropy_fraction,
                "pleiotropy_h2": e.pleiotropy_h2,
                "pleiotropy_directional": e.pleiotropy_directional,
                "pleiotropic_snps": _snp_effects(p["idx"], p["d"], bim, sd, c_out),
            }
        )
    return {
        "traits": trait_info,
        "effects": eff_info,
        "total_effects": total_effects(traits, effects),
        "effect_allele_note": "causal and pleiotropic betas are per copy of `effect_allele`"
        " (the panel's A1), in the trait's units (sd or log-odds)",
    }


def total_effects(
    traits: Sequence[TraitSpec], effects: Sequence[EffectSpec]
) -> dict[str, dict[str, float]]:
    """True total causal effect of every exposure on every outcome (sums over paths).

    ``result[exposure][outcome]`` in outcome units per exposure unit; 0 where
    there is no causal path. This is what MR of that pair estimates.
    """
    order = topological_order(traits, effects)
    out: dict[str, dict[str, float]] = {}
    for x in order:
        reach = {x: 1.0}
        for y in order:
            for e in effects:
                if e.outcome == y and e.exposure in reach:
                    reach[y] = reach.get(y, 0.0) + reach[e.exposure] * e.gamma
        out[x] = {y: float(reach.get(y, 0.0)) for y in order if y != x}
    return out
