"""``harmonise_many`` against the per-pair function it replaced (``harmonise_reference``).

Every pair's table (values, dtypes, the kind of missing value), log and
TwoSampleMR log must equal those of the old per-pair ``harmonise()`` on that
exposure's rows alone, on random allele sets: palindromes, INDELs, strand
flips, swaps, missing and duplicated SNPs, missing alleles, LD proxies.
"""

from __future__ import annotations

import harmonise_reference as ref
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mrkit.errors import InputError
from mrkit.harmonise._inputs import isin
from mrkit.harmonise.core import harmonise
from mrkit.harmonise.many import harmonise_many

COMP = str.maketrans("ACGT", "TGCA")
SNV = [(a, b) for a in "ACGT" for b in "ACGT" if a != b]  # includes A/T, C/G palindromes
INDEL = [("A", "AT"), ("AT", "A"), ("D", "I"), ("I", "D"), ("GAAAA", "G"), ("AT", "AG")]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal tables, dtypes included; object columns also in their kind of missing value."""
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    for col in a.columns:
        if a[col].dtype == object:
            kinds = [type(x).__name__ for x in a[col]], [type(x).__name__ for x in b[col]]
            assert kinds[0] == kinds[1], col


def _outcome_alleles(draw, a1, a2):
    kind = draw(st.sampled_from(["same", "swap", "flip", "flipswap", "other", "one", "blank"]))
    if kind == "other":
        b1, b2 = draw(st.sampled_from(SNV + INDEL))
    else:
        b1, b2 = (a1, a2) if kind in ("same", "flip", "one", "blank") else (a2, a1)
        if kind.startswith("flip"):
            b1, b2 = b1.translate(COMP), b2.translate(COMP)
    if kind == "one":
        b2 = None
    elif kind == "blank":
        b2 = ""
    return b1, b2


@st.composite
def studies(draw):
    """A few exposures' stacked instruments, an outcome, and maybe proxies."""
    n_snps = draw(st.integers(1, 14))
    snps = [f"rs{i}" for i in range(n_snps)]
    truth = {s: draw(st.sampled_from(SNV + INDEL)) for s in snps}
    freq = st.integers(1, 127).map(lambda k: k / 128)
    beta = st.floats(-1, 1, allow_nan=False, allow_infinity=False)
    orows = []
    for s in snps:
        for _ in range(draw(st.sampled_from([0, 0, 1, 1, 1, 2]))):  # absent, once, twice
            b1, b2 = _outcome_alleles(draw, *truth[s])
            orows.append(
                (s, b1, b2, draw(beta), 0.1, draw(freq), draw(st.sampled_from([1e4, 5e4])))
            )
    proxy_snps = [f"px{i}" for i in range(draw(st.integers(0, 4)))]
    phase = {s: draw(st.sampled_from(SNV)) for s in proxy_snps}  # the proxies' panel alleles
    for s in proxy_snps:
        b1, b2 = _outcome_alleles(draw, *phase[s])
        orows.append((s, b1, b2, draw(beta), 0.1, draw(freq), 2e4))
    outcome = pd.DataFrame(
        orows, columns=["snp", "effect_allele", "other_allele", "beta", "se", "eaf", "n"]
    )
    if draw(st.booleans()):
        outcome["log10p"] = np.where(outcome["snp"].str.startswith("px"), 3.0, np.nan)

    rows = []
    for e in range(draw(st.integers(1, 4))):
        k = draw(st.integers(0, 8))
        picked = draw(st.lists(st.sampled_from([*snps, None]), min_size=k, max_size=k))
        with_log10p = draw(st.booleans())
        for s in picked:
            a1, a2 = truth[s] if s is not None else draw(st.sampled_from(SNV))
            if draw(st.integers(0, 9)) == 0:
                a2 = None  # the exposure lacks its other allele
            if draw(st.integers(0, 14)) == 0:
                a1 = None
            se = 0.05 if draw(st.integers(0, 14)) else np.nan
            chrom = draw(st.sampled_from(["1", "2", None]))
            pos = draw(st.sampled_from([100, 200, None]))
            lp = 5.0 if with_log10p else np.nan
            rows.append((f"x{e}", s, chrom, pos, a1, a2, draw(beta), se, draw(freq), lp, 3e4))
    cols = ["exposure", "snp", "chr", "pos", "effect_allele", "other_allele", "beta", "se",
            "eaf", "log10p", "n"]  # fmt: skip
    exposures = pd.DataFrame(rows, columns=cols)
    exposures["pos"] = exposures["pos"].astype("Int64")
    exposures["chr"] = exposures["chr"].astype(object)
    if draw(st.booleans()):  # interleave the exposures' rows
        exposures = exposures.sample(frac=1, random_state=draw(st.integers(0, 9)))

    proxies = None
    if proxy_snps and draw(st.integers(0, 3)):
        prow = []
        absent = sorted(set(exposures["snp"].dropna()) - set(outcome["snp"])) or snps
        for s in draw(st.lists(st.sampled_from(absent), min_size=1, max_size=5)):
            t1, t2 = truth[s]
            p = draw(st.sampled_from([*proxy_snps, "nowhere"]))
            pa = phase.get(p) if draw(st.integers(0, 4)) else None
            pa = pa or draw(st.sampled_from(SNV))
            e = draw(st.sampled_from(sorted(set(exposures["exposure"])) or ["x0"]))
            prow.append((s, p, draw(st.sampled_from([0.8, 0.9, 0.95])), t1, t2, *pa, e))
        proxies = pd.DataFrame(prow, columns=[*ref.PROXY_COLUMNS, "exposure"])
        if draw(st.booleans()):
            proxies = proxies.drop(columns="exposure")
    return exposures, outcome, proxies


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(studies(), st.sampled_from([1, 2, 3]))
def test_many_equals_each_pair_alone(study, action):
    """Each exposure's table and logs equal the old per-pair function on its rows alone."""
    exposures, outcome, proxies = study
    many = harmonise_many(exposures, outcome, action=action, proxies=proxies, outcome_id="y")
    ids = list(dict.fromkeys(exposures["exposure"]))
    assert many.ids == ids
    keyed = proxies is not None and "exposure" in proxies.columns
    for e in ids:
        ex = exposures[exposures["exposure"] == e].drop(columns="exposure")
        px = proxies[proxies["exposure"] == e] if keyed else proxies
        old = ref.harmonise(ex, outcome, action=action, proxies=px, exposure_id=e, outcome_id="y")
        got = many.pair(e)
        _same(got.table, old.table)
        assert got.log == old.log
        assert got.tsmr_log == old.tsmr_log
    stacked = many.table
    assert list(stacked["exposure"].drop_duplicates()) == ids
    assert len(stacked) == sum(len(many.pair(e).table) for e in ids)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(studies(), st.sampled_from([1, 2, 3]))
def test_harmonise_equals_the_old_function(study, action):
    """``harmonise()`` (now a batch of one) gives the old function's table and logs."""
    exposures, outcome, proxies = study
    ex = exposures.drop(columns="exposure")
    old = ref.harmonise(ex, outcome, action=action, proxies=proxies, exposure_id="x")
    new = harmonise(ex, outcome, action=action, proxies=proxies, exposure_id="x")
    _same(new.table, old.table)
    assert new.log == old.log
    assert new.tsmr_log == old.tsmr_log


def _old_study_table(table, dropped, exposure, outcome):
    """The study pipeline's per-pair table as it was built before (harmonised + dropped)."""
    pre = pd.DataFrame(
        {
            "snp": dropped.get("snp", pd.Series(dtype=object)),
            "beta_exposure": dropped.get("beta", pd.Series(dtype=float)),
            "se_exposure": dropped.get("se", pd.Series(dtype=float)),
            "p_exposure": dropped.get("p", pd.Series(dtype=float)),
            "keep": False,
            "reason": dropped.get("reason", pd.Series(dtype=object)),
        }
    )
    full = pd.concat([table, pre], ignore_index=True) if len(pre) else table
    full.insert(0, "outcome", outcome)
    full.insert(0, "exposure", exposure)
    full["keep"] = full["keep"].astype(bool)
    return full


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(studies(), st.data())
def test_tables_with_dropped_rows_equal_the_study_tables(study, data):
    """``tables(dropped=, outcome=)`` equals the study's old per-pair concatenation.

    ``dropped`` given per exposure, or as one stacked table (as the study does; exact
    when every exposure's dropped rows have the same dtypes, as instruments do).
    """
    exposures, outcome, proxies = study
    many = harmonise_many(exposures, outcome, proxies=proxies)
    without_reason = data.draw(st.booleans())
    dropped = {}
    for e in many.ids:
        k = data.draw(st.integers(0, 3))
        d = pd.DataFrame(  # object text columns, as the store and select_instruments give
            {"snp": pd.Series([f"c{i}" for i in range(k)], dtype=object),
             "beta": np.arange(k) / 10.0, "se": 0.1, "p": 1e-9,
             "reason": pd.Series(["clumped"] * k, dtype=object)}
        )  # fmt: skip
        dropped[e] = d.drop(columns="reason") if without_reason else d
    frames = [d.assign(exposure=e) for e, d in reversed(dropped.items())]  # any exposure order
    stacked = pd.concat(frames, ignore_index=True) if frames else None
    for given_as in (dropped, stacked) if frames else (dropped,):
        got = many.tables(dropped=given_as, outcome="y")
        assert list(got) == many.ids
        for e in many.ids:
            _same(got[e], _old_study_table(many.pair(e).table, dropped[e], e, "y"))


def test_an_exposure_without_id_is_refused():
    ex = pd.DataFrame(
        {"exposure": ["a", None], "snp": ["rs1", "rs2"], "effect_allele": ["A", "A"],
         "other_allele": ["G", "G"], "beta": [0.1, 0.2], "se": [0.1, 0.1]}
    )  # fmt: skip
    with pytest.raises(InputError, match="no id in column `exposure`"):
        harmonise_many(ex, ex.drop(columns="exposure"))
    with pytest.raises(InputError, match="no column `study`"):
        harmonise_many(ex, ex, by="study")
    many = harmonise_many(ex.iloc[:1], ex.drop(columns="exposure"))
    assert many.pair("a").log["kept"] == 1
    with pytest.raises(InputError, match="no exposure 'b'"):
        many.pair("b")


def test_isin_on_a_long_str_column_equals_the_object_path():
    """With few wanted values the str dtype's own isin is used: the same answer."""
    values = pd.Series([f"rs{i}" for i in range(100_001)] + [None], dtype="str")
    wanted = {"rs5", "rs100000", "nowhere"}
    got = isin(values, wanted)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, isin(values.to_numpy(object)[:], wanted))
    assert list(np.flatnonzero(got)) == [5, 100_000]
