"""What the backbone should see of a photo: which views, embeddings averaged.

The centre crop (Resize 256 + CenterCrop 224) cuts the sides of every landscape photo. This
measures, on ../shared/trainset (labelled photos for choosing settings; ../shared/devset stays
for measuring), a linear probe's 5-fold cross-validated mAP over the COCO classes with at
least 5 photos (person excluded: 99% of these photos have people), for the mean embedding of
several view sets, and the backbone's cost per view:

  centre  the centre crop (today's preprocessing)
  whole   the whole photo squashed to 224 x 224
  left / middle / right   224 crops along the long side after scaling the short side to 224

    python benchmarks/views.py [--photos ../shared/trainset] [--limit N]

The probe is TagHead with no prior (alpha 100, about scikit-learn's C = 0.01), the same fit for
every view set. Last line: one JSON object.

Measured 2026-12-06 on the 2-core VM, 2,194 trainset photos (decoded as the indexer does):
centre 0.488, whole 0.480, centre + whole 0.504, left + middle + right 0.506, centre + left +
right 0.508, all five 0.508; the backbone costs 5.8 ms per view on one thread. Centre + whole
(models/backbones.toml) buys most of the gain for one extra view; a third view would add 0.004
for another 5.8 ms, which the ingest budget (5x the naive loop, benchmarks/ingest.py) has not.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from photo_tagger.core.backbone import get_backbone_spec, load_embedder, to_model_input
from photo_tagger.core.head import TagHead
from photo_tagger.core.imaging import decode_photo
from photo_tagger.core.indexer import decode_short_side
from photo_tagger.core.metrics import average_precision_score

REPO = Path(__file__).resolve().parents[1]
VIEW_NAMES = ("centre", "whole", "left", "middle", "right")
SETS = {"centre": [0], "whole": [1], "centre+whole": [0, 1], "left+middle+right": [2, 3, 4],
        "centre+left+right": [0, 2, 4], "all five": [0, 1, 2, 3, 4]}
FOLDS = 5


def five_views(image: Image.Image) -> np.ndarray:
    pre = get_backbone_spec().preprocessing
    size = pre.input_size
    mean, std = np.asarray(pre.mean, np.float32), np.asarray(pre.std, np.float32)

    def normalised(picture: Image.Image) -> np.ndarray:
        return ((np.asarray(picture, np.float32) / 255.0 - mean) / std).transpose(2, 0, 1)

    image = image.convert("RGB")
    w, h = image.size
    scale = size / min(w, h)
    scaled = image.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.Resampling.BILINEAR)
    sw, sh = scaled.size
    if sw >= sh:
        boxes = [(x, 0, x + size, size) for x in (0, (sw - size) // 2, sw - size)]
    else:
        boxes = [(0, y, size, y + size) for y in (0, (sh - size) // 2, sh - size)]
    views = [to_model_input(image, pre), normalised(image.resize((size, size), Image.Resampling.BILINEAR))]
    return np.stack(views + [normalised(scaled.crop(box)) for box in boxes]).astype(np.float32)


def probe_map(x: np.ndarray, y: np.ndarray) -> float:
    folds = np.random.default_rng(0).permutation(len(x)) % FOLDS
    oof = np.zeros(y.shape, np.float32)
    no_prior = np.full(y.shape, np.nan, np.float32)
    names = [str(j) for j in range(y.shape[1])]
    for fold in range(FOLDS):
        train = folds != fold
        head = TagHead(names, x.shape[1], alpha=100.0).fit(
            x[train], no_prior[train], y[train], np.ones_like(y[train]), np.zeros(y.shape[1], bool))
        oof[~train] = head.predict_proba(x[~train], no_prior[~train])
    return float(np.mean([average_precision_score(y[:, j], oof[:, j]) for j in range(y.shape[1])]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "trainset")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    with open(args.photos / "labels.csv", newline="", encoding="utf-8") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda row: row["path"])[: args.limit]
    spec = get_backbone_spec()
    embedder = load_embedder(intra_op_threads=1)
    embeddings = np.zeros((len(rows), len(VIEW_NAMES), spec.embedding_dim), np.float32)
    forward_s = 0.0
    for i, row in enumerate(rows):
        views = five_views(decode_photo(args.photos / row["path"], decode_short_side(spec)).model_image)
        start = time.perf_counter()
        embeddings[i] = embedder.embed(views)[0]
        forward_s += time.perf_counter() - start
        print(f"\rembedded {i + 1}/{len(rows)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    classes = sorted({c for row in rows for c in row["tags"].split(";") if c} - {"person"})
    y = np.array([[c in row["tags"].split(";") for c in classes] for row in rows], bool)
    y = y[:, y.sum(axis=0) >= 5]
    figures: dict[str, float] = {"photos": len(rows), "classes": int(y.shape[1]),
                                 "backbone_ms_per_view": round(1000 * forward_s / (len(rows) * len(VIEW_NAMES)), 2)}
    for name, columns in SETS.items():
        value = probe_map(embeddings[:, columns].mean(axis=1), y)
        figures[f"cv_map_{name.replace('+', '_').replace(' ', '_')}"] = round(value, 4)
        print(f"{name:<20} {len(columns)} view(s)  CV mAP {value:.4f}")
    print(f"backbone {figures['backbone_ms_per_view']} ms per view (one thread)")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
