"""End-to-end study runs on a small simulated study, and bad study files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from mrkit.cli import main
from mrkit.errors import StudyError
from mrkit.study.pipeline import run_study
from mrkit.study.spec import load_study

GAMMA = 0.3

STUDY = """
[study]
name = "toy study"
store = "store.duckdb"
panel = "data/panel"
output = "out"
seed = 5

[[gwas]]
id = "a"
file = "data/a.tsv.gz"
trait = "Trait A"
units = "sd"
n = 100000

[[gwas]]
id = "b"
file = "data/b.tsv.gz"
trait = "Trait B"
n = 50000

[[gwas]]
id = "c"
file = "data/c.tsv.gz"
trait = "Disease C"
units = "log-odds"
ncase = 20000
ncontrol = 30000
prevalence = 0.1

[analysis]
exposures = ["a"]
outcomes = ["b", "c"]
bidirectional = true
methods = ["ivw", "egger", "weighted_median", "weighted_mode"]
nboot = 200
"""


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> Path:
    from mrkit.simulate.run import simulate_study
    from mrkit.simulate.spec import TraitSpec

    root = tmp_path_factory.mktemp("study")
    simulate_study(
        root / "data",
        traits=[
            TraitSpec("a", h2=0.2, n_causal=60, n=100000),
            TraitSpec("b", h2=0.1, n_causal=60, n=50000),
            TraitSpec("c", h2=0.1, n_causal=60, ncase=20000, ncontrol=30000, prevalence=0.1),
        ],
        effects=[("a", "b", GAMMA)],
        panel=dict(n_individuals=1000, n_chromosomes=2, chrom_length=5_000_000, n_snps=6000),
        seed=3,
        workers=1,
    )
    (root / "study.toml").write_text(STUDY)
    return root


@pytest.fixture(scope="module")
def run(simulated):
    return run_study(simulated / "study.toml", quiet=True)


def test_truth_recovered_and_nulls_not_significant(run):
    res = run.results
    ivw = res[res["method"] == "ivw"].set_index(["exposure", "outcome"])
    true = ivw.loc[("a", "b")]
    assert true["ci_lower"] <= GAMMA <= true["ci_upper"]
    assert bool(true["significant"])
    for key in [("a", "c"), ("b", "a"), ("c", "a")]:
        assert not bool(ivw.loc[key, "significant"]), key
    assert {"pval_adjusted", "significant", "or", "or_ci_lower"} <= set(res.columns)
    binary = res[res["outcome"] == "c"]
    assert (binary["or"].notna()).all()


def test_snp_flow_adds_up(run, simulated):
    """Every candidate instrument of an exposure ends in exactly one final state."""
    from mrkit.store.catalog import Store

    store = Store(simulated / "store.duckdb", read_only=True)
    h = run.harmonised
    for (exp, out), rows in h.groupby(["exposure", "outcome"]):
        cands = store.instruments(exp, p=5e-8)
        assert sorted(rows["snp"]) == sorted(cands["snp"]), (exp, out)
        assert rows["snp"].is_unique
        dropped = rows[~rows["keep"]]
        assert dropped["reason"].notna().all()
        used = int(rows["keep"].sum())
        nsnp = run.results.query("exposure == @exp and outcome == @out and method == 'ivw'")
        assert int(nsnp["nsnp"].iloc[0]) == used


def test_outputs_written(run):
    out = run.out_dir
    for name in (
        "results.parquet",
        "results.csv",
        "harmonised.parquet",
        "diagnostics.csv",
        "report.html",
        "manifest.json",
    ):
        assert (out / name).is_file(), name
    figs = {p.name for p in (out / "figures").iterdir()}
    for kind in ("scatter", "forest", "funnel", "loo"):
        assert f"a__b_{kind}.svg" in figs
        assert f"a__b_{kind}.png" not in figs  # [report] figure_formats adds PNG and PDF
    assert "summary_forward.svg" in figs
    m = run.manifest
    assert m["seed"] == 5
    assert set(m["checksums"]) == {"a", "b", "c"}
    assert "numpy" in m["versions"]


def test_rerun_is_noop_and_results_byte_identical(run, simulated, tmp_path):
    again = run_study(simulated / "study.toml", quiet=True)
    assert again.skipped_run
    run_study(simulated / "study.toml", quiet=True, out=tmp_path / "o2")
    for name in ("results.parquet", "results.csv", "harmonised.parquet", "diagnostics.csv"):
        assert (tmp_path / "o2" / name).read_bytes() == (run.out_dir / name).read_bytes(), name
    for png in (run.out_dir / "figures").glob("*.svg"):
        assert (tmp_path / "o2" / "figures" / png.name).read_bytes() == png.read_bytes()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed")
def test_report_renders_in_chromium(run, tmp_path):
    report = run.out_dir / "report.html"
    shot = tmp_path / "report.png"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    proc = subprocess.run(
        ["chromium", *flags, "--window-size=1200,2400", f"--screenshot={shot}", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shot.is_file()
    assert shot.stat().st_size > 10_000
    console = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert not console, console
    dom = subprocess.run(
        ["chromium", *flags, "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    assert 'id="overview-table"' in dom
    assert dom.count('src="figures/') >= 5  # figures are files next to the report
    assert "SNP flow" in dom
    assert "STROBE-MR" in dom


BAD = [
    (
        "missing file",
        lambda s: s.replace('file = "data/a.tsv.gz"', 'file = "data/nope.tsv.gz"'),
        "gwas[0].file",
    ),
    (
        "unknown method",
        lambda s: s.replace('"weighted_mode"]', '"weighted_mod"]'),
        "analysis.methods",
    ),
    (
        "pattern matches nothing",
        lambda s: s.replace('outcomes = ["b", "c"]', 'outcomes = ["qsm_*"]'),
        "analysis.outcomes",
    ),
    ("negative n", lambda s: s.replace("n = 100000", "n = -5"), "gwas[0].n"),
    ("unknown key", lambda s: s.replace("seed = 5", "seed = 5\nseeds = 6"), "study.seeds"),
    ("cases without controls", lambda s: s.replace("ncontrol = 30000\n", ""), "gwas[2]"),
    ("clump without panel", lambda s: s.replace('panel = "data/panel"\n', ""), "study.panel"),
    (
        "bad correction",
        lambda s: s.replace("nboot = 200", 'nboot = 200\ncorrection = "sidak"'),
        "analysis.correction",
    ),
    (
        "unknown method option",
        lambda s: s + "\n[analysis.options.weighted_mode]\nphy = 0.5\n",
        "analysis.options.weighted_mode.phy: unknown option `phy` .*did you mean `phi`",
    ),
    (
        "options of a method not run",
        lambda s: s + "\n[analysis.options.presso]\nn_distributions = 100\n",
        "analysis.options.presso: options for `presso`, which the study does not run",
    ),
    (
        "options of an unknown method",
        lambda s: s + "\n[analysis.options.ivw_wrong]\nmodel = 1\n",
        "analysis.options.ivw_wrong: unknown method",
    ),
    (
        "option of the wrong type",
        lambda s: s + '\n[analysis.options.weighted_median]\nnboot = "many"\n',
        "analysis.options.weighted_median.nboot: expected an integer, got 'many'",
    ),
    (
        "option value the method rejects",
        lambda s: s + '\n[analysis.options.ivw]\nmodel = "randm"\n',
        "analysis.options.ivw: .*randm",
    ),
]


@pytest.mark.parametrize(("name", "edit", "key"), BAD, ids=[b[0] for b in BAD])
def test_bad_study_files_name_the_key(simulated, tmp_path, name, edit, key, capsys):
    for sub in ("data",):
        (tmp_path / sub).symlink_to(simulated / sub)
    study = tmp_path / "study.toml"
    study.write_text(edit(STUDY))
    with pytest.raises(StudyError, match=key.replace("[", r"\[").replace("]", r"\]")) as err:
        load_study(study)
    assert str(err.value).startswith(f"{study}: ")  # the error names the study file
    assert main(["run", str(study), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "error:" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "store.duckdb").exists()


def test_results_columns_contract(run):
    cols = list(pd.read_csv(run.out_dir / "results.csv").columns)
    assert cols[:12] == [
        "exposure",
        "outcome",
        "direction",
        "method",
        "nsnp",
        "estimate",
        "se",
        "ci_lower",
        "ci_upper",
        "pval",
        "pval_adjusted",
        "significant",
    ]
