"""dIVW against MendelianRandomization 0.10.0 mr_divw (../shared/reference)."""

from __future__ import annotations

import pytest

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit.errors import TooFewVariantsError
from mrkit.methods import get_method
from mrkit.methods.divw import divw

pytestmark = requires_shared


@pytest.mark.parametrize("ds", UNIVARIABLE)
@pytest.mark.parametrize(("key", "od"), [("divw_default", True), ("divw_no_overdispersion", False)])
def test_divw_matches_mendelianrandomization(ds, key, od):
    """MendelianRandomization::mr_divw(mri[, over.dispersion = FALSE])."""
    ref = ref_results(ds)["MendelianRandomization"][key]["result"]
    res = divw(*ref_arrays(ds), over_dispersion=od)
    assert rel_close(res.estimate, ref["Estimate"])
    assert rel_close(res.se, ref["StdError"])
    assert rel_close(res.ci_lower, ref["CILower"])
    assert rel_close(res.ci_upper, ref["CIUpper"])
    assert rel_close(res.pval, ref["Pvalue"], atol=1e-300)
    assert rel_close(res.extras["condition"], ref["Condition"])
    assert res.nsnp == ref["SNPs"]


def test_divw_registry_and_errors():
    assert get_method("divw").min_snps == 2
    with pytest.raises(TooFewVariantsError):
        divw([0.1], [0.01], [0.2], [0.02])
