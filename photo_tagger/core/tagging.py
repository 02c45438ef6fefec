"""What the user says about tags: confirm, reject, add, remove, and what that adds up to.

Confirming a tag confirms its ancestors too (`zebra` is a `wild animal` is an `animal`):
a photo of a zebra is a photo of an animal, and the parents stop being asked about.

Every function here writes in one transaction and returns what it replaced, so the GUI
can undo it exactly (`restore_states`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.store.tags import all_labels
from photo_tagger.core.tag_names import find_tag, resolve_name

USER_STATES = ("confirmed", "rejected")
# A suggestion counts as a tag when its score reaches the tag's threshold: the user's
# override from the tag manager, else the one the head learned.
EFFECTIVE_THRESHOLD_SQL = "COALESCE(t.threshold, t.model_threshold)"


@dataclass(frozen=True)
class TagState:
    """One (photo, tag) row as it was; `state` None means there was no row."""

    photo_id: int
    tag_id: int
    state: str | None
    score: float | None
    source: str | None


@dataclass(frozen=True)
class TagCount:
    name: str
    confirmed: int
    suggested: int  # unreviewed suggestions at or above the threshold
    rejected: int


def ensure_tag(catalogue: Catalogue, name: str, origin: str = "user") -> int:
    """The id of the tag `name` names (a label, a `|`-path or a leaf name, see
    tag_names.py; not a synonym: a name typed as a tag is that tag), created at the path
    it spells if new. Refuses bad names, and a leaf name several tags share."""
    return resolve_name(catalogue, name, origin, synonyms=False)[0]


def tag_id_by_name(catalogue: Catalogue, name: str) -> int | None:
    return find_tag(catalogue, name)


def with_ancestors(catalogue: Catalogue, tag_ids: Iterable[int]) -> list[int]:
    """`tag_ids` followed by every ancestor not among them. A cycle ends a chain."""
    parent_of = dict(catalogue.conn.execute("SELECT id, parent_id FROM tags").fetchall())
    result = list(dict.fromkeys(tag_ids))
    seen = set(result)
    for tag_id in list(result):
        parent = parent_of.get(tag_id)
        while parent is not None and parent in parent_of and parent not in seen:
            seen.add(parent)
            result.append(parent)
            parent = parent_of.get(parent)
    return result


def snapshot(catalogue: Catalogue, photo_ids: Iterable[int], tag_ids: Iterable[int]) -> list[TagState]:
    states = []
    for photo_id in photo_ids:
        for tag_id in tag_ids:
            row = catalogue.query(
                "SELECT state, score, source FROM photo_tags WHERE photo_id = ? AND tag_id = ?",
                (photo_id, tag_id),
            )
            if row:
                states.append(TagState(photo_id, tag_id, row[0][0], row[0][1], row[0][2]))
            else:
                states.append(TagState(photo_id, tag_id, None, None, None))
    return states


def set_state(
    catalogue: Catalogue,
    photo_ids: Sequence[int],
    tag_id: int,
    state: str | None,
    source: str = "user",
) -> list[TagState]:
    """Confirm (with its ancestors) or reject `tag_id` on every photo, or (state None) drop
    the user's opinion (a model suggestion comes back at the next scoring). Returns the
    previous rows."""
    if state is not None and state not in USER_STATES:
        raise ValueError(f"state must be one of {USER_STATES} or None, not {state!r}")
    with catalogue.transaction() as conn:
        tag_ids = with_ancestors(catalogue, [tag_id]) if state == "confirmed" else [tag_id]
        before = snapshot(catalogue, photo_ids, tag_ids)
        now = time.time()
        if state == "confirmed":
            _confirm(conn, [(photo_id, t) for photo_id in photo_ids for t in tag_ids], source, now)
            return before
        for photo_id in photo_ids:
            if state is None:
                conn.execute(
                    "UPDATE photo_tags SET state = 'suggested', source = 'model', updated_at = ?"
                    " WHERE photo_id = ? AND tag_id = ? AND score IS NOT NULL",
                    (now, photo_id, tag_id),
                )
                conn.execute(
                    "DELETE FROM photo_tags WHERE photo_id = ? AND tag_id = ? AND score IS NULL",
                    (photo_id, tag_id),
                )
                continue
            conn.execute(
                "INSERT INTO photo_tags(photo_id, tag_id, state, source, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(photo_id, tag_id) DO UPDATE SET"
                " state = excluded.state, source = excluded.source, updated_at = excluded.updated_at",
                (photo_id, tag_id, state, source, now),
            )
    return before


def _confirm(conn: sqlite3.Connection, pairs: Iterable[tuple[int, int]], source: str, now: float) -> None:
    conn.executemany(
        "INSERT INTO photo_tags(photo_id, tag_id, state, source, updated_at)"
        " VALUES (?, ?, 'confirmed', ?, ?) ON CONFLICT(photo_id, tag_id) DO UPDATE SET"
        " state = 'confirmed', source = excluded.source, updated_at = excluded.updated_at",
        [(photo_id, tag_id, source, now) for photo_id, tag_id in pairs],
    )


def restore_states(catalogue: Catalogue, states: Sequence[TagState]) -> None:
    """Put rows back exactly as `snapshot` saw them (undo)."""
    now = time.time()
    with catalogue.transaction() as conn:
        for s in states:
            if s.state is None:
                conn.execute(
                    "DELETE FROM photo_tags WHERE photo_id = ? AND tag_id = ?", (s.photo_id, s.tag_id)
                )
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO photo_tags(photo_id, tag_id, state, score, source,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (s.photo_id, s.tag_id, s.state, s.score, s.source, now),
                )


def accept_suggestions(catalogue: Catalogue, photo_ids: Sequence[int]) -> list[TagState]:
    """Confirm every suggestion at or above its threshold on these photos, and the
    ancestors of each."""
    with catalogue.transaction() as conn:
        before: list[TagState] = []
        now = time.time()
        for photo_id in photo_ids:
            rows = catalogue.query(
                "SELECT pt.tag_id FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id"
                f" WHERE pt.photo_id = ? AND pt.state = 'suggested' AND pt.score >= {EFFECTIVE_THRESHOLD_SQL}",
                (photo_id,),
            )
            tag_ids = with_ancestors(catalogue, [tag_id for (tag_id,) in rows])
            before += snapshot(catalogue, [photo_id], tag_ids)
            _confirm(conn, [(photo_id, tag_id) for tag_id in tag_ids], "user", now)
            conn.execute("UPDATE photos SET reviewed_at = ? WHERE id = ?", (now, photo_id))
    return before


def replace_confirmed_tags(
    catalogue: Catalogue, photo_id: int, tag_ids: Iterable[int], source: str = "import"
) -> None:
    """Make `tag_ids` this photo's confirmed truth: every other tag the photo has an
    opinion on (suggested or confirmed) becomes rejected."""
    wanted = set(tag_ids)
    now = time.time()
    with catalogue.transaction() as conn:
        for (tag_id,) in conn.execute(
            "SELECT tag_id FROM photo_tags WHERE photo_id = ? AND state != 'rejected'", (photo_id,)
        ).fetchall():
            if tag_id not in wanted:
                conn.execute(
                    "UPDATE photo_tags SET state = 'rejected', source = ?, updated_at = ?"
                    " WHERE photo_id = ? AND tag_id = ?",
                    (source, now, photo_id, tag_id),
                )
        for tag_id in wanted:
            conn.execute(
                "INSERT INTO photo_tags(photo_id, tag_id, state, source, updated_at)"
                " VALUES (?, ?, 'confirmed', ?, ?) ON CONFLICT(photo_id, tag_id) DO UPDATE SET"
                " state = 'confirmed', source = excluded.source, updated_at = excluded.updated_at",
                (photo_id, tag_id, source, now),
            )
        conn.execute("UPDATE photos SET reviewed_at = ? WHERE id = ?", (now, photo_id))


def effective_tags(catalogue: Catalogue) -> dict[int, tuple[list[str], list[str]]]:
    """photo id -> (effective tags, confirmed tags) by label, each sorted. Effective =
    confirmed, plus unreviewed suggestions at or above their threshold (rejected never count)."""
    label = tag_labels(catalogue)
    result: dict[int, tuple[list[str], list[str]]] = {}
    rows = catalogue.query(
        "SELECT pt.photo_id, t.id, pt.state FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id"
        f" WHERE pt.state = 'confirmed' OR (pt.state = 'suggested' AND pt.score >= {EFFECTIVE_THRESHOLD_SQL})"
    )
    for photo_id, tag_id, state in rows:
        tags, confirmed = result.setdefault(photo_id, ([], []))
        tags.append(label[tag_id])
        if state == "confirmed":
            confirmed.append(label[tag_id])
    for tags, confirmed in result.values():
        tags.sort(key=str.casefold)
        confirmed.sort(key=str.casefold)
    return result


def tag_labels(catalogue: Catalogue) -> dict[int, str]:
    """tag id -> label: its name, or its path where the name is not enough (tag_names.py)."""
    return all_labels(catalogue)


def tag_counts(catalogue: Catalogue) -> list[TagCount]:
    label = tag_labels(catalogue)
    rows = catalogue.query(
        "SELECT t.id,"
        " count(CASE WHEN pt.state = 'confirmed' THEN 1 END),"
        f" count(CASE WHEN pt.state = 'suggested' AND pt.score >= {EFFECTIVE_THRESHOLD_SQL} THEN 1 END),"
        " count(CASE WHEN pt.state = 'rejected' THEN 1 END)"
        " FROM tags t LEFT JOIN photo_tags pt ON pt.tag_id = t.id"
        " GROUP BY t.id"
    )
    counts = [TagCount(label[tag_id], c, s, r) for tag_id, c, s, r in rows]
    return sorted(counts, key=lambda count: count.name.casefold())
