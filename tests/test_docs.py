"""The documentation builds offline with ``mkdocs build --strict`` and covers every method."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_registered_method_has_a_page() -> None:
    """``docs/methods/<name>.md`` exists for each name in the method registry."""
    from mrkit.methods import REGISTRY, available

    available()
    missing = [n for n in REGISTRY if not (ROOT / "docs" / "methods" / f"{n}.md").is_file()]
    assert not missing, f"methods without a page in docs/methods/: {missing}"
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert not [n for n in REGISTRY if f"methods/{n}.md" not in nav]


def test_docs_build_strict(tmp_path: Path) -> None:
    """``mkdocs build --strict`` succeeds (broken links or nav entries fail it)."""
    pytest.importorskip("mkdocs")
    exe = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or shutil.which("mkdocs")
    cmd = [exe] if exe else [sys.executable, "-m", "mkdocs"]
    proc = subprocess.run(
        [*cmd, "build", "--strict", "-q", "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "index.html").is_file()
    assert (tmp_path / "methods" / "ivw" / "index.html").is_file()
    # formulas are MathML written at build time (docs_hooks/math.py): they render offline
    pages = {p: p.read_text(encoding="utf-8") for p in tmp_path.rglob("index.html")}
    assert sum("<math" in text for text in pages.values()) >= 10
    raw = [str(p) for p, text in pages.items() if "$$" in text or ":math:`" in text]
    assert not raw, f"pages with unconverted LaTeX: {raw}"
