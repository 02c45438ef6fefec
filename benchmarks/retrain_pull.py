"""How hard should retraining pull a tag back toward its start? Measured on ../shared/trainset.

training.py's `pull_toward_start` gives each tag an L2 strength (alpha, in photos) by what its
start knows. This measures both kinds of start on real labelled photos:
  fitted  a head fitted on 1,300 trainset photos (part A), as the shipped pretrained head is
  prior   the taxonomy's zero-shot prior alone (TagHead.from_prior), as person or pet start
Each start is retrained on random sets of 10-450 photos from the other part (B) at every alpha,
positives weighted up to 1x (a strong tag) or 10x (any other), and tested on the rest of B (444
photos): mean and worst test mAP over 5 sets per size (1 set at 450), over the COCO classes with
at least 10 photos that the start covers (person aside: 99% of trainset has people). devset is
not read.

    python benchmarks/retrain_pull.py [--trainset ../shared/trainset] [--embeddings-cache FILE.npz]
                                      [--alphas 1,10,30,100,300] [--sizes 10,25,50,100,250,450]

The embeddings are the app's, made (and cached) by scripts/build_pretrained_head.py's own
step. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from script_modules import BUILD_SCRIPT, REPO, load_module

from photo_tagger.core.backbone import classifier_weights, get_backbone_spec
from photo_tagger.core.head import TagHead
from photo_tagger.core.metrics import average_precision_score
from photo_tagger.core.taxonomy import load_default_taxonomy

START_PHOTOS = 1300
TEST_PHOTOS = 444
MIN_PHOTOS = 10
SETS = 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trainset", type=Path, default=REPO.parent / "shared" / "trainset")
    parser.add_argument("--embeddings-cache", type=Path, default=None)
    parser.add_argument("--alphas", default="1,10,30,100,300")
    parser.add_argument("--sizes", default="10,25,50,100,250,450")
    parser.add_argument("--positive-weights", default="1,10")
    args = parser.parse_args()
    alphas = [float(a) for a in args.alphas.split(",")]
    sizes = [int(n) for n in args.sizes.split(",")]
    weights = [float(w) for w in args.positive_weights.split(",")]

    build = load_module(BUILD_SCRIPT)
    started = time.perf_counter()
    paths, classes = build.read_labels(args.trainset, None)
    x, _ = build.cached_embeddings(args.trainset, paths, classes, args.embeddings_cache)
    taxonomy = load_default_taxonomy()
    lookup = build.class_to_tag(taxonomy)
    tag_sets = [{lookup[c.casefold()] for c in cs if c.casefold() in lookup} for cs in classes]
    names = [n for n in taxonomy.names() if n != "person" and sum(n in t for t in tag_sets) >= MIN_PHOTOS]
    y = np.array([[n in t for n in names] for t in tag_sets])
    weight, bias = classifier_weights(get_backbone_spec())
    column = {n: i for i, n in enumerate(taxonomy.names())}
    prior = taxonomy.prior_probabilities(x @ weight.T + bias)[:, [column[n] for n in names]]
    has_prior = ~np.isnan(prior).all(axis=0)

    order = np.random.default_rng(1).permutation(len(x))
    part_a, part_b = order[:START_PHOTOS], order[START_PHOTOS:]
    pool, test = part_b[:-TEST_PHOTOS], part_b[-TEST_PHOTOS:]
    starts = {
        "fitted": TagHead(names, x.shape[1], "k", alpha=30, prior_alpha=100, max_positive_weight=1,
                          min_positives=5).fit(x[part_a], prior[part_a], y[part_a], np.ones_like(y[part_a]), has_prior),
        "prior": TagHead.from_prior(names, has_prior, x.shape[1], "k"),
    }

    def test_map(head: TagHead, covered: np.ndarray) -> float:
        scores = np.nan_to_num(head.predict_proba(x[test], prior[test]), nan=0.0)
        return float(np.mean([average_precision_score(y[test, j], scores[:, j])
                              for j in np.flatnonzero(covered) if y[test, j].any()]))

    figures: dict[str, float | int | str] = {"photos": len(x), "tags": len(names), "test_photos": TEST_PHOTOS}
    for kind, start in starts.items():
        covered = start.has_model_.copy()
        before = test_map(start, covered)
        figures[f"{kind}_start_map"] = round(before, 4)
        print(f"\n{kind} start ({int(covered.sum())} tags): test mAP {before:.4f} before retraining;"
              " mean / worst of the sets after n photos")
        print("alpha  weight " + "".join(f"{n:>15}" for n in sizes))
        for weight_cap in weights:
            for alpha in alphas:
                cells = []
                for n in sizes:
                    results = []
                    for seed in range(SETS if n < len(pool) else 1):
                        rows = np.random.default_rng(seed).choice(pool, min(n, len(pool)), replace=False)
                        head = TagHead(names, x.shape[1], "k", alpha=alpha, prior_alpha=100,
                                       max_positive_weight=weight_cap).fit(
                            x[rows], prior[rows], y[rows], np.ones_like(y[rows]), has_prior, start=start)
                        results.append(test_map(head, covered))
                    cells.append(f"{np.mean(results):.4f}/{np.min(results):.4f}")
                    name = f"{kind}_w{weight_cap:g}_alpha{alpha:g}_n{n}"
                    figures[f"{name}_mean_map"] = round(float(np.mean(results)), 4)
                    figures[f"{name}_worst_map"] = round(float(np.min(results)), 4)
                print(f"{alpha:>5g}  {weight_cap:>6g} " + "".join(f"{c:>15}" for c in cells), flush=True)
    figures["total_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
