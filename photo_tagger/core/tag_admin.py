"""The tag manager's operations: rename, merge, delete, set a threshold; each undoable.

Each operation writes in one transaction and returns a `TagSnapshot` of everything it
touched (the tag rows and all their photo_tags rows), and `restore_snapshot` puts that
back exactly (undo). A renamed tag keeps its id, so its photos keep it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.errors import UserError
from photo_tagger.core.taxonomy import validate_tag_name

_TAG_COLUMNS = "id, name, parent, model_threshold, threshold, origin, created_at"
_ROW_COLUMNS = "photo_id, tag_id, state, score, source, updated_at"
# When merging, the user's word beats the model's: confirmed > rejected > suggested.
_RANK = {"confirmed": 3, "rejected": 2, "suggested": 1}


@dataclass(frozen=True)
class TagSnapshot:
    """Tag rows (as tuples of _TAG_COLUMNS) and their photo_tags rows (_ROW_COLUMNS), plus
    their synonyms (name, tag_id) and their children (child id, parent name)."""

    tags: tuple[tuple, ...]
    rows: tuple[tuple, ...]
    synonyms: tuple[tuple, ...] = ()
    children: tuple[tuple, ...] = ()


def tag_id(catalogue: Catalogue, name: str) -> int:
    """The id of tag `name` (case-insensitive); UserError if there is none."""
    value = catalogue.scalar("SELECT id FROM tags WHERE name = ?", (name.strip(),))
    if value is None:
        raise UserError(f"there is no tag {name.strip()!r}")
    return int(value)


def snapshot_tags(catalogue: Catalogue, tag_ids: Sequence[int]) -> TagSnapshot:
    tags, rows, synonyms, children = [], [], [], []
    for tid in tag_ids:
        tags += catalogue.conn.execute(f"SELECT {_TAG_COLUMNS} FROM tags WHERE id = ?", (tid,)).fetchall()
        rows += catalogue.conn.execute(f"SELECT {_ROW_COLUMNS} FROM photo_tags WHERE tag_id = ?", (tid,)).fetchall()
        synonyms += catalogue.conn.execute("SELECT name, tag_id FROM tag_synonyms WHERE tag_id = ?", (tid,)).fetchall()
        children += catalogue.conn.execute(
            "SELECT c.id, c.parent FROM tags c JOIN tags t ON c.parent = t.name WHERE t.id = ?", (tid,)
        ).fetchall()
    return TagSnapshot(tuple(tags), tuple(rows), tuple(synonyms), tuple(children))


def restore_snapshot(catalogue: Catalogue, snapshot: TagSnapshot) -> None:
    """Undo: the snapshot's tags exist again with the same ids, names, thresholds and
    exactly the photo rows they had."""
    with catalogue.transaction() as conn:
        for tag in snapshot.tags:
            # Free the name first in case another tag took it meanwhile (a later merge),
            # also as a synonym (a merge makes the merged tag's name a synonym).
            conn.execute("DELETE FROM photo_tags WHERE tag_id = ?", (tag[0],))
            conn.execute("DELETE FROM tag_synonyms WHERE name = ?", (tag[1],))
            conn.execute(
                f"INSERT INTO tags({_TAG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                " name = excluded.name, parent = excluded.parent, model_threshold = excluded.model_threshold,"
                " threshold = excluded.threshold, origin = excluded.origin, created_at = excluded.created_at",
                tag,
            )
        conn.executemany(f"INSERT INTO photo_tags({_ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", snapshot.rows)
        conn.executemany("INSERT OR REPLACE INTO tag_synonyms(name, tag_id) VALUES (?, ?)", snapshot.synonyms)
        conn.executemany("UPDATE tags SET parent = ? WHERE id = ?", [(p, c) for c, p in snapshot.children])


def rename_tag(catalogue: Catalogue, old: str, new: str) -> TagSnapshot:
    """Rename tag `old` to `new` (a case-only change is allowed). Refuses a bad name and
    a name another tag has (merge instead)."""
    try:
        clean = validate_tag_name(new)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    tid = tag_id(catalogue, old)
    other = catalogue.scalar("SELECT id FROM tags WHERE name = ? AND id != ?", (clean, tid))
    if other is not None:
        raise UserError(f"a tag {clean!r} already exists; merge {old.strip()!r} into it instead")
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
    before = snapshot_tags(catalogue, [*source_ids, target_id])
    best: dict[int, tuple] = {}
    for row in before.rows:  # (photo_id, tag_id, state, score, source, updated_at)
        current = best.get(row[0])
        if current is None or (_RANK[row[2]], row[3] or 0.0) > (_RANK[current[2]], current[3] or 0.0):
            best[row[0]] = row
    now = time.time()
    target_name = catalogue.scalar("SELECT name FROM tags WHERE id = ?", (target_id,))
    with catalogue.transaction() as conn:
        conn.execute("DELETE FROM photo_tags WHERE tag_id = ?", (target_id,))
        for tid in source_ids:
            # The merged tag's words keep meaning the target (import, keywords), and its
            # children move under the target instead of pointing at a tag that is gone.
            source_name = conn.execute("SELECT name FROM tags WHERE id = ?", (tid,)).fetchone()[0]
            conn.execute("UPDATE tag_synonyms SET tag_id = ? WHERE tag_id = ?", (target_id, tid))
            conn.execute("UPDATE tags SET parent = ? WHERE parent = ?", (target_name, source_name))
            conn.execute("DELETE FROM tags WHERE id = ?", (tid,))
            conn.execute("INSERT OR IGNORE INTO tag_synonyms(name, tag_id) VALUES (?, ?)", (source_name, target_id))
        conn.executemany(
            f"INSERT INTO photo_tags({_ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            [(photo_id, target_id, row[2], row[3], row[4], now) for photo_id, row in best.items()],
        )
    return before


def delete_tag(catalogue: Catalogue, name: str) -> TagSnapshot:
    """Delete tag `name` and every opinion on it; the snapshot brings it all back."""
    tid = tag_id(catalogue, name)
    before = snapshot_tags(catalogue, [tid])
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

