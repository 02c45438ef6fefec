"""The grid's queries: filters, sorts, search, cell info and selection summaries."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalogue_rows import add_photo, add_tag, catalogue_without_tags, set_row

from photo_tagger.core.browse import BrowseFilter, photo_ids, photo_infos, selection_tags
from photo_tagger.core.store.connection import Catalogue


@pytest.fixture
def cat(tmp_path: Path):
    with catalogue_without_tags(tmp_path / "c.sqlite") as catalogue:
        yield catalogue


@pytest.fixture
def library(cat: Catalogue) -> dict[str, int]:
    """cat.jpg (cat 0.9 suggested, pet confirmed), dog.jpg (dog 0.55 suggested, cat rejected),
    blank.jpg (nothing above threshold: pet 0.4), bad.jpg (error), gone.jpg (missing)."""
    ids = {
        "cat": add_photo(cat, "a/cat.jpg", taken_at="2020-01-01T10:00:00"),
        "dog": add_photo(cat, "b/Dog.jpg", taken_at="2019-01-01T10:00:00"),
        "blank": add_photo(cat, "blank.jpg", taken_at="2021-01-01T10:00:00"),
        "bad": add_photo(cat, "bad.jpg", status="error", error="not an image file"),
        "gone": add_photo(cat, "gone.jpg", status="missing"),
    }
    tags = {name: add_tag(cat, name) for name in ("cat", "dog", "pet")}
    set_row(cat, ids["cat"], tags["cat"], "suggested", 0.9)
    set_row(cat, ids["cat"], tags["pet"], "confirmed", 0.8)
    set_row(cat, ids["dog"], tags["dog"], "suggested", 0.55)
    set_row(cat, ids["dog"], tags["cat"], "rejected", 0.6)
    set_row(cat, ids["blank"], tags["pet"], "suggested", 0.4)
    return ids


def names(cat: Catalogue, flt: BrowseFilter) -> list[str]:
    infos = photo_infos(cat, photo_ids(cat, flt))
    return [infos[i].name for i in photo_ids(cat, flt)]


def test_default_shows_everything_but_missing_files_by_name(cat: Catalogue, library: dict[str, int]) -> None:
    assert names(cat, BrowseFilter()) == ["cat.jpg", "Dog.jpg", "bad.jpg", "blank.jpg"]


def test_show_filters_select_the_right_photos(cat: Catalogue, library: dict[str, int]) -> None:
    # blank.jpg: a "maybe" (0.4 at threshold 0.5) waits for an answer too, as its badge says
    assert names(cat, BrowseFilter(show="unreviewed")) == ["cat.jpg", "Dog.jpg", "blank.jpg"]
    assert names(cat, BrowseFilter(show="review")) == ["Dog.jpg", "blank.jpg"]  # 0.55 and 0.4 near 0.5
    assert names(cat, BrowseFilter(show="untagged")) == ["bad.jpg", "blank.jpg"]
    assert names(cat, BrowseFilter(show="missing")) == ["gone.jpg"]
    assert names(cat, BrowseFilter(show="errors")) == ["bad.jpg"]


def test_tag_filter_and_or_never_counts_rejected_tags(cat: Catalogue, library: dict[str, int]) -> None:
    assert names(cat, BrowseFilter(tags=("cat",))) == ["cat.jpg"]
    assert names(cat, BrowseFilter(tags=("cat", "pet"))) == ["cat.jpg"]
    assert names(cat, BrowseFilter(tags=("cat", "dog"))) == []
    assert names(cat, BrowseFilter(tags=("CAT", "dog"), tag_mode="any")) == ["cat.jpg", "Dog.jpg"]


def test_search_matches_paths_and_tags_and_is_not_a_pattern(cat: Catalogue, library: dict[str, int]) -> None:
    assert names(cat, BrowseFilter(search="dog")) == ["Dog.jpg"]
    assert names(cat, BrowseFilter(search="pet")) == ["cat.jpg"]
    assert names(cat, BrowseFilter(search="b/")) == ["Dog.jpg"]
    assert names(cat, BrowseFilter(search="%")) == []


def test_sorts_by_date_and_by_confidence(cat: Catalogue, library: dict[str, int]) -> None:
    assert names(cat, BrowseFilter(sort="date"))[1:] == ["Dog.jpg", "cat.jpg", "blank.jpg"]
    assert names(cat, BrowseFilter(sort="confidence"))[:2] == ["cat.jpg", "Dog.jpg"]


def test_bad_filter_values_are_refused() -> None:
    with pytest.raises(ValueError, match="show"):
        BrowseFilter(show="everything")


def test_photo_info_has_effective_tags_and_the_unreviewed_count(cat: Catalogue, library: dict[str, int]) -> None:
    infos = photo_infos(cat, list(library.values()))
    assert infos[library["cat"]].tags == ("pet", "cat")  # the confirmed one first, as the grid shows it
    assert infos[library["cat"]].confirmed == {"pet"}
    assert infos[library["cat"]].unreviewed == 1
    assert infos[library["dog"]].tags == ("dog",)
    assert infos[library["blank"]].tags == ()
    assert infos[library["bad"]].error == "not an image file"


def test_selection_tags_count_over_the_selection(cat: Catalogue, library: dict[str, int]) -> None:
    one = selection_tags(cat, [library["cat"]])
    assert [s.name for s in one.suggested] == ["cat"]
    assert [s.name for s in one.confirmed] == ["pet"]
    both = selection_tags(cat, [library["cat"], library["dog"], library["blank"]])
    assert both.selected == 3
    assert [s.name for s in both.candidates] == ["cat", "dog", "pet"]  # pet 0.4 is a "maybe"
    pet = next(s for s in both.confirmed if s.name == "pet")
    assert pet.partial and pet.confirmed == 1
    assert [s.name for s in both.rejected] == ["cat"]


def test_tag_table_counts_and_thresholds(cat: Catalogue, library: dict[str, int]) -> None:
    from photo_tagger.core.browse import tag_table

    rows = {row.name: row for row in tag_table(cat)}
    assert (rows["cat"].suggested, rows["cat"].rejected) == (1, 1)
    assert (rows["pet"].confirmed, rows["pet"].suggested) == (1, 0)
    assert rows["dog"].threshold is None and rows["dog"].model_threshold == 0.5


def test_the_badge_counts_exactly_the_suggestions_the_panel_lists(cat: Catalogue, library: dict[str, int]) -> None:
    """Suggestions above the threshold and the "maybe" ones just below it, nothing else."""
    infos = photo_infos(cat, list(library.values()))
    for photo in library.values():
        assert infos[photo].unreviewed == len(selection_tags(cat, [photo]).candidates)
    assert infos[library["blank"]].unreviewed == 1  # pet 0.4, just below its 0.5 threshold


def test_the_unreviewed_filter_shows_every_photo_with_a_badge(tmp_path) -> None:
    from photo_tagger.core import browse
    from photo_tagger.core.store.connection import Catalogue
    from photo_tagger.core.tagging import ensure_tag

    with Catalogue(tmp_path / "c.sqlite") as cat, cat.transaction() as conn:
        for pid, path in ((1, "above.jpg"), (2, "maybe.jpg"), (3, "low.jpg")):
            conn.execute("INSERT INTO photos(id, path, size, mtime_ns, content_hash, status, added_at)"
                         " VALUES (?, ?, 1, 0, ?, 'ok', 0)", (pid, path, path))
        tag = ensure_tag(cat, "kite")
        conn.execute("UPDATE tags SET model_threshold = 0.5 WHERE id = ?", (tag,))
        for pid, score in ((1, 0.6), (2, 0.4), (3, 0.2)):  # above, within 30% below, far below
            conn.execute("INSERT INTO photo_tags(photo_id, tag_id, state, score, updated_at)"
                         " VALUES (?, ?, 'suggested', ?, 0)", (pid, tag, score))
    with Catalogue(tmp_path / "c.sqlite") as cat:
        shown = browse.photo_ids(cat, browse.BrowseFilter(show="unreviewed"))
        badges = {pid: info.unreviewed for pid, info in browse.photo_infos(cat, [1, 2, 3]).items()}
    assert shown == [1, 2] and badges == {1: 1, 2: 1, 3: 0}
