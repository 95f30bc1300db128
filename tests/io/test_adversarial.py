# ruff: noqa: PT018
"""The adversarial corpus (tests/io/adversarial_cases.py) through the real ``mrkit import``.

Every refused file: exit 2, one ``error:`` line naming the file (and line and column
where the case says), no traceback, and the store byte-identical. Every accepted
file: imported, and its normalised table holds what the case says.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from adversarial_cases import ACCEPTED, REFUSED, gen

from mrkit.cli import main
from mrkit.io.sumstats.read import read_sumstats

MRKIT = [sys.executable, "-m", "mrkit"]
#: Cases whose problem is one row: ``--bad-rows skip`` must drop it, not refuse the file.
ROW_PROBLEMS = ("chr_", "allele_", "ea_eq_oa", "dup_", "p_zero", "log10p_", "n_", "pos_",
                "p_", "se_", "beta_", "eaf_", "quote_", "vcf_lp", "vcf_ss")  # fmt: skip


def snapshot(store: Path) -> dict[str, str]:
    d = Path(str(store) + ".d")
    files = [store, *(sorted(d.iterdir()) if d.exists() else [])]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.is_file()}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("store")
    good = d / "good.tsv"
    good.write_bytes(gen())
    st = d / "s.duckdb"
    assert main(["import", str(good), "--store", str(st), "--id", "good", "--trait", "t"]) == 0
    return st


def test_corpus_size():
    assert len(REFUSED) + len(ACCEPTED) >= 120
    assert len(REFUSED) >= 100


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) >= 1 and lines[0].startswith("error:"), err
    assert err.count("error:") == 1 and "Traceback" not in err, err
    return " ".join(err.split())


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused(case, store, tmp_path, capsys):
    name, content, line, column, words = REFUSED[case]
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot(store)
    capsys.readouterr()
    gid = re.sub(r"[^A-Za-z0-9._-]", "_", case)  # (a refusal that fails stays apart)
    rc = main(["import", str(path), "--store", str(store), "--id", gid, "--trait", "t"])
    err = capsys.readouterr().err
    assert rc == 2, err
    msg = _one_line(err)
    assert name in msg, msg
    assert words.lower() in msg.lower(), msg
    assert "Conversion Error" not in msg and "CSV Error" not in msg, msg
    if line is not None:
        assert f"line {line}" in msg, msg
    if column is not None:
        assert f"column `{column}`" in msg, msg
    assert snapshot(store) == before


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_accepted(case, store, tmp_path, capsys):
    name, content, check = ACCEPTED[case]
    path = tmp_path / name
    path.write_bytes(content)
    df = read_sumstats(path)
    assert check(df) is not False
    gid = "acc_" + re.sub(r"[^A-Za-z0-9._-]", "_", case)
    rc = main(["import", str(path), "--store", str(store), "--id", gid, "--trait", "t"])
    assert rc == 0, capsys.readouterr().err


def test_fifo_refused_without_hanging(store, tmp_path, capsys):
    fifo = tmp_path / "pipe.tsv"
    os.mkfifo(fifo)
    before = snapshot(store)
    capsys.readouterr()
    rc = main(["import", str(fifo), "--store", str(store), "--id", "new", "--trait", "t"])
    msg = _one_line(capsys.readouterr().err)
    assert rc == 2 and "not a regular file" in msg and "pipe.tsv" in msg
    assert snapshot(store) == before


def test_process_substitution_and_stdin_refused(store, tmp_path):
    """``<(cat f)`` and a piped ``/dev/stdin``: refused up front, in a real process."""
    good = tmp_path / "good.tsv"
    good.write_bytes(gen())
    before = snapshot(store)
    cmd = " ".join([*MRKIT, "import", "<(cat %s)", "--store", "%s", "--id", "new", "--trait", "t"])
    proc = subprocess.run(
        ["bash", "-c", cmd % (good, store)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    msg = _one_line(proc.stderr)
    assert "not a regular file" in msg
    proc = subprocess.run(
        [*MRKIT, "import", "/dev/stdin", "--store", str(store), "--id", "new", "--trait", "t"],
        input=gen().decode(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "not a regular file" in _one_line(proc.stderr)
    assert snapshot(store) == before


def test_stdin_redirected_from_a_file_is_read(tmp_path):
    good = tmp_path / "good.tsv"
    good.write_bytes(gen())
    st = tmp_path / "s.duckdb"
    with open(good, "rb") as fh:
        proc = subprocess.run(
            [*MRKIT, "import", "/dev/stdin", "--store", str(st), "--id", "g", "--trait", "t"],
            stdin=fh,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    from mrkit.store.catalog import Store

    assert len(Store(st, read_only=True).get("g")) == 4


@pytest.mark.parametrize("case", ["chr_chrQ_ssf", "latin1_snp", "n_1e30", "quote_open_csv"])
def test_refused_in_a_real_process(case, store, tmp_path):
    """The same refusals from the ``mrkit`` executable: exit 2, no traceback."""
    name, content, line, _column, _ = REFUSED[case]
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot(store)
    proc = subprocess.run(
        [*MRKIT, "import", str(path), "--store", str(store), "--id", "new", "--trait", "t"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    msg = _one_line(proc.stderr)
    assert f"line {line}" in msg and proc.stdout == ""
    assert snapshot(store) == before


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_or_skipped_with_bad_rows_skip(case, store, tmp_path, capsys):
    """``--bad-rows skip``: a bad row is dropped with its line in the rejected-rows file;
    a problem of the whole file is still refused (exit 2, store unchanged)."""
    from mrkit.store.catalog import Store

    name, content, line, _column, _words = REFUSED[case]
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot(store)
    gid = "skip_" + re.sub(r"[^A-Za-z0-9._-]", "_", case)
    capsys.readouterr()
    rc = main(["import", str(path), "--store", str(store), "--id", gid, "--trait", "t",
               "--bad-rows", "skip"])  # fmt: skip
    err = capsys.readouterr().err
    if rc == 2:
        _one_line(err)
        assert snapshot(store) == before
        assert name in err and "kept-" not in err, err  # (the file given, not a copy)
        assert not case.startswith(ROW_PROBLEMS) or "after skipping" in err, err
        return
    assert rc == 0, err
    info = Store(store).info(gid)
    assert info["rejected"] >= 1, case
    rejected = Path(info["rejected_file"]).read_text().splitlines()[2:]
    lines = {int(r.split("\t")[0]) for r in rejected}
    assert line in lines, (case, rejected)
