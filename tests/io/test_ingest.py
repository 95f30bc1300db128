# ruff: noqa: PT018
"""The streaming import: order check, sort only when needed, top-hits file, integer n."""

from __future__ import annotations

import gzip
import math
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mrkit.cli import main
from mrkit.io.sumstats._ingest import OrderCheck, chr_rank
from mrkit.store.catalog import Store, top_name

FORMATS = Path(__file__).resolve().parents[1] / "data" / "formats"
HEAD = "chromosome\tbase_pair_location\teffect_allele\tother_allele\tbeta\tstandard_error\tp_value\trsid\tn\n"  # noqa: E501


def _rows(order):
    out = []
    for i, (c, pos) in enumerate(order):
        p = "1e-9" if i % 7 == 0 else "0.5"
        out.append(f"{c}\t{pos}\tA\tG\t0.1\t0.01\t{p}\trs{i}\t1000.4\n")
    return out


def _check(batches):
    oc = OrderCheck()
    for chrs, pos in batches:
        oc.update(pa.array(chrs, pa.string()), pa.array(pos, pa.int64()))
    return oc.sorted


def test_order_check():
    assert _check([(["1", "1", "2"], [5, 9, 1]), (["2", "10", "X"], [1, 3, 2])])
    assert _check([(["1", "1"], [5, None]), (["2", "MT", "GL1", None], [1, 1, 1, 1])])
    assert not _check([(["1", "1"], [5, 4])])
    assert not _check([(["1", "2"], [5, 4]), (["1"], [6])])  # chromosome 1 again
    assert not _check([(["2"], [5]), (["1"], [6])])
    assert not _check([(["1"], [5]), (["1"], [4])])  # across a batch boundary
    assert not _check([(["10", "9"], [1, 1])])  # numeric, not text, order
    assert sorted(["X", "10", "2", "MT", None, "GL1"], key=chr_rank) == [
        "2", "10", "X", "MT", "GL1", None,
    ]  # fmt: skip


def test_unsorted_file_is_sorted_and_top_hits_kept(tmp_path):
    order = [(c, p) for c in ("1", "2", "10", "X") for p in range(100, 3000, 100)]
    shuffled = order[:]
    random.Random(1).shuffle(shuffled)
    src = tmp_path / "g.tsv.gz"
    src.write_bytes(gzip.compress((HEAD + "".join(_rows(shuffled))).encode()))
    st = Store(tmp_path / "s.duckdb")
    rec = st.import_gwas(src, id="g", trait="t")
    df = st.get("g")
    assert rec["rows"] == len(df) == len(order)
    assert list(zip(df.chr, df.pos, strict=True)) == order
    assert str(df.n.dtype) == "Int64" and (df.n == 1000).all()  # rounded count
    top = st.instruments("g", p=5e-8)
    assert len(top) == len([i for i in range(len(order)) if i % 7 == 0])
    rank = {k: i for i, k in enumerate(order)}
    keys = [rank[k] for k in zip(top.chr, top.pos, strict=True)]
    assert keys == sorted(keys) and top.log10p.min() > 8  # sorted like the main file
    top_file = Path(top_name(rec["file"]))
    assert top_file.is_file() and pq.read_metadata(top_file).num_rows == len(top)
    assert len(st.instruments("g", p=0.6)) == len(order)  # above 1e-5: the main file
    # the top-hits file is what a strict threshold reads: same rows as a full scan
    full = st.get("g")
    assert sorted(top.snp) == sorted(full.snp[full.log10p > -math.log10(5e-8)])


def test_sorted_file_keeps_file_order_and_row_groups(tmp_path):
    order = [(c, p) for c in ("1", "2") for p in range(1, 500)]
    src = tmp_path / "g.tsv"
    src.write_text(HEAD + "".join(_rows(order)))
    st = Store(tmp_path / "s.duckdb")
    st.import_gwas(src, id="g", trait="t")
    meta = pq.read_metadata(st.info("g")["file"])
    assert meta.num_rows == len(order)
    stats = meta.row_group(0).column(meta.schema.names.index("log10p")).statistics
    assert stats.has_min_max  # row-group statistics for p-value pruning


def test_plink19_import_with_alleles(tmp_path, capsys):
    store = tmp_path / "s.duckdb"
    args = ["import", str(FORMATS / "plink_quant.qassoc"), "--store", str(store)]
    assert main([*args, "--id", "q", "--trait", "t"]) == 2
    assert "--alleles" in capsys.readouterr().err
    frq = str(FORMATS / "plink_eur.frq")
    assert main([*args, "--id", "q", "--trait", "t", "--alleles", frq]) == 0
    df = Store(store).get("q")
    assert len(df) == 12 and df.other_allele.notna().all()


@pytest.mark.parametrize("n", ["0.3", "-5", "inf"])
def test_bad_sample_size(tmp_path, n, capsys):
    src = tmp_path / "g.tsv"
    src.write_text(HEAD + "".join(_rows([("1", 5)])).replace("1000.4", n))
    rc = main(
        ["import", str(src), "--store", str(tmp_path / "s.duckdb"), "--id", "g", "--trait", "t"]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "line 2" in err and "sample size" in err, err


@pytest.mark.parametrize("marker", [".", "NaN", "nan", "-nan", "NULL", "N/A", "#N/A", "na"])
def test_rare_missing_markers_read_like_na(tmp_path, marker):
    """The fast attempt knows only NA and empty; any other marker gives the same table."""
    rows = [
        ["1", "100", "A", "G", "0.1", "0.01", "0.5", "rs1", "1000"],
        ["1", "200", "A", "G", "NA", "0.01", "0.5", "rs2", "1000"],
        ["1", "300", "C", "T", "0.1", "0.01", "1e-12", "NA", "1000"],
        ["NA", "400", "C", "T", "0.1", "0.01", "0.3", "rs4", "NA"],
        ["2", "NA", "C", "T", "0.1", "NA", "0.3", "rs5", "1000"],
        ["2", "600", "NA", "T", "0.1", "0.01", "NA", "rs6", "1000"],
    ]
    text = HEAD + "".join("\t".join(r) + "\n" for r in rows)
    (tmp_path / "na.tsv").write_text(text)
    (tmp_path / "m.tsv").write_text(
        text.replace("\tNA", "\t" + marker).replace("\nNA", "\n" + marker)
    )
    from mrkit.io.sumstats.read import read_sumstats

    want = read_sumstats(tmp_path / "na.tsv")
    got = read_sumstats(tmp_path / "m.tsv")
    # rs2 (no beta) and rs6 (no allele, no p) dropped; rs5's SE comes from its p-value
    assert len(want) == 4 and want.attrs["mrkit"]["dropped"] == 2
    assert list(want.snp) == ["rs1", "1:300:C:T", "rs4", "rs5"]
    assert got.equals(want) and got.attrs["mrkit"]["dropped"] == 2, (got, want)
