"""Instrument selection for multivariable MR: union over exposures, re-clumped."""

import numpy as np
import pandas as pd
import pytest

from conftest import DATA
from mrkit.errors import InputError
from mrkit.instruments import select_instruments, select_mvmr_instruments
from mrkit.ld.panel import ReferencePanel

PANEL = DATA / "gwasvcf" / "eur"


def _gwas(bim: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=len(bim))
    z[rng.choice(len(bim), 8, replace=False)] = rng.choice([-1, 1], 8) * rng.uniform(6, 12, 8)
    se = np.full(len(bim), 0.01)
    from scipy import stats

    return pd.DataFrame(
        {
            "snp": bim["snp"].to_numpy(),
            "chr": bim["chr"].astype(str).to_numpy(),
            "pos": bim["pos"].to_numpy(),
            "effect_allele": bim["a1"].to_numpy(),
            "other_allele": bim["a2"].to_numpy(),
            "beta": z * se,
            "se": se,
            "p": 2 * stats.norm.sf(np.abs(z)),
        }
    )


@pytest.fixture(scope="module")
def bim():
    b = pd.read_csv(
        PANEL.with_suffix(".bim"),
        sep=r"\s+",
        header=None,
        names=["chr", "snp", "cm", "pos", "a1", "a2"],
    )
    return b.iloc[:3000]


def test_union_reclumped_and_columns(bim):
    a, b = _gwas(bim, 1), _gwas(bim, 2)
    panel = ReferencePanel(PANEL)
    sel = select_mvmr_instruments({"a": a, "b": b}, p=5e-8, panel=panel, r2=0.01, kb=250)
    hits = set(a.loc[a.p < 5e-8, "snp"]) | set(b.loc[b.p < 5e-8, "snp"])
    assert set(sel["snp"]) == hits
    assert sel["reason"][~sel["keep"]].ne("").all()
    assert {"beta_a", "se_a", "p_a", "beta_b", "se_b", "p_b"} <= set(sel.columns)
    kept = sel[sel["keep"]]
    r = panel.r(kept["snp"].tolist()).to_numpy()
    off = r[~np.eye(len(kept), dtype=bool)]
    assert np.nanmax(off**2) < 0.01 + 1e-9 or len(kept) < 2
    # Clumping the union on min p equals clumping that table directly.
    best = pd.concat([a, b]).sort_values("p").drop_duplicates("snp")
    direct = select_instruments(best[best.p < 5e-8], p=5e-8, panel=panel, r2=0.01, kb=250)
    assert set(direct.loc[direct.keep, "snp"]) == set(kept["snp"])


def test_needs_two_exposures(bim):
    with pytest.raises(InputError, match="two exposures"):
        select_mvmr_instruments({"a": _gwas(bim, 1)}, clump=False)
