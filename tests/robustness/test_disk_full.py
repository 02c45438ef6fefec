"""A full disk or a read-only one: writes fail with a message naming the file, nothing is
left half-written, and what the catalogue held before is still there.

The library lives on a small tmpfs mounted for the test (root only); the rest of the
suite keeps the same promises through the in-process tests in test_kill.py.
"""

from __future__ import annotations

import csv
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from photos import noise_photo, save_photo
from robustness.common import EXE

from photo_tagger.core.library import Library
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.tagging import ensure_tag, set_state

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "tiny"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def fill_disk(folder: Path) -> Path:
    """Write a filler file until the filesystem is full; delete it to free the space."""
    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as fh:
        for chunk in (65536, 4096, 512, 1):
            try:
                while True:
                    fh.write(b"\0" * chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    return filler


def add_photos(root: Path, first: int, count: int) -> None:
    for i in range(first, first + count):
        save_photo(noise_photo(i, (200, 150)), root / f"p{i:03d}.jpg", quality=80)


def catalogue_state(root: Path) -> tuple[list[tuple], list[tuple]]:
    with Catalogue(root / ".photo-tagger" / "catalogue.sqlite") as cat:
        assert cat.integrity_ok()
        photo_tags = cat.query("SELECT photo_id, tag_id, state FROM photo_tags WHERE state != 'suggested'"
                               " ORDER BY photo_id, tag_id")
        photos = cat.query("SELECT id, path, status FROM photos ORDER BY id")
        return [tuple(r) for r in photo_tags], [tuple(r) for r in photos]


def confirm_some_tags(root: Path) -> None:
    library = Library.open(root)
    with library.connect() as cat:
        ids = [pid for (pid,) in cat.query("SELECT id FROM photos ORDER BY id")]
        set_state(cat, ids[::2], ensure_tag(cat, "holiday"), "confirmed")
        set_state(cat, ids[1::2], ensure_tag(cat, "cat"), "rejected")


def assert_clean_failure(result: subprocess.CompletedProcess[str], names: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("photo-tagger: ")
    assert names in result.stderr, result.stderr
    assert "disk is full" in result.stderr or "No space left" in result.stderr, result.stderr


@pytest.fixture
def indexed_tiny_library(tiny_fs: Path, embedder) -> Path:
    root = tiny_fs / "Photos"
    add_photos(root, 0, 6)
    result = run("index", str(root))
    assert result.returncode == 0, result.stderr
    confirm_some_tags(root)
    return root


@pytest.fixture
def app_has_it_open(indexed_tiny_library: Path) -> Iterator[Path]:
    """The desktop app reading the catalogue keeps its WAL and shared-memory files, so a
    CLI started on a full disk opens it and fails at the first write, as in real life."""
    with Catalogue(indexed_tiny_library / ".photo-tagger" / "catalogue.sqlite") as reader:
        reader.scalar("SELECT count(*) FROM photos")
        yield indexed_tiny_library


def test_import_on_a_full_disk_fails_cleanly_and_changes_nothing(app_has_it_open: Path, tmp_path: Path) -> None:
    root = app_has_it_open
    before = catalogue_state(root)
    source = tmp_path / "many-tags.csv"
    with open(source, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "tags"])
        for i in range(6):
            writer.writerow([f"p{i:03d}.jpg", ";".join(f"imported tag {i} {j} {'x' * 40}" for j in range(400))])
    filler = fill_disk(root.parent)

    assert_clean_failure(run("import", str(root), str(source)), "catalogue.sqlite")

    filler.unlink()
    assert catalogue_state(root) == before
    result = run("import", str(root), str(source))
    assert result.returncode == 0, result.stderr
    assert "imported 6 of 6 rows" in result.stdout


def test_index_on_a_full_disk_fails_cleanly_and_resumes_later(app_has_it_open: Path) -> None:
    root = app_has_it_open
    add_photos(root, 100, 60)
    tags_before, photos_before = catalogue_state(root)
    filler = fill_disk(root.parent)

    assert_clean_failure(run("index", str(root)), "catalogue.sqlite")

    filler.unlink()
    tags_after, photos_after = catalogue_state(root)
    assert tags_after == tags_before
    for photo in photos_before:  # everything indexed before is still indexed
        assert photo in photos_after
    result = run("index", str(root))
    assert result.returncode == 0, result.stderr
    with Catalogue(root / ".photo-tagger" / "catalogue.sqlite") as cat:
        assert cat.scalar("SELECT count(*) FROM photos WHERE status = 'ok'") == 66
        assert cat.scalar("SELECT count(*) FROM photos p JOIN thumbnails t ON t.photo_id = p.id") == 66


def test_a_catalogue_on_a_full_disk_that_nobody_has_open_is_refused_with_a_reason(
    indexed_tiny_library: Path, tmp_path: Path
) -> None:
    """Opening needs a few KB for WAL bookkeeping; on a full disk even export cannot."""
    filler = fill_disk(indexed_tiny_library.parent)
    result = run("export", str(indexed_tiny_library), "-o", str(tmp_path / "tags.csv"))
    assert_clean_failure(result, "catalogue.sqlite")
    filler.unlink()
    assert catalogue_state(indexed_tiny_library)


def test_export_to_a_full_disk_leaves_no_partial_csv(tiny_fs: Path, tmp_path: Path, embedder) -> None:
    root = tmp_path / "Photos"  # the library has room; the export target does not
    add_photos(root, 0, 6)
    assert run("index", str(root)).returncode == 0
    out_dir = tiny_fs / "exports"
    out_dir.mkdir()
    old = out_dir / "tags.csv"
    old.write_bytes(b"path,tags,confirmed\r\nold.jpg,old,\r\n")
    filler = fill_disk(tiny_fs)

    result = run("export", str(root), "-o", str(old), "--scores")
    assert_clean_failure(result, str(old))
    assert old.read_bytes() == b"path,tags,confirmed\r\nold.jpg,old,\r\n"
    result = run("export", str(root), "-o", str(out_dir / "new.csv"), "--scores")
    assert_clean_failure(result, "new.csv")
    assert sorted(p.name for p in out_dir.iterdir()) == ["tags.csv"]  # no temp file left
    filler.unlink()
    assert run("export", str(root), "-o", str(old)).returncode == 0


def test_a_read_only_library_is_indexed_with_its_catalogue_elsewhere(tiny_fs: Path, tmp_path: Path, embedder) -> None:
    root = tiny_fs / "Photos"
    add_photos(root, 0, 4)
    before = sorted((str(p), p.stat().st_mtime_ns) for p in tiny_fs.rglob("*"))
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    env = dict(os.environ, PHOTO_TAGGER_DATA_DIR=str(tmp_path / "data"))

    result = run("index", str(root), env=env)
    assert result.returncode == 0, result.stderr
    assert "Indexed 4 new or changed photos" in result.stdout and "library: 4 photos" in result.stdout
    assert sorted((str(p), p.stat().st_mtime_ns) for p in tiny_fs.rglob("*")) == before
    assert list((tmp_path / "data").rglob("catalogue.sqlite"))
    result = run("export", str(root), "-o", str(tmp_path / "tags.csv"), env=env)
    assert result.returncode == 0, result.stderr
