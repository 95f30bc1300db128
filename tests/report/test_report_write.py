"""Report pieces without a study run: figure formats, the STROBE-MR rows, the supplement."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from mrkit.report import figures, html, plots, strobe
from mrkit.report.supplement import checklist_table
from mrkit.report.write import figure_formats
from mrkit.study.spec import Study


def _study(**fields):
    return Study.model_validate(
        {
            "study": {"name": "s", **fields},
            "gwas": [{"id": "a", "n": 1000}, {"id": "b", "n": 1000}],
            "analysis": {"exposures": ["a"], "outcomes": ["b"]},
        }
    )


def _facts(study):
    return {
        "study": study,
        "methods": "IVW",
        "sensitivity": "heterogeneity",
        "selection": "p < 5e-8.",
        "scale": "per SD.",
        "variants": "first-order weights.",
        "correction": "bonferroni over 1 test.",
        "versions": "mrkit 0.1.0.",
        "bidirectional": False,
        "overlap": "",
        "has_loo": True,
        "has_presso": False,
        "has_steiger": False,
    }


def test_figure_formats_default_svg_and_pdf_written(tmp_path):
    """SVG by default (the page shows it); PNG/PDF on request; a list without SVG or PNG
    gets SVG added, so that the page has something to show."""
    assert figure_formats(SimpleNamespace(report=SimpleNamespace())) == ("svg",)
    st = SimpleNamespace(report=SimpleNamespace(figure_formats=["pdf"]))
    assert figure_formats(st) == ("svg", "pdf")
    st = SimpleNamespace(report=SimpleNamespace(figure_formats=["png", "svg", "pdf"]))
    assert figure_formats(st) == ("png", "svg", "pdf")
    fig = figures.forest(
        pd.DataFrame({"label": ["a"], "estimate": [0.1], "ci_lower": [0.0], "ci_upper": [0.2]})
    )
    paths = figures.save(fig, tmp_path / "f", figure_formats(st))
    assert [p.suffix for p in paths] == [".png", ".svg", ".pdf"]
    assert paths[2].read_bytes().startswith(b"%PDF")
    assert html._img(paths, tmp_path) == "f.svg"
    assert html._img(paths[:1], tmp_path) == "f.png"
    assert plots.SUFFIX["leave_one_out"] == "loo"


def test_checklist_numbers_and_what_was_not_provided():
    rows = strobe.checklist(_facts(_study()))
    assert [r.number for r in rows] == [n for n, _, _ in strobe.ITEMS]
    assert len(rows) == 45
    by = {r.number: r for r in rows}
    assert by["9b"].status == "authors"
    assert "[study] preregistration" in by["9b"].answer
    assert by["10d ii"].status == "authors"
    assert "[study] overlap" in by["10d ii"].answer
    assert by["6e"].link == "multiple-testing"
    assert by["20"].answer == strobe.AUTHORS


def test_checklist_uses_the_study_fields_escaped():
    st = _study(population="European <b>ancestry</b>", overlap="none", funding="MRC")
    by = {r.number: r for r in strobe.checklist(_facts(st))}
    assert by["4a"].status == "partly"
    assert "European &lt;b&gt;ancestry&lt;/b&gt;" in by["4a"].answer
    assert by["10d ii"].status == "run"
    assert by["18"].answer == "Funding: MRC."
    table = checklist_table(list(by.values()))
    assert table["item"].tolist()[:5] == ["1", "2", "3", "4", "4a"]
    assert "<code>" not in " ".join(table["answer"])


def test_data_sources_list_the_rejected_rows_file():
    """``bad_rows = "skip"``: the rows left out and the file that lists them, in the report."""
    info = {"rows": 1200.0, "rejected": 3, "rejected_file": "/s.duckdb.d/x-ab12.rejected.tsv"}
    assert html._rows_text(info) == "1,200 (3 bad rows left out, listed in x-ab12.rejected.tsv)"
    assert html._rows_text({"rows": 1200}) == "1,200"
