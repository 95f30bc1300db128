"""Quick synthetic many-pair studies (numpy, independent variants: no LD, no panel).

Used by the study-scale tests and by ``benchmarks/bench_study.py``. Exposure ``x<k>``
has ``n_instr`` strong variants of its own; outcome ``y<j>`` depends on exposure
``x<j>`` only (effect ``gamma``) plus noise, so every other pair is null. The
GWAS ``empty`` has no variant below 5e-8 (a pair that must fail with a reason).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from mrkit.simulate.run import write_sumstats


def _frame(snps: pd.DataFrame, beta: np.ndarray, se: np.ndarray, n: float) -> pd.DataFrame:
    z = beta / se
    return snps.assign(
        beta=beta, se=se, p=np.maximum(2 * stats.norm.sf(np.abs(z)), 1e-300), n=float(n)
    )


def make_study(
    root: Path,
    *,
    n_exposures: int,
    n_outcomes: int,
    n_snps: int = 4000,
    n_instr: int = 12,
    gamma: float = 0.3,
    seed: int = 7,
    empty: bool = False,
    nboot: int = 100,
    methods: tuple[str, ...] = ("ivw", "egger", "weighted_median", "weighted_mode"),
    extra: str = "",
) -> Path:
    """Write ``root/data/*.tsv.gz`` and ``root/study.toml``; returns the study path."""
    rng = np.random.default_rng(seed)
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    eaf = rng.uniform(0.05, 0.5, n_snps)
    snps = pd.DataFrame(
        {
            "snp": [f"rs{i + 1}" for i in range(n_snps)],
            "chr": np.where(np.arange(n_snps) < n_snps // 2, "1", "2"),
            "pos": (np.arange(n_snps) % (n_snps // 2) + 1) * 1000,
            "effect_allele": "A",
            "other_allele": "G",
            "eaf": np.round(eaf, 4),
        }
    )
    nx, ny = 50000.0, 80000.0
    sx = 1 / np.sqrt(2 * eaf * (1 - eaf) * nx)
    sy = 1 / np.sqrt(2 * eaf * (1 - eaf) * ny)
    owner = rng.permutation(n_snps)
    gwas = []
    bx_true = np.zeros((n_exposures, n_snps))
    for k in range(n_exposures):
        idx = owner[k * n_instr : (k + 1) * n_instr]
        bx_true[k, idx] = rng.choice([-1, 1], n_instr) * rng.uniform(8, 15, n_instr) * sx[idx]
        write_sumstats(_frame(snps, bx_true[k] + rng.normal(0, sx), sx, nx), data / f"x{k}.tsv.gz")
        gwas.append(f'[[gwas]]\nid = "x{k}"\nfile = "data/x{k}.tsv.gz"\nunits = "sd"\n')
    for j in range(n_outcomes):
        by = gamma * bx_true[j % n_exposures] + rng.normal(0, sy)
        write_sumstats(_frame(snps, by, sy, ny), data / f"y{j}.tsv.gz")
        gwas.append(f'[[gwas]]\nid = "y{j}"\nfile = "data/y{j}.tsv.gz"\nunits = "sd"\n')
    if empty:
        write_sumstats(_frame(snps, rng.normal(0, sx), sx, nx), data / "empty.tsv.gz")
        gwas.append('[[gwas]]\nid = "empty"\nfile = "data/empty.tsv.gz"\n')
    exposures = '["x*", "empty"]' if empty else '["x*"]'
    study = f"""
[study]
name = "synthetic study"
store = "store.duckdb"
output = "out"
seed = 11

{chr(10).join(gwas)}
[instruments]
clump = false

[harmonise]
proxies = false

[analysis]
exposures = {exposures}
outcomes = ["y*"]
methods = {list(methods)!r}
nboot = {nboot}
""".replace("'", '"')
    study += extra
    path = root / "study.toml"
    path.write_text(study)
    return path
