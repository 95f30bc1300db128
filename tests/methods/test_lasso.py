"""MR-Lasso against MendelianRandomization 0.10.0 ``mr_lasso`` (glmnet 4.1.6)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit.errors import TooFewVariantsError
from mrkit.methods import get_method
from mrkit.methods.lasso import lasso

pytestmark = requires_shared


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_lasso_matches_r(ds):
    """``MendelianRandomization::mr_lasso(mri)``: valid set, lambda, post-lasso IVW."""
    entry = ref_results(ds)["MendelianRandomization"]["lasso_default"]
    assert entry["call"] == "MendelianRandomization::mr_lasso(mri)"
    r = entry["result"]
    snps = ref_results(ds)["snps_used"]
    res = lasso(*ref_arrays(ds))
    assert [snps[i] for i in res.extras["valid_snps"]] == r["ValidSNPs"]
    assert res.extras["n_valid"] == r["Valid"]
    for mine, key in (
        (res.estimate, "Estimate"),
        (res.se, "StdError"),
        (res.ci_lower, "CILower"),
        (res.ci_upper, "CIUpper"),
        (res.extras["lambda"], "Lambda"),
    ):
        assert rel_close(mine, r[key]), key
    assert rel_close(res.pval, r["Pvalue"], atol=1e-300)
    # glmnet stops coordinate descent at thresh = 1e-7; mrkit's path is exact
    assert rel_close(res.extras["reg_estimate"], r["RegEstimate"], rtol=1e-4)
    ri = np.asarray(r["RegIntercept"])
    assert np.array_equal(np.asarray(res.extras["reg_intercept"]) == 0, ri == 0)
    assert np.max(np.abs(np.asarray(res.extras["reg_intercept"]) - ri)) <= 1e-4 * np.max(np.abs(ri))


def test_lasso_fixed_lambda_and_errors():
    bx, sx, by, sy = ref_arrays("mr_ldlc_chd")
    r = ref_results("mr_ldlc_chd")["MendelianRandomization"]["lasso_default"]["result"]
    res = lasso(bx, sx, by, sy, lam=r["Lambda"])
    assert rel_close(res.estimate, r["Estimate"])
    with pytest.raises(TooFewVariantsError):
        lasso(bx, sx, by, sy, lam=0.0)
    with pytest.raises(TooFewVariantsError):
        lasso(bx[:2], sx[:2], by[:2], sy[:2])
    assert get_method("lasso").func is lasso


def _telomere_chd():
    """TwoSampleMR's fixtures telomere length -> CARDIoGRAM (31 variants, alleles already
    aligned, no ambiguous palindromes), in harmonise_data's order (sorted by SNP)."""
    import pandas as pd

    from conftest import REFERENCE

    ex = pd.read_csv(REFERENCE / "extra" / "tsmr_telomere_length_exposure_raw.csv")
    out = pd.read_csv(REFERENCE / "extra" / "tsmr_cardiogram_outcome_raw.csv")
    m = ex.merge(out, on="SNP", suffixes=("_x", "_y")).sort_values("SNP")
    assert (m["effect_allele_x"] == m["effect_allele_y"]).all()
    return tuple(m[c].to_numpy(float) for c in ("beta_x", "se_x", "beta_y", "se_y"))


def test_lasso_rounding_at_lambda_max_is_zero():
    """R (issue 14; TwoSampleMR harmonise_data then MendelianRandomization)::

        mr_lasso(mr_input(bx, bxse, by, byse))   # telomere length -> CHD: Lambda 0.628

    At the largest lambda the variant that sets it has an intercept of 7e-18 from
    rounding; counted as non-zero, the path ended one step early (lambda 0.689).
    """
    res = lasso(*_telomere_chd())
    assert abs(res.extras["lambda"] - 0.628) < 5e-4
    assert res.extras["n_valid"] == 30
