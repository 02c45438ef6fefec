"""Helpers the robustness tests share: the installed CLI, synthetic catalogue rows, and
what a catalogue says the user confirmed."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence

from photo_tagger.core.catalogue import Catalogue

EXE = shutil.which("photo-tagger", path=os.path.dirname(sys.executable)) or "photo-tagger"


def add_synthetic_photos(cat: Catalogue, paths: Sequence[str]) -> dict[str, int]:
    """Catalogue rows for photos that need no file (tag writes never read one): path -> id."""
    with cat.transaction() as conn:
        conn.executemany(
            "INSERT INTO photos(path, size, mtime_ns, content_hash, status, added_at) VALUES (?, 1, 1, ?, 'ok', 0)",
            [(path, f"h{i}") for i, path in enumerate(paths)],
        )
    return {path: pid for pid, path in cat.query("SELECT id, path FROM photos")}


def confirmed_by_path(cat: Catalogue) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for path, name in cat.query(
        "SELECT p.path, t.name FROM photo_tags pt JOIN photos p ON p.id = pt.photo_id"
        " JOIN tags t ON t.id = pt.tag_id WHERE pt.state = 'confirmed'"
    ):
        result.setdefault(path, set()).add(name)
    return result
