"""Two-sample maximum likelihood.

MendelianRandomization ``mr_maxlik`` and TwoSampleMR ``mr_two_sample_ml`` stop
their Nelder-Mead search over J + 1 parameters before the optimum, so the
reference for the estimate is the exact maximum of the same likelihood that
mr.raps computes (``mr.raps.simple``: the profile likelihood is identical), and
its ``chi.sq.test`` is Q = 2 * profile minimum.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit.errors import InputError
from mrkit.methods.maxlik import _profile_score, maxlik

pytestmark = requires_shared


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_maxlik_is_the_likelihood_maximum(ds):
    """mr.raps.simple(bx, by, bxse, byse): beta.hat and chi.sq.test (R's optimize tolerance
    1.5e-8 bounds the agreement)."""
    ref = ref_results(ds)["mr.raps"]["mr.raps.simple"]["result"]
    a = ref_arrays(ds)
    res = maxlik(*a)
    assert rel_close(res.estimate, ref["beta.hat"], rtol=1e-6)
    assert rel_close(res.extras["q"], ref["chi.sq.test"], rtol=1e-6)
    assert abs(_profile_score(res.estimate, *a)) < 1e-6 * np.sum(a[0] ** 2 / a[3] ** 2)


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_maxlik_close_to_r_nelder_mead(ds):
    """MendelianRandomization::mr_maxlik(mri): R's unconverged optimum has a higher
    objective than ours, and the SEs agree to a few per cent where the estimates do."""
    ref = ref_results(ds)["MendelianRandomization"]["maxlik_default"]["result"]
    res = maxlik(*ref_arrays(ds))
    assert res.extras["q"] <= ref["Heter.Stat"][0] + 1e-9
    assert res.extras["model"] == ref["Model"]
    if abs(res.estimate / ref["Estimate"] - 1) < 0.05:
        assert abs(res.se / ref["StdError"] - 1) < 0.1


def test_maxlik_fixed_model_and_known_answer():
    rng = np.random.default_rng(4)
    gx = rng.normal(0.1, 0.03, 200)
    sx, sy = np.full(200, 0.005), np.full(200, 0.01)
    bx = gx + rng.normal(0, sx)
    by = 0.5 * gx + rng.normal(0, sy)
    fixed = maxlik(bx, sx, by, sy, model="fixed")
    assert abs(fixed.estimate - 0.5) < 4 * fixed.se
    assert fixed.extras["model"] == "fixed"


NM_DATASETS = [d for d in UNIVARIABLE if d != "mrraps_bmi_bmi"]  # 793 variants: ~1 minute


@pytest.mark.parametrize("ds", NM_DATASETS)
def test_maxlik_nelder_mead_reproduces_r(ds):
    """MendelianRandomization::mr_maxlik(mri) and TwoSampleMR
    mr_two_sample_ml(b_exp, b_out, se_exp, se_out, default_parameters()), both
    optim(c(bx, ivw), loglikelihood, hessian = TRUE, control = list(maxit = 25000)):
    estimate, SE (random and fixed), interval, p and Heter.Stat to 1e-6."""
    ref = ref_results(ds)["MendelianRandomization"]["maxlik_default"]["result"]
    tsmr = ref_results(ds)["TwoSampleMR"]["method_raw_mr_two_sample_ml"]["result"]
    a = ref_arrays(ds)
    res = maxlik(*a, optimizer="nelder-mead")
    assert res.extras["model"] == ref["Model"]
    for mine, key in (
        (res.estimate, "Estimate"),
        (res.se, "StdError"),
        (res.ci_lower, "CILower"),
        (res.ci_upper, "CIUpper"),
        (res.extras["rse"], "RSE"),
    ):
        assert rel_close(mine, ref[key]), key
    assert rel_close(res.pval, ref["Pvalue"], atol=1e-300)
    assert rel_close(res.extras["q"], ref["Heter.Stat"][0])
    assert rel_close(res.extras["q_pval"], ref["Heter.Stat"][1], atol=1e-300)
    fixed = maxlik(*a, optimizer="nelder-mead", model="fixed")
    assert rel_close(fixed.se, tsmr["se"])
    assert rel_close(fixed.estimate, tsmr["b"])
    # the default (exact) optimiser finds a likelihood at least as high as R's
    assert maxlik(*a).extras["q"] <= res.extras["q"] + 1e-9


def test_maxlik_nelder_mead_stops_at_maxit():
    """optim's maxit counts function evaluations; convergence = 1 when reached."""
    a = ref_arrays("presso_summarystats")
    res = maxlik(*a, optimizer="nelder-mead", maxit=200)
    assert res.extras["nm_convergence"] == 1
    assert res.extras["nm_counts"] > 200
    with pytest.raises(InputError, match="optimizer"):
        maxlik(*a, optimizer="bfgs")
