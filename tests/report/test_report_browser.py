"""The demo's report.html as a reviewer opens it: headless Chromium at 1,280 px.

Runs the brain-iron / MS demo (``make demo``: simulate, then ``mrkit run``) into a
temporary folder, opens ``report.html`` through the DevTools protocol and checks:
no horizontal page scroll, no console error, every image loaded, every STROBE-MR
item present with its number, sticky table headers, numbers by the report's rule.
The screenshots are kept in ``$MRKIT_TEST_ARTEFACTS/report`` (default
``/tmp/mrkit-test-artefacts/report``; the paths are printed, ``pytest -s`` shows them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from chromium import CHROMIUM, Browser  # tests/report/chromium.py (rootdir on sys.path)

from mrkit.report.strobe import ITEMS

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "brain-iron-ms"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed"),
]

CHECKS = """(() => {
  const de = document.documentElement;
  const imgs = [...document.images];
  const cells = [...document.querySelectorAll('td, th')].map(c => c.textContent);
  return {
    scrollWidth: Math.max(de.scrollWidth, document.body.scrollWidth),
    clientWidth: de.clientWidth,
    images: imgs.length,
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
    strobe: [...document.querySelectorAll('#strobe-table tbody tr')].map(
      tr => [tr.cells[0].textContent.trim(), tr.cells[2].textContent.trim()]),
    enotation: cells.filter(t => /\\de[+-]\\d/.test(t)),
    bareNA: cells.filter(t => /(^|[^A-Za-z])NA($|[^ ]|\\s[^(])/.test(t.trim())),
    sticky: getComputedStyle(document.querySelector('#overview-table thead th')).position,
    firstSection: document.querySelector('h2').textContent,
    details: [...document.querySelectorAll('section.pair details')].map(d => d.open),
    pairs: document.querySelectorAll('section.pair').length,
  };
})()"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """``make demo`` into a temporary folder; returns the results folder."""
    work = tmp_path_factory.mktemp("demo")
    for name in ("simulation.toml", "study.toml"):
        shutil.copy(DEMO / name, work / name)
    mrkit = [sys.executable, "-m", "mrkit"]
    sim = [*mrkit, "simulate", "--config", "simulation.toml", "--out", "data"]
    subprocess.run(sim, cwd=work, check=True, capture_output=True, timeout=1800)
    run = subprocess.run(
        [*mrkit, "run", "study.toml"], cwd=work, capture_output=True, text=True, timeout=1800
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return work / "results"


@pytest.fixture(scope="module")
def page(demo, tmp_path_factory):
    browser = Browser(tmp_path_factory.mktemp("chromium-profile"), width=1280, height=900)
    try:
        browser.open((demo / "report.html").as_uri())
        facts = browser.evaluate(CHECKS)
        # outside pytest's temporary folders, which keep only the last three runs
        shots = Path(os.environ.get("MRKIT_TEST_ARTEFACTS", "/tmp/mrkit-test-artefacts"))
        shots = shots / "report"
        shots.mkdir(parents=True, exist_ok=True)
        top = browser.screenshot(shots / "report_1280_top.png")
        full = browser.screenshot(shots / "report_1280_full.png", full_height=6000)
        print(f"\nscreenshots of report.html at 1,280 px: {top} {full}")
        yield facts, browser.errors()
    finally:
        browser.close()


def test_no_horizontal_scroll_at_1280(page):
    facts, _ = page
    assert facts["scrollWidth"] <= facts["clientWidth"] == 1280


def test_no_console_error(page):
    _, errors = page
    assert errors == []


def test_every_image_loaded(page):
    facts, _ = page
    assert facts["images"] >= 18 * 5  # five figures per pair, plus the summary forests
    assert facts["broken"] == []


def test_every_strobe_mr_item_with_its_number(page):
    facts, _ = page
    assert [n for n, _ in facts["strobe"]] == [n for n, _, _ in ITEMS]
    assert [t for _, t in facts["strobe"]] == [t for _, _, t in ITEMS]
    for n in ("4a", "6e", "9b", "10d ii", "13c", "20"):
        assert n in {n for n, _ in facts["strobe"]}


def test_layout(page):
    facts, _ = page
    assert facts["firstSection"] == "Summary"
    assert facts["sticky"] == "sticky"
    assert facts["pairs"] == 18
    assert facts["details"] == [False] * 18  # per-instrument tables collapsed


def test_numbers_for_humans(page, demo):
    facts, _ = page
    assert facts["enotation"] == []
    assert facts["bareNA"] == []  # every NA says why
    html = (demo / "report.html").read_text()
    assert "<td>47,429</td>" in html  # MS cases
    assert "<td>68,374</td>" in html
    assert not re.search(r"<td[^>]*>[^<]*\de[+-]0", html)
    assert "1 pairs" not in html
    assert "1 forward tests" not in html
    assert "`" not in re.sub(r"<code>.*?</code>", "", html)


def test_report_is_small_and_figures_are_files(demo):
    assert (demo / "report.html").stat().st_size < 1_500_000
    assert "data:image" not in (demo / "report.html").read_text()
    assert len(list((demo / "figures").glob("*_radial.svg"))) == 18
    assert not list((demo / "figures").glob("*.png"))  # PNG/PDF only on request


def test_supplement_tables(demo):
    import pandas as pd

    sup = demo / "supplement"
    inst = pd.read_csv(sup / "instruments.csv")
    needed = {"snp", "beta_exposure", "beta_outcome", "f", "r2", "keep", "reason"}
    assert needed <= set(inst.columns)
    assert (inst.groupby(["exposure", "outcome"]).size() > 0).all()
    assert len(pd.read_csv(sup / "checklist.csv")) == len(ITEMS)
    assert len(pd.read_csv(sup / "estimates.csv")) > 0
    assert "q_ivw" in pd.read_csv(sup / "sensitivity.csv").columns
