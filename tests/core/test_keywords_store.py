"""Keyword bookkeeping (core/store/keywords.py) on a real catalogue: what each photo's
keyword sources held, both row layouts, and confirming a keyword's tag."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalogue_rows import add_photo, add_tag, catalogue_without_tags, set_row

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.store import keywords


@pytest.fixture
def cat(tmp_path: Path):
    with catalogue_without_tags(tmp_path / "c.sqlite") as catalogue:
        yield catalogue


def test_an_embedded_source_is_recorded_replaced_and_marks_the_photo_read(cat: Catalogue) -> None:
    photo = add_photo(cat, "a/IMG_1.jpg")
    assert keywords.recorded_sources(cat, photo) == {} and not keywords.embedded_read(cat, photo)
    assert keywords.photos_never_read(cat) == {photo: "a/IMG_1.jpg"}
    keywords.record_embedded(cat, photo, "a/IMG_1.jpg", (10, 1, [("Trips", "Oslo")]))
    now = (12, 2, [("Trips", "Oslo"), ("Fjord",)])
    keywords.record_embedded(cat, photo, "a/IMG_1.jpg", now)
    assert keywords.recorded_sources(cat, photo) == {"embedded": {"a/IMG_1.jpg": now}}
    assert keywords.embedded_read(cat, photo) and keywords.photos_never_read(cat) == {}


def test_a_photo_s_sidecars_share_one_row_and_an_empty_state_forgets_them(cat: Catalogue) -> None:
    photo = add_photo(cat, "IMG_1.CR2")
    state = {"IMG_1.xmp": (5, 1, [("Cat",)]), "IMG_1.CR2.xmp": (6, 2, [("Dog",)])}
    keywords.record_sidecars(cat, photo, state)
    assert keywords.recorded_sidecars(cat) == {photo: state}
    assert keywords.recorded_sources(cat, photo) == {"sidecar": state}
    assert cat.scalar("SELECT count(*) FROM keyword_sources") == 1
    keywords.record_sidecars(cat, photo, {})
    assert keywords.recorded_sidecars(cat) == {}


def test_a_sidecar_row_of_the_older_layout_reads_as_its_one_file(cat: Catalogue) -> None:
    photo = add_photo(cat, "IMG_2.jpg")
    with cat.transaction() as conn:  # a JSON list of paths, as rows were written before
        conn.execute("INSERT INTO keyword_sources VALUES (?, 'sidecar', 'IMG_2.jpg.xmp', 7, 3, '[[\"Oslo\"]]', 0)",
                     (photo,))
    assert keywords.recorded_sidecars(cat) == {photo: {"IMG_2.jpg.xmp": (7, 3, [("Oslo",)])}}


def test_folders_and_the_photos_directly_in_each(cat: Catalogue) -> None:
    root, deep, other = add_photo(cat, "r.jpg"), add_photo(cat, "a/b/c.jpg"), add_photo(cat, "a/d.jpg")
    add_photo(cat, "a/broken.jpg", status="error")
    assert sorted(keywords.photo_folders(cat)) == ["", "a/", "a/b/"]
    assert keywords.photos_in_folder(cat, "") == [(root, "r.jpg")]
    assert keywords.photos_in_folder(cat, "a/") == [(other, "a/d.jpg")]
    assert keywords.photos_in_folder(cat, "a/b/") == [(deep, "a/b/c.jpg")]


def test_a_keyword_confirms_a_new_or_suggested_tag_and_never_overrides_the_user(cat: Catalogue) -> None:
    photo = add_photo(cat, "a.jpg")
    new, suggested, rejected = add_tag(cat, "new"), add_tag(cat, "suggested"), add_tag(cat, "rejected")
    set_row(cat, photo, suggested, "suggested", 0.4)
    set_row(cat, photo, rejected, "rejected", 0.9)
    assert keywords.confirm_from_keyword(cat, photo, [new, suggested, rejected], "keywords") == 2
    states = {tag: (state, source) for tag, state, source in cat.query(
        "SELECT tag_id, state, source FROM photo_tags WHERE photo_id = ?", (photo,))}
    assert states == {new: ("confirmed", "keywords"), suggested: ("confirmed", "keywords"),
                      rejected: ("rejected", "model")}
