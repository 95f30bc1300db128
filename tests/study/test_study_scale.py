"""Study runs at scale: results streamed to Parquet parts, resume after a crash, the same
results on a Dask LocalCluster, failed pairs recorded, the report policy for many pairs,
and ``mrkit phewas``.

The study is synthetic (numpy, no LD: see ``study_synth.py``): outcome ``y<j>`` is
caused by exposure ``x<j>`` only; ``empty`` has no instrument.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from study_synth import make_study

from mrkit.cli import main
from mrkit.study.parts import PARTS_DIR, read_part
from mrkit.study.pipeline import run_study

NO_FIGS = '\n[report]\npair_figures = "none"\n'
TABLES = ("results.parquet", "results.csv", "harmonised.parquet", "diagnostics.csv")


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scale")
    return make_study(root, n_exposures=3, n_outcomes=2, empty=True, extra=NO_FIGS)


@pytest.fixture(scope="module")
def reference(study):
    """An uninterrupted local run."""
    return run_study(study, quiet=True, out=study.parent / "ref")


def _same_tables(a: Path, b: Path) -> None:
    for name in TABLES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_parts_written_and_failures_recorded(reference):
    out = reference.out_dir
    stats = reference.manifest["analysis"]
    assert stats == {**stats, "pairs": 8, "computed": 6, "reused": 0, "failed": 2}
    parts = sorted((out / PARTS_DIR).glob("*.parquet"))
    assert len(parts) == 6  # the two failed pairs never reach an engine
    assert not [p for p in (out / PARTS_DIR).iterdir() if p not in parts]  # no input, no tmp
    log = pd.read_csv(out / "pairs.csv")
    assert list(log.columns) == [
        "exposure",
        "outcome",
        "direction",
        "status",
        "error",
        "nsnp",
        "elapsed_s",
        "reused",
    ]
    failed = log[log["status"] == "failed"]
    assert set(failed["exposure"]) == {"empty"}
    assert failed["error"].str.contains("no variant of 'empty' reaches p < 5e-08").all()
    ok = log[log["status"] == "ok"]
    assert (ok["elapsed_s"] > 0).all()
    assert (ok["nsnp"] == 12).all()
    diag = pd.read_csv(out / "diagnostics.csv")
    assert diag.loc[diag["exposure"] == "empty", "error"].notna().all()
    html = (out / "report.html").read_text()
    assert 'id="failed-table"' in html
    assert "no variant of" in html
    ivw = reference.results.query("method == 'ivw'").set_index(["exposure", "outcome"])
    assert bool(ivw.loc[("x0", "y0"), "significant"])
    assert bool(ivw.loc[("x1", "y1"), "significant"])
    assert not ivw.loc[[("x0", "y1"), ("x2", "y0"), ("x2", "y1")], "significant"].any()


def test_crash_mid_run_then_resume_computes_only_missing_pairs(study, reference, tmp_path):
    out = tmp_path / "crashed"
    env = {**os.environ, "MRKIT_CRASH_AFTER_PAIRS": "2"}
    proc = subprocess.run(
        [sys.executable, "-m", "mrkit", "run", str(study), "--out", str(out), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == -9, proc.stderr[-2000:]
    left = {p.name.split("-")[0] for p in (out / PARTS_DIR).iterdir()}
    assert len([n for n in left if n != "input"]) == 2  # two finished pairs survived
    assert not (out / "results.parquet").exists()
    again = run_study(study, quiet=True, out=out)
    assert again.manifest["analysis"]["computed"] == 4
    assert again.manifest["analysis"]["reused"] == 2
    _same_tables(reference.out_dir, out)
    log = pd.read_csv(out / "pairs.csv")
    assert int(log["reused"].sum()) == 2
    # nothing left to compute: a forced re-run reuses every part
    third = run_study(study, quiet=True, out=out, force=True)
    assert third.manifest["analysis"]["computed"] == 0
    _same_tables(reference.out_dir, out)


def test_damaged_or_stale_part_is_recomputed(reference, tmp_path):
    part = next((reference.out_dir / PARTS_DIR).glob("*.parquet"))
    fp = part.name.removesuffix(".parquet")
    assert read_part(part, fp) is not None
    assert read_part(part, "0" * 64) is None  # another fingerprint: stale
    bad = tmp_path / f"{fp}.parquet"
    bad.write_bytes(part.read_bytes()[:100])
    assert read_part(bad, fp) is None


def test_added_pairs_only_compute_the_new_ones(study, reference, tmp_path):
    out = tmp_path / "grow"
    small = study.parent / "small.toml"
    small.write_text(study.read_text().replace('outcomes = ["y*"]', 'outcomes = ["y0"]'))
    first = run_study(small, quiet=True, out=out)
    assert first.manifest["analysis"]["computed"] == 3
    grown = run_study(study, quiet=True, out=out)
    assert grown.manifest["analysis"]["computed"] == 3
    assert grown.manifest["analysis"]["reused"] == 3
    _same_tables(reference.out_dir, out)


def test_dask_local_cluster_study_equals_local(study, reference, tmp_path):
    pytest.importorskip("distributed")
    dask_study = study.parent / "dask.toml"
    dask_study.write_text(study.read_text() + '\n[engine]\nkind = "dask"\nworkers = 2\n')
    run = run_study(dask_study, quiet=True, out=tmp_path / "dask")
    assert run.manifest["analysis"]["engine"] == "dask"
    assert run.manifest["analysis"]["tasks"] >= 2  # chunks spread over the two workers
    _same_tables(reference.out_dir, tmp_path / "dask")


def test_many_pairs_report_policy(study, tmp_path):
    """More pairs than ``max_pairs``: figures and sections only for significant pairs."""
    many = study.parent / "many.toml"
    many.write_text(study.read_text().replace('"none"', '"auto"\nmax_pairs = 4'))
    run = run_study(many, quiet=True, out=tmp_path / "many")
    figs = {p.name for p in (run.out_dir / "figures").glob("*_scatter.svg")}
    assert figs == {"x0__y0_scatter.svg", "x1__y1_scatter.svg"}
    html = (run.out_dir / "report.html").read_text()
    assert html.count('<section class="pair"') == 2
    assert "Detailed sections and figures for 2 of 8 pairs" in html
    assert 'id="failed-table"' in html
    assert "smallest p of 6" in json.dumps(run.manifest) or "summary_forward.svg" in {
        p.name for p in (run.out_dir / "figures").iterdir()
    }


def test_method_options_reach_every_pair_and_the_manifest(study, reference, tmp_path):
    """``[analysis.options.METHOD]`` (by name or alias) reaches the methods of every pair."""
    text = study.read_text() + (
        "\n[analysis.options.mr_weighted_median]\nnboot = 40\nseed = 5\n"
        "\n[analysis.options.weighted_mode]\nphi = 0.5\n"
    )
    opts = study.parent / "options.toml"
    opts.write_text(text)
    run = run_study(opts, quiet=True, out=tmp_path / "opts")
    res = run.results
    wm = res[res["method"] == "weighted_median"]
    assert len(wm) == 6
    assert (wm["nboot"] == 40).all()
    assert (wm["seed"] == 5).all()
    mode = res[res["method"] == "weighted_mode"]
    assert (mode["phi"] == 0.5).all()
    assert (mode["nboot"] == 100).all()  # the study's nboot where no option overrides it
    ref = reference.results.set_index(["exposure", "outcome", "method"])
    got = res.set_index(["exposure", "outcome", "method"]).loc[ref.index]
    changed = {
        col: (got[col] != ref[col]).groupby("method").all().to_dict() for col in ("estimate", "se")
    }
    assert changed["estimate"] == {
        "egger": False,
        "ivw": False,
        "weighted_median": False,  # the median itself does not depend on the draws
        "weighted_mode": True,
    }
    assert changed["se"]["weighted_median"]
    assert not changed["se"]["ivw"]
    params = run.manifest["parameters"]["analysis"]["options"]
    assert params == {"weighted_median": {"nboot": 40, "seed": 5}, "weighted_mode": {"phi": 0.5}}
    assert run.manifest["analysis"]["computed"] == 6  # new options: new fingerprints


def test_phewas_exposure_and_outcome(study, reference, tmp_path, capsys):
    store = study.parent / "store.duckdb"  # filled by the reference run
    out = tmp_path / "phe"
    argv = ["phewas", "--store", str(store), "--exposure", "x0", "--no-clump"]
    argv += ["--nboot", "50", "--out", str(out), "--quiet", "--seed", "3"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "5 pairs analysed, 0 failed" in text
    res = pd.read_parquet(out / "results.parquet")
    assert set(res["outcome"]) == {"x1", "x2", "y0", "y1", "empty"}
    ivw = res[res["method"] == "ivw"].set_index("outcome")
    assert bool(ivw.loc["y0", "significant"])
    assert not bool(ivw.loc["y1", "significant"])
    assert (out / "study.toml").is_file()
    assert (out / "report.html").is_file()
    assert main(argv) == 0  # unchanged: nothing to do
    assert "nothing changed" in capsys.readouterr().out

    out2 = tmp_path / "phe_out"
    argv = ["phewas", "--store", str(store), "--outcome", "y1", "--no-clump", "--nboot", "50"]
    argv += ["--out", str(out2), "--quiet", "--correction", "bh", "--methods", "ivw,egger"]
    argv += ["--set", "ivw.model=fixed"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "5 pairs analysed, 1 failed" in text
    assert "empty -> y1" in text
    assert "no instruments" in text
    res = pd.read_parquet(out2 / "results.parquet")
    assert set(res["method"]) <= {"ivw", "egger", "wald_ratio"}
    sig = res[(res["method"] == "ivw") & res["significant"]]
    assert sig["exposure"].tolist() == ["x1"]
    m = json.loads((out2 / "manifest.json").read_text())
    assert m["parameters"]["analysis"]["correction"] == "fdr_bh"
    assert m["parameters"]["analysis"]["options"] == {"ivw": {"model": "fixed"}}
    assert (res.loc[res["method"] == "ivw", "model"] == "fixed").all()
    assert "[analysis.options.ivw]" in (out2 / "study.toml").read_text()


def test_phewas_errors(study, reference, tmp_path, capsys):
    store = study.parent / "store.duckdb"
    assert main(["phewas", "--store", str(store), "--exposure", "x0", "--out", str(tmp_path)]) == 2
    assert "--panel" in capsys.readouterr().err
    argv = ["phewas", "--store", str(store), "--exposure", "nope", "--no-clump"]
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert "no GWAS with id 'nope'" in capsys.readouterr().err
    assert main(["phewas", "--store", str(store), "--no-clump", "--out", str(tmp_path)]) == 2
    assert "exactly one of --exposure and --outcome" in capsys.readouterr().err
