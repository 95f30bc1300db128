"""The engine, :func:`mrkit.estimate.analyse`, held to the per-pair oracle ``tests/reference.py``.

Ragged random batches of pairs (0..60 variants, with 1, 2 and 3 often; near-equal
|bx| that make Egger collinear; a bx = 0; pairs without usable rows) go through
the engine once, and every pair is checked against

* the slow formulas of ``reference.py`` (IVW in all its variants, Egger, Wald
  ratio, Q, Q', the intercept test, I²GX, F, single-SNP ratios, leave-one-out by
  refitting): 1e-10 relative;
* :func:`reference.analyse_pair`, every registered one-pair function called with
  the same seed: closed forms 1e-10, bootstrap rows ~1e-12 (they share the
  draws), per-pair methods exactly;
* the same pair analysed alone (nothing depends on the other pairs).

Then the contract around it: every (pair, method) estimated or skipped with a
reason, strict options, TwoSampleMR names, seeds, ``mrkit mr`` and the reprs.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference as ref
from conftest import REFERENCE, UNIVARIABLE, ref_arrays, ref_data, ref_results, requires_shared
from mrkit.diagnostics import core as diag
from mrkit.errors import InputError, TooFewVariantsError, UnknownMethodError
from mrkit.estimate import DEFAULT_SEED, Pairs, analyse, mr
from mrkit.methods import get_method, resolve

SEGMENT = ["wald_ratio", "ivw", "ivw_fe", "ivw_mre", "egger"]
ROWS = [
    "simple_median",
    "weighted_median",
    "penalised_weighted_median",
    "simple_mode",
    "weighted_mode",
    "penalised_mode",
    "simple_mode_nome",
    "weighted_mode_nome",
]
#: Cheap per-pair methods (the slow ones have their own tests in tests/methods).
PAIR = ["divw", "maxlik", "ivw_radial", "egger_radial", "sign", "egger_bootstrap", "presso"]
NBOOT = 40
RTOL = 1e-10  # closed forms against the slow oracle / the one-pair functions
RTOL_ROWS = 1e-12  # bootstrap rows against the one-pair function (same draws)
DIAG_TABLES = ("heterogeneity", "pleiotropy", "strength", "single_snp", "leave_one_out")
CORE = ("estimate", "se", "ci_lower", "ci_upper", "pval")

hyp = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- random batches ---------------------------------------------------------------------
def make_pair(rng: np.random.Generator, j: int, kind: str) -> tuple[np.ndarray, ...]:
    """One pair of ``j`` variants.

    ``kind``: ``plain``; ``collinear`` (|bx| equal to ~1e-13: no Egger slope);
    ``zero`` (a bx = 0); ``dominant`` (one instrument far stronger); ``outlier``.
    """
    sx = rng.uniform(0.003, 0.03, j)
    sy = rng.uniform(0.005, 0.05, j)
    if kind == "collinear":
        c = rng.uniform(0.02, 0.2)
        bx = c * (1.0 + 1e-13 * rng.uniform(-1, 1, j)) * rng.choice([-1.0, 1.0], j)
    else:
        bx = rng.normal(0.0, 0.1, j)
        if kind == "zero" and j not in (0, 2):  # 2 variants, one bx = 0: a perfect fit
            bx[rng.integers(j)] = 0.0
        if kind == "dominant" and j:  # one far stronger instrument (F ~ 1000x the others')
            bx[rng.integers(j)] *= 30.0
    beta = rng.normal(0.0, 0.5)
    icpt = rng.normal(0.0, 0.01) * rng.integers(0, 2)
    by = icpt + beta * bx + sy * rng.normal(0.0, rng.uniform(0.5, 3.0), j)
    if kind == "outlier" and j:  # one variant 20-300 SEs off the line
        i = rng.integers(j)
        by[i] += rng.choice([-1.0, 1.0]) * rng.uniform(20.0, 300.0) * sy[i]
    return bx, sx, by, sy


sizes = st.one_of(st.sampled_from([0, 1, 2, 3]), st.integers(0, 60))
kinds = st.sampled_from(["plain", "plain", "collinear", "zero", "dominant", "outlier"])
batches = st.lists(st.tuples(sizes, kinds), min_size=1, max_size=6)


def stack(specs: list[tuple[int, str]], seed: int) -> tuple[Pairs, list[tuple]]:
    """Pairs of the given (size, kind), rows shuffled across pairs (input order kept within)."""
    rng = np.random.default_rng(seed)
    pairs = [make_pair(rng, j, kind) for j, kind in specs]
    snps = [[f"rs{k}_{i}" for i in range(len(p[0]))] for k, p in enumerate(pairs)]
    group = np.concatenate([np.full(len(p[0]), k, dtype=np.int64) for k, p in enumerate(pairs)])
    cols = [np.concatenate([p[i] for p in pairs]) for i in range(4)]
    names = np.concatenate([np.array(s, dtype=object) for s in snps])
    # interleave the pairs' rows at random, each pair's rows kept in their order
    labels = rng.permutation(group)
    idx = np.empty(group.size, dtype=np.int64)
    for k in range(len(pairs)):
        idx[labels == k] = np.flatnonzero(group == k)
    keys = pd.DataFrame(
        {"exposure": [f"x{k}" for k in range(len(pairs))], "outcome": ["y"] * len(pairs)}
    )
    p = Pairs.from_arrays(*(c[idx] for c in cols), group=labels, snp=names[idx], keys=keys)
    return p, [(*pp, s) for pp, s in zip(pairs, snps, strict=True)]


# -- comparing ----------------------------------------------------------------------------
def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def same(actual: Any, expected: Any, rtol: float, scale: float = 0.0) -> bool:
    """Equal values: numbers within ``rtol * (|expected| + scale)``, NaN/None alike."""
    if isinstance(actual, np.generic):
        actual = actual.item()
    if isinstance(expected, np.generic):
        expected = expected.item()
    if _missing(actual) or _missing(expected):
        return _missing(actual) and _missing(expected)
    if isinstance(expected, bool) or isinstance(actual, bool):
        return bool(actual) == bool(expected)
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        if math.isinf(expected) or math.isinf(actual):
            return actual == expected
        return abs(actual - expected) <= rtol * (abs(expected) + scale) + 1e-300
    if isinstance(expected, list | tuple | np.ndarray):
        a, e = list(actual), list(expected)
        return len(a) == len(e) and all(same(x, y, rtol, scale) for x, y in zip(a, e, strict=True))
    return actual == expected


def check_record(got: dict, want: dict, rtol: float, what: str) -> None:
    """Every field of ``want`` in ``got`` (estimate-scale fields relative to the SE)."""
    scales = {}
    for field, keys in (
        ("se", ("estimate", "ci_lower", "ci_upper")),
        (
            "egger_intercept_se",
            ("egger_intercept", "egger_intercept_ci_lower", "egger_intercept_ci_upper"),
        ),
        ("q_df", ("q",)),  # Q is of the order of its degrees of freedom
    ):
        v = want.get(field)
        if isinstance(v, int | float) and math.isfinite(v):
            scales.update(dict.fromkeys(keys, abs(float(v))))
    for k, e in want.items():
        assert k in got, f"{what}: no `{k}`"
        s = scales.get(k, 0.0)
        assert same(got[k], e, rtol, s), f"{what}: {k} = {got[k]!r}, oracle {e!r}"


def rows(df: pd.DataFrame, exposure: str) -> list[dict]:
    """The records of one pair of an engine table, key columns dropped."""
    sub = df[df["exposure"] == exposure] if "exposure" in df.columns else df
    return sub.drop(columns=[c for c in ("exposure", "outcome") if c in sub]).to_dict("records")


def rtol_of(method: str) -> float:
    # a method's further rows (presso_corrected) come from the same per-pair fit
    kernel = get_method(method.removesuffix("_corrected")).kernel
    return {"segment": RTOL, "rows": RTOL_ROWS, "pair": 0.0}[kernel]


def check_pair(res, k: int, pair: tuple, methods: list[str], **kw: Any) -> None:
    """Pair ``k`` of the engine's result against :func:`reference.analyse_pair`."""
    bx, sx, by, sy, snp = pair
    x = f"x{k}"
    want = ref.analyse_pair(bx, sx, by, sy, methods, snp=snp, **kw)
    est = rows(res.estimates, x)
    assert [r["method"] for r in est] == [r["method"] for r in want["estimates"]], x
    for got, exp in zip(est, want["estimates"], strict=True):
        m = exp["method"]
        check_record(got, exp, rtol_of(m), f"{x} {m}")
        # the engine's row has no field the one-pair function does not give
        extra = [c for c, v in got.items() if c not in exp and not _missing(v)]
        assert not extra, f"{x} {m}: fields the one-pair function lacks: {extra}"
    skipped = {r["method"]: r["reason"] for r in rows(res.skipped, x)}
    assert set(skipped) == set(want["skipped"]), (x, skipped, want["skipped"])
    assert all(isinstance(r, str) and r for r in skipped.values())
    if not kw.get("diagnostics", True):
        return
    het = rows(res.heterogeneity, x)
    assert [h["method"] for h in het] == [h["method"] for h in want["heterogeneity"]], x
    for got, exp in zip(het, want["heterogeneity"], strict=True):
        check_record(got, exp, RTOL, f"{x} Q {exp['method']}")
    pl = rows(res.pleiotropy, x)
    assert len(pl) == (want["pleiotropy"] is not None), x
    if pl:
        check_record(pl[0], want["pleiotropy"], RTOL, f"{x} pleiotropy")
    stg = rows(res.strength, x)
    assert len(stg) == (want["strength"] is not None), x
    if stg:
        check_record(stg[0], want["strength"], RTOL, f"{x} strength")
    for table in ("single_snp", "leave_one_out"):
        got_rows, exp_rows = rows(getattr(res, table), x), want[table]
        assert [r["snp"] for r in got_rows] == [r["snp"] for r in exp_rows], (x, table)
        for got, exp in zip(got_rows, exp_rows, strict=True):
            check_record(got, exp, RTOL, f"{x} {table} {exp['snp']}")


def check_slow_formulas(
    res, k: int, pair: tuple, alpha: float, ivw_opts: dict, egger_dist: str = "t"
) -> None:
    """The closed-form estimates of pair ``k`` against the slow formulas directly."""
    bx, sx, by, sy, _ = pair
    est = {r["method"]: r for r in rows(res.estimates, f"x{k}")}
    want = {
        "ivw": ref.ivw(bx, sx, by, sy, alpha=alpha, **ivw_opts),
        "ivw_fe": ref.ivw(bx, sx, by, sy, alpha=alpha, model="fixed"),
        "ivw_mre": ref.ivw(bx, sx, by, sy, alpha=alpha, model="mre"),
        "egger": ref.egger(bx, sx, by, sy, alpha=alpha, dist=egger_dist),
        "wald_ratio": ref.wald_ratio(bx, sx, by, sy, alpha=alpha),
    }
    for m, w in want.items():
        assert (m in est) == (w is not None), (k, m)
        if w is not None:
            check_record(est[m], w, RTOL, f"x{k} {m} (slow formula)")


def check_coverage(res, npairs: int, nsnp: list[int], methods: list[str]) -> None:
    """Every (pair, method) is in ``estimates`` or in ``skipped``, never both nor neither."""
    est = set(zip(res.estimates["exposure"], res.estimates["method"], strict=True))
    skp = list(zip(res.skipped["exposure"], res.skipped["method"], strict=True))
    assert len(skp) == len(set(skp)), "a (pair, method) skipped twice"
    assert len(est) == len(res.estimates), "a (pair, method) estimated twice"
    assert all(isinstance(r, str) and r for r in res.skipped["reason"])
    for k in range(npairs):
        x = f"x{k}"
        if nsnp[k] == 0:
            assert [m for e, m in skp if e == x] == ["*"]
            assert not any(e == x for e, _ in est)
            continue
        for m in methods:
            assert ((x, m) in est) != ((x, m) in set(skp)), (x, m)
        for d in DIAG_TABLES:
            tab = getattr(res, d)
            has = bool((tab["exposure"] == x).any()) if len(tab) else False
            assert has or (x, d) in set(skp), (x, d, "neither in its table nor skipped")
            if d != "heterogeneity":  # an IVW Q row may stand beside a skipped Egger Q'
                assert not (has and (x, d) in set(skp)), (x, d, "both")


# -- the property tests ---------------------------------------------------------------
@settings(hyp, max_examples=40)
@given(
    specs=batches,
    seed=st.integers(0, 2**32 - 1),
    draw_seed=st.integers(0, 2**31 - 1),
    alpha=st.sampled_from([0.05, 0.1, 0.01]),
    ivw_opts=st.fixed_dictionaries(
        {},
        optional={
            "model": st.sampled_from(["random", "fixed", "mre", "default"]),
            "weights": st.sampled_from(["first", "second"]),
            "dist": st.sampled_from(["normal", "t"]),
        },
    ),
    egger_dist=st.sampled_from(["t", "normal"]),
    rows_opts=st.fixed_dictionaries(
        {},
        optional={
            "weighted_median": st.fixed_dictionaries(
                {},
                optional={
                    "weights": st.sampled_from(["first", "second"]),
                    "dist": st.sampled_from(["normal", "t"]),
                },
            ),
            "penalised_weighted_median": st.fixed_dictionaries(
                {}, optional={"penk": st.sampled_from([5.0, 20.0, 100.0])}
            ),
            "weighted_mode": st.fixed_dictionaries(
                {},
                optional={
                    "phi": st.sampled_from([0.5, 1.0, 2.0]),
                    "dist": st.sampled_from(["normal", "t"]),
                },
            ),
            "simple_mode_nome": st.fixed_dictionaries(
                {}, optional={"phi": st.sampled_from([0.25, 1.0])}
            ),
        },
    ),
)
def test_engine_equals_oracle_pair_by_pair(
    specs, seed, draw_seed, alpha, ivw_opts, egger_dist, rows_opts
):
    pairs, data = stack(specs, seed)
    methods = SEGMENT + ROWS
    options = {"ivw": ivw_opts, "egger": {"dist": egger_dist}, **rows_opts}
    res = analyse(pairs, methods, options=options, alpha=alpha, seed=draw_seed, nboot=NBOOT)
    nsnp = [len(p[0]) for p in data]
    assert res.keys["nsnp"].tolist() == nsnp
    check_coverage(res, len(data), nsnp, methods)
    for k, pair in enumerate(data):
        check_pair(res, k, pair, methods, options=options, alpha=alpha, seed=draw_seed, nboot=NBOOT)
        check_slow_formulas(res, k, pair, alpha, ivw_opts, egger_dist)


@settings(hyp, max_examples=15)
@given(specs=batches, seed=st.integers(0, 2**32 - 1), threads=st.sampled_from([1, 2]))
def test_per_pair_methods_through_the_engine(specs, seed, threads):
    """Per-pair methods on threads give their function's own result, or a skip with its reason."""
    pairs, data = stack(specs, seed)
    opts = {"presso": {"n_distributions": 60}, "egger_bootstrap": {"nboot": 30}}
    res = analyse(pairs, PAIR, options=opts, threads=threads, diagnostics=False)
    check_coverage_methods_only(res, [len(p[0]) for p in data], PAIR)
    for k, pair in enumerate(data):
        check_pair(res, k, pair, PAIR, options=opts, diagnostics=False)


def test_all_methods_each_pair_estimated_or_skipped():
    """``methods="all"``: every method on every pair of a mixed batch, or its reason."""
    specs = [
        (0, "plain"),
        (1, "zero"),
        (2, "plain"),
        (3, "collinear"),
        (7, "zero"),
        (25, "outlier"),
    ]
    pairs, data = stack(specs, 11)
    opts = {"presso": {"n_distributions": 50}, "egger_bootstrap": {"nboot": 20}}
    res = analyse(pairs, "all", options=opts, nboot=20)
    names = resolve("all")
    assert res.parameters["methods"] == names
    check_coverage(res, len(data), [len(p[0]) for p in data], names)
    big = res.estimates[res.estimates["exposure"] == "x5"]
    assert set(big["method"]) >= {"ivw", "egger", "raps", "presso", "weighted_mode", "lasso"}


def check_coverage_methods_only(res, nsnp: list[int], methods: list[str]) -> None:
    est = set(zip(res.estimates["exposure"], res.estimates["method"], strict=True))
    skp = set(zip(res.skipped["exposure"], res.skipped["method"], strict=True))
    for k, n in enumerate(nsnp):
        x = f"x{k}"
        for m in methods:
            if n == 0:
                assert (x, m) not in est
                assert (x, m) not in skp
                assert (x, "*") in skp
            else:
                assert ((x, m) in est) != ((x, m) in skp), (x, m)


def _pair_tables(res, x: str | None) -> dict[str, pd.DataFrame]:
    out = {}
    for name in ("estimates", "skipped", *DIAG_TABLES):
        df = getattr(res, name)
        if x is not None and "exposure" in df.columns:
            df = df[df["exposure"] == x].drop(columns=["exposure", "outcome"])
        out[name] = df.dropna(axis=1, how="all").reset_index(drop=True)
    return out


@settings(hyp, max_examples=15)
@given(specs=batches, seed=st.integers(0, 2**32 - 1))
def test_a_pair_does_not_depend_on_the_others(specs, seed):
    """Every pair's tables in a batch equal those of the pair analysed alone, to the bit."""
    pairs, data = stack(specs, seed)
    methods = ["wald_ratio", "ivw", "egger", "weighted_median", "penalised_mode", "divw"]
    res = analyse(pairs, methods, nboot=NBOOT)
    for k, (bx, sx, by, sy, snp) in enumerate(data):
        one = Pairs.from_arrays(bx, sx, by, sy, snp=snp)
        alone = _pair_tables(analyse(one, methods, nboot=NBOOT), None)
        batch = _pair_tables(res, f"x{k}")
        for name, df in alone.items():
            pd.testing.assert_frame_equal(
                batch[name], df, check_dtype=False, check_exact=True, obj=f"x{k} {name}"
            )


@requires_shared
def test_reference_datasets_as_one_batch():
    """The R reference datasets stacked as one batch, plus 1-, 2- and 3-variant cuts."""
    arrays = [ref_arrays(ds) for ds in UNIVARIABLE]
    arrays += [tuple(a[:j] for a in arrays[0]) for j in (1, 2, 3)]
    data = [(*a, [f"s{i}" for i in range(len(a[0]))]) for a in arrays]
    keys = pd.DataFrame({"exposure": [f"x{k}" for k in range(len(data))], "outcome": "y"})
    group = np.concatenate([np.full(len(d[0]), k) for k, d in enumerate(data)])
    cols = [np.concatenate([d[i] for d in data]) for i in range(5)]
    pairs = Pairs.from_arrays(*cols[:4], group=group, snp=cols[4], keys=keys)
    methods = SEGMENT + ROWS
    res = analyse(pairs, methods, nboot=100)
    check_coverage(res, len(data), [len(d[0]) for d in data], methods)
    for k, pair in enumerate(data):
        check_pair(res, k, pair, methods, nboot=100)
        check_slow_formulas(res, k, pair, 0.05, {})


@settings(hyp, max_examples=40)
@given(size=sizes, kind=kinds, seed=st.integers(0, 2**32 - 1))
def test_public_diagnostics_are_the_kernels_and_equal_the_oracle(size, kind, seed):
    """:mod:`mrkit.diagnostics.core` (one pair, through the segment kernels) against the oracle."""
    bx, sx, by, sy = make_pair(np.random.default_rng(seed), size, kind)
    n = bx.shape[0]
    if n < 2:
        with pytest.raises(TooFewVariantsError, match="heterogeneity"):
            diag.heterogeneity(bx, sx, by, sy)
        with pytest.raises(TooFewVariantsError, match="i2gx"):
            diag.i2gx(bx, sx)
    else:
        egger = ref.egger(bx, sx, by, sy)
        if n >= 3 and egger is None:
            with pytest.raises(InputError, match="collinear"):
                diag.heterogeneity(bx, sx, by, sy)
            with pytest.raises(InputError, match=r"`pleiotropy`.*collinear"):
                diag.pleiotropy(bx, sx, by, sy)
        else:
            het = diag.heterogeneity(bx, sx, by, sy)
            want = [ref.cochran_q(bx, sx, by, sy), ref.rucker_q(bx, sx, by, sy)]
            want = [w for w in want if w is not None]
            assert len(het) == len(want)
            for got, exp in zip(het, want, strict=True):
                assert type(got["q_df"]) is int
                check_record(got, exp, RTOL, f"heterogeneity {exp['method']}")
            if n >= 3:
                pl = diag.pleiotropy(bx, sx, by, sy)
                check_record(pl, ref.egger_intercept_test(bx, sx, by, sy), RTOL, "pleiotropy")
        assert same(diag.i2gx(bx, sx), ref.i2gx(bx, sx), RTOL)
        signed = ref.i2gx(bx, sx, absolute=False)
        assert same(diag.i2gx(bx, sx, absolute=False), signed, RTOL)
    if n == 0:
        return
    assert same(diag.f_mean(bx, sx), ref.strength(bx, sx)["f_mean"], RTOL)
    ss = ref.single_snp(bx, sx, by, sy, alpha=0.1)
    if ss is None:
        with pytest.raises(InputError, match="bx` is 0"):
            diag.single_snp(bx, sx, by, sy, alpha=0.1)
    else:
        got = diag.single_snp(bx, sx, by, sy, alpha=0.1)
        for j, (r, exp) in enumerate(zip(got, ss, strict=True)):
            assert (r.method, r.nsnp, r.alpha, r.extras) == ("wald_ratio", 1, 0.1, {"index": j})
            check_record(r.to_record(), exp, RTOL, f"single_snp {j}")
    loo = ref.leave_one_out(bx, sx, by, sy, alpha=0.1)
    if loo is None:
        with pytest.raises(TooFewVariantsError, match="leave_one_out"):
            diag.leave_one_out(bx, sx, by, sy)
        return
    closed = diag.leave_one_out(bx, sx, by, sy, alpha=0.1)
    refit = diag.leave_one_out(bx, sx, by, sy, alpha=0.1, weights="first")  # the refit loop
    for i, (c, r, exp) in enumerate(zip(closed, refit, loo, strict=True)):
        assert (c.method, c.nsnp, c.alpha) == ("ivw", n - 1, 0.1)
        assert list(c.extras) == list(r.extras)
        assert c.extras["excluded"] == r.extras["excluded"] == i
        assert c.extras["model"] == r.extras["model"] == "random"
        assert type(c.extras["q_df"]) is int
        check_record(c.to_record(), exp, RTOL, f"leave_one_out -{i}")
        check_record(r.to_record(), exp, RTOL, f"leave_one_out refit -{i}")


def test_i2gx_signed_and_absolute():
    """Signs matter only with ``absolute=False`` (Isq(b_exp) vs Isq(abs(b_exp)))."""
    bx = np.array([0.1, -0.12, 0.08, -0.05, 0.2])
    sx = np.array([0.01, 0.02, 0.015, 0.01, 0.03])
    assert diag.i2gx(bx, sx) == pytest.approx(ref.i2gx(np.abs(bx), sx, absolute=False), rel=1e-12)
    signed = diag.i2gx(bx, sx, absolute=False)
    assert signed == pytest.approx(ref.i2gx(bx, sx, absolute=False), rel=1e-12)
    assert signed > diag.i2gx(bx, sx)


# -- fixed examples of the contract -------------------------------------------------------
def _one_pair(j: int = 12, seed: int = 5) -> tuple[np.ndarray, ...]:
    return make_pair(np.random.default_rng(seed), j, "plain")


def test_collinear_egger_is_skipped_with_its_reason():
    bx = np.array([0.1, -0.1, 0.1, -0.1])
    sx = np.full(4, 0.01)
    by = np.array([0.03, -0.02, 0.05, -0.01])
    sy = np.full(4, 0.02)
    res = analyse(Pairs.from_arrays(bx, sx, by, sy), ["ivw", "egger"])
    assert res.estimates["method"].tolist() == ["ivw"]
    reasons = dict(zip(res.skipped["method"], res.skipped["reason"], strict=True))
    assert "collinear" in reasons["egger"]
    assert "collinear" in reasons["pleiotropy"]
    assert res.heterogeneity["method"].tolist() == ["ivw"]
    assert ref.egger(bx, sx, by, sy) is None


def test_unknown_option_lists_the_valid_ones():
    p = Pairs.from_arrays(*_one_pair())
    with pytest.raises(InputError, match=r"unknown option `modle` for method `ivw`") as exc:
        analyse(p, ["ivw"], options={"ivw": {"modle": "fixed"}})
    msg = str(exc.value)
    assert "did you mean `model`" in msg
    assert "its options: alpha, model, weights, dist" in msg
    with pytest.raises(InputError, match="n_distributions"):
        analyse(p, ["presso"], options={"presso": {"n_distribution": 10}})
    with pytest.raises(InputError, match="not among the methods run"):
        analyse(p, ["ivw"], options={"egger": {"dist": "t"}})


def test_twosamplemr_names_resolve_and_unknown_names_hint():
    tsmr = {
        "mr_ivw": "ivw",
        "mr_ivw_fe": "ivw_fe",
        "mr_ivw_mre": "ivw_mre",
        "mr_egger_regression": "egger",
        "mr_weighted_median": "weighted_median",
        "mr_simple_median": "simple_median",
        "mr_penalised_weighted_median": "penalised_weighted_median",
        "mr_weighted_mode": "weighted_mode",
        "mr_simple_mode": "simple_mode",
        "mr_wald_ratio": "wald_ratio",
        "mr_egger_regression_bootstrap": "egger_bootstrap",
        "mr_presso": "presso",
        "mr.raps": "raps",
    }
    assert resolve(list(tsmr)) == list(tsmr.values())
    assert resolve(",".join(tsmr)) == list(tsmr.values())
    res = analyse(
        Pairs.from_arrays(*_one_pair()),
        ["mr_ivw", "mr_egger_regression", "mr_weighted_median", "mr_weighted_mode"],
        nboot=20,
    )
    assert res.estimates["method"].tolist() == ["ivw", "egger", "weighted_median", "weighted_mode"]
    with pytest.raises(
        UnknownMethodError, match=r"unknown method `mr_ivww` \(did you mean .*`ivw`"
    ):
        resolve(["mr_ivww"])
    with pytest.raises(UnknownMethodError, match="did you mean `weighted_median`"):
        analyse(Pairs.from_arrays(*_one_pair()), "weighted_medain")
    with pytest.raises(UnknownMethodError, match=r"known methods: .*ivw"):
        resolve(["qqqqqqq"])


def test_presso_options_reach_the_method():
    p = Pairs.from_arrays(*_one_pair(15))
    res = analyse(p, ["presso"], options={"presso": {"n_distributions": 100}}, diagnostics=False)
    row = res.estimates.iloc[0]
    assert row["n_distributions"] == 100
    assert res.parameters["options"] == {"presso": {"n_distributions": 100}}
    direct = get_method("presso")(*_one_pair(15), n_distributions=100, seed=DEFAULT_SEED)
    assert row["global_pval"] == direct.extras["global_pval"]
    assert row["estimate"] == direct.estimate
    # 100 distributions: the global p-value is a multiple of 1/100
    assert math.isclose(row["global_pval"] * 100, round(row["global_pval"] * 100))


def test_default_seed_reproducible_and_recorded():
    p = Pairs.from_arrays(*_one_pair(20))
    methods = ["weighted_median", "simple_mode", "egger_bootstrap"]
    a = analyse(p, methods, nboot=50)
    b = analyse(p, methods, nboot=50)
    assert a.parameters["seed"] == DEFAULT_SEED
    assert a.to_dict() == b.to_dict()
    assert json.loads(json.dumps(a.to_dict()))["parameters"]["seed"] == DEFAULT_SEED
    c = analyse(p, methods, nboot=50, seed=DEFAULT_SEED + 1)
    assert c.parameters["seed"] == DEFAULT_SEED + 1
    assert not np.array_equal(a.estimates["se"], c.estimates["se"])
    # the seed is the one-pair functions' seed
    one = get_method("weighted_median")(*_one_pair(20), nboot=50, seed=DEFAULT_SEED)
    assert a.estimates.iloc[0]["se"] == pytest.approx(one.se, rel=1e-12)


def test_seed_none_draws_fresh():
    p = Pairs.from_arrays(*_one_pair(20))
    a = analyse(p, ["weighted_median", "weighted_mode"], nboot=50, seed=None)
    assert a.parameters["seed"] is None
    assert np.isfinite(a.estimates["se"]).all()
    assert (a.estimates["se"] > 0).all()


def test_bad_run_settings_raise():
    p = Pairs.from_arrays(*_one_pair())
    with pytest.raises(InputError, match="nboot"):
        analyse(p, ["ivw"], nboot=0)
    with pytest.raises(InputError, match="alpha"):
        analyse(p, ["ivw"], alpha=1.5)
    with pytest.raises(InputError, match="model"):
        analyse(p, ["ivw"], options={"ivw": {"model": "randomm"}})
    with pytest.raises(InputError, match="sy"):
        Pairs.from_arrays([0.1], [0.01], [0.1], [0.0])
    with pytest.raises(InputError, match="integer pair code"):
        Pairs.from_arrays([0.1], [0.01], [0.1], [0.1], group=[0.5])


def test_unnamed_groups_keep_the_pair_identity():
    """Pairs from arrays with ``group`` but no keys: the tables still say which pair a row is."""
    a, b = _one_pair(5, 1), _one_pair(7, 2)
    cols = [np.concatenate([x, y]) for x, y in zip(a, b, strict=True)]
    group = np.repeat([0, 1], [5, 7])
    res = analyse(Pairs.from_arrays(*cols, group=group), ["ivw"])
    assert res.npairs == 2
    assert len(res.estimates) == 2
    assert res.key_columns, "no column names the pair"
    key = res.key_columns[0]
    assert res.estimates[key].nunique() == 2
    views = res.pairs
    assert [len(v.estimates) for v in views] == [1, 1]
    assert views[1].estimates.iloc[0]["nsnp"] == 7
    one = get_method("ivw")(*b)
    assert views[1].estimates.iloc[0]["estimate"] == pytest.approx(one.estimate, rel=1e-12)


# -- tables and the command line ----------------------------------------------------------
def _multi_table() -> pd.DataFrame:
    """Three pairs of the LDL table; the third has no kept variant."""
    df = ref_data("mr_ldlc_chd").copy()
    used = ref_results("mr_ldlc_chd")["snps_used"]
    df = df.set_index("SNP").loc[used].reset_index()
    parts = []
    for k, (lo, hi) in enumerate(((0, 12), (12, 28), (0, 5))):
        part = df.iloc[lo:hi].copy()
        part["id.exposure"] = f"e{k}"
        part["id.outcome"] = "chd"
        part["mr_keep"] = k != 2
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


@requires_shared
def test_multi_pair_table_with_an_empty_pair():
    df = _multi_table()
    res = mr(df, methods="default", nboot=50)
    assert res.npairs == 3
    assert res.keys["nsnp"].tolist() == [12, 16, 0]
    est = res.estimates
    assert set(est["exposure"]) == {"e0", "e1"}
    assert (est.groupby("exposure").size() == 5).all()
    empty = res.skipped[res.skipped["exposure"] == "e2"]
    assert empty["method"].tolist() == ["*"]
    assert "no variants" in empty["reason"].iloc[0]
    for tab in DIAG_TABLES:
        assert "e2" not in set(getattr(res, tab)["exposure"])
    # the other pairs are those of their own tables
    alone = mr(df[df["id.exposure"] == "e1"], methods="default", nboot=50)
    got = est[est["exposure"] == "e1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got[alone.estimates.columns.drop(["exposure", "outcome"], errors="ignore")],
        alone.estimates[alone.estimates.columns.drop(["exposure", "outcome"], errors="ignore")],
        check_dtype=False,
    )
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert isinstance(d["pleiotropy"], list)
    assert {r["exposure"] for r in d["i2gx"]} == {"e0", "e1"}


@requires_shared
def test_all_pairs_empty_raises():
    df = _multi_table()
    df["mr_keep"] = False
    with pytest.raises(InputError, match="no variants with keep = TRUE in any pair"):
        mr(df)


@requires_shared
def test_cli_conmix_skipped_exit_0(tmp_path):
    from mrkit.cli import main

    out = tmp_path / "res.json"
    crp = REFERENCE / "extra" / "mrraps_crp_cad_p5e8.csv"
    # R's grid (conmix.grid=r) misses the maximum on CRP -> CAD; the default grid finds it
    argv = ["mr", str(crp), "--methods", "ivw,conmix,egger", "--set", "conmix.grid=r"]
    rc = main([*argv, "--json", str(out)])
    assert rc == 0
    d = json.loads(out.read_text())
    assert [r["method"] for r in d["estimates"]] == ["ivw", "egger"]
    skipped = {r["method"]: r["reason"] for r in d["skipped"]}
    assert "conmix" in skipped
    assert "grid" in skipped["conmix"]
    assert d["parameters"]["methods"] == ["ivw", "conmix", "egger"]


@requires_shared
def test_cli_set_option_equals_named_variant(tmp_path):
    from mrkit.cli import main

    ldl = REFERENCE / "data" / "mr_ldlc_chd.csv"
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert (
        main(["mr", str(ldl), "--methods", "ivw", "--set", "ivw.model=fixed", "--json", str(a)])
        == 0
    )
    assert main(["mr", str(ldl), "--methods", "ivw_fe", "--json", str(b)]) == 0
    fixed = json.loads(a.read_text())
    fe = json.loads(b.read_text())
    (ra,) = fixed["estimates"]
    (rb,) = fe["estimates"]
    assert ra["method"] == "ivw"
    assert rb["method"] == "ivw_fe"
    assert ra["model"] == rb["model"] == "fixed"
    for k in (*CORE, "nsnp", "q", "q_df", "q_pval"):
        assert ra[k] == rb[k], k
    assert fixed["parameters"]["options"] == {"ivw": {"model": "fixed"}}


@requires_shared
def test_reprs_and_json():
    res = mr(_multi_table(), methods=["ivw", "egger", "weighted_mode", "wald_ratio"], nboot=30)
    s = res.summary()
    assert list(s.columns) == ["exposure", "outcome", "method", *CORE, "nsnp"]
    assert len(s) == 6
    text = repr(res)
    assert text.startswith("MRAnalysis: 3 pairs, methods ivw, egger, weighted_mode, wald_ratio")
    assert "skipped:" in text
    html = res._repr_html_()
    assert html.startswith("<p><b>MRAnalysis</b>: 3 pair(s)</p>")
    assert "<table" in html
    assert html.count("<tr") >= 7
    d = res.to_dict()
    text = json.dumps(d, allow_nan=False)
    back = json.loads(text)
    assert len(back["estimates"]) == 6
    assert {r["method"] for r in back["skipped"]} >= {"wald_ratio", "*"}
    assert back["parameters"]["seed"] == DEFAULT_SEED
    # a single unnamed pair: scalars and a dict
    one = analyse(Pairs.from_arrays(*_one_pair()), ["ivw", "egger"])
    d1 = one.to_dict()
    json.dumps(d1, allow_nan=False)
    assert isinstance(d1["pleiotropy"], dict)
    assert isinstance(d1["i2gx"], float)
    assert repr(one).startswith("MRAnalysis: 1 pair, methods ivw, egger")
    assert list(one.summary().columns) == ["method", *CORE, "nsnp"]


def test_json_safe_with_infinite_or_undefined_values():
    """A single variant with bx = 0 (Wald ratio infinite) still gives strict JSON."""
    res = analyse(Pairs.from_arrays([0.0], [0.01], [0.05], [0.02]), "default")
    json.dumps(res.to_dict(), allow_nan=False)


def test_one_variant_pair_lists_every_diagnostic_it_lacks():
    """A single-variant pair: Q, the intercept test and leave-one-out each skipped with a reason."""
    res = analyse(Pairs.from_arrays([0.1], [0.01], [0.05], [0.02]), ["wald_ratio"])
    assert res.estimates["method"].tolist() == ["wald_ratio"]
    reasons = dict(zip(res.skipped["method"], res.skipped["reason"], strict=True))
    assert set(reasons) == {"heterogeneity", "pleiotropy", "leave_one_out"}
    assert reasons["pleiotropy"] == "`pleiotropy` needs at least 3 variants, got 1"
    assert len(res.strength) == 1
    assert len(res.single_snp) == 1


def test_mode_rows_report_the_bandwidth():
    """The engine's mode rows carry the one-pair functions' extras, ``bandwidth`` included."""
    pair = _one_pair(15)
    res = analyse(Pairs.from_arrays(*pair), ["weighted_mode", "simple_mode_nome"], nboot=20)
    for row in res.estimates.to_dict("records"):
        one = get_method(row["method"])(*pair, nboot=20, seed=DEFAULT_SEED)
        assert row["bandwidth"] == pytest.approx(one.extras["bandwidth"], rel=1e-12)
        assert row["estimate"] == pytest.approx(one.estimate, rel=1e-12)


@pytest.mark.parametrize(
    ("kind", "size", "seed"),
    [("outlier", 3, 1714095), ("dominant", 3, 540456), ("outlier", 4, 7), ("dominant", 30, 3)],
)
def test_leave_one_out_of_a_dominant_variant_keeps_its_digits(kind, size, seed):
    """Leaving out the variant that carries most of a sum (a far stronger instrument, a
    large outlier) matches the refit to 1e-10 (the closed-form downdate lost digits)."""
    rng = np.random.default_rng(seed)
    bx, sx, by, sy = make_pair(rng, size, kind)
    if kind == "outlier":  # an outlier 10,000 SEs off the line, strong enough to matter
        i = int(np.argmax(np.abs(bx)))
        by[i] += 1e4 * sy[i]
    else:
        bx[0] = 100.0 * np.max(np.abs(bx))
    got = diag.leave_one_out(bx, sx, by, sy)
    for i, (g, exp) in enumerate(zip(got, ref.leave_one_out(bx, sx, by, sy), strict=True)):
        check_record(g.to_record(), exp, RTOL, f"{kind} -{i}")
    res = analyse(Pairs.from_arrays(bx, sx, by, sy), ["ivw"])
    for g, exp in zip(
        res.leave_one_out.to_dict("records"), ref.leave_one_out(bx, sx, by, sy), strict=True
    ):
        check_record(g, exp, RTOL, f"{kind} engine")


def test_wald_ratio_of_a_zero_bx_is_skipped_not_infinite() -> None:
    from mrkit.estimate import Pairs, analyse

    pairs = Pairs.from_arrays([0.0, 0.1], [0.01, 0.01], [0.02, 0.03], [0.01, 0.01], group=[0, 1])
    res = analyse(pairs, "wald_ratio", diagnostics=False)
    assert list(res.estimates["pair"]) == [1]
    assert res.skipped["reason"].str.contains("bx is 0").any()


def test_collinear_egger_lists_heterogeneity_and_pleiotropy_skips() -> None:
    from mrkit.estimate import Pairs, analyse

    bx = [0.1, -0.1, 0.1, 0.1]
    res = analyse(Pairs.from_arrays(bx, [0.01] * 4, [0.02, -0.01, 0.03, 0.02], [0.01] * 4), "ivw")
    skipped = set(res.skipped["method"])
    assert {"pleiotropy", "heterogeneity"} <= skipped
    assert list(res.heterogeneity["method"]) == ["ivw"]


def test_nboot_below_two_is_refused() -> None:
    from mrkit.errors import InputError
    from mrkit.estimate import Pairs, analyse

    with pytest.raises(InputError, match="at least 2 draws"):
        analyse(Pairs.from_arrays([0.1] * 3, [0.01] * 3, [0.02] * 3, [0.01] * 3), "ivw", nboot=1)
