"""Robust MVMR-IVW, TwoSampleMR ``mv_multiple`` and MVMR ``Q_strength`` against R
(MendelianRandomization 0.10.0, TwoSampleMR 0.7.9, MVMR 0.4.6)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import REFERENCE, requires_shared
from mrkit.cli import main
from mrkit.methods import mvmr

pytestmark = requires_shared

NAMES = ["LDL", "HDL", "TG"]


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
    return list(x.values())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_robust_mvivw_matches_mendelianrandomization(lipids, seed):
    """``set.seed(12345); MendelianRandomization::mr_mvivw(mvi, robust = TRUE)``: R's 500
    subsamples come from its own stream; any seed here reaches the same MM-estimate."""
    data, ref = lipids
    r = ref["MendelianRandomization"]["mvivw_robust"]
    assert r["call"] == "MendelianRandomization::mr_mvivw(mvi, robust = TRUE)"
    e = r["result"]
    x = mvmr.METHODS["ivw_robust"](*data, exposures=NAMES, seed=seed)
    assert x.nsnp == e["SNPs"]
    assert not x.extras["exhaustive"]
    for ours, theirs in [("estimate", "Estimate"), ("se", "StdError"), ("ci_lower", "CILower"),
                         ("ci_upper", "CIUpper"), ("pval", "Pvalue")]:  # fmt: skip
        assert close(getattr(x, ours), _v(e[theirs])), ours
    assert close(x.extras["rse"], e["RSE"])
    assert close(x.extras["q"], e["Heter.Stat"][0])
    assert close(x.extras["q_pval"], e["Heter.Stat"][1])


@pytest.mark.parametrize(("key", "intercept"), [("mv_multiple_intercept", True),
                                                ("mv_multiple_default", False)])  # fmt: skip
def test_mv_multiple_matches_twosamplemr(lipids, key, intercept):
    """``mv_multiple(mvdat, intercept = TRUE)$result`` and ``mv_multiple(mvdat)$result``
    (rows sorted by exposure id in R; exposure p-values ``2*pnorm(-|b/se|)``)."""
    data, ref = lipids
    r = ref["TwoSampleMR"][key]
    assert r["call"].startswith("mv_multiple(mvdat")
    assert ("intercept = TRUE" in r["call"]) == intercept
    x = mvmr.METHODS["multiple"](*data, exposures=NAMES, intercept=intercept)
    rows = {row["exposure"]: row for row in r["result"]}
    for i, name in enumerate(NAMES):
        assert close(x.estimate[i], rows[name]["b"])
        assert close(x.se[i], rows[name]["se"])
        assert close(x.pval[i], rows[name]["pval"])
        assert x.extras["nsnp_by_exposure"][i] == rows[name]["nsnp"]


def test_q_strength_matches_mvmr(lipids):
    """``mvmr(fdat, gencov = 0, weights = 1)$Q_strength`` (MVMR's older combined function)."""
    data, ref = lipids
    r = ref["MVMR"]["mvmr_old_gencov0_w1"]
    assert r["call"] == "mvmr(fdat, gencov = 0, weights = 1)"
    e = r["result"]["Q_strength"][0]
    q = mvmr.q_strength(data[0], data[1])
    assert close(q, [e["exposure1"], e["exposure2"], e["exposure3"]])
    assert close(q / len(data[2]), mvmr.conditional_f(data[0], data[1]), rtol=1e-12)
    assert close(r["result"]["Q_valid"], mvmr.q_a(*data)["q"])


def test_cli_runs_the_new_methods(tmp_path: Path):
    src = pd.read_csv(REFERENCE / "data" / "mvmr_rawdat_lipids_sbp.csv")
    out = tmp_path / "out.json"
    rc = main(
        [
            "mvmr",
            str(REFERENCE / "data" / "mvmr_rawdat_lipids_sbp.csv"),
            "--exposures", "LDL,HDL,Trg",
            "--outcome-beta", "SBP_beta",
            "--outcome-se", "SBP_se",
            "--beta-cols", "LDL_beta,HDL_beta,Trg_beta",
            "--se-cols", "LDL_se,HDL_se,Trg_se",
            "--methods", "ivw_robust,multiple",
            "--json", str(out),
        ]
    )  # fmt: skip
    assert rc == 0
    doc = json.loads(out.read_text())
    assert [r["method"] for r in doc["results"]] == ["mvmr_ivw_robust", "mv_multiple"]
    assert len(src) == doc["nsnp"]
    assert doc["q_strength"]["LDL"] == pytest.approx(6718.823062068521, rel=1e-6)
