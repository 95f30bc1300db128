"""Gzip inflated ahead into plain chunks (mrkit.io.sumstats._inflate).

Same bytes, same tables, same errors.
"""

from __future__ import annotations

import gzip
import os
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import mrkit.io.sumstats._inflate as inflate
from mrkit.errors import FileFormatError
from mrkit.io.sumstats._inflate import Chunks, InflateError
from mrkit.io.sumstats.read import read_sumstats
from mrkit.store.catalog import Store

VCF = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gwasvcf" / "data.vcf.gz"
HEAD = "chromosome\tbase_pair_location\teffect_allele\tother_allele\tbeta\tstandard_error\tp_value\trsid\tn\n"  # noqa: E501


def _gwas_text(nrow: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    lines = [HEAD]
    for i in range(nrow):
        chrom = ["1", "chr2", "X", "10"][i * 4 // nrow]
        ea, oa = rng.sample("acgt" if i % 11 == 0 else "ACGT", 2)
        p = "1e-400" if i == 17 else f"{rng.random():.4g}"
        snp = "NA" if i % 13 == 0 else f"rs{i}"
        lines.append(
            f"{chrom}\t{1000 + 7 * i}\t{ea}\t{oa}\t{rng.gauss(0, 0.05):.5g}\t"
            f"{0.005 + rng.random() / 20:.5g}\t{p}\t{snp}\t{rng.choice(['1000', 'NA'])}\n"
        )
    return "".join(lines)


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunk every gzip file, in chunks of about 2 kB read 500 bytes at a time."""
    monkeypatch.setattr(inflate, "MIN_BYTES", 0)
    monkeypatch.setattr(inflate, "FIRST_BYTES", 512)
    monkeypatch.setattr(inflate, "CHUNK_BYTES", 2048)
    monkeypatch.setattr(inflate, "BLOCK_BYTES", 500)


@pytest.fixture
def no_chunks(monkeypatch):
    monkeypatch.setattr(inflate, "MIN_BYTES", 1 << 62)


def _inflate_all(path: Path, tmp: Path, **kw) -> list[bytes]:
    with Chunks(path, tmp, **kw) as chunks:
        return [c.read_bytes() for c in chunks]


@pytest.mark.parametrize("tail", ["\n", "", "\r\n"])
def test_chunks_concatenate_to_the_file_and_end_at_line_ends(tmp_path, tail):
    text = (_gwas_text(300).rstrip("\n") + tail).encode()
    src = tmp_path / "g.tsv.gz"
    src.write_bytes(gzip.compress(text))
    parts = _inflate_all(src, tmp_path / "c", chunk_bytes=1000, block_bytes=300)
    assert b"".join(parts) == text
    assert len(parts) > 10
    assert all(p.endswith(b"\n") for p in parts[:-1])
    assert list((tmp_path / "c").iterdir()) == []  # each chunk deleted once read


def test_multi_member_gzip_as_bgzip_writes_it(tmp_path):
    text = _gwas_text(200).encode()
    src = tmp_path / "g.tsv.gz"
    src.write_bytes(gzip.compress(text[:3001]) + gzip.compress(text[3001:]))
    assert b"".join(_inflate_all(src, None, chunk_bytes=700, block_bytes=256)) == text


def test_truncated_gzip_raises_and_cleans_up(tmp_path):
    src = tmp_path / "g.tsv.gz"
    src.write_bytes(gzip.compress(_gwas_text(2000).encode())[:-300])
    out = tmp_path / "c"
    with pytest.raises(InflateError, match=r"g\.tsv\.gz"), Chunks(src, out, chunk_bytes=900) as ch:
        for _ in ch:
            pass
    assert list(out.iterdir()) == []


def test_leaving_early_stops_the_thread_and_deletes_chunks(tmp_path):
    src = tmp_path / "g.tsv.gz"
    src.write_bytes(gzip.compress(_gwas_text(3000).encode()))
    out = tmp_path / "c"
    with Chunks(src, out, chunk_bytes=500, block_bytes=200) as ch:
        it = iter(ch)
        first = next(it)
        assert first.is_file()
    assert not ch._thread.is_alive()
    assert list(out.iterdir()) == []


def test_own_temporary_directory_is_removed(tmp_path):
    src = tmp_path / "g.tsv.gz"
    src.write_bytes(gzip.compress(_gwas_text(50).encode()))
    with Chunks(src) as ch:
        parts = list(ch)
        where = parts[0].parent
        assert where.name.startswith("mrkit-inflate-")
    assert not where.exists()


def _read(src: Path, monkeypatch, chunked: bool) -> pd.DataFrame:
    monkeypatch.setattr(inflate, "MIN_BYTES", 0 if chunked else 1 << 62)
    return read_sumstats(src)


def test_read_sumstats_same_table_from_chunks(tmp_path, monkeypatch, small_chunks):
    src = tmp_path / "g.tsv.gz"
    src.write_bytes(gzip.compress(_gwas_text(1500).encode()))
    seen = []
    real_iter = Chunks.__iter__

    def counting(self):
        for c in real_iter(self):
            seen.append(c.stat().st_size)
            yield c

    monkeypatch.setattr(Chunks, "__iter__", counting)
    chunked = _read(src, monkeypatch, chunked=True)
    assert len(seen) > 20  # the fast attempt read many chunks and did not fall back
    direct = _read(src, monkeypatch, chunked=False)
    pd.testing.assert_frame_equal(chunked, direct)
    assert chunked.attrs["mrkit"] == direct.attrs["mrkit"]
    assert chunked.attrs["mrkit"]["rows_read"] == 1500
    assert chunked.loc[17, "log10p"] == 400.0


def test_store_import_same_parquet_from_chunks(tmp_path, monkeypatch, small_chunks):
    src = tmp_path / "g.tsv.gz"
    src.write_bytes(gzip.compress(_gwas_text(1200, seed=3).encode()))
    a = Store(tmp_path / "a.duckdb").import_gwas(src, id="g", trait="t")
    monkeypatch.setattr(inflate, "MIN_BYTES", 1 << 62)
    b = Store(tmp_path / "b.duckdb").import_gwas(src, id="g", trait="t")
    assert pq.read_table(a["file"]).equals(pq.read_table(b["file"]))
    assert (a["rows"], a["dropped"], a["sha256"]) == (b["rows"], b["dropped"], b["sha256"])
    assert sorted(p.name for p in (tmp_path / "a.duckdb.d").iterdir()) == sorted(
        Path(f).name for f in (a["file"], a["file"].replace(".parquet", ".top.parquet"))
    )


def test_gwas_vcf_same_table_from_chunks(tmp_path, monkeypatch, small_chunks):
    """GWAS-VCF has no fast statement: its one statement reads chunks first."""
    lines = gzip.decompress(VCF.read_bytes()).decode().splitlines(keepends=True)
    body = [ln for ln in lines if not ln.startswith("#")]
    src = tmp_path / "big.vcf.gz"
    src.write_bytes(gzip.compress("".join(lines + body * 20).encode()))
    seen = []
    real_iter = Chunks.__iter__

    def counting(self):
        for c in real_iter(self):
            seen.append(c)
            yield c

    monkeypatch.setattr(Chunks, "__iter__", counting)
    chunked = _read(src, monkeypatch, chunked=True)
    assert len(seen) > 10
    direct = _read(src, monkeypatch, chunked=False)
    pd.testing.assert_frame_equal(chunked, direct)
    assert len(chunked) == 92 * 21


def _with_dot_beta(text: str, line: int = 250) -> str:
    """``text`` with the beta of data line ``line`` written as '.' (missing, but not NA)."""
    lines = text.splitlines(keepends=True)
    fields = lines[line].split("\t")
    fields[4] = "."
    lines[line] = "\t".join(fields)
    return "".join(lines)


def test_other_missing_markers_fall_back_to_the_complete_statement(tmp_path, small_chunks):
    src = tmp_path / "g.tsv.gz"
    src.write_bytes(gzip.compress(_with_dot_beta(_gwas_text(400)).encode()))
    df = read_sumstats(src)
    assert df.attrs["mrkit"]["rows_read"] == 400
    assert df.attrs["mrkit"]["dropped"] == 1  # the row whose beta is missing
    assert "rs249" not in set(df.snp)


def _truncated(text: str) -> bytes:
    return gzip.compress(text.encode())[:-200]


def _negative_se(text: str) -> bytes:
    lines = text.splitlines(keepends=True)
    fields = lines[1234].split("\t")
    fields[5] = "-0.01"
    lines[1234] = "\t".join(fields)
    return gzip.compress("".join(lines).encode())


@pytest.mark.parametrize("make", [_truncated, _negative_se])
def test_errors_are_those_of_the_direct_read(tmp_path, monkeypatch, small_chunks, make):
    src = tmp_path / "g.tsv.gz"
    src.write_bytes(make(_gwas_text(2000, seed=5)))
    msgs = []
    for chunked in (True, False):
        monkeypatch.setattr(inflate, "MIN_BYTES", 0 if chunked else 1 << 62)
        with pytest.raises(FileFormatError) as err:
            read_sumstats(src)
        msgs.append(str(err.value))
    assert msgs[0] == msgs[1]
    if make is _negative_se:
        assert "line 1235" in msgs[0]


CRASH = """
import os, signal, sys
import mrkit.io.sumstats._inflate as inflate
from mrkit.store.catalog import Store
inflate.MIN_BYTES, inflate.FIRST_BYTES, inflate.CHUNK_BYTES, inflate.BLOCK_BYTES = 0, 512, 2048, 500
real = inflate.Chunks.__iter__
def dying(self):
    for k, c in enumerate(real(self)):
        if k == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        yield c
inflate.Chunks.__iter__ = dying
Store(sys.argv[1]).import_gwas(sys.argv[2], id="g2", trait="t")
"""


def test_sigkill_while_reading_chunks_leaves_store_unchanged(tmp_path):
    src = tmp_path / "g.tsv.gz"
    src.write_bytes(gzip.compress(_gwas_text(1500).encode()))
    st = Store(tmp_path / "s.duckdb")
    st.import_gwas(src, id="g1", trait="t")
    files = sorted(p.name for p in st.dir.iterdir())
    proc = subprocess.run(
        [sys.executable, "-c", CRASH, str(st.path), str(src)], env=dict(os.environ), timeout=120
    )
    assert proc.returncode == -9
    assert any(p.name.startswith(".tmp-spill-") for p in st.dir.iterdir())  # chunks left
    reopened = Store(st.path)  # recovers
    assert sorted(p.name for p in reopened.dir.iterdir()) == files
    assert list(reopened.catalog()["id"]) == ["g1"]


def test_lines_ending_in_cr_alone_read_as_directly(tmp_path, monkeypatch, small_chunks):
    """No line feed to cut at: the chunked attempt finds no data and the file is read directly."""
    src = tmp_path / "g.tsv.gz"
    src.write_bytes(gzip.compress(_gwas_text(300).replace("\n", "\r").encode()))
    chunked = _read(src, monkeypatch, chunked=True)
    direct = _read(src, monkeypatch, chunked=False)
    pd.testing.assert_frame_equal(chunked, direct)
    assert len(direct) == 300


def test_progress_counts_rows_and_tells_a_second_reading(tmp_path, small_chunks):
    src = tmp_path / "g.tsv.gz"
    src.write_bytes(gzip.compress(_gwas_text(300).encode()))
    steps: list[str] = []
    Store(tmp_path / "s.duckdb").import_gwas(src, id="g", trait="t", progress=steps.append)
    assert steps[0] == "reading"
    assert [x for x in steps if x.startswith("reading")][-1] == "reading: 300 rows"
    assert steps[-1] == "sorting"  # chromosome 10 comes after X in the file
    src.write_bytes(gzip.compress(_with_dot_beta(_gwas_text(300)).encode()))  # read twice
    steps.clear()
    Store(tmp_path / "s.duckdb").import_gwas(src, id="h", trait="t", progress=steps.append)
    assert "reading again" in steps
    assert [x for x in steps if x.startswith("reading")][-1] == "reading again: 300 rows"
