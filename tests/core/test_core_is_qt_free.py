"""The core runs without Qt (the CLI, child processes, a future server): no module under
photo_tagger/core imports PySide6 or shiboken, not even for type checking or inside a
function."""

from __future__ import annotations

import ast
from pathlib import Path

import photo_tagger.core

CORE = Path(photo_tagger.core.__file__).parent
QT = ("PySide6", "shiboken6", "shiboken2", "shiboken", "PyQt5", "PyQt6")


def imported_modules(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):  # every import, at any depth (TYPE_CHECKING blocks, functions)
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names.append(node.module)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args and isinstance(node.args[0], ast.Constant)):
            names.append(str(node.args[0].value))
    return names


def test_no_core_module_imports_qt() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) > 30
    found = [f"{path.relative_to(CORE)}: {name}" for path in modules
             for name in imported_modules(ast.parse(path.read_text(encoding="utf-8"), str(path)))
             if name.split(".")[0] in QT]
    assert found == []


def test_the_check_sees_a_type_checking_import() -> None:
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from PySide6.QtGui import QImage\n"
    assert "PySide6.QtGui" in imported_modules(ast.parse(source))
