"""pIVW against MendelianRandomization 0.10.0 ``mr_pivw``.

Estimate, SE, tau2 and the condition number are deterministic (1e-6 relative).
The bootstrap Fieller interval and p-value use R's ``set.seed(1)`` stream inside
``BF_dist`` (1000 draws), which mrkit does not reproduce: they agree within
Monte-Carlo error. The interval ends move with the 95% quantile of the bootstrap
statistic, whose order statistic has a relative SD of ~6% at 1000 draws, i.e. ~1.5%
of the interval width per end; mrkit runs 20,000 draws here, so the difference is
essentially R's error, and 4 SDs (6.5% of the width) are allowed.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit.methods import get_method

pytestmark = requires_shared


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_pivw_matches_mendelianrandomization(ds):
    """``set.seed(20240501); MendelianRandomization::mr_pivw(mri)``."""
    ref = ref_results(ds)["MendelianRandomization"]["pivw_default"]
    assert ref["call"] == "MendelianRandomization::mr_pivw(mri)"
    e = ref["result"]
    assert (e["Lambda"], e["Delta"], e["Boot.Fieller"], e["Over.dispersion"]) == (1, 0, True, True)
    x = get_method("pivw")(*ref_arrays(ds), nboot=20_000).to_record()
    assert x["nsnp"] == e["SNPs"]
    for ours, theirs in [("estimate", "Estimate"), ("se", "StdError"), ("tau2", "Tau2"),
                         ("condition", "Condition")]:  # fmt: skip
        assert rel_close(x[ours], e[theirs]), (ours, x[ours], e[theirs])
    width = e["CIUpper"] - e["CILower"]
    assert x["ci_two_sided"]
    assert abs(x["ci_lower"] - e["CILower"]) <= 0.065 * width
    assert abs(x["ci_upper"] - e["CIUpper"]) <= 0.065 * width
    # R's p is a count k out of 1000 draws: k must be a plausible Binomial(1000, p) draw
    k = round(e["Pvalue"] * 1000)
    assert stats.binom.cdf(k, 1000, x["pval"]) >= 1e-3
    assert stats.binom.sf(k - 1, 1000, x["pval"]) >= 1e-3


def test_normal_interval_and_no_overdispersion_options():
    bx, sx, by, sy = ref_arrays("mr_ldlc_chd")
    x = get_method("pivw")(bx, sx, by, sy, boot_fieller=False)
    assert x.ci_upper - x.estimate == pytest.approx(1.959963984540054 * x.se, rel=1e-12)
    y = get_method("pivw")(bx, sx, by, sy, over_dispersion=False, boot_fieller=False)
    assert y.extras["tau2"] == 0
    assert y.se < x.se
    assert get_method("pivw")(bx, sx, by, sy) == get_method("pivw")(bx, sx, by, sy)


def test_p_value_at_the_bootstrap_resolution_is_the_bound():
    bx, sx, by, sy = ref_arrays("tsmr_bmi_chd")
    x = get_method("pivw")(bx, sx, by, sy, nboot=500)
    assert x.extras["pval_at_limit"]
    assert x.pval == pytest.approx(1 / 500)
    assert np.isfinite(x.ci_lower)
