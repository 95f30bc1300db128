"""``mrkit coloc``: the public JSON/CSV contract, R's numbers through the CLI, and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import REFERENCE
from mrkit.cli import main

COLOC = REFERENCE / "coloc"
D = COLOC / "data"
pytestmark = pytest.mark.skipif(not D.is_dir(), reason="../shared/reference/coloc absent")
SUMMARY_KEYS = {"hit1", "hit2", "nsnps", "pp_h0", "pp_h1", "pp_h2", "pp_h3", "pp_h4"}


def _r(file: str, call_id: str) -> dict:
    return json.loads((COLOC / "results" / f"{file}.json").read_text())["calls"][call_id]["result"]


def _pp(row: dict) -> list[float]:
    return [row[f"pp_h{h}"] for h in range(5)]


def _rpp(summary: dict, k: int | None = None) -> list[float]:
    return [summary[f"PP.H{h}.abf"] if k is None else summary[f"PP.H{h}.abf"][k] for h in range(5)]


def _coloc(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    rc = main(["coloc", *args])
    return rc, capsys.readouterr().err.strip()


def test_abf_json_contract_and_r_values(tmp_path: Path) -> None:
    out = tmp_path / "abf.json"
    proc = subprocess.run(
        [sys.executable, "-m", "mrkit.cli", "coloc", str(D / "test_D1.csv"), str(D / "test_D2.csv"),
         "--json", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    d = json.loads(out.read_text())
    assert {"method", "summary", "snps", "priors", "skipped"} <= set(d)
    assert d["method"] == "abf"
    assert d["skipped"] == []
    assert len(d["summary"]) == 1
    row = d["summary"][0]
    assert set(row) == SUMMARY_KEYS
    assert row["hit1"] is None
    assert row["hit2"] is None
    ref = _r("coloc_abf", "abf_D1_D2_default")
    assert row["nsnps"] == 500
    np.testing.assert_allclose(_pp(row), _rpp(ref["summary"]), rtol=1e-6)
    assert d["priors"] == {"p1": 1e-4, "p2": 1e-4, "p12": 1e-5}
    snps = pd.DataFrame(d["snps"]).set_index("snp")
    assert {"snp_pp_h4", "labf_df1", "labf_df2"} <= set(snps.columns)
    per = ref["results"]
    np.testing.assert_allclose(
        snps.loc[per["snp"], "snp_pp_h4"], per["SNP.PP.H4"], rtol=1e-6, atol=1e-12
    )


def test_priors_options_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "s.csv"
    args = [str(D / "test_D1.csv"), str(D / "test_D2.csv"), "--p1", "1e-3", "--p2", "1e-5"]
    rc, _ = _coloc([*args, "--p12", "1e-6", "--csv", str(csv)], capsys)
    assert rc == 0
    tab = pd.read_csv(csv)
    assert list(tab.columns) == [
        "method",
        "hit1",
        "hit2",
        "nsnps",
        "pp_h0",
        "pp_h1",
        "pp_h2",
        "pp_h3",
        "pp_h4",
    ]
    ref = _r("coloc_abf", "abf_D1_D2_p1_1e-3_p2_1e-5_p12_1e-6")
    np.testing.assert_allclose(
        tab.iloc[0][[f"pp_h{h}" for h in range(5)]].astype(float), _rpp(ref["summary"]), rtol=1e-6
    )


def test_pvalue_and_alias_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """pvalues + MAF + N (no beta) as R's P1/P2; and SNP/se/pval/eaf headers."""
    for k in (1, 2):
        t = pd.read_csv(D / f"test_D{k}.csv")
        t[["snp", "position", "pvalues", "MAF", "N", "type"]].to_csv(
            tmp_path / f"p{k}.csv", index=False
        )
        alias = pd.DataFrame(
            {"SNP": t["snp"], "pos": t["position"], "beta": t["beta"], "se": np.sqrt(t["varbeta"]),
             "pval": t["pvalues"], "eaf": 1 - t["MAF"], "n": t["N"], "type": t["type"],
             "sdY": t["sdY"]}
        )  # fmt: skip
        alias.to_csv(tmp_path / f"a{k}.tsv", sep="\t", index=False)
    out = tmp_path / "p.json"
    rc, err = _coloc(
        [str(tmp_path / "p1.csv"), str(tmp_path / "p2.csv"), "--json", str(out)], capsys
    )
    assert rc == 0, err
    ref = _r("coloc_abf", "abf_P1_P2_pvalues_default")
    np.testing.assert_allclose(
        _pp(json.loads(out.read_text())["summary"][0]), _rpp(ref["summary"]), rtol=1e-6
    )
    rc, err = _coloc(
        [str(tmp_path / "a1.tsv"), str(tmp_path / "a2.tsv"), "--json", str(out)], capsys
    )
    assert rc == 0, err
    ref = _r("coloc_abf", "abf_D1_D2_default")
    np.testing.assert_allclose(
        _pp(json.loads(out.read_text())["summary"][0]), _rpp(ref["summary"]), rtol=1e-6
    )


def test_readable_summary_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coloc", str(D / "test_D1.csv"), str(D / "test_D2.csv")]) == 0
    out = capsys.readouterr().out
    assert "pp_h4" in out
    assert "s105" in out


@pytest.mark.slow
def test_susie_json_matches_r(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "susie.json"
    args = [str(D / "test_D3.csv"), str(D / "test_D4.csv"), "--method", "susie"]
    rc, err = _coloc(
        [*args, "--ld", str(D / "test_LD_D3D4_upper.csv.gz"), "--json", str(out)], capsys
    )
    assert rc == 0, err
    d = json.loads(out.read_text())
    assert d["method"] == "susie"
    assert d["priors"]["p12"] == 5e-6
    ref = _r("coloc_susie", "coloc_susie_D3_D4_default")["summary"]
    assert [(r["hit1"], r["hit2"]) for r in d["summary"]] == list(
        zip(ref["hit1"], ref["hit2"], strict=True)
    )
    for k, row in enumerate(d["summary"]):
        assert set(row) >= SUMMARY_KEYS
        assert row["nsnps"] == ref["nsnps"][k]
        np.testing.assert_allclose(_pp(row), _rpp(ref, k), rtol=1e-5)
    assert {"snp", "snp_pp_h4"} <= set(d["snps"][0])
    assert d["skipped"] == []


@pytest.mark.slow
def test_susie_without_credible_set_is_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = pd.read_csv(D / "test_D4.csv")
    t["beta"] = 1e-4 * t["beta"]
    t.to_csv(tmp_path / "null.csv", index=False)
    out = tmp_path / "s.json"
    args = [str(D / "test_D3.csv"), str(tmp_path / "null.csv"), "--method", "susie"]
    rc, err = _coloc(
        [*args, "--ld", str(D / "test_LD_D3D4_upper.csv.gz"), "--json", str(out)], capsys
    )
    assert rc == 0, err
    d = json.loads(out.read_text())
    assert d["summary"] == []
    assert any("trait 2" in s and "credible set" in s for s in d["skipped"])
    assert "skipped: " in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "bayes"], "unknown --method 'bayes'"),
        (["--method", "susie"], "needs LD: give --ld FILE or --panel PREFIX"),
        (["--ld", "x.csv", "--panel", "ref"], "not both"),
        (["--p12", "2"], "--p12 must be a probability"),
        (["--plot", "s.png"], "give its decision --rule too"),
        (["--rule", "H4 >> 0.5"], "the rule 'H4 >> 0.5' may use only"),
        (["--method", "signals", "--signals-method", "cond"], "--signals-method cond needs LD"),
        (["--method", "signals", "--mode", "both"], "--mode iterative or allbutone (got 'both')"),
    ],
)
def test_bad_options_exit_2(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, err = _coloc([str(D / "test_D1.csv"), str(D / "test_D2.csv"), *extra], capsys)
    assert rc == 2
    assert err.startswith("error: ")
    assert err.count("\n") == 0
    assert message in err


def test_bad_files_name_file_line_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = pd.read_csv(D / "test_D1.csv")
    bad = t.copy().astype({"beta": object})
    bad.loc[6, "beta"] = "oops"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    rc, err = _coloc([str(tmp_path / "bad.csv"), str(D / "test_D2.csv")], capsys)
    assert rc == 2
    assert err.count("\n") == 0
    assert "bad.csv, line 8, column `beta`: value is not a finite number ('oops')" in err
    t.drop(columns=["type"]).to_csv(tmp_path / "notype.csv", index=False)
    rc, err = _coloc([str(tmp_path / "notype.csv"), str(D / "test_D2.csv")], capsys)
    assert rc == 2
    assert "notype.csv: no `type` column (quant or cc)" in err
    rc, err = _coloc([str(tmp_path / "absent.csv"), str(D / "test_D2.csv")], capsys)
    assert rc == 2
    assert "absent.csv: no such file" in err


def test_ld_missing_snps_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ld = pd.read_csv(D / "test_LD_D3D4_upper.csv.gz")
    keep = ld[(ld["snp_i"] != "s7") & (ld["snp_j"] != "s7")]
    keep.to_csv(tmp_path / "ld.csv", index=False)
    args = [
        str(D / "test_D3.csv"),
        str(D / "test_D4.csv"),
        "--method",
        "susie",
        "--ld",
        str(tmp_path / "ld.csv"),
    ]
    rc, err = _coloc(args, capsys)
    assert rc == 2
    assert err.count("\n") == 0
    assert "1 of 500 SNPs are not in" in err
    assert "ld.csv: s7" in err


def test_signals_not_there_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without mrkit.coloc.signals, ``--method signals`` is one clear error."""
    monkeypatch.setitem(sys.modules, "mrkit.coloc.signals", None)  # import fails
    rc, err = _coloc(
        [str(D / "test_D1.csv"), str(D / "test_D2.csv"), "--method", "signals"], capsys
    )
    assert rc == 2
    assert "--method signals (coloc.signals) is not implemented yet" in err


def _signals_calls() -> list[str]:
    path = COLOC / "results" / "coloc_signals.json"
    if not path.is_file():
        return []
    return [k for k in json.loads(path.read_text())["calls"] if k.startswith("signals_")]


@pytest.mark.parametrize("call_id", _signals_calls())
def test_signals_match_r(call_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--method signals`` through the CLI against coloc.signals (rows matched by hits)."""
    import re

    pytest.importorskip("mrkit.coloc.signals")
    call = json.loads((COLOC / "results" / "coloc_signals.json").read_text())["calls"][call_id]
    args = dict(re.findall(r"(\w+)\s*=\s*'?([\w.+-]+)'?", call["call"]))
    out = tmp_path / "s.json"
    ld = str(D / "test_LD_D3D4_upper.csv.gz")
    cmd = [str(D / "test_D3.csv"), str(D / "test_D4.csv"), "--method", "signals",
           "--signals-method", args["method"], "--mode", args.get("mode", "iterative"),
           "--p12", args["p12"], "--ld", ld, "--json", str(out)]  # fmt: skip
    rc, err = _coloc(cmd, capsys)
    assert rc == 0, err
    d = json.loads(out.read_text())
    assert d["method"] == "signals"
    ref = call["result"]["summary"]
    mine = {(r["hit1"], r["hit2"]): r for r in d["summary"]}
    assert set(mine) == set(zip(ref["hit1"], ref["hit2"], strict=True))
    for k, key in enumerate(zip(ref["hit1"], ref["hit2"], strict=True)):
        assert mine[key]["nsnps"] == ref["nsnps"][k]
        np.testing.assert_allclose(_pp(mine[key]), _rpp(ref, k), rtol=1e-6)


def test_sensitivity_rule_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--rule`` adds coloc's sensitivity() table (R's, to 1e-6); ``--plot`` draws it."""
    out, png = tmp_path / "s.json", tmp_path / "s.png"
    args = [str(D / "test_D1.csv"), str(D / "test_D2.csv"), "--rule", "H4 > 0.5"]
    rc, err = _coloc([*args, "--plot", str(png), "--json", str(out)], capsys)
    assert rc == 0, err
    sens = json.loads(out.read_text())["sensitivity"]
    assert len(sens) == 1
    assert sens[0]["rule"] == "H4 > 0.5"
    assert sens[0]["passes"] is True
    ref = json.loads((COLOC / "results" / "sensitivity.json").read_text())["calls"]
    want = ref["sensitivity_abf_D1_D2_default_H4gt0.5"]["result"]["table"]
    tab = pd.DataFrame(sens[0]["table"])
    np.testing.assert_allclose(tab["p12"], want["p12"], rtol=1e-12)
    for h in range(5):
        np.testing.assert_allclose(tab[f"pp_h{h}"], want[f"PP.H{h}.abf"], rtol=1e-6)
    assert list(tab["pass"]) == want["pass"]
    assert png.read_bytes()[:4] == b"\x89PNG"
