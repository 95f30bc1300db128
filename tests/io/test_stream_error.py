"""A bad value far into a large file (DuckDB reports it mid-stream, through Arrow)."""

from __future__ import annotations

import gzip

import pytest

from mrkit.errors import FileFormatError
from mrkit.io.sumstats.read import read_sumstats

HEAD = (
    "chromosome\tbase_pair_location\teffect_allele\tother_allele\tbeta\t"
    "standard_error\tp_value\trsid\n"
)


@pytest.mark.parametrize("gz", [False, True])
def test_bad_number_late_in_file(tmp_path, gz):
    rows = [f"1\t{1000 + i}\tA\tG\t0.01\t0.005\t0.3\trs{i}\n" for i in range(300_000)]
    rows[250_000] = "1\t251000\tA\tG\tabc\t0.005\t0.3\trsbad\n"
    data = (HEAD + "".join(rows)).encode()
    path = tmp_path / ("a.tsv.gz" if gz else "a.tsv")
    path.write_bytes(gzip.compress(data, 1) if gz else data)
    with pytest.raises(FileFormatError) as err:
        read_sumstats(path)
    msg = str(err.value)
    assert "line 250002" in msg, msg
    assert "beta" in msg, msg
