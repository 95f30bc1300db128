"""Correlated-variant IVW/Egger/max-likelihood against MendelianRandomization 0.10.0."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import REFERENCE, rel_close, requires_shared
from mrkit.errors import InputError
from mrkit.methods import get_method
from mrkit.methods.correlated import egger_correl, ivw_correl, maxlik_correl

pytestmark = requires_shared


@pytest.fixture(scope="module")
def calcium():
    d = pd.read_csv(REFERENCE / "data" / "mr_calcium_fastgluc_6snps.csv")
    rho = pd.read_csv(REFERENCE / "data" / "mr_calc_rho_6x6.csv", index_col=0).to_numpy()
    with open(REFERENCE / "results" / "mr_calcium_fastgluc_correlated.json") as fh:
        ref = json.load(fh)["MendelianRandomization"]
    arrays = (
        d.calcium.to_numpy(),
        d.calciumse.to_numpy(),
        d.fastgluc.to_numpy(),
        d.fastglucse.to_numpy(),
    )
    return arrays, rho, ref


@pytest.mark.parametrize(
    ("key", "opts"),
    [
        ("ivw_correl_default", {}),
        ("ivw_correl_fixed", {"model": "fixed"}),
        ("ivw_correl_random", {"model": "random"}),
        ("ivw_correl_tdist", {"dist": "t"}),
    ],
)
def test_ivw_correl(calcium, key, opts):
    """``MendelianRandomization::mr_ivw(mric, correl = TRUE, ...)``."""
    arrays, rho, ref = calcium
    r = ref[key]["result"]
    res = ivw_correl(*arrays, rho=rho, **opts)
    for mine, k in (
        (res.estimate, "Estimate"),
        (res.se, "StdError"),
        (res.ci_lower, "CILower"),
        (res.ci_upper, "CIUpper"),
        (res.pval, "Pvalue"),
        (res.extras["rse"], "RSE"),
        (res.extras["fstat"], "Fstat"),
    ):
        assert rel_close(mine, r[k]), k
    assert rel_close(res.extras["q"], r["Heter.Stat"][0])
    assert rel_close(res.extras["q_pval"], r["Heter.Stat"][1])


@pytest.mark.parametrize(
    ("key", "opts"),
    [
        ("egger_correl_default", {}),
        ("egger_correl_tdist", {"dist": "t"}),
    ],
)
def test_egger_correl(calcium, key, opts):
    """``MendelianRandomization::mr_egger(mric, correl = TRUE, ...)``."""
    arrays, rho, ref = calcium
    r = ref[key]["result"]
    res = egger_correl(*arrays, rho=rho, **opts)
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
        (e["egger_intercept_ci_lower"], "CILower.Int"),
        (e["egger_intercept_ci_upper"], "CIUpper.Int"),
        (e["rse"], "RSE"),
    ):
        assert rel_close(mine, r[k]), k
    assert rel_close(e["q"], r["Heter.Stat"][0])


@pytest.mark.parametrize(
    ("key", "opts"),
    [
        ("maxlik_correl_default", {}),
        ("maxlik_correl_fixed", {"model": "fixed"}),
    ],
)
def test_maxlik_correl(calcium, key, opts):
    """``MendelianRandomization::mr_maxlik(mric, correl = TRUE, ...)``.

    R's Nelder-Mead stops short of the optimum (its 2f is 1.7276749 against the exact
    1.7276741), so estimate and SE agree to 1e-3 and the statistic to 1e-6.
    """
    arrays, rho, ref = calcium
    r = ref[key]["result"]
    res = maxlik_correl(*arrays, rho=rho, **opts)
    assert rel_close(res.estimate, r["Estimate"], rtol=1e-3)
    assert rel_close(res.se, r["StdError"], rtol=1e-3)
    assert rel_close(res.extras["q"], r["Heter.Stat"][0], rtol=1e-6)
    assert res.extras["q"] <= r["Heter.Stat"][0]


def test_identity_rho_gives_uncorrelated(calcium):
    """With rho = I the GLS estimators equal the uncorrelated ones (``mr_ivw(mri0)``)."""
    arrays, _, ref = calcium
    res = ivw_correl(*arrays, rho=np.eye(6))
    r = ref["ivw_uncorrelated_default"]["result"]
    assert rel_close(res.estimate, r["Estimate"])
    assert rel_close(res.se, r["StdError"])
    e = egger_correl(*arrays, rho=np.eye(6))
    assert rel_close(e.estimate, ref["egger_uncorrelated_default"]["result"]["Estimate"])
    m = maxlik_correl(*arrays, rho=np.eye(6))
    assert rel_close(
        m.estimate, ref["maxlik_uncorrelated_default"]["result"]["Estimate"], rtol=1e-3
    )


def test_rho_validation(calcium):
    arrays, rho, _ = calcium
    with pytest.raises(InputError, match="needs `rho`"):
        ivw_correl(*arrays)
    with pytest.raises(InputError, match="6 x 6"):
        ivw_correl(*arrays, rho=np.eye(5))
    bad = np.ones((6, 6))
    with pytest.raises(InputError, match="positive definite"):
        egger_correl(*arrays, rho=bad)
    assert get_method("maxlik_correl")(*arrays, rho=rho).method == "maxlik_correl"
