"""Keyword bookkeeping (core/store/keywords.py) on a real catalogue: what each photo's
keyword sources held, and both row layouts."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalogue_rows import add_photo, catalogue_without_tags

from photo_tagger.core.store import keywords, photos
from photo_tagger.core.store.connection import Catalogue


@pytest.fixture
def cat(tmp_path: Path):
    with catalogue_without_tags(tmp_path / "c.sqlite") as catalogue:
        yield catalogue


def test_an_embedded_source_is_recorded_replaced_and_marks_the_photo_read(cat: Catalogue) -> None:
    photo = add_photo(cat, "a/IMG_1.jpg")
    assert keywords.recorded_sources(cat, photo) == {} and not keywords.embedded_read(cat, photo)
    assert photos.photos_never_read(cat) == {photo: "a/IMG_1.jpg"}
    keywords.record_embedded(cat, photo, "a/IMG_1.jpg", (10, 1, [("Trips", "Oslo")]))
    now = (12, 2, [("Trips", "Oslo"), ("Fjord",)])
    keywords.record_embedded(cat, photo, "a/IMG_1.jpg", now)
    assert keywords.recorded_sources(cat, photo) == {"embedded": {"a/IMG_1.jpg": now}}
    assert keywords.embedded_read(cat, photo) and photos.photos_never_read(cat) == {}


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
