"""MR-Egger against TwoSampleMR 0.7.9 and MendelianRandomization 0.10.0."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit.errors import InputError, TooFewVariantsError
from mrkit.methods import get_method
from mrkit.methods.egger import egger

pytestmark = requires_shared


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_egger_matches_twosamplemr(ds):
    """``mr_egger_regression(b_exp, b_out, se_exp, se_out, default_parameters())``."""
    ref = ref_results(ds)["TwoSampleMR"]["method_raw_mr_egger_regression"]
    assert ref["call"].startswith("mr_egger_regression(")
    e = ref["result"]
    r = egger(*ref_arrays(ds))
    x = r.to_record()
    assert r.nsnp == e["nsnp"]
    for ours, key in [
        ("estimate", "b"),
        ("se", "se"),
        ("pval", "pval"),
        ("egger_intercept", "b_i"),
        ("egger_intercept_se", "se_i"),
        ("egger_intercept_pval", "pval_i"),
        ("q", "Q"),
        ("q_pval", "Q_pval"),
    ]:
        assert rel_close(x[ours], e[key], atol=1e-300), (ours, x[ours], e[key])
    assert x["q_df"] == e["Q_df"]


@pytest.mark.parametrize("ds", UNIVARIABLE)
@pytest.mark.parametrize(("key", "dist"), [("egger_default", "normal"), ("egger_tdist", "t")])
def test_egger_matches_mendelianrandomization(ds, key, dist):
    """``MendelianRandomization::mr_egger(mri)`` and ``mr_egger(mri, distribution = "t-dist")``."""
    ref = ref_results(ds)["MendelianRandomization"][key]
    m = ref["result"]
    x = egger(*ref_arrays(ds), dist=dist).to_record()
    pairs = [
        ("estimate", "Estimate"),
        ("se", "StdError.Est"),
        ("ci_lower", "CILower.Est"),
        ("ci_upper", "CIUpper.Est"),
        ("pval", "Pvalue.Est"),
        ("egger_intercept", "Intercept"),
        ("egger_intercept_se", "StdError.Int"),
        ("egger_intercept_ci_lower", "CILower.Int"),
        ("egger_intercept_ci_upper", "CIUpper.Int"),
        ("egger_intercept_pval", "Pvalue.Int"),
        ("rse", "RSE"),
    ]
    for ours, theirs in pairs:
        if m[theirs] == 0.0 and "pval" in ours:
            # MendelianRandomization's t p-value is 2 * (1 - pt(|t|, df)): it
            # cancels to 0 below ~1e-16, where mrkit keeps the tail probability
            assert x[ours] < 1e-15
            continue
        assert rel_close(x[ours], m[theirs], atol=1e-300), (ours, x[ours], m[theirs])
    assert rel_close(x["q"], m["Heter.Stat"][0])
    assert rel_close(x["q_pval"], m["Heter.Stat"][1], atol=1e-300)


def test_egger_registered_as_default():
    spec = get_method("egger")
    assert spec.default
    assert spec.label == "MR Egger"
    assert spec.min_snps == 3


def test_egger_collinear_raises():
    bx = np.array([0.1, -0.1, 0.1, 0.1])
    with pytest.raises(InputError, match="collinear"):
        egger(bx, np.full(4, 0.01), np.array([0.01, 0.02, 0.03, 0.01]), np.full(4, 0.01))


def test_egger_too_few():
    with pytest.raises(TooFewVariantsError, match="at least 3"):
        egger([0.1, 0.2], [0.01, 0.01], [0.1, 0.2], [0.01, 0.01])


def test_egger_zero_bx_counts_positive():
    bx = np.array([0.0, 0.1, 0.2, 0.3])
    by = np.array([0.01, 0.02, 0.05, 0.06])
    s = np.full(4, 0.01)
    r = egger(bx, s, by, s)
    assert r.extras["n_flipped"] == 0
    assert np.isfinite(r.estimate)
