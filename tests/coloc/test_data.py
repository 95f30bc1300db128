"""DATA files for colocalisation: coloc's columns, aliases, per-dataset values, clear errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from coloc_ref import COLOC, dataset, find_call

from mrkit.coloc.abf import coloc_abf
from mrkit.coloc.data import DataFileError, as_dataset, read_dataset
from mrkit.coloc.ld import align_alleles
from mrkit.errors import InputError, StatisticalWarning

pytestmark = pytest.mark.skipif(not COLOC.is_dir(), reason="../shared/reference/coloc absent")
D1 = COLOC / "data" / "test_D1.csv"


def _pp(summary: dict) -> list[float]:
    return [summary[f"PP.H{h}.abf"] for h in range(5)]


def test_reads_back_bit_for_bit() -> None:
    d = read_dataset(D1)
    ref = dataset("D1")
    assert list(d.snp) == list(ref["snp"])
    assert np.array_equal(d.beta, ref["beta"])
    assert np.array_equal(d.varbeta, ref["varbeta"])
    assert d.sdy == ref["sdY"]
    assert d.n is not None
    assert np.all(d.n == ref["N"])
    assert d.type == "quant"
    assert d.s is None  # an empty column is absent


def test_empty_sdy_column_estimates_it(tmp_path: Path) -> None:
    t = pd.read_csv(D1)
    t["sdY"] = ""
    t.to_csv(tmp_path / "nosdy.csv", index=False)
    d = read_dataset(tmp_path / "nosdy.csv")
    assert d.sdy is None
    with pytest.warns(StatisticalWarning, match="sdY estimated"):
        res = coloc_abf(d, read_dataset(COLOC / "data" / "test_D2.csv"))
    want = find_call("abf_D1nosdY_D2_default")["result"]["summary"]
    np.testing.assert_allclose(res.pp, _pp(want), rtol=1e-6)
    assert any("sdY" in n for n in res.notes)


def _write(tmp_path: Path, t: pd.DataFrame, name: str = "bad.csv") -> Path:
    p = tmp_path / name
    t.to_csv(p, index=False)
    return p


@pytest.mark.parametrize(
    ("column", "row", "value", "message"),
    [
        ("beta", 4, "", r"line 6, column `beta`: value is missing"),
        ("varbeta", 0, "-0.1", r"line 2, column `varbeta`: must be positive, got -0.1"),
        ("pvalues", 9, "1.5", r"line 11, column `pvalues`: must be in \(0, 1\], got 1.5"),
        ("N", 3, "999", r"line 5, column `N`: `N` is one value per dataset"),
        ("type", 2, "binary", r"line 4, column `type`: `type` must be quant or cc"),
        ("snp", 7, "s1", r"line 9, column `snp`: SNP s1 appears twice \(also on line 2\)"),
        ("MAF", 1, "0", r"line 3, column `MAF`: MAF must be strictly between 0 and 1"),
        ("sdY", 5, "abc", r"line 7, column `sdY`: not a number \('abc'\)"),
    ],
)
def test_bad_values_name_line_and_column(
    tmp_path: Path, column: str, row: int, value: str, message: str
) -> None:
    t = pd.read_csv(D1, dtype=str, keep_default_na=False)
    t.loc[row, column] = value
    with pytest.raises(DataFileError, match=r"bad\.csv, " + message):
        read_dataset(_write(tmp_path, t))


def test_incomplete_datasets(tmp_path: Path) -> None:
    t = pd.read_csv(D1)
    only_p = t[["snp", "pvalues", "type"]]
    with pytest.raises(DataFileError, match="give beta and varbeta, or pvalues with MAF and N"):
        read_dataset(_write(tmp_path, only_p))
    no_n = t[["snp", "pvalues", "MAF", "type"]]
    with pytest.raises(DataFileError, match="p-values need the sample size `N`"):
        read_dataset(_write(tmp_path, no_n))
    cc = t[["snp", "pvalues", "MAF", "N"]].assign(type="cc")
    with pytest.raises(DataFileError, match="case-control trait need `s`"):
        read_dataset(_write(tmp_path, cc))
    with pytest.raises(DataFileError, match="no SNP column"):
        read_dataset(_write(tmp_path, t.drop(columns=["snp"])))
    with pytest.raises(DataFileError, match="a `beta` column needs `varbeta`"):
        read_dataset(_write(tmp_path, t.drop(columns=["varbeta"])))
    with pytest.raises(DataFileError, match="no such file"):
        read_dataset(tmp_path / "absent.csv")


def test_mapping_errors_name_the_dataset() -> None:
    d = dict(dataset("D1"))
    with pytest.raises(InputError, match="dataset1: `MAF` must be strictly between 0 and 1"):
        as_dataset(d | {"MAF": np.zeros(500)}, "dataset1")
    with pytest.raises(InputError, match="dataset2: missing required element `type`"):
        as_dataset({k: v for k, v in d.items() if k != "type"}, "dataset2")


def test_case_control_with_pvalues() -> None:
    cp = dict(dataset("Cp"))
    assert cp["type"] == "cc"
    res = coloc_abf(dataset("Qb"), cp)
    np.testing.assert_allclose(
        res.pp, _pp(find_call("abf_ccsim_Qb_Cp")["result"]["summary"]), rtol=1e-6
    )


def test_align_alleles_flips_swapped_betas() -> None:
    base = {"snp": ["a", "b", "c"], "beta": [0.1, 0.2, 0.3], "varbeta": [0.01] * 3,
            "type": "quant", "sdY": 1.0}  # fmt: skip
    ref = as_dataset(base | {"effect_allele": ["A", "C", "G"], "other_allele": ["G", "T", "T"]})
    d = as_dataset(base | {"effect_allele": ["a", "T", "G"], "other_allele": ["g", "C", "T"]})
    out, n = align_alleles(d, ref)
    assert n == 1
    assert out.beta is not None
    assert list(out.beta) == [0.1, -0.2, 0.3]
    assert out.effect_allele is not None
    assert list(out.effect_allele) == ["A", "C", "G"]
    bad = as_dataset(base | {"effect_allele": ["A", "C", "A"], "other_allele": ["G", "T", "C"]})
    with pytest.raises(
        InputError, match=r"1 SNP\(s\) have different alleles .* c: A/C against G/T"
    ):
        align_alleles(bad, ref)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same, k = align_alleles(as_dataset(base), ref)  # no alleles: unchanged
    assert k == 0
    assert same.beta is not None
    assert list(same.beta) == [0.1, 0.2, 0.3]
