"""Robust and penalised IVW / MR-Egger against MendelianRandomization 0.10.0 (robustbase 0.95-0).

R's ``lmrob`` draws 500 random subsamples from R's stream (the reference calls set no
seed); mrkit tries every elemental subset here (see ``mrkit.methods._lmrob``), and the
final MM-estimates agree to 1e-6 relative on every reference dataset.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit._core.arrays import norm_isf
from mrkit.estimate import Pairs, analyse
from mrkit.methods import get_method
from mrkit.methods._lmrob import lmrob

pytestmark = requires_shared

IVW_FIELDS = [
    ("estimate", "Estimate"),
    ("se", "StdError"),
    ("ci_lower", "CILower"),
    ("ci_upper", "CIUpper"),
    ("pval", "Pvalue"),
    ("rse", "RSE"),
]
EGGER_FIELDS = [
    ("estimate", "Estimate"),
    ("se", "StdError.Est"),
    ("ci_lower", "CILower.Est"),
    ("ci_upper", "CIUpper.Est"),
    ("pval", "Pvalue.Est"),
    ("egger_intercept", "Intercept"),
    ("egger_intercept_se", "StdError.Int"),
    ("egger_intercept_ci_lower", "CILower.Int"),
    ("egger_intercept_ci_upper", "CIUpper.Int"),
    ("egger_intercept_pval", "Pvalue.Int"),
    ("rse", "RSE"),
    ("i2gx", "I.sq"),
]


def p_close(ours: float, theirs: float) -> bool:
    """p-values whose z-statistics agree to 1e-6 relative.

    A relative error e in the SE moves p by about ``z^2 e`` relative, and R computes
    the Egger p as ``2 * (1 - pnorm(|z|))``, exact only to ~2e-16 absolute (0 below).
    """
    z2 = float(norm_isf(theirs / 2.0)) ** 2 if theirs > 0 else 0.0
    return abs(ours - theirs) <= 1e-6 * theirs * max(1.0, z2) + 5e-16


def _check(x: dict, m: dict, fields) -> None:
    for ours, theirs in fields:
        if ours.endswith("pval"):
            assert p_close(x[ours], m[theirs]), (ours, x[ours], m[theirs])
        else:
            assert rel_close(x[ours], m[theirs], atol=1e-300), (ours, x[ours], m[theirs])


@pytest.mark.parametrize("ds", UNIVARIABLE)
@pytest.mark.parametrize(
    ("name", "key", "call"),
    [
        ("ivw_robust", "ivw_robust", "mr_ivw(mri, robust = TRUE)"),
        ("ivw_penalized", "ivw_penalized", "mr_ivw(mri, penalized = TRUE)"),
    ],
)
def test_ivw_variants_match_mendelianrandomization(ds, name, key, call):
    """``MendelianRandomization::mr_ivw(mri, robust = TRUE)`` / ``(mri, penalized = TRUE)``."""
    ref = ref_results(ds)["MendelianRandomization"][key]
    assert ref["call"].endswith(call)
    m = ref["result"]
    x = get_method(name)(*ref_arrays(ds)).to_record()
    assert x["nsnp"] == m["SNPs"]
    _check(x, m, IVW_FIELDS)
    if name == "ivw_robust":
        assert rel_close(x["q"], m["Heter.Stat"][0])
        assert rel_close(x["q_pval"], m["Heter.Stat"][1], atol=1e-300)
    else:
        assert m["Heter.Stat"] == [None, None]
        assert "q" not in x


@pytest.mark.parametrize("ds", UNIVARIABLE)
@pytest.mark.parametrize(
    ("name", "key", "call"),
    [
        ("egger_robust", "egger_robust", "mr_egger(mri, robust = TRUE)"),
        ("egger_penalized", "egger_penalized", "mr_egger(mri, penalized = TRUE)"),
    ],
)
def test_egger_variants_match_mendelianrandomization(ds, name, key, call):
    """``MendelianRandomization::mr_egger(mri, robust = TRUE)`` / ``(mri, penalized = TRUE)``."""
    ref = ref_results(ds)["MendelianRandomization"][key]
    assert ref["call"].endswith(call)
    m = ref["result"]
    x = get_method(name)(*ref_arrays(ds)).to_record()
    assert x["nsnp"] == m["SNPs"]
    _check(x, m, EGGER_FIELDS)
    if name == "egger_robust":
        assert rel_close(x["q"], m["Heter.Stat"][0])
        assert rel_close(x["q_pval"], m["Heter.Stat"][1], atol=1e-300)


TWO_MINIMA = ("mrraps_bmi_bmi", "Penalized robust MR-Egger")
ALLMETHODS = {
    "IVW": ("ivw", {"model": "default"}),
    "Penalized IVW": ("ivw_penalized", {}),
    "Robust IVW": ("ivw_robust", {}),
    "Penalized robust IVW": ("ivw_robust", {"penalized": True}),
    "Penalized MR-Egger": ("egger_penalized", {}),
    "Robust MR-Egger": ("egger_robust", {}),
    "Penalized robust MR-Egger": ("egger_robust", {"penalized": True}),
}


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_allmethods_table_including_penalized_robust(ds):
    """``set.seed(314159265); mr_allmethods(mri, method = "all")``: the robust and
    penalised rows (slope, then the ``(intercept)`` row under each Egger)."""
    ref = ref_results(ds)["MendelianRandomization"]["allmethods_all"]
    assert 'mr_allmethods(mri, method = "all")' in ref["call"]
    rows = ref["result"]["Values"]
    arrays = ref_arrays(ds)
    seen = 0
    for i, row in enumerate(rows):
        if row["Method"] not in ALLMETHODS:
            continue
        name, opts = ALLMETHODS[row["Method"]]
        x = get_method(name)(*arrays, **opts).to_record()
        checks = [("estimate", "Estimate"), ("se", "Std Error"), ("ci_lower", "95% CI "),
                  ("ci_upper", " "), ("pval", "P-value")]  # fmt: skip
        if (ds, row["Method"]) == TWO_MINIMA:
            # the S-objective has two local minima here (scales 1.307042, the global
            # one, and 1.307092); R's draws reached the second, mrkit's default draws
            # the first: same MM-estimate, SE 1.5e-4 apart. Seed 2 reaches R's.
            assert rel_close(x["estimate"], row["Estimate"])
            assert rel_close(x["se"], row["Std Error"], rtol=2e-4)
            assert x["rse"] == pytest.approx(1.3070418874612, rel=1e-9)
            x = get_method(name)(*arrays, **opts, seed=2).to_record()
            assert x["rse"] == pytest.approx(1.3070918639970, rel=1e-9)
        _check(x, row, checks)
        if name.startswith("egger"):
            icpt = rows[i + 1]
            assert icpt["Method"] == "(intercept)"
            _check(
                x,
                icpt,
                [("egger_intercept", "Estimate"), ("egger_intercept_se", "Std Error"),
                 ("egger_intercept_pval", "P-value")],
            )  # fmt: skip
        seen += 1
    assert seen == len(ALLMETHODS)


def test_t_distribution_options_run_and_widen():
    bx, sx, by, sy = ref_arrays("mr_ldlc_chd")
    n = get_method("egger_robust")(bx, sx, by, sy)
    t = get_method("egger_robust")(bx, sx, by, sy, dist="t")
    assert t.estimate == n.estimate
    assert t.ci_upper - t.ci_lower >= n.ci_upper - n.ci_lower
    f = get_method("ivw_robust")(bx, sx, by, sy, model="fixed")
    r = get_method("ivw_robust")(bx, sx, by, sy, model="random")
    rse = r.extras["rse"]
    assert rse > 1
    assert f.se == pytest.approx(r.se / rse, rel=1e-12)  # fixed: SE / sigma, random: SE / 1


def test_random_subsampling_reaches_the_same_estimate():
    """Forcing random subsamples (any seed) gives the exhaustive answer on real data."""
    bx, _sx, by, sy = ref_arrays("tsmr_bmi_chd")
    s = np.where(bx < 0, -1.0, 1.0)
    x = np.column_stack([np.ones_like(bx), bx * s])
    full = lmrob(x, by * s, sy**-2.0)
    assert full.exhaustive
    for seed in (1, 2, 3):
        rand = lmrob(x, by * s, sy**-2.0, seed=seed, max_work=0)
        assert not rand.exhaustive
        np.testing.assert_allclose(rand.coef, full.coef, rtol=1e-6)
        np.testing.assert_allclose(rand.se, full.se, rtol=1e-5)


def test_seed_recorded_and_engine_runs_them():
    bx, sx, by, sy = ref_arrays("mr_ldlc_chd")
    res = analyse(
        Pairs.from_arrays(bx, sx, by, sy),
        "ivw_robust,ivw_penalized,egger_robust,egger_penalized",
        options={"ivw_robust": {"penalized": True}},
        diagnostics=False,
    )
    assert res.skipped.empty
    est = res.estimates.set_index("method")
    one = get_method("ivw_robust")(bx, sx, by, sy, penalized=True)
    assert est.loc["ivw_robust", "estimate"] == one.estimate
    assert est.loc["egger_robust", "seed"] == 1


NEW_DETERMINISTIC = [
    ("ivw_robust", {}),
    ("ivw_robust", {"penalized": True}),
    ("egger_robust", {}),
    ("ivw_penalized", {}),
    ("egger_penalized", {}),
    ("pivw", {"boot_fieller": False}),
    ("cml_ma_bic", {"n": 10_000}),
    ("grip", {}),
    ("uwr", {}),
]


def _sim(seed: int, n: int = 25):
    rng = np.random.default_rng(seed)
    bx = rng.choice([-1.0, 1.0], n) * rng.uniform(0.05, 1.0, n)
    sx = rng.uniform(0.005, 0.05, n)
    sy = rng.uniform(0.01, 0.2, n)
    by = 0.3 * bx + rng.normal(0.0, 1.0, n) * sy * 1.5
    by[:3] += 0.5  # a few outliers
    return bx, sx, by, sy, rng


@pytest.mark.parametrize(("name", "opts"), NEW_DETERMINISTIC)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_new_methods_invariances(name, opts, seed):
    """Allele flips and variant order leave the estimate and SE unchanged; outcome
    units scale both (uwr: not weighted, so only flips and order)."""
    bx, sx, by, sy, rng = _sim(seed)
    f = get_method(name)
    r0 = f(bx, sx, by, sy, **opts)
    flip = np.where(rng.random(bx.size) < 0.5, -1.0, 1.0)
    r1 = f(bx * flip, sx, by * flip, sy, **opts)
    p = rng.permutation(bx.size)
    r2 = f(bx[p], sx[p], by[p], sy[p], **opts)
    for r in (r1, r2):
        assert r.estimate == pytest.approx(r0.estimate, rel=1e-7)
        assert r.se == pytest.approx(r0.se, rel=1e-6)
    if name != "uwr":
        # cML stops when theta moves less than 1e-7 in absolute terms (R's rule), so
        # a change of units moves its result at that level
        tol = 1e-5 if name.startswith("cml") else 1e-7
        r3 = f(bx, sx, by * 3.0, sy * 3.0, **opts)
        assert r3.estimate == pytest.approx(3.0 * r0.estimate, rel=tol)
        assert r3.se == pytest.approx(3.0 * r0.se, rel=max(tol, 1e-6))
