"""``mrkit clump``: the plain-table reader, the output table, and a start without pandas."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from bed_reader import to_bed

from mrkit.cli import main
from mrkit.cli.ld import _read_plain
from mrkit.ld.clump import clump_table
from mrkit.ld.panel import ReferencePanel

N_IND, N_SNP = 60, 40


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    """A small panel with LD (neighbours copy each other) and a GWAS through it."""
    tmp = tmp_path_factory.mktemp("panel")
    rng = np.random.default_rng(7)
    hap = np.empty((2 * N_IND, N_SNP), dtype=np.int8)
    hap[:, 0] = rng.random(2 * N_IND) < 0.4
    for j in range(1, N_SNP):
        copy = rng.random(2 * N_IND) < 0.85
        hap[:, j] = np.where(copy, hap[:, j - 1], rng.random(2 * N_IND) < 0.4)
    geno = (hap[0::2] + hap[1::2]).astype(np.float32)
    prefix = tmp / "ref"
    chrom = np.repeat(["1", "2"], N_SNP // 2)
    pos = np.tile(np.arange(1, N_SNP // 2 + 1) * 1000, 2)
    to_bed(
        prefix.with_suffix(".bed"),
        geno,
        properties={
            "chromosome": chrom,
            "sid": [f"rs{j}" for j in range(N_SNP)],
            "bp_position": pos,
            "allele_1": ["A"] * N_SNP,
            "allele_2": ["G"] * N_SNP,
        },
        count_A1=True,
    )
    p = np.exp(-rng.uniform(0, 30, N_SNP))
    gwas = pd.DataFrame({"SNP": [f"rs{j}" for j in range(N_SNP)], "CHR": chrom, "BP": pos, "P": p})
    return prefix, gwas


def _write(gwas: pd.DataFrame, path, sep: str) -> None:
    text = gwas.to_csv(sep=sep, index=False)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)


@pytest.mark.parametrize(("name", "sep"), [("g.tsv", "\t"), ("g.csv", ","), ("g.assoc", " "),
                                           ("g.tsv.gz", "\t")])  # fmt: skip
def test_read_plain_layouts(panel, tmp_path, name, sep):
    _, gwas = panel
    path = tmp_path / name
    _write(gwas, path, sep)
    cols = _read_plain(path)
    assert cols["snp"].to_pylist() == gwas.SNP.tolist()
    assert cols["chr"].to_pylist() == gwas.CHR.tolist()
    np.testing.assert_array_equal(cols["p"], gwas.P.to_numpy())
    np.testing.assert_array_equal(cols["pos"], gwas.BP.to_numpy(float))


def test_read_plain_aligned_columns_and_missing_p(tmp_path):
    path = tmp_path / "x.assoc"
    path.write_text(" CHR   SNP    BP      P\n   1   rs1   100   0.01\n   1   rs2   200     NA\n\n")
    cols = _read_plain(path)
    assert cols["snp"].to_pylist() == ["rs1", "rs2"]
    assert cols["p"][0] == 0.01
    assert np.isnan(cols["p"][1])


def test_read_plain_declines_what_it_cannot_read(tmp_path):
    no_p = tmp_path / "a.tsv"
    no_p.write_text("SNP\tLOG10P\nrs1\t8\n")
    ragged = tmp_path / "b.txt"
    ragged.write_text("SNP P CHR BP\nrs1 0.1 1\nrs2 0.2 1 5 9\n")
    ragged_tabs = tmp_path / "c.tsv"
    ragged_tabs.write_text("SNP\tP\nrs1\t0.1\nrs2\t0.2\t7\n")
    assert _read_plain(no_p) is None
    assert _read_plain(ragged) is None
    assert _read_plain(ragged_tabs) is None


def test_clump_output_matches_clump_table(panel, tmp_path, capsys):
    prefix, gwas = panel
    path = tmp_path / "g.tsv"
    _write(gwas, path, "\t")
    out = tmp_path / "clumps.tsv"
    args = ["--panel", str(prefix), "--p1", "1e-3", "--p2", "0.5", "--r2", "0.2", "--kb", "5"]
    assert main(["clump", str(path), *args, "--out", str(out)]) == 0
    got = pd.read_csv(out, sep="\t", keep_default_na=False)
    want = clump_table(ReferencePanel(prefix), gwas, p1=1e-3, p2=0.5, r2=0.2, kb=5).clumps
    assert len(got) > 1
    assert got.snp.tolist() == want.snp.tolist()
    assert got.clumped_snps.tolist() == want.clumped_snps.tolist()
    assert got.pos.tolist() == want.pos.astype(int).tolist()
    assert f"{len(got)} clumps written" in capsys.readouterr().out


def test_absent_variant_kept_and_counted(panel, tmp_path, capsys):
    prefix, gwas = panel
    extra = pd.DataFrame({"SNP": ["rs_absent"], "CHR": ["3"], "BP": [5], "P": [1e-40]})
    path = tmp_path / "g.csv"
    _write(pd.concat([gwas, extra]), path, ",")
    out = tmp_path / "clumps.csv"
    assert main(["clump", str(path), "--panel", str(prefix), "--p1", "1e-3", "--out",
                 str(out)]) == 0  # fmt: skip
    got = pd.read_csv(out)
    row = got.set_index("snp").loc["rs_absent"]
    assert not row.in_panel
    assert (row.chr, row.pos) == (3, 5)
    assert "1 index variant(s) not in the LD panel" in capsys.readouterr().out


def test_clump_starts_without_pandas_duckdb_or_pydantic(panel, tmp_path):
    prefix, gwas = panel
    path = tmp_path / "g.tsv"
    _write(gwas, path, "\t")
    argv = ["clump", str(path), "--panel", str(prefix), "--out", str(tmp_path / "o.tsv")]
    script = (
        "import json, sys\nfrom mrkit.cli import main\n"
        f"rc = main({argv!r})\nprint(json.dumps([rc, sorted(sys.modules)]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)  # fmt: skip
    rc, mods = json.loads(proc.stdout.splitlines()[-1])
    assert rc == 0
    top = {m.split(".")[0] for m in mods}
    assert not top & {"pandas", "duckdb", "pydantic", "scipy", "matplotlib"}, top
    assert not {m for m in mods if m.startswith("mrkit.store") or m.startswith("mrkit.io.sumstats")}
