"""A corpus of bad study files: each refused by ``mrkit run`` before anything is written.

Every case is a small edit of one valid study file next to tiny data files and an
(empty) PLINK panel: the refusals below come before any file is read, so the data
need only exist. Each goes through the real command (:func:`mrkit.cli.main`), which
must exit 2 with one ``error:`` line naming the study file and the key, print no
traceback, and leave no store, output folder or manifest behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from mrkit.cli import main
from mrkit.study.spec import load_study

VALID = """\
[study]
name = "bad files"
store = "store.duckdb"
panel = "ref/panel"
output = "out"
seed = 5

[[gwas]]
id = "a"
file = "data/a.tsv"
trait = "Trait A"
units = "sd"
n = 100000

[[gwas]]
id = "b"
file = "data/b.tsv"
n = 50000

[[gwas]]
id = "c"
file = "data/c.tsv"
units = "log-odds"
ncase = 20000
ncontrol = 30000
prevalence = 0.1

[instruments]
p = 5e-8

[harmonise]
action = 2

[analysis]
exposures = ["a"]
outcomes = ["b", "c"]
methods = ["ivw", "egger", "weighted_median"]
nboot = 200
"""

Edit = Callable[[str], str]


def sub(old: str, new: str) -> Edit:
    """Replace ``old`` (which must be in the valid file) by ``new``."""

    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


def add(extra: str) -> Edit:
    """Append a section (or keys to the last section, ``[analysis]``)."""
    return lambda text: text + extra


def gid(value: str) -> Edit:
    """The first GWAS id becomes ``value`` (a TOML literal)."""
    return sub('id = "a"', f"id = {value}")


CASES: list[tuple[str, Edit, str]] = [
    # [study]
    ("negative seed", sub("seed = 5", "seed = -1"), "study.seed"),
    ("seed beyond int64", sub("seed = 5", f"seed = {2**64}"), "study.seed"),
    ("fractional seed", sub("seed = 5", "seed = 1.5"), "study.seed"),
    ("seed a string", sub("seed = 5", 'seed = "five"'), "study.seed"),
    ("seed a boolean", sub("seed = 5", "seed = true"), "study.seed"),
    ("seed a numeric string", sub("seed = 5", 'seed = "5"'), "study.seed"),
    ("overlap infinite", sub("seed = 5", "seed = 5\noverlap = inf"), "study.overlap"),
    ("unknown study key", sub("seed = 5", "seed = 5\nseeds = 6"), "study.seeds"),
    ("negative overlap", sub("seed = 5", "seed = 5\noverlap = -1"), "study.overlap"),
    ("overlap word", sub("seed = 5", 'seed = 5\noverlap = "some"'), "study.overlap"),
    ("missing panel", sub('panel = "ref/panel"', 'panel = "ref/nope"'), "study.panel"),
    ("panel given as a folder", sub('panel = "ref/panel"', 'panel = "ref"'), "study.panel"),
    ("panel pattern matching nothing", sub("ref/panel", "ref/chr{chr}"), "study.panel"),
    ("panel range matching nothing", sub("ref/panel", "ref/chr{1..22}"), "study.panel"),
    ("panel without fam", sub("ref/panel", "ref/nofam"), "study.panel"),
    # [[gwas]] ids
    ("id ..", gid('".."'), "gwas[0].id"),
    ("id .", gid('"."'), "gwas[0].id"),
    ("id -x", gid('"-x"'), "gwas[0].id"),
    ("id of 200 characters", gid('"' + "a" * 200 + '"'), "gwas[0].id"),
    ("id of 129 characters", gid('"' + "b" * 129 + '"'), "gwas[0].id"),
    ("id with a slash", gid('"a/b"'), "gwas[0].id"),
    ("id climbing out", gid('"../a"'), "gwas[0].id"),
    ("id with a space", gid('"a b"'), "gwas[0].id"),
    ("id with a tab", gid('"a\\tb"'), "gwas[0].id"),
    ("id with a newline", gid('"a\\nb"'), "gwas[0].id"),
    ("empty id", gid('""'), "gwas[0].id"),
    ("id non-ascii", gid('"bmï"'), "gwas[0].id"),
    ("id a number", gid("5"), "gwas[0].id"),
    ("id with a star", gid('"a*"'), "gwas[0].id"),
    ("id twice", sub('id = "c"', 'id = "b"'), r"gwas\[2\].id: 'b' is listed twice"),
    # [[gwas]] values
    ("n infinite", sub("n = 100000", "n = inf"), "gwas[0].n"),
    ("n minus infinity", sub("n = 100000", "n = -inf"), "gwas[0].n"),
    ("n NaN", sub("n = 100000", "n = nan"), "gwas[0].n"),
    ("n zero", sub("n = 100000", "n = 0"), "gwas[0].n"),
    ("n negative", sub("n = 100000", "n = -5"), "gwas[0].n"),
    ("n a string", sub("n = 100000", 'n = "many"'), "gwas[0].n"),
    ("ncase infinite", sub("ncase = 20000", "ncase = inf"), "gwas[2].ncase"),
    ("ncontrol NaN", sub("ncontrol = 30000", "ncontrol = nan"), "gwas[2].ncontrol"),
    ("cases without controls", sub("ncontrol = 30000\n", ""), "gwas[2]"),
    ("prevalence NaN", sub("prevalence = 0.1", "prevalence = nan"), "gwas[2].prevalence"),
    ("prevalence one", sub("prevalence = 0.1", "prevalence = 1"), "gwas[2].prevalence"),
    ("unknown build", sub('units = "sd"', 'units = "sd"\nbuild = "hg19"'), "gwas[0].build"),
    ("bad_rows word", sub('units = "sd"', 'units = "sd"\nbad_rows = "drop"'), "gwas[0].bad_rows"),
    ("missing gwas file", sub("data/a.tsv", "data/nope.tsv"), "gwas[0].file"),
    ("no gwas", lambda t: t.split("[[gwas]]")[0] + "[analysis]" + t.split("[analysis]")[1], "gwas"),
    # [instruments] and [harmonise]
    ("p zero", sub("p = 5e-8", "p = 0"), "instruments.p"),
    ("p NaN", sub("p = 5e-8", "p = nan"), "instruments.p"),
    ("r2 infinite", sub("p = 5e-8", "p = 5e-8\nr2 = inf"), "instruments.r2"),
    ("kb infinite", sub("p = 5e-8", "p = 5e-8\nkb = inf"), "instruments.kb"),
    ("min_f negative", sub("p = 5e-8", "p = 5e-8\nmin_f = -1"), "instruments.min_f"),
    ("region backwards", sub("p = 5e-8", 'p = 5e-8\nregion = "1:200-100"'), "region"),
    (
        "keep_missing not boolean",
        sub("p = 5e-8", 'p = 5e-8\nkeep_missing_from_panel = "yes"'),
        "instruments.keep_missing_from_panel",
    ),
    ("action 4", sub("action = 2", "action = 4"), "harmonise.action"),
    ("proxy_r2 NaN", sub("action = 2", "action = 2\nproxy_r2 = nan"), "harmonise.proxy_r2"),
    ("clump without panel", sub('panel = "ref/panel"\n', ""), "study.panel"),
    # [analysis]
    ("nboot four billion", sub("nboot = 200", "nboot = 4000000000"), "analysis.nboot"),
    ("nboot eleven million", sub("nboot = 200", "nboot = 11000000"), "analysis.nboot"),
    ("nboot too small", sub("nboot = 200", "nboot = 5"), "analysis.nboot"),
    ("nboot a string", sub("nboot = 200", 'nboot = "200"'), "analysis.nboot"),
    ("clump a string", sub("p = 5e-8", 'p = 5e-8\nclump = "yes"'), "instruments.clump"),
    ("nboot NaN", sub("nboot = 200", "nboot = nan"), "analysis.nboot"),
    (
        "methods twice",
        sub('"egger", "weighted_median"', '"ivw"'),
        "analysis.methods: 'ivw' is listed twice",
    ),
    (
        "methods twice by alias",
        sub('"egger"', '"mr_ivw"'),
        "analysis.methods: 'ivw' is listed twice",
    ),
    ("methods twice by case", sub('"egger"', '"IVW"'), "analysis.methods: 'ivw' is listed twice"),
    (
        "egger twice by alias",
        sub('"weighted_median"', '"mr_egger_regression"'),
        "analysis.methods: 'egger'",
    ),
    ("unknown method", sub('"weighted_median"', '"weighted_medan"'), "analysis.methods"),
    (
        "primary not run",
        sub("nboot = 200", 'nboot = 200\nprimary = "weighted_mode"'),
        "analysis: `primary`",
    ),
    (
        "exposure twice",
        sub('exposures = ["a"]', 'exposures = ["a", "a"]'),
        "analysis.exposures: 'a' is listed twice",
    ),
    (
        "outcome twice",
        sub('outcomes = ["b", "c"]', 'outcomes = ["b", "c", "b"]'),
        "analysis.outcomes",
    ),
    (
        "exposures = outcomes, bidirectional",
        sub(
            'exposures = ["a"]\noutcomes = ["b", "c"]',
            'exposures = ["a", "b"]\noutcomes = ["a", "b"]\nbidirectional = true',
        ),
        "analysis.bidirectional",
    ),
    (
        "overlapping globs, bidirectional",
        sub(
            'exposures = ["a"]\noutcomes = ["b", "c"]',
            'exposures = ["a", "b"]\noutcomes = ["*"]\nbidirectional = true',
        ),
        "analysis.bidirectional",
    ),
    ("trait is its own outcome", sub('outcomes = ["b", "c"]', 'outcomes = ["a"]'), "analysis"),
    (
        "pattern matches nothing",
        sub('outcomes = ["b", "c"]', 'outcomes = ["q*"]'),
        "analysis.outcomes",
    ),
    ("no exposures", sub('exposures = ["a"]', "exposures = []"), "analysis.exposures"),
    ("sensitivity twice", add('sensitivity = ["steiger", "steiger"]\n'), "analysis.sensitivity"),
    ("unknown sensitivity", add('sensitivity = ["steigr"]\n'), "analysis.sensitivity"),
    ("correction sidak", add('correction = "sidak"\n'), "analysis.correction"),
    ("alpha zero", add("alpha = 0\n"), "analysis.alpha"),
    ("alpha NaN", add("alpha = nan\n"), "analysis.alpha"),
    (
        "options of an unknown method",
        add("\n[analysis.options.ivw_wrong]\nmodel = 1\n"),
        "analysis.options.ivw_wrong",
    ),
    (
        "option of the wrong type",
        add('\n[analysis.options.weighted_median]\nnboot = "many"\n'),
        "analysis.options.weighted_median.nboot",
    ),
    (
        "options of a method not run",
        add("\n[analysis.options.weighted_mode]\nphi = 1\n"),
        "analysis.options.weighted_mode",
    ),
    ("no analysis", lambda t: t.split("[analysis]")[0], "analysis"),
    # [engine], [report], [coloc]
    ("zero workers", add("\n[engine]\nworkers = 0\n"), "engine.workers"),
    ("a million workers", add("\n[engine]\nworkers = 1000000\n"), "engine.workers"),
    ("address without dask", add('\n[engine]\naddress = "tcp://x:1"\n'), "engine.address"),
    ("unknown engine", add('\n[engine]\nkind = "spark"\n'), "engine.kind"),
    ("negative max_pairs", add("\n[report]\nmax_pairs = -1\n"), "report.max_pairs"),
    (
        "figure format twice",
        add('\n[report]\nfigure_formats = ["svg", "svg"]\n'),
        "report.figure_formats",
    ),
    ("figure format gif", add('\n[report]\nfigure_formats = ["gif"]\n'), "report.figure_formats"),
    ("coloc p1 NaN", add("\n[coloc]\np1 = nan\n"), "coloc.p1"),
    ("coloc region twice", add('\n[coloc]\nregions = ["1:1-100", "1:1-100"]\n'), "coloc.regions"),
    ("coloc region backwards", add('\n[coloc]\nregions = ["1:100-1"]\n'), "coloc.regions"),
    ("coloc window infinite", add("\n[coloc]\nwindow_kb = inf\n"), "coloc.window_kb"),
    # the file itself
    ("not TOML", add("this is = = not toml\n"), "not valid TOML"),
    ("unknown section", add("\n[plots]\ndpi = 300\n"), "plots: unknown key"),
]


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> Path:
    """Tiny data files and an empty PLINK panel (nothing here is read before a refusal)."""
    root = tmp_path_factory.mktemp("bad_studies")
    (root / "data").mkdir()
    for name in "abc":
        (root / "data" / f"{name}.tsv").write_text("snp\tchr\tpos\tea\toa\tbeta\tse\tp\n")
    (root / "ref").mkdir()
    for ext in (".bed", ".bim", ".fam"):
        (root / "ref" / f"panel{ext}").write_bytes(b"")
    for ext in (".bed", ".bim"):
        (root / "ref" / f"nofam{ext}").write_bytes(b"")
    (root / "study.toml").write_text(VALID)
    return root


def _place(setup: Path, tmp_path: Path, text: str) -> Path:
    for sub_dir in ("data", "ref"):
        (tmp_path / sub_dir).symlink_to(setup / sub_dir)
    study = tmp_path / "study.toml"
    study.write_text(text, encoding="utf-8")
    return study


def test_the_valid_file_is_valid(setup):
    study, _ = load_study(setup / "study.toml")
    assert [p[:2] for p in study.pairs()] == [("a", "b"), ("a", "c")]


def test_corpus_size():
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("name", "edit", "key"), CASES, ids=[c[0] for c in CASES])
def test_bad_study_file_refused(setup, tmp_path, capsys, name, edit, key):
    text = edit(VALID)
    assert text != VALID
    study = _place(setup, tmp_path, text)
    assert main(["run", str(study), "--quiet"]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "Traceback" not in captured.err + captured.out
    assert len(err.splitlines()) == 1, err  # one line
    assert err.startswith(f"error: {study}: "), err  # names the study file ...
    pattern = re.escape(key) if "'" not in key and "\\" not in key else key
    assert re.search(pattern, err), (key, err)  # ... and the key
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["data", "ref", "study.toml"]  # no store, no output folder, no manifest


def test_missing_study_file(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.toml"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {tmp_path / 'nope.toml'}: study file not found"
    assert list(tmp_path.iterdir()) == []


def test_ids_with_double_underscores_are_accepted(setup, tmp_path):
    text = VALID.replace('id = "a"', 'id = "a__b"').replace('["a"]', '["a__b"]')
    study, _ = load_study(_place(setup, tmp_path, text))
    assert study.pairs()[0][:2] == ("a__b", "b")


def test_longest_id_accepted(setup, tmp_path):
    long = "a" + "_" * 126 + "z"  # 128 characters, as the store allows
    text = VALID.replace('id = "a"', f'id = "{long}"').replace('["a"]', f'["{long}"]')
    study, _ = load_study(_place(setup, tmp_path, text))
    assert study.gwas[0].id == long


def test_figure_names_never_collide():
    from itertools import permutations

    from mrkit.report.write import figure_stem

    ids = ["a", "b", "c", "a__b", "b__c", "a_", "_b", "b_", "a_b", "x__", "__y", "a.b", "a-b"]
    stems = {(e, o): figure_stem(e, o) for e, o in permutations(ids, 2)}
    assert len(set(stems.values())) == len(stems)  # a__b with c and a with b__c differ
    assert figure_stem("a", "b") == "a__b"  # ordinary ids keep the usual name
    assert figure_stem("a__b", "c") == "a__b+c"
    assert figure_stem("a", "b__c") == "a+b__c"


@pytest.mark.parametrize(
    "name", ["negative seed", "methods twice by alias", "missing panel", "id .."]
)
def test_refused_by_the_console_script(setup, tmp_path, name):
    """The same refusals through a real ``mrkit`` process: exit 2, one stderr line."""
    import subprocess
    import sys

    edit, key = next((c[1], c[2]) for c in CASES if c[0] == name)
    study = _place(setup, tmp_path, edit(VALID))
    proc = subprocess.run(
        [sys.executable, "-m", "mrkit.cli", "run", str(study)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert re.search(re.escape(key) if "'" not in key else key, lines[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "ref", "study.toml"]
