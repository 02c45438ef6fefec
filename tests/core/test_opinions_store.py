"""Tag opinions in the store (core/store/opinions.py): one writer, one definition of each state."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalogue_rows import add_photo, add_tag, set_row

from photo_tagger.core.store import heads, opinions, suggestions
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.tag_names import find_tag


@pytest.fixture
def cat(tmp_path: Path):
    with Catalogue(tmp_path / "c.sqlite") as catalogue:
        yield catalogue


def row(cat: Catalogue, photo_id: int, tag_id: int) -> tuple | None:
    found = cat.query("SELECT state, score, source, updated_at FROM photo_tags WHERE photo_id = ? AND tag_id = ?",
                      (photo_id, tag_id))
    return tuple(found[0]) if found else None


def tallies(cat: Catalogue) -> dict[int, opinions.TagTally]:
    return {tally.tag_id: tally for tally in opinions.tag_tallies(cat)}


def test_every_word_of_the_user_is_stamped_and_counted_as_a_correction(cat: Catalogue) -> None:
    photo, tag, new = add_photo(cat, "a.jpg"), add_tag(cat, "cat"), add_tag(cat, "Mittens")
    set_row(cat, photo, tag, "suggested", 0.7)  # updated_at 0, as the model wrote it long ago
    opinions.set_state(cat, [(photo, tag)], "rejected", "import")
    state, score, source, stamped = row(cat, photo, tag)
    assert (state, score, source) == ("rejected", 0.7, "import") and stamped > 0  # the score stays
    opinions.set_state(cat, [(photo, new)], "confirmed", "user")
    assert heads.corrections_since_active(cat, "any backbone") == 2
    opinions.set_state(cat, [(photo, tag), (photo, new)], None, "user")  # taken back
    assert row(cat, photo, tag)[:3] == ("suggested", 0.7, "model")  # the model's suggestion again
    assert row(cat, photo, new) is None  # no score: nothing to go back to
    assert heads.corrections_since_active(cat, "any backbone") == 0


def test_restoring_states_puts_the_rows_back_as_they_were(cat: Catalogue) -> None:
    photo, cat_tag, dog = add_photo(cat, "a.jpg"), add_tag(cat, "cat"), add_tag(cat, "dog")
    set_row(cat, photo, cat_tag, "suggested", 0.7)
    before = opinions.states(cat, [photo], [cat_tag, dog])
    assert before == [opinions.TagState(photo, cat_tag, "suggested", 0.7, "model"),
                      opinions.TagState(photo, dog, None, None, None)]
    opinions.set_state(cat, [(photo, cat_tag), (photo, dog)], "confirmed", "user")
    opinions.restore_states(cat, before)
    assert opinions.states(cat, [photo], [cat_tag, dog]) == before


def test_a_suggestion_counts_from_the_users_threshold_else_the_models(cat: Catalogue) -> None:
    a, b = add_photo(cat, "a.jpg"), add_photo(cat, "b.jpg")
    tag = add_tag(cat, "cat", threshold=0.5)
    set_row(cat, a, tag, "suggested", 0.6)
    set_row(cat, b, tag, "suggested", 0.45)  # a "maybe": listed, not suggested, in the review band
    assert opinions.suggested_tag_ids(cat, a) == [tag] and opinions.suggested_tag_ids(cat, b) == []
    assert opinions.filtered_photo_ids(cat, show="unreviewed") == [a, b]
    assert opinions.filtered_photo_ids(cat, show="review") == [a, b]  # 0.6 and 0.45 are near 0.5
    assert opinions.filtered_photo_ids(cat, show="untagged") == [b]
    tally = tallies(cat)[tag]
    assert (tally.suggested, tally.threshold, tally.model_threshold) == (1, None, 0.5)
    with cat.transaction() as conn:
        conn.execute("UPDATE tags SET threshold = 0.4 WHERE id = ?", (tag,))  # the user's override
    assert opinions.suggested_tag_ids(cat, b) == [tag]
    assert opinions.effective_thresholds(cat)[tag] == 0.4
    assert tallies(cat)[tag].suggested == 2
    assert opinions.filtered_photo_ids(cat, show="untagged") == []


def test_the_panel_counts_and_the_badges_read_the_same_states(cat: Catalogue) -> None:
    a, b = add_photo(cat, "a.jpg"), add_photo(cat, "b.jpg")
    cat_tag, pet, dog = add_tag(cat, "cat"), add_tag(cat, "pet"), add_tag(cat, "dog")
    set_row(cat, a, cat_tag, "suggested", 0.9)
    set_row(cat, b, cat_tag, "suggested", 0.4)
    set_row(cat, a, pet, "confirmed", 0.2)
    set_row(cat, b, dog, "rejected", 0.8)
    counts = {c.tag_id: c for c in opinions.selection_counts(cat, [a, b])}
    assert counts[cat_tag] == opinions.SelectionCount(cat_tag, 0.5, 0, 0, 1, 1, 0.9)
    assert (counts[pet].confirmed, counts[dog].rejected) == (1, 1)
    assert sorted(opinions.photo_opinions(cat, [a, b])) == [
        (a, cat_tag, False, True, True), (a, pet, True, True, False), (b, cat_tag, False, False, True)]
    assert opinions.photos_with(cat, [a, b], cat_tag, "suggested", min_score=0.5) == [a]
    assert sorted(opinions.effective_opinions(cat)) == [(a, cat_tag, False), (a, pet, True)]
    assert sorted(opinions.library_rows(cat, min_score=0.3))[:2] == [
        (a, cat_tag, "suggested", 0.9, True), (a, pet, "confirmed", 0.2, False)]


def test_reviewing_a_photo_is_a_correction_and_takes_it_out_of_the_review_queue(cat: Catalogue) -> None:
    a, b = add_photo(cat, "a.jpg"), add_photo(cat, "b.jpg")
    tag = add_tag(cat, "cat")
    set_row(cat, a, tag, "suggested", 0.5)  # right at the threshold: the most to learn
    set_row(cat, b, tag, "suggested", 0.95)
    assert opinions.photos_by_review_priority(cat, lambda confirmed: 1.0, 10) == [a, b]
    opinions.mark_reviewed(cat, [a])
    assert opinions.photos_by_review_priority(cat, lambda confirmed: 1.0, 10) == [b]
    assert heads.corrections_since_active(cat, "any backbone") == 1


def test_model_thresholds_are_stored_per_tag(cat: Catalogue) -> None:
    cat_tag, dog = add_tag(cat, "cat"), add_tag(cat, "dog")
    suggestions.set_model_thresholds(cat, {cat_tag: 0.3, dog: 0.7})
    thresholds = opinions.effective_thresholds(cat)
    assert (thresholds[cat_tag], thresholds[dog]) == (0.3, 0.7)


def test_a_built_in_tag_is_not_suggested_where_a_tag_linked_to_it_is_confirmed(tmp_path: Path) -> None:
    from catalogue_rows import scanned_library, suggest

    from photo_tagger.core import browse, service, tagging

    library, ids = scanned_library(tmp_path, ["a.jpg", "b.jpg"])
    a, b = ids["a.jpg"], ids["b.jpg"]
    with library.connect() as cat:
        snow = find_tag(cat, "snow")
        for photo in (a, b):
            suggest(cat, photo, "snow", 0.9)
        winter = tagging.ensure_tag(cat, "Winter")  # a keyword's own tag, linked to the built-in snow
        assert cat.scalar("SELECT link_id FROM tags WHERE id = ?", (winter,)) == snow
        tagging.set_state(cat, [a], winter, "confirmed")
        assert opinions.suggested_tag_ids(cat, a) == [] and opinions.suggested_tag_ids(cat, b) == [snow]
        panel = browse.selection_tags(cat, [a])
        assert [s.name for s in panel.candidates] == [] and [s.name for s in panel.confirmed] == ["Winter"]
        assert browse.photo_infos(cat, [a, b])[a].unreviewed == 0
        assert browse.photo_infos(cat, [a, b])[b].unreviewed == 1
        assert browse.photo_ids(cat, browse.BrowseFilter(tags=("snow",))) == [a, b]  # Winter stands for snow
        assert tagging.effective_tags(cat)[a] == (["Winter"], ["Winter"])
    # Exports say what the grid says, so importing an export back changes nothing (one-hot's
    # 0s and 1s are answers, so it confirms and rejects suggestions: not part of this).
    exported = tmp_path / "tags.csv"
    service.export_library_csv(library, exported)
    assert "a.jpg,Winter,Winter" in exported.read_text(encoding="utf-8").splitlines()
    assert service.plan_library_import(library, exported).changes == []
    for fmt, out in (("csv", tmp_path / "filtered.csv"), ("json", tmp_path / "tags.json")):
        service.export_library(library, out, fmt=fmt)
        assert service.plan_library_import(library, out, fmt).changes == [], fmt
    with library.connect() as cat:
        tagging.set_state(cat, [a], winter, "rejected")  # "not Winter" says nothing of snow
        assert opinions.suggested_tag_ids(cat, a) == [snow]


def test_a_keyword_confirms_a_new_or_suggested_tag_and_never_overrides_the_user(cat: Catalogue) -> None:
    photo = add_photo(cat, "a.jpg")
    new, suggested, rejected = add_tag(cat, "new"), add_tag(cat, "suggested"), add_tag(cat, "rejected")
    set_row(cat, photo, suggested, "suggested", 0.4)
    set_row(cat, photo, rejected, "rejected", 0.9)
    assert opinions.confirm_unanswered(cat, photo, [new, suggested, rejected], "keywords") == 2
    states = {tag: (state, source) for tag, state, source in cat.query(
        "SELECT tag_id, state, source FROM photo_tags WHERE photo_id = ?", (photo,))}
    assert states == {new: ("confirmed", "keywords"), suggested: ("confirmed", "keywords"),
                      rejected: ("rejected", "model")}
