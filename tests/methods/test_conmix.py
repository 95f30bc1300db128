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
    res = conmix(*ref_arrays(ds))
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
