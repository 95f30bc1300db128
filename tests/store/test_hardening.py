# ruff: noqa: PT018
"""The store under adversarial use (issue 13): bad rows skipped on request, metadata of
TwoSampleMR-shaped files, re-import decisions, recovery races, killed first imports,
catalogs naming outside files, results folders inside the store, lock contention."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mrkit.cli import main
from mrkit.errors import FileFormatError, StoreError
from mrkit.store.catalog import Store

FORMATS = Path(__file__).resolve().parents[1] / "data" / "formats"
SSF = FORMATS / "gwas_ssf.tsv.gz"
HEAD = "SNP\tCHR\tBP\tA1\tA2\tBETA\tSE\tP\tN\n"
GOOD = [
    "rs1\t1\t1000\tA\tG\t0.10\t0.02\t1e-6\t5000\n",
    "rs2\t1\t2000\tC\tT\t-0.05\t0.01\t3e-7\t5000\n",
    "rs3\t2\t3000\tG\tA\t0.01\t0.02\t0.6\t5000\n",
    "rs4\t3\t4000\tT\tC\t0.20\t0.03\t2e-11\t5000\n",
]


def snapshot(store: Path) -> dict[str, str]:
    d = Path(str(store) + ".d")
    files = [store, *(sorted(d.iterdir()) if d.exists() else [])]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.is_file()}


def _bad_file(tmp_path: Path) -> Path:
    rows = [
        GOOD[0],
        "rs5\t1\t1500\t<CN0>\tG\t0.1\t0.02\t1e-3\t5000\n",  # line 3: 1000 Genomes CNV
        GOOD[1],
        "rs6\tchrQ\t2500\tA\tG\t0.1\t0.02\t1e-3\t5000\n",  # line 5
        GOOD[2],
        "rs1\t1\t1000\tA\tG\t-0.10\t0.02\t1e-6\t5000\n",  # line 7: rs1 again, other beta
        GOOD[3],
    ]
    f = tmp_path / "bad.tsv"
    f.write_text(HEAD + "".join(rows))
    return f


def test_bad_rows_refused_by_default_and_skipped_on_request(tmp_path, capsys):
    f = _bad_file(tmp_path)
    st = tmp_path / "s.duckdb"
    args = ["import", str(f), "--store", str(st), "--id", "g", "--trait", "t"]
    assert main(args) == 2
    assert "line 3, column `A1`" in " ".join(capsys.readouterr().err.split())
    assert not st.exists() and not Path(str(st) + ".d").exists()
    assert main([*args, "--bad-rows", "skip"]) == 0
    assert "bad rows skipped" in " ".join(capsys.readouterr().out.split())
    store = Store(st)
    info = store.info("g")
    assert info["rows"] == 3 and info["rejected"] == 4
    assert sorted(store.get("g").snp) == ["rs2", "rs3", "rs4"]  # rs1: two different rows
    lines = Path(info["rejected_file"]).read_text().splitlines()
    assert lines[1] == "line\tcolumn\treason"
    got = [ln.split("\t") for ln in lines[2:]]
    assert [(int(a), b) for a, b, _ in got] == [(2, "SNP"), (3, "A1"), (5, "CHR"), (7, "SNP")]
    assert "A/C/G/T" in got[1][2] and "chrQ" in got[2][2] and "lines 2, 7" in got[3][2]
    store.remove("g")  # the rejected-rows file goes with the GWAS
    assert not Path(info["rejected_file"]).exists()


def test_bad_rows_skip_still_refuses_a_bad_file(tmp_path):
    f = tmp_path / "latin.tsv"
    f.write_bytes((HEAD + GOOD[0]).encode() + b"rs\xe9\t1\t5\tA\tG\t0.1\t0.1\t0.5\t10\n")
    with pytest.raises(FileFormatError, match=r"line 3.*not UTF-8"):
        Store(tmp_path / "s.duckdb").import_gwas(f, id="g", trait="t", bad_rows="skip")
    with pytest.raises(Exception, match="bad_rows must be one of"):
        Store(tmp_path / "s.duckdb").import_gwas(SSF, id="g", trait="t", bad_rows="drop")  # type: ignore[arg-type]


def test_twosamplemr_metadata_used(tmp_path):
    f = tmp_path / "exposure.csv"
    head = "SNP,beta.exposure,se.exposure,effect_allele.exposure,other_allele.exposure,"
    head += "pval.exposure,ncase.exposure,ncontrol.exposure,units.exposure,exposure\n"
    f.write_text(
        head
        + "rs1,0.1,0.02,A,G,1e-6,1200,3400,log odds,T2D\n"
        + "rs2,-0.1,0.02,C,T,1e-7,1200,3400,log odds,T2D\n"
    )
    rec = Store(tmp_path / "s.duckdb").import_gwas(f, id="t2d", trait="T2D")
    assert rec["units"] == "log odds" and rec["ncase"] == 1200 and rec["ncontrol"] == 3400
    assert rec["n"] == 4600
    rec = Store(tmp_path / "s.duckdb").import_gwas(f, id="t2", trait="T2D", units="OR", n=10)
    assert rec["units"] == "OR" and rec["n"] == 10  # what the user gives wins


def test_up_to_date_follows_every_import_parameter(tmp_path):
    st = Store(tmp_path / "s.duckdb")
    kw = {"trait": "LDL", "units": "sd", "n": 10000, "build": "GRCh37"}
    st.import_gwas(SSF, id="ssf", **kw)
    sha = hashlib.sha256(SSF.read_bytes()).hexdigest()
    assert st.up_to_date("ssf", sha, **kw)
    assert st.up_to_date("ssf", sha, **{**kw, "build": "hg19"})  # same build, other spelling
    changes = ({"n": 12000}, {"trait": "HDL"}, {"units": "mg/dl"}, {"build": "GRCh38"},
               {"population": "EUR"}, {"format": "gwas-ssf"}, {"bad_rows": "skip"})  # fmt: skip
    for change in changes:
        assert not st.up_to_date("ssf", sha, **{**kw, **change}), change
    assert not st.up_to_date("ssf", "0" * 64, **kw)
    assert not st.up_to_date("nope", sha, **kw)


RECOVER = """
import sys
from mrkit.store.catalog import Store
Store(sys.argv[1])
"""
IMPORT = """
import sys
from mrkit.store.catalog import Store
Store(sys.argv[1]).import_gwas(sys.argv[2], id=sys.argv[3], trait="t")
"""


def test_recovery_never_deletes_a_file_committed_meanwhile(tmp_path):
    """Process A recovers (paused between reading the catalog and cleaning the folder);
    process B imports meanwhile: B's file must survive (A holds the write lock)."""
    st = Store(tmp_path / "s.duckdb")
    st.import_gwas(SSF, id="ssf", trait="LDL")
    env = {**os.environ, "MRKIT_PAUSE_AT": "recover_read", "MRKIT_PAUSE_DIR": str(tmp_path)}
    a = subprocess.Popen([sys.executable, "-c", RECOVER, str(st.path)], env=env)
    try:
        end = time.monotonic() + 60
        while not (tmp_path / "recover_read.reached").exists():
            assert time.monotonic() < end and a.poll() is None
            time.sleep(0.02)
        b = subprocess.Popen(
            [sys.executable, "-c", IMPORT, str(st.path), str(FORMATS / "cojo.ma"), "new"],
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(iter(b.stderr.readline, "")))
        reader.start()
        end = time.monotonic() + 90  # B starts (slowly on a busy machine) and meets the lock
        while not any("in use by another process" in line for line in lines):
            assert time.monotonic() < end and b.poll() is None, "".join(lines)
            time.sleep(0.05)
        (tmp_path / "recover_read.go").touch()
        assert a.wait(60) == 0
        assert b.wait(120) == 0, "".join(lines)
        reader.join(10)
        err = "".join(lines)
    finally:
        a.kill()
    again = Store(st.path, read_only=True)
    assert len(again.get("new")) == 6 and len(again.get("ssf")) == 6
    assert "in use by another process" in err


def test_killed_first_import_leaves_nothing(tmp_path):
    path = tmp_path / "s.duckdb"
    env = {**os.environ, "MRKIT_CRASH_AT": "after_read"}
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT, str(path), str(SSF), "ssf"], env=env, timeout=120
    )
    assert proc.returncode == -9
    d = Path(str(path) + ".d")
    assert any(f.name.startswith(".tmp-") for f in d.iterdir())
    Store(path)  # the next writable open cleans up
    assert not d.exists() and not path.exists()


def test_catalog_naming_a_file_outside_the_store(tmp_path):
    import duckdb

    st = Store(tmp_path / "store" / "s.duckdb")
    st.import_gwas(SSF, id="ssf", trait="LDL")
    outside = tmp_path / "elsewhere" / "x.parquet"
    outside.parent.mkdir()
    outside.write_bytes(b"precious")
    con = duckdb.connect(str(st.path))
    con.execute("UPDATE catalog SET file = '../../elsewhere/x.parquet' WHERE id = 'ssf'")
    con.close()
    with pytest.raises(StoreError, match="not a file of the store's own folder"):
        st.info("ssf")
    with pytest.raises(StoreError, match="not a file of the store's own folder"):
        st.import_gwas(SSF, id="ssf", trait="LDL", replace=True)
    assert outside.read_bytes() == b"precious"


def test_a_results_folder_inside_the_store_folder_is_left_alone(tmp_path):
    st = Store(tmp_path / "s.duckdb")
    st.import_gwas(SSF, id="ssf", trait="LDL")
    results = st.dir / "results.parquet"
    results.write_bytes(b"results")
    (st.dir / "harmonised.parquet").write_bytes(b"harmonised")
    before = snapshot(st.path)
    Store(st.path)  # recovery
    assert snapshot(st.path) == before


HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
open(sys.argv[2], "w").close()
time.sleep(float(sys.argv[3]))
con.close()
"""


@pytest.mark.parametrize("wait", [60, 0.5])
def test_lock_contention_waits_a_bounded_time(tmp_path, wait):
    st = Store(tmp_path / "s.duckdb")
    st.import_gwas(SSF, id="ssf", trait="LDL")
    flag = tmp_path / "held"
    hold = "5" if wait == 60 else "10"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(st.path), str(flag), hold])
    try:
        while not flag.exists():
            assert holder.poll() is None
            time.sleep(0.02)
        env = {**os.environ, "MRKIT_LOCK_WAIT": str(wait)}
        cmd = [sys.executable, "-m", "mrkit", "import", str(FORMATS / "cojo.ma"), "--store",
               str(st.path), "--id", "new", "--trait", "t"]  # fmt: skip
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    finally:
        holder.wait(30)
    assert "in use by another process" in proc.stderr
    if wait == 60:
        assert proc.returncode == 0, proc.stderr
        assert Store(st.path).has("new")
    else:
        assert proc.returncode == 2 and "after waiting 0.5 s" in proc.stderr
        assert "Traceback" not in proc.stderr and not Store(st.path).has("new")


def test_disk_full_during_import_is_one_line(tmp_path, monkeypatch, capsys):
    import errno

    from mrkit.io.sumstats import _parquet

    st = Store(tmp_path / "s.duckdb")
    st.import_gwas(SSF, id="ssf", trait="LDL")
    before = snapshot(st.path)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(st.dir / "x.parquet"))

    monkeypatch.setattr(_parquet, "open_writer", full)
    capsys.readouterr()
    rc = main(["import", str(FORMATS / "cojo.ma"), "--store", str(st.path), "--id", "new",
               "--trait", "t"])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and err.count("error:") == 1 and "Traceback" not in err
    assert "No space left on device" in err and "nothing was changed" in " ".join(err.split())
    assert snapshot(st.path) == before
