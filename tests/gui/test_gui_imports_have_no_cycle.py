"""The GUI's modules import each other one way: no cycle, not even through an import for
type checking or inside a function. A cycle is how a collaborator starts reaching back
into the window that owns it."""

from __future__ import annotations

import ast
from pathlib import Path

import photo_tagger.gui

GUI = Path(photo_tagger.gui.__file__).parent
PACKAGE = "photo_tagger.gui"


def gui_imports(tree: ast.AST) -> set[str]:
    """The photo_tagger.gui modules that `tree` imports, at any depth."""
    found: set[str] = set()
    for node in ast.walk(tree):  # TYPE_CHECKING blocks and functions too
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith(PACKAGE + ".")}
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            if node.module == PACKAGE:  # from photo_tagger.gui import selection_display
                found |= {f"{PACKAGE}.{alias.name}" for alias in node.names}
            elif node.module.startswith(PACKAGE + "."):
                found.add(node.module)
    return found


def import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """module name -> the modules of the package it imports."""
    return {name: gui_imports(ast.parse(source, name)) & set(sources) for name, source in sources.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle (its modules in import order, the first repeated at the end), or []."""
    state: dict[str, str] = {}  # "open" while on the path, "done" once fully explored
    path: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = "open"
        path.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                return path[path.index(imported):] + [imported]
            if imported not in state and (cycle := visit(imported)):
                return cycle
        path.pop()
        state[module] = "done"
        return []

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return []


def test_the_gui_modules_import_each_other_without_a_cycle() -> None:
    sources = {f"{PACKAGE}.{path.stem}": path.read_text(encoding="utf-8") for path in sorted(GUI.glob("*.py"))}
    assert len(sources) > 20
    assert find_cycle(import_graph(sources)) == []


def test_the_check_finds_a_cycle_through_a_type_checking_import() -> None:
    sources = {
        f"{PACKAGE}.window": "from photo_tagger.gui.jobs import Jobs\n",
        f"{PACKAGE}.jobs": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                           "    from photo_tagger.gui.window import Window\n",
        f"{PACKAGE}.menus": "from photo_tagger.gui import window\n",
    }
    assert find_cycle(import_graph(sources)) == [f"{PACKAGE}.jobs", f"{PACKAGE}.window", f"{PACKAGE}.jobs"]
    sources[f"{PACKAGE}.jobs"] = "import photo_tagger.gui.menus\n"
    assert find_cycle(import_graph(sources)) == [f"{PACKAGE}.jobs", f"{PACKAGE}.menus", f"{PACKAGE}.window",
                                                 f"{PACKAGE}.jobs"]
