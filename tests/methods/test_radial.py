"""Radial IVW against TwoSampleMR 0.7.9 ``mr_ivw_radial`` (RadialMR, weights = 3)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit.errors import StatisticalWarning
from mrkit.methods.radial import egger_radial, ivw_radial

pytestmark = requires_shared


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_ivw_radial_matches_tsmr(ds):
    """``mr_ivw_radial(b_exp, b_out, se_exp, se_out, default_parameters())``."""
    entry = ref_results(ds)["TwoSampleMR"]["method_raw_mr_ivw_radial"]
    assert entry["call"].startswith("mr_ivw_radial(")
    r = entry["result"]
    res = ivw_radial(*ref_arrays(ds))
    assert rel_close(res.estimate, r["b"])
    assert rel_close(res.se, r["se"])
    assert rel_close(res.pval, r["pval"], atol=1e-300)
    assert rel_close(res.extras["q"], r["Q"])
    assert res.extras["q_df"] == r["Q_df"]
    assert rel_close(res.extras["q_pval"], r["Q_pval"], atol=1e-300)
    assert rel_close(sum(res.extras["qj"]), r["Q"])


def test_radial_first_order_is_ivw_and_outliers():
    bx, sx, by, sy = ref_arrays("presso_summarystats")
    res = ivw_radial(bx, sx, by, sy, weights="first", model="fixed")
    w = sy**-2
    assert rel_close(res.estimate, np.sum(w * bx * by) / np.sum(w * bx * bx))
    pj = np.asarray(res.extras["qj_pval"])
    assert res.extras["outliers"] == np.flatnonzero(pj < 0.05 / len(bx)).tolist()
    loose = ivw_radial(bx, sx, by, sy, bonferroni=False)
    assert set(res.extras["outliers"]) <= set(loose.extras["outliers"])
    for wt in ("second", "iterative", "exact"):
        r2 = ivw_radial(bx, sx, by, sy, weights=wt)
        assert abs(r2.estimate - res.estimate) < 0.1


def test_exact_minimises_q():
    bx, sx, by, sy = ref_arrays("mr_ldlc_chd")
    b = ivw_radial(bx, sx, by, sy, weights="exact", precise=True).estimate

    def q(beta):
        return np.sum(bx**2 / (sy**2 + beta**2 * sx**2) * (by / bx - beta) ** 2)

    assert q(b) <= min(q(b + 1e-6), q(b - 1e-6))


def test_egger_radial_is_lm():
    bx, sx, by, sy = ref_arrays("tsmr_bmi_chd")
    res = egger_radial(bx, sx, by, sy, weights="first")
    sw = np.abs(bx) / sy
    x = np.column_stack([np.ones_like(sw), sw])
    coef, rss, *_ = np.linalg.lstsq(x, by / bx * sw, rcond=None)
    sigma2 = rss[0] / (len(bx) - 2)
    se = np.sqrt(np.diag(np.linalg.inv(x.T @ x)) * sigma2)
    assert rel_close(res.estimate, coef[1])
    assert rel_close(res.se, se[1])
    assert rel_close(res.extras["egger_intercept"], coef[0])
    assert rel_close(res.pval, 2 * stats.t.sf(abs(coef[1] / se[1]), len(bx) - 2))
    assert rel_close(res.extras["q"], rss[0])
    egger_radial(bx, sx, by, sy)  # modified weights run


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_ivw_radial_interval_is_t_as_radialmr(ds):
    """RadialMR ivw_radial(r_input, alpha = 0.05, weights = 3)$confint is
    confint(lm(BetaWj ~ -1 + Wj)): t on J - 1 df around TwoSampleMR's
    mr_ivw_radial(b_exp, b_out, se_exp, se_out, default_parameters()) b and se.
    (mrkit used the normal quantile.)"""
    r = ref_results(ds)["TwoSampleMR"]["method_raw_mr_ivw_radial"]["result"]
    res = ivw_radial(*ref_arrays(ds))
    c = stats.t.isf(0.025, r["nsnp"] - 1)
    assert rel_close(res.ci_lower, r["b"] - c * r["se"])
    assert rel_close(res.ci_upper, r["b"] + c * r["se"])
    assert rel_close(res.pval, r["pval"], atol=1e-300)  # p stays normal
    normal = ivw_radial(*ref_arrays(ds), ci_dist="normal")
    assert rel_close(normal.ci_upper, r["b"] + stats.norm.isf(0.025) * r["se"])


def test_ivw_radial_iterative_reports_radialmr_fit():
    """RadialMR's iterative loop (tol = 1e-5) reports the fit whose weights are those
    of the previous estimate; it no longer does one more update by default."""
    bx, sx, by, sy = ref_arrays("tsmr_bmi_chd")
    res = ivw_radial(bx, sx, by, sy, weights="iterative")
    fine = ivw_radial(bx, sx, by, sy, weights="iterative", precise=True)
    ratio = by / bx
    # replay RadialMR's loop
    b, count = 0.0, 0
    while True:
        w = 1 / (sy**2 / bx**2 + b**2 * sx**2 / bx**2)
        new = np.sum(w * ratio) / np.sum(w)
        count += 1
        if abs(b - new) < 1e-5:
            break
        b = new
    assert rel_close(res.estimate, new, rtol=1e-12)
    assert res.extras["iterations"] == count
    assert res.estimate != fine.estimate
    assert abs(res.estimate - fine.estimate) < 1e-5


def test_ivw_radial_exact_with_r_optimize_tolerance():
    """RadialMR: Bhat = optimize(PL2, interval = c(-2, 2))$minimum (tol eps^0.25):
    agrees with the precise minimiser to R's tolerance, not beyond; a minimum
    outside (-2, 2) (LDL-C, 3.2) is found with a warning instead of returning ~2."""
    a = ref_arrays("tsmr_bmi_chd")
    r_like = ivw_radial(*a, weights="exact")
    fine = ivw_radial(*a, weights="exact", precise=True)
    assert 0 < abs(r_like.estimate - fine.estimate) < 2e-4
    assert r_like.ci_lower < r_like.estimate < r_like.ci_upper
    assert abs(r_like.ci_lower - fine.ci_lower) < 2e-4
    with pytest.warns(StatisticalWarning, match=r"\(-2, 2\)"):
        ldl = ivw_radial(*ref_arrays("mr_ldlc_chd"), weights="exact")
    assert abs(ldl.estimate - 3.2) < 0.1
