"""Harmonisation rules by hand (one-allele cases, INDELs, drops, proxies), properties, CLI.

Expected values are traced by hand through TwoSampleMR 0.7.9 ``R/harmonise.R``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrkit.errors import InputError
from mrkit.harmonise.core import from_twosamplemr, harmonise

N = None


def _tab(snp, ea, oa, beta, eaf, se=0.1, **extra):
    k = len(snp)
    d = {"snp": snp, "effect_allele": ea, "other_allele": oa, "beta": beta, "se": [se] * k}
    d["eaf"] = eaf
    d.update(extra)
    return pd.DataFrame(d)


def _row(res, snp):
    t = res.table
    return t[t["snp"] == snp].iloc[0]


def test_outcome_without_other_allele_21():
    """The 2-1 case: match, reversed, other strand, palindrome (TwoSampleMR ``harmonise_21``)."""
    ex = _tab(list("abcdef"), list("AAAAAA"), list("GGGGGT"), [1.0] * 6, [0.2] * 5 + [0.2])
    oc = _tab(list("abcdef"), list("AGTCAA"), [N] * 6, [0.5] * 6, [0.2, 0.8, 0.2, 0.8, 0.5, 0.2])
    res = harmonise(ex, oc, action=2)
    t = res.table.set_index("snp")
    assert (t["alleles"] == "2-1").all()
    assert list(t["effect_allele_outcome"]) == ["A", "A", "A", "A", "A", "A"]
    assert list(t["other_allele_outcome"][:5]) == ["G"] * 5
    np.testing.assert_array_equal(t["beta_outcome"], [0.5, -0.5, 0.5, -0.5, 0.5, 0.5])
    assert list(t["ambiguous"]) == [False, False, True, True, True, True]
    assert list(t["remove"]) == [False] * 5 + [True]
    assert list(t["keep"]) == [True, True, False, False, False, False]
    assert t.loc["f", "reason"] == "palindromic, other allele missing"
    assert t.loc["c", "reason"] == "ambiguous alleles, frequency does not confirm"
    log = res.tsmr_log[0]
    assert log["alleles"] == "2-1"
    assert log["switched_alleles"] == 1
    assert log["flipped_alleles_no_oa"] == 2
    assert "flipped_alleles_basic" not in log
    # action 1 ignores frequency ambiguity; only ``remove`` drops
    assert list(harmonise(ex, oc, action=1).table["keep"]) == [True] * 5 + [False]


def test_exposure_without_other_allele_12():
    """The 1-2 case, including R's outcome swap after an exposure strand flip."""
    ex = _tab(list("abcde"), list("AGTCA"), [N] * 5, [1.0] * 5, [0.2, 0.8, 0.2, 0.2, 0.2])
    oc = _tab(list("abcde"), list("AAAAA"), list("GGGGT"), [0.5] * 5, [0.2] * 5)
    res = harmonise(ex, oc, action=1)
    t = res.table.set_index("snp")
    assert (t["alleles"] == "1-2").all()
    assert list(t["effect_allele"]) == ["A", "A", "A", "G", "A"]
    assert list(t["other_allele"][:3]) == ["G", "G", "G"]
    assert pd.isna(t.loc["d", "other_allele"])  # R leaves it missing
    # b: the exposure is re-expressed on the outcome's effect allele
    assert t.loc["b", "beta_exposure"] == -1.0
    assert t.loc["b", "eaf_exposure"] == 1 - 0.8
    # d: exposure C flipped to G, then the outcome is swapped onto G
    assert (t.loc["d", "effect_allele_outcome"], t.loc["d", "other_allele_outcome"]) == ("G", "A")
    assert t.loc["d", "beta_outcome"] == -0.5
    assert t.loc["d", "eaf_outcome"] == 0.8
    assert list(t["ambiguous"]) == [False, False, True, True, True]
    assert list(t["remove"]) == [False] * 4 + [True]
    assert list(t["keep"]) == [True] * 4 + [False]
    assert res.tsmr_log[0]["switched_alleles"] == 1
    assert res.tsmr_log[0]["flipped_alleles_no_oa"] == 2


def test_one_allele_each_11():
    """The 1-1 case: same allele kept unless frequencies are uninformative; else removed."""
    ex = _tab(list("abc"), list("AAA"), [N] * 3, [1.0] * 3, [0.2, 0.2, 0.5])
    oc = _tab(list("abc"), list("AGA"), [N] * 3, [0.5] * 3, [0.2, 0.2, 0.5])
    t = harmonise(ex, oc, action=2).table
    assert list(t["alleles"]) == ["1-1"] * 3
    assert list(t["remove"]) == [False, True, False]
    assert list(t["ambiguous"]) == [False, False, True]
    assert list(t["keep"]) == [True, False, False]
    assert list(t["reason"]) == [
        "",
        "incompatible alleles",
        "ambiguous alleles, frequency does not confirm",
    ]


def test_mixed_cases_log_rows_in_r_order():
    """One log record per allele case present, in R's order 2-2, 2-1, 1-2, 1-1."""
    ex = _tab(list("wxyz"), list("AAAA"), ["G", "G", N, N], [1.0] * 4, [0.2] * 4)
    oc = _tab(list("zyxw"), list("AAAA"), [N, "G", N, "G"], [0.5] * 4, [0.2] * 4)
    res = harmonise(ex, oc)
    assert [r["alleles"] for r in res.tsmr_log] == ["2-2", "2-1", "1-2", "1-1"]
    assert all(r["total_variants"] == 4 for r in res.tsmr_log)
    assert res.tsmr_log[0]["flipped_alleles_no_oa"] is None  # rbind.fill's NA


def test_indels_di_coding():
    """INDELs: D/I against sequences (2-2 and 2-1), equal-length sequences dropped."""
    ex = _tab(list("abcde"), ["GAAAA", "GAAAA", "D", "I", "GAAAA"], ["G", "G", "I", "D", "G"],
              [1.0] * 5, [0.2] * 5)  # fmt: skip
    oc = _tab(list("abcde"), ["I", "D", "G", "AT", "D"], ["D", "I", "GAAAA", "AG", N],
              [0.5] * 5, [0.2, 0.8, 0.2, 0.2, 0.8])  # fmt: skip
    t = harmonise(ex, oc).table.set_index("snp")
    assert list(t["effect_allele"]) == ["GAAAA", "GAAAA", "G", "I", "GAAAA"]
    assert list(t["effect_allele_outcome"][:3]) == ["GAAAA", "GAAAA", "G"]
    np.testing.assert_array_equal(t["beta_outcome"], [0.5, -0.5, 0.5, 0.5, -0.5])
    assert list(t["keep"]) == [True, True, True, False, True]
    assert t.loc["d", "reason"] == "incompatible alleles"
    assert t.loc["e", "alleles"] == "2-1"


def test_rows_are_never_deleted():
    """Absent, missing-allele, missing-se and duplicate rows stay with their reason."""
    ex = _tab(["r1", "r2", "r3", "r4", "r5", "r1", N], list("AAAAAAA"), list("GGGGGGG"),
              [1.0] * 7, [0.2] * 7)  # fmt: skip
    ex.loc[3, "se"] = np.nan
    oc = _tab(["r1", "r3", "r4", "r5", "r5"], ["A", N, "A", "A", "A"], list("GGGCG"),
              [0.5] * 5, [0.2] * 5)  # fmt: skip
    res = harmonise(ex, oc)
    t = res.table
    assert len(t) == 8  # r5 twice in the outcome: both matches kept as rows
    assert list(t["reason"]) == [
        "",
        "not in outcome",
        "missing effect allele",
        "missing beta or se",
        "incompatible alleles",
        "",
        "duplicate SNP",
        "missing SNP id",
    ]
    assert list(t["mr_keep"]) == [True, False, False, False, False, True, True, False]
    assert res.log["kept"] == 2
    assert res.log["duplicate_snps"] == 1
    assert res.log["candidate_variants"] == 7
    assert res.log["absent_from_outcome"] == 2
    # R drops rows without an effect allele: absent = candidates - rows returned
    assert res.log["total_variants"] == 5
    assert res.tsmr_log[0]["variants_absent_from_reference"] == 2
    assert res.log["total_variants_for_mr"] == 3


def test_no_overlap_and_errors():
    ex = _tab(["a"], ["A"], ["G"], [1.0], [0.2])
    oc = _tab(["b"], ["A"], ["G"], [1.0], [0.2])
    res = harmonise(ex, oc)
    assert list(res.table["reason"]) == ["not in outcome"]
    assert res.tsmr_log == []
    assert res.log["total_variants"] == 0
    with pytest.raises(InputError, match="action"):
        harmonise(ex, oc, action=4)
    with pytest.raises(InputError, match="lacks column"):
        harmonise(ex.drop(columns="se"), oc)


def test_empty_exposure_gives_an_empty_table():
    """An exposure with no instrument left harmonises to no rows, not a traceback."""
    ex = _tab([], [], [], [], [])
    oc = _tab(["b"], ["A"], ["G"], [1.0], [0.2])
    res = harmonise(ex, oc)
    assert len(res.table) == 0
    assert {"keep", "reason"} <= set(res.table.columns)
    assert res.log["total_variants"] == 0


def test_tolerance_boundaries():
    """Ambiguity is strict: 0.42 and 0.58 are informative; 0.4201 is not."""
    eaf = [0.42, 0.58, 0.4201, 0.5799]
    ex = _tab(list("abcd"), list("AAAA"), list("TTTT"), [1.0] * 4, eaf)
    oc = _tab(list("abcd"), list("AAAA"), list("TTTT"), [0.5] * 4, [0.2] * 4)
    t = harmonise(ex, oc).table
    assert list(t["ambiguous"]) == [False, False, True, True]
    wide = harmonise(ex, oc, palindrome_tolerance=0.2).table
    assert wide["ambiguous"].all()


def test_proxies_relabel_outcome_rows():
    """A proxy's outcome row is relabelled to the target with alleles mapped by phase."""
    ex = _tab(["t1", "t2", "t3", "k"], list("AAAA"), list("GGGG"), [0.1] * 4, [0.2] * 4)
    oc = _tab(["p1", "p2", "p3", "p4", "k"], ["T", "A", "T", "G", "A"], ["C", "G", "C", "T", "G"],
              [0.3, 0.4, 0.5, 0.6, 0.7], [0.8] * 5)  # fmt: skip
    proxies = pd.DataFrame(
        {
            "target_snp": ["t1", "t1", "t2", "t2", "t3"],
            "proxy_snp": ["p1", "pX", "p2", "p3", "p4"],
            "r2": [0.9, 0.99, 0.95, 0.85, 0.8],
            "target_effect_allele": ["A", "A", "A", "A", "A"],
            "target_other_allele": ["G", "G", "G", "G", "G"],
            "proxy_effect_allele": ["C", "C", "G", "C", "C"],
            "proxy_other_allele": ["T", "T", "T", "T", "A"],
        }
    )
    res = harmonise(ex, oc, proxies=proxies)
    t = res.table.set_index("snp")
    # t1: pX not in the outcome; p1 T/C -> target G/A -> swapped onto A
    assert t.loc["t1", "proxy_snp"] == "p1"
    assert t.loc["t1", "proxy_r2"] == 0.9
    assert t.loc["t1", "beta_outcome"] == -0.3
    assert t.loc["t1", "eaf_outcome"] == pytest.approx(0.2)
    # t2: p2 (A/G) maps on G/T on neither strand; the next best, p3, is used
    assert t.loc["t2", "proxy_snp"] == "p3"
    assert t.loc["t2", "beta_outcome"] == -0.5
    # t3: outcome G/T is the other strand of proxy C/A -> target A/G, as the exposure
    assert t.loc["t3", "proxy_snp"] == "p4"
    assert t.loc["t3", "beta_outcome"] == 0.6
    assert pd.isna(t.loc["k", "proxy_snp"])
    assert not t.loc["k", "proxy"]
    assert t["keep"].all()
    assert res.log["proxy_variants"] == 3
    assert harmonise(ex, oc).log["absent_from_outcome"] == 3


def test_from_twosamplemr_names():
    df = pd.DataFrame(
        {"SNP": ["rs1"], "beta.outcome": [0.1], "se.outcome": [0.01], "effect_allele.outcome":
         ["a"], "other_allele.outcome": ["g"], "eaf.outcome": [0.3], "pval.outcome": [1e-3],
         "samplesize.outcome": [1000], "id.outcome": ["ieu-a-7"], "chr": ["1"], "pos": [10]}
    )  # fmt: skip
    t = from_twosamplemr(df, "outcome")
    assert t.attrs["id"] == "ieu-a-7"
    row = t.iloc[0]
    assert (row["snp"], row["effect_allele"], row["other_allele"]) == ("rs1", "A", "G")
    assert (row["beta"], row["se"], row["eaf"], row["p"], row["n"]) == (0.1, 0.01, 0.3, 1e-3, 1000)
    assert row["chr"] == "1"
    with pytest.raises(InputError, match="no column"):
        from_twosamplemr(df, "exposure")


# ------------------------------------------------------------------------- properties

BASES = "ACGT"
PAIRS = [(a, b) for a in BASES for b in BASES if a != b]
COMP = str.maketrans("ACGT", "TGCA")


@st.composite
def _pairs(draw):
    n = draw(st.integers(1, 12))
    rows = []
    for i in range(n):
        a1, a2 = draw(st.sampled_from(PAIRS))
        kind = draw(st.sampled_from(["same", "swap", "flip", "flipswap", "other"]))
        if kind == "other":
            b1, b2 = draw(st.sampled_from(PAIRS))
        else:
            b1, b2 = (a1, a2) if kind in ("same", "flip") else (a2, a1)
            if kind.startswith("flip"):
                b1, b2 = b1.translate(COMP), b2.translate(COMP)
        fa = draw(st.integers(1, 127)) / 128  # dyadic: 1 - (1 - f) == f exactly
        fb = draw(st.integers(1, 127)) / 128
        ba = draw(st.floats(-1, 1, allow_nan=False))
        bb = draw(st.floats(-1, 1, allow_nan=False))
        rows.append((f"rs{i}", a1, a2, ba, fa, b1, b2, bb, fb, draw(st.booleans())))
    return rows


@settings(max_examples=60, deadline=None)
@given(_pairs(), st.sampled_from([1, 2, 3]))
def test_swapping_outcome_alleles_changes_nothing(rows, action):
    """Swap an outcome SNP's alleles (negate beta, 1 - eaf): the same harmonised result."""
    snp, a1, a2, ba, fa, b1, b2, bb, fb, sw = map(list, zip(*rows, strict=True))
    ex = _tab(snp, a1, a2, ba, fa)
    oc = _tab(snp, b1, b2, bb, fb)
    sw = np.array(sw)
    oc2 = oc.copy()
    oc2["effect_allele"] = np.where(sw, b2, b1)
    oc2["other_allele"] = np.where(sw, b1, b2)
    oc2["beta"] = np.where(sw, -np.array(bb), bb)
    oc2["eaf"] = np.where(sw, 1 - np.array(fb), fb)
    t1 = harmonise(ex, oc, action=action).table
    t2 = harmonise(ex, oc2, action=action).table
    flags = ["keep", "reason", "palindromic", "ambiguous", "remove", "mr_keep"]
    pd.testing.assert_frame_equal(t1[flags], t2[flags])
    values = ["effect_allele", "other_allele", "effect_allele_outcome", "other_allele_outcome",
              "beta_exposure", "beta_outcome", "eaf_outcome"]  # fmt: skip
    ok = ~t1["remove"].to_numpy()  # incompatible rows are left as they come
    pd.testing.assert_frame_equal(t1.loc[ok, values], t2.loc[ok, values])
    ok = t1["keep"].to_numpy()
    assert (t1.loc[ok, "effect_allele"] == t1.loc[ok, "effect_allele_outcome"]).all()


@settings(max_examples=40, deadline=None)
@given(_pairs())
def test_other_strand_for_non_palindromic(rows):
    """Reporting the outcome on the other strand changes nothing for non-palindromic SNPs."""
    snp, a1, a2, ba, fa, b1, b2, bb, fb, _ = map(list, zip(*rows, strict=True))
    ex = _tab(snp, a1, a2, ba, fa)
    oc = _tab(snp, b1, b2, bb, fb)
    oc2 = oc.assign(
        effect_allele=[x.translate(COMP) for x in b1], other_allele=[x.translate(COMP) for x in b2]
    )
    t1, t2 = harmonise(ex, oc).table, harmonise(ex, oc2).table
    non_pal = ~t1["palindromic"].to_numpy() & ~t1["remove"].to_numpy()
    cols = ["keep", "reason", "beta_outcome", "eaf_outcome", "effect_allele"]
    pd.testing.assert_frame_equal(t1.loc[non_pal, cols], t2.loc[non_pal, cols])


# ------------------------------------------------------------------------- CLI


def test_cli_harmonise(tmp_path):
    """``mrkit harmonise EXPOSURE OUTCOME --action 2 --out out.csv`` on TwoSampleMR tables."""
    from conftest import REFERENCE
    from mrkit.cli import main

    data = REFERENCE / "data"
    exp = data / "tsmr_bmi_ieu-a-2_exposure_raw.csv"
    out = data / "tsmr_chd_ieu-a-7_outcome_raw.csv"
    if not exp.is_file():
        pytest.skip("../shared/reference not present")
    dest = tmp_path / "h.tsv"
    assert main(["harmonise", str(exp), str(out), "--action", "3", "--out", str(dest)]) == 0
    got = pd.read_csv(dest, sep="\t")
    assert len(got) == 79
    assert int(got["keep"].sum()) == 75
    assert set(got.loc[~got["keep"], "snp"]) == {"rs14810", "rs17001654", "rs9304665", "rs9579083"}
    pq = tmp_path / "h.parquet"
    assert main(["harmonise", str(exp), str(out), "--out", str(pq)]) == 0
    assert pd.read_parquet(pq)["keep"].all()
    assert main(["harmonise", str(exp), str(out), "--action", "4", "--out", str(dest)]) == 2
    assert main(["harmonise", str(exp), str(out), "--out", str(tmp_path / "h.xlsx")]) == 2
    assert not (tmp_path / "h.xlsx").exists()


def test_cli_harmonise_store_ids(tmp_path):
    """EXPOSURE/OUTCOME as ids of GWAS imported into a store."""
    from conftest import REFERENCE
    from mrkit.cli import main

    data = REFERENCE / "data"
    if not data.is_dir():
        pytest.skip("../shared/reference not present")
    store = str(tmp_path / "s.duckdb")
    for gwas, path in [("bmi", "tsmr_bmi_ieu-a-2_exposure_raw.csv"),
                       ("chd", "tsmr_chd_ieu-a-7_outcome_raw.csv")]:  # fmt: skip
        args = ["import", str(data / path), "--store", store, "--id", gwas, "--trait", gwas]
        assert main(args) == 0
    dest = tmp_path / "h.csv"
    assert main(["harmonise", "bmi", "chd", "--store", store, "--out", str(dest)]) == 0
    got = pd.read_csv(dest).set_index("snp")
    ref = pd.read_csv(data / "tsmr_bmi_chd_harmonised_action2_full.csv").set_index("SNP")
    np.testing.assert_array_equal(got.loc[ref.index, "keep"], ref["mr_keep"])
    np.testing.assert_allclose(got.loc[ref.index, "beta_outcome"], ref["beta.outcome"], rtol=1e-12)
    assert main(["harmonise", "bmi", "nosuch", "--store", store, "--out", str(dest)]) == 2
