"""Check a taxonomy against labelled photos: each COCO class's AP of its tag's zero-shot prior.

    python benchmarks/taxonomy_check.py --names                      # tag -> ImageNet class names
    python benchmarks/taxonomy_check.py FOLDER [--taxonomy FILE] [--per-class]

FOLDER holds `labels.csv` (`path,tags`, COCO-80 names joined by ';'). Photos are embedded once
with the app's own pipeline and their logits cached in FOLDER-named .npz under /tmp. A COCO class
maps to the tag whose name or synonym is its COCO name; no tag, or a tag without members, counts
as AP 0. Choose on a training folder; measure on a held-out one.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from pathlib import Path

import numpy as np
from coco import COCO_CLASSES

from photo_tagger.core.backbone import get_backbone_spec, imagenet_class_names, load_embedder, to_model_input
from photo_tagger.core.imaging import decode_photo
from photo_tagger.core.indexer import decode_short_side
from photo_tagger.core.metrics import average_precision_score
from photo_tagger.core.taxonomy import load_default_taxonomy, parse_taxonomy


def cached_logits(folder: Path) -> tuple[np.ndarray, list[str]]:
    rows = list(csv.DictReader((folder / "labels.csv").open(encoding="utf-8")))
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
    cache = Path("/tmp") / f"taxonomy_check_{key}.npz"
    if cache.exists():
        return np.load(cache)["logits"], [row["tags"] for row in rows]
    spec, embedder = get_backbone_spec(), load_embedder()
    logits = []
    for start in range(0, len(rows), 16):
        batch = [
            to_model_input(decode_photo(folder / r["path"], decode_short_side(spec)).model_image, spec.preprocessing)
            for r in rows[start : start + 16]
        ]
        logits.append(embedder.embed(np.stack(batch))[1])
    np.savez(cache, logits=np.concatenate(logits))
    return np.concatenate(logits), [row["tags"] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--taxonomy", type=Path, help="default: the shipped taxonomy")
    parser.add_argument("--names", action="store_true", help="print tag -> class names")
    parser.add_argument("--per-class", action="store_true")
    args = parser.parse_args()
    taxonomy = (
        parse_taxonomy(args.taxonomy.read_text("utf-8"), str(args.taxonomy))
        if args.taxonomy
        else load_default_taxonomy()
    )
    if args.names:
        names = imagenet_class_names()
        for tag in taxonomy.tags:
            print(f"{tag.parent or '-'} > {tag.name}: {'; '.join(names[i] for i in tag.imagenet) or '(none)'}")
    if args.folder is None:
        return
    logits, tags = cached_logits(args.folder)
    labels = np.array([[name in set(t.split(";")) for name in COCO_CLASSES] for t in tags], np.int8)
    prior = taxonomy.prior_probabilities(logits)
    column = {}
    for i, tag in enumerate(taxonomy.tags):
        for word in (tag.name, *tag.synonyms):
            column.setdefault(word.casefold(), i)
    aps = {}
    for j, name in enumerate(COCO_CLASSES):
        i = column.get(name)
        if labels[:, j].sum():
            scorable = i is not None and not np.isnan(prior[:, i]).all()
            aps[name] = average_precision_score(labels[:, j], prior[:, i]) if scorable else 0.0
    if args.per_class:
        for name, ap in sorted(aps.items(), key=lambda item: item[1]):
            print(f"  {name:15s} {ap:.3f}")
    scored = sum(ap > 0 for ap in aps.values())
    print(
        f"{args.folder}: mAP over {len(aps)} COCO classes with photos {np.mean(list(aps.values())):.3f}"
        f" ({scored} scored by a tag with members); person AP {aps.get('person', float('nan')):.3f}"
        f" (person in {labels[:, 0].mean():.0%} of {len(tags)} photos)"
    )


if __name__ == "__main__":
    main()
