"""mkdocs hook: the LaTeX of the docs as MathML, written at build time.

``$$ ... $$`` blocks, ``$ ... $`` and reST's ``:math:`...``` (docstrings) become
``<math>`` elements, which current browsers render natively: the built docs show
formulas offline, with no JavaScript and no font download. Code blocks and
inline code are left alone (a fenced block holding only a ``$$`` formula is
shown as the formula); a formula the converter cannot read stays as text.
"""

from __future__ import annotations

import re
from typing import Any

from latex2mathml.converter import convert

_FENCE = re.compile(r"(^(?:```|~~~).*?^(?:```|~~~)[ \t]*$)", re.S | re.M)
_FENCED_MATH = re.compile(
    r"^(?:```|~~~)[\w-]*[ \t]*\n\s*(\$\$.+?\$\$)\s*\n(?:```|~~~)[ \t]*$", re.S
)
_CODE = re.compile(r"(`+[^`]*?`+)")
_BLOCK = re.compile(r"\$\$(.+?)\$\$", re.S)
_ROLE = re.compile(r":math:`([^`]+)`")
_INLINE = re.compile(r"(?<![\\$\w])\$(?=\S)([^$\n]+?)(?<=\S)\$(?![\w$])")


def _mathml(tex: str, display: str) -> str | None:
    try:
        return convert(tex.strip(), display=display)
    except Exception:  # keep the source text of what cannot be converted
        return None


def _block(m: re.Match[str]) -> str:
    out = _mathml(m.group(1), "block")
    return m.group(0) if out is None else f'\n\n<div class="math">{out}</div>\n\n'


def _inline(m: re.Match[str]) -> str:
    out = _mathml(m.group(1), "inline")
    return m.group(0) if out is None else out


def _text(part: str) -> str:
    """Formulas outside inline code (``:math:`` roles first: they use backticks)."""
    part = _ROLE.sub(_inline, part)
    part = _BLOCK.sub(_block, part)
    pieces = _CODE.split(part)
    return "".join(p if i % 2 else _INLINE.sub(_inline, p) for i, p in enumerate(pieces))


def _fence(part: str) -> str:
    """A fenced block holding only a ``$$ ... $$`` formula is shown as the formula."""
    m = _FENCED_MATH.match(part)
    return _BLOCK.sub(_block, m.group(1)) if m else part


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Every formula of a page as MathML (other fenced code untouched)."""
    parts = _FENCE.split(markdown)
    return "".join(_fence(p) if i % 2 else _text(p) for i, p in enumerate(parts))
