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

from photo_tagger.core.store.connection import Catalogue

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
