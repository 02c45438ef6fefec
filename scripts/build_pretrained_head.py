"""Rebuild the pretrained head that ships in models/ from labelled photos (COCO's trainset).

    python scripts/build_pretrained_head.py [--photos ../shared/trainset] [--out models]
                                            [--embeddings-cache FILE.npz] [--limit N]

Deterministic: the same photos and code give the same bytes. Steps:
1. Every photo listed in `labels.csv` (`path,tags`, `;`-separated class names) goes through the
   indexer's own path (decode_photo -> to_model_views -> embed_views), so the head sees what
   the app will give it.
2. A class name becomes the taxonomy tag of that name or synonym (COCO's `couch` is `sofa`).
   Tags with fewer than MIN_POSITIVES photos are not fitted: they keep the taxonomy prior.
   `person` is left out: it is in 99% of the trainset photos, so nothing here teaches it
   what a photo without people looks like (faces and clothing classes carry it instead).
3. The L2 strengths (toward the prior start) are chosen by 5-fold cross-validation from a
   small grid; per tag, the prior term is kept where cross-validation says it helps.
4. Thresholds: each tag's best-F1 threshold on the out-of-fold scores.
5. Writes `pretrained_head.safetensors` (TagHead) and `pretrained_head.json` (tag names,
   pipeline, preprocessing, taxonomy fingerprint, provenance, hyper-parameters, CV figures).

Terms: the photos are for local training only (never copied into the repo); what ships is
what was learned from them, with credit to COCO (CC BY 4.0 annotations) in the README.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from photo_tagger.core.backbone import (
    classifier_weights,
    embed_views,
    get_backbone_spec,
    load_embedder,
    to_model_views,
)
from photo_tagger.core.head import TagHead
from photo_tagger.core.imaging import decode_photo
from photo_tagger.core.indexer import backbone_key, decode_short_side
from photo_tagger.core.metrics import average_precision_score, best_f1_threshold
from photo_tagger.core.pretrained import HEAD_FILE, META_FILE, META_FORMAT, taxonomy_fingerprint
from photo_tagger.core.suggest import MAX_THRESHOLD, SUGGESTION_FLOOR
from photo_tagger.core.taxonomy import Taxonomy, load_default_taxonomy

REPO = Path(__file__).resolve().parents[1]
MIN_POSITIVES = 5
NOT_TAUGHT = ("person",)  # see the docstring
FOLDS = 5
ALPHAS = (10.0, 30.0, 100.0, 300.0)  # L2 toward the start, in units of photos (TagHead.alpha)
PRIOR_ALPHAS = (10.0, 100.0)
# 1: no class weighting, so a score reads as a probability (a car at 0.4 on a cat photo looks
# wrong however the thresholds are set); 10: rare tags' positives weigh up to 10x.
POSITIVE_WEIGHTS = (1.0, 10.0)
BATCH = 16
PRIOR_KEEP_MARGIN = 0.02  # AP a tag must gain without its prior for the prior to be dropped


def read_labels(folder: Path, limit: int | None) -> tuple[list[str], list[set[str]]]:
    with open(folder / "labels.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows.sort(key=lambda row: row["path"])
    if limit is not None:
        rows = rows[:limit]
    return [row["path"] for row in rows], [{t for t in row["tags"].split(";") if t} for row in rows]


def embed_photos(folder: Path, paths: list[str]) -> np.ndarray:
    spec = get_backbone_spec()
    embedder = load_embedder(intra_op_threads=2)
    out = np.zeros((len(paths), spec.embedding_dim), np.float32)
    for begin in range(0, len(paths), BATCH):
        chunk = paths[begin : begin + BATCH]
        views = np.stack([to_model_views(decode_photo(folder / p, decode_short_side(spec)).model_image,
                                         spec.preprocessing) for p in chunk])
        out[begin : begin + len(chunk)] = embed_views(embedder, views)
        print(f"\rembedded {begin + len(chunk)}/{len(paths)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    # As stored in the catalogue: float16 (the head must work on what the app has).
    return out.astype(np.float16).astype(np.float32)


def cached_embeddings(folder: Path, paths: list[str], classes: list[set[str]],
                      cache: Path | None) -> tuple[np.ndarray, str]:
    """embed_photos of `paths`, and the sha256 of the labelled listing they are for. Kept in
    `cache` (.npz) and reused while the listing and the backbone pipeline are the same."""
    lines = [f"{path},{';'.join(sorted(names))}" for path, names in zip(paths, classes, strict=True)]
    listing = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    key = backbone_key(get_backbone_spec())
    if cache and cache.exists():
        cached = np.load(cache)
        if str(cached["listing"]) == listing and str(cached["pipeline"]) == key:
            return cached["x"], listing
    x = embed_photos(folder, paths)
    if cache:
        np.savez(cache, x=x, listing=listing, pipeline=key)
    return x, listing


def class_to_tag(taxonomy: Taxonomy) -> dict[str, str]:
    """Lower-cased tag names and synonyms -> tag name."""
    lookup = {}
    for tag in taxonomy.tags:
        for word in (tag.name, *tag.synonyms):
            lookup.setdefault(word.casefold(), tag.name)
    return lookup


def new_head(tag_names: list[str], dim: int, key: str, setting: dict) -> TagHead:  # type: ignore[type-arg]
    return TagHead(tag_names, dim, key, alpha=setting["alpha"], prior_alpha=setting["prior_alpha"],
                   max_positive_weight=setting["max_positive_weight"], min_positives=MIN_POSITIVES)


def cv_scores(x, prior, y, has_prior, tag_names, key, setting) -> np.ndarray:  # type: ignore[no-untyped-def]
    folds = np.random.default_rng(0).permutation(len(x)) % FOLDS
    oof = np.zeros(y.shape, np.float32)
    for fold in range(FOLDS):
        test = folds == fold
        head = new_head(tag_names, x.shape[1], key, setting)
        head.fit(x[~test], prior[~test], y[~test], np.ones_like(y[~test]), has_prior)
        oof[test] = head.predict_proba(x[test], prior[test])
    return oof


def per_tag_ap(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    return np.array([average_precision_score(y[:, j], np.nan_to_num(scores[:, j], nan=0.0))
                     for j in range(y.shape[1])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "trainset")
    parser.add_argument("--out", type=Path, default=REPO / "models")
    parser.add_argument("--embeddings-cache", type=Path, default=None,
                        help="keep the embeddings here (reused when the photo list matches)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N photos (by path)")
    args = parser.parse_args(argv)

    spec = get_backbone_spec()
    key = backbone_key(spec)
    taxonomy = load_default_taxonomy()
    paths, classes = read_labels(args.photos, args.limit)
    x, listing = cached_embeddings(args.photos, paths, classes, args.embeddings_cache)

    lookup = class_to_tag(taxonomy)
    unknown = sorted({c for cs in classes for c in cs if c.casefold() not in lookup})
    if unknown:
        print(f"classes with no tag (ignored): {', '.join(unknown)}", file=sys.stderr)
    tag_sets = [{lookup[c.casefold()] for c in cs if c.casefold() in lookup} for cs in classes]
    counts = {name: sum(name in t for t in tag_sets) for name in taxonomy.names()}
    names = [name for name in taxonomy.names()
             if counts[name] >= MIN_POSITIVES and len(x) - counts[name] >= MIN_POSITIVES and name not in NOT_TAUGHT]
    if not names:
        raise SystemExit("no tag has enough photos to fit")
    y = np.array([[name in t for name in names] for t in tag_sets], bool)
    weight, bias = classifier_weights(spec)
    column = {name: i for i, name in enumerate(taxonomy.names())}
    prior = taxonomy.prior_probabilities(x @ weight.T + bias)[:, [column[n] for n in names]]
    has_prior = ~np.isnan(prior).all(axis=0)

    # 1. L2 strengths by cross-validated mAP.
    grid = []
    for alpha in ALPHAS:
        for prior_alpha in PRIOR_ALPHAS:
            for weight_cap in POSITIVE_WEIGHTS:
                setting = {"alpha": alpha, "prior_alpha": prior_alpha, "max_positive_weight": weight_cap}
                ap = per_tag_ap(y, cv_scores(x, prior, y, has_prior, names, key, setting))
                grid.append({**setting, "cv_map": round(float(ap.mean()), 4)})
                print(f"{setting}: CV mAP {ap.mean():.4f}", file=sys.stderr)
    best = max(grid, key=lambda g: g["cv_map"])
    setting = {name: best[name] for name in ("alpha", "prior_alpha", "max_positive_weight")}
    # 2. Per tag: keep the prior term where cross-validation says it helps.
    oof_with = cv_scores(x, prior, y, has_prior, names, key, setting)
    no_prior = np.full_like(prior, np.nan)
    oof_without = cv_scores(x, no_prior, y, np.zeros(len(names), bool), names, key, setting)
    ap_with, ap_without = per_tag_ap(y, oof_with), per_tag_ap(y, oof_without)
    # Kept unless dropping it is clearly better on these photos: COCO's scenes are not all a
    # user has, and the prior knows close-ups (an espresso cup) these photos rarely show.
    use_prior = has_prior & (ap_with >= ap_without - PRIOR_KEEP_MARGIN)
    ap_used = np.where(use_prior, ap_with, ap_without)
    prior_used = np.where(use_prior, prior, np.nan)
    # NaN: a fold's head had no model for the tag (too few positives in that fold): scores 0.
    oof = np.nan_to_num(np.where(use_prior, oof_with, oof_without), nan=0.0)
    head = new_head(names, x.shape[1], key, setting)
    head.fit(x, prior_used, y, np.ones_like(y), use_prior)
    # A tag fitted without its prior must not read it when serving: its weight is zero.
    head.prior_coef_[~use_prior] = 0.0
    head.thresholds_ = np.clip([best_f1_threshold(y[:, j], oof[:, j])[0] for j in range(len(names))],
                               SUGGESTION_FLOOR, MAX_THRESHOLD).astype(np.float32)
    head.trained_[:] = False  # trained_ marks the user's own training

    ap_prior = per_tag_ap(y, np.where(has_prior, prior, 0.0))
    meta = {
        "format": META_FORMAT,
        "pipeline": key,
        "backbone": spec.id,
        "preprocessing": asdict(spec.preprocessing),
        "taxonomy": taxonomy_fingerprint(taxonomy),
        "tag_names": names,
        "trained_on": {
            "photos": len(paths),
            "folder": args.photos.name,
            "listing_sha256": listing,
            "source": "COCO 2017 val photos (Flickr, via minto5z/coco_yolo and mosjel/Tiny-COCO-Val-2017-CBIR-"
                      "Test-Dataset), downscaled to 448 px; labels: COCO annotations (CC BY 4.0) as the "
                      "Ultralytics COCO-to-YOLO files",
            "not_taught": list(NOT_TAUGHT),
            "min_positives": MIN_POSITIVES,
        },
        "hyperparameters": {**setting, "grid": grid, "folds": FOLDS},
        "cross_validation": {
            "map": round(float(ap_used.mean()), 4),
            "map_prior_alone": round(float(ap_prior.mean()), 4),
            "tags": {name: {"photos": int(y[:, j].sum()), "ap": round(float(ap_used[j]), 4),
                            "ap_prior_alone": round(float(ap_prior[j]), 4), "uses_prior": bool(use_prior[j]),
                            "ap_with_prior": round(float(ap_with[j]), 4),
                            "ap_without_prior": round(float(ap_without[j]), 4),
                            "threshold": round(float(head.thresholds_[j]), 4)}
                     for j, name in enumerate(names)},
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / HEAD_FILE).write_bytes(head.to_bytes())
    (args.out / META_FILE).write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    figures = meta["cross_validation"]
    print(f"{len(names)} tags, CV mAP {figures['map']} (prior alone {figures['map_prior_alone']});"
          f" wrote {args.out / HEAD_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
