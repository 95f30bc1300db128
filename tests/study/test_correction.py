"""Multiple-testing correction against R's ``p.adjust`` values."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mrkit.study.correction import adjust

P = [0.01, 0.04, 0.03, 0.005, 0.2]


def test_bonferroni():
    """R: ``p.adjust(c(0.01,0.04,0.03,0.005,0.2), "bonferroni")``."""
    np.testing.assert_allclose(adjust(P, "bonferroni"), [0.05, 0.2, 0.15, 0.025, 1.0])


def test_holm():
    """R: ``p.adjust(c(0.01,0.04,0.03,0.005,0.2), "holm")`` = 0.04 0.09 0.09 0.025 0.2."""
    np.testing.assert_allclose(adjust(P, "holm"), [0.04, 0.09, 0.09, 0.025, 0.2])


def test_bh():
    """R: ``p.adjust(c(0.01,0.04,0.03,0.005,0.2), "BH")`` = 0.025 0.05 0.05 0.025 0.2."""
    np.testing.assert_allclose(adjust(P, "fdr_bh"), [0.025, 0.05, 0.05, 0.025, 0.2])


def test_nan_not_counted():
    np.testing.assert_allclose(adjust([0.01, np.nan, 0.02], "bonferroni"), [0.02, np.nan, 0.04])


def test_bad_p():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust([1.5])


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_order_bh_le_holm_le_bonferroni(p):
    b, h, f = adjust(p, "bonferroni"), adjust(p, "holm"), adjust(p, "fdr_bh")
    assert np.all(f <= h + 1e-12)
    assert np.all(h <= b + 1e-12)
    assert np.all(np.asarray(p) <= f + 1e-12)
