"""IVW family against TwoSampleMR 0.7.9 and MendelianRandomization 0.10.0."""

from __future__ import annotations

import pytest

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit.methods import get_method

pytestmark = requires_shared


@pytest.mark.parametrize("ds", UNIVARIABLE)
@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("ivw", "method_raw_mr_ivw"),
        ("ivw_fe", "method_raw_mr_ivw_fe"),
        ("ivw_mre", "method_raw_mr_ivw_mre"),
    ],
)
def test_ivw_matches_twosamplemr(ds, name, key):
    """``mr_ivw / mr_ivw_fe / mr_ivw_mre(b_exp, b_out, se_exp, se_out, default_parameters())``."""
    ref = ref_results(ds)["TwoSampleMR"][key]
    assert ref["call"].startswith(key.removeprefix("method_raw_") + "(")
    e = ref["result"]
    x = get_method(name)(*ref_arrays(ds)).to_record()
    assert x["nsnp"] == e["nsnp"]
    for ours, theirs in [
        ("estimate", "b"),
        ("se", "se"),
        ("pval", "pval"),
        ("q", "Q"),
        ("q_pval", "Q_pval"),
    ]:
        assert rel_close(x[ours], e[theirs], atol=1e-300), (ours, x[ours], e[theirs])
    assert x["q_df"] == e["Q_df"]


MR_IVW = [
    ("ivw_default", {"model": "default"}),
    ("ivw_fixed", {"model": "fixed"}),
    ("ivw_random", {"model": "random"}),
    ("ivw_random_tdist", {"model": "random", "dist": "t"}),
    ("ivw_second_order_weights", {"weights": "second"}),
]


@pytest.mark.parametrize("ds", UNIVARIABLE)
@pytest.mark.parametrize(("key", "opts"), MR_IVW)
def test_ivw_matches_mendelianrandomization(ds, key, opts):
    """``MendelianRandomization::mr_ivw(mri, ...)``: default, model = "fixed"/"random",
    distribution = "t-dist", weights = "delta"."""
    m = ref_results(ds)["MendelianRandomization"][key]["result"]
    x = get_method("ivw")(*ref_arrays(ds), **opts).to_record()
    assert x["nsnp"] == m["SNPs"]
    for ours, theirs in [
        ("estimate", "Estimate"),
        ("se", "StdError"),
        ("ci_lower", "CILower"),
        ("ci_upper", "CIUpper"),
        ("pval", "Pvalue"),
        ("rse", "RSE"),
    ]:
        assert rel_close(x[ours], m[theirs], atol=1e-300), (ours, x[ours], m[theirs])
    assert rel_close(x["q"], m["Heter.Stat"][0])
    assert rel_close(x["q_pval"], m["Heter.Stat"][1], atol=1e-300)
