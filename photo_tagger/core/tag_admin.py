"""The tag manager's operations: rename, merge, delete, set a threshold; each undoable.

Each operation writes in one transaction and returns a `TagSnapshot` of everything it
touched (the tag rows and all their photo_tags rows), and `restore_snapshot` puts that
back exactly (undo). A renamed tag keeps its id, so its photos keep it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.errors import UserError
from photo_tagger.core.tag_names import existing_tag
from photo_tagger.core.tagging import with_ancestors
from photo_tagger.core.taxonomy import validate_tag_name

_TAG_COLUMNS = "id, name, parent_id, link_id, model_threshold, threshold, origin, created_at"
_ROW_COLUMNS = "photo_id, tag_id, state, score, source, updated_at"
# When merging, the user's word beats the model's: confirmed > rejected > suggested.
_RANK = {"confirmed": 3, "rejected": 2, "suggested": 1}


@dataclass(frozen=True)
class TagSnapshot:
    """Tag rows (as tuples of _TAG_COLUMNS, parents before children) and their photo_tags
    rows (_ROW_COLUMNS), plus their synonyms (name, tag_id), their children (child id,
    parent id) and the tags linked to them (tag id, link id)."""

    tags: tuple[tuple, ...]
    rows: tuple[tuple, ...]
    synonyms: tuple[tuple, ...] = ()
    children: tuple[tuple, ...] = ()
    links: tuple[tuple, ...] = ()


def tag_id(catalogue: Catalogue, name: str) -> int:
    """The id of the tag `name` names (label, path, or a leaf name only one tag has);
    UserError if there is none, or several."""
    return existing_tag(catalogue, name)


def snapshot_tags(catalogue: Catalogue, tag_ids: Sequence[int]) -> TagSnapshot:
    tags, rows, synonyms, children, links = [], [], [], [], []
    for tid in tag_ids:
        tags += catalogue.conn.execute(f"SELECT {_TAG_COLUMNS} FROM tags WHERE id = ?", (tid,)).fetchall()
        rows += catalogue.conn.execute(f"SELECT {_ROW_COLUMNS} FROM photo_tags WHERE tag_id = ?", (tid,)).fetchall()
        synonyms += catalogue.conn.execute("SELECT name, tag_id FROM tag_synonyms WHERE tag_id = ?", (tid,)).fetchall()
        children += catalogue.conn.execute("SELECT id, parent_id FROM tags WHERE parent_id = ?", (tid,)).fetchall()
        links += catalogue.conn.execute("SELECT id, link_id FROM tags WHERE link_id = ?", (tid,)).fetchall()
    return TagSnapshot(tuple(tags), tuple(rows), tuple(synonyms), tuple(children), tuple(links))


def restore_snapshot(catalogue: Catalogue, snapshot: TagSnapshot) -> None:
    """Undo: the snapshot's tags exist again with the same ids, names, places, thresholds
    and exactly the photo rows they had."""
    with catalogue.transaction() as conn:
        for tag in snapshot.tags:
            # Free the name first in case a merge made it a synonym of another tag.
            conn.execute("DELETE FROM photo_tags WHERE tag_id = ?", (tag[0],))
            conn.execute("DELETE FROM tag_synonyms WHERE name = ?", (tag[1],))
            conn.execute(
                f"INSERT INTO tags({_TAG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                " name = excluded.name, parent_id = excluded.parent_id, link_id = excluded.link_id,"
                " model_threshold = excluded.model_threshold, threshold = excluded.threshold,"
                " origin = excluded.origin, created_at = excluded.created_at",
                tag,
            )
        conn.executemany(f"INSERT INTO photo_tags({_ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", snapshot.rows)
        conn.executemany("INSERT OR REPLACE INTO tag_synonyms(name, tag_id) VALUES (?, ?)", snapshot.synonyms)
        conn.executemany("UPDATE tags SET parent_id = ? WHERE id = ?", [(p, c) for c, p in snapshot.children])
        conn.executemany("UPDATE tags SET link_id = ? WHERE id = ?", [(k, t) for t, k in snapshot.links])


def rename_tag(catalogue: Catalogue, old: str, new: str) -> TagSnapshot:
    """Rename tag `old` to `new` where it stands (a case-only change is allowed).
    Refuses a bad name and a name a sibling has (merge instead)."""
    try:
        clean = validate_tag_name(new)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    tid = tag_id(catalogue, old)
    other = catalogue.scalar(
        "SELECT id FROM tags WHERE ifnull(parent_id, 0) = (SELECT ifnull(parent_id, 0) FROM tags WHERE id = ?)"
        " AND name = ? AND id != ?",
        (tid, clean, tid),
    )
    if other is not None:
        raise UserError(f"a tag {clean!r} already exists there; merge {old.strip()!r} into it instead")
    before = snapshot_tags(catalogue, [tid])
    with catalogue.transaction() as conn:
        conn.execute("UPDATE tags SET name = ? WHERE id = ?", (clean, tid))
    return before


def merge_tags(catalogue: Catalogue, sources: Sequence[str], target: str) -> TagSnapshot:
    """Fold every tag in `sources` into `target` and delete the sources. Per photo the
    strongest opinion wins (confirmed > rejected > suggested; the higher score)."""
    target_id = tag_id(catalogue, target)
    source_ids = [tid for tid in dict.fromkeys(tag_id(catalogue, s) for s in sources) if tid != target_id]
    if not source_ids:
        raise UserError("choose at least one other tag to merge")
    if set(source_ids) & set(with_ancestors(catalogue, [target_id])):
        raise UserError("a tag cannot be merged into a tag under it")
    before = snapshot_tags(catalogue, [*source_ids, target_id])
    best: dict[int, tuple] = {}
    for row in before.rows:  # (photo_id, tag_id, state, score, source, updated_at)
        current = best.get(row[0])
        if current is None or (_RANK[row[2]], row[3] or 0.0) > (_RANK[current[2]], current[3] or 0.0):
            best[row[0]] = row
    now = time.time()
    with catalogue.transaction() as conn:
        conn.execute("DELETE FROM photo_tags WHERE tag_id = ?", (target_id,))
        for tid in source_ids:
            # The merged tag's words keep meaning the target (import, keywords), and its
            # children move under the target instead of going with it.
            source_name = conn.execute("SELECT name FROM tags WHERE id = ?", (tid,)).fetchone()[0]
            conn.execute("UPDATE tag_synonyms SET tag_id = ? WHERE tag_id = ?", (target_id, tid))
            conn.execute("UPDATE tags SET link_id = ? WHERE link_id = ?", (target_id, tid))
            try:
                conn.execute("UPDATE tags SET parent_id = ? WHERE parent_id = ?", (target_id, tid))
            except sqlite3.IntegrityError as exc:
                raise UserError(f"{source_name!r} and {target!r} both have a tag of the same name under them;"
                                " merge those first") from exc
            conn.execute("DELETE FROM tags WHERE id = ?", (tid,))
            conn.execute("INSERT OR IGNORE INTO tag_synonyms(name, tag_id) VALUES (?, ?)", (source_name, target_id))
        conn.executemany(
            f"INSERT INTO photo_tags({_ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            [(photo_id, target_id, row[2], row[3], row[4], now) for photo_id, row in best.items()],
        )
    return before


def delete_tag(catalogue: Catalogue, name: str) -> TagSnapshot:
    """Delete tag `name`, the tags under it and every opinion on them; the snapshot
    brings it all back."""
    tid = tag_id(catalogue, name)
    subtree = [tid]
    for parent in subtree:  # grows while walked: parents stay before their children
        subtree += [c for (c,) in catalogue.conn.execute("SELECT id FROM tags WHERE parent_id = ?", (parent,))
                    if c not in subtree]
    before = snapshot_tags(catalogue, subtree)
    with catalogue.transaction() as conn:
        conn.execute("DELETE FROM tags WHERE id = ?", (tid,))
    return before


def set_threshold(catalogue: Catalogue, name: str, threshold: float | None) -> TagSnapshot:
    """The user's threshold for `name` (None: back to the model's)."""
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise UserError(f"a threshold must be between 0 and 1 (exclusive), not {threshold}")
    tid = tag_id(catalogue, name)
    before = snapshot_tags(catalogue, [tid])
    with catalogue.transaction() as conn:
        conn.execute("UPDATE tags SET threshold = ? WHERE id = ?", (threshold, tid))
    return before

