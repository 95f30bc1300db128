"""The one PLINK reader: .bim parsing, file-set checks, genotypes against bed-reader, SQL."""

from __future__ import annotations

import numpy as np
import pytest
from bed_reader import open_bed, to_bed

from mrkit.errors import PanelError
from mrkit.io.plink import (
    bim_sql,
    count_samples,
    decode_genotypes,
    fileset_prefix,
    frq_sql,
    looks_like_bim,
    looks_like_frq,
    lookup,
    open_fileset,
    read_bim,
    string_array,
)

BIM_LINES = [
    ("1", "rs1", "0", "100", "a", "G"),
    ("1", "rs2", "0.5", "250", "C", "T"),
    ("X", "rs3", "1e-3", "9000", "ACGT", "A"),
]


def _write_set(tmp_path, n_samples=13, n_variants=9, seed=1, name="p"):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 3, size=(n_samples, n_variants)).astype(np.float32)
    g[rng.random(g.shape) < 0.1] = np.nan
    prefix = tmp_path / name
    to_bed(
        prefix.with_suffix(".bed"),
        g,
        properties={
            "chromosome": ["1"] * n_variants,
            "sid": [f"rs{i}" for i in range(n_variants)],
            "bp_position": np.arange(1, n_variants + 1) * 100,
            "allele_1": ["A"] * n_variants,
            "allele_2": ["G"] * n_variants,
        },
        count_A1=True,
    )
    return prefix, g


@pytest.mark.parametrize("n_samples", [1, 4, 13, 64, 67])
def test_genotypes_match_bed_reader(tmp_path, n_samples):
    prefix, g = _write_set(tmp_path, n_samples=n_samples)
    fs = open_fileset(prefix)
    rows = np.array([8, 0, 3, 3, 5])
    got = fs.genotypes(rows)
    with open_bed(prefix.with_suffix(".bed"), count_A1=True) as bed:
        want = bed.read(index=np.s_[:, rows], dtype="int8")
    np.testing.assert_array_equal(got, want)
    assert got.shape == (n_samples, rows.size)
    np.testing.assert_array_equal(got >= 0, ~np.isnan(g[:, rows]))


def test_decode_genotypes_codes():
    # one byte, samples lowest bits first: 00 (2 copies), 01 (missing), 10 (1), 11 (0)
    raw = np.array([[0b11100100]], dtype=np.uint8)
    assert decode_genotypes(raw, 4)[:, 0].tolist() == [2, -127, 1, 0]
    assert decode_genotypes(raw, 3)[:, 0].tolist() == [2, -127, 1]


def test_fileset_reads_its_parts(tmp_path):
    prefix, _ = _write_set(tmp_path, n_samples=13, n_variants=9)
    fs = open_fileset(str(prefix) + ".bim")  # any of the three files names the set
    assert fs.prefix == prefix
    assert (fs.n_variants, fs.n_samples, fs.bytes_per_variant) == (9, 13, 4)
    assert fs.bim.snp.to_pylist()[:2] == ["rs0", "rs1"]
    assert fs.raw([2, 1]).shape == (2, 4)
    assert fs.genotypes([]).shape == (13, 0)
    assert count_samples(fs.path(".fam")) == 13
    assert fileset_prefix("a/b.chr1.bed").name == "b.chr1"


@pytest.mark.parametrize("sep", ["\t", " ", "  \t ", "\t\t"])
def test_read_bim_separators(tmp_path, sep):
    path = tmp_path / "x.bim"
    path.write_text("".join(sep.join(f) + "\n" for f in BIM_LINES))
    bim = read_bim(path)
    assert len(bim) == 3
    assert bim.chr.tolist() == ["1", "1", "X"]
    assert bim.snp.to_pylist() == ["rs1", "rs2", "rs3"]
    assert bim.pos.tolist() == [100, 250, 9000]
    assert bim.cm.tolist() == [0.0, 0.5, 0.001]
    assert bim.a1.tolist() == ["A", "C", "ACGT"]  # upper case
    assert bim.a2.tolist() == ["G", "T", "A"]


def test_read_bim_crlf_blank_lines_and_frame(tmp_path):
    path = tmp_path / "x.bim"
    path.write_bytes(b"".join(b"\t".join(x.encode() for x in f) + b"\r\n" for f in BIM_LINES))
    bim = read_bim(path)
    assert bim.a2.tolist() == ["G", "T", "A"]
    frame = bim.to_frame()
    assert list(frame.columns) == ["chr", "snp", "cm", "pos", "a1", "a2"]
    assert frame["snp"].tolist() == ["rs1", "rs2", "rs3"]
    (tmp_path / "e.bim").write_text("")
    assert len(read_bim(tmp_path / "e.bim")) == 0


def test_read_bim_names_the_bad_line(tmp_path):
    path = tmp_path / "x.bim"
    lines = ["\t".join(f) for f in BIM_LINES]
    path.write_text("\n".join([*lines, "1\trs4\t0\t400\tA"]) + "\n")
    with pytest.raises(PanelError, match=r"x\.bim, line 4: .*5 fields"):
        read_bim(path)
    path.write_text("\n".join([*lines, "1\trs4\t0\tpos\tA\tG"]) + "\n")
    with pytest.raises(PanelError, match=r"line 4: .*'pos'"):
        read_bim(path)


def test_open_fileset_errors(tmp_path):
    prefix, _ = _write_set(tmp_path)
    bed = prefix.with_suffix(".bed")
    data = bytearray(bed.read_bytes())
    bed.write_bytes(bytes(data[:-1]))
    with pytest.raises(PanelError, match=r"p\.bed: .* bytes.*disagree"):
        open_fileset(prefix)
    data[2] = 0
    bed.write_bytes(bytes(data))
    with pytest.raises(PanelError, match="individual-major"):
        open_fileset(prefix)
    data[0] = 0
    bed.write_bytes(bytes(data))
    with pytest.raises(PanelError, match="magic"):
        open_fileset(prefix)
    prefix.with_suffix(".fam").unlink()
    with pytest.raises(PanelError, match=r"missing: .*p\.fam"):
        open_fileset(prefix)


def test_sql_relations_read_the_same_files(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    bim_path = tmp_path / "x.bim"
    bim_path.write_text("".join("  ".join(f) + "\n" for f in BIM_LINES))
    rows = duckdb.sql(bim_sql(bim_path)).fetchall()
    bim = read_bim(bim_path)
    assert rows == list(
        zip(
            bim.chr.tolist(), bim.snp.to_pylist(), bim.cm.tolist(), bim.pos.tolist(),
            bim.a1.tolist(), bim.a2.tolist(), strict=True,
        )
    )  # fmt: skip
    frq = tmp_path / "x.frq"
    frq.write_text(" CHR  SNP A1 A2 MAF NCHROBS\n 1 rs1 a G 0.25 100\n 1 rs2 C T NA 100\n")
    assert duckdb.sql(frq_sql(frq)).fetchall() == [
        ("1", "rs1", "A", "G", 0.25),
        ("1", "rs2", "C", "T", None),
    ]
    assert looks_like_frq(frq.read_text().split("\n")[0].split())
    assert looks_like_bim(list(BIM_LINES[0]))
    assert not looks_like_bim(["CHR", "SNP", "A1", "A2", "MAF", "NCHROBS"])


def test_read_bim_whitespace_changing_midway(tmp_path):
    path = tmp_path / "x.bim"
    text = "\t".join(BIM_LINES[0]) + "\n" + "\t".join(BIM_LINES[1]) + " \n"
    path.write_text(text + "  ".join(BIM_LINES[2]) + "\n")
    bim = read_bim(path)
    assert bim.a2.tolist() == ["G", "T", "A"]
    assert bim.chr.tolist() == ["1", "1", "X"]


@pytest.mark.parametrize(("n_values", "n_set"), [(5, 200), (200, 5), (50, 50)])
def test_lookup_first_occurrence_either_side_hashed(n_values, n_set):
    rng = np.random.default_rng(n_values)
    pool = [f"rs{i}" for i in range(60)]
    values = [pool[i] for i in rng.integers(0, 60, n_values)]
    value_set = [pool[i] for i in rng.integers(0, 60, n_set)]  # duplicates on both sides
    want = [value_set.index(v) if v in value_set else -1 for v in values]
    assert lookup(values, string_array(value_set)).tolist() == want
    assert lookup(string_array(values), string_array(value_set)).tolist() == want
