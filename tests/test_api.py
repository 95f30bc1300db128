"""``mrkit.mr`` on the reference datasets against TwoSampleMR's ``mr()`` and diagnostics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mrkit
from conftest import UNIVARIABLE, ref_data, ref_results, rel_close
from mrkit.errors import FileFormatError, InputError
from mrkit.estimate import mr

LABELS = {
    "MR Egger": "egger",
    "Weighted median": "weighted_median",
    "Inverse variance weighted": "ivw",
    "Simple mode": "simple_mode",
    "Weighted mode": "weighted_mode",
}
BOOTSTRAP = {"weighted_median", "simple_mode", "weighted_mode"}
MODES = {"simple_mode", "weighted_mode"}


def _table(ds: str) -> pd.DataFrame:
    df = ref_data(ds)
    used = ref_results(ds).get("snps_used")
    return df.set_index("SNP").loc[used].reset_index() if used else df


@pytest.fixture(scope="module", params=UNIVARIABLE)
def analysed(request):
    ds = request.param
    return ds, mr(_table(ds), methods="default", seed=7, nboot=5000)


def test_default_methods_match_twosamplemr(analysed):
    """R: ``set.seed(12345); mr(dat)`` (TwoSampleMR 0.7.9)."""
    ds, res = analysed
    expected = ref_results(ds)["TwoSampleMR"]["mr_default_methods"]["result"]
    est = res.estimates.set_index("method")
    assert list(est.index) == [LABELS[r["method"]] for r in expected]
    for row in expected:
        name = LABELS[row["method"]]
        got = est.loc[name]
        assert got["nsnp"] == row["nsnp"]
        if name in MODES:
            assert rel_close(got["estimate"], row["b"], rtol=1e-4)
        else:
            assert rel_close(got["estimate"], row["b"])
        if name in BOOTSTRAP:
            assert got["se"] == pytest.approx(row["se"], rel=0.10)
        else:
            assert rel_close(got["se"], row["se"])
            assert rel_close(got["pval"], row["pval"], rtol=1e-6, atol=1e-300)


def test_heterogeneity_and_pleiotropy_match(analysed):
    """R: ``mr_heterogeneity(dat)``, ``mr_pleiotropy_test(dat)``."""
    ds, res = analysed
    ts = ref_results(ds)["TwoSampleMR"]
    het = res.heterogeneity.set_index("method")
    for row in ts["mr_heterogeneity_default"]["result"]:
        got = het.loc[LABELS[row["method"]]]
        assert rel_close(got["q"], row["Q"])
        assert got["q_df"] == row["Q_df"]
        assert rel_close(got["q_pval"], row["Q_pval"], atol=1e-300)
    pl = ts["mr_pleiotropy_test"]["result"][0]
    got = res.pairs[0].pleiotropy
    assert got is not None
    assert rel_close(got["egger_intercept"], pl["egger_intercept"])
    assert rel_close(got["se"], pl["se"])
    assert rel_close(got["pval"], pl["pval"])
    assert rel_close(res.pairs[0].i2gx, ts["Isq_GX_abs"]["result"])


def test_leave_one_out_and_single_snp_by_name(analysed):
    """R: ``mr_leaveoneout(dat)`` and ``mr_singlesnp(dat)``, matched by SNP name."""
    ds, res = analysed
    ts = ref_results(ds)["TwoSampleMR"]
    loo = res.leave_one_out.set_index("snp")
    rows = [r for r in ts["mr_leaveoneout_ivw"]["result"] if r["SNP"] in loo.index]
    assert len(rows) == len(loo)
    for r in rows:
        assert rel_close(loo.loc[r["SNP"], "estimate"], r["b"])
        assert rel_close(loo.loc[r["SNP"], "se"], r["se"])
    single = res.single_snp.set_index("snp")
    rows = [r for r in ts["mr_singlesnp_default"]["result"] if r["SNP"] in single.index]
    assert len(rows) == len(single)
    for r in rows:
        assert rel_close(single.loc[r["SNP"], "estimate"], r["b"])
        assert rel_close(single.loc[r["SNP"], "se"], r["se"])


def test_same_seed_identical_and_record_shape():
    df = _table("mr_ldlc_chd")
    a = mr(df, seed=3).to_dict()
    b = mr(df, seed=3).to_dict()
    assert a == b
    assert set(a) >= {
        "estimates",
        "heterogeneity",
        "pleiotropy",
        "i2gx",
        "f_mean",
        "leave_one_out",
        "single_snp",
    }
    assert set(a["estimates"][0]) >= {
        "method",
        "estimate",
        "se",
        "ci_lower",
        "ci_upper",
        "pval",
        "nsnp",
    }
    assert set(a["pleiotropy"]) == {"egger_intercept", "se", "pval"}


def test_twosamplemr_names_and_pairs():
    """Several pairs (id.exposure/id.outcome) give results per pair, labelled."""
    a = _table("mr_ldlc_chd")
    b = _table("mr_hdlc_chd")
    rows = []
    for name, df in (("ldl", a), ("hdl", b)):
        rows.append(
            pd.DataFrame(
                {
                    "SNP": df["SNP"],
                    "beta.exposure": df["beta_exposure"],
                    "se.exposure": df["se_exposure"],
                    "beta.outcome": df["beta_outcome"],
                    "se.outcome": df["se_outcome"],
                    "id.exposure": name,
                    "id.outcome": "chd",
                    "mr_keep": True,
                }
            )
        )
    res = mr(pd.concat(rows), methods="ivw,egger")
    est = res.estimates
    assert set(est["exposure"]) == {"ldl", "hdl"}
    single = mr(a, methods="ivw").estimates
    ldl = est[(est["exposure"] == "ldl") & (est["method"] == "ivw")].iloc[0]
    assert ldl["estimate"] == pytest.approx(single.iloc[0]["estimate"], rel=1e-12)
    d = res.to_dict()
    assert all({"exposure", "outcome"} <= set(r) for r in d["estimates"])
    assert isinstance(d["pleiotropy"], list)


def test_keep_false_rows_are_ignored():
    df = _table("mr_ldlc_chd").copy()
    df["mr_keep"] = True
    df.loc[0, "mr_keep"] = False
    df.loc[0, "beta_outcome"] = np.nan
    res = mr(df, methods="ivw")
    assert res.estimates.iloc[0]["nsnp"] == len(df) - 1


def test_too_few_variants_recorded_not_silent():
    df = _table("mr_ldlc_chd").iloc[:2]
    res = mr(df, methods="default", seed=1)
    skipped = res.skipped.set_index("method")["reason"]
    assert "egger" in skipped.index
    assert "needs at least 3" in skipped["egger"]
    assert "ivw" in set(res.estimates["method"])


def test_single_variant_uses_wald_ratio():
    df = _table("mr_ldlc_chd").iloc[:1]
    res = mr(df, methods="default")
    assert list(res.estimates["method"]) == ["wald_ratio"]


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d.drop(columns=["se_outcome"]), "se_outcome"),
        (
            lambda d: d.assign(se_exposure=d["se_exposure"].where(d.index != 3, -1.0)),
            "line 5, column `se_exposure`",
        ),
        (
            lambda d: d.assign(
                beta_outcome=d["beta_outcome"].astype(object).where(d.index != 2, "abc")
            ),
            "line 4, column `beta_outcome`",
        ),
        (
            lambda d: d.assign(beta_exposure=d["beta_exposure"].where(d.index != 0, np.nan)),
            "line 2, column `beta_exposure`",
        ),
    ],
)
def test_bad_tables_name_the_place(mutate, match):
    df = mutate(_table("mr_ldlc_chd"))
    with pytest.raises(FileFormatError, match=match):
        mr(df)


def test_unknown_method_lists_known():
    with pytest.raises(InputError, match="unknown method `foo`; known methods:"):
        mr(_table("mr_ldlc_chd"), methods="ivw,foo")


def test_public_api_exports_mr():
    assert mrkit.mr is mr
    r = mr(_table("mr_ldlc_chd"), methods="ivw")
    assert "MRAnalysis" in repr(r)
    assert "<table" in r._repr_html_()
