"""Tag quality on real photos: the app's suggestions vs complete COCO labels.

What it measures, on /work/shared/devset (559 COCO 2017 photos, ~640 px on the long side, with
the complete set of COCO-80 classes in each; see its README):

1. Zero-shot: a temporary library whose photos are symlinks to the devset images is indexed
   through `service.index` (the path `photo-tagger index` takes). Each COCO class is mapped to
   the tag a user would use (COCO_TO_TAG, benchmarks/coco.py) and resolved against the catalogue's tags by
   name or synonym, case-insensitively. Every photo is scored by the current model
   (`service.score_all_photos`, the scores `export --scores` writes). Reported: AP per class
   (sklearn's average_precision_score; a class whose tag does not exist or has no score has
   AP 0), mAP over classes with >= 3 photos, frequency-weighted mAP, person AP, precision /
   recall / F1 at each tag's effective threshold (user threshold, else the model's), micro
   P/R/F1 over all mapped classes, and photos with no suggestion at threshold.
2. After corrections: photos are split in halves by sha1 of their path; the complete truth of
   the first half (mapped tag names) is imported with `photo-tagger import LIB FILE.csv` and
   `photo-tagger train LIB` is run (both as subprocesses: the CLI contract is measured). mAP
   and person AP on the second half.
3. Learning curve: after 10/25/50/100/250 corrected photos (5 random sets per step, fixed
   seeds, drawn from the first half), each on a fresh copy of the zero-shot catalogue,
   imported and trained with the core functions; mean and worst mAP on the second half next
   to the zero-shot mAP on the same half.
4. Cost: index wall time per photo; decode, backbone and scoring per photo measured apart
   (one thread, on a sample) since the indexer overlaps decoding with the backbone.

Nothing is copied: the library holds symlinks (the scanner follows symlinked files) and is
deleted at the end unless --keep DIR.

    python benchmarks/quality.py [--devset PATH] [--keep DIR] [--skip-train] [--skip-curve]
                                 [--curve-sizes 10,25,50,100,250] [--curve-sets 5]

The last line is one JSON object.

Measured 2026-12-06 on the 2-core VM (AMD EPYC, no GPU), today's taxonomy (151 tags) and the
prior head; whole run 20-40 s wall depending on the VM's load (index 4-9 s, import + train
  through the CLI 3 s, curve of 25 trainings 12-30 s):
  index 6.6-16 ms/photo wall (559 photos, 0 errors; devset photos are ~640 px, 0.27 MP, so
  this is ~5x cheaper than 12 MP camera JPEGs, see ingest.py); one thread, no overlap: decode
  4-7 ms, backbone 5-8 ms, scoring 0.1 ms per photo.
  Zero-shot over all 80 classes: mAP 0.248, frequency-weighted 0.213, person AP 0 (no score);
  34 classes have no tag at all, 39 score AP 0 (+ person, cake, giraffe: tags without an
  ImageNet class; frisbee, surfboard: tags made from the photos' own Flickr keywords).
  Micro at threshold: precision 0.780, recall 0.080, F1 0.145; 84 of 559 photos get no
  suggestion. Worst tagged classes: backpack 0.089, sofa 0.126, handbag 0.134, phone 0.146,
  potted plant 0.151, vase 0.191, truck 0.210, clock 0.218, bottle 0.238, chair 0.243.
  After importing the complete truth of 285 photos and `photo-tagger train` (0.8-1.6 s, head
  activated without --force): second-half mAP 0.252 -> 0.459, person AP 0 -> 0.964 (precision
  0.856, recall 0.976 at its threshold); micro P/R/F1 0.396 / 0.628 / 0.486 (77 classes
  with >= 3 photos in the second half).
  Learning curve (second half, 274 photos, zero-shot 0.252), mean [worst] of 5 sets:
  10: 0.258 [0.249]  25: 0.270 [0.266]  50: 0.290 [0.267]  100: 0.350 [0.314]  250: 0.456 [0.447]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from coco import COCO_TO_TAG
from sklearn.metrics import average_precision_score

from photo_tagger.core import service
from photo_tagger.core.errors import UserError
from photo_tagger.core.library import Library
from photo_tagger.core.progress import run_to_end
from photo_tagger.core.store import opinions, photos
from photo_tagger.core.store.tags import all_labels, builtin_named

DEFAULT_DEVSET = Path(__file__).resolve().parents[1].parent / "shared/devset"
MIN_PHOTOS = 3  # classes with fewer photos (in the evaluated set) are left out of mAP



@dataclass
class ClassResult:
    coco: str
    tag: str  # the catalogue tag it resolved to, "" when none
    photos: int
    ap: float
    scored: bool
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp + self.fp + self.fn else float("nan")


# -- the library ---------------------------------------------------------------------


def read_labels(devset: Path) -> dict[str, set[str]]:
    with open(devset / "labels.csv", newline="", encoding="utf-8") as fh:
        rows = {row["path"]: {t.strip() for t in row["tags"].split(";") if t.strip()} for row in csv.DictReader(fh)}
    unknown = {t for tags in rows.values() for t in tags} - COCO_TO_TAG.keys()
    if unknown:
        raise SystemExit(f"labels.csv has classes the mapping lacks: {sorted(unknown)}")
    return rows


def make_library(devset: Path, labels: dict[str, set[str]], root: Path) -> Library:
    """Symlink every labelled photo into `root` at its devset-relative path."""
    for rel in labels:
        link = root / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to((devset / rel).resolve())
    return Library.open(root)


def index_library(library: Library) -> tuple[service.IndexSummary, float]:
    start = time.perf_counter()
    summary = run_to_end(service.index(library))
    return summary, time.perf_counter() - start


def snapshot(source: Path, target: Path) -> None:
    """A consistent copy of a (WAL) catalogue via SQLite's backup API."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


# -- scores and metrics ---------------------------------------------------------------


def resolve_tags(library: Library) -> dict[str, str]:
    """COCO class -> the label of the built-in tag its mapped name is (by name or synonym), if
    any. The built-in one: the photos' own Flickr keywords make tags of their own (a root
    `cat` beside `animal|cat`), which the model does not score; the label is then the path."""
    with library.connect() as catalogue:
        label = all_labels(catalogue)
        found = {coco: builtin_named(catalogue, name) for coco, name in COCO_TO_TAG.items()}
    return {coco: label[tag_id] for coco, tag_id in found.items() if tag_id is not None}


def score_table(library: Library) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """(path -> tag -> probability for every embedded photo, tag -> effective threshold)."""
    scores = service.score_all_photos(library)
    with library.connect() as catalogue:
        paths = dict(photos.all_paths(catalogue))
        thresholds = opinions.effective_thresholds(catalogue)
        label = all_labels(catalogue)
    by_path = {paths[pid]: tag_scores for pid, tag_scores in scores.items()}
    folded = {label[tag_id].casefold(): float(value) for tag_id, value in thresholds.items()}
    return by_path, folded


def evaluate(
    photos: list[str],
    labels: dict[str, set[str]],
    scores: dict[str, dict[str, float]],
    thresholds: dict[str, float],
    resolved: dict[str, str],
) -> list[ClassResult]:
    results = []
    for coco in COCO_TO_TAG:
        truth = np.array([coco in labels[p] for p in photos])
        tag = resolved.get(coco, "")
        column = np.array([scores.get(p, {}).get(tag, np.nan) if tag else np.nan for p in photos], np.float64)
        scored = bool(np.isfinite(column).any())
        result = ClassResult(coco, tag, int(truth.sum()), 0.0, scored)
        if scored and truth.any():
            filled = np.where(np.isfinite(column), column, -1.0)  # an unscored photo ranks last
            result.ap = float(average_precision_score(truth, filled))
        predicted = np.isfinite(column) & (column >= thresholds.get(tag.casefold(), np.inf))
        result.tp = int((predicted & truth).sum())
        result.fp = int((predicted & ~truth).sum())
        result.fn = int((~predicted & truth).sum())
        results.append(result)
    return results


def mean_ap(results: Iterable[ClassResult], weighted: bool = False) -> float:
    counted = [r for r in results if r.photos >= MIN_PHOTOS]
    if not counted:
        return float("nan")
    weights = [r.photos if weighted else 1 for r in counted]
    return sum(r.ap * w for r, w in zip(counted, weights, strict=True)) / sum(weights)


def person_ap(results: list[ClassResult]) -> float:
    return next(r.ap for r in results if r.coco == "person")


def micro(results: list[ClassResult]) -> tuple[float, float, float]:
    tp, fp, fn = (sum(getattr(r, k) for r in results) for k in ("tp", "fp", "fn"))
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    return precision, recall, 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")


def photos_without_suggestion(library: Library) -> int:
    """Photos the app shows no suggestion for: no suggested tag at or above its threshold."""
    with library.connect() as catalogue:
        suggested = {photo_id for photo_id, _, confirmed in opinions.effective_opinions(catalogue) if not confirmed}
        rows = photos.photo_rows(catalogue, [photo_id for photo_id, _ in photos.all_paths(catalogue)])
    return sum(1 for row in rows if row.status == "ok" and row.id not in suggested)


def keyword_tags(library: Library) -> tuple[int, int]:
    """(tags, photos) confirmed from keywords embedded in the photos or their sidecars."""
    with library.connect() as catalogue:
        row = catalogue.query("SELECT count(*), count(DISTINCT photo_id) FROM photo_tags WHERE source = 'keywords'")
    return int(row[0][0]), int(row[0][1])


def _fmt(value: float, digits: int = 3) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def print_table(results: list[ClassResult]) -> None:
    print(f"{'class':<15} {'tag':<15} {'photos':>6} {'AP':>6} {'P@thr':>6} {'R@thr':>6} {'F1@thr':>6}")
    for r in sorted(results, key=lambda r: (-r.photos, r.coco)):
        tag = r.tag or "(no tag)"
        tag = tag if r.scored or not r.tag else tag + "*"
        print(f"{r.coco:<15} {tag:<15} {r.photos:>6} {r.ap:>6.3f} {_fmt(r.precision):>6} "
              f"{_fmt(r.recall):>6} {_fmt(r.f1):>6}")
    print("(* tag exists but has no score; (no tag): no tag of that name or synonym)")


# -- corrections ------------------------------------------------------------------------


def split_halves(photos: Iterable[str]) -> tuple[list[str], list[str]]:
    """(train half, test half) by sha1 of the relative path: stable across runs and machines."""
    first, second = [], []
    for p in sorted(photos):
        (first if hashlib.sha1(p.encode()).digest()[-1] % 2 == 0 else second).append(p)
    return first, second


def write_truth(path: Path, photos: list[str], labels: dict[str, set[str]], resolved: dict[str, str]) -> None:
    """A user's CSV of the photos' complete truth, naming the built-in tags as the app does."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "tags"])
        for p in photos:
            writer.writerow([p, ";".join(sorted(resolved.get(c, COCO_TO_TAG[c]) for c in labels[p]))])


def active_head(library: Library) -> int | None:
    with library.connect() as catalogue:
        rows = catalogue.query("SELECT id FROM heads WHERE active = 1")
    return int(rows[0][0]) if rows else None


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "photo_tagger.cli", *args], capture_output=True, text=True)


def check_cli_scores(library: Library, scores: dict[str, dict[str, float]], work: Path) -> float:
    """Largest difference between `photo-tagger export --scores` and the scores used here."""
    out = work / "scores.csv"
    done = cli("export", str(library.root), "-o", str(out), "--scores")
    if done.returncode != 0:
        print(f"export --scores failed (exit {done.returncode}): {done.stderr.strip()}")
        return float("nan")
    worst = 0.0
    with open(out, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            mine = scores.get(row["path"], {})
            for column, cell in row.items():
                if column.startswith("score:"):
                    theirs = float(cell) if cell else float("nan")
                    ours = mine.get(column.removeprefix("score:"), float("nan"))
                    if (theirs != theirs) != (ours != ours):
                        return float("inf")  # scored on one side only
                    if theirs == theirs:
                        worst = max(worst, abs(theirs - ours))
    return worst


def correct_with_cli(library: Library, photos: list[str], labels: dict[str, set[str]], work: Path) -> dict:
    """Import the first half's truth and train, through the command line."""
    truth = work / "first_half.csv"
    write_truth(truth, photos, labels, resolve_tags(library))
    imported = cli("import", str(library.root), str(truth))
    print(f"$ photo-tagger import LIB first_half.csv -> exit {imported.returncode}: {imported.stdout.strip()}")
    for line in imported.stderr.strip().splitlines()[:10]:
        print(f"  {line}")
    if imported.returncode != 0:
        return {"import_exit": imported.returncode}
    before = active_head(library)
    start = time.perf_counter()
    trained = cli("train", str(library.root))
    forced = False
    if trained.returncode != 0 and "--force" in trained.stderr:
        forced = True
        trained = cli("train", str(library.root), "--force")
    seconds = time.perf_counter() - start
    after = active_head(library)
    print(f"$ photo-tagger train LIB{' --force' if forced else ''} -> exit {trained.returncode}, {seconds:.1f} s,"
          f" active head {before} -> {after}")
    if trained.returncode != 0:
        print(trained.stderr.strip())
    report_tail = [line for line in trained.stdout.splitlines() if line.strip()][-3:]
    for line in report_tail:
        print(f"  | {line}")
    return {"import_exit": imported.returncode, "train_exit": trained.returncode, "train_forced": forced,
            "train_activated": after is not None and after != before, "train_cli_s": round(seconds, 1)}


def curve_point(zero: Path, root: Path, photos: list[str], labels: dict[str, set[str]], work: Path,
                test: list[str]) -> tuple[float, bool]:
    """mAP on `test` after importing `photos`' truth into a fresh zero-shot copy and training.
    Returns (mAP, whether a trained head became active)."""
    db = work / "curve" / "catalogue.sqlite"
    if db.parent.exists():
        shutil.rmtree(db.parent)
    snapshot(zero, db)
    library = Library(root, db)  # same photos, its own catalogue
    truth = work / "curve.csv"
    write_truth(truth, photos, labels, resolve_tags(library))
    service.import_library(library, truth)
    try:
        run_to_end(service.train(library))
        activated = active_head(library) is not None
    except UserError as exc:
        print(f"  training refused: {exc}")
        activated = False
    scores, thresholds = score_table(library)
    return mean_ap(evaluate(test, labels, scores, thresholds, resolve_tags(library))), activated


# -- cost -------------------------------------------------------------------------------


def stage_costs(library: Library, photos: list[str], sample: int = 48) -> dict[str, float]:
    """ms per photo of each stage of the indexer's pipeline, one thread, no overlap: decode
    (at the indexer's size) + views, the backbone on each view, face detection, scoring."""
    from threadpoolctl import threadpool_limits

    from photo_tagger.core.backbone import embed_views, get_backbone_spec, load_embedder, to_model_views
    from photo_tagger.core.faces import face_summary, load_face_detector
    from photo_tagger.core.imaging import decode_photo
    from photo_tagger.core.indexer import FACE_MIN_PX, decode_short_side

    spec = get_backbone_spec()
    embedder = load_embedder(spec.id)
    detector = load_face_detector(min_face_px=FACE_MIN_PX)
    model = service.load_model(library)
    chosen = photos[:sample]
    start = time.perf_counter()
    decoded = [decode_photo(library.root / p, decode_short_side(spec)).model_image for p in chosen]
    views = np.stack([to_model_views(image, spec.preprocessing) for image in decoded])
    decode_s = time.perf_counter() - start
    embed_views(embedder, views[:8])  # warm-up
    start = time.perf_counter()
    embeddings = np.concatenate([embed_views(embedder, views[i:i + 8]) for i in range(0, len(views), 8)])
    backbone_s = time.perf_counter() - start
    start = time.perf_counter()
    faces = np.stack([face_summary(detector.detect(np.asarray(image)), *image.size) for image in decoded])
    faces_s = time.perf_counter() - start
    with threadpool_limits(limits=1, user_api="blas"):
        start = time.perf_counter()
        model.score(embeddings, faces)
        score_s = time.perf_counter() - start
    n = len(chosen)
    return {"decode_ms_per_photo": 1000 * decode_s / n, "backbone_ms_per_photo": 1000 * backbone_s / n,
            "backbone_views": len(spec.preprocessing.views), "faces_ms_per_photo": 1000 * faces_s / n,
            "scoring_ms_per_photo": 1000 * score_s / n}


def photo_size(library: Library) -> tuple[int, int]:
    with library.connect() as catalogue:
        rows = catalogue.query("SELECT width, height FROM photos WHERE status = 'ok'")
    return (int(statistics.median(max(w, h) for w, h in rows)), int(statistics.median(w * h for w, h in rows)))


# -- main -------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devset", type=Path, default=DEFAULT_DEVSET, help="folder with labels.csv and images/")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="build the library in DIR (new or empty) and keep it")
    parser.add_argument("--skip-train", action="store_true", help="zero-shot only (implies --skip-curve)")
    parser.add_argument("--skip-curve", action="store_true", help="no learning curve")
    parser.add_argument("--curve-sizes", default="10,25,50,100,250", help="corrected photos per step")
    parser.add_argument("--curve-sets", type=int, default=5, help="random sets per step")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    labels = read_labels(args.devset)
    figures: dict[str, object] = {"date": time.strftime("%Y-%m-%d"), "photos": len(labels)}
    work = Path(tempfile.mkdtemp(prefix="pt-quality-"))
    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            raise SystemExit(f"--keep {args.keep}: the folder is not empty")
        root = args.keep
        root.mkdir(parents=True, exist_ok=True)
    else:
        root = work / "library"
    started = time.perf_counter()
    try:
        run(args, labels, figures, root, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures["total_s"] = round(time.perf_counter() - started, 1)
    print(f"total {figures['total_s']} s" + (f"; library kept in {root}" if args.keep else ""))
    print(json.dumps(figures))
    return 0


def run(args: argparse.Namespace, labels: dict[str, set[str]], figures: dict[str, object], root: Path,
        work: Path) -> None:
    library = make_library(args.devset, labels, root)
    summary, index_s = index_library(library)
    print(f"indexed {summary.photos} photos ({summary.indexed} new, {summary.errors} errors) in {index_s:.1f} s"
          f" = {1000 * index_s / max(summary.indexed, 1):.0f} ms/photo")
    if summary.photos != len(labels):
        print(f"WARNING: {len(labels)} photos linked, {summary.photos} indexed (symlinks not followed?)")
    longest, pixels = photo_size(library)
    costs = stage_costs(library, sorted(labels))
    print(f"devset photos: median long side {longest} px, {pixels / 1e6:.2f} MP (not 12 MP camera photos);"
          " one thread, no overlap: " + ", ".join(f"{k.removesuffix('_ms_per_photo')} {v:.1f} ms"
                                                  for k, v in costs.items()))
    figures.update(index_ms_per_photo=round(1000 * index_s / max(summary.indexed, 1), 1),
                   index_photos=summary.indexed, index_errors=summary.errors, median_long_side_px=longest,
                   **{k: round(v, 1) for k, v in costs.items()})
    zero = work / "zero" / "catalogue.sqlite"
    snapshot(library.catalogue_path, zero)

    photos = sorted(labels)
    resolved = resolve_tags(library)
    scores, thresholds = score_table(library)
    results = evaluate(photos, labels, scores, thresholds, resolved)
    print("\nZero-shot, all photos")
    print_table(results)
    precision, recall, f1 = micro(results)
    person = next(r for r in results if r.coco == "person")
    stored = photos_without_suggestion(library)
    keyword_rows, keyword_photos = keyword_tags(library)
    counted = [r for r in results if r.photos >= MIN_PHOTOS]
    figures.update(
        zero_shot_map=round(mean_ap(results), 4), zero_shot_weighted_map=round(mean_ap(results, True), 4),
        zero_shot_person_ap=round(person.ap, 4),
        person_precision_at_threshold=None if person.precision != person.precision else round(person.precision, 4),
        person_recall_at_threshold=round(person.recall, 4),
        micro_precision=round(precision, 4), micro_recall=round(recall, 4), micro_f1=round(f1, 4),
        photos_without_suggestion=stored, classes_in_map=len(counted), keyword_tags=keyword_rows,
        classes_without_tag=sum(1 for r in results if not r.tag),
        classes_without_score=sum(1 for r in results if not r.scored),
    )
    print(f"mAP {figures['zero_shot_map']} over {len(counted)} classes (weighted {figures['zero_shot_weighted_map']});"
          f" person AP {person.ap:.3f}; {figures['classes_without_tag']} classes have no tag,"
          f" {figures['classes_without_score']} no score")
    print(f"micro at threshold: precision {_fmt(precision)}, recall {_fmt(recall)}, F1 {_fmt(f1)};"
          f" photos with no suggestion at threshold: {stored}")
    print(f"keywords already in the photos (Flickr's) confirmed {keyword_rows} tags on {keyword_photos} photos"
          " at index time; training counts them as labels")
    gap = check_cli_scores(library, scores, work)
    figures["cli_export_score_gap"] = gap if gap != gap or gap == float("inf") else round(gap, 6)
    print(f"photo-tagger export --scores vs the scores above: largest difference {gap:.2g}")
    if args.skip_train:
        return

    first, second = split_halves(photos)
    half_zero = evaluate(second, labels, scores, thresholds, resolved)
    figures["zero_shot_half_map"] = round(mean_ap(half_zero), 4)
    figures["zero_shot_half_person_ap"] = round(person_ap(half_zero), 4)
    print(f"\nCorrections: {len(first)} photos imported as complete truth, evaluated on the other {len(second)}")
    figures.update(correct_with_cli(library, first, labels, work))
    scores, thresholds = score_table(library)
    half = evaluate(second, labels, scores, thresholds, resolve_tags(library))
    figures.update(corrected_half_map=round(mean_ap(half), 4), corrected_half_person_ap=round(person_ap(half), 4),
                   classes_in_half_map=sum(1 for r in half if r.photos >= MIN_PHOTOS))
    person = next(r for r in half if r.coco == "person")
    precision, recall, f1 = micro(half)
    figures.update(corrected_person_precision_at_threshold=round(person.precision, 4),
                   corrected_person_recall_at_threshold=round(person.recall, 4),
                   corrected_micro_precision=round(precision, 4), corrected_micro_recall=round(recall, 4),
                   corrected_micro_f1=round(f1, 4))
    print(f"second half mAP {figures['zero_shot_half_map']} zero-shot -> {figures['corrected_half_map']} corrected;"
          f" person AP {figures['zero_shot_half_person_ap']} -> {figures['corrected_half_person_ap']}")
    print(f"at threshold: person precision {_fmt(person.precision)} recall {_fmt(person.recall)};"
          f" micro precision {_fmt(precision)} recall {_fmt(recall)} F1 {_fmt(f1)}")
    worst = sorted((r for r in half if r.photos >= MIN_PHOTOS), key=lambda r: r.ap)[:10]
    print("worst classes after corrections: " + ", ".join(f"{r.coco} {r.ap:.2f}" for r in worst))
    if args.skip_curve:
        return

    sizes = [int(s) for s in args.curve_sizes.split(",") if s.strip()]
    print(f"\nLearning curve: mAP on the second half ({len(second)} photos), {args.curve_sets} sets per step;"
          f" zero-shot {figures['zero_shot_half_map']}")
    print(f"{'photos':>6} {'mean':>6} {'worst':>6} {'best':>6} {'s/set':>6}")
    for n in sizes:
        if n > len(first):
            print(f"{n:>6} skipped: the first half has {len(first)} photos")
            continue
        start = time.perf_counter()
        maps, refused = [], 0
        for k in range(args.curve_sets):
            chosen = random.Random(f"{n}/{k}").sample(first, n)
            value, activated = curve_point(zero, library.root, chosen, labels, work, second)
            maps.append(value)
            refused += not activated
        seconds = (time.perf_counter() - start) / args.curve_sets
        figures[f"curve_{n}_mean"], figures[f"curve_{n}_worst"] = round(statistics.mean(maps), 4), round(min(maps), 4)
        if refused:
            figures[f"curve_{n}_refused"] = refused
        print(f"{n:>6} {statistics.mean(maps):>6.3f} {min(maps):>6.3f} {max(maps):>6.3f} {seconds:>6.1f}"
              + (f"  ({refused} sets: no head activated)" if refused else ""))


if __name__ == "__main__":
    sys.exit(main())
