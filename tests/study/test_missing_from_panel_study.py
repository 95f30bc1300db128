"""A study whose exposure has strong hits absent from the LD panel: dropped by default with
the reason ``not in LD panel`` (SNP flow, manifest, Methods), kept with
``keep_missing_from_panel = true``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mrkit.simulate.run import write_sumstats
from mrkit.study.pipeline import run_study

ABSENT = [f"rs_absent{i}" for i in range(4)]

STUDY = """
[study]
name = "absent from the panel"
store = "store.duckdb"
panel = "data/panel"
output = "out"
seed = 5

[[gwas]]
id = "a"
file = "data/a.tsv.gz"
units = "sd"
n = 100000

[[gwas]]
id = "b"
file = "data/b.tsv.gz"
units = "sd"
n = 50000

[instruments]
min_f = 10
{extra}

[harmonise]
proxies = false

[analysis]
exposures = ["a"]
outcomes = ["b"]
methods = ["ivw", "egger"]
sensitivity = ["heterogeneity"]
nboot = 100
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    from mrkit.simulate.run import simulate_study
    from mrkit.simulate.spec import TraitSpec

    root = tmp_path_factory.mktemp("absent")
    simulate_study(
        root / "data",
        traits=[
            TraitSpec("a", h2=0.2, n_causal=40, n=100000),
            TraitSpec("b", h2=0.1, n_causal=40, n=50000),
        ],
        effects=[("a", "b", 0.3)],
        panel=dict(n_individuals=500, n_chromosomes=1, chrom_length=3_000_000, n_snps=2000),
        seed=3,
        workers=1,
    )
    # four strong exposure hits (and their outcome rows) that the panel does not have
    for trait, beta in (("a", 0.08), ("b", 0.024)):
        path = root / "data" / f"{trait}.tsv.gz"
        df = pd.read_csv(path, sep="\t")
        extra = df.iloc[: len(ABSENT)].copy()
        extra[df.columns[0]] = ABSENT
        pos_col = next(c for c in df.columns if c.lower() in ("pos", "bp", "position"))
        extra[pos_col] = df[pos_col].max() + 10_000_000 + np.arange(len(ABSENT)) * 1_000_000
        beta_col = next(c for c in df.columns if c.lower() in ("beta", "b"))
        se_col = next(c for c in df.columns if c.lower() == "se")
        p_col = next(c for c in df.columns if c.lower() in ("p", "pval"))
        extra[beta_col] = beta
        extra[se_col] = 0.004
        from scipy import stats

        extra[p_col] = 2 * stats.norm.sf(beta / 0.004)
        if "log10p" in df.columns:
            extra["log10p"] = -np.log10(extra[p_col])
        write_sumstats(pd.concat([df, extra], ignore_index=True), path)
    return root


def _run(data: Path, tmp_path: Path, extra: str):
    (tmp_path / "data").symlink_to(data / "data")
    study = tmp_path / "study.toml"
    study.write_text(STUDY.replace("{extra}", extra))
    return run_study(study, quiet=True)


def test_dropped_by_default(data, tmp_path):
    res = _run(data, tmp_path, "")
    h = res.harmonised.set_index("snp")
    assert set(ABSENT) <= set(h.index)  # in the SNP flow, with their reason
    assert (h.loc[ABSENT, "reason"] == "not in LD panel").all()
    assert not h.loc[ABSENT, "keep"].astype(bool).any()
    assert res.manifest["not_in_ld_panel"]["dropped"] == len(ABSENT)
    assert res.manifest["not_in_ld_panel"]["kept"] == 0
    report = (res.out_dir / "report.html").read_text()
    assert "4 candidates not in the LD panel dropped" in report  # the Methods text
    assert "not in LD panel" in report  # the SNP flow
    used = h[h["keep"].astype(bool)]
    assert len(used) > 3


def test_kept_on_request(data, tmp_path):
    res = _run(data, tmp_path, "keep_missing_from_panel = true")
    h = res.harmonised.set_index("snp")
    assert h.loc[ABSENT, "keep"].astype(bool).all()  # used, unclumped
    assert res.manifest["not_in_ld_panel"] == {
        "dropped": 0,
        "kept": len(ABSENT),
        "by_exposure": {"a": {"dropped": 0, "kept": len(ABSENT)}},
    }
    report = (res.out_dir / "report.html").read_text()
    assert "4 candidates not in the LD panel kept unclumped" in report
