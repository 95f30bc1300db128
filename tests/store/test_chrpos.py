"""Lookup keys: chromosome names are spelled as the store spells them."""

from __future__ import annotations

import pandas as pd
import pytest

from mrkit.errors import InputError
from mrkit.store._chrpos import chrpos_frame


def test_string_keys_normalised():
    out = chrpos_frame(["chr23:100", "x:5:a:g", "chrM_7", "1:12345"])
    assert out["chr"].tolist() == ["X", "X", "MT", "1"]
    assert out["pos"].tolist() == [100, 5, 7, 12345]
    assert out["a1"].tolist()[1] == "A"
    assert out["a2"].tolist()[1] == "G"


def test_string_keys_without_alleles_have_two_columns():
    assert list(chrpos_frame(["1:2", "2:3"]).columns) == ["chr", "pos"]


def test_frame_keys_normalised():
    keys = pd.DataFrame(
        {"chr": ["chr1", "23", 6], "pos": [1, 2, 3], "effect_allele": ["a", "C", "g"]}
        | {"other_allele": ["T", "t", "A"]}
    )
    out = chrpos_frame(keys)
    assert out["chr"].tolist() == ["1", "X", "6"]
    assert out["a1"].tolist() == ["A", "C", "G"]
    assert out["a2"].tolist() == ["T", "T", "A"]


@pytest.mark.parametrize("key", ["1", "1:x", "1:2:A"])
def test_bad_key(key):
    with pytest.raises(InputError, match="bad chr:pos key"):
        chrpos_frame([key])
