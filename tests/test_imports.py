"""The package's layers: no module of mtsum imports one that imports it back (STYLE.md, 16),
and every import goes down the layers of the README's "Architecture" section.

Which imports count: those that run when a module is imported, i.e. at module level, in class
bodies and under ``if``/``try``/``with`` there. Two kinds do not:

- imports inside a function: that is how mtsum defers heavy or cross-layer work until a command
  runs (STYLE.md, 10), and such an import cannot fail half-way through another module's import;
- imports under ``if TYPE_CHECKING:``: they never run (their ``else:`` branch does count).

An edge goes to the module named, or for ``from package import name`` to ``package.name`` when
that is a module of the package. Importing ``a.b.c`` also imports its parent packages, but that
is not counted as an edge: a parent being imported first is no circle of its own.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

Graph = Mapping[str, set[str]]

# Circles that exist today and are someone's open work, not precedent: a new circle, or a known
# one that grows, fails `test_no_import_cycles_beyond_the_known_ones`. Remove an entry once its
# circle is gone. None today.
KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset()


def module_names(package_dir: Path) -> dict[str, Path]:
    """Every module of the package under `package_dir` by dotted name, ``__init__`` as its
    package."""
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _runtime_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run when a module with this body is imported."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _runtime_imports(node.orelse)
        else:  # class bodies, if/else, try, with, loops, match: all run at import time
            for field in ("body", "orelse", "finalbody"):
                yield from _runtime_imports(getattr(node, field, []))
            for clause in (*getattr(node, "handlers", ()), *getattr(node, "cases", ())):
                yield from _runtime_imports(clause.body)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _within(name: str, modules: Mapping[str, Path]) -> str | None:
    """`name`, or the nearest enclosing package, if it is one of `modules`."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Each module of the package, with the package's modules it imports at import time."""
    modules = module_names(package_dir)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str | None] = set()
        for node in _runtime_imports(tree.body):
            if isinstance(node, ast.Import):
                targets.update(_within(alias.name, modules) for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                anchor = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                full = f"{base}.{alias.name}"
                targets.add(full if full in modules else _within(base, modules))
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def find_cycles(graph: Graph) -> set[frozenset[str]]:
    """The import circles of `graph`: its strongly connected components of two or more modules
    (Tarjan's algorithm). Each module of one can reach every other and back."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def cycle_path(graph: Graph, cycle: frozenset[str]) -> list[str]:
    """One shortest circle through the first module (by name) of `cycle`, as the modules in
    import order, that module at both ends: what a reader follows to break it."""
    start = min(cycle)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph[node] & cycle):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target not in came_from:
                came_from[target] = node
                queue.append(target)
    raise ValueError(f"no circle through {start} in {sorted(cycle)}")


def describe(graph: Graph, cycles: set[frozenset[str]]) -> str:
    return "\n".join(" -> ".join(cycle_path(graph, c)) for c in sorted(cycles, key=sorted))


def test_no_import_cycles_beyond_the_known_ones() -> None:
    graph = import_graph(ROOT / "mtsum")
    new = find_cycles(graph) - KNOWN_CYCLES
    assert not new, f"import cycles (module-level imports):\n{describe(graph, new)}"


def test_cli_package_has_no_cycle_and_its_base_imports_no_command() -> None:
    graph = import_graph(ROOT / "mtsum")
    in_cli = {c for c in find_cycles(graph) if any(m.startswith("mtsum.cli") for m in c)}
    assert not in_cli, f"import cycles in mtsum.cli:\n{describe(graph, in_cli)}"
    # The base layer stays below the commands: no import of the package or a command module.
    for base in ("mtsum.cli._app", "mtsum.cli.options"):
        above = {m for m in graph[base] if m.startswith("mtsum.cli") and m != "mtsum.cli.options"}
        assert not above, f"{base} imports {sorted(above)}"


def _write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_cycle_finder_on_a_small_package(tmp_path: Path) -> None:
    package = _write_package(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.sub import tool\n",
            # a -> b -> c -> a, and d only leans on it
            "pkg/a.py": "import pkg.b\n",
            "pkg/b.py": "from pkg import c\n",
            "pkg/c.py": "try:\n    from .a import thing\nexcept ImportError:\n    pass\n",
            "pkg/d.py": "import pkg.a as a\nimport os\n",
            # lazy (inside a function) and TYPE_CHECKING imports make no circle ...
            "pkg/lazy.py": "import pkg.e\n",
            "pkg/e.py": "def f():\n    import pkg.lazy\n",
            "pkg/hint.py": "from typing import TYPE_CHECKING\nimport pkg.f\n",
            "pkg/f.py": (
                "import typing\nif typing.TYPE_CHECKING:\n    import pkg.hint\n"
                "else:\n    import pkg.g\n"
            ),
            # ... but a class body runs at import time, and a relative import resolves
            "pkg/g.py": "class G:\n    from . import f\n",
            # a subpackage importing its own __init__ back, through a name that is no module
            "pkg/sub/__init__.py": "from pkg.sub.tool import run\n",
            "pkg/sub/tool.py": "from ..sub import helper\nfrom . import other\n",
            "pkg/sub/other.py": "",
        },
    )
    graph = import_graph(package)
    assert graph["pkg.b"] == {"pkg.c"} and graph["pkg.d"] == {"pkg.a"}
    assert graph["pkg.e"] == set() and graph["pkg.f"] == {"pkg.g"}
    assert graph["pkg.sub.tool"] == {"pkg.sub", "pkg.sub.other"}
    assert find_cycles(graph) == {
        frozenset({"pkg.a", "pkg.b", "pkg.c"}),
        frozenset({"pkg.f", "pkg.g"}),
        frozenset({"pkg.sub", "pkg.sub.tool"}),
    }
    assert describe(graph, find_cycles(graph)).splitlines() == [
        "pkg.a -> pkg.b -> pkg.c -> pkg.a",
        "pkg.f -> pkg.g -> pkg.f",
        "pkg.sub -> pkg.sub.tool -> pkg.sub",
    ]


# The layers the README's "Architecture" section draws, lowest first. A module may import (at any
# point, even inside a function) only from its own layer or one below: a stage never reaches for
# the batch engine, a backend never for a stage. The package's __init__ is the public API, above
# the engine and below the CLI that uses it.
LAYERS: dict[str, int] = {
    **dict.fromkeys(
        ["_version", "errors", "limits", "signature", "atomic", "markup", "paths", "heap"], 0
    ),
    "backends": 1,
    **dict.fromkeys(
        ["arabic", "sources", "textprep", "numbers", "pieces", "generation", "translate"], 2
    ),
    **dict.fromkeys(["summarize", "align", "score", "lcs"], 2),
    **dict.fromkeys(["pipeline", "render", "htmlpage", "written"], 3),
    "batch": 4,
    "": 5,  # mtsum/__init__.py
    "cli": 6,
    "__main__": 7,
}


def _layer(module: str) -> int:
    top = module.split(".")[1] if module.count(".") else ""
    assert top in LAYERS, f"{module} is in no layer: add it to LAYERS and the README's diagram"
    return LAYERS[top]


def all_imports(package_dir: Path) -> dict[str, set[str]]:
    """Each module of the package with every module of the package it imports anywhere."""
    modules = module_names(package_dir)
    found: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets: set[str | None] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets.update(_within(alias.name, modules) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in modules else _within(node.module, modules))
        found[name] = {t for t in targets if t is not None and t != name}
    return found


def test_every_import_goes_down_the_layers() -> None:
    upward = sorted(
        f"{name} ({_layer(name)}) imports {target} ({_layer(target)})"
        for name, targets in all_imports(ROOT / "mtsum").items()
        for target in targets
        if _layer(target) > _layer(name)
    )
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


def test_every_module_is_in_a_layer() -> None:
    for name in module_names(ROOT / "mtsum"):
        _layer(name)
