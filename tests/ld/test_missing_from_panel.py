"""Instruments missing from the LD panel are dropped (plink, TwoSampleMR) unless kept on
request, and clumping ranks by the exact log10p when p underflows to 0."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import DATA
from mrkit.instruments import not_in_panel_counts, select_instruments
from mrkit.ld.clump import clump_table, rank_p
from mrkit.ld.panel import ReferencePanel

EUR = DATA / "gwasvcf" / "eur"
pytestmark = pytest.mark.skipif(not EUR.with_suffix(".bed").exists(), reason="no shared data")


@pytest.fixture(scope="module")
def panel() -> ReferencePanel:
    return ReferencePanel(EUR)


def _gwas(panel: ReferencePanel, k: int = 40, absent: int = 3) -> pd.DataFrame:
    """``k`` panel variants spread along the chromosome plus ``absent`` that are not in it."""
    v = panel.variants.iloc[:: max(1, panel.n_variants // k)].head(k)
    rng = np.random.default_rng(4)
    tab = pd.DataFrame(
        {"snp": [*v.snp, *(f"rs_absent{i}" for i in range(absent))],
         "chr": "1", "pos": [*v.pos, *(10**9 + i for i in range(absent))],
         "effect_allele": [*v.a1, *["A"] * absent], "other_allele": [*v.a2, *["G"] * absent]}
    )  # fmt: skip
    tab["beta"] = rng.uniform(0.05, 0.1, len(tab))
    tab["se"] = 0.005
    tab["p"] = 1e-12
    return tab


def test_dropped_by_default_with_reason(panel):
    gwas = _gwas(panel)
    out = select_instruments(gwas, panel=panel, min_f=None)
    absent = out[out.snp.str.startswith("rs_absent")]
    assert len(absent) == 3
    assert not absent.keep.any()
    assert (absent.reason == "not in LD panel").all()
    assert (~absent.in_panel.astype(bool)).all()
    present = out[~out.snp.str.startswith("rs_absent")]
    assert present.keep.any()
    assert "not in LD panel" not in set(present.reason)
    assert not_in_panel_counts({"x": out}) == {
        "dropped": 3,
        "kept": 0,
        "by_exposure": {"x": {"dropped": 3, "kept": 0}},
    }


def test_kept_on_request_unclumped(panel):
    gwas = _gwas(panel)
    default = select_instruments(gwas, panel=panel, min_f=None)
    out = select_instruments(gwas, panel=panel, min_f=None, missing="keep")
    absent = out[out.snp.str.startswith("rs_absent")]
    assert absent.keep.all()
    assert (absent.reason == "").all()
    assert absent.index_snp.tolist() == absent.snp.tolist()  # each its own clump
    # the panel's variants are clumped the same either way
    mask = ~out.snp.str.startswith("rs_absent")
    assert out[mask].keep.tolist() == default[mask].keep.tolist()
    assert not_in_panel_counts({"x": out})["kept"] == 3
    assert not_in_panel_counts({"x": out})["dropped"] == 0


def test_clump_table_default_still_documented(panel):
    # the low-level clump_table keeps plink-compatible explicit choice; drop gives the reason
    tab = _gwas(panel, k=5, absent=1)
    res = clump_table(panel, tab, missing="drop")
    assert res.table.set_index("snp").loc["rs_absent0", "reason"] == "not in LD panel"


def test_rank_p_orders_by_exact_log10p():
    p = np.array([0.0, 0.0, 1e-200, 3e-9, np.nan, 0.2])
    lp = np.array([400.0, 350.0, 200.0, -np.log10(3e-9), 5.0, np.nan])
    q = rank_p(p, lp)
    assert q[0] < q[1] < q[2] < q[3]  # 1e-400 < 1e-350 < 1e-200 < 3e-9
    assert q[0] > 0
    assert q[2] == 1e-200
    assert q[3] == 3e-9
    assert q[4] == pytest.approx(1e-5)  # p missing: from log10p
    assert q[5] == 0.2  # log10p missing: p
    assert np.array_equal(rank_p(p, None), p, equal_nan=True)
    # thresholds >= 1e-300 select the same rows as the exact p
    assert ((q <= 5e-8) == np.array([True, True, True, True, False, False])).all()


def _ld_pair(panel: ReferencePanel) -> tuple[str, str]:
    """Two neighbouring panel variants in strong LD (r² > 0.8), the first earlier in the panel."""
    v = panel.variants
    for i in range(0, min(600, len(v) - 1)):
        pair = [v.snp.iloc[i], v.snp.iloc[i + 1]]
        r = panel.r(pair).to_numpy()
        if abs(r[0, 1]) ** 2 > 0.8 and v.snp.iloc[i] != v.snp.iloc[i + 1]:
            return pair[0], pair[1]
    pytest.skip("no pair in strong LD among the first variants")


def test_clumping_ranks_underflowed_p_by_log10p(panel):
    first, second = _ld_pair(panel)
    v = panel.variants.set_index("snp")
    tab = pd.DataFrame(
        {
            "snp": [first, second],
            "chr": "1",
            "pos": [v.loc[first, "pos"], v.loc[second, "pos"]],
            "p": [0.0, 0.0],  # both underflow as doubles
            "log10p": [350.0, 420.0],  # the second is far stronger
        }
    )
    res = clump_table(panel, tab, r2=0.5)
    assert res.index_snps == [second]
    t = res.table.set_index("snp")
    assert t.loc[first, "reason"] == "clumped"
    assert t.loc[first, "index_snp"] == second
    # without log10p both are p = 0: the tie goes to panel order (the first)
    assert clump_table(panel, tab.drop(columns="log10p"), r2=0.5).index_snps == [first]
    # select_instruments passes log10p through to the clump
    sel = select_instruments(
        tab.assign(effect_allele=[v.loc[first, "a1"], v.loc[second, "a1"]],
                   other_allele=[v.loc[first, "a2"], v.loc[second, "a2"]],
                   beta=[0.5, 0.6], se=0.01),
        panel=panel, r2=0.5, min_f=None,
    )  # fmt: skip
    assert sel.loc[sel.keep, "snp"].tolist() == [second]


def test_mrkit_clump_ranks_underflowed_p_by_log10p(panel, tmp_path):
    """``mrkit clump`` on a file the summary-statistics reader reads (LOG10P, no P): the
    variant with the larger exact log10p is the index even though both p are 0."""
    from mrkit.cli import main

    first, second = _ld_pair(panel)
    v = panel.variants.set_index("snp")
    src = tmp_path / "gwas.tsv"
    pd.DataFrame(
        {
            "SNP": [first, second],
            "CHR": "1",
            "POS": [v.loc[first, "pos"], v.loc[second, "pos"]],
            "EA": [v.loc[first, "a1"], v.loc[second, "a1"]],
            "OA": [v.loc[first, "a2"], v.loc[second, "a2"]],
            "BETA": [0.5, 0.6],
            "SE": [0.01, 0.01],
            "LOG10P": [350.0, 420.0],
        }
    ).to_csv(src, sep="\t", index=False)
    out = tmp_path / "clumps.tsv"
    assert main(["clump", str(src), "--panel", str(EUR), "--r2", "0.5", "--out", str(out)]) == 0
    clumps = pd.read_csv(out, sep="\t", dtype=str)
    assert clumps.snp.tolist() == [second]  # the panel's first variant without log10p
    assert clumps.clumped_snps.tolist() == [first]
    assert clumps.p.tolist() == ["0.0"]  # the p written is the file's, not the rank
