"""ConMix against MendelianRandomization 0.10.0 ``mr_conmix``."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit.errors import InputError
from mrkit.methods import get_method
from mrkit.methods.conmix import conmix

pytestmark = requires_shared


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_conmix_matches_r(ds):
    """``MendelianRandomization::mr_conmix(mri)``: estimate, psi, CI, p, valid set."""
    entry = ref_results(ds)["MendelianRandomization"]["conmix_default"]
    assert entry["call"] == "MendelianRandomization::mr_conmix(mri)"
    r = entry["result"]
    res = conmix(*ref_arrays(ds), grid="r")
    default = conmix(*ref_arrays(ds))  # R's grid extended by whole steps: same answer
    for key in ("estimate", "ci_lower", "ci_upper", "pval"):
        assert rel_close(getattr(default, key), getattr(res, key), rtol=1e-9, atol=1e-12)
    assert default.extras["ci_min"] <= res.extras["ci_min"]
    assert rel_close(res.estimate, r["Estimate"])
    assert rel_close(res.extras["psi"], r["Psi"])
    assert rel_close(res.ci_lower, r["CILower"])
    assert rel_close(res.ci_upper, r["CIUpper"])
    assert rel_close(res.extras["ci_min"], r["CIMin"])
    assert rel_close(res.extras["ci_max"], r["CIMax"])
    assert rel_close(res.pval, r["Pvalue"], atol=1e-300)
    assert res.extras["valid_snps"] == [v - 1 for v in r["Valid"]]
    assert res.nsnp == r["SNPs"]


def test_conmix_union_of_intervals():
    # two clusters of ratio estimates -> a bimodal likelihood and a split confidence set
    bx = np.full(20, 0.1)
    ratio = np.r_[
        np.full(10, -1.0) + np.linspace(-0.02, 0.02, 10),
        np.full(10, 1.0) + np.linspace(-0.021, 0.02, 10),
    ]
    sy = np.full(20, 0.01)
    res = conmix(bx, np.full(20, 0.01), ratio * bx, sy, ci_min=-1.5, ci_max=1.5)
    assert len(res.extras["ci_intervals"]) == 2
    (lo1, hi1), (lo2, hi2) = res.extras["ci_intervals"]
    assert lo1 < hi1 < lo2 < hi2
    assert res.ci_lower == lo1
    assert res.ci_upper == hi2


def test_conmix_grid_must_contain_estimate():
    bx, sx, by, sy = ref_arrays("mr_ldlc_chd")
    with pytest.raises(InputError, match="grid does not contain the estimate"):
        conmix(bx, sx, by, sy, ci_min=-1, ci_max=1)


def test_conmix_registered():
    assert get_method("conmix").func is conmix


def test_conmix_default_grid_contains_every_ratio_interval():
    """mr.raps CRP -> CAD (4 variants, three with bx < 0). R (issue 14)::

        mr_conmix(mr_input(bx, bxse, by, byse))   # grid min((by-2sy)/bx)..max((by+2sy)/bx)

    R's grid ignores the sign of bx and ends at -0.236, where R reports its
    "estimate"; the maximum of the profile likelihood is -0.31 (p = 0.032).
    """
    import pandas as pd

    from conftest import REFERENCE

    df = pd.read_csv(REFERENCE / "extra" / "mrraps_crp_cad_p5e8.csv")
    cols = ("beta_exposure", "se_exposure", "beta_outcome", "se_outcome")
    bx, sx, by, sy = (df[c].to_numpy(float) for c in cols)
    res = conmix(bx, sx, by, sy)
    assert abs(res.estimate - (-0.31)) < 0.01
    assert abs(res.pval - 0.032) < 5e-4
    ratio, rse = by / bx, sy / np.abs(bx)
    assert res.extras["ci_min"] <= np.min(ratio - 2 * rse)
    assert res.extras["ci_max"] >= np.max(ratio + 2 * rse)
    with pytest.raises(InputError, match="grid='all'"):
        conmix(bx, sx, by, sy, grid="r")
