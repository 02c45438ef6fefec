"""Ingest benchmark: how fast does `photo-tagger index` turn 12 MP JPEGs into embeddings?

A ladder first: the same task on every rung (decode, one view at the backbone's input size, one embedding), one
change per rung, each in its own process, photos/s and the ratio to the naive rung:
  naive    full PIL decode + resize/crop/normalise + torch eager (default threads), batch 32
  draft    + draft decode (JPEG DCT scaling to >= the resize size), same torch model
  onnx     + ONNX Runtime instead of torch (2 intra-op threads), batch 16
  threads  + decode in a thread per core, overlapped with ONNX Runtime (1 intra-op thread)
Then the app's indexer, which does more per photo (thumbnail, two views, face detection,
catalogue writes), against its limits measured in the same run:
  (a) forward limit   - images/s of the backbone alone (ONNX Runtime) at the chosen batch
  (b) decode limit    - photos/s of our one-decode step alone (draft decode -> thumbnail +
                        model input), in a thread per core
  (c) CPU bound       - cores / the CPU ms per photo of all the indexer's stages on one thread
                        (ingest_work.indexer_stage_costs; each stage's figure is printed): what
                        perfect overlap on every core would reach. (a) and (b) share the same
                        cores and leave out work, so min(a, b) is no bound the indexer could reach
  (d) our pipeline    - `index_library` on a fresh library, run in a subprocess that
                        never imports torch, so its peak RSS is the app's; its CPU time too
And the same work as the indexer's done the naive way (ingest_work.naive_same_work: full decode,
PIL resizes, torch eager backbone on both views, MTCNN in torch eager; no catalogue writes), so
(d) has a like-for-like baseline beside the one-view ladder; it runs again with torch on one
thread, which a busy machine slows far less than torch's default threads (they wait for each other).
Every measurement is repeated (--repeats, interleaved) and the median quoted. The last line
is one JSON object. torch eager with its default threads slows down many times over when
another process keeps the cores busy, so the naive figures are only worth quoting from a quiet
machine.

    python benchmarks/ingest.py [--photos 200] [--ladder-photos 64] [--batch-size 16] [--workers 2]
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
from ingest_work import NAIVE_SAME_WORK, STAGES, centre_input, indexer_stage_costs, naive_same_work
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
    size = embedder.spec.preprocessing.input_size
    batch = np.random.default_rng(0).standard_normal((batch_size, 3, size, size)).astype(np.float32)
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


# The ladder: the same task on every rung (decode a 12 MP JPEG, one centre crop at the input size, one
# embedding; no thumbnail, faces or catalogue), one change per rung, so each win shows alone.
RUNGS = {
    "naive": "full PIL decode + resize/crop/normalise, torch eager (its default threads), batch 32",
    "draft": "+ draft decode (JPEG DCT scaling to >= the resize size), same torch model",
    "onnx": "+ ONNX Runtime instead of torch (2 intra-op threads), batch 16",
    "threads": f"+ decode in a pool of {os.cpu_count() or 2} threads overlapped with ONNX Runtime (1 intra-op thread)",
}


def _model_input(path: Path, draft: bool, pre) -> np.ndarray:  # type: ignore[no-untyped-def]
    with Image.open(path) as image:
        if draft:
            image.draft("RGB", (pre.resize_size, pre.resize_size))
        image = image.convert("RGB")
    return centre_input(image, pre)


def run_rung(rung: str, paths: list[Path]) -> float:
    """Photos/s of one rung of the ladder (in its own process: see rung_in_subprocess)."""
    from photo_tagger.core.backbone import get_backbone_spec

    spec = get_backbone_spec()
    pre = spec.preprocessing
    draft = rung != "naive"
    if rung in ("naive", "draft"):
        import torch

        from photo_tagger.core.backbone import build_torch_model

        model = build_torch_model(spec)
        model(torch.zeros(32, 3, pre.input_size, pre.input_size))  # warm-up at the batch shape, untimed
        start = time.perf_counter()
        with torch.no_grad():
            for i in range(0, len(paths), 32):
                model(torch.from_numpy(np.stack([_model_input(p, draft, pre) for p in paths[i : i + 32]])))
        return len(paths) / (time.perf_counter() - start)
    from photo_tagger.core.backbone import load_embedder

    threads = rung == "threads"
    embedder = load_embedder(intra_op_threads=1 if threads else 2)
    embedder.embed(np.zeros((16, 3, pre.input_size, pre.input_size), np.float32))  # warm-up, untimed
    start = time.perf_counter()
    if threads:
        with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
            inputs = pool.map(lambda p: _model_input(p, True, pre), paths)  # decodes run ahead
            batch: list[np.ndarray] = []
            for array in inputs:
                batch.append(array)
                if len(batch) == 16:
                    embedder.embed(np.stack(batch))
                    batch = []
            if batch:
                embedder.embed(np.stack(batch))
    else:
        for i in range(0, len(paths), 16):
            embedder.embed(np.stack([_model_input(p, True, pre) for p in paths[i : i + 16]]))
    return len(paths) / (time.perf_counter() - start)


def rung_in_subprocess(rung: str, paths: list[Path]) -> float:
    """In its own process: torch's idle threads must not share the CPU with later runs, and the
    ONNX rungs must not pay for torch's import."""
    out = subprocess.run(
        [sys.executable, __file__, "--rung", rung, *map(str, paths)],
        capture_output=True, text=True, check=True, cwd=paths[0].parent,
    )
    return float(out.stdout.strip().splitlines()[-1])


PIPELINE_CHILD = """
import json, os, sys, time
from pathlib import Path
from photo_tagger.core.indexer import index_library
from photo_tagger.core.library import Library
from photo_tagger.core.progress import run_to_end

def peak_rss_mb():
    # VmHWM belongs to this program's memory; ru_maxrss would count the parent's, from fork.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

library = Library.open(Path(sys.argv[1]))
before = os.times()
summary = run_to_end(index_library(library, batch_size=int(sys.argv[2]), workers=int(sys.argv[3])))
after = os.times()
cpu_seconds = after.user + after.system - before.user - before.system
print(json.dumps({"photos": summary.indexed, "seconds": summary.seconds, "cpu_seconds": cpu_seconds,
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


def stage_costs_in_subprocess(paths: list[Path], batch_size: int) -> dict[str, float]:
    """In its own process, which never imports torch, like the app's."""
    with tempfile.TemporaryDirectory(prefix="photo-tagger-stages-") as work:
        out = subprocess.run(
            [sys.executable, __file__, "--stages", work, str(batch_size), *map(str, paths)],
            capture_output=True, text=True, check=True, cwd=paths[0].parent,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(argv: list[str]) -> None:
    if argv[0] == "--rung" and argv[1].startswith("naive_same_work"):
        if argv[1] == "naive_same_work_one_thread":
            import torch

            torch.set_num_threads(1)
        print(naive_same_work([Path(p) for p in argv[2:]]))
    elif argv[0] == "--rung":
        print(run_rung(argv[1], [Path(p) for p in argv[2:]]))
    else:  # --stages WORK BATCH PATHS...
        print(json.dumps(indexer_stage_costs([Path(p) for p in argv[3:]], Path(argv[1]), int(argv[2]))))


def main() -> None:
    if sys.argv[1:2] in (["--rung"], ["--stages"]):
        child(sys.argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each measurement (median)")
    parser.add_argument("--ladder-photos", type=int, default=64,
                        help="photos per ladder run (the naive rung is slow and its rate steady)")
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "photo-tagger-bench-12mp")
    args = parser.parse_args()

    from photo_tagger.core.backbone import load_embedder

    print(f"generating {args.photos} 12 MP JPEGs in {args.folder} ...", flush=True)
    paths = make_camera_like_jpegs(args.folder, args.photos)
    embedder = load_embedder()  # exports/caches the ONNX model before anything is timed
    print(f"backbone runtime: {embedder.runtime}")

    pipeline_runs, forward_runs, decode_runs, same_work_runs, same_work_one_thread_runs = [], [], [], [], []
    stage_runs: list[dict[str, float]] = []
    ladder_runs: dict[str, list[float]] = {rung: [] for rung in RUNGS}
    ladder_paths = paths[: args.ladder_photos]
    for _ in range(args.repeats):  # interleaved: the machine's slow periods hit all alike
        forward_runs.append(forward_limit(embedder, args.batch_size))
        decode_runs.append(decode_limit(paths, args.workers))
        pipeline_runs.append(our_pipeline(args.folder, args.batch_size, args.workers))
        for rung, runs in ladder_runs.items():
            runs.append(rung_in_subprocess(rung, ladder_paths))
        same_work_runs.append(rung_in_subprocess("naive_same_work", ladder_paths))
        same_work_one_thread_runs.append(rung_in_subprocess("naive_same_work_one_thread", ladder_paths))
        stage_runs.append(stage_costs_in_subprocess(ladder_paths, args.batch_size))
    ladder = {rung: statistics.median(runs) for rung, runs in ladder_runs.items()}
    naive = ladder["naive"]
    same_work = statistics.median(same_work_runs)
    same_work_one_thread = statistics.median(same_work_one_thread_runs)
    stages = {stage: statistics.median(run[stage] for run in stage_runs) for stage in STAGES}
    cores = os.cpu_count() or 2
    cpu_bound = 1000 * cores / sum(stages.values())

    forward = statistics.median(forward_runs)
    decode = statistics.median(decode_runs)
    pipeline = statistics.median(r["photos"] / r["seconds"] for r in pipeline_runs)
    peak_rss = max(r["peak_rss_mb"] for r in pipeline_runs)
    pipeline_cpu_ms = statistics.median(1000 * r["cpu_seconds"] / r["photos"] for r in pipeline_runs)
    cores_used = statistics.median(r["cpu_seconds"] / r["seconds"] for r in pipeline_runs)
    limit = min(forward, decode)
    print(f"ladder: decode + one view + embedding of {len(ladder_paths)} photos, median of {args.repeats} runs each")
    for rung, rate in ladder.items():
        runs = ", ".join(f"{r:.1f}" for r in ladder_runs[rung])
        print(f"  {rung:<8} {rate:6.1f} photos/s  {rate / naive:5.1f}x naive  ({RUNGS[rung]}; runs {runs})")
    print(f"the app's indexer (index_library: draft decode, thumbnail, two views, face detection, catalogue writes;"
          f" {args.workers} decode threads, batch {args.batch_size}):")
    print(f"  (a) forward limit  {forward:7.1f} images/s  (batch {args.batch_size}, {embedder.runtime})")
    print(f"  (b) decode limit   {decode:7.1f} photos/s  ({args.workers} threads)")
    print(f"  (d) our pipeline   {pipeline:7.1f} photos/s  (median of {args.repeats}; runs "
          + ", ".join(f"{r['photos'] / r['seconds']:.1f}" for r in pipeline_runs) + ")")
    print(f"  (d)/naive = {pipeline / naive:.1f}x (more work per photo than the ladder)   "
          f"(d)/min(a,b) = {pipeline / limit:.0%} (a and b share the cores, and b leaves out faces, a view and writes)")
    print(f"  peak RSS of the pipeline process: {peak_rss:.0f} MB "
          f"(torch imported: {any(r['torch_imported'] for r in pipeline_runs)})")
    print(f"the indexer's work per photo, stage by stage: CPU ms on one thread, median of {args.repeats}"
          f" ({len(ladder_paths)} photos; the app's functions, ONNX Runtime on one thread):")
    print("  " + ", ".join(f"{stage} {ms:.1f}" for stage, ms in stages.items())
          + f"; sum {sum(stages.values()):.1f} ms")
    print(f"  (c) CPU bound      {cpu_bound:7.1f} photos/s  ({cores} cores / the sum: no overlap can beat it)")
    print(f"  (d)/(c) = {pipeline / cpu_bound:.0%}; the pipeline process spent {pipeline_cpu_ms:.1f} CPU ms per photo"
          f" ({cores_used:.2f} cores busy on average, start-up and scan included)")
    print(f"the same work done naively ({NAIVE_SAME_WORK}), {len(ladder_paths)} photos:")
    print(f"  naive, same work   {same_work:7.1f} photos/s  (median of {args.repeats}; runs "
          + ", ".join(f"{r:.1f}" for r in same_work_runs) + ")")
    print(f"  (d)/naive same work = {pipeline / same_work:.1f}x   (d)/naive one-view rung = {pipeline / naive:.1f}x")
    print(f"  naive, same work, torch on one thread  {same_work_one_thread:7.1f} photos/s  (runs "
          + ", ".join(f"{r:.1f}" for r in same_work_one_thread_runs) + "): where another process keeps the cores"
          f" busy, torch's default threads wait for each other, so this is the steadier baseline:"
          f" (d)/it = {pipeline / same_work_one_thread:.1f}x")
    print(json.dumps({
        "photos": args.photos,
        "ladder_photos": len(ladder_paths),
        **{f"ladder_{rung}_photos_per_s": round(rate, 2) for rung, rate in ladder.items()},
        **{f"ladder_{rung}_ratio_vs_naive": round(rate / naive, 2) for rung, rate in ladder.items() if rung != "naive"},
        "forward_limit_photos_per_s": round(forward, 2),
        "decode_limit_photos_per_s": round(decode, 2),
        "pipeline_photos_per_s": round(pipeline, 2),
        "pipeline_ratio_vs_naive": round(pipeline / naive, 2),
        "pipeline_ratio_vs_limit": round(pipeline / limit, 3),
        "peak_rss_mb": round(peak_rss, 1),
        "naive_same_work_photos_per_s": round(same_work, 2),
        "pipeline_ratio_vs_naive_same_work": round(pipeline / same_work, 2),
        "naive_same_work_one_thread_photos_per_s": round(same_work_one_thread, 2),
        "pipeline_ratio_vs_naive_same_work_one_thread": round(pipeline / same_work_one_thread, 2),
        **{f"stage_{stage}_cpu_ms_per_photo": round(ms, 2) for stage, ms in stages.items()},
        "cpu_bound_photos_per_s": round(cpu_bound, 2),
        "pipeline_ratio_vs_cpu_bound": round(pipeline / cpu_bound, 3),
        "pipeline_cpu_ms_per_photo": round(pipeline_cpu_ms, 1),
        "pipeline_cores_used": round(cores_used, 2),
    }))


if __name__ == "__main__":
    main()
