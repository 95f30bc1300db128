"""The per-batch shortcuts of mrkit.io.sumstats._ingest give what the general path gives."""

from __future__ import annotations

import pyarrow as pa

from mrkit.io.sumstats._ingest import (
    OrderCheck,
    _norm_chr_values,
    _normalise,
    _single_bases,
    check_batch,
)


def _batch(ea, oa, chrs, pos):
    n = len(ea)
    return pa.record_batch(
        {
            "snp": [f"rs{i}" for i in range(n)],
            "chr": chrs,
            "pos": pa.array(pos, pa.int64()),
            "effect_allele": ea,
            "other_allele": oa,
            "eaf": [0.3] * n,
            "beta": [0.1] * n,
            "se": [0.01] * n,
            "p": [0.5] * n,
            "log10p": [0.3] * n,
            "n": pa.array([100] * n, pa.int64()),
            "_err": pa.array([None] * n, pa.string()),
        }
    )


def test_single_bases_on_slices_and_others():
    a = pa.array(["AT", "A", "C", "G", "T", "a", None, "C"])
    assert not _single_bases(a)
    assert _single_bases(a.slice(1, 4))
    assert not _single_bases(a.slice(1, 5))  # lower case
    assert not _single_bases(a.slice(5, 3))  # null
    assert not _single_bases(pa.array(["N", "A"]))


def test_check_batch_same_with_and_without_shortcut():
    upper = _batch(["A", "C"], ["G", "T"], ["1", "1"], [1, 2])
    lower = _batch([" a", "c"], ["g", "T "], ["chr1", "1"], [1, 2])
    code_u, out_u = check_batch(upper)
    code_l, out_l = check_batch(lower)
    assert code_u is None
    assert code_l is None
    assert out_u.equals(out_l)
    assert check_batch(_batch(["A", "N"], ["G", "T"], ["1", "1"], [1, 2]))[0] == "effect_allele"


def test_constant_chr_normalised_and_order():
    col, values = _normalise(pa.array(["chr23"] * 3), _norm_chr_values)
    assert col.to_pylist() == ["X"] * 3
    assert values.to_pylist() == ["X"]
    oc = OrderCheck()
    oc.update(pa.array(["1"] * 3), pa.array([1, 2, 3]))
    oc.update(pa.array(["1", "2"]), pa.array([4, 1]))
    oc.update(pa.array(["2"] * 2), pa.array([2, 3]))
    assert oc.sorted
    assert oc.chroms == {"1", "2"}
    oc.update(pa.array(["2"] * 2), pa.array([5, 4]))
    assert not oc.sorted
    oc2 = OrderCheck()
    oc2.update(pa.array(["2"] * 2), pa.array([1, 2]))
    oc2.update(pa.array(["1"] * 2), pa.array([3, 4]))
    assert not oc2.sorted
