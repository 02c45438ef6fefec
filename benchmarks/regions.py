"""Would scoring regions of a photo, not only its mean embedding, find more of what is in it?

A linear head scores a photo by its mean embedding, so a small object (a fork, a stop sign)
is diluted by everything around it. The backbone's last feature map holds one embedding per
32 x 32 pixel cell; averaging it over a g x g grid gives region embeddings, and the same head
can score each region. This measures a score of

    head(mean embedding) + weight * soft-max over regions of head(region)

with the soft maximum a log-mean-exp at `sharpness` (1: close to the mean; 1000: the maximum),
the idea of class-specific residual attention (Zhu and Wu, ICCV 2021), but with the head
trained on mean embeddings as the app does, so only scoring would change.

On ../shared/trainset (for choosing settings), a linear probe's 5-fold cross-validated mAP
over the COCO classes with at least 5 photos (person aside: 99% of these photos have people)
for each grid, view, weight and sharpness; then, with --devset, the best of them on
../shared/devset (measure only): a probe fitted on all of trainset, and one fitted on trainset
plus devset's first half (quality.py's split) as a stand-in for a user's corrections, scored
on the second half.

    python benchmarks/regions.py [--limit N] [--devset ../shared/devset]

The views and input size are the app's (models/backbones.toml); the feature maps come from
the torch model (ONNX Runtime's export gives only pooled embeddings). Last line: one JSON
object.

Measured 2026-12-06 on the 2-core VM (320/320, centre + whole), 2,194 trainset photos, 73
classes: CV mAP 0.523 for the mean embedding; best 0.536 (+ 0.2 x regions 3x3 of centre +
whole, sharpness 1); 2x2 of the whole view alone (4 regions) 0.535 at weight 0.3, sharpness
1000. On devset's second half, that best setting: trainset probe 0.573 -> 0.585; trainset +
first half 0.602 -> 0.609. But the app's starting model (the shipped head with the taxonomy
prior) gains nothing from it: all of devset, 75 classes, 0.580 by its logit, 0.580 / 0.579 /
0.576 / 0.568 with the region term at weights 0.1 / 0.2 / 0.3 / 0.5 (the prior already holds
what the regions add). Not adopted: 18 more stored vectors per photo for nothing.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
from script_modules import load_module

from photo_tagger.core.backbone import build_torch_model, get_backbone_spec, to_model_views
from photo_tagger.core.head import TagHead
from photo_tagger.core.imaging import decode_photo
from photo_tagger.core.indexer import decode_short_side
from photo_tagger.core.metrics import average_precision_score

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
FOLDS = 5
ALPHA = 30.0  # the probe's L2 penalty, as quality_ceiling.py
GRIDS = (2, 3)
VIEW_SETS = {"whole": ("whole",), "centre+whole": ("centre", "whole")}
WEIGHTS = (0.1, 0.2, 0.3, 0.5)
SHARPNESS = (1.0, 1000.0)


class PhotoFeatures:
    """Per photo: the mean embedding over views and cells, and region embeddings per grid and view."""

    def __init__(self, photos: Path, paths: list[str]) -> None:
        import torch

        spec = get_backbone_spec()
        pre = spec.preprocessing
        model = build_torch_model(spec).eval()
        self.views = pre.views
        self.mean = np.zeros((len(paths), spec.embedding_dim), np.float32)
        self.regions = {(g, view): np.zeros((len(paths), g * g, spec.embedding_dim), np.float32)
                        for g in GRIDS for view in pre.views}
        start = time.perf_counter()
        for i, path in enumerate(paths):
            image = decode_photo(photos / path, decode_short_side(spec)).model_image
            with torch.inference_mode():
                maps = model.forward_feature_map(torch.from_numpy(to_model_views(image, pre))).numpy()
            self.mean[i] = maps.mean(axis=(0, 2, 3))
            for (g, view), regions in self.regions.items():
                regions[i] = grid_means(maps[pre.views.index(view)], g)
            if i % 500 == 0:
                print(f"  {photos.name}: {i} of {len(paths)} photos, {time.perf_counter() - start:.0f} s", flush=True)

    def region_stack(self, grid: int, views: tuple[str, ...]) -> np.ndarray:
        return np.concatenate([self.regions[(grid, view)] for view in views], axis=1)


def grid_means(feature_map: np.ndarray, grid: int) -> np.ndarray:
    """(C, H, W) -> (grid * grid, C): the mean embedding of each cell of a grid x grid split."""
    rows = np.linspace(0, feature_map.shape[1], grid + 1).round().astype(int)
    cols = np.linspace(0, feature_map.shape[2], grid + 1).round().astype(int)
    return np.stack([feature_map[:, rows[a]:rows[a + 1], cols[b]:cols[b + 1]].mean(axis=(1, 2))
                     for a in range(grid) for b in range(grid)])


def probe(x: np.ndarray, y: np.ndarray) -> TagHead:
    no_prior = np.full(y.shape, np.nan, np.float32)
    return TagHead([str(j) for j in range(y.shape[1])], x.shape[1], alpha=ALPHA, min_positives=1,
                   min_negatives=1).fit(x, no_prior, y, np.ones_like(y), np.zeros(y.shape[1], bool))


def logits(head: TagHead, x: np.ndarray) -> np.ndarray:
    """(..., D) embeddings -> (..., tags) logits of the head (it has no prior here)."""
    flat = x.reshape(-1, x.shape[-1])
    p = np.clip(head.predict_proba(flat, np.full((len(flat), len(head.tag_names)), np.nan, np.float32)),
                1e-7, 1 - 1e-7)
    return np.log(p / (1 - p)).reshape(*x.shape[:-1], -1)


def soft_max(region_logits: np.ndarray, sharpness: float) -> np.ndarray:
    """(photos, regions, tags) -> (photos, tags): log-mean-exp over regions at `sharpness`."""
    top = region_logits.max(axis=1)
    spread = np.exp(sharpness * (region_logits - top[:, None, :])).mean(axis=1)
    return top + np.log(spread) / sharpness


def mean_ap(y: np.ndarray, scores: np.ndarray) -> float:
    return float(np.mean([average_precision_score(y[:, j], scores[:, j]) for j in range(y.shape[1])]))


def read_rows(photos: Path, limit: int | None) -> tuple[list[str], list[set[str]]]:
    with open(photos / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    return [row["path"] for row in rows], [set(filter(None, row["tags"].split(";"))) for row in rows]


def settings() -> list[tuple[int, str, float, float]]:
    return list(itertools.product(GRIDS, VIEW_SETS, WEIGHTS, SHARPNESS))


def cross_validate(features: PhotoFeatures, y: np.ndarray) -> dict[tuple[int, str, float, float] | None, float]:
    """CV mAP of the mean-embedding score (key None) and of each region setting."""
    folds = np.random.default_rng(0).permutation(len(y)) % FOLDS
    base = np.zeros(y.shape, np.float32)
    region_logits = {(g, v): np.zeros((len(y), g * g * len(VIEW_SETS[v]), y.shape[1]), np.float32)
                     for g in GRIDS for v in VIEW_SETS}
    for fold in range(FOLDS):
        held = folds == fold
        head = probe(features.mean[~held], y[~held])
        base[held] = logits(head, features.mean[held])
        for (g, v), out in region_logits.items():
            out[held] = logits(head, features.region_stack(g, VIEW_SETS[v])[held])
    figures: dict[tuple[int, str, float, float] | None, float] = {None: mean_ap(y, base)}
    for g, v, weight, sharpness in settings():
        figures[(g, v, weight, sharpness)] = mean_ap(y, base + weight * soft_max(region_logits[(g, v)], sharpness))
    return figures


def devset_figures(train: PhotoFeatures, train_tags: list[set[str]], devset: Path,
                   best: tuple[int, str, float, float]) -> dict[str, float]:
    quality = load_module(HERE / "quality.py")
    paths, tags = read_rows(devset, None)
    features = PhotoFeatures(devset, paths)
    index = {path: i for i, path in enumerate(paths)}
    first, second = (np.array([index[p] for p in half]) for half in quality.split_halves(sorted(paths)))
    classes = sorted({c for t in tags for c in t} - {"person"})

    def truth(tag_sets: list[set[str]]) -> np.ndarray:
        return np.array([[c in t for c in classes] for t in tag_sets], bool)

    y_dev, y_train = truth(tags), truth(train_tags)
    scored = [j for j in range(len(classes)) if y_dev[second, j].sum() >= quality.MIN_PHOTOS]
    g, v, weight, sharpness = best
    regions = features.region_stack(g, VIEW_SETS[v])
    figures = {}
    for name, head in (("trainset", probe(train.mean, y_train)),
                       ("trainset_first_half", probe(np.vstack([train.mean, features.mean[first]]),
                                                     np.vstack([y_train, y_dev[first]])))):
        base = logits(head, features.mean[second])
        with_regions = base + weight * soft_max(logits(head, regions[second]), sharpness)
        figures[f"devset_second_half_map_{name}_mean"] = mean_ap(y_dev[second][:, scored], base[:, scored])
        figures[f"devset_second_half_map_{name}_regions"] = mean_ap(y_dev[second][:, scored],
                                                                    with_regions[:, scored])
    figures.update(shipped_model_figures(features, paths, tags, regions, best))
    return figures


def shipped_model_figures(features: PhotoFeatures, paths: list[str], tags: list[set[str]], regions: np.ndarray,
                          best: tuple[int, str, float, float]) -> dict[str, float]:
    """The app's starting model (shipped head + taxonomy prior, as a new library has it) on
    all of devset, by its logit alone and with the region term of its own linear part, at
    each weight (faces left out: person is not scored here)."""
    import tempfile

    from coco import COCO_TO_TAG

    from photo_tagger.core.library import Library
    from photo_tagger.core.service import load_model

    with tempfile.TemporaryDirectory() as empty:
        model = load_model(Library.open(empty))
    leaf = [name.rsplit("|", 1)[-1].casefold() for name in model.head.tag_names]
    column = {c: leaf.index(t.casefold()) for c, t in COCO_TO_TAG.items() if t.casefold() in leaf and c != "person"}
    classes = [c for c in column if sum(c in t for t in tags) >= 3]
    y = np.array([[c in t for c in classes] for t in tags], bool)
    columns = [column[c] for c in classes]
    p = np.clip(model.score(features.mean)[:, columns], 1e-7, 1 - 1e-7)
    base = np.log(p / (1 - p))
    region_logits = regions @ model.head.coef_[columns].T
    _, _, _, sharpness = best
    figures = {"devset_shipped_map": mean_ap(y, base)}
    for weight in WEIGHTS:
        figures[f"devset_shipped_map_regions_weight_{weight}"] = mean_ap(y, base + weight * soft_max(region_logits,
                                                                                                    sharpness))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path, default=SHARED / "trainset")
    parser.add_argument("--devset", type=Path, help="also measure the best setting here (measure only)")
    parser.add_argument("--limit", type=int, help="only the first N photos of --photos (a quick run)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)  # the feature maps come one photo at a time; 2 threads thrash here
    start = time.perf_counter()
    paths, tags = read_rows(args.photos, args.limit)
    features = PhotoFeatures(args.photos, paths)
    classes = sorted({c for t in tags for c in t} - {"person"})
    y = np.array([[c in t for c in classes] for t in tags], bool)
    y = y[:, y.sum(axis=0) >= 5]
    cv = cross_validate(features, y)
    ranked = sorted((key for key in cv if key is not None), key=lambda key: -cv[key])
    print(f"{args.photos}: {len(paths)} photos, {y.shape[1]} classes, {FOLDS}-fold CV mAP of a linear probe"
          f" (alpha {ALPHA:g})")
    print(f"  mean embedding only                              {cv[None]:.4f}")
    for key in ranked[:8]:
        g, v, weight, sharpness = key
        print(f"  + {weight:.1f} x regions {g}x{g} of {v:<13} sharpness {sharpness:<6g} {cv[key]:.4f}")
    best = ranked[0]
    figures: dict[str, float | str] = {
        "photos": len(paths), "classes": int(y.shape[1]), "cv_map_mean_embedding": round(cv[None], 4),
        "cv_map_best_regions": round(cv[best], 4),
        "best_regions": f"{best[0]}x{best[0]} {best[1]} weight {best[2]} sharpness {best[3]:g}",
    }
    for grid in GRIDS:
        figures[f"cv_map_best_grid_{grid}"] = round(max(cv[key] for key in ranked if key[0] == grid), 4)
    if args.devset:
        dev = devset_figures(features, tags, args.devset, best)
        for name, value in dev.items():
            print(f"  {name}: {value:.4f}")
        figures.update({name: round(value, 4) for name, value in dev.items()})
    figures["total_s"] = round(time.perf_counter() - start, 1)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
