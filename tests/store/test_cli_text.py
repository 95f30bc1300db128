# ruff: noqa: PT018
"""``mrkit studies`` and ``mrkit import`` print text as it is (no rich markup) and never a
traceback: a store mixing GWAS with and without units or build, odd ids and file names."""

from __future__ import annotations

import json
from pathlib import Path

from mrkit.cli import main
from mrkit.store.catalog import Store

FORMATS = Path(__file__).resolve().parents[1] / "data" / "formats"
SSF = FORMATS / "gwas_ssf.tsv.gz"


def test_studies_with_mixed_units_and_build(tmp_path, capsys):
    st = Store(tmp_path / "s.duckdb")
    st.import_gwas(SSF, id="a", trait="LDL", units="sd", n=1000, build="GRCh37")
    st.import_gwas(FORMATS / "saige_step2.txt", id="b", trait="[bold]T2D[/bold]")
    capsys.readouterr()
    assert main(["studies", "--store", str(st.path)]) == 0
    out = capsys.readouterr().out
    assert "[bold]T2D[/bold]" in out and "GRCh37" in out and "Traceback" not in out
    assert main(["studies", "--store", str(st.path), "--json"]) == 0
    recs = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert recs["b"]["units"] is None and recs["b"]["build"] is None


def test_error_text_is_printed_literally(tmp_path, capsys):
    (tmp_path / "[bold]x[").mkdir()
    bad = tmp_path / "[bold]x[/bold].tsv"  # (a folder "[bold]x[" holding "bold].tsv")
    bad.write_text("snp\tbeta\nrs1\t0.1\n")
    capsys.readouterr()
    rc = main(["import", str(bad), "--store", str(tmp_path / "s.duckdb"), "--id", "x",
               "--trait", "t"])  # fmt: skip
    err = " ".join(capsys.readouterr().err.split())
    assert rc == 2 and "[bold]x[/bold].tsv" in err, err
    rc = main(["import", str(tmp_path / "[[gwas]].tsv"), "--store", str(tmp_path / "s.duckdb"),
               "--id", "x", "--trait", "t"])  # fmt: skip
    err = " ".join(capsys.readouterr().err.split())
    assert rc == 2 and "[[gwas]].tsv" in err and err.count("error:") == 1, err
