"""Photos in the store (core/store/photos.py): files, their index, thumbnails and embeddings."""

from __future__ import annotations

from pathlib import Path

import catalogue_rows
import pytest

from photo_tagger.core.store import photos
from photo_tagger.core.store.connection import Catalogue


@pytest.fixture
def cat(tmp_path: Path):
    with Catalogue(tmp_path / "c.sqlite") as catalogue:
        yield catalogue


def indexed(photo_id: int, vector: bytes) -> photos.IndexedPhoto:
    return photos.IndexedPhoto(photo_id, 640, 480, "2026-01-02T03:04:05", b"jpeg", (64, 48), vector, b"faces")


def test_a_scanned_file_waits_for_the_index_and_an_unreadable_one_says_why(cat: Catalogue) -> None:
    new = photos.add_photo(cat, "a.jpg", 10, 1, "hash-a", 0.0)
    broken = photos.add_photo(cat, "b.jpg", 5, 1, "", 0.0, error="not an image file")
    assert [(f.path, f.status, f.error) for f in photos.known_files(cat)] == [
        ("a.jpg", "pending", None), ("b.jpg", "error", "not an image file")]
    assert photos.photos_to_index(cat, "bb") == [(new, "a.jpg")]
    photos.set_file(cat, broken, 6, 2, "hash-b", indexed=False)  # fixed on disk: indexed again
    assert photos.photos_to_index(cat, "bb") == [(new, "a.jpg"), (broken, "b.jpg")]
    photos.set_file_error(cat, broken, "permission denied", 6, 2)
    assert photos.library_counts(cat) == {"pending": 1, "error": 1}


def test_indexing_stores_the_row_the_thumbnail_and_the_embedding(cat: Catalogue) -> None:
    a, b = photos.add_photo(cat, "a.jpg", 10, 1, "ha", 0.0), photos.add_photo(cat, "b.jpg", 10, 1, "hb", 0.0)
    photos.store_indexed(cat, indexed(a, b"v1"), "bb", 1.0)
    photos.store_indexed(cat, indexed(a, b"v2"), "bb", 2.0)  # indexed again: replaced
    photos.set_index_error(cat, b, "decoding timed out", 2.0)
    [row] = photos.photo_rows(cat, [a])
    assert (row.status, row.width, row.height, row.taken_at) == ("ok", 640, 480, "2026-01-02T03:04:05")
    assert photos.thumbnail_jpegs(cat, [a, b]) == {a: b"jpeg"}
    assert photos.embedded_photo_ids(cat, "bb") == [a] and photos.embedded_photo_ids(cat, "other") == []
    assert photos.embeddings(cat, "bb") == [(a, b"v2", b"faces")]
    assert photos.embeddings(cat, "bb", [b]) == []
    assert photos.photos_to_index(cat, "bb") == [] and photos.photos_to_index(cat, "new backbone") == [(a, "a.jpg")]


def test_a_moved_file_keeps_its_row_and_a_missing_one_comes_back_indexed(cat: Catalogue) -> None:
    a = photos.add_photo(cat, "a.jpg", 10, 1, "ha", 0.0)
    photos.store_indexed(cat, indexed(a, b"v"), "bb", 1.0)
    photos.mark_missing(cat, [a])
    assert photos.present_paths(cat) == [] and photos.all_paths(cat) == [(a, "a.jpg")]
    photos.move_photo(cat, a, "moved/a.jpg", 10, 2)
    assert photos.present_paths(cat) == [(a, "moved/a.jpg")]
    assert photos.photo_rows(cat, [a])[0].status == "ok"  # its embedding is still there


def test_data_version_moves_when_another_connection_commits(cat: Catalogue) -> None:
    before = photos.data_version(cat)
    with Catalogue(cat.path) as other:
        photos.add_photo(other, "a.jpg", 1, 1, "h", 0.0)
    assert photos.data_version(cat) != before


def test_folders_and_the_photos_directly_in_each(cat: Catalogue) -> None:
    root, deep, other = (catalogue_rows.add_photo(cat, path) for path in ("r.jpg", "a/b/c.jpg", "a/d.jpg"))
    catalogue_rows.add_photo(cat, "a/broken.jpg", status="error")
    assert sorted(photos.photo_folders(cat)) == ["", "a/", "a/b/"]
    assert photos.photos_in_folder(cat, "") == [(root, "r.jpg")]
    assert photos.photos_in_folder(cat, "a/") == [(other, "a/d.jpg")]
    assert photos.photos_in_folder(cat, "a/b/") == [(deep, "a/b/c.jpg")]
