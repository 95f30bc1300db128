"""``harmonised.parquet`` keeps its flags as booleans (DESIGN.md: "with real booleans")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from mrkit.report.write import _write_tables

FLAGS = ("palindromic", "ambiguous", "remove", "proxy", "mr_keep", "steiger_dir")


def test_flags_are_stored_as_booleans(tmp_path):
    a = pd.DataFrame({"snp": ["rs1", "rs2"], "beta_exposure": [0.1, 0.2]})
    b = pd.DataFrame({"snp": ["rs3"], "beta_exposure": [0.3]})
    for f in FLAGS:
        a[f] = [True, False]
        b[f] = [np.True_]
    b["steiger_dir"] = [None]  # (no Steiger test for this pair: missing, not "None")
    h = pd.concat([a, b.astype(object)], ignore_index=True)
    assert all(h[f].dtype == "object" for f in FLAGS)  # as the pipeline's concat gives them
    _write_tables(tmp_path, pd.DataFrame({"x": [1]}), h, pd.DataFrame({"y": [1]}))
    schema = pq.read_schema(tmp_path / "harmonised.parquet")
    for f in FLAGS:
        assert str(schema.field(f).type) == "bool", f
    back = pd.read_parquet(tmp_path / "harmonised.parquet")
    assert back[back.proxy].snp.tolist() == ["rs1", "rs3"]
    assert back.steiger_dir.isna().tolist() == [False, False, True]
    assert back.snp.tolist() == ["rs1", "rs2", "rs3"]
