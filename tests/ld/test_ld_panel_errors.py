"""Bad panels give a PanelError naming the file; instruments keep every row with a reason."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import DATA
from mrkit.errors import InputError, PanelError
from mrkit.instruments import select_instruments
from mrkit.ld.clump import clump_table
from mrkit.ld.panel import ReferencePanel

EUR = DATA / "gwasvcf" / "eur"
pytestmark = pytest.mark.skipif(not EUR.with_suffix(".bed").exists(), reason="no shared data")


def _copy(tmp_path, name="p"):
    for ext in (".bed", ".bim", ".fam"):
        shutil.copy(EUR.with_suffix(ext), tmp_path / f"{name}{ext}")
    return tmp_path / name


def test_missing_file(tmp_path):
    pre = _copy(tmp_path)
    (tmp_path / "p.fam").unlink()
    with pytest.raises(PanelError, match=r"p\.fam"):
        ReferencePanel(pre)


def test_bim_rows_disagree_with_bed(tmp_path):
    pre = _copy(tmp_path)
    lines = (tmp_path / "p.bim").read_text().splitlines()
    (tmp_path / "p.bim").write_text("\n".join(lines[:-5]) + "\n")
    with pytest.raises(PanelError, match=r"p\.bed.*disagree"):
        ReferencePanel(pre)


def test_wrong_mode_and_magic(tmp_path):
    pre = _copy(tmp_path)
    data = bytearray((tmp_path / "p.bed").read_bytes())
    data[2] = 0
    (tmp_path / "p.bed").write_bytes(bytes(data))
    with pytest.raises(PanelError, match=r"p\.bed.*individual-major"):
        ReferencePanel(pre)
    data[0] = 0
    (tmp_path / "p.bed").write_bytes(bytes(data))
    with pytest.raises(PanelError, match=r"p\.bed.*magic"):
        ReferencePanel(pre)


def test_per_chromosome_pattern(tmp_path):
    _copy(tmp_path, "ref.chr1")
    a = ReferencePanel(tmp_path / "ref.chr{chr}")
    b = ReferencePanel(str(tmp_path / "ref.chr{1..1}"))
    assert a.n_variants == b.n_variants == 2020
    with pytest.raises(PanelError, match="missing"):
        ReferencePanel(str(tmp_path / "ref.chr{1..2}"))


def test_locate_by_position_with_allele_check():
    panel = ReferencePanel(EUR)
    v = panel.variants.iloc[10]
    tab = pd.DataFrame(
        {"snp": ["x", "y", v.snp], "chr": ["1", "1", "1"], "pos": [v.pos, v.pos, v.pos],
         "effect_allele": [v.a2, "Q", v.a1], "other_allele": [v.a1, "R", "Z"]}
    )  # fmt: skip
    assert panel.locate(tab).tolist() == [10, -1, -1]


def test_missing_from_panel_kept_or_dropped():
    panel = ReferencePanel(EUR)
    tab = pd.DataFrame({"SNP": ["rs_absent", *panel.variants.snp.iloc[:3]], "P": [1e-9] * 4})
    kept = clump_table(panel, tab, r2=0.5)
    assert "rs_absent" in kept.index_snps
    assert kept.not_in_panel == ["rs_absent"]
    dropped = clump_table(panel, tab, r2=0.5, missing="drop")
    assert "rs_absent" not in dropped.index_snps
    row = dropped.table.set_index("SNP").loc["rs_absent"]
    assert not row.keep
    assert row.reason == "not in LD panel"


def test_select_instruments_reasons():
    panel = ReferencePanel(EUR)
    v = panel.variants
    rng = np.random.default_rng(1)
    gwas = pd.DataFrame(
        {"snp": v.snp, "chr": v.chr, "pos": v.pos, "effect_allele": v.a1,
         "other_allele": v.a2, "beta": rng.normal(0, 0.05, len(v)), "se": 0.01}
    )  # fmt: skip
    gwas["p"] = 2 * __import__("scipy.stats").stats.norm.sf(np.abs(gwas.beta / gwas.se))
    out = select_instruments(gwas, p=5e-8, panel=panel, min_f=40)
    assert len(out) == (gwas.p <= 5e-8).sum()
    assert set(out.reason) <= {"", "clumped", "weak (F < 40)"}
    assert (out.keep == (out.reason == "")).all()
    with pytest.raises(InputError, match="panel"):
        select_instruments(gwas, clump=True, panel=None)
