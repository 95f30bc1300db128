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
