"""MR-RAPS against mr.raps 0.4.2 and TwoSampleMR mr_raps (../shared/reference)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import REFERENCE, UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit.errors import InputError
from mrkit.estimate import Pairs, analyse
from mrkit.methods import get_method
from mrkit.methods.raps import loss_constants, raps

pytestmark = requires_shared

# key in the reference -> options (score solver = mr.raps 0.4.2 mr.raps())
SCORE_CASES = {
    "mr.raps_default": {},
    "mr.raps_od_huber_explicit": {"loss": "huber", "over_dispersion": True},
    "mr.raps_noOD_l2": {"loss": "l2", "over_dispersion": False},
    "mr.raps_od_l2": {"loss": "l2", "over_dispersion": True},
    "mr.raps_noOD_huber": {"loss": "huber", "over_dispersion": False},
}
# first-generation estimators: R's optimize() tolerance (1.5e-8 absolute) limits agreement
MLE_CASES = {
    "mr.raps.simple": ({"loss": "l2", "over_dispersion": False}, 1e-6),
    "mr.raps.simple.robust_huber": ({"loss": "huber", "over_dispersion": False}, 1e-6),
    "mr.raps.overdispersed": ({"loss": "l2", "over_dispersion": True}, 1e-4),
}


def _raps(ds, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return raps(*ref_arrays(ds), **kw)


@pytest.mark.parametrize("ds", UNIVARIABLE)
@pytest.mark.parametrize("key", SCORE_CASES)
def test_raps_score_solver_matches_mr_raps(ds, key):
    """mr.raps(rdat, diagnostics = FALSE[, over.dispersion =, loss.function =]) (the `call`
    of each entry): beta, se, tau2, tau2.se and the standardised residuals t to 1e-6."""
    ref = ref_results(ds)["mr.raps"][key]["result"]
    res = _raps(ds, **SCORE_CASES[key])
    assert rel_close(res.estimate, ref["beta.hat"])
    assert rel_close(res.se, ref["beta.se"])
    assert rel_close(res.extras["tau2"], ref["tau2.hat"], atol=1e-12)
    assert rel_close(res.extras["tau2_se"], ref["tau2.se"], atol=1e-12)
    assert np.allclose(res.extras["std_resid"], ref["t"], rtol=1e-6, atol=1e-6)
    assert np.allclose(res.extras["gamma_hat_z"], ref["gamma.hat.z"], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_raps_twosamplemr(ds):
    """mr_raps(b_exp, b_out, se_exp, se_out, default_parameters())."""
    ref = ref_results(ds)["TwoSampleMR"]["method_raw_mr_raps"]["result"]
    res = _raps(ds)
    assert rel_close(res.estimate, ref["b"])
    assert rel_close(res.se, ref["se"])
    assert rel_close(res.pval, ref["pval"], atol=1e-300)
    assert res.nsnp == ref["nsnp"]


@pytest.mark.parametrize("ds", UNIVARIABLE)
@pytest.mark.parametrize("key", MLE_CASES)
def test_raps_first_generation(ds, key):
    """mr.raps.simple / mr.raps.simple.robust / mr.raps.overdispersed(bx, by, bxse, byse)."""
    ref = ref_results(ds)["mr.raps"][key]["result"]
    opts, tol = MLE_CASES[key]
    res = _raps(ds, solver="mle", **opts)
    assert rel_close(res.estimate, ref["beta.hat"], rtol=tol)
    assert rel_close(res.se, ref["beta.se"], rtol=10 * tol if tol > 1e-6 else tol)


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_raps_mle_all_without_overdispersion(ds):
    """mr.raps.mle.all(bx, by, bxse, byse): the three losses without over-dispersion."""
    for row in ref_results(ds)["mr.raps"]["mr.raps.mle.all"]["result"]:
        if row["over.dispersion"]:
            continue  # robust over-dispersed first-generation fit: see raps() notes
        res = _raps(ds, solver="mle", loss=row["loss.function"], over_dispersion=False)
        assert rel_close(res.estimate, row["beta.hat"])
        assert rel_close(res.se, row["beta.se"])


def test_loss_constants():
    delta, c1, c2, c3 = loss_constants("l2", 2.0)
    assert np.allclose([delta, c1, c2, c3], [1, 1, 2, 1], atol=1e-10)
    delta, c1, _, _ = loss_constants("huber", 1.345)
    assert 0.8 < delta < 0.83
    assert 0.7 < c1 < 0.72


def test_raps_seed_independent_and_registered():
    a = ref_arrays("mr_ldlc_chd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r1, r2 = raps(*a, seed=1), raps(*a, seed=2)
    assert r1.estimate == r2.estimate
    assert r1.se == r2.se
    assert get_method("raps").label.startswith("Robust adjusted")
    with pytest.raises(InputError, match="loss"):
        raps(*a, loss="cauchy")


@pytest.mark.parametrize("ds", UNIVARIABLE)
@pytest.mark.parametrize(
    ("key", "loss"), [("mr.raps.simple", "l2"), ("mr.raps.simple.robust_huber", "huber")]
)
def test_raps_naive_se_and_chi_sq_test(ds, key, loss):
    """mr.raps.simple(bx, by, bxse, byse)$naive.se / $chi.sq.test and
    mr.raps.simple.robust(bx, by, bxse, byse, loss.function = "huber") (R's optimize
    tolerance on beta limits agreement to ~1e-7)."""
    ref = ref_results(ds)["mr.raps"][key]["result"]
    res = _raps(ds, solver="mle", loss=loss, over_dispersion=False)
    assert rel_close(res.extras["naive_se"], ref["naive.se"], rtol=1e-6)
    assert rel_close(res.extras["chi_sq_test"], ref["chi.sq.test"], rtol=1e-6)


def test_raps_overdispersed_l2_tau2_bound_as_mr_raps():
    """mr.raps 0.4.2 bounds tau2 by quantile(se_out^2, 0.95) * 100 (it was * 10 here).

    R (issue 14, mr.raps CRP -> CAD at selection p < 5e-8, 4 variants)::

        mr.raps.overdispersed(b_exp, b_out, se_exp, se_out)   # beta.se 0.180

    mrkit with the old bound gave 0.138 (tau2 stuck at the bound).
    """
    df = pd.read_csv(REFERENCE / "extra" / "mrraps_crp_cad_p5e8.csv")
    cols = ("beta_exposure", "se_exposure", "beta_outcome", "se_outcome")
    args = [df[c].to_numpy(float) for c in cols]
    res = raps(*args, loss="l2", over_dispersion=True, solver="mle")
    assert abs(res.se - 0.180) < 5e-4
    bound = float(np.quantile(df["se_outcome"].to_numpy() ** 2, 0.95)) * 10
    assert res.extras["tau2"] > bound  # beyond the old bound, inside mr.raps's


def test_raps_tukey_divergence_is_reported_as_skipped():
    """The first-generation Tukey fit on presso_summarystats ran off to beta = 1e19
    with only a warning; it now raises, and the engine lists `raps` under skipped."""
    with pytest.raises(InputError, match="diverges"):
        _raps("presso_summarystats", solver="mle", loss="tukey", over_dispersion=True)
    pairs = Pairs.from_arrays(*ref_arrays("presso_summarystats"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyse(
            pairs,
            ["raps"],
            options={"raps": {"loss": "tukey", "solver": "mle"}},
            diagnostics=False,
        )
    assert res.estimates.empty
    assert res.skipped["method"].tolist() == ["raps"]
    assert "diverges" in res.skipped["reason"].iloc[0]
