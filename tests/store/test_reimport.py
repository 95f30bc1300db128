"""A study re-run after editing an import parameter equals a fresh run (issue 13)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from mrkit.errors import StudyError
from mrkit.store.catalog import Store
from mrkit.study.pipeline import run_study

FORMATS = Path(__file__).resolve().parents[1] / "data" / "formats"
STUDY = """
[study]
store = "store.duckdb"
output = "out"

[[gwas]]
id = "exp"
file = "METAL1.tbl"
trait = "{trait}"
units = "{units}"
n = {n}

[[gwas]]
id = "out"
file = "cojo.ma"
trait = "Outcome"

[instruments]
clump = false

[harmonise]
proxies = false

[analysis]
exposures = ["exp"]
outcomes = ["out"]
methods = ["ivw"]
"""


def _study(root: Path, **kw: object) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for f in ("METAL1.tbl", "cojo.ma"):
        shutil.copy(FORMATS / f, root / f)
    path = root / "study.toml"
    path.write_text(STUDY.format(**kw))
    return path


def test_rerun_after_editing_import_parameters_equals_a_fresh_run(tmp_path):
    first = {"trait": "Exposure", "units": "sd", "n": 10000}
    edited = {"trait": "Exposure (edited)", "units": "mg/dl", "n": 20000}
    path = _study(tmp_path / "edited", **first)
    run_study(path, quiet=True)
    path.write_text(STUDY.format(**edited))
    rerun = run_study(path, quiet=True)
    fresh = run_study(_study(tmp_path / "fresh", **edited), quiet=True)
    for name in ("edited", "fresh"):
        info = Store(tmp_path / name / "store.duckdb", read_only=True).info("exp")
        assert (info["trait"], info["units"], info["n"]) == (
            "Exposure (edited)", "mg/dl", 20000.0,
        )  # fmt: skip
        stored_n = Store(tmp_path / name / "store.duckdb", read_only=True).get("exp").n
        assert (stored_n == 20000).all()  # the per-variant n the file lacks
    pd.testing.assert_frame_equal(rerun.results, fresh.results)
    pd.testing.assert_frame_equal(rerun.harmonised, fresh.harmonised)


@pytest.mark.parametrize("output", ["store.duckdb.d", "store.duckdb.d/results", "store.duckdb",
                                    "afile"])  # fmt: skip
def test_output_inside_the_store_or_a_file_is_refused(tmp_path, output):
    path = _study(tmp_path, trait="E", units="sd", n=1000)
    path.write_text(path.read_text().replace('output = "out"', f'output = "{output}"'))
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StudyError, match="output"):
        run_study(path, quiet=True)
    assert not (tmp_path / "store.duckdb").exists()  # refused before anything is written
