"""MR-GRIP and the unweighted regression against TwoSampleMR 0.7.9 (``mr_grip``, ``mr_uwr``)."""

from __future__ import annotations

import math

import pytest

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit.methods import get_method

pytestmark = requires_shared


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_grip_matches_twosamplemr(ds):
    """``mr_grip(b_exp, b_out, se_exp, se_out, default_parameters())``."""
    ref = ref_results(ds)["TwoSampleMR"]["method_raw_mr_grip"]
    assert ref["call"] == "mr_grip(b_exp, b_out, se_exp, se_out, default_parameters())"
    e = ref["result"]
    x = get_method("grip")(*ref_arrays(ds)).to_record()
    assert x["nsnp"] == e["nsnp"]
    for ours, theirs in [
        ("estimate", "b"),
        ("se", "se"),
        ("pval", "pval"),
        ("grip_intercept", "b_i"),
        ("grip_intercept_se", "se_i"),
        ("grip_intercept_pval", "pval_i"),
        ("b_adj", "b.adj"),
        ("se_adj", "se.adj"),
        ("pval_adj", "pval.adj"),
    ]:
        if e[theirs] is None:  # R: NaN (negative variance estimate of the adjusted slope)
            assert math.isnan(x[ours]), (ours, x[ours])
            assert "se_adj_note" in x
            continue
        assert rel_close(x[ours], e[theirs], atol=1e-300), (ours, x[ours], e[theirs])


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_uwr_matches_twosamplemr(ds):
    """``mr_uwr(b_exp, b_out, se_exp, se_out, default_parameters())``."""
    ref = ref_results(ds)["TwoSampleMR"]["method_raw_mr_uwr"]
    assert ref["call"] == "mr_uwr(b_exp, b_out, se_exp, se_out, default_parameters())"
    e = ref["result"]
    x = get_method("uwr")(*ref_arrays(ds)).to_record()
    assert x["nsnp"] == e["nsnp"]
    assert x["q_df"] == e["Q_df"]
    for ours, theirs in [("estimate", "b"), ("se", "se"), ("pval", "pval"), ("q", "Q"),
                         ("q_pval", "Q_pval")]:  # fmt: skip
        assert rel_close(x[ours], e[theirs], atol=1e-300), (ours, x[ours], e[theirs])
