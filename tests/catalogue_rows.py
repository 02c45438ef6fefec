"""Synthetic catalogue rows for fast query tests (no decoding, no model)."""

from __future__ import annotations

import time
from pathlib import Path

from photo_tagger.core.library import Library
from photo_tagger.core.scan import reconcile, walk_photos
from photo_tagger.core.store.connection import Catalogue


def scanned_library(root: Path, names: list[str]) -> tuple[Library, dict[str, int]]:
    """Real photo files (noise, 64x48) at `names` under `root`, scanned into a real catalogue
    but not embedded (no model needed): the library and each path's photo id."""
    from photos import noise_photo, save_photo

    for i, name in enumerate(names):
        save_photo(noise_photo(i, (64, 48)), root / name)
    library = Library.open(root)
    with library.connect() as cat:
        reconcile(cat, library.root, list(walk_photos(library.root)))
        return library, {path: pid for pid, path in cat.query("SELECT id, path FROM photos")}


def reviewed_library(root: Path) -> Library:
    """Three photos scanned (not embedded: no model needed), a confirmed, a rejected and
    two scored suggestions: cat.jpg is a confirmed cat and Mittens and not a dog,
    dogs/dog.jpg a suggested dog (0.9) and grass (0.3), =odd.png untagged."""
    from photo_tagger.core.tagging import ensure_tag, set_state

    library, ids = scanned_library(root, ["cat.jpg", "dogs/dog.jpg", "=odd.png"])
    with library.connect() as cat:
        set_state(cat, [ids["cat.jpg"]], ensure_tag(cat, "cat"), "confirmed")
        set_state(cat, [ids["cat.jpg"]], ensure_tag(cat, "dog"), "rejected")
        set_state(cat, [ids["cat.jpg"]], ensure_tag(cat, "Mittens"), "confirmed")
        suggest(cat, ids["dogs/dog.jpg"], "dog", 0.9)
        suggest(cat, ids["dogs/dog.jpg"], "grass", 0.3)
    return library


def catalogue_without_tags(path: Path) -> Catalogue:
    """A new catalogue without the default taxonomy's tags (nor so their synonyms), for
    tests that make every tag they use."""
    catalogue = Catalogue(path)
    with catalogue.transaction() as conn:
        conn.execute("DELETE FROM tags")
    return catalogue


def add_photo(catalogue: Catalogue, path: str, *, status: str = "ok", taken_at: str | None = None,
              error: str | None = None) -> int:
    with catalogue.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO photos(path, size, mtime_ns, content_hash, status, error, taken_at, added_at)"
            " VALUES (?, 1000, 0, ?, ?, ?, ?, ?)",
            (path, path, status, error, taken_at, time.time()),
        )
        return int(cur.lastrowid or 0)


def add_tag(catalogue: Catalogue, name: str, threshold: float = 0.5) -> int:
    with catalogue.transaction() as conn:
        cur = conn.execute("INSERT INTO tags(name, model_threshold, created_at) VALUES (?, ?, 0)", (name, threshold))
        return int(cur.lastrowid or 0)


def set_row(catalogue: Catalogue, photo_id: int, tag_id: int, state: str, score: float | None = None) -> None:
    with catalogue.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO photo_tags(photo_id, tag_id, state, score, source, updated_at)"
            " VALUES (?, ?, ?, ?, 'model', 0)",
            (photo_id, tag_id, state, score),
        )


def suggest(catalogue: Catalogue, photo_id: int, tag: str, score: float) -> None:
    """A model suggestion of `tag` (created if new) on the photo, as the indexer writes it."""
    from photo_tagger.core.tagging import ensure_tag

    with catalogue.transaction() as conn:
        conn.execute(
            "INSERT INTO photo_tags(photo_id, tag_id, state, score, source, updated_at)"
            " VALUES (?, ?, 'suggested', ?, 'model', ?)",
            (photo_id, ensure_tag(catalogue, tag), score, time.time()),
        )


def tag_path(catalogue: Catalogue, name: str) -> list[str]:
    """['Animals', 'Cat'] for the tag `name` names (its label, path or shorthand)."""
    from photo_tagger.core.tag_names import tag_paths

    return tag_paths(catalogue, [name])[name]
