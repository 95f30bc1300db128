"""One rule for numbers shown to people (mrkit._core.fmt): console, reprs and report."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mrkit._core.fmt import fmt_int, fmt_num, fmt_p, na, plain


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (47429.0, "47,429"),
        (115803, "115,803"),
        (np.int64(68374), "68,374"),
        (0.02801, "0.02801"),
        (-8.11e-4, "-0.000811"),
        (-8.11e-5, "-8.110 × 10⁻⁵"),
        (123.456, "123.5"),
        (12345.678, "12,346"),
        (True, "yes"),
        (None, "NA"),
        (float("nan"), "NA"),
        (math.inf, "∞"),
        ("GRCh37", "GRCh37"),
    ],
)
def test_fmt_num(value, text):
    assert fmt_num(value) == text


@pytest.mark.parametrize(
    ("p", "kw", "text"),
    [
        (0.032, {}, "0.032"),
        (0.0042, {}, "0.0042"),
        (3.2e-8, {}, "3.2 × 10⁻⁸"),
        (0.0, {}, "< 10⁻³⁰⁰"),
        (1e-5, {"resolution": 1000}, "< 1/1000"),
        (0.0, {"log10p": 343.31}, "4.9 × 10⁻³⁴⁴"),
        (float("nan"), {"reason": "too few variants"}, "NA (too few variants)"),
    ],
)
def test_fmt_p(p, kw, text):
    assert fmt_p(p, **kw) == text


def test_int_and_plain():
    assert fmt_int(1234567) == "1,234,567"
    assert na() == "NA"
    assert plain(np.float64("nan")) is None
    assert plain(np.array([1.5, np.inf])) == [1.5, None]
    assert plain(np.int32(3)) == 3
