# ruff: noqa: PT018, RUF028, RUF043
"""The GWAS store: catalog, queries, builds, replace, and atomicity under SIGKILL."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mrkit.cli import main
from mrkit.errors import InputError, StoreError
from mrkit.store.catalog import Store

FORMATS = Path(__file__).resolve().parents[1] / "data" / "formats"
SSF = FORMATS / "gwas_ssf.tsv.gz"
VCF = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gwasvcf" / "data.vcf.gz"


def snapshot(store: Path) -> dict[str, str]:
    d = Path(str(store) + ".d")
    files = [store, *(sorted(d.iterdir()) if d.exists() else [])]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.is_file()}


@pytest.fixture
def store(tmp_path) -> Store:
    st = Store(tmp_path / "s.duckdb")
    st.import_gwas(SSF, id="ssf", trait="LDL", units="sd", n=10000, build="hg19")
    return st


def test_import_and_catalog(store):
    cat = store.catalog()
    assert list(cat.id) == ["ssf"]
    info = store.info("ssf")
    assert info["build"] == "GRCh37" and info["format"] == "gwas-ssf" and info["rows"] == 6
    assert info["sha256"] == hashlib.sha256(SSF.read_bytes()).hexdigest()
    assert store.find_by_checksum(info["sha256"]) == ["ssf"]
    assert store.has("ssf") and not store.has("nope")
    df = store.get("ssf")
    assert list(df.chr) == ["1", "1", "1", "1", "2", "X"]  # sorted by chr, pos
    assert store.get("ssf", columns=["snp", "beta"]).shape == (6, 2)


def test_import_returns_the_catalog_row_and_infos_reads_all(store):
    rec = store.import_gwas(SSF, id="two", trait="LDL again", ncase=10, ncontrol=30)
    assert rec == store.info("two")
    assert rec["n"] == 40.0
    assert store.infos() == {"ssf": store.info("ssf"), "two": rec}
    assert Store(store.path.with_name("none.duckdb"), read_only=True).infos() == {}


@pytest.mark.parametrize(
    ("kw", "bad"), [({"ncase": -10, "ncontrol": 30}, "ncase"), ({"n": 0}, "n")]
)
def test_sample_sizes_must_be_positive(store, kw, bad):
    with pytest.raises(InputError, match=f"^{bad} must be a positive number"):
        store.import_gwas(SSF, id="bad", trait="LDL", **kw)
    assert not store.has("bad")


def test_lookup_spells_chromosomes_as_stored(store):
    x = store.get("ssf").query("chr == 'X'")
    keys = [f"chr23:{p}" for p in x.pos]
    assert store.lookup("ssf", chrpos=keys).snp.tolist() == x.snp.tolist()


def test_a_duckdb_file_that_is_not_a_store(tmp_path):
    import duckdb

    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t (a INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="not an mrkit store"):
        Store(path, read_only=True).infos()


def test_instruments_use_log10p(store):
    assert set(store.instruments("ssf").snp) == {"rs4970383", "rs555"}
    tiny = store.instruments("ssf", p=1e-300)
    assert list(tiny.snp) == ["rs4970383"]  # p = 1.2e-400 is kept
    assert tiny.log10p.iloc[0] == pytest.approx(399.9208187539524, rel=1e-12)


def test_lookup(store):
    assert list(store.lookup("ssf", ["rs555", "rs3094315", "rsX"]).snp) == ["rs3094315", "rs555"]
    by_pos = store.lookup("ssf", chrpos=["1:768448", "chr2:10001:T:TA", "2:10001:A:G"])
    assert sorted(by_pos.snp) == ["rs12562034", "rs555"]
    with pytest.raises(StoreError, match="GRCh37.*GRCh38"):
        store.lookup("ssf", chrpos=["1:768448"], build="GRCh38")


def test_build_mismatch_refused(store):
    store.import_gwas(FORMATS / "saige_step2.txt", id="saige", trait="T2D", build="GRCh38")
    with pytest.raises(StoreError, match=r"ssf is GRCh37 and saige is GRCh38"):
        store.check_builds("ssf", "saige")
    store.import_gwas(VCF, id="bmi", trait="BMI")  # build read from the VCF header
    assert store.check_builds("ssf", "bmi") == "GRCh37"


def test_replace_needed(store, capsys):
    snap = snapshot(store.path)
    rc = main(["import", str(SSF), "--store", str(store.path), "--id", "ssf", "--trait", "x"])
    assert rc == 2 and "--replace" in capsys.readouterr().err
    assert snapshot(store.path) == snap
    args = ["import", str(SSF), "--store", str(store.path), "--id", "ssf", "--trait", "x"]
    assert main([*args, "--replace"]) == 0
    assert store.info("ssf")["trait"] == "x"
    # old files removed: one table and its top-hits file remain
    assert len(list(Path(str(store.path) + ".d").iterdir())) == 2


def test_studies_cli(store, capsys):
    capsys.readouterr()
    assert main(["studies", "--store", str(store.path), "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert recs[0]["id"] == "ssf" and recs[0]["n"] == 10000
    assert main(["studies", "--store", str(store.path)]) == 0
    assert "ssf" in capsys.readouterr().out


def test_load_gwas(store):
    from mrkit.store.catalog import load_gwas

    df, meta = load_gwas("ssf", store=store)
    assert len(df) == 6 and meta["trait"] == "LDL"
    df, meta = load_gwas(SSF)
    assert meta["format"] == "gwas-ssf"
    with pytest.raises(StoreError, match="neither a file"):
        load_gwas("nope", store=store)


CRASH = """
import sys
from mrkit.store.catalog import Store
Store(sys.argv[1]).import_gwas(sys.argv[2], id=sys.argv[3], trait="t", replace=True)
"""


@pytest.mark.parametrize(
    ("point", "gid"),
    [
        ("after_read", "new"),
        ("after_parquet", "ssf"),
        ("after_rename", "ssf"),
        ("after_rename", "new"),
        ("after_commit", "ssf"),
    ],  # fmt: skip
)
def test_sigkill_leaves_store_unchanged(store, point, gid):
    before = snapshot(store.path)
    cat = store.catalog()
    env = {**os.environ, "MRKIT_CRASH_AT": point}
    src = FORMATS / "bolt_lmm.stats.gz"
    proc = subprocess.run(
        [sys.executable, "-c", CRASH, str(store.path), str(src), gid], env=env, timeout=120
    )
    assert proc.returncode == -9
    reopened = Store(store.path)  # opens (recovering) without error
    if point == "after_commit":  # committed: the new GWAS is complete, old file cleaned up
        assert reopened.info("ssf")["format"] == "bolt-lmm"
        assert len(reopened.get("ssf")) == 6
        assert len(list(reopened.dir.iterdir())) == 2  # table + top hits
    else:
        assert snapshot(store.path) == before
        assert reopened.catalog().equals(cat)
        assert len(reopened.get("ssf")) == 6
