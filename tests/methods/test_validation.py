"""The statistical validation (``benchmarks/validate_methods.py``) at a small size.

100 replicates per cell of the fast methods, fixed seeds (deterministic). Each
assertion holds with high probability given the Monte-Carlo error: the
thresholds are several Monte-Carlo SEs from the values the full run reports
(``docs/validation.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import validate_methods as vm

METHODS = ["ivw", "egger", "weighted_median", "weighted_mode", "divw"]
REPS = 100
SEED = 11


@pytest.fixture(scope="module")
def cells() -> dict[tuple[str, float], pd.DataFrame]:
    out = {}
    for key in "abc":
        for theta in (0.0, vm.THETA):
            tab, _ = vm.run_cell(vm.SCENARIOS[key], theta, METHODS, REPS, SEED, nboot=200)
            out[key, theta] = tab.set_index("method")
    return out


def test_simulated_strength_matches_the_scenario() -> None:
    """The instruments' mean F is the scenario's (50 strong, 10 weak) within sampling error."""
    for key, target in (("a", 50.0), ("b", 10.0)):
        f = vm.simulate(vm.SCENARIOS[key], 0.0, 200, SEED).mean_f
        assert abs(f - target) < 0.05 * target


def test_simulation_is_reproducible_and_nested() -> None:
    """Same seed, same data; the first k replicates do not depend on the number drawn."""
    a = vm.simulate(vm.SCENARIOS["c"], 0.1, 20, SEED)
    b = vm.simulate(vm.SCENARIOS["c"], 0.1, 7, SEED)
    np.testing.assert_array_equal(a.by[: 7 * vm.J], b.by)
    c = vm.simulate(vm.SCENARIOS["c"], 0.1, 20, SEED)
    np.testing.assert_array_equal(a.bx, c.bx)


def test_pleiotropy_share_and_inside() -> None:
    """30% of variants have direct effects; under (e) they raise the exposure effects."""
    rng = np.random.default_rng(3)
    sc_c, sc_e = vm.SCENARIOS["c"], vm.SCENARIOS["e"]
    bx_c, _, by_c, _ = vm._one(sc_c, 0.0, rng, 1000, 10**12, 10**12)
    rng = np.random.default_rng(3)
    bx_e, _, by_e, _ = vm._one(sc_e, 0.0, rng, 1000, 10**12, 10**12)
    # near-infinite samples: by is alpha itself
    assert np.mean(np.abs(by_c) > 1e-4) == pytest.approx(0.3, abs=0.01)
    assert np.corrcoef(np.abs(by_e), bx_e - bx_c)[0, 1] > 0.99


def test_valid_strong_instruments(cells: dict) -> None:
    """(a): IVW, dIVW and weighted median cover and keep the type-I error near 5%."""
    null, alt = cells["a", 0.0], cells["a", vm.THETA]
    for m in ("ivw", "divw", "weighted_median"):
        assert alt.loc[m, "coverage"] >= 0.85, m
        assert null.loc[m, "reject"] <= 0.12, m
        assert abs(alt.loc[m, "bias"]) < 4 * alt.loc[m, "bias_mcse"] + 0.005, m
    assert alt.loc["ivw", "reject"] >= 0.8  # power at theta = 0.1
    assert (alt["skipped"] == 0).all()


def test_directional_pleiotropy(cells: dict) -> None:
    """(c): IVW is biased and rejects the true null; Egger covers; median/mode less biased."""
    null, alt = cells["c", 0.0], cells["c", vm.THETA]
    assert null.loc["ivw", "reject"] >= 0.2
    assert alt.loc["ivw", "bias"] > 4 * alt.loc["ivw", "bias_mcse"]
    assert alt.loc["egger", "coverage"] >= 0.85
    assert null.loc["egger", "reject"] <= 0.12
    for m in ("weighted_median", "weighted_mode"):
        assert abs(alt.loc[m, "bias"]) < abs(alt.loc["ivw", "bias"]), m


def test_weak_instruments(cells: dict) -> None:
    """(b): dIVW stays unbiased and covers; every method keeps a sensible type-I error."""
    null, alt = cells["b", 0.0], cells["b", vm.THETA]
    assert abs(alt.loc["divw", "bias"]) < 4 * alt.loc["divw", "bias_mcse"]
    assert alt.loc["divw", "coverage"] >= 0.85
    assert (null["reject"] <= 0.15).all()


def test_summarise_mcse() -> None:
    """Monte-Carlo SEs: binomial for rates, SD/sqrt(n) for the bias."""
    rng = np.random.default_rng(0)
    b = rng.normal(0.1, 0.02, 400)
    est = pd.DataFrame(
        {
            "method": "m",
            "estimate": b,
            "se": np.full(400, 0.02),
            "ci_lower": b - 1.96 * 0.02,
            "ci_upper": b + 1.96 * 0.02,
            "pval": np.nan,
        }
    )
    s = vm.summarise(est, "m", 0.1, 500)
    assert s["skipped"] == pytest.approx(0.2)
    assert s["coverage_mcse"] == pytest.approx(np.sqrt(s["coverage"] * (1 - s["coverage"]) / 400))
    assert s["bias_mcse"] == pytest.approx(b.std(ddof=1) / 20)
    assert s["se_sd"] == pytest.approx(0.02 / b.std(ddof=1))
    assert 0 < s["se_sd_mcse"] < 0.1
    # no p-value: rejection read from the interval
    assert s["reject"] == pytest.approx(np.mean(b - 1.96 * 0.02 > 0))
