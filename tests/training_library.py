"""Libraries to learn from: random crops/flips of scikit-image's sample photos run through
the real backbone, written to a real catalogue the way the indexer stores them (skipping
decoding keeps these tests fast), and corrections made through the core's writers like the app's."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from photos import sample_photo
from PIL import Image, ImageOps

from photo_tagger.core import service
from photo_tagger.core.backbone import to_model_input
from photo_tagger.core.library import Library
from photo_tagger.core.store import opinions
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.suggest import encode_vector
from photo_tagger.core.tag_names import find_tag
from photo_tagger.core.tagging import ensure_tag, set_state


def replace_confirmed_tags(catalogue: Catalogue, photo_id: int, tag_ids: list[int], source: str = "import") -> None:
    """Make `tag_ids` this photo's confirmed truth, as a complete import would: every other
    tag the photo has a suggested or confirmed row for becomes rejected, the photo reviewed."""
    wanted = set(tag_ids)
    with catalogue.transaction():
        held = [tag_id for (tag_id,) in catalogue.conn.execute(
            "SELECT tag_id FROM photo_tags WHERE photo_id = ? AND state != 'rejected'", (photo_id,))]
        opinions.set_state(catalogue, [(photo_id, t) for t in held if t not in wanted], "rejected", source)
        opinions.set_state(catalogue, [(photo_id, t) for t in wanted], "confirmed", source)
        opinions.mark_reviewed(catalogue, [photo_id])


SOURCES = {"astronaut": 5, "chelsea": 5, "coffee": 5, "rocket": 4, "camera": 4}


def variants(name: str, count: int, seed: int) -> list[Image.Image]:
    image = sample_photo(name).convert("RGB")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        w, h = image.size
        cw, ch = int(w * rng.uniform(0.7, 0.95)), int(h * rng.uniform(0.7, 0.95))
        left, top = int(rng.integers(0, w - cw)), int(rng.integers(0, h - ch))
        crop = image.crop((left, top, left + cw, top + ch))
        out.append(ImageOps.mirror(crop) if rng.random() < 0.5 else crop)
    return out


def embed_variants(embedder) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """The embeddings of each source's variants (SOURCES says how many), per source."""
    pre = embedder.spec.preprocessing
    result = {}
    for seed, (name, count) in enumerate(SOURCES.items()):
        batch = np.stack([to_model_input(im, pre) for im in variants(name, count, seed)])
        result[name] = embedder.embed(batch)[0]
    return result


def add_photos(library: Library, embeddings: dict[str, np.ndarray], folder: str = "") -> dict[str, list[int]]:
    """Photo rows + embeddings as the indexer writes them; returns ids per source."""
    key = service.current_backbone_key()
    ids: dict[str, list[int]] = {}
    with library.connect() as catalogue, catalogue.transaction() as conn:
        for name, vectors in embeddings.items():
            for i, vector in enumerate(vectors):
                cur = conn.execute(
                    "INSERT INTO photos(path, size, mtime_ns, content_hash, status, added_at, indexed_at)"
                    " VALUES (?, 1, 0, ?, 'ok', ?, ?)",
                    (f"{folder}{name}/{i}.jpg", f"{folder}{name}{i}", time.time(), time.time()),
                )
                conn.execute("INSERT INTO embeddings(photo_id, backbone, vector) VALUES (?, ?, ?)",
                             (cur.lastrowid, key, encode_vector(vector)))
                ids.setdefault(name, []).append(int(cur.lastrowid or 0))
    return ids


def corrected_library(root: Path, embeddings: dict[str, np.ndarray]) -> tuple[Library, dict[str, list[int]]]:
    """A library of `embeddings` (from embed_variants) where the user taught a new tag,
    "Eileen", on 3 of 5 astronaut photos and reviewed all but one photo of each other
    source (their tag sets are complete); and its photo ids per source."""
    root.mkdir()
    library = Library.open(root)
    ids = add_photos(library, embeddings)
    with library.connect() as catalogue:
        eileen = ensure_tag(catalogue, "Eileen")
        cat, coffee = find_tag(catalogue, "cat"), find_tag(catalogue, "coffee")
        set_state(catalogue, ids["astronaut"][:3], eileen, "confirmed")
        for name, tags in (("chelsea", [cat]), ("coffee", [coffee]), ("rocket", []), ("camera", [])):
            for photo_id in ids[name][:-1]:
                replace_confirmed_tags(catalogue, photo_id, tags)
    return library, ids
