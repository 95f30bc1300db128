"""Harmonisation against TwoSampleMR 0.7.9 ``harmonise_data()`` reference outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import REFERENCE, requires_shared
from mrkit.harmonise import alleles as al
from mrkit.harmonise.core import from_twosamplemr, harmonise

DATA_DIR = REFERENCE / "data"
EXTRA = REFERENCE / "extra"

pytestmark = requires_shared


def _bmi_chd():
    ex = from_twosamplemr(pd.read_csv(DATA_DIR / "tsmr_bmi_ieu-a-2_exposure_raw.csv"), "exposure")
    oc = from_twosamplemr(pd.read_csv(DATA_DIR / "tsmr_chd_ieu-a-7_outcome_raw.csv"), "outcome")
    return ex, oc


def _reference_json() -> dict:
    with open(REFERENCE / "results" / "harmonisation_reference.json") as fh:
        return json.load(fh)["results"]


def _missing(x) -> bool:
    return x is None or x != x


def _same(a, b) -> bool:
    a, b = pd.Series(a).to_numpy(object), pd.Series(b).to_numpy(object)
    pairs = zip(a, b, strict=True)
    return all((_missing(x) and _missing(y)) or x == y for x, y in pairs)


@pytest.mark.parametrize("action", [1, 2, 3])
def test_bmi_chd_matches_twosamplemr(action):
    """``harmonise_data(bmi_exp_dat, chd_out_dat, action = k)`` (TwoSampleMR 0.7.9)."""
    ex, oc = _bmi_chd()
    res = harmonise(ex, oc, action=action, exposure_id="ieu-a-2", outcome_id="ieu-a-7")
    ref = pd.read_csv(DATA_DIR / f"tsmr_bmi_chd_harmonised_action{action}_full.csv")
    t = res.table.set_index("snp").loc[ref["SNP"]]
    assert len(res.table) == len(ref) == 79
    np.testing.assert_array_equal(t["mr_keep"], ref["mr_keep"])
    np.testing.assert_array_equal(t["keep"], ref["mr_keep"])
    for ours, theirs in [
        ("beta_exposure", "beta.exposure"),
        ("beta_outcome", "beta.outcome"),
        ("eaf_exposure", "eaf.exposure"),
        ("eaf_outcome", "eaf.outcome"),
        ("se_outcome", "se.outcome"),
    ]:
        np.testing.assert_allclose(t[ours], ref[theirs], rtol=1e-12, atol=0)
    for ours, theirs in [
        ("effect_allele", "effect_allele.exposure"),
        ("other_allele", "other_allele.exposure"),
        ("effect_allele_outcome", "effect_allele.outcome"),
        ("other_allele_outcome", "other_allele.outcome"),
    ]:
        assert _same(t[ours], ref[theirs]), ours
    for col in ("palindromic", "ambiguous", "remove"):
        np.testing.assert_array_equal(t[col], ref[col])

    jref = _reference_json()[f"bmi_chd_action{action}"]
    assert int(t["mr_keep"].sum()) == jref["n_mr_keep"]
    assert int(t["palindromic"].sum()) == jref["n_palindromic"]
    assert int(t["ambiguous"].sum()) == jref["n_ambiguous"]
    assert int(t["remove"].sum()) == jref["n_remove"]
    dropped = sorted(res.table.loc[~res.table["mr_keep"], "snp"])
    assert dropped == sorted(jref["mr_keep_false_snps"])
    assert res.tsmr_log == jref["log"]
    assert res.log["total_variants_for_mr"] == jref["log"][0]["total_variants_for_mr"]
    if action == 3:
        assert set(res.table.loc[~res.table["keep"], "reason"]) == {"palindromic (action 3)"}


@pytest.mark.parametrize("action", [1, 2, 3])
def test_allele_cases_match_twosamplemr(action):
    """TwoSampleMR's allele cases: ``harmonise_22(..., tolerance = 0.08, action = k)``."""
    c = pd.read_csv(DATA_DIR / "tsmr_alleles_harmonise_cases.csv")
    ex = pd.DataFrame(
        {"snp": c.SNP, "effect_allele": c.A1, "other_allele": c.A2, "beta": c.betaA,
         "se": 0.1, "eaf": c.fA}
    )  # fmt: skip
    oc = pd.DataFrame(
        {"snp": c.SNP, "effect_allele": c.B1, "other_allele": c.B2, "beta": c.betaB,
         "se": 0.1, "eaf": c.fB}
    )  # fmt: skip
    res = harmonise(ex, oc, action=action)
    ref = pd.read_csv(DATA_DIR / f"tsmr_alleles_harmonise_22_action{action}.csv")
    t = res.table
    assert list(t["snp"]) == list(ref["SNP"])
    # bit-for-bit: same operations in the same order as R
    np.testing.assert_array_equal(t["beta_outcome"], ref["beta.outcome"])
    np.testing.assert_array_equal(t["eaf_outcome"], ref["eaf.outcome"])
    np.testing.assert_array_equal(t["beta_exposure"], ref["beta.exposure"])
    for ours, theirs in [
        ("effect_allele", "effect_allele.exposure"),
        ("other_allele", "other_allele.exposure"),
        ("effect_allele_outcome", "effect_allele.outcome"),
        ("other_allele_outcome", "other_allele.outcome"),
    ]:
        assert list(t[ours]) == list(ref[theirs]), ours
    for col in ("remove", "palindromic", "ambiguous"):
        np.testing.assert_array_equal(t[col], ref[col])
    # the sign the TwoSampleMR authors expected, where alleles are compatible
    ok = ~t["remove"].to_numpy()
    exp_sign = ref["expected_sign"].to_numpy()[ok]
    if action == 2:  # f, g: palindromic at 0.5, left as they come
        np.testing.assert_array_equal(np.sign(t["beta_outcome"].to_numpy()[ok]), exp_sign)
    keep_expected = {
        1: ~ref["remove"],
        2: ~(ref["remove"] | ref["ambiguous"]),
        3: ~(ref["remove"] | ref["ambiguous"] | ref["palindromic"]),
    }[action]
    np.testing.assert_array_equal(t["keep"], keep_expected)
    log = res.tsmr_log[0]
    assert log["switched_alleles"] == 4  # b, g, h, l
    assert log["flipped_alleles_basic"] == 3  # c, i, j
    assert log["incompatible_alleles"] == 1
    assert log["flipped_alleles_palindrome"] == (2 if action == 2 else 0)


# rows of TwoSampleMR tests/test_indels.r (A1, A2, B1, B2) and the keep flags it expects
INDEL_ROWS = [
    ("A", "AT", "AT", "A"), ("A", "AT", "A", "AT"), ("A", "AT", "D", "I"), ("A", "AT", "I", "D"),
    ("AT", "A", "D", "I"), ("AT", "A", "I", "D"), ("D", "I", "AT", "A"), ("D", "I", "A", "AT"),
    ("I", "D", "AT", "A"), ("I", "D", "A", "AT"), ("I", "D", "AT", "AT"), ("I", "D", "D", "I"),
]  # fmt: skip


def test_recode_indels_keep_flags():
    """``recode_indels_22/21/12`` keep flags of TwoSampleMR ``tests/test_indels.r``."""
    cols = [np.array(c, dtype=object) for c in zip(*INDEL_ROWS, strict=True)]
    *_, keep22 = al.recode_indels_22(cols[0], cols[1], cols[2], cols[3])
    *_, keep21 = al.recode_indels_21(cols[0], cols[1], cols[2])
    *_, keep12 = al.recode_indels_12(cols[0], cols[2], cols[3])
    t, f = True, False
    assert list(keep22) == [t, t, t, t, t, t, t, t, t, t, f, t]
    assert list(keep21) == [t, t, t, t, t, t, f, f, f, f, f, f]
    assert list(keep12) == [t, t, f, f, f, f, t, t, t, t, f, f]


def test_recode_indels_22_sequences():
    """D/I outcome alleles take the exposure's sequences by length, and vice versa."""
    a1, a2, b1, b2, keep = al.recode_indels_22(
        np.array(["GAAAA", "GAAAA", "D", "I"], object),
        np.array(["G", "G", "I", "D"], object),
        np.array(["I", "D", "G", "G"], object),
        np.array(["D", "I", "GAAAA", "GAAAA"], object),
    )
    assert list(b1[:2]) == ["GAAAA", "G"]
    assert list(b2[:2]) == ["G", "GAAAA"]
    assert list(a1[2:]) == ["G", "GAAAA"]
    assert list(a2[2:]) == ["GAAAA", "G"]
    assert keep.all()


@pytest.mark.parametrize("outcome_file", ["cardiogram", "bladdercancer"])
def test_twosamplemr_extdata_fixtures(outcome_file):
    """TwoSampleMR ``inst/extdata`` telomere length -> CARDIoGRAM / bladder cancer."""
    ex = from_twosamplemr(pd.read_csv(EXTRA / "tsmr_telomere_length_exposure_raw.csv"))
    oc = from_twosamplemr(
        pd.read_csv(EXTRA / f"tsmr_{outcome_file}_outcome_raw.csv"), side="outcome"
    )
    for action in (1, 2, 3):
        res = harmonise(ex, oc, action=action)
        t = res.table
        assert len(t) == len(ex) == 31
        # every variant has the exposure's alleles on both sides once harmonised
        assert (t["effect_allele"] == t["effect_allele_outcome"]).all()
        assert (t["other_allele"] == t["other_allele_outcome"]).all()
        raw = oc.set_index("snp").loc[t["snp"]]
        same = (raw["effect_allele"].to_numpy() == t["effect_allele"].to_numpy()).astype(bool)
        sign = np.where(same, 1.0, -1.0)
        if action != 2:
            np.testing.assert_array_equal(t["beta_outcome"], sign * raw["beta"].to_numpy())
        n_pal = int(t["palindromic"].sum())
        assert res.log["total_variants_for_mr"] == (31 - n_pal if action == 3 else 31)
        assert res.log["switched_alleles"] == int((~same).sum())
