"""What the linked-keyword rule costs the grid and the tag panel as keyword tags pile up.

A built-in tag is not suggested on a photo where a keyword tag linked to it is confirmed (a
sidecar's `Winter` -> snow; store/opinions.py). Every read of "suggested" checks that, so
this measures, on a synthetic catalogue of `--photos` photos with 58 suggestion rows each
(benchmarks/scale.py's), the two reads that run most:

  selection counts  the tag panel's counts for 1,000 selected photos
  grid block        the tag rows of 100 photos, as the grid fetches them while scrolling

with 20, 200 and 2,000 keyword tags, each linked to a random built-in tag and confirmed on
20 random photos. Medians of 5 (counts) and 10 (blocks) reads.

    python benchmarks/linked_keywords.py [--photos 20000]

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scale import build

from photo_tagger.core.library import Library
from photo_tagger.core.store import opinions

LINK_COUNTS = (20, 200, 2000)
PHOTOS_PER_KEYWORD = 20


def link_keywords(db: Path, count: int, photos: int, rng: np.random.Generator) -> None:
    """Replace the catalogue's keyword tags with `count` new ones, each linked to a built-in."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        builtins = [row[0] for row in conn.execute("SELECT id FROM tags WHERE origin = 'taxonomy'")]
        conn.execute("DELETE FROM tags WHERE origin = 'import'")  # photo_tags rows go with them
        for k in range(count):
            cur = conn.execute("INSERT INTO tags(name, origin, created_at, link_id) VALUES (?, 'import', 0, ?)",
                               (f"keyword {k}", int(rng.choice(builtins))))
            chosen = rng.choice(photos, PHOTOS_PER_KEYWORD, replace=False) + 1
            conn.executemany("INSERT OR IGNORE INTO photo_tags(photo_id, tag_id, state, source, updated_at)"
                             " VALUES (?, ?, 'confirmed', 'keywords', 0)", [(int(p), cur.lastrowid) for p in chosen])


def median_ms(read: Callable[[int], object], repeats: int) -> float:
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        read(i)
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=20_000)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    figures: dict[str, float] = {"photos": args.photos}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "library"
        build(root, args.photos)
        library = Library.open(root)
        selected = list(range(1, 1001))
        for count in LINK_COUNTS:
            link_keywords(library.catalogue_path, count, args.photos, rng)
            with library.connect() as catalogue:
                counts = median_ms(lambda _: opinions.selection_counts(catalogue, selected), 5)
                block = median_ms(lambda i: opinions.photo_opinions(catalogue, list(range(1 + i * 100, 101 + i * 100))),
                                  10)
            print(f"{count:>5} linked keyword tags: selection counts (1,000 photos) {counts:7.1f} ms,"
                  f" grid block (100 photos) {block:5.2f} ms", flush=True)
            figures[f"selection_counts_ms_{count}_links"] = counts
            figures[f"grid_block_ms_{count}_links"] = block
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
