"""Power and MDE (mrkit.diagnostics.power) against the published formulas, worked by hand.

Binary outcome: Brion, Shakhbazov & Visscher 2013 (mRnd binary derivation),
NCP = N R² b01² / (K(1-K) - b01²) with b01 = K(OR/(1 + K(OR-1)) - 1); a 1-df
non-central chi-square is (Z + sqrt(NCP))², so power = Φ(√NCP - z) + Φ(-√NCP - z).
Continuous outcome: Burgess 2014, power = Φ(√(N R²)|β| - z_{1-α/2}).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from mrkit.diagnostics.power import (
    instrument_r2,
    mde_binary,
    mde_continuous,
    pair_power,
    power_binary,
    power_continuous,
)
from mrkit.errors import InputError

PHI = NormalDist().cdf
Z975 = NormalDist().inv_cdf(0.975)


def test_continuous_worked_example():
    # N = 10,000, R² = 0.02, β = 0.1: sqrt(200) * 0.1 = 1.414214; Φ(1.414214 - 1.959964)
    expected = PHI(math.sqrt(10_000 * 0.02) * 0.1 - Z975)
    assert expected == pytest.approx(0.29262, abs=1e-4)
    assert power_continuous(10_000, 0.02, 0.1) == pytest.approx(expected, rel=1e-9)
    assert power_continuous(10_000, 0.02, -0.1) == pytest.approx(expected, rel=1e-9)


def test_binary_worked_example():
    # K = 0.5, OR = 1.5: b01 = 0.5 * (1.5 / 1.25 - 1) = 0.1; NCP = 10,000 * 0.05 * 0.01 / 0.24
    ncp = 10_000 * 0.05 * 0.1**2 / (0.25 - 0.1**2)
    assert ncp == pytest.approx(20.833333, rel=1e-6)
    expected = PHI(math.sqrt(ncp) - Z975) + PHI(-math.sqrt(ncp) - Z975)
    assert expected == pytest.approx(0.99537, abs=1e-4)
    assert power_binary(10_000, 0.05, 1.5, 0.5) == pytest.approx(expected, rel=1e-7)


def test_binary_unbalanced_cases():
    # K = 47,429 / 115,803 (the demo's MS GWAS), OR = 1.1, R² = 0.01
    k = 47_429 / 115_803
    b01 = k * (1.1 / (1 + k * 0.1) - 1)
    ncp = 115_803 * 0.01 * b01**2 / (k * (1 - k) - b01**2)
    expected = PHI(math.sqrt(ncp) - Z975) + PHI(-math.sqrt(ncp) - Z975)
    assert power_binary(115_803, 0.01, 1.1, k) == pytest.approx(expected, rel=1e-7)


def test_mde_continuous_closed_form_and_round_trip():
    z80 = NormalDist().inv_cdf(0.8)
    mde = mde_continuous(35_273, 0.05)
    assert mde == pytest.approx((Z975 + z80) / math.sqrt(35_273 * 0.05), rel=1e-9)
    assert power_continuous(35_273, 0.05, mde) == pytest.approx(0.8, abs=1e-9)


def test_mde_binary_round_trip():
    k = 0.3
    odds = mde_binary(20_000, 0.03, k)
    assert odds > 1
    assert power_binary(20_000, 0.03, odds, k) == pytest.approx(0.8, abs=1e-6)


def test_instrument_r2_from_t_statistics():
    # t = 10 with n = 1,002: 100 / (100 + 1,000) = 0.090909...
    assert instrument_r2([0.5, 0.5], [0.05, 0.05], 1_002) == pytest.approx(2 * 100 / 1_100)


def test_pair_power_reasons():
    assert pair_power(r2=None, n=1000).reason == "R² of the instruments not known"
    assert pair_power(r2=0.01, n=None).reason == "outcome sample size not known"
    p = pair_power(r2=0.01, n=1000, binary=True)
    assert p.reason == "outcome case count not known"
    ok = pair_power(r2=0.02, n=10_000, estimate=0.1)
    assert ok.power_at_estimate == pytest.approx(power_continuous(10_000, 0.02, 0.1))
    with pytest.raises(InputError):
        power_continuous(10, 1.5, 0.1)
