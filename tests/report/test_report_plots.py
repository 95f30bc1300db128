"""The public plotting API (mrkit.plot_*) and ``mrkit mr --plots``: TwoSampleMR's conventions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

import mrkit
from conftest import REFERENCE, requires_shared
from mrkit.errors import InputError

pytestmark = requires_shared
TABLE = REFERENCE / "data" / "tsmr_bmi_chd.csv"


@pytest.fixture(scope="module")
def res():
    return mrkit.mr(TABLE, methods=["ivw", "egger", "weighted_median"])


def _labels(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def test_figures_without_pyplot_state(res):
    before = plt.get_fignums()
    figs = [
        mrkit.plot_scatter(res, TABLE),
        mrkit.plot_forest(res),
        mrkit.plot_leave_one_out(res),
        mrkit.plot_funnel(res),
        mrkit.plot_radial(res),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    assert plt.get_fignums() == before


def test_scatter_lines_through_origin_and_egger_intercept(res):
    fig = mrkit.plot_scatter(res, TABLE, exposure="BMI", outcome="CHD", exposure_units="SD")
    ax = fig.axes[0]
    est = res.estimates.set_index("method")
    lines = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}
    for method, name in (("ivw", "Inverse variance weighted"), ("egger", "MR Egger")):
        x, y = lines[name].get_data()
        icpt = est.loc["egger", "egger_intercept"] if method == "egger" else 0.0
        assert y[0] == pytest.approx(icpt + est.loc[method, "estimate"] * x[0], rel=1e-12)
        slope = (y[1] - y[0]) / (x[1] - x[0])
        assert slope == pytest.approx(est.loc[method, "estimate"], rel=1e-9)
    assert x[0] == 0.0
    assert ax.get_xlabel() == "SNP effect on BMI (SD)"
    assert ax.get_ylabel() == "SNP effect on CHD"
    # points oriented to a positive exposure effect, as mr_scatter_plot
    pts = ax.collections[0].get_offsets() if ax.collections else None
    xs = np.concatenate([ln.get_xdata() for ln in ax.get_lines() if ln.get_marker() == "o"])
    assert (xs > 0).all()
    assert pts is None or len(pts)


def test_scatter_needs_the_table(res):
    with pytest.raises(InputError, match="plot_scatter\\(res, table\\)"):
        mrkit.plot_scatter(res)


def test_forest_has_all_rows_last_and_snps_sorted(res):
    fig = mrkit.plot_forest(res, exposure="BMI", outcome="CHD")
    labels = _labels(fig)
    assert labels[-2:] == ["All - Inverse variance weighted", "All - MR Egger"]
    single = res.single_snp.sort_values("estimate", ascending=False)
    assert labels[:-2] == single["snp"].tolist()
    # the summary rows sit below a gap, and the All - IVW point is the IVW estimate
    ys = fig.axes[0].get_yticks()
    assert ys[-3] - ys[-2] == pytest.approx(2.0)
    offsets = fig.axes[0].collections[-1].get_offsets()
    ivw = res.estimates.set_index("method").loc["ivw", "estimate"]
    assert offsets[-2][0] == pytest.approx(ivw)
    assert "MR estimate of BMI on CHD" in fig.axes[0].get_xlabel()


def test_leave_one_out_sorted_with_all_row(res):
    fig = mrkit.plot_leave_one_out(res)
    labels = _labels(fig)
    assert labels[-1] == "All"
    loo = res.leave_one_out.sort_values("estimate", ascending=False)
    assert labels[:-1] == loo["snp"].tolist()


def test_funnel_legend_outside_the_points(res):
    fig = mrkit.plot_funnel(res)
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= ax.get_window_extent().y1 - 1  # above the axes, not over the points
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Inverse variance weighted",
        "MR Egger",
        "Weighted median",
    ]


def test_radial_coordinates(res):
    fig = mrkit.plot_radial(res)
    pts = fig.axes[0].collections[0].get_offsets()
    s = res.single_snp
    assert np.allclose(pts[:, 0], 1 / s["se"])
    assert np.allclose(pts[:, 1], s["estimate"] / s["se"])


def test_pair_choice_among_several():
    import pandas as pd

    t = pd.read_csv(TABLE)
    two = pd.concat(
        [t.assign(exposure="BMI", outcome="CHD"), t.assign(exposure="BMI2", outcome="CHD")]
    )
    res = mrkit.mr(two, methods=["ivw", "egger"])
    with pytest.raises(InputError, match="pass `pair`"):
        mrkit.plot_forest(res)
    fig = mrkit.plot_scatter(res, two, pair=("BMI2", "CHD"))
    assert fig.axes[0].get_xlabel() == "SNP effect on BMI2"


def test_cli_writes_five_kinds_png_300dpi_and_svg(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "mrkit", "mr", str(TABLE), "--plots", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for kind in ("scatter", "forest", "leave_one_out", "funnel", "radial"):
        png, svg = out / f"{kind}.png", out / f"{kind}.svg"
        dpi = Image.open(png).info["dpi"]
        assert dpi == pytest.approx((300, 300), abs=0.01), kind
        assert svg.read_text().lstrip().startswith("<?xml"), kind
        assert "<svg" in svg.read_text()
    assert "wrote 10 figure files" in proc.stderr


def test_lazy_exports():
    code = "import sys, mrkit; assert 'matplotlib' not in sys.modules; mrkit.plot_radial"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent)
