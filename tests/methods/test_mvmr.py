"""Multivariable MR against MendelianRandomization 0.10.0 and MVMR 0.4.6."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import DATA, REFERENCE, requires_shared
from mrkit.errors import InputError, TooFewVariantsError
from mrkit.methods import mvmr

pytestmark = requires_shared


def close(a, b, rtol=1e-6):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return bool(np.all(np.abs(a - b) <= rtol * np.abs(b) + 1e-300))


@pytest.fixture(scope="module")
def lipids():
    d = pd.read_csv(REFERENCE / "data" / "mvmr_rawdat_lipids_sbp.csv")
    with open(REFERENCE / "results" / "mvmr_rawdat_lipids_sbp.json") as fh:
        ref = json.load(fh)
    data = (
        d[["LDL_beta", "HDL_beta", "Trg_beta"]].to_numpy(),
        d[["LDL_se", "HDL_se", "Trg_se"]].to_numpy(),
        d.SBP_beta.to_numpy(),
        d.SBP_se.to_numpy(),
    )
    return data, ref


def _v(x):
    return list(x.values()) if isinstance(x, dict) else x


@pytest.mark.parametrize(
    ("key", "opts"),
    [
        ("mvivw_default", {}),
        ("mvivw_fixed", {"model": "fixed"}),
        ("mvivw_random", {"model": "random"}),
        ("mvivw_tdist", {"dist": "t"}),
    ],
)
def test_mvivw(lipids, key, opts):
    """``MendelianRandomization::mr_mvivw(mvi, ...)``."""
    data, ref = lipids
    r = ref["MendelianRandomization"][key]["result"]
    res = mvmr.mvmr_ivw(*data, **opts)
    for mine, k in (
        (res.estimate, "Estimate"),
        (res.se, "StdError"),
        (res.ci_lower, "CILower"),
        (res.ci_upper, "CIUpper"),
        (res.pval, "Pvalue"),
    ):
        assert close(mine, _v(r[k])), k
    assert close(res.extras["rse"], r["RSE"])
    assert close([res.extras["q"], res.extras["q_pval"]], r["Heter.Stat"])


@pytest.mark.parametrize(
    ("key", "opts"),
    [
        ("mvegger_default", {}),
        ("mvegger_orientate2", {"orientate": 1}),
    ],
)
def test_mvegger(lipids, key, opts):
    """``MendelianRandomization::mr_mvegger(mvi, ...)``."""
    data, ref = lipids
    r = ref["MendelianRandomization"][key]["result"]
    res = mvmr.mvmr_egger(*data, **opts)
    e = res.extras
    for mine, k in (
        (res.estimate, "Estimate"),
        (res.se, "StdError.Est"),
        (res.ci_lower, "CILower.Est"),
        (res.ci_upper, "CIUpper.Est"),
        (res.pval, "Pvalue.Est"),
        (e["egger_intercept"], "Intercept"),
        (e["egger_intercept_se"], "StdError.Int"),
        (e["egger_intercept_pval"], "Pvalue.Int"),
        (e["rse"], "RSE"),
    ):
        assert close(mine, r[k]), k
    assert close([e["q"], e["q_pval"]], r["Heter.Stat"])


def test_mvmedian(lipids):
    """``mr_mvmedian(mvi, iterations = 10000, seed = 314159265)``: SE within 10%."""
    data, ref = lipids
    r = ref["MendelianRandomization"]["mvmedian_default"]["result"]
    res = mvmr.mvmr_median(*data, nboot=10_000, seed=1)
    assert close(res.estimate, r["Estimate"])
    assert np.all(np.abs(res.se / np.asarray(r["StdError"]) - 1) < 0.10)
    again = mvmr.mvmr_median(*data, nboot=500, seed=7)
    same = mvmr.mvmr_median(*data, nboot=500, seed=7)
    assert np.array_equal(again.se, same.se)


def test_mvlasso(lipids):
    """``MendelianRandomization::mr_mvlasso(mvi)``."""
    data, ref = lipids
    r = ref["MendelianRandomization"]["mvlasso_default"]["result"]
    res = mvmr.mvmr_lasso(*data)
    snps = ref["snps_used"]
    assert [snps[i] for i in res.extras["valid_snps"]] == r["ValidSNPs"]
    for mine, k in (
        (res.estimate, "Estimate"),
        (res.se, "StdError"),
        (res.pval, "Pvalue"),
        (res.ci_lower, "CILower"),
        (res.extras["lambda"], "Lambda"),
    ):
        assert close(mine, r[k]), k
    assert close(res.extras["reg_estimate"], r["RegEstimate"], rtol=1e-4)


def test_mvmr_package(lipids):
    """MVMR 0.4.6 ``strength_mvmr``, ``pleiotropy_mvmr`` and ``ivw_mvmr`` (gencov = 0)."""
    data, ref = lipids
    v = ref["MVMR"]
    f = v["strength_mvmr_gencov0"]["result"][0]
    assert close(
        mvmr.conditional_f(data[0], data[1]), [f["exposure1"], f["exposure2"], f["exposure3"]]
    )
    qa = mvmr.q_a(*data)
    assert close(
        [qa["q"], qa["q_pval"]],
        [
            v["pleiotropy_mvmr_gencov0"]["result"]["Qstat"],
            v["pleiotropy_mvmr_gencov0"]["result"]["Qpval"],
        ],
    )
    tab = np.asarray(v["ivw_mvmr_gencov0"]["result"]["values"])
    res = mvmr.mvmr_ivw(*data, model="mre", dist="t")
    assert close(res.estimate, tab[:, 0])
    assert close(res.se, tab[:, 1])
    assert close(res.pval, tab[:, 3])
    g = np.zeros((len(data[2]), 3, 3))
    g[:, range(3), range(3)] = data[1] ** 2
    assert close(
        mvmr.conditional_f(data[0], data[1], gencov=g), mvmr.conditional_f(data[0], data[1])
    )


def test_summary_and_errors(lipids):
    data, _ = lipids
    res = mvmr.mvmr_ivw(*data, exposures=["LDL", "HDL", "TG"])
    s = res.summary()
    assert list(s.exposure) == ["LDL", "HDL", "TG"]
    assert len(s) == 3
    assert res.to_record()["exposures"][0]["exposure"] == "LDL"
    bx, sx, by, sy = data
    with pytest.raises(TooFewVariantsError):
        mvmr.mvmr_egger(bx[:4], sx[:4], by[:4], sy[:4])
    with pytest.raises(InputError, match="shapes differ"):
        mvmr.mvmr_ivw(bx, sx[:, :2], by, sy)
    with pytest.raises(InputError):
        mvmr.mvmr_ivw(bx, sx, by, sy, exposures=["a"])


def test_cli_mvmr(tmp_path, lipids):
    from mrkit.cli import main

    _, ref = lipids
    src = REFERENCE / "data" / "mvmr_rawdat_lipids_sbp.csv"
    out = tmp_path / "out.json"
    rc = main(
        [
            "mvmr",
            str(src),
            "--exposures",
            "LDL,HDL,TG",
            "--beta-cols",
            "LDL_beta,HDL_beta,Trg_beta",
            "--se-cols",
            "LDL_se,HDL_se,Trg_se",
            "--outcome-beta",
            "SBP_beta",
            "--outcome-se",
            "SBP_se",
            "--methods",
            "ivw,egger",
            "--json",
            str(out),
        ]
    )
    assert rc == 0
    doc = json.loads(out.read_text())
    est = [row["estimate"] for row in doc["results"][0]["exposures"]]
    assert close(est, _v(ref["MendelianRandomization"]["mvivw_default"]["result"]["Estimate"]))
    assert close(doc["q_a"]["q"], ref["MVMR"]["pleiotropy_mvmr_gencov0"]["result"]["Qstat"])
    assert main(["mvmr", str(src), "--exposures", "LDL"]) == 2
    assert DATA is not None
