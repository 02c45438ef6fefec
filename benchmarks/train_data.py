"""Real-photo embeddings with real labels for benchmarks/train.py, test photos held out.

Training photos: augmented views (random crop keeping 60-100% of each side, mirror, colour
jitter) of the 2,194 labelled COCO photos in ../shared/trainset, taken in passes over the
photos in one shuffled order: the first 2,194 views are 2,194 different photos, 10,000 views
are each photo 4-5 times (a library's bursts and near-duplicates). Test photos: the 559 COCO
photos of ../shared/devset, each once and not augmented; none of them is, or shares a source
with, a training photo (the folders' READMEs: checked by COCO id and sha256).

Tags: the COCO classes with at least 10 training photos and 3 test photos, then tags that are
unions of 2-3 of them ("pets", "on the road": a user's own groupings), up to 100 tags.
A view keeps its photo's labels (a crop may cut an object out: label noise, as in life).
The embeddings go through the real backbone (EfficientNet-Lite0, ONNX Runtime, one thread)
and are cached (float16 .npz): 10k views take a few minutes.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

SHARED = Path(__file__).resolve().parents[2] / "shared"
MIN_TRAIN_POSITIVES = 10
MIN_TEST_POSITIVES = 3


def read_labels(folder: Path) -> tuple[list[Path], list[set[str]]]:
    with open(folder / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [folder / r["path"] for r in rows], [set(filter(None, r["tags"].split(";"))) for r in rows]


def tag_matrix(train_labels: list[set[str]], photo: np.ndarray, test_labels: list[set[str]], n_tags: int,
               seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(tag names, train (n, tags) bool, test (m, tags) bool). A class is kept by its count of
    training photos (`photo`: each view's photo), not of views."""
    classes = sorted({c for labels in train_labels for c in labels})
    train = np.array([[c in labels for c in classes] for labels in train_labels])
    test = np.array([[c in labels for c in classes] for labels in test_labels])
    photos = train[np.unique(photo, return_index=True)[1]]
    keep = (photos.sum(axis=0) >= MIN_TRAIN_POSITIVES) & (test.sum(axis=0) >= MIN_TEST_POSITIVES)
    names = [c for c, k in zip(classes, keep, strict=True) if k][:n_tags]
    columns = np.flatnonzero(keep)[: len(names)]
    groups: list[np.ndarray] = []
    rng = np.random.default_rng(seed)
    kept = np.flatnonzero(keep)
    for _ in range(100 * n_tags):  # bounded: a smoke run keeps too few classes for n_tags
        if len(names) >= n_tags or len(kept) < 3:
            break
        members = np.sort(rng.choice(kept, size=int(rng.integers(2, 4)), replace=False))
        name = "group:" + "+".join(classes[m] for m in members)
        if name in names:
            continue
        names.append(name)
        groups.append(members)

    def build(matrix: np.ndarray) -> np.ndarray:
        parts = [matrix[:, columns]] + [matrix[:, g].any(axis=1, keepdims=True) for g in groups]
        return np.concatenate(parts, axis=1)

    return names, build(train), build(test)


def _augment(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    w, h = image.size
    cw, ch = max(16, int(w * rng.uniform(0.6, 1.0))), max(16, int(h * rng.uniform(0.6, 1.0)))
    left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    view = image.crop((left, top, left + cw, top + ch))
    if rng.random() < 0.5:
        view = ImageOps.mirror(view)
    view = ImageEnhance.Brightness(view).enhance(rng.uniform(0.8, 1.2))
    view = ImageEnhance.Contrast(view).enhance(rng.uniform(0.8, 1.2))
    return ImageEnhance.Color(view).enhance(rng.uniform(0.7, 1.3))


def _embed(paths: list[Path], augment: np.random.Generator | None, embedder, log) -> np.ndarray:  # type: ignore[no-untyped-def]
    from photo_tagger.core.backbone import to_model_input

    pre = embedder.spec.preprocessing
    out = np.zeros((len(paths), embedder.spec.embedding_dim), np.float16)
    start, batch = time.perf_counter(), []
    for i, path in enumerate(paths):
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
        if augment is not None:
            image = _augment(image, augment)
        batch.append(to_model_input(image, pre))
        if len(batch) == 16 or i == len(paths) - 1:
            out[i + 1 - len(batch) : i + 1], _ = embedder.embed(np.stack(batch))
            batch = []
        if (i + 1) % 2000 == 0:
            log(f"  embedded {i + 1}/{len(paths)} photos ({time.perf_counter() - start:.0f} s)", flush=True)
    return out


def make_embeddings(n_views: int, cache: Path, shared: Path = SHARED, seed: int = 0, log=print):  # type: ignore[no-untyped-def]
    """(train x (n_views, D) float32, train photo index (n_views,), test x (m, D) float32,
    train labels, test labels): x from the backbone, cached; labels as sets of class names."""
    train_paths, train_labels = read_labels(shared / "trainset")
    test_paths, test_labels = read_labels(shared / "devset")
    order = np.random.default_rng(seed).permutation(len(train_paths))
    photo = np.resize(order, n_views)  # passes over the photos in one shuffled order
    path = cache / f"coco_views_{n_views}_{seed}.npz"
    if path.exists():
        data = np.load(path)
        train_x, test_x = data["train"], data["test"]
    else:
        from photo_tagger.core.backbone import load_embedder

        embedder = load_embedder(intra_op_threads=1)
        log(f"embedding {n_views} training views and {len(test_paths)} test photos (cached in {cache}) ...")
        train_x = _embed([train_paths[i] for i in photo], np.random.default_rng(seed), embedder, log)
        test_x = _embed(test_paths, None, embedder, log)
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(path, train=train_x, test=test_x)
    return (train_x.astype(np.float32), photo, test_x.astype(np.float32),
            [train_labels[i] for i in photo], test_labels)


if __name__ == "__main__":
    import sys

    make_embeddings(int(sys.argv[1]), Path(sys.argv[2]))
