"""Mode-based estimators against TwoSampleMR ``mr_mode`` and MendelianRandomization ``mr_mbe``.

Point estimates reproduce R's ``density()`` argmax (1e-6). Bootstrap SEs
(median absolute deviation of the bootstrap estimates) are compared within
Monte-Carlo error: TwoSampleMR's come from 1000 draws (relative SD of one such
MAD about 4-5%, more when the bootstrap distribution is lumpy), so those are
checked to 20%; MendelianRandomization's from 10000 draws, to 10% (slow test).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit.errors import InputError
from mrkit.methods import default_methods, get_method
from mrkit.methods._density import r_mad, r_seq
from mrkit.methods._kde_mode import density_mode

pytestmark = requires_shared

TSMR = [
    ("simple_mode", "method_raw_mr_simple_mode", "Simple mode"),
    ("weighted_mode", "method_raw_mr_weighted_mode", "Weighted mode"),
    ("simple_mode_nome", "method_raw_mr_simple_mode_nome", "Simple mode (NOME)"),
    ("weighted_mode_nome", "method_raw_mr_weighted_mode_nome", "Weighted mode (NOME)"),
    ("penalised_mode", None, "Penalised mode"),
]
MBE = [
    ("weighted_mode", "mbe_weighted_delta"),
    ("weighted_mode_nome", "mbe_weighted_simple"),
    ("simple_mode", "mbe_unweighted_delta"),
    ("simple_mode_nome", "mbe_unweighted_simple"),
]


@pytest.mark.parametrize("ds", UNIVARIABLE)
@pytest.mark.parametrize(("name", "key", "label"), TSMR)
def test_mode_matches_twosamplemr(ds, name, key, label):
    """``mr_simple_mode / mr_weighted_mode / mr_simple_mode_nome / mr_weighted_mode_nome(b_exp,
    b_out, se_exp, se_out, default_parameters())`` and ``mr_mode(dat, mode_method = "all")``
    (phi = 1, nboot = 1000)."""
    tsmr = ref_results(ds)["TwoSampleMR"]
    allm = {row["method"]: row for row in tsmr["mr_mode_all"]["result"]}
    e = tsmr[key]["result"] if key else allm[label]
    if key:
        assert tsmr[key]["call"].startswith(key.removeprefix("method_raw_") + "(")
        assert rel_close(allm[label]["b"], e["b"])
    r = get_method(name)(*ref_arrays(ds), seed=99)
    assert r.nsnp == e["nsnp"]
    assert rel_close(r.estimate, e["b"]), (r.estimate, e["b"])
    assert abs(r.se / e["se"] - 1) < 0.20, (r.se, e["se"])
    # conventions: normal interval, p-value on t with J - 1 df
    z = stats.norm.isf(0.025)
    assert rel_close(r.ci_upper, r.estimate + z * r.se)
    assert rel_close(r.pval, 2 * stats.t.sf(abs(r.estimate / r.se), r.nsnp - 1), atol=1e-300)
    # and R's own numbers obey them
    assert rel_close(allm[label]["ci_low"], allm[label]["b"] - z * allm[label]["se"])
    p = 2 * stats.t.sf(abs(allm[label]["b"] / allm[label]["se"]), e["nsnp"] - 1)
    assert rel_close(allm[label]["pval"], p, rtol=1e-6, atol=1e-300)


@pytest.mark.parametrize("ds", UNIVARIABLE)
@pytest.mark.parametrize(("name", "key"), MBE)
def test_mode_point_matches_mbe(ds, name, key):
    """``MendelianRandomization::mr_mbe(mri, weighting = "weighted"/"unweighted",
    stderror = "delta"/"simple", phi = 1, iterations = 10000, seed = 314159265)``: point."""
    m = ref_results(ds)["MendelianRandomization"][key]["result"]
    r = get_method(name)(*ref_arrays(ds), seed=1, nboot=20, dist="normal")
    assert rel_close(r.estimate, m["Estimate"])
    assert rel_close(r.pval, 2 * stats.norm.sf(abs(r.estimate / r.se)), atol=1e-300)


@pytest.mark.slow
@pytest.mark.parametrize("ds", UNIVARIABLE)
@pytest.mark.parametrize(("name", "key"), MBE)
def test_mode_se_matches_mbe(ds, name, key):
    """``MendelianRandomization::mr_mbe(..., iterations = 10000, seed = 314159265)``: SE."""
    m = ref_results(ds)["MendelianRandomization"][key]["result"]
    r = get_method(name)(*ref_arrays(ds), seed=5, nboot=10000, dist="normal")
    assert abs(r.se / m["StdError"] - 1) < 0.10, (r.se, m["StdError"])


def test_density_mode_simple_cases():
    # one point: the mode is the grid point nearest to it (grid symmetric about it)
    x = np.array([[1.0, 1.0, 1.0]])
    assert density_mode(x, np.ones(3) / 3, np.array([0.1]))[0] == pytest.approx(1.0, abs=1e-3)
    # weights move the mode to the heavy cluster
    x = np.array([[0.0, 0.01, 5.0]])
    assert density_mode(x, np.array([0.05, 0.05, 0.9]), np.array([0.2]))[0] == pytest.approx(
        5.0, abs=0.02
    )


def test_r_helpers():
    assert r_mad(np.array([1.0, 2.0, 3.0, 4.0, 100.0])) == pytest.approx(1.4826)
    s = r_seq(np.array(0.0), np.array(1.0), 11)
    assert s[0] == 0.0
    assert s[-1] == 1.0
    assert s[5] == pytest.approx(0.5)


def test_mode_defaults_and_seed():
    assert "weighted_mode" in default_methods()
    assert get_method("weighted_mode").label == "Weighted mode"
    a = ref_arrays("mr_trig_chd")
    r1 = get_method("weighted_mode")(*a, seed=3, nboot=200)
    r2 = get_method("weighted_mode")(*a, seed=3, nboot=200)
    assert r1 == r2


def test_mode_errors():
    with pytest.raises(InputError, match="phi"):
        get_method("weighted_mode")([1, 2, 3], [1, 1, 1], [1, 2, 3], [1, 1, 1], phi=0)
