"""The ``mrkit mr`` command: output contract and errors (exit 2, one message)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from conftest import REFERENCE
from mrkit.cli import main

LDL = REFERENCE / "data" / "mr_ldlc_chd.csv"


def test_json_contract(tmp_path):
    out = tmp_path / "res.json"
    assert main(["mr", str(LDL), "--seed", "1", "--nboot", "200", "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert {
        "estimates",
        "heterogeneity",
        "pleiotropy",
        "i2gx",
        "f_mean",
        "leave_one_out",
        "single_snp",
    } <= set(d)
    methods = [r["method"] for r in d["estimates"]]
    assert methods == ["egger", "weighted_median", "ivw", "simple_mode", "weighted_mode"]
    assert {"method", "q", "q_df", "q_pval"} <= set(d["heterogeneity"][0])
    assert set(d["pleiotropy"]) == {"egger_intercept", "se", "pval"}
    assert {"snp", "estimate", "se", "pval"} <= set(d["leave_one_out"][0])
    assert {"snp", "estimate", "se", "pval"} <= set(d["single_snp"][0])
    assert len(d["single_snp"]) == 28


def test_csv_and_methods_list(tmp_path):
    out = tmp_path / "res.csv"
    assert main(["mr", str(LDL), "--methods", "ivw,ivw_fe", "--csv", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df["method"]) == ["ivw", "ivw_fe"]


def test_readable_table_printed():
    proc = subprocess.run(
        [sys.executable, "-m", "mrkit.cli", "mr", str(LDL), "--methods", "ivw,egger"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Inverse variance weighted" in proc.stdout
    assert "MR Egger" in proc.stdout


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        ("SNP,beta.exposure,se.exposure,beta.outcome\nrs1,0.1,0.01,0.2\n", "se_outcome"),
        (
            "SNP,beta.exposure,se.exposure,beta.outcome,se.outcome\nrs1,0.1,0,0.2,0.1\n",
            "line 2, column `se_exposure`",
        ),
        (
            "SNP,beta.exposure,se.exposure,beta.outcome,se.outcome\nrs1,0.1,0.01,x,0.1\n",
            "line 2, column `beta_outcome`",
        ),
        ("", "empty"),
    ],
)
def test_bad_input_exit_2(tmp_path, content, expect):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    proc = subprocess.run(
        [sys.executable, "-m", "mrkit.cli", "mr", str(f)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert str(f) in proc.stderr.replace("\n", "")
    assert expect in proc.stderr.replace("\n", "")


def test_unknown_method_exit_2(capsys):
    assert main(["mr", str(LDL), "--methods", "nope"]) == 2
    assert "unknown method `nope`" in capsys.readouterr().err
