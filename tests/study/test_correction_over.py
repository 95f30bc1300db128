"""Correction over the planned tests (default) or the analysed ones; the families reported."""

import numpy as np
import pandas as pd
import pytest

from mrkit.study.correction import adjust, families, planned_tests, results_table
from mrkit.study.spec import AnalysisSection

P = [0.01, 0.04, 0.03, 0.005, 0.2]


def test_m_larger_than_the_p_values():
    """R: ``p.adjust(c(P, 1, 1, 1), method)[1:5]``: planned tests not analysed count as p = 1."""
    padded = [*P, 1.0, 1.0, 1.0]
    for method in ("bonferroni", "holm", "fdr_bh"):
        full = adjust(padded, method)[:5]
        np.testing.assert_allclose(adjust(P, method, m=8), full)
    # R: p.adjust(c(0.01,0.04,0.03,0.005,0.2,1,1,1), "holm")[1:5] = 0.07 0.20 0.18 0.04 0.80
    np.testing.assert_allclose(adjust(P, "holm", m=8), [0.07, 0.2, 0.18, 0.04, 0.8])
    np.testing.assert_allclose(adjust(P, "bonferroni", m=8), [0.08, 0.32, 0.24, 0.04, 1.0])


def test_m_smaller_than_the_p_values_is_an_error():
    with pytest.raises(ValueError, match="at least the number"):
        adjust(P, m=3)


def _estimates():
    rows = []
    for i, p in enumerate([0.004, 0.03]):
        rows.append(
            {
                "exposure": f"x{i}",
                "outcome": "y",
                "direction": "forward",
                "method": "ivw",
                "nsnp": 10,
                "estimate": 0.1,
                "se": 0.02,
                "ci_lower": 0.06,
                "ci_upper": 0.14,
                "pval": p,
            }
        )
    return rows


@pytest.mark.parametrize(("over", "m"), [("planned", 4), ("analysed", 2)])
def test_results_table_over_planned_or_analysed(over, m):
    a = AnalysisSection(exposures=["x*"], outcomes=["y"], correction_over=over)
    pairs = [(f"x{i}", "y", "forward") for i in range(4)]  # 4 planned, 2 analysed
    planned = planned_tests(pairs, a.family)
    assert planned == {"forward": 4, "reverse": 0}
    res = results_table(_estimates(), a, {"y": False}, planned)
    np.testing.assert_allclose(res["pval_adjusted"], np.minimum(1, m * res["pval"]))
    assert res["significant"].tolist() == [0.004 * m < 0.05, 0.03 * m < 0.05]
    fam = families(res, a, planned)
    assert fam == [
        {
            "name": "forward",
            "planned": 4,
            "analysed": 2,
            "m": m,
            "correction": "bonferroni",
            "alpha": 0.05,
            "over": over,
        }
    ]
    assert isinstance(res, pd.DataFrame)
    assert res.attrs == {}
