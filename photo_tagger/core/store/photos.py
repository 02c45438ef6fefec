"""Photos: every statement on `photos`, `embeddings` and `thumbnails`.

A photo row is a file of the library (its path relative to the root, '/'-separated) with
what the scan and the indexer learned of it; its embedding (one per backbone) and its
thumbnail JPEG hang off it. Tag opinions and the `reviewed_at` mark are store/opinions.py's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from photo_tagger.core.store.connection import Catalogue
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


# --- the scan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownFile:
    """What the catalogue knew of a photo's file at the last scan."""

    id: int
    path: str
    size: int
    mtime_ns: int
    content_hash: str
    status: str
    error: str | None


def known_files(catalogue: Catalogue) -> list[KnownFile]:
    rows = catalogue.conn.execute("SELECT id, path, size, mtime_ns, content_hash, status, error FROM photos")
    return [KnownFile(*row) for row in rows]


def add_photo(
    catalogue: Catalogue, path: str, size: int, mtime_ns: int, content_hash: str, added_at: float,
    *, error: str | None = None,
) -> int:
    """A new photo, waiting to be indexed; or, with an `error`, one that cannot be read."""
    with catalogue.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO photos(path, size, mtime_ns, content_hash, status, error, added_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (path, size, mtime_ns, content_hash, "pending" if error is None else "error", error, added_at),
        )
        return int(cur.lastrowid or 0)


def set_file(catalogue: Catalogue, photo_id: int, size: int, mtime_ns: int, content_hash: str, *,
             indexed: bool) -> None:
    """The photo's file changed on disk; `indexed`: its content did not, so its index holds."""
    with catalogue.transaction() as conn:
        conn.execute(
            "UPDATE photos SET size = ?, mtime_ns = ?, content_hash = ?, status = ?, error = NULL WHERE id = ?",
            (size, mtime_ns, content_hash, "ok" if indexed else "pending", photo_id),
        )


def set_file_error(catalogue: Catalogue, photo_id: int, error: str, size: int, mtime_ns: int) -> None:
    with catalogue.transaction() as conn:
        conn.execute("UPDATE photos SET status = 'error', error = ?, size = ?, mtime_ns = ? WHERE id = ?",
                     (error, size, mtime_ns, photo_id))


def move_photo(catalogue: Catalogue, photo_id: int, path: str, size: int, mtime_ns: int) -> None:
    """The photo's file is now at `path` (moved or renamed); its tags and embedding stay.
    A photo that was missing is back: indexed again when it has an embedding, else pending."""
    with catalogue.transaction() as conn:
        conn.execute(
            "UPDATE photos SET path = ?, size = ?, mtime_ns = ?,"
            " status = CASE WHEN status = 'missing' THEN"
            "   (CASE WHEN EXISTS (SELECT 1 FROM embeddings WHERE photo_id = photos.id)"
            "    THEN 'ok' ELSE 'pending' END) ELSE status END"
            " WHERE id = ?",
            (path, size, mtime_ns, photo_id),
        )


def mark_missing(catalogue: Catalogue, photo_ids: Iterable[int]) -> None:
    """The files are gone; the rows (and the user's tags) stay for when they come back."""
    with catalogue.transaction() as conn:
        conn.executemany("UPDATE photos SET status = 'missing' WHERE id = ?", [(pid,) for pid in photo_ids])


# --- the index ----------------------------------------------------------------------------


def photos_to_index(catalogue: Catalogue, backbone_key: str) -> list[tuple[int, str]]:
    """(id, path) by path of the photos waiting to be indexed, and of the indexed ones whose
    embedding is not `backbone_key`'s (a backbone change re-embeds)."""
    rows = catalogue.conn.execute(
        "SELECT p.id, p.path FROM photos p LEFT JOIN embeddings e ON e.photo_id = p.id"
        " WHERE p.status = 'pending' OR (p.status = 'ok' AND (e.backbone IS NULL OR e.backbone != ?))"
        " ORDER BY p.path",
        (backbone_key,),
    )
    return [(int(pid), path) for pid, path in rows]


def set_index_error(catalogue: Catalogue, photo_id: int, error: str, indexed_at: float) -> None:
    """Indexing the photo failed (the file is not a readable image, the decoder timed out, ...)."""
    with catalogue.transaction() as conn:
        conn.execute("UPDATE photos SET status = 'error', error = ?, indexed_at = ? WHERE id = ?",
                     (error, indexed_at, photo_id))


@dataclass(frozen=True)
class IndexedPhoto:
    """What indexing learned of one photo."""

    photo_id: int
    width: int
    height: int
    taken_at: str | None
    thumbnail: bytes  # JPEG
    thumbnail_size: tuple[int, int]
    vector: bytes  # the embedding (suggest.encode_vector)
    faces: bytes  # the face summary (suggest.encode_faces)


def store_indexed(catalogue: Catalogue, photo: IndexedPhoto, backbone_key: str, indexed_at: float) -> None:
    with catalogue.transaction() as conn:
        conn.execute(
            "UPDATE photos SET status = 'ok', error = NULL, width = ?, height = ?, taken_at = ?, indexed_at = ?"
            " WHERE id = ?",
            (photo.width, photo.height, photo.taken_at, indexed_at, photo.photo_id),
        )
        conn.execute(
            "INSERT INTO thumbnails(photo_id, width, height, jpeg) VALUES (?, ?, ?, ?) ON CONFLICT(photo_id)"
            " DO UPDATE SET width = excluded.width, height = excluded.height, jpeg = excluded.jpeg",
            (photo.photo_id, *photo.thumbnail_size, photo.thumbnail),
        )
        conn.execute(
            "INSERT INTO embeddings(photo_id, backbone, vector, faces) VALUES (?, ?, ?, ?) ON CONFLICT(photo_id)"
            " DO UPDATE SET backbone = excluded.backbone, vector = excluded.vector, faces = excluded.faces",
            (photo.photo_id, backbone_key, photo.vector, photo.faces),
        )


# --- embeddings ---------------------------------------------------------------------------


def embedded_photo_ids(catalogue: Catalogue, backbone_key: str) -> list[int]:
    """The photos with an embedding by `backbone_key`, by id."""
    rows = catalogue.conn.execute("SELECT photo_id FROM embeddings WHERE backbone = ? ORDER BY photo_id",
                                  (backbone_key,))
    return [int(pid) for (pid,) in rows]


def embeddings(
    catalogue: Catalogue, backbone_key: str, photo_ids: Sequence[int] | None = None
) -> list[tuple[int, bytes, bytes | None]]:
    """(photo id, vector, face summary) by id of the photos embedded by `backbone_key`:
    all of them, or those among `photo_ids`. The blobs as stored (suggest decodes them)."""
    sql = "SELECT photo_id, vector, faces FROM embeddings WHERE backbone = ?"
    params: tuple = (backbone_key,)
    if photo_ids is not None:
        sql += f" AND photo_id IN {IN_IDS}"
        params += (id_list(photo_ids),)
    return [(int(pid), vector, faces) for pid, vector, faces in catalogue.conn.execute(sql + " ORDER BY photo_id",
                                                                                        params)]


# --- what keyword syncing walks ---------------------------------------------------------


def photos_never_read(catalogue: Catalogue) -> dict[int, str]:
    """id -> library-relative path of the indexed photos whose keywords were never read."""
    return {int(photo_id): path for photo_id, path in catalogue.query(
        "SELECT id, path FROM photos p WHERE status = 'ok' AND NOT EXISTS (SELECT 1 FROM keyword_sources k"
        " WHERE k.photo_id = p.id AND k.kind = 'embedded')"
    )}


def photo_folders(catalogue: Catalogue) -> list[str]:
    """The folders holding indexed photos, as path prefixes: '' for the root, 'a/b/'."""
    # rtrim(path, <path without '/'>) strips the file name: 'a/b/c.jpg' -> 'a/b/'
    return [row[0] for row in catalogue.query(
        "SELECT DISTINCT rtrim(path, replace(path, '/', '')) FROM photos WHERE status = 'ok'"
    )]


def photos_in_folder(catalogue: Catalogue, prefix: str) -> list[tuple[int, str]]:
    """(id, path) of the indexed photos directly in the folder `prefix` (as `photo_folders`)."""
    rows = catalogue.query(
        "SELECT id, path FROM photos WHERE status = 'ok' AND substr(path, 1, ?) = ?"
        " AND instr(substr(path, ? + 1), '/') = 0",
        (len(prefix), prefix, len(prefix)),
    )
    return [(int(photo_id), path) for photo_id, path in rows]
