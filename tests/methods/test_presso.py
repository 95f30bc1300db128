"""MR-PRESSO against MRPRESSO 1.0 (../shared/reference, NbDistribution = 1000, seed 12345)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit.errors import InputError, TooFewVariantsError
from mrkit.methods import get_method
from mrkit.methods.presso import _lm_origin, mark_presso_outliers, presso

pytestmark = requires_shared
R_DRAWS = 1000
DATASETS = [ds for ds in UNIVARIABLE if isinstance(ref_results(ds)["MRPRESSO"]["mr_presso"], dict)]
# outlier sets that are not decided by R's 1000-draw resolution (zero vs one exceedance)
STABLE_OUTLIERS = ["mr_ldlc_chd", "mr_hdlc_chd", "mr_trig_chd", "tsmr_bmi_chd"]


def _run(ds: str, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return presso(*ref_arrays(ds), n_distributions=10_000, seed=1, **kw)


def _r_count(text: str | float, scale: float) -> int:
    """Exceedance count behind one of R's p-value strings."""
    if isinstance(text, str) and text.startswith("<"):
        return 0
    return round(float(text) / scale * R_DRAWS)


def _consistent(r_count: int, p_hat: float, n: int = R_DRAWS) -> bool:
    """R's count is plausible under Binomial(n, p_hat) (two-sided, 1e-4 level)."""
    p_hat = min(max(p_hat, 0.5 / 10_000), 1.0)
    lo = stats.binom.cdf(r_count, n, p_hat)
    hi = stats.binom.sf(r_count - 1, n, p_hat)
    return min(lo, hi) > 1e-4


@pytest.mark.parametrize("ds", DATASETS)
def test_presso_deterministic_parts(ds):
    """mr_presso(BetaOutcome = "beta_outcome", BetaExposure = "beta_exposure", SdOutcome =
    "se_outcome", SdExposure = "se_exposure", data = d, OUTLIERtest = TRUE, DISTORTIONtest =
    TRUE, SignifThreshold = 0.05, NbDistribution = 1000, seed = 12345): RSSobs, per-variant
    RSSobs and the raw IVW row to 1e-6."""
    ref = ref_results(ds)["MRPRESSO"]["mr_presso"]["result"]
    res = _run(ds)
    assert rel_close(res.extras["global_rss"], ref["MR-PRESSO results"]["Global Test"]["RSSobs"])
    for ours, theirs in zip(
        res.extras["outlier_rss"], ref["MR-PRESSO results"]["Outlier Test"], strict=True
    ):
        assert rel_close(ours, theirs["RSSobs"])
    raw = ref["Main MR results"][0]
    assert rel_close(res.estimate, raw["Causal Estimate"])
    assert rel_close(res.se, raw["Sd"])
    assert rel_close(res.extras["raw_t"], raw["T-stat"])
    assert rel_close(res.pval, raw["P-value"])


@pytest.mark.parametrize("ds", DATASETS)
def test_presso_corrected_given_r_outliers(ds):
    """Outlier-corrected IVW (and distortion coefficient) for R's outlier set, to 1e-6."""
    ref = ref_results(ds)["MRPRESSO"]["mr_presso"]["result"]
    r_out = np.asarray(ref["MR-PRESSO results"]["Distortion Test"]["Outliers Indices"]) - 1
    bx, _, by, sy = ref_arrays(ds)
    s = np.sign(bx)
    bx, by, w = bx * s, by * s, sy**-2.0
    keep = np.setdiff1d(np.arange(bx.shape[0]), r_out)
    corr = _lm_origin(bx[keep], by[keep], w[keep])
    row = ref["Main MR results"][1]
    assert rel_close(corr["estimate"], row["Causal Estimate"])
    assert rel_close(corr["se"], row["Sd"])
    assert rel_close(corr["t"], row["T-stat"])
    assert rel_close(corr["pval"], row["P-value"])
    b_all = _lm_origin(bx, by, w)["estimate"]
    coef = 100 * (b_all - corr["estimate"]) / abs(corr["estimate"])
    (r_coef,) = ref["MR-PRESSO results"]["Distortion Test"]["Distortion Coefficient"].values()
    assert rel_close(coef, r_coef)


@pytest.mark.parametrize("ds", DATASETS)
def test_presso_pvalues_within_monte_carlo_error(ds):
    """Global, per-variant and distortion p-values: R's 1000-draw counts are plausible
    under our 10,000-draw estimates."""
    ref = ref_results(ds)["MRPRESSO"]["mr_presso"]["result"]["MR-PRESSO results"]
    res = _run(ds)
    n = res.nsnp
    assert _consistent(_r_count(ref["Global Test"]["Pvalue"], 1), res.extras["global_pval"])
    assert res.extras["outlier_test_run"]
    for ours, theirs in zip(res.extras["outlier_pvals"], ref["Outlier Test"], strict=True):
        if theirs["Pvalue"] == "1" and ours == 1.0:
            continue
        r_count = _r_count(theirs["Pvalue"], n)
        if float(str(theirs["Pvalue"]).lstrip("<")) >= 1:  # capped at 1: only a lower bound
            assert ours / n * R_DRAWS > 0 or r_count > 0
            continue
        assert _consistent(r_count, ours / n), (theirs, ours)
    if res.extras["distortion_pval"] is not None and ds in STABLE_OUTLIERS:
        r_p = ref["Distortion Test"]["Pvalue"]
        assert _consistent(_r_count(r_p, 1), res.extras["distortion_pval"])


@pytest.mark.parametrize("ds", STABLE_OUTLIERS)
def test_presso_outliers_and_corrected_equal_r(ds):
    """Same outlier set as MRPRESSO; corrected IVW and distortion coefficient to 1e-6."""
    ref = ref_results(ds)["MRPRESSO"]["mr_presso"]["result"]
    res = _run(ds)
    r_out = [i - 1 for i in ref["MR-PRESSO results"]["Distortion Test"]["Outliers Indices"]]
    assert res.extras["outlier_index"] == r_out
    assert res.extras["outliers"] == [str(i) for i in r_out]  # unnamed variants: positions
    row = ref["Main MR results"][1]
    assert rel_close(res.extras["corrected_estimate"], row["Causal Estimate"])
    assert rel_close(res.extras["corrected_se"], row["Sd"])
    assert rel_close(res.extras["corrected_pval"], row["P-value"])
    (r_coef,) = ref["MR-PRESSO results"]["Distortion Test"]["Distortion Coefficient"].values()
    assert rel_close(res.extras["distortion_coef"], r_coef)


def test_presso_seed_reproducible_and_conclusion_stable():
    a = ref_arrays("mr_ldlc_chd")
    r1 = presso(*a, n_distributions=2000, seed=11)
    r2 = presso(*a, n_distributions=2000, seed=11)
    r3 = presso(*a, n_distributions=2000, seed=12)
    assert r1.to_record() == r2.to_record()
    assert r3.extras["outliers"] == r1.extras["outliers"]
    assert r3.extras["global_pval"] < 0.05
    assert abs(r3.extras["distortion_pval"] - r1.extras["distortion_pval"]) < 0.06


def test_presso_pvalue_text_resolution():
    """MRPRESSO prints "<1e-04" for a global p with no exceeding draw; mrkit records the
    bound 1/D, flagged at the limit, never 0."""
    res = _run("mr_ldlc_chd")
    assert res.extras["global_pval"] == 1 / 10_000
    assert res.extras["global_pval_at_limit"] is True
    assert res.extras["p_resolution"] == 1 / 10_000
    assert res.extras["global_pval_text"] == "<0.0001"
    assert res.extras["outlier_pvals_text"][11] == f"<{28 / 10_000:g}"
    assert res.extras["outlier_pvals"][11] == 28 / 10_000
    assert res.extras["outlier_pvals_at_limit"][11] is True
    assert min(res.extras["outlier_pvals"]) > 0


def test_presso_registered_and_errors():
    spec = get_method("presso")
    assert spec.stochastic
    a = [x[:3] for x in ref_arrays("mr_ldlc_chd")]
    with pytest.raises(TooFewVariantsError, match="presso"):
        presso(*a)
    with pytest.raises(InputError, match="n_distributions"):
        presso(*ref_arrays("mr_ldlc_chd"), n_distributions=20)


def test_presso_unstable_warning_is_recorded():
    with pytest.warns(UserWarning, match="unstable"):
        res = presso(*ref_arrays("tsmr_bmi_chd"), n_distributions=1000, seed=3)
    assert any("unstable" in w for w in res.extras["warnings"])


def test_mark_presso_outliers():
    res = _run("mr_ldlc_chd")
    n = res.nsnp
    table = pd.DataFrame(
        {
            "snp": [f"rs{i}" for i in range(n + 1)],
            "keep": [True] * n + [False],
            "reason": [""] * n + ["palindromic"],
        }
    )
    table = table.iloc[[n, *range(n)]].reset_index(drop=True)  # a dropped row first
    out = mark_presso_outliers(table, res)
    flagged = out.index[out["reason"] == "outlier (MR-PRESSO)"].tolist()
    assert flagged == [i + 1 for i in res.extras["outlier_index"]]
    assert not out.loc[flagged, "keep"].any()
    assert len(out) == len(table)
    assert table["keep"].sum() == n  # input untouched


def test_presso_engine_lists_outliers_by_snp_id_and_corrected_row():
    """MRPRESSO on the LDL-C table (SNP ids snp1..snp28): outliers are the ids
    (R's "Outliers Indices" 12 and 14), and the outlier-corrected estimate is its own
    row, method ``presso_corrected``, right after ``presso`` (R's "Main MR results"
    row "Outlier-corrected": estimate, Sd, P-value to 1e-6; t on 25 df)."""
    from conftest import REFERENCE
    from mrkit.estimate import mr

    ref = ref_results("mr_ldlc_chd")["MRPRESSO"]["mr_presso"]["result"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mr(
            REFERENCE / "data" / "mr_ldlc_chd.csv",
            methods="presso",
            options={"presso": {"n_distributions": 10_000}},
            diagnostics=False,
        )
    est = res.estimates
    assert est["method"].tolist() == ["presso", "presso_corrected"]
    r_idx = ref["MR-PRESSO results"]["Distortion Test"]["Outliers Indices"]
    assert est.iloc[0]["outliers"] == [f"snp{i}" for i in r_idx]
    assert est.iloc[0]["outlier_index"] == [i - 1 for i in r_idx]
    corr, row = est.iloc[1], ref["Main MR results"][1]
    assert rel_close(corr["estimate"], row["Causal Estimate"])
    assert rel_close(corr["se"], row["Sd"])
    assert rel_close(corr["pval"], row["P-value"])
    assert corr["nsnp"] == 26
    assert corr["outliers"] == [f"snp{i}" for i in r_idx]
    c = stats.t.isf(0.025, 25)
    assert rel_close(corr["ci_upper"], row["Causal Estimate"] + c * row["Sd"])
    assert res.parameters["seed"] == 1


def test_cli_presso_n_distributions_and_snp_ids(tmp_path):
    """mrkit mr TABLE --methods presso --set presso.n_distributions=10000 --json OUT."""
    import json

    from conftest import REFERENCE
    from mrkit.cli import main

    out = tmp_path / "presso.json"
    table = REFERENCE / "data" / "mr_ldlc_chd.csv"
    argv = ["mr", str(table), "--methods", "presso", "--set", "presso.n_distributions=10000"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main([*argv, "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    rows = {r["method"]: r for r in d["estimates"]}
    assert rows["presso"]["outliers"] == ["snp12", "snp14"]
    assert rows["presso"]["n_distributions"] == 10_000
    assert rows["presso"]["p_resolution"] == 1e-4
    assert rows["presso"]["global_pval"] > 0
    assert rows["presso_corrected"]["nsnp"] == 26
    assert d["parameters"]["options"] == {"presso": {"n_distributions": 10_000}}
    assert d["parameters"]["seed"] == 1
