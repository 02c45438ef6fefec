"""Re-index benchmark: an unchanged library must be checked, not re-decoded.

Indexes a library of N small generated photos once, then times `index` again with nothing
changed (median of several runs). A re-index must at least list the folders and stat every
file; its comparable baseline is that floor, `os.walk` + `stat` of the same files, timed in
the same run (median of as many runs). The first index decodes and embeds every photo, a
different task: its time is reported for scale, not divided by. Target: under 2 s for
1,000 photos. The last line is one JSON object.

    python benchmarks/reindex.py [--photos 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from photo_tagger.core.indexer import index_library
from photo_tagger.core.library import Library
from photo_tagger.core.progress import run_to_end


def run_index(root: Path) -> tuple[float, int]:
    start = time.perf_counter()
    summary = run_to_end(index_library(Library.open(root)))
    return time.perf_counter() - start, summary.indexed


def walk_and_stat(root: Path) -> tuple[float, int]:
    """The floor of any re-index: list every folder and stat every file (the catalogue too)."""
    start = time.perf_counter()
    files = 0
    for folder, _, names in os.walk(root):
        for name in names:
            os.stat(os.path.join(folder, name))
            files += 1
    return time.perf_counter() - start, files


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
    again, floor = [], []
    for _ in range(args.repeats):  # interleaved: the machine's slow periods hit both alike
        seconds, redone = run_index(root)
        assert redone == 0, f"an unchanged re-index re-decoded {redone} photos"
        again.append(seconds)
        floor.append(walk_and_stat(root)[0])
    median, floor_median = statistics.median(again), statistics.median(floor)
    per_photo_ms = median / args.photos * 1000
    print(f"first index of {args.photos} photos (decode + embed, for scale): {first:.2f} s")
    print(f"unchanged re-index: median {median:.3f} s over {args.repeats} runs "
          f"({', '.join(f'{s:.3f}' for s in again)}), {per_photo_ms:.3f} ms per photo")
    print(f"floor, os.walk + stat of the same files: median {floor_median * 1000:.1f} ms; "
          f"the re-index takes {median / floor_median:.1f}x the floor")
    print(json.dumps({"photos": args.photos, "first_index_s": round(first, 3),
                      "reindex_median_s": round(median, 3), "reindex_ms_per_photo": round(per_photo_ms, 4),
                      "walk_stat_floor_median_s": round(floor_median, 4),
                      "reindex_ratio_vs_floor": round(median / floor_median, 1),
                      "meets_reindex_under_2_s": median < 2.0}))


if __name__ == "__main__":
    main()
