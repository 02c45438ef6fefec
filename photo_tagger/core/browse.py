"""Read-only queries the photo grid and the tag panel need: which photos to show, in what
order, what to draw in a cell, and what tags a selection has.

Every function takes an open `Catalogue` and returns plain data. Id lists travel into
SQLite as one JSON parameter (`json_each`), so a 20,000-photo selection is one query,
not 20,000. "Effective" means as in `tagging`: confirmed, or an unreviewed suggestion at
or above its tag's threshold.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.store.tags import all_paths
from photo_tagger.core.tag_names import AmbiguousTag, TagIndex
from photo_tagger.core.tagging import EFFECTIVE_THRESHOLD_SQL as THR
from photo_tagger.core.tagging import tag_labels

# A suggestion this close to its threshold (either side, as a share of the threshold) is "low
# confidence": the review queue shows it, and the tag panel offers the ones just below the
# threshold as "maybe". Relative: at 0.5 it is the old 0.15 either side, while a tag whose
# threshold is 0.15 (many learnt from real photos) does not list every score above the floor.
REVIEW_BAND = 0.3
SHOWS = ("all", "unreviewed", "review", "untagged", "missing", "errors")
SORTS = ("name", "date", "confidence")
TAG_MODES = ("all", "any")

_EFFECTIVE = f"(pt.state = 'confirmed' OR (pt.state = 'suggested' AND pt.score >= {THR}))"
_UNREVIEWED = f"(pt.state = 'suggested' AND pt.score >= {THR})"
# Waiting for an answer: what the tag panel lists (and the digit keys number) and the grid
# cell's badge counts: unreviewed suggestions at or above their threshold, and the "maybe"
# ones just below it. One definition, so the badge always counts the panel's rows.
_LISTED = f"(pt.state = 'suggested' AND pt.score >= {THR} * {1 - REVIEW_BAND})"
_IN_REVIEW_BAND = (f"(pt.state = 'suggested' AND pt.score >= {THR} * {1 - REVIEW_BAND}"
                   f" AND pt.score < {THR} * {1 + REVIEW_BAND})")
_IDS = "(SELECT value FROM json_each(?))"


@dataclass(frozen=True)
class BrowseFilter:
    """What the grid shows. `tags` are labels (tag_names.py); `tag_mode` "all" needs every tag, "any" one."""

    show: str = "all"
    tags: tuple[str, ...] = ()
    tag_mode: str = "all"
    search: str = ""
    sort: str = "name"

    def __post_init__(self) -> None:
        for value, allowed, what in ((self.show, SHOWS, "show"), (self.sort, SORTS, "sort"),
                                     (self.tag_mode, TAG_MODES, "tag_mode")):
            if value not in allowed:
                raise ValueError(f"{what} must be one of {allowed}, not {value!r}")


@dataclass(frozen=True)
class PhotoInfo:
    """What a grid cell and the preview show for one photo."""

    id: int
    path: str  # relative to the library root, '/'-separated
    status: str  # pending, ok, error, missing
    error: str | None
    width: int | None
    height: int | None
    taken_at: str | None
    size: int
    mtime_ns: int
    tags: tuple[str, ...] = ()  # effective tags: confirmed ones first, each part by name
    confirmed: frozenset[str] = frozenset()
    unreviewed: int = 0  # suggestions waiting for an answer (`_LISTED`): the tag panel's rows

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class TagSummary:
    """One tag across a selection of `selected` photos."""

    tag_id: int
    name: str
    threshold: float
    confirmed: int  # photos where the user confirmed it
    rejected: int
    suggested: int  # unreviewed suggestions at or above the threshold
    maybe: int  # unreviewed suggestions just below the threshold (within REVIEW_BAND of it)
    score: float  # highest unreviewed suggestion score in the selection (0 if none)
    selected: int

    @property
    def partial(self) -> bool:
        return 0 < self.confirmed < self.selected


@dataclass
class SelectionTags:
    """The tag panel's content: suggestions by descending score, then "maybe" ones just
    below their threshold, confirmed and rejected tags by name."""

    selected: int
    suggested: list[TagSummary] = field(default_factory=list)
    maybe: list[TagSummary] = field(default_factory=list)
    confirmed: list[TagSummary] = field(default_factory=list)
    rejected: list[TagSummary] = field(default_factory=list)

    @property
    def candidates(self) -> list[TagSummary]:
        """What the digit keys number: suggestions, then maybes."""
        return self.suggested + self.maybe


def _ids_param(ids: Iterable[int]) -> str:
    return json.dumps([int(i) for i in ids])


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def photo_ids(catalogue: Catalogue, flt: BrowseFilter | None = None) -> list[int]:
    """Ids of the photos `flt` selects, in its order. Missing files only under show=missing."""
    flt = flt or BrowseFilter()
    where: list[str] = []
    params: list[object] = []
    where.append({"missing": "p.status = 'missing'", "errors": "p.status = 'error'"}.get(
        flt.show, "p.status != 'missing'"))
    exists = "EXISTS (SELECT 1 FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.photo_id = p.id AND {})"
    if flt.show == "unreviewed":  # the photos with a badge: answers pending, maybes included
        where.append(exists.format(_LISTED))
    elif flt.show == "review":
        where.append(exists.format(_IN_REVIEW_BAND))
    elif flt.show == "untagged":
        where.append("NOT " + exists.format(_EFFECTIVE))
    # Tag filters read the tag's rows through photo_tags_by_tag instead of probing every
    # photo: 100k photos filter in ~1/3 of the time of the EXISTS form (benchmarks/scale.py).
    having = "p.id IN (SELECT pt.photo_id FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id WHERE {})"
    wanted = [_filter_ids(catalogue, name) for name in flt.tags if name.strip()]
    if wanted and flt.tag_mode == "any":
        where.append(having.format(f"{_EFFECTIVE} AND t.id IN {_IDS}"))
        params.append(_ids_param(set().union(*wanted)))
    else:
        for ids in wanted:
            where.append(having.format(f"{_EFFECTIVE} AND t.id IN {_IDS}"))
            params.append(_ids_param(ids))
    for word in flt.search.split():
        where.append("(p.path LIKE ? ESCAPE '\\' OR " + exists.format(f"{_EFFECTIVE} AND t.name LIKE ? ESCAPE '\\'")
                     + ")")
        params += [_like(word), _like(word)]
    order = {
        "name": "p.path COLLATE NOCASE, p.id",
        # EXIF date when the camera wrote one, else the file's modification time.
        "date": "COALESCE(p.taken_at, strftime('%Y-%m-%dT%H:%M:%S', p.mtime_ns / 1e9, 'unixepoch')),"
                " p.path COLLATE NOCASE",
        "confidence": "(SELECT max(pt.score) FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id"
                      f" WHERE pt.photo_id = p.id AND {_UNREVIEWED}) DESC NULLS LAST, p.path COLLATE NOCASE",
    }[flt.sort]
    sql = f"SELECT p.id FROM photos p WHERE {' AND '.join(where)} ORDER BY {order}"
    return [row[0] for row in catalogue.conn.execute(sql, params)]


def _filter_ids(catalogue: Catalogue, name: str) -> set[int]:
    """The tags a filter by `name` (a label, path, leaf name or synonym) matches: the tag,
    or every tag of an ambiguous leaf name, and the tags linked to them (`Winter` when
    filtering by snow: tag_tree.py)."""
    index = TagIndex(catalogue)
    try:
        found = index.find(name)
        ids = set() if found is None else {found}
    except AmbiguousTag:
        ids = {tag_id for tag_id, path in index.paths.items() if path[-1].casefold() == name.strip().casefold()}
    linked = catalogue.conn.execute(f"SELECT id FROM tags WHERE link_id IN {_IDS}", (_ids_param(ids),))
    return ids | {tag_id for (tag_id,) in linked}


def photo_infos(catalogue: Catalogue, ids: Sequence[int]) -> dict[int, PhotoInfo]:
    """id -> PhotoInfo for the ids that exist (one query for the photos, one for tags)."""
    param = _ids_param(ids)
    tags: dict[int, list[tuple[str, bool]]] = {}
    unreviewed: dict[int, int] = {}
    label = tag_labels(catalogue)
    for photo_id, tag_id, state, effective, listed in catalogue.conn.execute(
        f"SELECT pt.photo_id, t.id, pt.state, {_EFFECTIVE}, {_LISTED} FROM photo_tags pt"
        f" JOIN tags t ON t.id = pt.tag_id WHERE pt.photo_id IN {_IDS} AND ({_EFFECTIVE} OR {_LISTED})",
        (param,),
    ):
        if effective:
            tags.setdefault(photo_id, []).append((label[tag_id], state == "confirmed"))
        if listed:
            unreviewed[photo_id] = unreviewed.get(photo_id, 0) + 1
    result = {}
    for row in catalogue.conn.execute(
        "SELECT id, path, status, error, width, height, taken_at, size, mtime_ns FROM photos"
        f" WHERE id IN {_IDS}",
        (param,),
    ):
        photo_id, path, status, error, width, height, taken_at, size, mtime_ns = row
        # The user's own tags first (the grid shows the first few chips), then by name.
        own = sorted(tags.get(photo_id, []), key=lambda item: (not item[1], item[0].casefold()))
        result[photo_id] = PhotoInfo(
            photo_id, path, status, error, width, height, taken_at, size, mtime_ns,
            tags=tuple(name for name, _ in own),
            confirmed=frozenset(name for name, confirmed in own if confirmed),
            unreviewed=unreviewed.get(photo_id, 0),
        )
    return result


def thumbnail_jpegs(catalogue: Catalogue, ids: Sequence[int]) -> dict[int, bytes]:
    """id -> the stored JPEG thumbnail, for the ids that have one."""
    return {
        photo_id: bytes(jpeg)
        for photo_id, jpeg in catalogue.conn.execute(
            f"SELECT photo_id, jpeg FROM thumbnails WHERE photo_id IN {_IDS}", (_ids_param(ids),)
        )
    }


def selection_tags(catalogue: Catalogue, ids: Sequence[int]) -> SelectionTags:
    """Every tag the selected photos have an opinion on, counted over the selection."""
    result = SelectionTags(len(set(ids)))
    label = tag_labels(catalogue)
    rows = catalogue.conn.execute(
        f"SELECT t.id, {THR},"
        " count(CASE WHEN pt.state = 'confirmed' THEN 1 END),"
        " count(CASE WHEN pt.state = 'rejected' THEN 1 END),"
        f" count(CASE WHEN {_UNREVIEWED} THEN 1 END),"
        f" count(CASE WHEN {_LISTED} AND pt.score < {THR} THEN 1 END),"
        " coalesce(max(CASE WHEN pt.state = 'suggested' THEN pt.score END), 0)"
        f" FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.photo_id IN {_IDS}"
        " GROUP BY t.id",
        (_ids_param(ids),),
    ).fetchall()
    for tag_id, threshold, confirmed, rejected, suggested, maybe, score in rows:
        summary = TagSummary(tag_id, label[tag_id], threshold, confirmed, rejected, suggested, maybe, score,
                             result.selected)
        if confirmed:
            result.confirmed.append(summary)
        if rejected:
            result.rejected.append(summary)
        if suggested:
            result.suggested.append(summary)
        elif maybe:
            result.maybe.append(summary)
    result.suggested.sort(key=lambda s: (-s.score, s.name.casefold()))
    result.maybe.sort(key=lambda s: (-s.score, s.name.casefold()))
    result.confirmed.sort(key=lambda s: s.name.casefold())
    result.rejected.sort(key=lambda s: s.name.casefold())
    return result


def photos_with(
    catalogue: Catalogue, ids: Sequence[int], tag_id: int, state: str, *, min_score: float | None = None
) -> list[int]:
    """The photos among `ids` whose row for `tag_id` is in `state` (and, for suggestions,
    scores at least `min_score`): the photos a bulk accept / reject / remove acts on."""
    sql = (f"SELECT pt.photo_id FROM photo_tags pt WHERE pt.photo_id IN {_IDS} AND pt.tag_id = ?"
           " AND pt.state = ?")
    params: list[object] = [_ids_param(ids), tag_id, state]
    if min_score is not None:
        sql += " AND pt.score >= ?"
        params.append(min_score)
    return [row[0] for row in catalogue.conn.execute(sql + " ORDER BY pt.photo_id", params)]


def tag_names(catalogue: Catalogue) -> list[str]:
    """Every tag's label, sorted case-insensitively (the add-tag field's completions)."""
    return sorted(tag_labels(catalogue).values(), key=str.casefold)


def tag_list_version(catalogue: Catalogue) -> tuple[int, int]:
    """(count, highest id) of the tags: changes when a tag is added or removed, which is all a
    photo edit can do to them (confirming a new name creates it); renames and moves are the
    tag manager's, which refreshes everything anyway."""
    count, top = catalogue.conn.execute("SELECT count(*), coalesce(max(id), 0) FROM tags").fetchone()
    return int(count), int(top)


def data_version(catalogue: Catalogue) -> int:
    """Changes whenever another connection commits: a cheap "anything new?" poll."""
    return int(catalogue.scalar("PRAGMA data_version"))


def library_counts(catalogue: Catalogue) -> dict[str, int]:
    """status -> photo count (pending, ok, error, missing)."""
    return {status: count for status, count in catalogue.conn.execute(
        "SELECT status, count(*) FROM photos GROUP BY status")}


@dataclass(frozen=True)
class TagRow:
    """One line of the tag manager."""

    name: str
    confirmed: int
    suggested: int  # unreviewed, at or above the threshold
    rejected: int
    threshold: float | None  # the user's override
    model_threshold: float
    path: tuple[str, ...] = ()  # root first; deleting the tag deletes the tags below it


def tag_table(catalogue: Catalogue) -> list[TagRow]:
    paths = all_paths(catalogue)
    label = tag_labels(catalogue)
    rows = catalogue.conn.execute(
        "SELECT t.id,"
        " count(CASE WHEN pt.state = 'confirmed' THEN 1 END),"
        f" count(CASE WHEN {_UNREVIEWED} THEN 1 END),"
        " count(CASE WHEN pt.state = 'rejected' THEN 1 END),"
        " t.threshold, t.model_threshold"
        " FROM tags t LEFT JOIN photo_tags pt ON pt.tag_id = t.id"
        " GROUP BY t.id"
    )
    return sorted((TagRow(label[tag_id], confirmed, suggested, rejected, threshold, model, paths[tag_id])
                   for tag_id, confirmed, suggested, rejected, threshold, model in rows),
                  key=lambda row: row.name.casefold())
