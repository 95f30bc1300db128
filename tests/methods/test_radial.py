"""Radial IVW against TwoSampleMR 0.7.9 ``mr_ivw_radial`` (RadialMR, weights = 3)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
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
    b = ivw_radial(bx, sx, by, sy, weights="exact").estimate

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
