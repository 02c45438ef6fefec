"""Head-training benchmark: our TagHead.fit vs scikit-learn, and the learning curve.

Data (benchmarks/train_data.py): real COCO photos through the real backbone, real labels.
Training photos are augmented views of the 2,194 photos of ../shared/trainset (the first
2,194 views are each a different photo; 10k views are each photo 4-5 times); the test set is
the 559 photos of ../shared/devset, none of which is a training photo or a view of one (held
out by source photo, not by view). 100 tags: the 71 COCO classes with >= 10 training photos
and >= 3 test photos, and 29 unions of 2-3 of them. Sizes above the pool (50k) add jittered
copies of its views (each feature x exp(N(0, 0.15))): their timing is real, their mAP less
informative.

For each size: our fit (numpy, 1 thread; per-tag LBFGS <= 4000 photos, 3 Adam epochs + 10
LBFGS iterations <= 16k, else minibatch Adam), median of --repeats, wall and CPU time, and the
whole training (5-fold CV for thresholds + final fit); then the baseline, scikit-learn
MultiOutputClassifier(LogisticRegression(max_iter=1000)) on the same embeddings and labels,
once, under threadpoolctl.threadpool_limits(1): its best setting on 2 cores, and the one the
speed-up divides by. Beside it, at --default-threads-sizes, the same fit with default BLAS
threads in a child process, stopped after --default-threads-budget seconds (then reported
as stopped, not as a time): OpenBLAS's spinning threads make small lbfgs fits far slower.
When the one-thread fit would exceed --sklearn-budget (estimated from the previous size) it
is fitted on 10 tags and its time scaled up; the mAP is then over those tags.
mAP is over the test photos (no prior input: the head without the zero-shot prior).
Learning curve: test mAP after m fully reviewed photos (random sets of distinct photos,
--curve-samples per m) vs the zero-shot prior, and the AP of each prior tag at each step.
The last line is one JSON object.

    python benchmarks/train.py [--sizes 1000,10000,50000] [--tags 100] [--repeats 3]
        [--default-threads-budget 300] [--default-threads-sizes 1000,10000]

Measurements behind core/head_fit.py's settings (test mAP, CPU seconds, 100 tags):
- prior_alpha, on the learning curve (16 prior tags after 10/25/50/200/1000 reviewed photos):
  100: .7192/.7957/.9232/.9916/.9991; 20: .7191/.7956/.9226/.9910/.9990; alpha 3 or 10
  instead of 1 is worse from 25 photos on (zero-shot prior: .7232).
- LBFGS alone from the prior start, 50 iterations, 1k photos: 0.70 s, mAP 0.99722 (sklearn
  0.99646; torch's joint LBFGS 0.9972 in 1.0 s): LBFGS_MAX_PHOTOS.
- 10k photos (sklearn 0.99923; our objective fully converged 0.99936): Adam 5 epochs alone
  .99907 (1.0 s), 8 epochs .99915 (1.4 s); LBFGS alone 12 / 20 iterations .99921 / .99926
  (1.5 / 2.3 s); Adam 3 epochs + LBFGS 6 / 8 / 10 iterations .99921 / .99924 / .99928
  (1.4 / 1.5 / 1.8 s): the polish. Each LBFGS iteration is two products with the whole
  float32 x (~90 ms at 10k), hence POLISH_MAX_PHOTOS; at 50k Adam alone had 0.99916 vs
  sklearn 0.99915.
- Adam alone at 10k: batch 512 x 5 epochs .9984 (~0.9 s); 128 x 5 .9991 (~1.0 s); 64 x 4
  .9990; lr 1e-2 or 5e-2 no better. Whitening the embeddings (Cholesky of their covariance)
  converged worse (0.989) and cost 3x per step.
- Threads under load (GUI, decoding running): an 800 x 100 fit took 137 s with 2 BLAS
  threads vs 11 s with 1: TRAIN_THREADS.

Earlier runs (before 2026-12) used 22 scikit-image/scikit-learn sample photos in collages,
with test collages made of the same 22 photos (mAP ~0.999 for every method), and sklearn with
default BLAS threads as the baseline; their 23-68x are not comparable with the figures here.
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
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from train_data import make_embeddings, tag_matrix  # noqa: E402

from photo_tagger.core.head import TagHead  # noqa: E402
from photo_tagger.core.metrics import mean_average_precision_score, per_tag_average_precision  # noqa: E402

VIEWS = 10_000  # training views embedded (cached): augmented views of the trainset's photos


def priors(x: np.ndarray, names: list[str]) -> np.ndarray:
    """The app's zero-shot prior for these tag names (NaN for tags the taxonomy lacks)."""
    from photo_tagger.core.backbone import classifier_weights, get_backbone_spec
    from photo_tagger.core.taxonomy import load_default_taxonomy

    weight, bias = classifier_weights(get_backbone_spec())
    taxonomy = load_default_taxonomy()
    by_taxonomy = taxonomy.prior_probabilities(x @ weight.T + bias)
    column = {n.casefold(): i for i, n in enumerate(taxonomy.names())}
    out = np.full((len(x), len(names)), np.nan, np.float32)
    for j, name in enumerate(names):
        if name in column:
            out[:, j] = by_taxonomy[:, column[name]]
    return out


def training_set(pool_x: np.ndarray, pool_y: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if n <= len(pool_x):
        return pool_x[:n], pool_y[:n]
    rng = np.random.default_rng(seed)
    extra = rng.integers(0, len(pool_x), n - len(pool_x))
    jitter = np.exp(rng.normal(0, 0.15, (len(extra), pool_x.shape[1]))).astype(np.float32)
    return np.vstack([pool_x, pool_x[extra] * jitter]), np.vstack([pool_y, pool_y[extra]])


def our_fit(x, prior, y, names):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    head = TagHead(names, x.shape[1]).fit(x, prior, y, np.ones_like(y))
    return time.perf_counter() - start, head


def our_training(x, prior, y, names) -> float:  # type: ignore[no-untyped-def]
    """Fit + 5-fold CV thresholds, as `photo-tagger train` runs them (without the catalogue)."""
    from photo_tagger.core.training import choose_thresholds, out_of_fold_scores
    from photo_tagger.core.training_data import TrainingData

    # The starting model's scores (the "before" of the report): here the zero-shot prior.
    data = TrainingData(np.arange(len(x)), x, prior, y, np.ones_like(y), names, ~np.isnan(prior).all(axis=0), prior)
    start = time.perf_counter()
    *_, (_, oof) = out_of_fold_scores(data, lambda: TagHead(names, x.shape[1]))
    head = TagHead(names, x.shape[1]).fit(x, prior, y, data.mask, data.has_prior)
    head.thresholds_ = choose_thresholds(head, data, oof)
    return time.perf_counter() - start


def sklearn_fit(x, y, columns, threads: int | None = 1):  # type: ignore[no-untyped-def]
    """scikit-learn's fit, under `threads` BLAS threads (None: the library default)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multioutput import MultiOutputClassifier
    from threadpoolctl import threadpool_limits

    model = MultiOutputClassifier(LogisticRegression(max_iter=1000))
    with threadpool_limits(threads):
        start = time.perf_counter()
        model.fit(x, y[:, columns])
        return time.perf_counter() - start, model


DEFAULT_THREADS_CHILD = """
import sys, time
import numpy as np
sys.path.insert(0, sys.argv[2])
from train import sklearn_fit
data = np.load(sys.argv[1])
seconds, _ = sklearn_fit(data["x"], data["y"], data["columns"], threads=None)
print(seconds)
"""


def sklearn_default_threads_fit(x, y, columns, budget: float) -> float | None:  # type: ignore[no-untyped-def]
    """Seconds of the same fit with default BLAS threads, in a child process stopped after
    `budget` seconds (None then): with spinning BLAS threads on 2 cores it can take minutes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fit.npz"
        np.savez(path, x=x, y=y, columns=columns)
        try:
            out = subprocess.run([sys.executable, "-c", DEFAULT_THREADS_CHILD, str(path), str(Path(__file__).parent)],
                                 capture_output=True, text=True, check=True, timeout=budget)
        except subprocess.TimeoutExpired:
            return None
    return float(out.stdout.strip().splitlines()[-1])


def sklearn_proba(model, x) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.stack([p[:, 1] for p in model.predict_proba(x)], axis=1)


def learning_curve(pool_x, pool_y, pool_p, test_x, test_y, test_p, names, samples: int) -> dict:  # type: ignore[no-untyped-def]
    """Test mAP after m fully reviewed photos, each m averaged over `samples` random sets of
    photos from the pool (one fixed order showed a dip at 10 photos that one other order
    does not have: with 10 photos, which ones matters more than the method)."""
    has_prior = ~np.isnan(test_p).all(axis=0)
    prior_cols = np.flatnonzero(has_prior)
    zero_shot = np.where(has_prior, test_p, 0.0)
    prior_map = mean_average_precision_score(test_y[:, prior_cols], test_p[:, prior_cols])
    prior_map_all = mean_average_precision_score(test_y, zero_shot)
    print(f"learning curve (test mAP, mean of {samples} random sets of reviewed photos [worst set]; "
          f"zero-shot prior: {prior_map:.4f} on its {len(prior_cols)} tags, {prior_map_all:.4f} on all tags):")
    curve: dict[str, dict[str, float]] = {}
    per_tag = {"zero-shot": per_tag_average_precision(test_y[:, prior_cols], test_p[:, prior_cols])}
    for m in (10, 25, 50, 100, 200):
        on_prior, overall, trained, tag_aps = [], [], [], []
        for seed in range(samples):
            rows = np.random.default_rng(seed).choice(len(pool_x), m, replace=False)
            _, head = our_fit(pool_x[rows], pool_p[rows], pool_y[rows], names)
            proba = head.predict_proba(test_x, test_p)
            served = np.where(np.isnan(proba), zero_shot, proba)  # tags without a model yet: never suggested
            on_prior.append(mean_average_precision_score(test_y[:, prior_cols], served[:, prior_cols]))
            overall.append(mean_average_precision_score(test_y, served))
            trained.append(int(head.trained_.sum()))
            tag_aps.append(per_tag_average_precision(test_y[:, prior_cols], served[:, prior_cols]))
        per_tag[str(m)] = np.nanmean(tag_aps, axis=0)
        curve[str(m)] = {"map_prior_tags": round(float(np.mean(on_prior)), 4),
                         "map_prior_tags_worst": round(float(np.min(on_prior)), 4),
                         "map_all_tags": round(float(np.mean(overall)), 4), "tags_trained": float(np.mean(trained))}
        print(f"  {m:>4} reviewed photos: mAP {np.mean(on_prior):.4f} [{np.min(on_prior):.4f}] on the prior's tags, "
              f"{np.mean(overall):.4f} on all ({np.mean(trained):.0f} tags trained)", flush=True)
    print("AP per prior tag on the test set, mean over the sets (the prior's tags are the photos' real content, "
          "set by eye):")
    print(f"  {'tag':<12}" + "".join(f"{column:>10}" for column in per_tag))
    for i, column in enumerate(prior_cols):
        print(f"  {names[column]:<12}" + "".join(f"{aps[i]:>10.4f}" for aps in per_tag.values()))
    return {
        "zero_shot_map_prior_tags": round(prior_map, 4), "zero_shot_map_all_tags": round(prior_map_all, 4),
        "learning_curve": curve, "curve_samples": samples,
        "ap_per_prior_tag": {names[column]: {key: round(float(aps[i]), 4) for key, aps in per_tag.items()}
                             for i, column in enumerate(prior_cols)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--tags", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    # The one-thread baseline on all 100 tags unless its estimate (from the previous size,
    # linear in photos) exceeds this; then a 10-tag sample, its time scaled up (said so).
    parser.add_argument("--sklearn-budget", type=float, default=600.0, help="seconds per one-thread sklearn fit")
    parser.add_argument("--default-threads-budget", type=float, default=300.0,
                        help="seconds before the default-threads sklearn fit is stopped (reported as stopped)")
    parser.add_argument("--default-threads-sizes", default="1000,10000",
                        help="sizes at which sklearn is also fitted with default BLAS threads")
    parser.add_argument("--views", type=int, default=VIEWS, help="training views to embed (smaller: a smoke run)")
    parser.add_argument("--curve-samples", type=int, default=5, help="random sets of photos per learning-curve step")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "ptbench")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]  # "" runs the learning curve only
    default_threads_sizes = {int(s) for s in args.default_threads_sizes.split(",") if s}

    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    pool_x, photo, test_x, pool_labels, test_labels = make_embeddings(args.views, args.cache)
    names, pool_y, test_y = tag_matrix(pool_labels, photo, test_labels, args.tags)
    pool_p, test_p = priors(pool_x, names), priors(test_x, names)
    n_prior = int((~np.isnan(test_p).all(axis=0)).sum())
    print(f"{len(names)} tags ({n_prior} with a zero-shot prior), base rate {pool_y.mean():.3f}; training pool "
          f"{len(pool_x)} views of {len(np.unique(photo))} photos; test set {len(test_x)} other photos (held out)")
    result: dict[str, object] = {
        "n_tags": len(names), "embeddings": "COCO photos: training views of shared/trainset, test shared/devset",
        "test_photos": len(test_x), "training_views": len(pool_x), "training_photos": int(len(np.unique(photo))),
        "load_average_start": round(os.getloadavg()[0], 1),
    }
    our_fit(pool_x[:50], pool_p[:50], pool_y[:50], names)  # warm-up: first-call costs (imports, BLAS start)
    sk_seconds_per_photo_tag = None
    for n in sizes:
        x, y = training_set(pool_x, pool_y, n, seed=n)
        p = priors(x, names) if n > len(pool_x) else pool_p[:n]
        times, cpu_times, head = [], [], None
        for _ in range(args.repeats):
            cpu = time.process_time()
            seconds, head = our_fit(x, p, y, names)
            times.append(seconds)
            cpu_times.append(time.process_time() - cpu)
        ours_s, ours_cpu = statistics.median(times), statistics.median(cpu_times)
        ours_map = mean_average_precision_score(test_y, head.predict_proba(test_x, test_p))
        _, head_np = our_fit(x, np.full_like(p, np.nan), y, names)
        ours_np_map = mean_average_precision_score(test_y, head_np.predict_proba(test_x, np.full_like(test_p, np.nan)))
        train_s = our_training(x, p, y, names)
        # CPU time too: on a loaded VM the wall time is several times the work done.
        line = (f"n={n}: ours fit {ours_s:.2f} s (runs {', '.join(f'{t:.2f}' for t in times)}; CPU {ours_cpu:.2f} s), "
                f"with 5-fold CV thresholds {train_s:.2f} s; mAP {ours_map:.4f} (no prior input {ours_np_map:.4f})")
        key = f"{n // 1000}k"
        result |= {f"ours_fit_s_{key}": round(ours_s, 3), f"ours_fit_cpu_s_{key}": round(ours_cpu, 3),
                   f"ours_train_with_cv_s_{key}": round(train_s, 3),
                   f"ours_map_{key}": round(ours_map, 4), f"ours_no_prior_map_{key}": round(ours_np_map, 4)}
        columns = np.arange(len(names))
        estimate = None if sk_seconds_per_photo_tag is None else sk_seconds_per_photo_tag * n * len(names)
        if estimate is not None and estimate > args.sklearn_budget:
            columns = np.random.default_rng(0).choice(len(names), 10, replace=False)
        sk_cpu = time.process_time()
        sk_s, model = sklearn_fit(x, y, columns, threads=1)
        sk_cpu = (time.process_time() - sk_cpu) * len(names) / len(columns)
        scale = len(names) / len(columns)
        sk_map = mean_average_precision_score(test_y[:, columns], sklearn_proba(model, test_x))
        ours_same = mean_average_precision_score(test_y[:, columns], head.predict_proba(test_x, test_p)[:, columns])
        sk_seconds_per_photo_tag = sk_s / (n * len(columns))
        sk_total = sk_s * scale
        line += (f"\n        sklearn, 1 BLAS thread: {sk_total:.1f} s"
                 + (f" (fitted {len(columns)} tags in {sk_s:.1f} s, x{scale:.0f})" if scale > 1 else "")
                 + f" (CPU {sk_cpu:.1f} s), mAP {sk_map:.4f} vs ours "
                 f"{ours_same:.4f} on the same tags; speed-up {sk_total / ours_s:.1f}x (fit), "
                 f"{sk_total / train_s:.1f}x (ours with CV)")
        result |= {f"sklearn_fit_s_{key}": round(sk_total, 2), f"sklearn_tags_fitted_{key}": int(len(columns)),
                   f"sklearn_map_{key}": round(sk_map, 4), f"ours_map_same_tags_{key}": round(ours_same, 4),
                   f"speedup_fit_{key}": round(sk_total / ours_s, 1), f"sklearn_fit_cpu_s_{key}": round(sk_cpu, 1),
                   f"speedup_fit_cpu_{key}": round(sk_cpu / ours_cpu, 1)}
        if n in default_threads_sizes:
            budget = args.default_threads_budget / scale
            default_s = sklearn_default_threads_fit(x, y, columns, budget)
            if default_s is None:
                line += (f"\n        sklearn, default BLAS threads ({os.cpu_count()}): stopped after "
                         f"{args.default_threads_budget:.0f} s" + (" (scaled)" if scale > 1 else "") +
                         f" ({args.default_threads_budget / sk_total:.0f}x the one-thread fit or more)")
                result |= {f"sklearn_default_threads_fit_s_{key}": None,
                           f"sklearn_default_threads_stopped_after_s_{key}": args.default_threads_budget}
            else:
                line += (f"\n        sklearn, default BLAS threads ({os.cpu_count()}): {default_s * scale:.1f} s, "
                         f"{default_s * scale / sk_total:.1f}x the one-thread fit")
                result[f"sklearn_default_threads_fit_s_{key}"] = round(default_s * scale, 2)
        print(line, flush=True)

    # The pool's first views are each of a different photo: a reviewed set has no near-duplicates.
    distinct = len(np.unique(photo))
    result |= learning_curve(pool_x[:distinct], pool_y[:distinct], pool_p[:distinct], test_x, test_y, test_p, names,
                             args.curve_samples)
    result["load_average_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
