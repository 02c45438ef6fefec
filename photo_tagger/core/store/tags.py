"""Tags: the tag tree, synonyms, links and thresholds; every statement on `tags` and
`tag_synonyms` (a tag operation's opinions are read and put back through store/opinions.py).

A tag is its path (tag_tree.py): `parent_id` points at the parent and a name is unique
among its siblings, case aside. Functions ending in `_in` work on a bare connection
inside a transaction someone else holds: the schema migrations use them. The rest take
the `Catalogue`; a writing one opens its own transaction, or joins the caller's.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from photo_tagger.core.store import opinions
from photo_tagger.core.tag_tree import MAX_DEPTH, TagPath, join_path, labels_from_rows, paths_from_rows
from photo_tagger.core.taxonomy import validate_tag_name

if TYPE_CHECKING:  # the catalogue runs the migrations, which use this module
    from photo_tagger.core.store.connection import Catalogue

_TAG_COLUMNS = "id, name, parent_id, link_id, model_threshold, threshold, origin, created_at"


# --- the tree ------------------------------------------------------------------------


def child_id_in(conn: sqlite3.Connection, parent_id: int | None, name: str) -> int | None:
    """The tag called `name` (case aside) directly under `parent_id` (None: a root)."""
    row = conn.execute(
        "SELECT id FROM tags WHERE ifnull(parent_id, 0) = ? AND name = ? COLLATE NOCASE", (parent_id or 0, name)
    ).fetchone()
    return None if row is None else int(row[0])


def find_path_in(conn: sqlite3.Connection, path: Sequence[str]) -> int | None:
    """The tag at exactly `path` (each component case-insensitively); None if there is none."""
    tag_id: int | None = None
    for part in path:
        tag_id = child_id_in(conn, tag_id, part)
        if tag_id is None:
            return None
    return tag_id


def find_path(catalogue: Catalogue, path: Sequence[str]) -> int | None:
    return find_path_in(catalogue.conn, path)


def ensure_path_in(conn: sqlite3.Connection, path: Sequence[str], origin: str = "import") -> tuple[int, list[TagPath]]:
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
        found = child_id_in(conn, tag_id, part)
        if found is None:
            name = validate_tag_name(part)
            found = child_id_in(conn, tag_id, name)  # the component only differed in spacing
        if found is None:
            found = int(conn.execute(
                "INSERT INTO tags(name, parent_id, link_id, origin, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                (name, tag_id, None if origin == "taxonomy" else _builtin_named_in(conn, name), origin, time.time()),
            ).fetchone()[0])
            created.append(tuple(path[: depth + 1]))
        tag_id = found
    assert tag_id is not None
    return tag_id, created


def ensure_path(catalogue: Catalogue, path: Sequence[str], origin: str = "import") -> tuple[int, list[TagPath]]:
    with catalogue.transaction() as conn:
        return ensure_path_in(conn, path, origin)


def _builtin_named_in(conn: sqlite3.Connection, name: str) -> int | None:
    row = conn.execute(
        "SELECT id FROM tags WHERE origin = 'taxonomy' AND name = ? COLLATE NOCASE"
        " UNION ALL SELECT t.id FROM tag_synonyms s JOIN tags t ON t.id = s.tag_id"
        " WHERE t.origin = 'taxonomy' AND s.name = ? LIMIT 1",
        (name, name),
    ).fetchone()
    return None if row is None else int(row[0])


def builtin_named(catalogue: Catalogue, name: str) -> int | None:
    """The built-in tag called `name` or having it as a synonym (case aside); None if none.
    Taxonomy names are unique, so there is at most one."""
    return _builtin_named_in(catalogue.conn, name)


def _tag_rows(catalogue: Catalogue) -> tuple[tuple[int, str, int | None], ...]:
    """(id, name, parent id) of every tag: the key of tag_tree's path and label caches."""
    return tuple(catalogue.conn.execute("SELECT id, name, parent_id FROM tags ORDER BY id").fetchall())


def all_paths(catalogue: Catalogue) -> dict[int, TagPath]:
    """Every tag's path, root first (one query). A cycle or a dangling parent ends a chain."""
    return dict(paths_from_rows(_tag_rows(catalogue)))  # a copy: the cached one is shared


def all_labels(catalogue: Catalogue) -> dict[int, str]:
    """Every tag's label (tag_tree.labels), one query."""
    return dict(labels_from_rows(_tag_rows(catalogue)))


def parents(catalogue: Catalogue) -> dict[int, int | None]:
    """Every tag's parent id (None at the root)."""
    return dict(catalogue.conn.execute("SELECT id, parent_id FROM tags").fetchall())


def links(catalogue: Catalogue) -> dict[int, int]:
    """tag id -> the built-in tag it is linked to (a sidecar's `Winter` -> snow), for the linked tags."""
    return dict(catalogue.conn.execute("SELECT id, link_id FROM tags WHERE link_id IS NOT NULL").fetchall())


def list_version(catalogue: Catalogue) -> tuple[int, int]:
    """(count, highest id) of the tags: changes when a tag is added or removed, which is all a
    photo edit can do to them (confirming a new name creates it); renames and moves are the
    tag manager's, which refreshes everything anyway."""
    count, top = catalogue.conn.execute("SELECT count(*), coalesce(max(id), 0) FROM tags").fetchone()
    return int(count), int(top)


def subtree(catalogue: Catalogue, tag_id: int) -> list[int]:
    """`tag_id` and every tag under it, parents before their children."""
    found = [tag_id]
    for parent in found:  # grows while walked
        found += [c for (c,) in catalogue.conn.execute("SELECT id FROM tags WHERE parent_id = ?", (parent,))
                  if c not in found]
    return found


def sibling_named(catalogue: Catalogue, tag_id: int, name: str) -> int | None:
    """Another tag called `name` (exactly) beside `tag_id`, under the same parent."""
    other = catalogue.scalar(
        "SELECT id FROM tags WHERE ifnull(parent_id, 0) = (SELECT ifnull(parent_id, 0) FROM tags WHERE id = ?)"
        " AND name = ? AND id != ?",
        (tag_id, name, tag_id),
    )
    return None if other is None else int(other)


def name_of(catalogue: Catalogue, tag_id: int) -> str:
    return str(catalogue.scalar("SELECT name FROM tags WHERE id = ?", (tag_id,)))


# --- synonyms ------------------------------------------------------------------------


def insert_synonym_in(conn: sqlite3.Connection, synonym: str, tag_id: int) -> bool:
    """Make `synonym` another word for tag `tag_id` unless a tag has that name (a real tag
    wins; a synonym never shadows it): False then. ValueError for a name no tag may have."""
    name = validate_tag_name(synonym)
    if conn.execute("SELECT 1 FROM tags WHERE name = ? COLLATE NOCASE", (name,)).fetchone():
        return False
    conn.execute("INSERT INTO tag_synonyms(name, tag_id) VALUES (?, ?) ON CONFLICT(name) DO NOTHING", (name, tag_id))
    return True


def add_synonym(catalogue: Catalogue, synonym: str, tag_id: int) -> bool:
    """`insert_synonym_in`, in its own transaction or the caller's."""
    with catalogue.transaction() as conn:
        return insert_synonym_in(conn, synonym, tag_id)


def synonyms(catalogue: Catalogue) -> dict[str, int]:
    """Every synonym -> the id of its tag."""
    return {name: int(tag_id) for name, tag_id in catalogue.conn.execute("SELECT name, tag_id FROM tag_synonyms")}


def synonym_owner(catalogue: Catalogue, synonym: str) -> int | None:
    """The tag `synonym` is another word for (case aside); None when it is none's."""
    owner = catalogue.scalar("SELECT tag_id FROM tag_synonyms WHERE name = ?", (synonym,))
    return None if owner is None else int(owner)


def synonyms_of(catalogue: Catalogue, tag_id: int) -> list[str]:
    rows = catalogue.query("SELECT name FROM tag_synonyms WHERE tag_id = ? ORDER BY name COLLATE NOCASE", (tag_id,))
    return [row[0] for row in rows]


# --- the tag manager's writes, and their undo ----------------------------------------


@dataclass(frozen=True)
class TagSnapshot:
    """Tag rows (as tuples of _TAG_COLUMNS, parents before children) and their photo_tags
    rows (photo_id, tag_id, state, score, source, updated_at: `opinions.rows_of_tag`), plus their
    synonyms (name, tag_id), their children (child id, parent id) and the tags linked to
    them (tag id, link id)."""

    tags: tuple[tuple, ...]
    rows: tuple[tuple, ...]
    synonyms: tuple[tuple, ...] = ()
    children: tuple[tuple, ...] = ()
    links: tuple[tuple, ...] = ()


def snapshot(catalogue: Catalogue, tag_ids: Iterable[int]) -> TagSnapshot:
    """Everything `restore_snapshot` needs to put the tags back as they are now. Take it in
    the transaction of the write it undoes, or another writer's commit in between is lost."""
    conn = catalogue.conn
    tags, rows, synonym_rows, children, links = [], [], [], [], []
    for tid in tag_ids:
        tags += conn.execute(f"SELECT {_TAG_COLUMNS} FROM tags WHERE id = ?", (tid,)).fetchall()
        rows += opinions.rows_of_tag(catalogue, tid)
        synonym_rows += conn.execute("SELECT name, tag_id FROM tag_synonyms WHERE tag_id = ?", (tid,)).fetchall()
        children += conn.execute("SELECT id, parent_id FROM tags WHERE parent_id = ?", (tid,)).fetchall()
        links += conn.execute("SELECT id, link_id FROM tags WHERE link_id = ?", (tid,)).fetchall()
    return TagSnapshot(tuple(tags), tuple(rows), tuple(synonym_rows), tuple(children), tuple(links))


def restore_snapshot(catalogue: Catalogue, snapshot: TagSnapshot) -> None:
    """Undo: the snapshot's tags exist again with the same ids, names, places, thresholds
    and exactly the photo rows they had."""
    with catalogue.transaction() as conn:
        for tag in snapshot.tags:
            # Free the name first in case a merge made it a synonym of another tag.
            conn.execute("DELETE FROM tag_synonyms WHERE name = ?", (tag[1],))
            conn.execute(
                f"INSERT INTO tags({_TAG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                " name = excluded.name, parent_id = excluded.parent_id, link_id = excluded.link_id,"
                " model_threshold = excluded.model_threshold, threshold = excluded.threshold,"
                " origin = excluded.origin, created_at = excluded.created_at",
                tag,
            )
        opinions.put_back_tag_rows(catalogue, [tag[0] for tag in snapshot.tags], snapshot.rows)
        conn.executemany(
            "INSERT INTO tag_synonyms(name, tag_id) VALUES (?, ?)"
            " ON CONFLICT(name) DO UPDATE SET tag_id = excluded.tag_id",
            snapshot.synonyms,
        )
        conn.executemany("UPDATE tags SET parent_id = ? WHERE id = ?", [(p, c) for c, p in snapshot.children])
        conn.executemany("UPDATE tags SET link_id = ? WHERE id = ?", [(k, t) for t, k in snapshot.links])


def rename(catalogue: Catalogue, tag_id: int, name: str) -> None:
    with catalogue.transaction() as conn:
        conn.execute("UPDATE tags SET name = ? WHERE id = ?", (name, tag_id))


def set_threshold(catalogue: Catalogue, tag_id: int, threshold: float | None) -> None:
    """The user's threshold for the tag (None: the model's)."""
    with catalogue.transaction() as conn:
        conn.execute("UPDATE tags SET threshold = ? WHERE id = ?", (threshold, tag_id))


def delete(catalogue: Catalogue, tag_id: int) -> None:
    """The tag, the tags under it and every opinion on them go (foreign keys cascade)."""
    with catalogue.transaction() as conn:
        conn.execute("DELETE FROM tags WHERE id = ?", (tag_id,))


class ChildNameClash(Exception):
    """A merge would put two tags of the same name under one parent."""


def merge_into(catalogue: Catalogue, source_id: int, target_id: int) -> None:
    """Fold tag `source_id` into `target_id` and delete it: its synonyms, links and children
    move to the target and its name becomes a synonym of it. Its opinions go with it (the
    caller gives the target its opinions: `opinions.replace_tag_opinions`). ChildNameClash when
    both have a child of the same name."""
    with catalogue.transaction() as conn:
        source_name = conn.execute("SELECT name FROM tags WHERE id = ?", (source_id,)).fetchone()[0]
        conn.execute("UPDATE tag_synonyms SET tag_id = ? WHERE tag_id = ?", (target_id, source_id))
        conn.execute("UPDATE tags SET link_id = ? WHERE link_id = ?", (target_id, source_id))
        try:
            conn.execute("UPDATE tags SET parent_id = ? WHERE parent_id = ?", (target_id, source_id))
        except sqlite3.IntegrityError as exc:  # the unique (parent, name) index
            raise ChildNameClash(str(exc)) from exc
        conn.execute("DELETE FROM tags WHERE id = ?", (source_id,))
        conn.execute("INSERT INTO tag_synonyms(name, tag_id) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
                     (source_name, target_id))

