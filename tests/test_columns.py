"""The shared names of _core/columns: aliases agree with each other, helpers behave."""

from __future__ import annotations

import pandas as pd
import pytest

from mrkit._core.columns import (
    BUILDS,
    CHR_CODES,
    CHR_RANK,
    HARMONISED_ALIASES,
    HARMONISED_COLUMNS,
    HARMONISED_REQUIRED,
    SUMSTATS_ALIASES,
    SUMSTATS_COLUMNS,
    VARIANT_ALIASES,
    canonical_columns,
    normalise_build,
    normalise_chr,
)
from mrkit.errors import InputError

#: Reader roles of SUMSTATS_ALIASES under their table column names.
ROLE = {"effect_allele": "ea", "other_allele": "oa"}


def test_variant_aliases_are_sumstats_aliases_of_the_same_column():
    for column, names in VARIANT_ALIASES.items():
        assert column in SUMSTATS_COLUMNS
        assert names[0] == column
        assert set(names) <= set(SUMSTATS_ALIASES[ROLE.get(column, column)]), column


def test_sumstats_aliases_are_lower_case_and_unique_per_role():
    for role, names in SUMSTATS_ALIASES.items():
        assert all(n == n.lower() for n in names), role
        assert len(set(names)) == len(names), role


def test_harmonised_schema():
    assert set(HARMONISED_REQUIRED) <= set(HARMONISED_COLUMNS)
    assert HARMONISED_COLUMNS[-2:] == ("keep", "reason")
    for c in HARMONISED_COLUMNS:
        if c not in ("palindromic", "proxy_snp", "proxy_r2", "keep", "reason"):
            assert c.removesuffix("_exposure").removesuffix("_outcome") in SUMSTATS_COLUMNS
    # every required column has a TwoSampleMR spelling
    assert {f"{c.split('_')[0]}.{c.split('_')[1]}" for c in HARMONISED_REQUIRED} <= set(
        HARMONISED_ALIASES
    )


def test_canonical_columns_any_case_first_alias_wins():
    t = pd.DataFrame(columns=["RSID", "ID", "Chrom", "BP", "A1", "A2", "PVAL", "beta"])
    out = canonical_columns(t)
    assert list(out.columns) == [
        "snp", "ID", "chr", "pos", "effect_allele", "other_allele", "p", "beta",
    ]  # fmt: skip
    assert t.columns[0] == "RSID"  # the input is not changed


def test_canonical_columns_needs_a_variant_column():
    with pytest.raises(InputError, match="needs a `snp` column"):
        canonical_columns(pd.DataFrame({"beta": [0.1]}))


@pytest.mark.parametrize(
    ("raw", "name"),
    [("1", "1"), (" chr2 ", "2"), ("CHR23", "X"), ("24", "Y"), ("25", "XY"), ("26", "MT"),
     ("chrM", "MT"), ("mt", "MT"), ("x", "X"), ("6_apd_hap1", "6_APD_HAP1")],
)  # fmt: skip
def test_normalise_chr(raw, name):
    assert normalise_chr(raw) == name


def test_chromosome_codes_and_ranks_agree():
    assert set(CHR_CODES.values()) == set(CHR_RANK)
    for code, name in CHR_CODES.items():
        if code.isdigit():
            assert CHR_RANK[name] == int(code)


def test_normalise_build():
    assert normalise_build(" hg19 ") == "GRCh37"
    assert normalise_build("b38") == "GRCh38"
    assert normalise_build(None) is None
    assert set(BUILDS.values()) == {"GRCh37", "GRCh38", "NCBI36"}
    with pytest.raises(InputError, match="unknown genome build"):
        normalise_build("hg17")
