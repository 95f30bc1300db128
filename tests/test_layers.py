"""The house rules of ``../shared/DESIGN.md``, read from the source.

Every ``import`` of an mrkit module (at any depth of a function, outside
``if TYPE_CHECKING:`` blocks) is an edge from the importing room to the imported
one. A room may import only rooms of a lower layer (or itself); modules may not
form cycles; and no function-level import may stand in for a top-level one inside
the rooms below ``cli`` (function-level imports there dodged cycles). ``cli``
and the package root import lazily on purpose, for a fast start.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "mrkit"

#: Rooms from the bottom of the house to the top; a room imports only lower ones.
LAYERS: list[set[str]] = [
    {"errors"},
    {"_core"},
    {"results"},
    {"io"},
    {"store"},
    {"ld"},
    {"instruments"},
    {"harmonise"},
    {"methods"},
    {"diagnostics"},
    {"coloc"},
    {"estimate"},
    {"simulate", "report"},
    {"study"},
    {"cli"},
    {"__init__", "__main__"},
]
RANK = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}
#: Rooms whose function-level imports are deliberate (fast start, optional extras).
LAZY_OK = {"cli", "__init__", "__main__"}


def _module(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = ["mrkit", *rel.parts]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """``(imported module, line, at top level)`` for every mrkit import of a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    me = _module(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - child.level + 1]
                    mod = ".".join([*base, child.module] if child.module else base)
                else:
                    mod = child.module or ""
                if mod == "mrkit":  # from mrkit import x: x may be a module
                    found.extend((f"mrkit.{a.name}", child.lineno, top) for a in child.names)
                else:
                    found.append((mod, child.lineno, top))
            inner = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, top and not inner)

    visit(tree, True)
    return [(m, line, top) for m, line, top in found if m == "mrkit" or m.startswith("mrkit.")]


def _edges() -> dict[str, list[tuple[str, int, bool]]]:
    return {_module(p): _imports(p) for p in sorted(SRC.rglob("*.py"))}


EDGES = _edges()
MODULES = set(EDGES)


def _target(name: str) -> str:
    """The module an import names (``mrkit.x.y`` may be a name inside ``mrkit.x``)."""
    while name not in MODULES and "." in name:
        name = name.rpartition(".")[0]
    return name


def test_every_room_is_known() -> None:
    rooms = {_room(m) for m in MODULES}
    assert rooms <= set(RANK), f"rooms missing from LAYERS: {sorted(rooms - set(RANK))}"


def test_no_upward_imports() -> None:
    bad = []
    for mod, imports in EDGES.items():
        mine = _room(mod)
        for name, line, _top in imports:
            theirs = _room(_target(name))
            if theirs != mine and RANK[theirs] >= RANK[mine] and mine != "__init__":
                bad.append(f"{mod}:{line} imports {name} ({mine} -> {theirs})")
    assert not bad, "upward or sideways imports:\n" + "\n".join(bad)


def test_no_import_cycles() -> None:
    graph = {m: {_target(n) for n, _, _ in imps} - {m} for m, imps in EDGES.items()}
    # a package's __init__ re-exporting its own modules is not a cycle of rooms
    for m in graph:
        graph[m] = {t for t in graph[m] if not (m != "mrkit" and t.startswith(m + "."))}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def dfs(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                dfs(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state and node != "mrkit":
            dfs(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_function_level_imports_below_cli() -> None:
    bad = [
        f"{mod}:{line} imports {name} inside a function"
        for mod, imports in EDGES.items()
        if _room(mod) not in LAZY_OK
        for name, line, top in imports
        if not top
    ]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= 500, f"{path.relative_to(SRC)} has {lines} lines (DESIGN: ~500 at most)"
