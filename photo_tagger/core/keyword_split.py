"""Undo, at the upgrade to schema 4, what reading keywords by leaf name merged.

Before schema 4 a keyword was the tag of its leaf name or synonym wherever it stood:
`Places|France|Paris` on one photo and `People|Paris` on another were one tag, `Winter`
was `snow`. The catalogue remembers the exact keywords each source held
(`keyword_sources`), so each keyword gets the tag at its own path back (tag_tree.py),
and the photo's opinion on the merged tag moves to it: confirmed stays confirmed,
rejected stays rejected. The merged tag keeps the opinion too when the user gave it
(source other than 'keywords'), and loses it when only the keyword had put it there.

Where the record cannot say which keyword put a tag on a photo (a keyword-sourced tag
no recorded keyword explains), the photo's sources are forgotten, so the next index
reads its sidecars and embedded keywords again under the new rules. A keyword that an
export before this version already rewrote in the sidecar (`person|Niaz` for
`People|Niaz`) is beyond both: only the sidecar's `.orig` still has it.

Runs inside the migration's transaction on its bare connection (migrations.py).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from photo_tagger.core.store.tags import ensure_path_in
from photo_tagger.core.tag_tree import TagPath

KEYWORD_SOURCE = "keywords"  # photo_tags.source of a tag a keyword put there (keywords.py)


def split_keyword_merges(conn: sqlite3.Connection) -> None:
    # Tag names were unique (case aside) until now, so this is what a keyword resolved to.
    by_name = {name.casefold(): tag_id for tag_id, name in conn.execute("SELECT id, name FROM tags")}
    by_synonym = {name.casefold(): tag_id for name, tag_id in conn.execute("SELECT name, tag_id FROM tag_synonyms")}
    emptied: set[int] = set()
    unexplained: list[int] = []
    for photo_id, paths in _recorded_keywords(conn):
        merged_into: dict[int, set[int]] = {}  # old tag -> the tags at the keywords' own paths
        for path in paths:
            old = by_name.get(path[-1].casefold(), by_synonym.get(path[-1].casefold()))
            try:
                own = ensure_path_in(conn, path, origin="import")[0]
            except ValueError:
                continue
            if old is not None:
                merged_into.setdefault(old, set()).add(own)
        for old, own_tags in merged_into.items():
            if old not in own_tags and _move_opinion(conn, photo_id, old, own_tags):
                emptied.add(old)
        if _keyword_tags(conn, photo_id) - set(merged_into):
            unexplained.append(photo_id)
    conn.executemany("DELETE FROM keyword_sources WHERE photo_id = ?", [(p,) for p in unexplained])
    _drop_unused(conn, emptied)


def _recorded_keywords(conn: sqlite3.Connection) -> Iterator[tuple[int, list[TagPath]]]:
    """Per photo, every keyword its sources held when last read (both row layouts of
    keywords.py: a JSON list of paths, or {file: [size, mtime_ns, paths]})."""
    by_photo: dict[int, list[TagPath]] = {}
    for photo_id, keywords in conn.execute("SELECT photo_id, keywords FROM keyword_sources ORDER BY photo_id"):
        data = json.loads(keywords)
        lists = [data] if isinstance(data, list) else [paths for _, _, paths in data.values()]
        by_photo.setdefault(photo_id, []).extend(tuple(p) for paths in lists for p in paths if p)
    yield from by_photo.items()


def _move_opinion(conn: sqlite3.Connection, photo_id: int, old: int, own_tags: set[int]) -> bool:
    """Give the photo's opinion on `old` to each of `own_tags`; True when `old` lost it."""
    row = conn.execute(
        "SELECT state, source, updated_at FROM photo_tags WHERE photo_id = ? AND tag_id = ?"
        " AND state IN ('confirmed', 'rejected')",
        (photo_id, old),
    ).fetchone()
    if row is None:
        return False
    state, source, updated_at = row
    conn.executemany(
        "INSERT INTO photo_tags(photo_id, tag_id, state, source, updated_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(photo_id, tag_id) DO UPDATE SET state = excluded.state, source = excluded.source"
        " WHERE photo_tags.state = 'suggested'",
        [(photo_id, own, state, source, updated_at) for own in sorted(own_tags)],
    )
    if source != KEYWORD_SOURCE:
        return False
    conn.execute("DELETE FROM photo_tags WHERE photo_id = ? AND tag_id = ?", (photo_id, old))
    return True


def _keyword_tags(conn: sqlite3.Connection, photo_id: int) -> set[int]:
    return {tag_id for (tag_id,) in conn.execute(
        "SELECT tag_id FROM photo_tags WHERE photo_id = ? AND source = ? AND state != 'suggested'",
        (photo_id, KEYWORD_SOURCE),
    )}


def _drop_unused(conn: sqlite3.Connection, tag_ids: set[int]) -> None:
    """Remove the tags a keyword had made that now hold no opinion and no child: a
    leftover of the merge (`Niaz` under `person`). Foreign keys are off during a
    migration, so their suggestions and synonyms go by hand."""
    for tag_id in sorted(tag_ids):
        unused = conn.execute(
            "SELECT 1 FROM tags WHERE id = ? AND origin = 'import'"
            " AND NOT EXISTS (SELECT 1 FROM photo_tags WHERE tag_id = tags.id AND state != 'suggested')"
            " AND NOT EXISTS (SELECT 1 FROM tags c WHERE c.parent_id = tags.id)",
            (tag_id,),
        ).fetchone()
        if unused:
            for table, column in (("photo_tags", "tag_id"), ("tag_synonyms", "tag_id"), ("tags", "id")):
                conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (tag_id,))
            conn.execute("UPDATE tags SET link_id = NULL WHERE link_id = ?", (tag_id,))
