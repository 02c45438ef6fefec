"""Learn from corrections: labelled photos -> cross-validated thresholds -> a new head.

`train_catalogue` is a generator (progress out; closing it cancels before anything is
written). The new head is kept and activated by `head_versions`, which also rolls back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator

import numpy as np

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.errors import UserError
from photo_tagger.core.head import TagHead
from photo_tagger.core.head_versions import activate_and_refresh, store_head, update_report
from photo_tagger.core.metrics import best_f1_threshold, precision_threshold
from photo_tagger.core.report import TrainReport, build_report
from photo_tagger.core.suggest import SUGGESTION_FLOOR, prior_suggestion_model
from photo_tagger.core.taxonomy import Taxonomy
from photo_tagger.core.train_progress import TrainProgress
from photo_tagger.core.training_data import TrainingData, cross_validation_sample, load_training_data

CV_FOLDS = 5
MAX_THRESHOLD = 0.99
TARGET_PRECISION_SETTING = "training.target_precision"


def target_precision(catalogue: Catalogue) -> float | None:
    """The library's threshold policy: a precision to keep, or None to maximise F1."""
    text = catalogue.get_meta(TARGET_PRECISION_SETTING)
    try:
        return None if text in (None, "", "f1") else check_target_precision(float(text))
    except ValueError:
        return None  # a bad stored value must not stop training: F1 is the safe default


def set_target_precision(catalogue: Catalogue, value: float | None) -> None:
    catalogue.set_meta(TARGET_PRECISION_SETTING, "f1" if value is None else repr(check_target_precision(value)))


def check_target_precision(value: float) -> float:
    if not 0.0 < value < 1.0:
        raise ValueError(f"target precision must be between 0 and 1 (exclusive), not {value}")
    return value


def cv_folds(n: int, k: int = CV_FOLDS, seed: int = 0) -> np.ndarray:
    """(n,) fold number of each photo: a fixed shuffle, so a catalogue trains the same."""
    order = np.random.default_rng(seed).permutation(n)
    folds = np.empty(n, np.int64)
    folds[order] = np.arange(n) % k
    return folds


def out_of_fold_scores(
    data: TrainingData, make_head: Callable[[], TagHead], k: int = CV_FOLDS, seed: int = 0
) -> Iterator[tuple[int, np.ndarray]]:
    """Yields (fold, scores so far); the last scores are every photo's out-of-fold
    probabilities (NaN where the fold's head had no model for the tag)."""
    n = len(data.photo_ids)
    scores = np.full(data.labels.shape, np.nan, np.float32)
    folds = cv_folds(n, k, seed)
    for fold in range(k):
        test = folds == fold
        head = make_head().fit(
            data.embeddings[~test], data.prior[~test], data.labels[~test], data.mask[~test], data.has_prior
        )
        scores[test] = head.predict_proba(data.embeddings[test], data.prior[test])
        yield fold, scores


def _known_scores(
    head: TagHead, data: TrainingData, oof: np.ndarray, rows: np.ndarray | None = None
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(tag column, labels, out-of-fold scores) of each trained tag, over the photos (of
    `rows`, if given) where both the label and a score are known."""
    for j in np.flatnonzero(head.trained_):
        known = data.mask[:, j] & ~np.isnan(oof[:, j])
        if rows is not None:
            known &= rows
        if known.any():
            yield int(j), data.labels[known, j], oof[known, j]


def choose_thresholds(
    head: TagHead,
    data: TrainingData,
    oof: np.ndarray,
    *,
    target_precision: float | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Per trained tag, the threshold chosen on the out-of-fold scores (of `rows` only, if
    given): the lowest one reaching `target_precision`, or the one maximising F1 when no
    target is set or the tag cannot reach it; clamped to [SUGGESTION_FLOOR, MAX_THRESHOLD].
    Other tags keep theirs."""
    thresholds = head.thresholds_.copy()
    for j, y, scores in _known_scores(head, data, oof, rows):
        reached = None if target_precision is None else precision_threshold(y, scores, target_precision)
        threshold = reached[0] if reached is not None else best_f1_threshold(y, scores)[0]
        thresholds[j] = min(max(threshold, SUGGESTION_FLOOR), MAX_THRESHOLD)
    return thresholds


def precision_unreached(head: TagHead, data: TrainingData, oof: np.ndarray, target_precision: float) -> list[int]:
    """Trained tags whose out-of-fold scores reach `target_precision` at no threshold."""
    return [j for j, y, scores in _known_scores(head, data, oof)
            if y.any() and precision_threshold(y, scores, target_precision) is None]


def cross_fitted_predictions(
    head: TagHead, data: TrainingData, oof: np.ndarray, folds: np.ndarray, target_precision: float | None
) -> np.ndarray:
    """Each photo's out-of-fold yes/no, cut at thresholds chosen on the other folds' photos:
    the report's "after" precision, recall and F1 then come from thresholds that never saw
    the photo, as the head's own thresholds will not have seen tomorrow's photos."""
    predicted = np.zeros(oof.shape, bool)
    for fold in np.unique(folds):
        here = folds == fold
        thresholds = choose_thresholds(head, data, oof, target_precision=target_precision, rows=~here)
        with np.errstate(invalid="ignore"):
            predicted[here] = oof[here] >= thresholds
    return predicted


def train_catalogue(
    catalogue: Catalogue,
    backbone_key: str,
    classifier: tuple[np.ndarray, np.ndarray],
    taxonomy: Taxonomy | None = None,
    *,
    make_head: Callable[[list[str], int, str], TagHead] | None = None,
    folds: int = CV_FOLDS,
    target_precision: float | None = None,
) -> Generator[TrainProgress, None, TrainReport]:
    """Fit a head on the catalogue's labels, store it, make it active, refresh suggestions.
    `target_precision`: thresholds keep at least this precision (where the tag's photos allow
    it) instead of maximising F1."""
    if target_precision is not None:
        check_target_precision(target_precision)
    start = time.perf_counter()
    yield TrainProgress("loading", 0, 0, 0.0, "Reading corrections")
    base = prior_suggestion_model(catalogue, backbone_key, classifier, taxonomy)
    data = load_training_data(catalogue, base)
    if len(data.photo_ids) == 0:
        raise UserError(
            f"{catalogue.path}: nothing to learn from yet; confirm or reject some tags first"
            " (photos must be indexed)"
        )
    dim = base.head.embedding_dim

    tag_names = data.tag_names

    def new_head() -> TagHead:
        return make_head(tag_names, dim, backbone_key) if make_head else TagHead(tag_names, dim, backbone_key)

    cv_data = cross_validation_sample(data)
    k = min(folds, len(cv_data.photo_ids))
    oof = np.full(cv_data.labels.shape, np.nan, np.float32)
    if k >= 2:
        for fold, scores in out_of_fold_scores(cv_data, new_head, k):
            oof = scores
            yield TrainProgress("cross-validating", fold + 1, k + 1, time.perf_counter() - start,
                                f"Cross-validation fold {fold + 1} of {k}")
    fit_start = time.perf_counter()
    head = new_head().fit(data.embeddings, data.prior, data.labels, data.mask, data.has_prior)
    fit_seconds = time.perf_counter() - fit_start
    head.thresholds_ = choose_thresholds(head, cv_data, oof, target_precision=target_precision)
    yield TrainProgress("fitting", k + 1, k + 1, time.perf_counter() - start, "Fitted")
    after_pred = cross_fitted_predictions(head, cv_data, oof, cv_folds(len(cv_data.photo_ids), k), target_precision) \
        if k >= 2 else None
    unreached = [] if target_precision is None else precision_unreached(head, cv_data, oof, target_precision)
    report = build_report(cv_data, head, oof, cv_folds=k, after_pred=after_pred,
                          target_precision=target_precision, precision_unreached=unreached)
    report.fit_seconds = fit_seconds
    report.seconds = time.perf_counter() - start
    # Nothing was written before this point: closing the generator above leaves no trace.
    head_id = store_head(catalogue, head, report)
    report.head_id = head_id
    del data, cv_data, oof, after_pred  # the refresh below reads embeddings afresh; 100k photos: ~350 MB back
    yield from activate_and_refresh(catalogue, head_id, backbone_key, classifier, taxonomy, start)
    report.seconds = time.perf_counter() - start
    update_report(catalogue, head_id, report)
    yield TrainProgress("done", 1, 1, report.seconds, "Done")
    return report


