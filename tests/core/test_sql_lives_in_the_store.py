"""Issue 15 part 1's check: outside `photo_tagger/core/store/`, no module holds SQL.

A string counts as SQL when, stripped, it opens with a statement keyword followed by the
shape of a statement ("SELECT ... FROM", "INSERT ... INTO", "PRAGMA name", ...), so UI text
such as "Select a photo" or "Delete tag" does not. An f-string counts once, read whole with
its holes filled. Docstrings are prose and never count.

The schema's history (the migrations) is store code too: it lives in
`core/store/migrations.py` with the rest, so no other folder is exempt.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import photo_tagger

PACKAGE = Path(photo_tagger.__file__).parent
STORE = PACKAGE / "core" / "store"

_SQL = re.compile(
    r"""^(
        SELECT\b.*\bFROM\b | SELECT\s+[\d?] |
        (INSERT|REPLACE)\b.*\bINTO\b | UPDATE\s+\w+\s+SET\b | DELETE\s+FROM\b |
        (CREATE|DROP)\s+(TEMP\s+|TEMPORARY\s+|UNIQUE\s+)?(TABLE|INDEX|TRIGGER|VIEW)\b | ALTER\s+TABLE\b |
        PRAGMA\s+\w+ | WITH\s+(RECURSIVE\s+)?\w+(\s*\([^)]*\))?\s+AS\b |
        BEGIN\s+(IMMEDIATE|DEFERRED|EXCLUSIVE|TRANSACTION)\b
    )""",
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)
# A statement keyword in capitals opening a string is SQL even without the rest of the
# statement (a fragment joined later); in any other case it may be words ("rollback").
_SQL_KEYWORD = re.compile(
    r"^(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|WITH|REPLACE|BEGIN|COMMIT|ROLLBACK)(\s|$)"
)


def looks_like_sql(text: str) -> bool:
    text = text.strip()
    return _SQL.match(text) is not None or _SQL_KEYWORD.match(text) is not None


def _docstrings(tree: ast.Module) -> set[int]:
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))]
    return {
        id(node.body[0].value)
        for node in nodes
        if node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }


def sql_strings(source: str) -> list[tuple[int, str]]:
    """(line, text) of every SQL-looking string in `source`."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skip.update(id(part) for part in node.values)
            text = "".join(p.value if isinstance(p, ast.Constant) else "{}" for p in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
        else:
            continue
        if looks_like_sql(text):
            found.append((node.lineno, text))
    return found


def sql_outside_the_store() -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in sorted(PACKAGE.rglob("*.py")):
        if STORE in path.parents:
            continue
        # ast.walk visits a JoinedStr before its parts, so the parts are skipped in time.
        hits = sql_strings(path.read_text(encoding="utf-8"))
        if hits:
            counts[str(path.relative_to(PACKAGE.parent))] = len(hits)
    return counts


def test_the_sql_detector_tells_statements_from_ui_text() -> None:
    source = '''
def f(x):
    """SELECT words in a docstring FROM prose do not count."""
    a = "SELECT id FROM photos WHERE path = ?"
    b = f"SELECT {x} FROM tags"
    c = "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)"
    d = "PRAGMA user_version"
    e = "Select a photo to see it here."
    g = "Delete tag"
    h = "replace"
    i = "Drop queued calls and let idle threads exit."
    j = "  update tags set name = ? where id = ?"
    k = "rollback"
    m = "Select all photos in the grid (bulk edit)"
    n = "SELECT t.id,"
    o = "COMMIT"
'''
    assert [line for line, _ in sql_strings(source)] == [4, 5, 6, 7, 12, 15, 16]


def test_no_module_outside_the_store_holds_sql() -> None:
    counts = sql_outside_the_store()
    assert not counts, f"{sum(counts.values())} SQL strings outside core/store/: {dict(counts)}"


# A Catalogue's connection and raw reads, for store modules only (store/connection.py).
_CONNECTION_ATTRIBUTES = {"conn", "query", "scalar"}


def connection_uses(source: str) -> list[tuple[int, str]]:
    """(line, what) of every reach for the connection in `source`: `.conn`, `.query`,
    `.scalar`, `transaction() as ...` (it yields the connection), an import of sqlite3."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in _CONNECTION_ATTRIBUTES:
            found.append((node.lineno, f".{node.attr}"))
        elif isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if (item.optional_vars is not None and isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Attribute) and call.func.attr == "transaction"):
                    found.append((node.lineno, "transaction() as"))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, "import sqlite3") for a in node.names if a.name.split(".")[0] == "sqlite3"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlite3":
            found.append((node.lineno, "from sqlite3"))
    return found


def test_the_connection_detector_finds_each_way_in() -> None:
    source = '''
import sqlite3
def f(catalogue):
    catalogue.conn.execute("x")
    catalogue.query("x")
    with catalogue.transaction() as conn:
        pass
    with catalogue.transaction():
        store.write(catalogue)
'''
    assert sorted(line for line, _ in connection_uses(source)) == [2, 4, 5, 6]


def test_no_module_outside_the_store_reaches_the_connection() -> None:
    uses = {
        str(path.relative_to(PACKAGE.parent)): hits
        for path in sorted(PACKAGE.rglob("*.py"))
        if STORE not in path.parents and (hits := connection_uses(path.read_text(encoding="utf-8")))
    }
    assert not uses, f"the catalogue's connection reached outside core/store/: {uses}"
