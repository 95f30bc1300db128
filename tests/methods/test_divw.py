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


def test_divw_truncates_negative_overdispersion():
    """R (MendelianRandomization 0.10.0, ``tau.square <- max(0, ...)``)::

        mr_divw(mr_input(bx = c(.10, .12, .08), bxse = rep(.01, 3),
                         by = c(.0101, .0119, .0080), byse = rep(.01, 3)))
        # Estimate 0.1009180, StdError 0.0578 (issue 14); mrkit used the signed
        # tau^2 = -1e-4 here and gave SE 0.00094

    With :math:`\\hat\\tau^2 < 0` the SE must equal the SE without over-dispersion.
    """
    args = ([0.10, 0.12, 0.08], [0.01] * 3, [0.0101, 0.0119, 0.0080], [0.01] * 3)
    res = divw(*args)
    assert res.extras["tau2"] < 0
    assert res.extras["tau2_used"] == 0.0
    assert rel_close(res.estimate, 0.1009180327868853)
    assert abs(res.se - 0.0578) < 5e-5
    assert rel_close(res.se, divw(*args, over_dispersion=False).se, rtol=1e-15)
