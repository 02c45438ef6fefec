"""Tags as a tree: a tag is its path, not its leaf name.

`tags.parent_id` points at the parent tag and a name is unique among its siblings (case
aside), so `People|Paris` and `Places|France|Paris` are two tags. A keyword read from a
photo or sidecar becomes the tag at exactly its path, spelt as the other app wrote it
when it is new; a path equal to an existing tag's path case-insensitively IS that tag
(the file's own text is what write-back keeps, see sidecars.py).

Linking: a new tag whose name or leaf is a built-in (taxonomy) tag's name or synonym
(`Winter` -> snow, a flat `desk` -> furniture|desk) gets `link_id` = that built-in tag.
A link never renames, moves or merges anything: the built-in tag learns from the
linked tag's confirmations and rejections (training_data.py), and filtering by the
built-in tag finds photos with a linked tag too (browse.py).

Functions here take a bare sqlite3 connection: the schema migration uses them too.
"""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Sequence

from photo_tagger.core.taxonomy import validate_tag_name

PATH_SEPARATOR = "|"  # Lightroom's; paths are written and typed with it
MAX_DEPTH = 32  # a parent chain longer than this is a cycle or garbage

TagPath = tuple[str, ...]


def join_path(path: Sequence[str]) -> str:
    return PATH_SEPARATOR.join(path)


def child_id(conn: sqlite3.Connection, parent_id: int | None, name: str) -> int | None:
    """The tag called `name` (case aside) directly under `parent_id` (None: a root)."""
    row = conn.execute(
        "SELECT id FROM tags WHERE ifnull(parent_id, 0) = ? AND name = ? COLLATE NOCASE", (parent_id or 0, name)
    ).fetchone()
    return None if row is None else int(row[0])


def find_path(conn: sqlite3.Connection, path: Sequence[str]) -> int | None:
    """The tag at exactly `path` (each component case-insensitively); None if there is none."""
    tag_id: int | None = None
    for part in path:
        tag_id = child_id(conn, tag_id, part)
        if tag_id is None:
            return None
    return tag_id


def ensure_path(conn: sqlite3.Connection, path: Sequence[str], origin: str = "import") -> tuple[int, list[TagPath]]:
    """The tag at `path`, creating the missing components (their text as given, each
    linked to a built-in tag it names). Returns (id, paths created). ValueError for a
    component no tag may be called."""
    if not path:
        raise ValueError("empty keyword")
    if len(path) > MAX_DEPTH:
        raise ValueError(f"keyword {join_path(path[:3])}|... is {len(path)} levels deep; the limit is {MAX_DEPTH}")
    created: list[TagPath] = []
    tag_id: int | None = None
    for depth, part in enumerate(path):
        found = child_id(conn, tag_id, part)
        if found is None:
            name = validate_tag_name(part)
            found = child_id(conn, tag_id, name)  # the component only differed in spacing
        if found is None:
            found = int(conn.execute(
                "INSERT INTO tags(name, parent_id, link_id, origin, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                (name, tag_id, None if origin == "taxonomy" else builtin_named(conn, name), origin, time.time()),
            ).fetchone()[0])
            created.append(tuple(path[: depth + 1]))
        tag_id = found
    assert tag_id is not None
    return tag_id, created


def builtin_named(conn: sqlite3.Connection, name: str) -> int | None:
    """The built-in tag called `name` or having it as a synonym (case aside); None if none.
    Taxonomy names are unique, so there is at most one."""
    row = conn.execute(
        "SELECT id FROM tags WHERE origin = 'taxonomy' AND name = ? COLLATE NOCASE"
        " UNION ALL SELECT t.id FROM tag_synonyms s JOIN tags t ON t.id = s.tag_id"
        " WHERE t.origin = 'taxonomy' AND s.name = ? LIMIT 1",
        (name, name),
    ).fetchone()
    return None if row is None else int(row[0])


def all_paths(conn: sqlite3.Connection) -> dict[int, TagPath]:
    """Every tag's path, root first (one query). A cycle or a dangling parent ends a chain."""
    return dict(_paths(_tag_rows(conn)))


def all_labels(conn: sqlite3.Connection) -> dict[int, str]:
    """Every tag's label (see `labels`), one query."""
    return dict(_labels(_tag_rows(conn)))


# Paths and labels are worked out in Python from the whole tags table, which every key press
# asked for several times (~0.4 ms each at 200 tags); the table's rows themselves are the cache
# key, so a rename, move or new tag anywhere is seen at once.
def _tag_rows(conn: sqlite3.Connection) -> tuple[tuple[int, str, int | None], ...]:
    return tuple(conn.execute("SELECT id, name, parent_id FROM tags ORDER BY id").fetchall())


@functools.lru_cache(maxsize=8)
def _paths(rows: tuple[tuple[int, str, int | None], ...]) -> dict[int, TagPath]:
    names = {tag_id: name for tag_id, name, _ in rows}
    parents = {tag_id: parent for tag_id, _, parent in rows}
    result = {}
    for tag_id in names:
        chain = [tag_id]
        parent = parents[tag_id]
        while parent in names and parent not in chain and len(chain) < MAX_DEPTH:
            chain.append(parent)
            parent = parents[parent]
        result[tag_id] = tuple(names[t] for t in reversed(chain))
    return result


@functools.lru_cache(maxsize=8)
def _labels(rows: tuple[tuple[int, str, int | None], ...]) -> dict[int, str]:
    return labels(_paths(rows))


def labels(paths: dict[int, TagPath]) -> dict[int, str]:
    """What a tag is called where one name must do (CSV cells, `--tag`, the tag panel):
    its name when the name alone finds it (see `name_finds`), else its whole path
    `Places|France|Paris`. Both resolve back to the tag."""
    by_name: dict[str, list[int]] = {}
    for tag_id, path in paths.items():
        by_name.setdefault(path[-1].casefold(), []).append(tag_id)
    return {tag_id: path[-1] if name_finds(paths, by_name[path[-1].casefold()]) == tag_id else join_path(path)
            for tag_id, path in paths.items()}


def name_finds(paths: dict[int, TagPath], named: Sequence[int]) -> int | None:
    """Which of the tags sharing a name the name alone means: the root tag of that name
    (a name is a one-level path first), else the only one; None when it is ambiguous."""
    roots = [tag_id for tag_id in named if len(paths[tag_id]) == 1]
    if roots:
        return roots[0]
    return named[0] if len(named) == 1 else None
