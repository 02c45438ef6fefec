"""Keyword bookkeeping: every statement on `keyword_sources`, what each photo's keyword
sources (its embedded keywords, its XMP sidecars) held when last read or written.

A photo has at most one row per kind. Its sidecars (`IMG.JPG.xmp` and the raw's
`IMG.xmp`) share the 'sidecar' row: `keywords` holds {file: [size, mtime_ns, paths]};
`file`, `size` and `mtime_ns` repeat the first file's. An 'embedded' row, and a sidecar
row from before, hold a JSON list of paths that describes the row's `file` alone. The
JSON never leaves this module: callers get {file: (size, mtime_ns, paths)}.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from photo_tagger.core.catalogue import Catalogue

KeywordPath = tuple[str, ...]
SourceState = tuple[int, int, list[KeywordPath]]  # size, mtime_ns, keywords then


def _states(file: str, size: int, mtime_ns: int, keywords: str) -> dict[str, SourceState]:
    data = json.loads(keywords)
    if isinstance(data, list):
        return {file: (size, mtime_ns, [tuple(p) for p in data])}
    return {name: (s, m, [tuple(p) for p in paths]) for name, (s, m, paths) in data.items()}


def recorded_sidecars(catalogue: Catalogue) -> dict[int, dict[str, SourceState]]:
    """Per photo, its sidecars as last read or written."""
    rows = catalogue.query(
        "SELECT photo_id, file, size, mtime_ns, keywords FROM keyword_sources WHERE kind = 'sidecar'"
    )
    return {row[0]: _states(*row[1:]) for row in rows}


def recorded_sources(catalogue: Catalogue, photo_id: int) -> dict[str, dict[str, SourceState]]:
    """The photo's sources as last read, by kind ('embedded': one file; 'sidecar': each)."""
    rows = catalogue.query(
        "SELECT kind, file, size, mtime_ns, keywords FROM keyword_sources WHERE photo_id = ?", (photo_id,)
    )
    return {row[0]: _states(*row[1:]) for row in rows}


def embedded_read(catalogue: Catalogue, photo_id: int) -> bool:
    """Whether the photo's embedded keywords were read (with reading on)."""
    return bool(catalogue.scalar(
        "SELECT 1 FROM keyword_sources WHERE photo_id = ? AND kind = 'embedded'", (photo_id,)
    ))


def record_embedded(catalogue: Catalogue, photo_id: int, file: str, state: SourceState) -> None:
    size, mtime_ns, paths = state
    with catalogue.transaction() as conn:
        conn.execute(
            "INSERT INTO keyword_sources(photo_id, kind, file, size, mtime_ns, keywords, read_at)"
            " VALUES (?, 'embedded', ?, ?, ?, ?, ?) ON CONFLICT(photo_id, kind) DO UPDATE SET"
            " file = excluded.file, size = excluded.size, mtime_ns = excluded.mtime_ns,"
            " keywords = excluded.keywords, read_at = excluded.read_at",
            (photo_id, file, size, mtime_ns, json.dumps([list(p) for p in paths], ensure_ascii=False), time.time()),
        )


def record_sidecars(catalogue: Catalogue, photo_id: int, state: dict[str, SourceState]) -> None:
    """The photo's sidecars are now `state` (none: forgotten)."""
    with catalogue.transaction() as conn:
        if not state:
            conn.execute("DELETE FROM keyword_sources WHERE photo_id = ? AND kind = 'sidecar'", (photo_id,))
            return
        first = sorted(state)[0]
        data = {name: [s, m, [list(p) for p in paths]] for name, (s, m, paths) in sorted(state.items())}
        conn.execute(
            "INSERT INTO keyword_sources(photo_id, kind, file, size, mtime_ns, keywords, read_at)"
            " VALUES (?, 'sidecar', ?, ?, ?, ?, ?) ON CONFLICT(photo_id, kind) DO UPDATE SET"
            " file = excluded.file, size = excluded.size, mtime_ns = excluded.mtime_ns,"
            " keywords = excluded.keywords, read_at = excluded.read_at",
            (photo_id, first, state[first][0], state[first][1], json.dumps(data, ensure_ascii=False), time.time()),
        )


def photos_never_read(catalogue: Catalogue) -> dict[int, str]:
    """id -> library-relative path of the indexed photos whose keywords were never read."""
    return {int(photo_id): path for photo_id, path in catalogue.query(
        "SELECT id, path FROM photos p WHERE status = 'ok' AND NOT EXISTS (SELECT 1 FROM keyword_sources k"
        " WHERE k.photo_id = p.id AND k.kind = 'embedded')"
    )}


# The two photos reads below serve keyword syncing only (candidates for store/photos.py).
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


def confirm_from_keyword(catalogue: Catalogue, photo_id: int, tag_ids: Sequence[int], source: str) -> int:
    """Confirm the tags on the photo where nobody said otherwise (only a suggestion is
    promoted; the user's confirmed or rejected row stays). Returns the rows changed.
    A photo_tags write: it joins store/opinions.py at integration."""
    applied = 0
    now = time.time()
    with catalogue.transaction() as conn:
        for tag_id in tag_ids:
            applied += conn.execute(
                "INSERT INTO photo_tags(photo_id, tag_id, state, source, updated_at)"
                " VALUES (?, ?, 'confirmed', ?, ?) ON CONFLICT(photo_id, tag_id) DO UPDATE SET"
                " state = 'confirmed', source = excluded.source, updated_at = excluded.updated_at"
                " WHERE photo_tags.state = 'suggested'",
                (photo_id, tag_id, source, now),
            ).rowcount
    return applied
