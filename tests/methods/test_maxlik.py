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
