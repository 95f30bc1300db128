"""Steiger directionality against TwoSampleMR 0.7.9 (results/tsmr_bmi_chd_steiger.json and
the ``directionality_test`` / ``steiger_filtering`` entries of the dataset results)."""

from __future__ import annotations

import json
import math
from functools import cache

import numpy as np
import pandas as pd
import pytest

from conftest import REFERENCE, UNIVARIABLE, ref_data, ref_results, rel_close, requires_shared
from mrkit.diagnostics import steiger as st
from mrkit.errors import InputError

STEIGER_JSON = REFERENCE / "results" / "tsmr_bmi_chd_steiger.json"


@cache
def _steiger_ref() -> dict:
    with open(STEIGER_JSON) as fh:
        return json.load(fh)


def _table(snps: list[str]) -> pd.DataFrame:
    return ref_data("tsmr_bmi_chd").set_index("SNP").loc[snps].reset_index()


def _close(actual, expected, what: str) -> None:
    assert rel_close(actual, expected), f"{what}: {actual!r} != {expected!r}"


def _allclose(actual, expected, what: str) -> None:
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=0, err_msg=what)


@requires_shared
def test_per_snp_r_matches_tsmr():
    """R: ``get_r_from_pn(p, n)`` and ``get_r_from_bsen(b, se, n)`` per SNP (``per_snp_r``)."""
    ref = _steiger_ref()
    d = _table(ref["snps_used"])
    r = pd.DataFrame(ref["TwoSampleMR"]["per_snp_r"]["result"]).set_index("SNP").loc[d["SNP"]]
    _allclose(np.sqrt(st.r2_from_pn(d.pval_exposure, d.samplesize_exposure)), r.r_exp_pn, "pn x")
    _allclose(np.sqrt(st.r2_from_pn(d.pval_outcome, d.samplesize_outcome)), r.r_out_pn, "pn y")
    rx = st.r2_continuous(d.beta_exposure, d.se_exposure, d.samplesize_exposure)
    ry = st.r2_continuous(d.beta_outcome, d.se_outcome, d.samplesize_outcome)
    _allclose(np.sqrt(rx), np.abs(r.r_exp_bsen), "bsen x")
    _allclose(np.sqrt(ry), np.abs(r.r_out_bsen), "bsen y")


@requires_shared
def test_mr_steiger_matches_tsmr():
    """R: ``mr_steiger(dat$pval.exposure, dat$pval.outcome, dat$samplesize.exposure,
    dat$samplesize.outcome, rep(NA_real_, n), rep(NA_real_, n))`` and ``mr_steiger2`` on
    ``get_r_from_pn`` (same numbers)."""
    ref = _steiger_ref()
    d = _table(ref["snps_used"])
    got = st.directionality_test(
        d.pval_exposure, d.pval_outcome, d.samplesize_exposure, d.samplesize_outcome
    )
    for key in ("mr_steiger_raw", "mr_steiger2_pn"):
        m = ref["TwoSampleMR"][key]["result"]
        for k in (
            "r2_exp",
            "r2_out",
            "r2_exp_adj",
            "r2_out_adj",
            "vz",
            "vz0",
            "vz1",
            "sensitivity_ratio",
        ):
            _close(got[k], m[k], f"{key} {k}")
        _close(got["steiger_pval"], m["steiger_test"], f"{key} steiger_test")
        _close(got["steiger_pval_adj"], m["steiger_test_adj"], f"{key} steiger_test_adj")
        assert got["correct_causal_direction"] is m["correct_causal_direction"]
        assert got["correct_causal_direction_adj"] is m["correct_causal_direction_adj"]
    # the same through steiger_test on the per-SNP r² (sums and mean n)
    r2x = st.r2_from_pn(d.pval_exposure, d.samplesize_exposure)
    r2y = st.r2_from_pn(d.pval_outcome, d.samplesize_outcome)
    direct = st.steiger_test(r2x, r2y, d.samplesize_exposure, d.samplesize_outcome)
    assert direct["steiger_pval"] == pytest.approx(got["steiger_pval"], rel=1e-12)


def _directionality_datasets() -> list[tuple[str, dict, pd.DataFrame]]:
    out = []
    ref = _steiger_ref()
    out.append(("tsmr_bmi_chd_steiger", ref["TwoSampleMR"], _table(ref["snps_used"])))
    for ds in UNIVARIABLE:
        t = ref_results(ds)["TwoSampleMR"]
        if "directionality_test" in t:
            d = ref_data(ds).set_index("SNP").loc[ref_results(ds)["snps_used"]].reset_index()
            out.append((ds, t, d))
    return out


@requires_shared
def test_directionality_test_matches_tsmr():
    """R: ``directionality_test(dat)`` (r from p and n, continuous traits)."""
    cases = _directionality_datasets()
    assert len(cases) >= 3
    for name, t, d in cases:
        ref = t["directionality_test"]["result"][0]
        got = st.directionality_test(
            d.pval_exposure, d.pval_outcome, d.samplesize_exposure, d.samplesize_outcome
        )
        _close(got["snp_r2_exposure"], ref["snp_r2.exposure"], f"{name} r2 x")
        _close(got["snp_r2_outcome"], ref["snp_r2.outcome"], f"{name} r2 y")
        _close(got["steiger_pval"], ref["steiger_pval"], f"{name} p")
        assert got["correct_causal_direction"] is ref["correct_causal_direction"]


@requires_shared
def test_steiger_filtering_matches_tsmr():
    """R: ``steiger_filtering(dat)`` (no units: rsq from ``get_r_from_bsen``, n = samplesize)."""
    for name, t, d in _directionality_datasets():
        ref = pd.DataFrame(t["steiger_filtering"]["result"]).set_index("SNP").loc[d["SNP"]]
        rx = st.r2_continuous(d.beta_exposure, d.se_exposure, d.samplesize_exposure)
        ry = st.r2_continuous(d.beta_outcome, d.se_outcome, d.samplesize_outcome)
        got = st.steiger_filtering(rx, ry, d.samplesize_exposure, d.samplesize_outcome)
        assert list(got.columns) == ["rsq_exposure", "rsq_outcome", "steiger_dir", "steiger_pval"]
        _allclose(got.rsq_exposure, ref["rsq.exposure"], f"{name} rsq x")
        _allclose(got.rsq_outcome, ref["rsq.outcome"], f"{name} rsq y")
        _allclose(got.steiger_pval, ref["steiger_pval"], f"{name} p")
        assert (got.steiger_dir.to_numpy() == ref["steiger_dir"].to_numpy()).all()
    # the json's own n columns are the samplesize columns (no case/control there)
    row = _steiger_ref()["TwoSampleMR"]["steiger_filtering"]["result"][0]
    assert row["effective_n.exposure"] == row["samplesize.exposure"]


def test_r2_binary_liability_scale():
    """get_r_from_lor (no R reference for binary traits here): liability-scale identities."""
    lor, eaf, n1, n0, k = 0.3, 0.25, 5000, 15000, 0.05
    r2 = st.r2_binary([lor], [eaf], n1, n0, k)[0]
    prop = n1 / (n1 + n0)
    # the cell z (cases carrying the allele) solves the odds-ratio equation
    pop = st._population_af(eaf, prop, math.exp(lor), k)
    assert 0 < pop < 1
    vg = lor**2 * pop * (1 - pop)
    assert r2 == pytest.approx(vg / (vg + math.pi**2 / 3), rel=1e-12)
    assert st.r2_binary([lor], [eaf], n1, n0, k, model="probit")[0] == pytest.approx(
        vg / (vg + 1), rel=1e-12
    )
    assert st.r2_binary([lor], [eaf], n1, n0, k, correction=True)[0] == pytest.approx(r2 / 0.58)
    # OR = 1: population frequency equals the sample frequency, r² = 0
    assert st.r2_binary([0.0], [0.4], n1, n0, k)[0] == 0.0
    # a risk allele is rarer in the population than in a case-enriched sample
    assert pop < eaf
    # prevalence equal to the case proportion: the sample is the population
    assert st._population_af(eaf, prop, math.exp(lor), prop) == pytest.approx(eaf, abs=1e-6)
    np.testing.assert_allclose(st.effective_n(100, 300), [150.0])
    with pytest.raises(InputError, match="prevalence"):
        st.r2_binary([lor], [eaf], n1, n0, 1.5)
    with pytest.raises(InputError, match="model"):
        st.r2_binary([lor], [eaf], n1, n0, k, model="cloglog")


def test_steiger_bad_input():
    with pytest.raises(InputError, match="p-value of 0"):
        st.r2_from_pn([0.0], [1000])
    with pytest.raises(InputError, match="too small"):
        st.r2_from_pn([1e-320], [10])
    with pytest.raises(InputError, match="n_exp"):
        st.steiger_test([0.01], [0.001], 2, 1000)
    with pytest.raises(InputError, match="LD-pruned"):
        st.steiger_test([0.6, 0.6], [0.001], 1000, 1000)
    with pytest.raises(InputError, match="r2_out"):
        st.steiger_filtering([0.01, 0.02], [0.001], 1000, 1000)
    # r² = 0 for the outcome: the test works, the sensitivity volumes are undefined
    res = st.steiger_test([0.01], [0.0], 1000, 1000)
    assert res["correct_causal_direction"]
    assert math.isnan(res["vz"])


def test_steiger_reverse_direction():
    res = st.steiger_test([0.001], [0.01], 5000, 5000)
    assert res["correct_causal_direction"] is False
    assert res["steiger_pval"] < 1e-3
    flt = st.steiger_filtering([0.001, 0.01], [0.01, 0.001], 5000, [5000, 6000])
    assert flt.steiger_dir.tolist() == [False, True]


def test_r2_binary_without_zapsmall():
    """TwoSampleMR 0.7.9 (c14776b8) get_population_allele_frequency, vectorised, no
    zapsmall (older releases rounded the 2x2 table to 7 significant digits)::

        d <- pmax(0, b^2 - 4 * a * c_); z_pos <- (-b + sqrt(d)) / (2 * a)
        valid_pos <- z_pos >= -1e-7 & (prop - z_pos) >= -1e-7 & (af - z_pos) >= -1e-7 &
                     (1 + z_pos - af - prop) >= -1e-7
        z <- ifelse(valid_pos, z_pos, z_neg)
        (af - z) / (1 - prop) * (1 - prevalence) + z / prop * prevalence

    CHD treated as binary on the BMI -> CHD table (60,801 cases, 123,504 controls,
    prevalence 0.05): get_r_from_lor(...)^2 replayed from the R code above.
    """
    df = pd.read_csv(REFERENCE / "data" / "tsmr_bmi_chd.csv")
    lor, af = df["beta_outcome"].to_numpy(), df["eaf_outcome"].to_numpy()
    n1, n0, k = 60801.0, 123504.0, 0.05
    prop = n1 / (n1 + n0)
    orr = np.exp(lor)
    a, b, c = orr - 1, (af + prop) * (1 - orr) - 1, orr * af * prop
    d = np.maximum(0, b**2 - 4 * a * c)
    zp, zn = (-b + np.sqrt(d)) / (2 * a), (-b - np.sqrt(d)) / (2 * a)
    ok = (zp >= -1e-7) & (prop - zp >= -1e-7) & (af - zp >= -1e-7) & (1 + zp - af - prop >= -1e-7)
    z = np.where(ok, zp, zn)
    pop = (af - z) / (1 - prop) * (1 - k) + z / prop * k
    vg = lor**2 * pop * (1 - pop)
    want = vg / (vg + np.pi**2 / 3)
    got = st.r2_binary(lor, af, n1, n0, k)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # the old zapsmall'd table: 7 significant digits of the largest cell
    cells = np.stack([z, prop - z, af - z, 1 + z - af - prop])
    dec = 7 - np.ceil(np.log10(np.abs(cells).max(axis=0)))
    zz = np.round(cells * 10**dec) / 10**dec
    old_pop = zz[2] / (zz[2] + zz[3]) * (1 - k) + zz[0] / (zz[0] + zz[1]) * k
    old_vg = lor**2 * old_pop * (1 - old_pop)
    old = old_vg / (old_vg + np.pi**2 / 3)
    assert np.max(np.abs(old / want - 1)) > 1e-7
