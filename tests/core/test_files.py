"""Files written whole (mrkit._core.files)."""

from __future__ import annotations

import pytest

from mrkit._core.files import atomic_write


def test_written_whole_and_renamed(tmp_path):
    out = tmp_path / "a.csv"
    (tmp_path / ".a.csv.partial").write_text("left by a killed run")
    assert atomic_write(out, lambda t: t.write_text("new")) == out
    assert out.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_partial(tmp_path):
    out = tmp_path / "a.csv"
    out.write_text("old")

    def fail(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(out, fail)
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]
