"""Read-only queries the photo grid and the tag panel need: which photos to show, in what
order, what to draw in a cell, and what tags a selection has.

Every function takes an open `Catalogue` and returns plain data, read through the store
(store/opinions.py defines "effective", "listed" and the review band; store/photos.py
holds the photo rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from photo_tagger.core.store import opinions, photos
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.photos import PhotoRow
from photo_tagger.core.store.tags import all_paths
from photo_tagger.core.tag_names import AmbiguousTag, TagIndex
from photo_tagger.core.tagging import tag_labels

SHOWS = ("all", "unreviewed", "review", "untagged", "missing", "errors")
SORTS = ("name", "date", "confidence")
TAG_MODES = ("all", "any")


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
class PhotoInfo(PhotoRow):
    """What a grid cell and the preview show for one photo: its row, and its tags."""

    tags: tuple[str, ...] = ()  # effective tags: confirmed ones first, each part by name
    confirmed: frozenset[str] = frozenset()
    unreviewed: int = 0  # suggestions waiting for an answer (listed, store/opinions.py): the tag panel's rows

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
    maybe: int  # unreviewed suggestions just below the threshold (within opinions.REVIEW_BAND of it)
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


def photo_ids(catalogue: Catalogue, flt: BrowseFilter | None = None) -> list[int]:
    """Ids of the photos `flt` selects, in its order. Missing files only under show=missing."""
    flt = flt or BrowseFilter()
    return opinions.filtered_photo_ids(
        catalogue, show=flt.show, tag_ids=[_filter_ids(catalogue, name) for name in flt.tags if name.strip()],
        any_tag=flt.tag_mode == "any", words=flt.search.split(), sort=flt.sort)


def _filter_ids(catalogue: Catalogue, name: str) -> set[int]:
    """The tags a filter by `name` (a label, path, leaf name or synonym) matches: the tag,
    or every tag of an ambiguous leaf name (the store adds the tags linked to them)."""
    index = TagIndex(catalogue)
    try:
        found = index.find(name)
        return set() if found is None else {found}
    except AmbiguousTag:
        return {tag_id for tag_id, path in index.paths.items() if path[-1].casefold() == name.strip().casefold()}


def photo_infos(catalogue: Catalogue, ids: Sequence[int]) -> dict[int, PhotoInfo]:
    """id -> PhotoInfo for the ids that exist (one query for the photos, one for tags)."""
    tags: dict[int, list[tuple[str, bool]]] = {}
    unreviewed: dict[int, int] = {}
    label = tag_labels(catalogue)
    for photo_id, tag_id, confirmed, effective, listed in opinions.photo_opinions(catalogue, ids):
        if effective:
            tags.setdefault(photo_id, []).append((label[tag_id], confirmed))
        if listed:
            unreviewed[photo_id] = unreviewed.get(photo_id, 0) + 1
    result = {}
    for row in photos.photo_rows(catalogue, ids):
        # The user's own tags first (the grid shows the first few chips), then by name.
        own = sorted(tags.get(row.id, []), key=lambda item: (not item[1], item[0].casefold()))
        result[row.id] = PhotoInfo(
            **vars(row),
            tags=tuple(name for name, _ in own),
            confirmed=frozenset(name for name, confirmed in own if confirmed),
            unreviewed=unreviewed.get(row.id, 0),
        )
    return result


def selection_tags(catalogue: Catalogue, ids: Sequence[int]) -> SelectionTags:
    """Every tag the selected photos have an opinion on, counted over the selection."""
    result = SelectionTags(len(set(ids)))
    label = tag_labels(catalogue)
    for count in opinions.selection_counts(catalogue, ids):
        summary = TagSummary(count.tag_id, label[count.tag_id], count.threshold, count.confirmed, count.rejected,
                             count.suggested, count.maybe, count.score, result.selected)
        if count.confirmed:
            result.confirmed.append(summary)
        if count.rejected:
            result.rejected.append(summary)
        if count.suggested:
            result.suggested.append(summary)
        elif count.maybe:
            result.maybe.append(summary)
    result.suggested.sort(key=lambda s: (-s.score, s.name.casefold()))
    result.maybe.sort(key=lambda s: (-s.score, s.name.casefold()))
    result.confirmed.sort(key=lambda s: s.name.casefold())
    result.rejected.sort(key=lambda s: s.name.casefold())
    return result


def tag_names(catalogue: Catalogue) -> list[str]:
    """Every tag's label, sorted case-insensitively (the add-tag field's completions)."""
    return sorted(tag_labels(catalogue).values(), key=str.casefold)


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
    """Every tag with its counts over the library, by label (the tag manager, `photo-tagger tags`)."""
    paths = all_paths(catalogue)
    label = tag_labels(catalogue)
    rows = (TagRow(label[t.tag_id], t.confirmed, t.suggested, t.rejected, t.threshold, t.model_threshold,
                   paths[t.tag_id]) for t in opinions.tag_tallies(catalogue))
    return sorted(rows, key=lambda row: row.name.casefold())
