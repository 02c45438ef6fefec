"""Scanning finds photos, skips what it must, and reconciles changes without losing rows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from photos import noise_photo, save_photo

from photo_tagger.core.scan import reconcile, walk_photos
from photo_tagger.core.store.connection import Catalogue


def found_paths(root: Path) -> list[str]:
    return sorted(f.relative_path for f in walk_photos(root))


def rescan(catalogue: Catalogue, root: Path):
    return reconcile(catalogue, root, list(walk_photos(root)))


def test_walk_is_recursive_and_skips_hidden_app_and_non_photo_files(tmp_path: Path) -> None:
    save_photo(noise_photo(1), tmp_path / "a.jpg")
    save_photo(noise_photo(2), tmp_path / "sub" / "deeper" / "B.JPEG")
    save_photo(noise_photo(3), tmp_path / ".hidden" / "c.jpg")
    save_photo(noise_photo(4), tmp_path / ".photo-tagger" / "d.jpg")
    save_photo(noise_photo(5), tmp_path / ".e.jpg")
    (tmp_path / "readme.txt").write_text("x")
    assert found_paths(tmp_path) == ["a.jpg", "sub/deeper/B.JPEG"]


def test_symlink_loop_is_walked_once(tmp_path: Path) -> None:
    save_photo(noise_photo(1), tmp_path / "sub" / "a.jpg")
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    assert found_paths(tmp_path) == ["sub/a.jpg"]


def test_fifo_with_photo_extension_is_an_error_not_a_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.jpg")
    [found] = list(walk_photos(tmp_path))
    assert found.error == "not a regular file"


def test_names_with_spaces_unicode_and_newlines(tmp_path: Path) -> None:
    for name in ["with space.jpg", "café 🐱.jpg", "new\nline.jpg"]:
        save_photo(noise_photo(7), tmp_path / name)
    assert found_paths(tmp_path) == sorted(["with space.jpg", "café 🐱.jpg", "new\nline.jpg"])


@pytest.fixture
def catalogue(tmp_path: Path):
    with Catalogue(tmp_path / "cat.sqlite") as cat:
        yield cat


def statuses(catalogue: Catalogue) -> dict[str, str]:
    return {row["path"]: row["status"] for row in catalogue.query("SELECT path, status FROM photos")}


def test_unchanged_rescan_touches_nothing(tmp_path: Path, catalogue: Catalogue) -> None:
    root = tmp_path / "lib"
    for i in range(3):
        save_photo(noise_photo(i), root / f"{i}.jpg")
    first = rescan(catalogue, root)
    assert first.new == 3
    catalogue.conn.execute("UPDATE photos SET status = 'ok'")
    second = rescan(catalogue, root)
    assert (second.new, second.changed, second.unchanged) == (0, 0, 3)


def test_renamed_photo_keeps_its_row(tmp_path: Path, catalogue: Catalogue) -> None:
    root = tmp_path / "lib"
    save_photo(noise_photo(1), root / "old name.jpg")
    rescan(catalogue, root)
    [(photo_id,)] = catalogue.query("SELECT id FROM photos")
    catalogue.conn.execute("UPDATE photos SET status = 'ok'")
    (root / "moved").mkdir()
    os.rename(root / "old name.jpg", root / "moved" / "new name.jpg")
    summary = rescan(catalogue, root)
    assert summary.moved == 1 and summary.new == 0
    assert catalogue.query("SELECT id, path FROM photos")[0][:] == (photo_id, "moved/new name.jpg")


def test_deleted_photo_is_marked_missing_and_comes_back(tmp_path: Path, catalogue: Catalogue) -> None:
    root = tmp_path / "lib"
    path = save_photo(noise_photo(1), root / "a.jpg")
    rescan(catalogue, root)
    catalogue.conn.execute("UPDATE photos SET status = 'ok'")
    data = path.read_bytes()
    path.unlink()
    assert rescan(catalogue, root).missing == 1
    assert statuses(catalogue) == {"a.jpg": "missing"}
    path.write_bytes(data)
    rescan(catalogue, root)
    assert statuses(catalogue)["a.jpg"] in ("ok", "pending")
    assert catalogue.scalar("SELECT count(*) FROM photos") == 1


def test_edited_photo_is_queued_for_reindexing(tmp_path: Path, catalogue: Catalogue) -> None:
    root = tmp_path / "lib"
    path = save_photo(noise_photo(1), root / "a.jpg")
    rescan(catalogue, root)
    catalogue.conn.execute("UPDATE photos SET status = 'ok'")
    save_photo(noise_photo(2), path)
    os.utime(path, ns=(1, 10**18))
    assert rescan(catalogue, root).changed == 1
    assert statuses(catalogue) == {"a.jpg": "pending"}


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        ("corrupt or truncated image (image file is truncated)", False),
        ("not an image file, or an unsupported format", False),
        ("cannot read file (Input/output error)", True),
        ("decoding took longer than 60 s; skipped", True),
        ("not decoded: 16 other photos are stuck decoding (is the drive stalled?); skipped", True),
    ],
)
def test_a_broken_photo_is_retried_only_if_it_changed_or_its_error_may_pass(
    tmp_path: Path, catalogue: Catalogue, error: str, retried: bool
) -> None:
    root = tmp_path / "lib"
    path = save_photo(noise_photo(1), root / "a.jpg")
    rescan(catalogue, root)
    catalogue.conn.execute("UPDATE photos SET status = 'error', error = ?", (error,))  # as the indexer records it
    summary = rescan(catalogue, root)
    assert statuses(catalogue) == {"a.jpg": "pending" if retried else "error"}
    assert (summary.unchanged, summary.still_broken) == (0, 0 if retried else 1)
    catalogue.conn.execute("UPDATE photos SET status = 'error', error = ?", (error,))
    save_photo(noise_photo(2), path)  # the user repaired or replaced the file
    os.utime(path, ns=(1, 10**18))
    rescan(catalogue, root)
    assert statuses(catalogue) == {"a.jpg": "pending"}
