"""Walk a library folder and reconcile what is on disk with the catalogue.

A re-scan only stats files: unchanged size + mtime means nothing to do, so an unchanged
library of thousands of photos re-indexes in well under a second. New files get a
sampled content hash, which lets a moved or renamed photo keep its row (and its tags).
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from photo_tagger.core import photo_errors
from photo_tagger.core.imaging import open_regular_file
from photo_tagger.core.photo_files import PHOTO_EXTENSIONS
from photo_tagger.core.store import photos
from photo_tagger.core.store.connection import APP_FOLDER, Catalogue

log = logging.getLogger(__name__)

HASH_SAMPLE_BYTES = 256 * 1024
BAD_NAME_ERROR = "file name is not valid UTF-8 (shown with \\xNN escapes); rename the file to index it"


@dataclass(frozen=True)
class FoundFile:
    relative_path: str  # '/'-separated, relative to the library root
    size: int
    mtime_ns: int
    error: str | None = None  # set when the entry cannot be a photo (a FIFO, unreadable)


@dataclass
class ScanSummary:
    found: int = 0
    new: int = 0
    changed: int = 0
    moved: int = 0
    missing: int = 0
    unchanged: int = 0
    errors: int = 0
    still_broken: int = 0  # unchanged files that failed before: not decoded again


def relative_key(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _is_utf8(key: str) -> bool:
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable_key(key: str) -> str:
    """`key` with the bytes that are not UTF-8 spelt as \\xNN."""
    return key.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def walk_photos(root: Path) -> Iterator[FoundFile]:
    """Yield every photo file under `root`: recursive, following directory symlinks but
    never a loop, skipping hidden entries and the app's own folder."""
    seen_dirs: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
        except OSError as exc:
            log.warning("%s: cannot read folder (%s)", folder, exc.strerror)
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:
            continue  # a symlink loop or a second link to a folder already walked
        seen_dirs.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            log.warning("%s: cannot list folder (%s)", folder, exc.strerror)
            continue
        subfolders: list[Path] = []
        for entry in entries:
            if entry.name.startswith(".") or entry.name == APP_FOLDER:
                continue
            found = _examine(root, entry, subfolders)
            if found is not None:
                yield found
        stack.extend(reversed(subfolders))


def _examine(root: Path, entry: os.DirEntry[str], subfolders: list[Path]) -> FoundFile | None:
    path = Path(entry.path)
    try:
        if entry.is_dir(follow_symlinks=True):
            subfolders.append(path)
            return None
    except OSError:
        pass  # a symlink loop ("self.jpg -> self.jpg"): the stat below reports it
    if path.suffix.lower() not in PHOTO_EXTENSIONS:
        return None
    key = relative_key(root, path)
    if not _is_utf8(key):
        # SQLite TEXT cannot hold the lone surrogates Python uses for such bytes: keep an
        # error row under a printable, stable spelling of the name instead of crashing.
        return FoundFile(printable_key(key), 0, 0, error=BAD_NAME_ERROR)
    try:
        st = entry.stat(follow_symlinks=True)
    except OSError as exc:
        return FoundFile(key, 0, 0, error=photo_errors.cannot_read(exc.strerror))
    if not stat.S_ISREG(st.st_mode):
        return FoundFile(key, 0, st.st_mtime_ns, error="not a regular file")
    if not os.access(path, os.R_OK):
        return FoundFile(key, st.st_size, st.st_mtime_ns, error=photo_errors.PERMISSION_DENIED)
    return FoundFile(key, st.st_size, st.st_mtime_ns)


def sampled_content_hash(path: Path, size: int) -> str:
    """blake2b of the size plus the first and last 256 KiB: identifies a photo across
    renames and moves without reading whole multi-megabyte files."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(size.to_bytes(8, "little"))
    with open_regular_file(path) as fh:
        digest.update(fh.read(HASH_SAMPLE_BYTES))
        if size > 2 * HASH_SAMPLE_BYTES:
            fh.seek(-HASH_SAMPLE_BYTES, os.SEEK_END)
            digest.update(fh.read(HASH_SAMPLE_BYTES))
    return digest.hexdigest()


def reconcile(catalogue: Catalogue, root: Path, files: list[FoundFile]) -> ScanSummary:
    """Bring the photos table in line with `files` (one transaction).

    New paths whose content matches a photo that is no longer at its old path are moves:
    the old row takes the new path and keeps its tags and embedding.
    """
    summary = ScanSummary(found=len(files))
    known = {row.path: row for row in photos.known_files(catalogue)}
    on_disk = {f.relative_path for f in files}
    vanished_by_hash: dict[str, int] = {}
    for path, old in known.items():
        if path not in on_disk and old.content_hash:
            vanished_by_hash.setdefault(old.content_hash, old.id)
    moved_ids: set[int] = set()
    now = time.time()
    handled: set[str] = set()
    with catalogue.transaction():
        for found in files:
            if found.relative_path in handled:
                continue  # an escaped bad name that spells the same as a real one
            handled.add(found.relative_path)
            row = known.get(found.relative_path)
            if found.error is not None:
                summary.errors += 1
                _record_error(catalogue, row, found, now)
                continue
            if row is not None and row.size == found.size and row.mtime_ns == found.mtime_ns:
                if row.status not in ("missing", "error"):
                    summary.unchanged += 1
                    continue
                # An error of the file itself (corrupt, truncated, not an image) stays until its
                # size or mtime changes: a re-index of an unchanged library decodes nothing,
                # however many broken files it holds. One of the moment is tried again.
                if row.status == "error" and not photo_errors.is_transient(row.error):
                    summary.still_broken += 1
                    continue
            try:
                content_hash = sampled_content_hash(root / found.relative_path, found.size)
            except OSError as exc:
                summary.errors += 1
                _record_error(catalogue, row, FoundFile(found.relative_path, found.size,
                              found.mtime_ns, photo_errors.cannot_read(exc.strerror)), now)
                continue
            if row is not None:
                unchanged_content = row.content_hash == content_hash and row.status == "ok"
                photos.set_file(catalogue, row.id, found.size, found.mtime_ns, content_hash, indexed=unchanged_content)
                summary.changed += 0 if unchanged_content else 1
                summary.unchanged += 1 if unchanged_content else 0
                continue
            moved_id = vanished_by_hash.pop(content_hash, None)
            if moved_id is not None:
                moved_ids.add(moved_id)
                photos.move_photo(catalogue, moved_id, found.relative_path, found.size, found.mtime_ns)
                summary.moved += 1
                continue
            photos.add_photo(catalogue, found.relative_path, found.size, found.mtime_ns, content_hash, now)
            summary.new += 1
        gone = [old.id for path, old in known.items()
                if path not in on_disk and old.id not in moved_ids and old.status != "missing"]
        photos.mark_missing(catalogue, gone)
        summary.missing += len(gone)
    return summary


def _record_error(catalogue: Catalogue, row: photos.KnownFile | None, found: FoundFile, now: float) -> None:
    error = found.error or ""
    if row is None:
        photos.add_photo(catalogue, found.relative_path, found.size, found.mtime_ns, "", now, error=error)
    else:
        photos.set_file_error(catalogue, row.id, error, found.size, found.mtime_ns)
    log.warning("%s: %s", found.relative_path, found.error)
