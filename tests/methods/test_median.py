"""Simple, weighted and penalised weighted median against TwoSampleMR and MendelianRandomization.

Point estimates are deterministic (1e-6). Bootstrap SEs cannot reproduce R's
random stream: they are compared within Monte-Carlo error (the SD of a
1000-draw bootstrap SD is about 2% of it, so two independent ones differ by
more than 10% with negligible probability).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit.errors import InputError, TooFewVariantsError
from mrkit.methods import default_methods, get_method
from mrkit.methods.median import weighted_median, weighted_median_rows

pytestmark = requires_shared

TSMR = [
    ("simple_median", "method_raw_mr_simple_median", "Simple median"),
    ("weighted_median", "method_raw_mr_weighted_median", "Weighted median"),
    ("penalised_weighted_median", "method_raw_mr_penalised_weighted_median", "Penalised median"),
]
MR = [
    ("simple_median", "median_simple", {}),
    ("weighted_median", "median_weighted", {"weights": "first"}),
    ("penalised_weighted_median", "median_penalized", {"weights": "first"}),
]


@pytest.mark.parametrize("ds", UNIVARIABLE)
@pytest.mark.parametrize(("name", "key", "label"), TSMR)
def test_median_matches_twosamplemr(ds, name, key, label):
    """``mr_simple_median / mr_weighted_median / mr_penalised_weighted_median(b_exp, b_out,
    se_exp, se_out, default_parameters())`` (nboot = 1000) and ``mr_median(dat)``."""
    ref = ref_results(ds)["TwoSampleMR"][key]
    assert ref["call"].startswith(key.removeprefix("method_raw_") + "(")
    e = ref["result"]
    r = get_method(name)(*ref_arrays(ds), seed=2024)
    assert r.nsnp == e["nsnp"]
    assert rel_close(r.estimate, e["b"])
    assert abs(r.se / e["se"] - 1) < 0.10, (r.se, e["se"])
    allm = {row["method"]: row for row in ref_results(ds)["TwoSampleMR"]["mr_median_all"]["result"]}
    assert rel_close(r.estimate, allm[label]["b"])
    # conventions: normal p-value and interval
    z = stats.norm.isf(0.025)
    assert rel_close(r.ci_lower, r.estimate - z * r.se)
    assert rel_close(r.pval, 2 * stats.norm.sf(abs(r.estimate / r.se)), atol=1e-300)


@pytest.mark.parametrize("ds", UNIVARIABLE)
@pytest.mark.parametrize(("name", "key", "opts"), MR)
def test_median_matches_mendelianrandomization(ds, name, key, opts):
    """``MendelianRandomization::mr_median(mri, weighting = "simple"/"weighted"/"penalized",
    iterations = 10000, seed = 314159265)``: first-order weights."""
    m = ref_results(ds)["MendelianRandomization"][key]["result"]
    r = get_method(name)(*ref_arrays(ds), seed=7, nboot=10000, **opts)
    assert r.nsnp == m["SNPs"]
    assert rel_close(r.estimate, m["Estimate"])
    assert abs(r.se / m["StdError"] - 1) < 0.05, (r.se, m["StdError"])


def test_weighted_median_interpolates():
    # sorted ratios 1,2,3 with weights 1,1,2: p = (0.125, 0.375, 0.75)
    assert weighted_median([3.0, 1.0, 2.0], [2.0, 1.0, 1.0]) == pytest.approx(2.0 + 0.125 / 0.375)
    assert weighted_median([1.0, 2.0, 3.0, 4.0], [1, 1, 1, 1]) == pytest.approx(2.5)


def test_weighted_median_rows_matches_scalar():
    rng = np.random.default_rng(1)
    t = rng.normal(size=(50, 9))
    w = rng.uniform(0.1, 2, size=9)
    rows = weighted_median_rows(t, w)
    assert np.allclose(rows, [weighted_median(r, w) for r in t], rtol=0, atol=1e-15)


def test_weighted_median_is_default_simple_is_not():
    assert "weighted_median" in default_methods()
    assert "simple_median" not in default_methods()
    assert "penalised_weighted_median" not in default_methods()


def test_median_seed_reproducible():
    a = ref_arrays("mr_ldlc_chd")
    r1 = get_method("weighted_median")(*a, seed=11)
    r2 = get_method("weighted_median")(*a, seed=11)
    r3 = get_method("weighted_median")(*a, seed=12)
    assert r1 == r2
    assert r1.se != r3.se
    assert r1.estimate == r3.estimate


def test_median_errors():
    with pytest.raises(TooFewVariantsError, match="weighted_median"):
        get_method("weighted_median")([1, 2], [1, 1], [1, 2], [1, 1])
    with pytest.raises(InputError, match="bx is 0"):
        get_method("simple_median")([0, 1, 2], [1, 1, 1], [1, 2, 3], [1, 1, 1])
