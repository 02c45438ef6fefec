"""Re-index benchmark: an unchanged library must be checked, not re-decoded.

Indexes a library of N small generated photos once, then times `index` again with
nothing changed (median of several runs), against the first full index in the same run.
Target: under 2 s for 1,000 photos.

    python benchmarks/reindex.py [--photos 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from photo_tagger.core.indexer import index_library
from photo_tagger.core.library import Library


def run_index(root: Path) -> tuple[float, int]:
    start = time.perf_counter()
    job = index_library(Library.open(root))
    try:
        while True:
            next(job)
    except StopIteration as done:
        return time.perf_counter() - start, done.value.indexed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="photo-tagger-reindex-"))
    rng = np.random.default_rng(0)
    for i in range(args.photos):
        folder = root / f"{2000 + i // 100}"
        folder.mkdir(exist_ok=True)
        pixels = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
        Image.fromarray(pixels).resize((320, 240)).save(folder / f"{i:05d}.jpg", quality=85)
    first, indexed = run_index(root)
    assert indexed == args.photos, indexed
    again = []
    for _ in range(args.repeats):
        seconds, redone = run_index(root)
        assert redone == 0, f"an unchanged re-index re-decoded {redone} photos"
        again.append(seconds)
    median = statistics.median(again)
    print(f"first index of {args.photos} photos: {first:.2f} s")
    print(f"unchanged re-index: median {median:.3f} s over {args.repeats} runs "
          f"({', '.join(f'{s:.3f}' for s in again)}); {first / median:.0f}x faster than the first")
    print(json.dumps({"photos": args.photos, "first_index_s": round(first, 3),
                      "reindex_median_s": round(median, 3), "ratio_vs_first": round(first / median, 1)}))


if __name__ == "__main__":
    main()
