"""LD for colocalisation: square and long files, a PLINK panel with alleles aligned, and checks."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from coloc_ref import COLOC

from mrkit.coloc.data import DataFileError, read_dataset
from mrkit.coloc.ld import LDError, ld_for, panel_ld, read_ld
from mrkit.errors import StatisticalWarning

LD_FILE = COLOC / "data" / "test_LD_D3D4_upper.csv.gz"
needs_ref = pytest.mark.skipif(not LD_FILE.is_file(), reason="../shared/reference/coloc absent")


@needs_ref
def test_upper_triangle_is_mirrored() -> None:
    long = pd.read_csv(LD_FILE)
    ld = read_ld(LD_FILE)
    assert ld.shape == (500, 500)
    assert list(ld.index) == list(ld.columns)
    pos = {s: k for k, s in enumerate(ld.index)}
    i = np.array([pos[s] for s in long["snp_i"]])
    j = np.array([pos[s] for s in long["snp_j"]])
    r = long["r"].to_numpy()
    mat = ld.to_numpy()
    assert np.array_equal(mat[i, j], r)  # R[i, j] = r exactly
    assert np.array_equal(mat[j, i], r)  # and R[j, i] = r
    d3 = read_dataset(COLOC / "data/test_D3.csv")
    m = ld_for(d3.snp, ld)
    assert np.array_equal(m, m.T)
    assert np.all(np.diag(m) == 1.0)


@needs_ref
def test_square_files_read_back(tmp_path: Path) -> None:
    ld = read_ld(LD_FILE).iloc[:40, :40]
    ld.to_csv(tmp_path / "labelled.csv", float_format="%.17g")
    ld.to_csv(tmp_path / "plain.tsv", sep="\t", index=False, float_format="%.17g")
    with gzip.open(tmp_path / "ws.txt.gz", "wt") as fh:
        ld.to_csv(fh, sep=" ", index=False, float_format="%.17g")
    for name in ("labelled.csv", "plain.tsv", "ws.txt.gz"):
        got = read_ld(tmp_path / name)
        assert list(got.index) == list(ld.index), name
        np.testing.assert_array_equal(got.to_numpy(), ld.to_numpy())


def _write_long(path: Path, rows: list[tuple[str, str, object]]) -> Path:
    pd.DataFrame(rows, columns=["snp_i", "snp_j", "r"]).to_csv(path, index=False)
    return path


def test_long_table_conflicts_and_gaps(tmp_path: Path) -> None:
    ok = _write_long(tmp_path / "ok.csv", [("a", "b", 0.5), ("b", "c", 0.2), ("a", "c", 0.1)])
    ld = read_ld(ok)
    assert ld.loc["c", "a"] == 0.1
    assert ld.loc["b", "b"] == 1.0  # a missing diagonal is 1
    clash = _write_long(tmp_path / "clash.csv", [("a", "b", 0.5), ("b", "a", 0.4)])
    with pytest.raises(
        DataFileError, match=r"clash\.csv, line 3, column `r`: r\(b, a\) = 0.4 but line 2"
    ):
        read_ld(clash)
    nan = _write_long(tmp_path / "nan.csv", [("a", "b", 0.5), ("b", "c", "x")])
    with pytest.raises(DataFileError, match=r"line 3, column `r`: not a number"):
        read_ld(nan)
    gap = _write_long(tmp_path / "gap.csv", [("a", "b", 0.5), ("b", "c", 0.2)])
    with pytest.raises(LDError, match=r"r\(a, c\) is missing"):
        ld_for(["a", "b", "c"], read_ld(gap))


def test_plink_r_output_columns(tmp_path: Path) -> None:
    p = tmp_path / "plink.ld"
    p.write_text(
        " CHR_A BP_A SNP_A CHR_B BP_B SNP_B R\n"
        "     1  100 rs1       1  200 rs2  0.3\n"
        "     1  100 rs1       1  300 rs3  -0.2\n"
        "     1  200 rs2       1  300 rs3  0.1\n"
    )
    ld = read_ld(p)
    assert ld.loc["rs3", "rs1"] == -0.2
    assert ld_for(["rs3", "rs1", "rs2"], ld)[0, 1] == -0.2


def test_missing_snps_and_bad_matrices() -> None:
    names = ["a", "b", "c"]
    good = pd.DataFrame(np.eye(3), index=names, columns=names)
    with pytest.raises(LDError, match=r"2 of 4 SNPs are not in ld\.csv: x, y"):
        ld_for(["a", "x", "b", "y"], good, source="ld.csv")
    bad = np.array([[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]])
    with pytest.raises(LDError, match="not positive semi-definite: smallest eigenvalue"):
        ld_for(names, pd.DataFrame(bad, index=names, columns=names))
    asym = np.eye(3)
    asym[0, 1] = 0.5
    with pytest.raises(LDError, match="not symmetric"):
        ld_for(names, pd.DataFrame(asym, index=names, columns=names))
    diag = np.eye(3) * 0.9
    with pytest.raises(LDError, match="diagonal must be 1"):
        ld_for(names, pd.DataFrame(diag, index=names, columns=names))
    # order follows the SNPs asked for
    r = np.array([[1, 0.5, 0.1], [0.5, 1, 0.2], [0.1, 0.2, 1]])
    got = ld_for(["c", "a"], pd.DataFrame(r, index=names, columns=names))
    assert got[0, 1] == 0.1


# ------------------------------------------------------------------------ PLINK panel
def _write_panel(
    prefix: Path, g: np.ndarray, snps: list[str], a1: list[str], a2: list[str]
) -> None:
    """A PLINK 1 file set; ``g`` (samples x variants) counts A1 (PLINK: 00 = A1/A1)."""
    n, m = g.shape
    code = {2: 0b00, 1: 0b10, 0: 0b11}
    nbytes = (n + 3) // 4
    out = bytearray(b"\x6c\x1b\x01")
    for j in range(m):
        row = bytearray(nbytes)
        for i in range(n):
            row[i // 4] |= code[int(g[i, j])] << (2 * (i % 4))
        out += row
    prefix.with_suffix(".bed").write_bytes(bytes(out))
    prefix.with_suffix(".bim").write_text(
        "".join(
            f"1\t{s}\t0\t{100 * (k + 1)}\t{x}\t{y}\n"
            for k, (s, x, y) in enumerate(zip(snps, a1, a2, strict=True))
        )
    )
    prefix.with_suffix(".fam").write_text("".join(f"f{i} i{i} 0 0 0 -9\n" for i in range(n)))


@pytest.fixture
def panel(tmp_path: Path) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(7)
    base = rng.binomial(2, 0.4, size=(200, 1))
    noise = rng.binomial(2, 0.3, size=(200, 3))
    g = np.clip(np.hstack([base, (base + noise[:, :1]) % 3, noise[:, 1:]]), 0, 2)
    prefix = tmp_path / "ref"
    _write_panel(
        prefix, g, ["rs1", "rs2", "rs3", "rs4"], ["A", "C", "G", "T"], ["G", "T", "A", "C"]
    )
    return prefix, g


def _data(tmp_path: Path, ea: list[str] | None, oa: list[str] | None, snps: list[str]) -> Path:
    cols: dict[str, object] = {
        "snp": snps,
        "beta": [0.1] * len(snps),
        "varbeta": [0.01] * len(snps),
    }
    cols |= {"type": "quant", "sdY": 1.0}
    if ea is not None:
        cols |= {"effect_allele": ea, "other_allele": oa}
    p = tmp_path / "d.csv"
    pd.DataFrame(cols).to_csv(p, index=False)
    return p


def test_panel_ld_aligned_to_effect_alleles(tmp_path: Path, panel: tuple[Path, np.ndarray]) -> None:
    prefix, g = panel
    want = np.corrcoef(g.T.astype(float))
    snps = ["rs1", "rs2", "rs3", "rs4"]
    same = read_dataset(_data(tmp_path, ["A", "C", "G", "T"], ["G", "T", "A", "C"], snps))
    np.testing.assert_allclose(panel_ld(prefix, same).to_numpy(), want, atol=1e-12)
    # effect allele = panel A2 for rs2: its row and column change sign
    flipped = read_dataset(_data(tmp_path, ["A", "t", "G", "T"], ["G", "c", "A", "C"], snps))
    sign = np.array([1.0, -1.0, 1.0, 1.0])
    got = panel_ld(prefix, flipped).to_numpy()
    np.testing.assert_allclose(got, want * np.outer(sign, sign), atol=1e-12)
    assert ld_for(flipped.snp, panel_ld(prefix, flipped)).shape == (4, 4)


def test_panel_ld_errors(tmp_path: Path, panel: tuple[Path, np.ndarray]) -> None:
    prefix, _ = panel
    wrong = read_dataset(_data(tmp_path, ["A", "C"], ["T", "T"], ["rs1", "rs2"]))
    with pytest.raises(
        LDError, match=r"1 SNP\(s\) .* not the panel's, e.g. rs1: A/T in the data, A/G"
    ):
        panel_ld(prefix, wrong)
    absent = read_dataset(_data(tmp_path, None, None, ["rs1", "rs9"]))
    with pytest.raises(LDError, match=r"1 of 2 SNPs .* not in the LD panel .*: rs9"):
        panel_ld(prefix, absent)
    no_alleles = read_dataset(_data(tmp_path, None, None, ["rs1", "rs2"]))
    with pytest.warns(StatisticalWarning, match="panel's A1"):
        panel_ld(prefix, no_alleles)


# ------------------------------------------------- the command line with --panel / --ld
def _simulate(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """A 30-SNP panel with LD; two traits sharing causal SNP rs11; trait 2's alleles swapped
    on every third SNP (beta negated), as if from another GWAS."""
    rng = np.random.default_rng(11)
    n, m = 600, 30

    def haplotypes() -> np.ndarray:
        h = np.empty((n, m), dtype=int)
        h[:, 0] = rng.random(n) < 0.4
        for j in range(1, m):
            copy = rng.random(n) < 0.8
            h[:, j] = np.where(copy, h[:, j - 1], rng.random(n) < 0.4)
        return h

    g = haplotypes() + haplotypes()
    snps = [f"rs{j + 1}" for j in range(m)]
    a1, a2 = ["A"] * m, ["G"] * m
    prefix = tmp_path / "panel"
    _write_panel(prefix, g, snps, a1, a2)
    gc = g - g.mean(axis=0)
    paths = []
    for k, effect in ((1, 0.35), (2, 0.3)):
        y = effect * g[:, 10] + rng.normal(size=n)
        yc = y - y.mean()
        beta = gc.T @ yc / (gc * gc).sum(axis=0)
        resid = yc[:, None] - gc * beta
        varbeta = (resid * resid).sum(axis=0) / (n - 2) / (gc * gc).sum(axis=0)
        ea, oa = np.array(a1, dtype=object), np.array(a2, dtype=object)
        if k == 2:
            swap = np.arange(m) % 3 == 0
            beta = np.where(swap, -beta, beta)
            ea, oa = np.where(swap, oa, ea), np.where(swap, ea, oa)
        t = pd.DataFrame({"snp": snps, "beta": beta, "varbeta": varbeta, "effect_allele": ea,
                          "other_allele": oa, "N": n, "type": "quant", "sdY": y.std()})  # fmt: skip
        paths.append(tmp_path / f"trait{k}.csv")
        t.to_csv(paths[-1], index=False)
    r = np.corrcoef(g.T.astype(float))
    iu = np.triu_indices(m)
    ld = tmp_path / "ld.csv"
    pd.DataFrame(
        {"snp_i": np.array(snps)[iu[0]], "snp_j": np.array(snps)[iu[1]], "r": r[iu]}
    ).to_csv(ld, index=False)
    return prefix, paths[0], paths[1], ld


def test_cli_susie_with_panel_or_ld_file(tmp_path: Path) -> None:
    import json

    from mrkit.cli import main

    prefix, t1, t2, ld = _simulate(tmp_path)
    outs = {}
    for name, opt in (("panel", ["--panel", str(prefix)]), ("ld", ["--ld", str(ld)])):
        out = tmp_path / f"{name}.json"
        assert main(["coloc", str(t1), str(t2), "--method", "susie", *opt, "--json", str(out)]) == 0
        outs[name] = json.loads(out.read_text())
    a, b = outs["panel"], outs["ld"]
    assert a["summary"], a["skipped"]
    assert len(a["summary"]) == len(b["summary"])
    for ra, rb in zip(a["summary"], b["summary"], strict=True):
        assert (ra["hit1"], ra["hit2"]) == (rb["hit1"], rb["hit2"])
        np.testing.assert_allclose(
            [ra[f"pp_h{h}"] for h in range(5)],
            [rb[f"pp_h{h}"] for h in range(5)],
            rtol=1e-6,
            atol=1e-12,
        )
    assert max(r["pp_h4"] for r in a["summary"]) > 0.5
    assert any("flipped to trait 1's alleles" in n for n in b["notes"])
    # abf needs no LD and agrees that the signal is shared
    out = tmp_path / "abf.json"
    assert main(["coloc", str(t1), str(t2), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["summary"][0]["pp_h4"] > 0.5
