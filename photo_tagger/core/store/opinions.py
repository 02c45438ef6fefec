"""Tag opinions: every statement on `photo_tags`, and the one definition of each state.

A row says what is known of one tag on one photo: the model's `suggested` score, or the
user's `confirmed` / `rejected` (with the model's latest score kept beside it). The states
the app shows are defined here once, as SQL fragments private to this module, and every
query below is built from them:

- effective threshold: the user's override from the tag manager, else the one the head learned;
- suggested: an unreviewed suggestion at or above its tag's threshold, unless a tag linked
  to that tag (a keyword's `Winter` -> the built-in snow, tag_tree.py) is confirmed on the
  photo: the user already said so in their own words;
- effective: confirmed, or suggested (rejected never counts);
- listed: waiting for an answer, what the tag panel lists and the grid's badge counts:
  suggested, and the "maybe" suggestions just below the threshold (`REVIEW_BAND`);
- in the review band: a suggestion within `REVIEW_BAND` of its threshold, either side.

Every write of a state sets `updated_at`: the correction count that triggers auto-retrain
(migration 5) counts user rows by it. Two writes keep it: the model's new score on a user row,
and the undo of a tag operation (`put_back_tag_rows`). Writers open their own transaction,
or join the caller's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from photo_tagger.core.store.id_lists import IN_IDS, id_list

if TYPE_CHECKING:  # the catalogue's migrations reach this module through store.tags
    from photo_tagger.core.store.connection import Catalogue

# A suggestion this close to its threshold (either side, as a share of the threshold) is "low
# confidence": the review queue shows it, and the tag panel offers the ones just below the
# threshold as "maybe". Relative: at 0.5 it is the old 0.15 either side, while a tag whose
# threshold is 0.15 (many learnt from real photos) does not list every score above the floor.
REVIEW_BAND = 0.3

# The fragments read a row `pt` of photo_tags joined to its tag `t`.
_THRESHOLD = "COALESCE(t.threshold, t.model_threshold)"
# A tag linked to this row's tag is confirmed on the photo. Only the rows of tags something
# links to pay for the EXISTS (the uncorrelated IN is built once per query); in it, the links
# of this row's tag come from the tags(link_id) index and each probes photo_tags by its key.
# CROSS JOIN keeps that order: read from the photo's own rows (~58 each), a grid block took
# 2.5x as long. 20k photos, 1,000 selected / a grid block of 100, with 20, 200 and 2,000 linked
# keyword tags: 31 / 2.3, 33 / 2.9, 50 / 7.4 ms; the materialized list of every link it
# replaced, scanned per row: 31 / 2.2, 54 / 3.1, 371 / 9.2 ms.
_LINKED_CONFIRMED = (
    "(pt.tag_id IN (SELECT link_id FROM tags WHERE link_id IS NOT NULL) AND EXISTS ("
    "SELECT 1 FROM tags lt CROSS JOIN photo_tags lpt ON lpt.photo_id = pt.photo_id AND lpt.tag_id = lt.id"
    " WHERE lt.link_id = pt.tag_id AND lpt.state = 'confirmed'))"
)


def _open_suggestion(floor: str) -> str:
    """An unreviewed suggestion scoring at least `floor`, on a tag the user has not already
    confirmed through a tag linked to it."""
    return f"(pt.state = 'suggested' AND pt.score >= {floor} AND NOT {_LINKED_CONFIRMED})"


_SUGGESTED = _open_suggestion(_THRESHOLD)
_EFFECTIVE = f"(pt.state = 'confirmed' OR {_SUGGESTED})"
_LISTED = _open_suggestion(f"{_THRESHOLD} * {1 - REVIEW_BAND}")
_IN_REVIEW_BAND = (f"(pt.state = 'suggested' AND pt.score >= {_THRESHOLD} * {1 - REVIEW_BAND}"
                   f" AND pt.score < {_THRESHOLD} * {1 + REVIEW_BAND})")


# --- writes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagState:
    """One (photo, tag) row as it was; `state` None means there was no row."""

    photo_id: int
    tag_id: int
    state: str | None
    score: float | None
    source: str | None


def states(catalogue: Catalogue, photo_ids: Iterable[int], tag_ids: Iterable[int]) -> list[TagState]:
    """The rows of every (photo, tag) pair as they are now: what an undo puts back."""
    tag_ids = list(tag_ids)
    result = []
    for photo_id in photo_ids:
        for tag_id in tag_ids:
            row = catalogue.conn.execute(
                "SELECT state, score, source FROM photo_tags WHERE photo_id = ? AND tag_id = ?", (photo_id, tag_id)
            ).fetchone()
            result.append(TagState(photo_id, tag_id, *row) if row else TagState(photo_id, tag_id, None, None, None))
    return result


def set_state(catalogue: Catalogue, pairs: Iterable[tuple[int, int]], state: str | None, source: str) -> None:
    """Put the user's word `state` ('confirmed' or 'rejected') on each (photo, tag) pair, the
    model's score kept; or (None) take it back: the row is the model's suggestion again when
    it has a score, else goes. The writer of the user's word: `updated_at` is always set."""
    pairs = list(pairs)
    now = time.time()
    with catalogue.transaction() as conn:
        if state is None:
            conn.executemany(
                "UPDATE photo_tags SET state = 'suggested', source = 'model', updated_at = ?"
                " WHERE photo_id = ? AND tag_id = ? AND score IS NOT NULL",
                [(now, photo_id, tag_id) for photo_id, tag_id in pairs],
            )
            conn.executemany(
                "DELETE FROM photo_tags WHERE photo_id = ? AND tag_id = ? AND score IS NULL", pairs
            )
            return
        conn.executemany(
            "INSERT INTO photo_tags(photo_id, tag_id, state, source, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(photo_id, tag_id) DO UPDATE SET"
            " state = excluded.state, source = excluded.source, updated_at = excluded.updated_at",
            [(photo_id, tag_id, state, source, now) for photo_id, tag_id in pairs],
        )


def restore_states(catalogue: Catalogue, rows: Sequence[TagState]) -> None:
    """Put rows back exactly as `states` saw them (undo)."""
    now = time.time()
    with catalogue.transaction() as conn:
        conn.executemany(
            "DELETE FROM photo_tags WHERE photo_id = ? AND tag_id = ?",
            [(s.photo_id, s.tag_id) for s in rows if s.state is None],
        )
        conn.executemany(
            "INSERT INTO photo_tags(photo_id, tag_id, state, score, source, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(photo_id, tag_id) DO UPDATE SET state = excluded.state, score = excluded.score,"
            " source = excluded.source, updated_at = excluded.updated_at",
            [(s.photo_id, s.tag_id, s.state, s.score, s.source, now) for s in rows if s.state is not None],
        )


def confirm_unanswered(catalogue: Catalogue, photo_id: int, tag_ids: Sequence[int], source: str) -> int:
    """Confirm the tags on the photo where the user has not answered (a suggestion is
    promoted, a missing row added; a confirmed or rejected row stays): what a keyword read
    from the photo's files says. Returns the rows changed."""
    now = time.time()
    with catalogue.transaction() as conn:
        return sum(
            conn.execute(
                "INSERT INTO photo_tags(photo_id, tag_id, state, source, updated_at)"
                " VALUES (?, ?, 'confirmed', ?, ?) ON CONFLICT(photo_id, tag_id) DO UPDATE SET"
                " state = 'confirmed', source = excluded.source, updated_at = excluded.updated_at"
                " WHERE photo_tags.state = 'suggested'",
                (photo_id, tag_id, source, now),
            ).rowcount
            for tag_id in tag_ids
        )


# A tag operation's undo data holds the tag's rows whole, in these columns.
_ROW_COLUMNS = "photo_id, tag_id, state, score, source, updated_at"


def rows_of_tag(catalogue: Catalogue, tag_id: int) -> list[tuple]:
    """Every row on the tag, whole (_ROW_COLUMNS): what undoing a tag operation puts back."""
    return catalogue.conn.execute(f"SELECT {_ROW_COLUMNS} FROM photo_tags WHERE tag_id = ?", (tag_id,)).fetchall()


def put_back_tag_rows(catalogue: Catalogue, tag_ids: Iterable[int], rows: Iterable[tuple]) -> None:
    """The tags' rows become exactly `rows` (from `rows_of_tag`), `updated_at` as it was:
    the undo of a tag operation leaves the correction count as it found it."""
    with catalogue.transaction() as conn:
        conn.executemany("DELETE FROM photo_tags WHERE tag_id = ?", [(tag_id,) for tag_id in tag_ids])
        conn.executemany(f"INSERT INTO photo_tags({_ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", rows)


def replace_tag_opinions(catalogue: Catalogue, tag_id: int, opinions: Iterable[tuple]) -> None:
    """The tag's rows become exactly `opinions`: (photo_id, state, score, source), updated
    now (a merge gives the target the strongest opinion of each photo)."""
    now = time.time()
    with catalogue.transaction() as conn:
        conn.execute("DELETE FROM photo_tags WHERE tag_id = ?", (tag_id,))
        conn.executemany(
            f"INSERT INTO photo_tags({_ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            [(photo_id, tag_id, state, score, source, now) for photo_id, state, score, source in opinions],
        )


def mark_reviewed(catalogue: Catalogue, photo_ids: Iterable[int]) -> None:
    """The user answered for the photo's whole tag set: every tag not confirmed is a no."""
    now = time.time()
    with catalogue.transaction() as conn:
        conn.executemany("UPDATE photos SET reviewed_at = ? WHERE id = ?", [(now, pid) for pid in photo_ids])


# --- one photo ----------------------------------------------------------------------------


def suggested_tag_ids(catalogue: Catalogue, photo_id: int) -> list[int]:
    """The tags suggested on the photo (at or above their threshold), by id."""
    rows = catalogue.conn.execute(
        f"SELECT pt.tag_id FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.photo_id = ? AND {_SUGGESTED}"
        " ORDER BY pt.tag_id",
        (photo_id,),
    )
    return [int(tag_id) for (tag_id,) in rows]


# --- the library --------------------------------------------------------------------------


def effective_opinions(catalogue: Catalogue) -> list[tuple[int, int, bool]]:
    """(photo id, tag id, confirmed) of every effective tag in the library."""
    rows = catalogue.conn.execute(
        f"SELECT pt.photo_id, pt.tag_id, pt.state = 'confirmed' FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id"
        f" WHERE {_EFFECTIVE}"
    )
    return [(int(photo_id), int(tag_id), bool(confirmed)) for photo_id, tag_id, confirmed in rows]


@dataclass(frozen=True)
class TagTally:
    """One tag over the whole library."""

    tag_id: int
    confirmed: int
    suggested: int
    rejected: int
    threshold: float | None  # the user's override
    model_threshold: float


def tag_tallies(catalogue: Catalogue) -> list[TagTally]:
    """Every tag, with how many photos have it confirmed, suggested and rejected."""
    rows = catalogue.conn.execute(
        "SELECT t.id,"
        " count(CASE WHEN pt.state = 'confirmed' THEN 1 END),"
        f" count(CASE WHEN {_SUGGESTED} THEN 1 END),"
        " count(CASE WHEN pt.state = 'rejected' THEN 1 END),"
        " t.threshold, t.model_threshold"
        " FROM tags t LEFT JOIN photo_tags pt ON pt.tag_id = t.id"
        " GROUP BY t.id"
    )
    return [TagTally(*row) for row in rows]


def effective_thresholds(catalogue: Catalogue) -> dict[int, float]:
    """tag id -> the threshold its suggestions count from."""
    rows = catalogue.conn.execute(f"SELECT t.id, {_THRESHOLD} FROM tags t")
    return {int(tag_id): float(value) for tag_id, value in rows}


def library_rows(
    catalogue: Catalogue, min_score: float | None = None
) -> list[tuple[int, int, str, float | None, bool]]:
    """(photo id, tag id, state, score, suggested) of every row (exports and imports);
    `suggested` as everywhere, but counted from `min_score` instead of the tag's threshold when given."""
    suggested = _SUGGESTED if min_score is None else _open_suggestion("?")
    rows = catalogue.conn.execute(
        f"SELECT pt.photo_id, pt.tag_id, pt.state, pt.score, coalesce({suggested}, 0)"
        " FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id",
        () if min_score is None else (min_score,),
    )
    return [(int(p), int(t), state, score, bool(flag)) for p, t, state, score, flag in rows]


# Photos with a label for training: reviewed as a whole, or with a row the user decided.
_LABELLED = (
    " FROM photos p JOIN embeddings e ON e.photo_id = p.id"
    " WHERE e.backbone = ? AND (p.reviewed_at IS NOT NULL OR EXISTS (SELECT 1 FROM photo_tags pt"
    " WHERE pt.photo_id = p.id AND pt.state != 'suggested'))"
)


def labelled_count(catalogue: Catalogue, backbone_key: str) -> int:
    """How many photos embedded by `backbone_key` carry a label (reviewed, or a row the user decided)."""
    return int(catalogue.scalar("SELECT count(*)" + _LABELLED, (backbone_key,)) or 0)


def labelled_embeddings(catalogue: Catalogue, backbone_key: str) -> Iterator[tuple[int, bool, bytes, bytes | None]]:
    """(photo id, reviewed, vector, face summary) by id of those photos, read as they are
    used (at 100k photos a list of every blob would be a second copy of the embeddings)."""
    for photo_id, reviewed, vector, faces in catalogue.conn.execute(
        "SELECT p.id, p.reviewed_at IS NOT NULL, e.vector, e.faces" + _LABELLED + " ORDER BY p.id", (backbone_key,)
    ):
        yield int(photo_id), bool(reviewed), vector, faces


def user_labels(catalogue: Catalogue) -> list[tuple[int, int, bool]]:
    """(photo id, tag id, confirmed) of every row the user decided (training's labels)."""
    rows = catalogue.conn.execute("SELECT photo_id, tag_id, state FROM photo_tags WHERE state != 'suggested'")
    return [(int(photo_id), int(tag_id), state == "confirmed") for photo_id, tag_id, state in rows]


def photos_by_review_priority(catalogue: Catalogue, rarity: Callable[[int], float], limit: int) -> list[int]:
    """Up to `limit` unreviewed indexed photos with open suggestions, by the priority
    max(rarity(photos the tag is confirmed on) * closeness(score, threshold)) over the photo's
    suggestions, highest first (ties: lower id first); closeness is 1 at the threshold,
    falling linearly to 0 at score 0 and 1."""
    conn = catalogue.conn
    confirmed = dict(conn.execute("SELECT tag_id, count(*) FROM photo_tags WHERE state = 'confirmed' GROUP BY tag_id"))
    weights = [(tag_id, rarity(confirmed.get(tag_id, 0))) for (tag_id,) in conn.execute("SELECT id FROM tags")]
    # The weights in a temporary table (connection-private, no write lock).
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS review_weight(tag_id INTEGER PRIMARY KEY, weight REAL NOT NULL)")
    conn.execute("DELETE FROM temp.review_weight")
    conn.executemany("INSERT INTO temp.review_weight(tag_id, weight) VALUES (?, ?)", weights)
    threshold = f"min(max({_THRESHOLD}, 1e-6), 1 - 1e-6)"
    rows = conn.execute(
        "SELECT pt.photo_id, max(w.weight * max(0.0, min(1.0, CASE WHEN pt.score >= th.value"
        " THEN (1.0 - pt.score) / (1.0 - th.value) ELSE pt.score / th.value END))) AS priority"
        " FROM photo_tags pt JOIN photos p ON p.id = pt.photo_id"
        " JOIN temp.review_weight w ON w.tag_id = pt.tag_id"
        f" JOIN (SELECT t.id, {threshold} AS value FROM tags t) th ON th.id = pt.tag_id"
        " WHERE pt.state = 'suggested' AND pt.score IS NOT NULL AND p.reviewed_at IS NULL AND p.status = 'ok'"
        " GROUP BY pt.photo_id ORDER BY priority DESC, pt.photo_id LIMIT ?",
        (limit,),
    )
    return [int(photo_id) for photo_id, _ in rows]


# --- the grid and the tag panel -----------------------------------------------------------


def filtered_photo_ids(
    catalogue: Catalogue,
    *,
    show: str = "all",
    tag_ids: Sequence[set[int]] = (),
    any_tag: bool = False,
    words: Sequence[str] = (),
    sort: str = "name",
) -> list[int]:
    """Ids of the photos the grid shows, in its order. `show`: all (but missing files),
    unreviewed (a listed suggestion: the photos with a badge), review (a suggestion in the
    review band), untagged (no effective tag), missing, errors. `tag_ids`: each set is one
    tag filter (a tag and the tags it stands for), every one needed unless `any_tag`; a
    filter matches the tags linked to its tags too (`Winter` when filtering by snow).
    `words`: each in the path or an effective tag's name. `sort`: name, date, confidence."""
    where: list[str] = []
    params: list[object] = []
    where.append({"missing": "p.status = 'missing'", "errors": "p.status = 'error'"}.get(
        show, "p.status != 'missing'"))
    exists = "EXISTS (SELECT 1 FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.photo_id = p.id AND {})"
    if show == "unreviewed":
        where.append(exists.format(_LISTED))
    elif show == "review":
        where.append(exists.format(_IN_REVIEW_BAND))
    elif show == "untagged":
        where.append("NOT " + exists.format(_EFFECTIVE))
    # Tag filters read the tag's rows through photo_tags_by_tag instead of probing every
    # photo: 100k photos filter in ~1/3 of the time of the EXISTS form (benchmarks/scale.py).
    having = f"p.id IN (SELECT pt.photo_id FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id WHERE {_EFFECTIVE}" \
             f" AND t.id IN {IN_IDS})"
    wanted = [_with_linked(catalogue, ids) for ids in tag_ids]
    for ids in [set().union(*wanted)] if wanted and any_tag else wanted:
        where.append(having)
        params.append(id_list(ids))
    for word in words:
        where.append("(p.path LIKE ? ESCAPE '\\' OR " + exists.format(f"{_EFFECTIVE} AND t.name LIKE ? ESCAPE '\\'")
                     + ")")
        params += [_like(word), _like(word)]
    order = {
        "name": "p.path COLLATE NOCASE, p.id",
        # EXIF date when the camera wrote one, else the file's modification time.
        "date": "COALESCE(p.taken_at, strftime('%Y-%m-%dT%H:%M:%S', p.mtime_ns / 1e9, 'unixepoch')),"
                " p.path COLLATE NOCASE",
        "confidence": "(SELECT max(pt.score) FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id"
                      f" WHERE pt.photo_id = p.id AND {_SUGGESTED}) DESC NULLS LAST, p.path COLLATE NOCASE",
    }[sort]
    sql = f"SELECT p.id FROM photos p WHERE {' AND '.join(where)} ORDER BY {order}"
    return [int(row[0]) for row in catalogue.conn.execute(sql, params)]


def _with_linked(catalogue: Catalogue, ids: set[int]) -> set[int]:
    linked = catalogue.conn.execute(f"SELECT id FROM tags WHERE link_id IN {IN_IDS}", (id_list(ids),))
    return ids | {int(tag_id) for (tag_id,) in linked}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def photo_opinions(catalogue: Catalogue, photo_ids: Sequence[int]) -> list[tuple[int, int, bool, bool, bool]]:
    """(photo id, tag id, confirmed, effective, listed) of the photos' rows that are
    effective or listed: a grid cell's chips and its badge."""
    rows = catalogue.conn.execute(
        f"SELECT pt.photo_id, pt.tag_id, pt.state = 'confirmed', {_EFFECTIVE}, {_LISTED} FROM photo_tags pt"
        f" JOIN tags t ON t.id = pt.tag_id WHERE pt.photo_id IN {IN_IDS} AND ({_EFFECTIVE} OR {_LISTED})",
        (id_list(photo_ids),),
    )
    return [(int(p), int(t), bool(c), bool(e), bool(v)) for p, t, c, e, v in rows]


@dataclass(frozen=True)
class SelectionCount:
    """One tag over a selection of photos."""

    tag_id: int
    threshold: float  # effective
    confirmed: int
    rejected: int
    suggested: int
    maybe: int  # listed, below the threshold
    score: float  # highest unreviewed suggestion score (0 if none)


def selection_counts(catalogue: Catalogue, photo_ids: Sequence[int]) -> list[SelectionCount]:
    """Every tag the photos have a row for, counted over them."""
    rows = catalogue.conn.execute(
        f"SELECT t.id, {_THRESHOLD},"
        " count(CASE WHEN pt.state = 'confirmed' THEN 1 END),"
        " count(CASE WHEN pt.state = 'rejected' THEN 1 END),"
        f" count(CASE WHEN {_SUGGESTED} THEN 1 END),"
        f" count(CASE WHEN {_LISTED} AND pt.score < {_THRESHOLD} THEN 1 END),"
        " coalesce(max(CASE WHEN pt.state = 'suggested' THEN pt.score END), 0)"
        f" FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.photo_id IN {IN_IDS}"
        " GROUP BY t.id",
        (id_list(photo_ids),),
    )
    return [SelectionCount(*row) for row in rows]


def photos_with(
    catalogue: Catalogue, photo_ids: Sequence[int], tag_id: int, state: str, *, min_score: float | None = None
) -> list[int]:
    """The photos among `photo_ids` whose row for `tag_id` is in `state` (and, for
    suggestions, scores at least `min_score`): the photos a bulk accept / reject / remove acts on."""
    sql = f"SELECT pt.photo_id FROM photo_tags pt WHERE pt.photo_id IN {IN_IDS} AND pt.tag_id = ? AND pt.state = ?"
    params: list[object] = [id_list(photo_ids), tag_id, state]
    if min_score is not None:
        sql += " AND pt.score >= ?"
        params.append(min_score)
    return [int(row[0]) for row in catalogue.conn.execute(sql + " ORDER BY pt.photo_id", params)]
