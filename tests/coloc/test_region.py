"""``mrkit coloc ID1 ID2 --store S --region CHR:START-END``: both traits from the store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from coloc_ref import COLOC, dataset

from mrkit.cli import main
from mrkit.coloc.abf import coloc_abf
from mrkit.coloc.region import load_region, parse_region
from mrkit.errors import InputError, StatisticalWarning
from mrkit.store.catalog import Store

pytestmark = pytest.mark.skipif(not COLOC.is_dir(), reason="../shared/reference/coloc absent")


def test_parse_region() -> None:
    assert parse_region("19:100-200") == ("19", 100, 200)
    assert parse_region(" chrX : 1,000 - 2,000 ") == ("X", 1000, 2000)
    for bad in ("19", "19:200-100", "chr19:a-b", "19:1-2-3"):
        with pytest.raises(InputError, match="--region"):
            parse_region(bad)


def _gwas_file(tmp_path: Path, k: int) -> Path:
    """coloc's test_D<k> as a generic GWAS file on chromosome 19 (positions 1100..51000)."""
    t = pd.read_csv(COLOC / "data" / f"test_D{k}.csv")
    out = pd.DataFrame(
        {"SNP": t["snp"], "CHR": 19, "POS": 1000 + 100 * t["position"], "EA": "A", "OA": "G",
         "EAF": t["MAF"], "BETA": t["beta"], "SE": np.sqrt(t["varbeta"]), "P": t["pvalues"],
         "N": t["N"]}
    )  # fmt: skip
    p = tmp_path / f"d{k}.tsv"
    out.to_csv(p, sep="\t", index=False, float_format="%.17g")
    return p


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "s.duckdb"
    st = Store(path)
    st.import_gwas(_gwas_file(tmp_path, 1), id="D1", trait="trait 1", build="GRCh37")
    st.import_gwas(_gwas_file(tmp_path, 2), id="D2", trait="trait 2", build="GRCh37")
    st.import_gwas(
        _gwas_file(tmp_path, 2), id="C2", trait="cases", ncase=300, ncontrol=700, build="GRCh37"
    )
    del st
    return path


def _expected(rows: slice, **d2: object) -> np.ndarray:
    """coloc_abf on the same SNPs given as coloc lists without sdY (estimated, as coloc)."""

    def cut(name: str) -> dict:
        d = {k: v for k, v in dataset(name).items() if k != "sdY"}
        return {k: (v[rows] if isinstance(v, np.ndarray) else v) for k, v in d.items()}

    with pytest.warns(StatisticalWarning):
        return coloc_abf(cut("D1"), cut("D2") | d2).pp


def test_store_region_abf(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    rc = main(
        [
            "coloc",
            "D1",
            "D2",
            "--store",
            str(store),
            "--region",
            "19:11000-20900",
            "--json",
            str(out),
        ]
    )
    assert rc == 0
    d = json.loads(out.read_text())
    row = d["summary"][0]
    assert row["nsnps"] == 100  # positions 100..199
    np.testing.assert_allclose(
        [row[f"pp_h{h}"] for h in range(5)], _expected(slice(99, 199)), rtol=1e-9
    )
    assert sum("sdY estimated" in n for n in d["notes"]) == 2


def test_store_case_control_from_catalog(store: Path) -> None:
    d = load_region("C2", "19:1000-60000", store=store)
    assert d.type == "cc"
    assert d.s == pytest.approx(0.3)
    with pytest.warns(StatisticalWarning, match="sdY estimated"):
        res = coloc_abf(load_region("D1", "19:1000-60000", store=store), d)
    want = _expected(slice(0, 500), type="cc", s=0.3)
    np.testing.assert_allclose(res.pp, want, rtol=1e-9)


def test_store_errors(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coloc", "D1", "D2", "--store", str(store), "--region", "19:1-50"]) == 2
    assert "D1: no variant in 19:1-50" in capsys.readouterr().err
    assert main(["coloc", "D1", "D2", "--store", str(store)]) == 2
    assert "--store needs --region" in capsys.readouterr().err
    assert main(["coloc", "D1", "XX", "--store", str(store), "--region", "19:1-90000"]) == 2
    assert "'XX' is neither a file nor a GWAS id" in capsys.readouterr().err
