"""Photos: every statement on `photos`, `embeddings` and `thumbnails`.

A photo row is a file of the library (its path relative to the root, '/'-separated) with
what the scan and the indexer learned of it; its embedding (one per backbone) and its
thumbnail JPEG hang off it. Tag opinions and the `reviewed_at` mark are store/opinions.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.store.id_lists import IN_IDS, id_list


@dataclass(frozen=True)
class PhotoRow:
    id: int
    path: str  # relative to the library root, '/'-separated
    status: str  # pending, ok, error, missing
    error: str | None
    width: int | None
    height: int | None
    taken_at: str | None
    size: int
    mtime_ns: int


def photo_rows(catalogue: Catalogue, photo_ids: Sequence[int]) -> list[PhotoRow]:
    """The rows of the photos among `photo_ids` that exist."""
    rows = catalogue.conn.execute(
        f"SELECT id, path, status, error, width, height, taken_at, size, mtime_ns FROM photos WHERE id IN {IN_IDS}",
        (id_list(photo_ids),),
    )
    return [PhotoRow(*row) for row in rows]


def thumbnail_jpegs(catalogue: Catalogue, photo_ids: Sequence[int]) -> dict[int, bytes]:
    """id -> the stored JPEG thumbnail, for the ids that have one."""
    rows = catalogue.conn.execute(f"SELECT photo_id, jpeg FROM thumbnails WHERE photo_id IN {IN_IDS}",
                                  (id_list(photo_ids),))
    return {int(photo_id): bytes(jpeg) for photo_id, jpeg in rows}


def library_counts(catalogue: Catalogue) -> dict[str, int]:
    """status -> photo count (pending, ok, error, missing)."""
    return {status: int(count) for status, count in
            catalogue.conn.execute("SELECT status, count(*) FROM photos GROUP BY status")}


def data_version(catalogue: Catalogue) -> int:
    """Changes whenever another connection commits: a cheap "anything new?" poll."""
    return int(catalogue.scalar("PRAGMA data_version"))


def all_paths(catalogue: Catalogue) -> list[tuple[int, str]]:
    """(id, path) of every photo, missing files included."""
    return [(int(pid), path) for pid, path in catalogue.conn.execute("SELECT id, path FROM photos")]


def present_paths(catalogue: Catalogue) -> list[tuple[int, str]]:
    """(id, path) of the photos whose file is there (not missing), by path."""
    rows = catalogue.conn.execute("SELECT id, path FROM photos WHERE status != 'missing' ORDER BY path")
    return [(int(pid), path) for pid, path in rows]
