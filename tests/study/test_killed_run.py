"""A killed ``mrkit run --force`` never leaves outputs that the next run takes as finished.

Real processes and real SIGKILLs: the run deletes the old ``manifest.json`` before it
changes any output, writes each output to a temporary name and renames it, and writes
the manifest last; so after a kill the next plain ``mrkit run`` recomputes everything.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from study_synth import make_study

OUTPUTS = ("results.parquet", "results.csv", "harmonised.parquet", "diagnostics.csv", "report.html")


def _mrkit(study: Path, *args: str, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "mrkit.cli", "run", str(study), "--quiet", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def finished(tmp_path) -> tuple[Path, dict, bytes]:
    study = make_study(tmp_path, n_exposures=2, n_outcomes=2, n_snps=1500, nboot=50)
    first = _mrkit(study)
    assert first.returncode == 0, first.stderr
    out = tmp_path / "out"
    return (
        study,
        json.loads((out / "manifest.json").read_text()),
        (out / "results.csv").read_bytes(),
    )


def _check_recomputed(study: Path, manifest: dict, results: bytes) -> None:
    out = study.parent / "out"
    again = _mrkit(study)  # no --force: only a finished run's manifest may skip the work
    assert again.returncode == 0, again.stderr
    assert "nothing changed" not in again.stdout
    assert "pairs analysed" in again.stdout
    new = json.loads((out / "manifest.json").read_text())
    assert new["fingerprint"] == manifest["fingerprint"]
    assert (out / "results.csv").read_bytes() == results  # the same answer as before
    for name in OUTPUTS:
        assert (out / name).stat().st_size > 0, name
    assert not list(out.rglob("*.partial"))
    # and now, finished, a re-run does nothing
    third = _mrkit(study)
    assert "nothing changed" in third.stdout


def test_killed_during_the_pairs(finished):
    study, manifest, results = finished
    out = study.parent / "out"
    shutil.rmtree(out / ".pairs")  # the forced run must compute its pairs (no parts to reuse)
    killed = _mrkit(study, "--force", env={"MRKIT_CRASH_AFTER_PAIRS": "1"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (out / "manifest.json").exists()  # invalidated before anything changed
    # what a kill in the middle of writing leaves: a truncated output and a figure of 0 bytes
    (out / "results.csv").write_bytes(b"")
    next(iter(sorted((out / "figures").glob("*.svg")))).write_bytes(b"")
    _check_recomputed(study, manifest, results)
    assert all(f.stat().st_size > 0 for f in (out / "figures").glob("*.svg"))


def test_killed_after_the_outputs_before_the_manifest(finished):
    study, manifest, results = finished
    out = study.parent / "out"
    killed = _mrkit(study, "--force", env={"MRKIT_CRASH_BEFORE_MANIFEST": "1"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (out / "manifest.json").exists()
    assert not list(out.rglob("*.partial"))  # every output renamed whole
    _check_recomputed(study, manifest, results)
