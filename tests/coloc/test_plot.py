"""The regional association plot: data drawn as given, r² colours, no pyplot state."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from mrkit.coloc.plot import R2_COLOURS, r2_colours, regional_plot
from mrkit.errors import InputError


def _data(n: int = 120, seed: int = 2):
    rng = np.random.default_rng(seed)
    pos = np.sort(rng.choice(np.arange(1_000_000, 1_400_000), n, replace=False))
    y1 = rng.exponential(1.0, n)
    y2 = rng.exponential(1.0, n)
    y1[40], y2[40] = 25.0, 9.0
    r2 = np.clip(1 - np.abs(pos - pos[40]) / 2e5, 0, 1)
    r2[::11] = np.nan
    return pos, y1, y2, r2


def test_r2_bins():
    got = r2_colours([0.0, 0.2, 0.2001, 0.4, 0.5, 0.6, 0.79, 0.8, 0.95, 1.0, np.nan])
    want = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert got[:-1] == [R2_COLOURS[k] for k in want]
    assert got[-1] == "#bbbbbb"


def test_points_are_the_data():
    pos, y1, y2, r2 = _data()
    fig = regional_plot(pos, y1, y2, r2, labels=("exp", "out"), chrom="7", title="t")
    assert isinstance(fig, Figure)
    ax1, ax2 = fig.axes
    for ax, y in ((ax1, y1), (ax2, y2)):
        pts, lead = ax.collections[0], ax.collections[1]
        xy = pts.get_offsets()
        # every variant drawn once, sorted so that high r² is on top
        order = np.lexsort((np.arange(pos.size), np.where(np.isfinite(r2), r2, -1)))
        np.testing.assert_allclose(xy[:, 0], pos[order] / 1e6)
        np.testing.assert_allclose(xy[:, 1], y[order])
        colours = [to_hex(c) for c in pts.get_facecolors()]
        assert colours == r2_colours(r2[order])
        # the lead defaults to the strongest trait-1 variant, a diamond in both panels
        np.testing.assert_allclose(lead.get_offsets()[0], [pos[40] / 1e6, y[40]])
    assert ax1.get_title(loc="left") == "exp"
    assert ax2.get_title(loc="left") == "out"
    assert "chromosome 7" in ax2.get_xlabel()
    assert ax1.get_legend() is not None


def test_no_ld_grey_and_no_legend():
    pos, y1, y2, _ = _data()
    fig = regional_plot(pos, y1, y2, None, lead=3)
    pts = fig.axes[0].collections[0]
    assert {to_hex(c) for c in pts.get_facecolors()} == {"#bbbbbb"}
    np.testing.assert_allclose(fig.axes[0].collections[1].get_offsets()[0], [pos[3] / 1e6, y1[3]])
    assert fig.axes[0].get_legend() is None


def test_nan_p_not_drawn_and_png():
    pos, y1, y2, r2 = _data()
    y2 = y2.copy()
    y2[:10] = np.nan
    fig = regional_plot(pos, y1, y2, r2)
    assert len(fig.axes[1].collections[0].get_offsets()) == pos.size - 10
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    assert buf.getvalue()[:4] == b"\x89PNG"


def test_no_pyplot_state():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    pos, y1, y2, r2 = _data()
    regional_plot(pos, y1, y2, r2)
    assert plt.get_fignums() == before


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"log10p2": np.zeros(3)}, "same length"),
        ({"r2": np.zeros(3)}, "one value per variant"),
        ({"lead": 500}, "not a variant index"),
    ],
)
def test_bad_inputs(kwargs, match):
    pos, y1, y2, r2 = _data()
    args = {"position": pos, "log10p1": y1, "log10p2": y2, "r2": r2} | kwargs
    with pytest.raises(InputError, match=match):
        regional_plot(**args)


def test_empty():
    with pytest.raises(InputError, match="no variant"):
        regional_plot([], [], [])
