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
    python benchmarks/views.py --sizes 256/224,288/288,320/320   # input size instead of views

With --sizes, each resize/crop pair (shorter side to R, centre crop C; the whole photo squashed
to C) is run through the backbone in torch (ONNX Runtime's export has a fixed input size), and
the probe's CV mAP of the centre + whole mean is given per size, with the backbone's ms per
photo for the two views, and the ImageNet classifier's calibration at that size against the
first: its mean top-1 probability, the logit scale (1 / the taxonomy's temperature) whose
softmax is closest (least mean KL) to the first size's, and the scale whose mean top-1 is
closest to --target-top1 (0.380: Lite0's at 224 px, where the taxonomy's thresholds were set;
resources/taxonomy.toml).

The probe is TagHead with no prior (alpha 100, about scikit-learn's C = 0.01), the same fit for
every view set. Last line: one JSON object.

At 320/320 (2026-12-06, same VM): centre 0.508, whole 0.506, centre + whole 0.517, three views
0.517, all five 0.519; 10.4 ms per view on one thread. Still centre + whole: a third view buys 0.001.

Measured 2026-12-06 on the 2-core VM at 256/224 (before the input size became 320/320),
2,194 trainset photos (decoded as the indexer does):
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
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from photo_tagger.core.backbone import (
    Preprocessing,
    build_torch_model,
    classifier_weights,
    get_backbone_spec,
    load_embedder,
    to_model_input,
)
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
    image = image.convert("RGB")
    w, h = image.size
    scale = size / min(w, h)
    scaled = image.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.Resampling.BILINEAR)
    sw, sh = scaled.size
    if sw >= sh:
        boxes = [(x, 0, x + size, size) for x in (0, (sw - size) // 2, sw - size)]
    else:
        boxes = [(0, y, size, y + size) for y in (0, (sh - size) // 2, sh - size)]
    views = [to_model_input(image, pre), _normalised(image.resize((size, size), Image.Resampling.BILINEAR), pre)]
    return np.stack(views + [_normalised(scaled.crop(box), pre) for box in boxes]).astype(np.float32)


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


def class_labels(rows: list[dict[str, str]]) -> np.ndarray:
    """(photos, classes) for the COCO classes with at least 5 of these photos, person aside."""
    classes = sorted({c for row in rows for c in row["tags"].split(";") if c} - {"person"})
    y = np.array([[c in row["tags"].split(";") for c in classes] for row in rows], bool)
    return y[:, y.sum(axis=0) >= 5]


def compare_sizes(
    photos: Path, rows: list[dict[str, str]], sizes: list[tuple[int, int]], target_top1: float
) -> dict[str, float]:
    import torch

    spec = get_backbone_spec()
    y = class_labels(rows)
    figures: dict[str, float] = {"photos": len(rows), "classes": int(y.shape[1])}
    images = [decode_photo(photos / row["path"], max(max(pair) for pair in sizes)).model_image.convert("RGB")
              for row in rows]
    weight, bias = classifier_weights(spec)
    reference: np.ndarray | None = None  # the first size's softmax
    for resize, crop in sizes:
        pre: Preprocessing = replace(spec.preprocessing, resize_size=resize, input_size=crop)
        model = build_torch_model(replace(spec, preprocessing=pre))  # its "same" padding is per size
        embeddings, forward_s = np.zeros((len(rows), spec.embedding_dim), np.float32), 0.0
        for i, image in enumerate(images):
            whole = _normalised(image.resize((crop, crop), Image.Resampling.BILINEAR), pre)
            views = torch.from_numpy(np.stack([to_model_input(image, pre), whole]))
            start = time.perf_counter()
            with torch.inference_mode():
                embeddings[i] = model(views)[0].numpy().mean(axis=0)
            forward_s += time.perf_counter() - start
        value = probe_map(embeddings, y)
        logits = embeddings @ weight.T + bias
        reference = softmax(logits) if reference is None else reference
        scale = min(LOGIT_SCALES, key=lambda s: mean_kl(reference, softmax(logits * s)))
        confident = min(LOGIT_SCALES, key=lambda s: abs(softmax(logits * s).max(axis=1).mean() - target_top1))
        figures[f"logit_scale_top1_{resize}_{crop}"] = confident
        figures[f"cv_map_centre_whole_{resize}_{crop}"] = round(value, 4)
        figures[f"backbone_ms_per_photo_{resize}_{crop}"] = round(1000 * forward_s / len(rows), 1)
        figures[f"mean_top1_{resize}_{crop}"] = round(float(softmax(logits).max(axis=1).mean()), 3)
        figures[f"logit_scale_{resize}_{crop}"] = scale
        print(f"{resize}/{crop}  centre + whole  CV mAP {value:.4f}  backbone {1000 * forward_s / len(rows):.1f}"
              f" ms per photo (torch); mean top-1 {figures[f'mean_top1_{resize}_{crop}']}, logit scale {scale}"
              f" (mean top-1 then {softmax(logits * scale).max(axis=1).mean():.3f}); for a mean top-1 of"
              f" {target_top1}: {confident}", flush=True)
    return figures


LOGIT_SCALES = tuple(round(1 + 0.1 * i, 1) for i in range(16))  # 1.0 .. 2.5


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def mean_kl(p: np.ndarray, q: np.ndarray) -> float:
    return float(np.mean(np.sum(p * (np.log(p + 1e-12) - np.log(q + 1e-12)), axis=1)))


def _normalised(picture: Image.Image, pre: Preprocessing) -> np.ndarray:
    mean, std = np.asarray(pre.mean, np.float32), np.asarray(pre.std, np.float32)
    return ((np.asarray(picture, np.float32) / 255.0 - mean) / std).transpose(2, 0, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "trainset")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--sizes", help="resize/crop pairs, e.g. 256/224,320/320: compare input sizes")
    parser.add_argument("--target-top1", type=float, default=0.380, help="with --sizes: the mean top-1 to match")
    args = parser.parse_args()
    with open(args.photos / "labels.csv", newline="", encoding="utf-8") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda row: row["path"])[: args.limit]
    if args.sizes:
        pairs = [tuple(int(v) for v in pair.split("/")) for pair in args.sizes.split(",")]
        print(json.dumps(compare_sizes(args.photos, rows, [(r, c) for r, c in pairs], args.target_top1)))
        return 0
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
    y = class_labels(rows)
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
