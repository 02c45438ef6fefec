"""Ingest benchmark: how fast does `photo-tagger index` turn 12 MP JPEGs into embeddings?

Measures in one run, on the same generated photos:
  (a) forward limit   - images/s of the backbone alone (ONNX Runtime) at the chosen batch
  (b) decode limit    - photos/s of our one-decode step alone (draft decode -> thumbnail +
                        model input), in a thread per core
  (c) naive pipeline  - full PIL decode + resize/crop/normalise (torchvision's transforms) + torch model, batch 32,
                        one thread of Python
  (d) our pipeline    - `index_library` on a fresh library, run in a subprocess that
                        never imports torch, so its peak RSS is the app's
and prints ratios (d)/(c) and (d)/min(a, b). The last line is one JSON object.

    python benchmarks/ingest.py [--photos 200] [--batch-size 16] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

PHOTO_SIZE = (4000, 3000)


def make_camera_like_jpegs(folder: Path, count: int) -> list[Path]:
    """12 MP JPEGs with photo-like structure and sensor-like noise (~2-3 MB each)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    rng = np.random.default_rng(0)
    for i in range(count):
        path = folder / f"IMG_{i:04d}.jpg"
        paths.append(path)
        if path.exists():
            continue
        base = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
        image = Image.fromarray(base).resize(PHOTO_SIZE, Image.Resampling.BICUBIC)
        pixels = np.asarray(image, np.int16)
        pixels = pixels + rng.normal(0, 6, pixels.shape[:2] + (1,)).astype(np.int16)
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=90)
    return paths


def forward_limit(embedder, batch_size: int, seconds: float = 4.0) -> float:  # type: ignore[no-untyped-def]
    batch = np.random.default_rng(0).standard_normal((batch_size, 3, 224, 224)).astype(np.float32)
    embedder.embed(batch)  # warm-up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        embedder.embed(batch)
        done += batch_size
    return done / (time.perf_counter() - start)


def decode_limit(paths: list[Path], workers: int) -> float:
    from photo_tagger.core.backbone import get_backbone_spec, to_model_input
    from photo_tagger.core.imaging import decode_photo

    pre = get_backbone_spec().preprocessing

    def one(path: Path) -> None:
        to_model_input(decode_photo(path, pre.resize_size).model_image, pre)

    with ThreadPoolExecutor(workers) as pool:
        start = time.perf_counter()
        list(pool.map(one, paths))
        return len(paths) / (time.perf_counter() - start)


def naive_pipeline(paths: list[Path]) -> float:
    """What a first implementation does: full decode, torchvision-style transforms, torch."""
    import torch

    from photo_tagger.core.backbone import build_torch_model, get_backbone_spec

    spec = get_backbone_spec()
    pre = spec.preprocessing
    model = build_torch_model(spec)
    mean, std = torch.tensor(pre.mean).view(3, 1, 1), torch.tensor(pre.std).view(3, 1, 1)

    def transform(image: Image.Image) -> torch.Tensor:
        # torchvision's Resize(256) + CenterCrop(224) + ToTensor + Normalize, spelled out: the
        # CPU-only torch this project installs has no matching torchvision build.
        w, h = image.size
        scale = pre.resize_size / min(w, h)
        image = image.resize((round(w * scale), round(h * scale)), Image.Resampling.BILINEAR)
        left, top = (image.size[0] - pre.input_size) // 2, (image.size[1] - pre.input_size) // 2
        image = image.crop((left, top, left + pre.input_size, top + pre.input_size))
        pixels = torch.from_numpy(np.asarray(image, np.float32) / 255.0).permute(2, 0, 1)
        return (pixels - mean) / std

    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(paths), 32):
            batch = torch.stack([transform(Image.open(p).convert("RGB")) for p in paths[i : i + 32]])
            model(batch)
    return len(paths) / (time.perf_counter() - start)


def naive_in_subprocess(paths: list[Path]) -> float:
    """In its own process, like (d): torch's idle threads must not share the CPU with later runs."""
    out = subprocess.run(
        [sys.executable, __file__, "--naive-only", *map(str, paths)],
        capture_output=True, text=True, check=True, cwd=paths[0].parent,
    )
    return float(out.stdout.strip().splitlines()[-1])


PIPELINE_CHILD = """
import json, sys, time
from pathlib import Path
from photo_tagger.core.indexer import index_library
from photo_tagger.core.library import Library

def peak_rss_mb():
    # VmHWM belongs to this program's memory; ru_maxrss would count the parent's, from fork.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

library = Library.open(Path(sys.argv[1]))
job = index_library(library, batch_size=int(sys.argv[2]), workers=int(sys.argv[3]))
try:
    while True:
        next(job)
except StopIteration as done:
    summary = done.value
print(json.dumps({"photos": summary.indexed, "seconds": summary.seconds,
                  "torch_imported": "torch" in sys.modules,
                  "peak_rss_mb": peak_rss_mb()}))
"""


def our_pipeline(folder: Path, batch_size: int, workers: int) -> dict:
    catalogue = folder / ".photo-tagger"
    if catalogue.exists():
        import shutil

        shutil.rmtree(catalogue)
    out = subprocess.run(
        [sys.executable, "-c", PIPELINE_CHILD, str(folder), str(batch_size), str(workers)],
        capture_output=True, text=True, check=True, cwd=folder,  # not the repo: see sys.path
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if sys.argv[1:2] == ["--naive-only"]:
        print(naive_pipeline([Path(p) for p in sys.argv[2:]]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each measurement (median)")
    parser.add_argument("--naive-photos", type=int, default=64, help="photos per naive run (its rate is steady)")
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "photo-tagger-bench-12mp")
    args = parser.parse_args()

    from photo_tagger.core.backbone import load_embedder

    print(f"generating {args.photos} 12 MP JPEGs in {args.folder} ...", flush=True)
    paths = make_camera_like_jpegs(args.folder, args.photos)
    embedder = load_embedder()  # exports/caches the ONNX model before anything is timed
    print(f"backbone runtime: {embedder.runtime}")

    pipeline_runs, forward_runs, decode_runs, naive_runs = [], [], [], []
    naive_paths = paths[: args.naive_photos]  # the naive rate is steady; 200 photos would take a minute
    for _ in range(args.repeats):  # interleaved: the machine's slow periods hit all alike
        forward_runs.append(forward_limit(embedder, args.batch_size))
        decode_runs.append(decode_limit(paths, args.workers))
        pipeline_runs.append(our_pipeline(args.folder, args.batch_size, args.workers))
        naive_runs.append(naive_in_subprocess(naive_paths))
    naive = statistics.median(naive_runs)

    forward = statistics.median(forward_runs)
    decode = statistics.median(decode_runs)
    pipeline = statistics.median(r["photos"] / r["seconds"] for r in pipeline_runs)
    peak_rss = max(r["peak_rss_mb"] for r in pipeline_runs)
    limit = min(forward, decode)
    print(f"(a) forward limit  {forward:7.1f} images/s  (batch {args.batch_size}, {embedder.runtime})")
    print(f"(b) decode limit   {decode:7.1f} photos/s  ({args.workers} threads)")
    print(f"(c) naive          {naive:7.1f} photos/s  (full decode + PIL transforms + torch, batch 32; "
          f"median of {args.repeats} on {len(naive_paths)} photos)")
    print(f"(d) our pipeline   {pipeline:7.1f} photos/s  (median of {args.repeats}; runs "
          + ", ".join(f"{r['photos'] / r['seconds']:.1f}" for r in pipeline_runs) + ")")
    print(f"(d)/(c) = {pipeline / naive:.1f}x naive   (d)/min(a,b) = {pipeline / limit:.0%} of the limit")
    print(f"peak RSS of the pipeline process: {peak_rss:.0f} MB "
          f"(torch imported: {any(r['torch_imported'] for r in pipeline_runs)})")
    print(json.dumps({
        "photos": args.photos,
        "forward_limit_photos_per_s": round(forward, 2),
        "decode_limit_photos_per_s": round(decode, 2),
        "naive_photos_per_s": round(naive, 2),
        "pipeline_photos_per_s": round(pipeline, 2),
        "ratio_vs_naive": round(pipeline / naive, 2),
        "ratio_vs_limit": round(pipeline / limit, 3),
        "peak_rss_mb": round(peak_rss, 1),
    }))


if __name__ == "__main__":
    main()
