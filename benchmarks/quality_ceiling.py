"""How far can corrections take devset's second half? A ceiling for quality.py's figure.

quality.py imports the complete truth of devset's first half (285 photos) and retrains; the
target for the second half's mAP is 0.65. This asks what any linear head on the app's own
embeddings could reach: per COCO class (person aside: trainset has almost no photo without
one), a plain linear probe (TagHead with no prior, L2 alpha as given) fitted on

  trainset               what the shipped head can know (2,194 photos)
  first half             what the user's corrections alone teach
  trainset + first half  the most a linear head can learn from both, as if trained on the union

and its mAP on the second half over the classes with at least 3 photos there (quality.py's
rule, person left out). The embeddings are the app's: devset's are read from a library kept by
`quality.py --keep DIR`, trainset's from `scripts/build_pretrained_head.py --embeddings-cache`.

    python benchmarks/quality_ceiling.py --library DIR --trainset-embeddings FILE.npz [--alpha 30]

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from script_modules import BUILD_SCRIPT, load_module

from photo_tagger.core.head import TagHead
from photo_tagger.core.metrics import average_precision_score
from photo_tagger.core.suggest import decode_vectors

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def devset_embeddings(library: Path) -> dict[str, np.ndarray]:
    """Photo path -> embedding, as the kept library stores them."""
    import sqlite3

    db = library / ".photo-tagger" / "catalogue.sqlite"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT p.path, e.vector FROM embeddings e JOIN photos p ON p.id = e.photo_id").fetchall()
    vectors = decode_vectors([row[1] for row in rows], len(rows[0][1]) // 2)
    return {path: vectors[i] for i, (path, _) in enumerate(rows)}


def probe(x: np.ndarray, y: np.ndarray, alpha: float) -> TagHead:
    names = [str(j) for j in range(y.shape[1])]
    no_prior = np.full(y.shape, np.nan, np.float32)
    return TagHead(names, x.shape[1], alpha=alpha, min_positives=1, min_negatives=1).fit(
        x, no_prior, y, np.ones_like(y), np.zeros(y.shape[1], bool))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--library", type=Path, required=True, help="a library kept by quality.py --keep")
    parser.add_argument("--trainset-embeddings", type=Path, required=True,
                        help="the .npz of build_pretrained_head.py --embeddings-cache")
    parser.add_argument("--trainset", type=Path, default=REPO.parent / "shared" / "trainset")
    parser.add_argument("--devset", type=Path, default=REPO.parent / "shared" / "devset")
    parser.add_argument("--alpha", type=float, default=30.0)
    args = parser.parse_args()
    quality = load_module(HERE / "quality.py")
    build = load_module(BUILD_SCRIPT)

    train_paths, train_tags = build.read_labels(args.trainset, None)
    x_train = np.load(args.trainset_embeddings)["x"].astype(np.float32)
    if len(x_train) != len(train_paths):
        print(f"{args.trainset_embeddings}: {len(x_train)} embeddings for {len(train_paths)} photos", file=sys.stderr)
        return 1
    labels = quality.read_labels(args.devset)
    by_path = devset_embeddings(args.library)
    first, second = quality.split_halves(sorted(labels))
    classes = sorted({c for tags in labels.values() for c in tags} - {"person"})

    def truth(tag_sets: list[set[str]]) -> np.ndarray:
        return np.array([[c in tags for c in classes] for tags in tag_sets], bool)

    x_first, y_first = np.stack([by_path[p] for p in first]), truth([labels[p] for p in first])
    x_second, y_second = np.stack([by_path[p] for p in second]), truth([labels[p] for p in second])
    y_train = truth(train_tags)
    scored = [j for j in range(len(classes)) if y_second[:, j].sum() >= quality.MIN_PHOTOS]

    def second_half_map(head: TagHead) -> float:
        scores = np.nan_to_num(head.predict_proba(x_second, np.full(y_second.shape, np.nan, np.float32)), nan=0.0)
        return float(np.mean([average_precision_score(y_second[:, j], scores[:, j]) for j in scored]))

    figures = {
        "classes": len(scored), "alpha": args.alpha,
        "probe_trainset_map": second_half_map(probe(x_train, y_train, args.alpha)),
        "probe_first_half_map": second_half_map(probe(x_first, y_first, args.alpha)),
        "probe_union_map": second_half_map(probe(np.vstack([x_train, x_first]), np.vstack([y_train, y_first]),
                                                 args.alpha)),
    }
    figures = {k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}
    print(f"second half, {figures['classes']} COCO classes (person aside), linear probe alpha {args.alpha:g}:")
    print(f"  trainset only          {figures['probe_trainset_map']:.4f}")
    print(f"  first half only        {figures['probe_first_half_map']:.4f}")
    print(f"  trainset + first half  {figures['probe_union_map']:.4f}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
