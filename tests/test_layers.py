"""The package's layers: lower layers never import higher ones, and no import cycles.

The order is written once, here, as data: a module may import its own layer's
package and anything below; the CLI sits on top of everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "toolkit"
# lowest first; a layer is a list of top-level names under toolkit/ (a module or a package)
LAYERS = (
    ("errors", "units"),
    ("codec", "workers"),
    ("records",),
    ("canonical", "schema"),
    ("normalize", "io"),
    ("criteria",),
    ("formats",),
    ("nlp",),
    ("store",),
    ("index",),
    ("diff",),
    ("export",),
    ("ingest",),
    ("cli",),
)
RANK = {name: level for level, names in enumerate(LAYERS) for name in names}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0] in ("__init__", "__main__"):
            continue  # the package's own entry points sit above every layer
        yield parts[0], path


def _imports(path: Path, *, top_level_only: bool):
    """Top-level toolkit names a module imports (every import, or those run at import time)."""
    tree = ast.parse(path.read_text("utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "toolkit" and len(parts) > 1 and parts[1] in RANK:
                yield parts[1], name


def test_layers_cover_every_module():
    assert {top for top, _ in _modules()} <= set(RANK)


@pytest.mark.parametrize("top,path", list(_modules()), ids=lambda v: str(v)[len(str(PACKAGE)) + 1:] if isinstance(v, Path) else v)
def test_layers_no_module_imports_a_higher_layer(top, path):
    upward = sorted({name for target, name in _imports(path, top_level_only=False) if RANK[target] > RANK[top]})
    assert upward == [], f"{path.relative_to(REPO)} (layer {RANK[top]}) imports higher layers: {upward}"


@pytest.mark.parametrize("top,path", list(_modules()), ids=lambda v: str(v)[len(str(PACKAGE)) + 1:] if isinstance(v, Path) else v)
def test_layers_same_rank_only_within_the_same_package(top, path):
    sideways = sorted({name for target, name in _imports(path, top_level_only=False)
                       if RANK[target] == RANK[top] and target != top})
    assert sideways == [], f"{path.relative_to(REPO)} imports a sibling layer: {sideways}"


def test_layers_no_cycle_between_top_level_names():
    graph = {}
    for top, path in _modules():
        graph.setdefault(top, set()).update(t for t, _ in _imports(path, top_level_only=False) if t != top)
    seen, stack = set(), []

    def visit(node):
        assert node not in stack, f"import cycle: {' -> '.join(stack[stack.index(node):] + [node])}"
        if node in seen:
            return
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        stack.pop()
        seen.add(node)

    for node in sorted(graph):
        visit(node)


@pytest.mark.parametrize("top,path", list(_modules()), ids=lambda v: str(v)[len(str(PACKAGE)) + 1:] if isinstance(v, Path) else v)
def test_layers_library_never_prints_and_keeps_its_errors_in_one_module(top, path):
    """Only the CLI writes to the terminal; every exception class of the library lives in errors.py."""
    tree = ast.parse(path.read_text("utf-8"))
    if top != "cli":
        prints = [n.lineno for n in ast.walk(tree)
                  if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"]
        assert prints == [], f"{path.relative_to(REPO)} prints at lines {prints}"
    if top != "errors":
        errors = [n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and not n.name.startswith("_")
                  and any(isinstance(b, ast.Name) and b.id.endswith(("Error", "Exception")) for b in n.bases)]
        assert errors == [], f"{path.relative_to(REPO)} defines error classes outside errors.py: {errors}"
