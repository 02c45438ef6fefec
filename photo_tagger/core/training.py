"""Learn from corrections: labelled photos -> cross-validated thresholds -> a new head.

`train_catalogue` is a generator (progress out; closing it cancels before anything is
written). The new head is kept and activated by `head_versions`, which also rolls back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import numpy as np

from photo_tagger.core.errors import UserError
from photo_tagger.core.head import TagHead
from photo_tagger.core.head_versions import activate_and_refresh, store_head, update_report
from photo_tagger.core.metrics import average_precision_score, best_f1_threshold, precision_threshold
from photo_tagger.core.progress import Progress
from photo_tagger.core.report import TrainReport, build_report
from photo_tagger.core.store import heads, settings
from photo_tagger.core.store.connection import APP_FOLDER, Catalogue
from photo_tagger.core.suggest import (
    SuggestionModel,
    base_suggestion_model,
    clamp_threshold,
    load_suggestion_model,
)
from photo_tagger.core.taxonomy import Taxonomy
from photo_tagger.core.training_data import TrainingData, cross_validation_sample, load_training_data

CV_FOLDS = 5
# Below this many confirmed (or negative) examples a threshold chosen on them is mostly noise
# (5 positives put person's at 0.17): it is shrunk toward the starting model's, in proportion.
TRUSTED_EXAMPLES = 10
# How hard retraining pulls a tag back toward its start (L2, in photos) follows what the start
# knows, and a tag with a start does not reweight its positives (its scores already read as
# probabilities). Chosen on ../shared/trainset with `python benchmarks/retrain_pull.py` (start:
# a head fitted on 1,300 photos, or the prior alone; retrain on 10-450 others; test on 444):
# - fitted on real photos (the shipped pretrained head, ~2,000 of them): hard, or a few hundred
#   of the user's photos undo what thousands taught. alpha 1 / 30 / 100 / 300 after 250 photos:
#   test mAP 0.548 / 0.583 / 0.590 / 0.589 against 0.587 before; only 300's worst set never fell
#   below it (100's: 0.585 after 100 photos);
# - the taxonomy's zero-shot prior (person's faces, clothing and context included), never fitted
#   on photos: light. alpha 1 / 10 / 30 / 100 / 300 after 250 photos: 0.538 / 0.547 / 0.545 /
#   0.530 / 0.511 (0.492 before); 10 was the best (or within 0.001) from 10 to 450 photos.
#   (Reweighting positives up to 10x needs alpha 100 for the same figures.)
# - no start (the user's own tag): alpha 1, positives reweighted up to 10x.
PRETRAINED_ALPHA = 300.0
PRIOR_ALPHA = 10.0
# A tag with a strong start (fitted, or several zero-shot signals combined, like person) is
# retrained only from this many confirmed and negative photos: below, the pull keeps it where
# it was anyway, and cross-validating a handful only lets noise through.
PRETRAINED_MIN_EXAMPLES = TRUSTED_EXAMPLES
NEW_TAG_MIN_EXAMPLES = 3  # confirmed and negative photos before any other tag is trained
# A trained head in use is compared with the new one on labelled photos it never saw, once there
# are this many (on the photos it was trained on it would look better than it is).
MIN_UNSEEN_PHOTOS = 10


def target_precision(catalogue: Catalogue) -> float | None:
    """The library's threshold policy: a precision to keep, or None to maximise F1."""
    value = settings.target_precision(catalogue)
    try:
        return None if value is None else check_target_precision(value)
    except ValueError:
        return None  # a bad stored value must not stop training: F1 is the safe default


def set_target_precision(catalogue: Catalogue, value: float | None) -> None:
    settings.set_target_precision(catalogue, None if value is None else check_target_precision(value))


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
    data: TrainingData, make_head: Callable[[], TagHead], k: int = CV_FOLDS, seed: int = 0,
    start: TagHead | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yields (fold, scores so far); the last scores are every photo's out-of-fold
    probabilities (NaN where the fold's head had no model for the tag)."""
    n = len(data.photo_ids)
    scores = np.full(data.labels.shape, np.nan, np.float32)
    folds = cv_folds(n, k, seed)
    for fold in range(k):
        test = folds == fold
        head = make_head().fit(
            data.embeddings[~test], data.prior[~test], data.labels[~test], data.mask[~test], data.has_prior,
            start=start,
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
    target is set or the tag cannot reach it; clamped to the suggestion range (`clamp_threshold`).
    Other tags keep theirs."""
    thresholds = head.thresholds_.copy()
    for j, y, scores in _known_scores(head, data, oof, rows):
        reached = None if target_precision is None else precision_threshold(y, scores, target_precision)
        threshold = reached[0] if reached is not None else best_f1_threshold(y, scores)[0]
        thresholds[j] = clamp_threshold(threshold)
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


def _fewer_examples(data: TrainingData) -> np.ndarray:
    """Per tag, the smaller of its confirmed and negative photos: a threshold is only as
    good as the rarer side (14 photos with people and 5 without put person's at 0.07)."""
    return np.minimum((data.labels & data.mask).sum(axis=0), (~data.labels & data.mask).sum(axis=0))


def _shrunk_tags(head: TagHead, start: TagHead, data: TrainingData) -> np.ndarray:
    """(n_tags,) bool: trained tags that had a model and too few examples of one kind."""
    return head.trained_ & start.has_model_ & (_fewer_examples(data) < TRUSTED_EXAMPLES)


def shrink_thresholds(head: TagHead, start: TagHead, data: TrainingData) -> np.ndarray:
    """Thresholds of tags trained on fewer than TRUSTED_EXAMPLES confirmed or negative
    photos, moved toward the starting model's in proportion to what is missing (a new tag,
    which had no model, keeps its own: there is nothing to shrink toward)."""
    thresholds = head.thresholds_.copy()
    few = _shrunk_tags(head, start, data)
    weight = _fewer_examples(data)[few] / TRUSTED_EXAMPLES
    thresholds[few] = weight * thresholds[few] + (1 - weight) * start.thresholds_[few]
    return thresholds


def pull_toward_start(model: SuggestionModel) -> np.ndarray:
    """(n_tags,) L2 strength (in photos) pulling each tag back toward its start in `model`:
    PRETRAINED_ALPHA where it was fitted on real photos, PRIOR_ALPHA where it is the zero-shot
    prior, 1 where there is none (the user's own tags)."""
    fitted = np.zeros(len(model.head.tag_names), bool) if model.fitted_start is None else model.fitted_start
    return np.where(fitted, PRETRAINED_ALPHA, np.where(model.head.has_model_, PRIOR_ALPHA, 1.0))


def tags_not_improved(head: TagHead, data: TrainingData, oof: np.ndarray) -> dict[int, str]:
    """Trained tags that keep what they had, with the reason: their cross-validated AP does
    not beat the starting model's on the same photos, or, taught by fewer than
    TRUSTED_EXAMPLES photos of one kind, they would be suggested on most photos though most
    are not."""
    kept: dict[int, str] = {}
    for j, y, scores in _known_scores(head, data, oof):
        if y.all() or not y.any():
            continue  # AP is undefined without both kinds; the threshold and pull decide
        known = data.mask[:, j] & ~np.isnan(oof[:, j])
        before = np.nan_to_num(data.base_scores[known, j], nan=0.0)
        ap_before, ap_after = average_precision_score(y, before), average_precision_score(y, scores)
        suggested = float(np.mean(scores >= head.thresholds_[j]))
        if ap_after <= ap_before:
            kept[j] = (f"kept what it had: retrained AP {ap_after:.3f} does not beat {ap_before:.3f}"
                       " in cross-validation")
        elif min(y.sum(), (~y).sum()) < TRUSTED_EXAMPLES and suggested > 0.5 and suggested > 2 * y.mean():
            kept[j] = (f"kept what it had: from {int(y.sum())} examples it would be suggested on"
                       f" {suggested:.0%} of your labelled photos, {y.mean():.0%} of which have it")
    return kept


def train_catalogue(
    catalogue: Catalogue,
    backbone_key: str,
    classifier: tuple[np.ndarray, np.ndarray],
    taxonomy: Taxonomy | None = None,
    *,
    make_head: Callable[[list[str], int, str], TagHead] | None = None,
    folds: int = CV_FOLDS,
    target_precision: float | None = None,
    force: bool = False,
) -> Generator[Progress, None, TrainReport]:
    """Fit a head on the catalogue's labels, store it, make it active, refresh suggestions.
    `target_precision`: thresholds keep at least this precision (where the tag's photos allow
    it) instead of maximising F1. The head starts from (and is pulled toward) the starting
    model; a tag whose cross-validated AP does not beat the starting model keeps it. A head
    whose cross-validated mAP is below the starting model's is stored but not activated
    (`report.activated` False) unless `force`."""
    if target_precision is not None:
        check_target_precision(target_precision)
    start = time.perf_counter()
    yield Progress("loading", 0, 0, 0.0, "Reading corrections")
    base = base_suggestion_model(catalogue, backbone_key, classifier, taxonomy)
    data = load_training_data(catalogue, base)
    if len(data.photo_ids) == 0:
        # The library's state, not a file's problem: no path to send the user looking for one.
        raise UserError("nothing to learn from yet: confirm or reject some tags first (photos must be indexed)")
    dim = base.head.embedding_dim

    tag_names = data.tag_names

    strong = np.zeros(len(tag_names), bool) if base.strong_start is None else base.strong_start
    alpha = pull_toward_start(base)
    positive_weight = np.where(base.head.has_model_, 1.0, 10.0)
    min_examples = np.where(strong, PRETRAINED_MIN_EXAMPLES, NEW_TAG_MIN_EXAMPLES)

    def new_head() -> TagHead:
        if make_head:
            return make_head(tag_names, dim, backbone_key)
        return TagHead(tag_names, dim, backbone_key, alpha=alpha, max_positive_weight=positive_weight,
                       min_positives=min_examples, min_negatives=min_examples)

    cv_data = cross_validation_sample(data)
    k = min(folds, len(cv_data.photo_ids))
    oof = np.full(cv_data.labels.shape, np.nan, np.float32)
    if k >= 2:
        for fold, scores in out_of_fold_scores(cv_data, new_head, k, start=base.head):
            oof = scores
            yield Progress("cross-validating", fold + 1, k + 1, time.perf_counter() - start,
                                f"Cross-validation fold {fold + 1} of {k}")
    fit_start = time.perf_counter()
    head = new_head().fit(data.embeddings, data.prior, data.labels, data.mask, data.has_prior, start=base.head)
    fit_seconds = time.perf_counter() - fit_start
    if not head.trained_.any():  # storing it would activate a head that learned nothing
        raise UserError(
            f"{_library_name(catalogue)}: nothing to learn yet: no tag has enough examples. A tag needs at least"
            f" {NEW_TAG_MIN_EXAMPLES} photos where you confirmed it and {NEW_TAG_MIN_EXAMPLES} where you rejected it"
            f" (or reviewed the photo without it); {PRETRAINED_MIN_EXAMPLES} of each for a tag the starting model"
            " already suggests. Nothing was changed"
        )
    head.thresholds_ = choose_thresholds(head, cv_data, oof, target_precision=target_precision)
    head.thresholds_ = shrink_thresholds(head, base.head, cv_data)
    kept = tags_not_improved(head, cv_data, oof)
    if k < 2:  # no cross-validation, no evidence: tags that had a model keep it
        kept.update({int(j): "kept what it had: too few labelled photos to cross-validate"
                     for j in np.flatnonzero(head.trained_ & base.head.has_model_)})
    columns = np.array(sorted(kept), np.int64)
    head.copy_tags_from(base.head, columns)
    oof[:, columns] = np.nan  # "after" of a kept tag is what it keeps
    yield Progress("fitting", k + 1, k + 1, time.perf_counter() - start, "Fitted")
    after_pred = cross_fitted_predictions(head, cv_data, oof, cv_folds(len(cv_data.photo_ids), k), target_precision) \
        if k >= 2 else None
    if after_pred is not None:
        after_pred = shrink_predictions(after_pred, head, base.head, cv_data, oof)
    unreached = [] if target_precision is None else precision_unreached(head, cv_data, oof, target_precision)
    report = build_report(cv_data, head, oof, cv_folds=k, after_pred=after_pred, base_thresholds=base.head.thresholds_,
                          target_precision=target_precision, precision_unreached=unreached, kept=kept)
    report.fit_seconds = fit_seconds
    in_use = compare_with_head_in_use(catalogue, backbone_key, classifier, taxonomy, cv_data, oof)
    if in_use is not None:
        report.notes.append(f"on {in_use[2]} labelled photos the head in use never saw: mAP {in_use[0]:.3f}"
                            f" in use, {in_use[1]:.3f} retrained (cross-validated)")
    worse = _worse(report) or (in_use is not None and in_use[1] < in_use[0])
    report.activated = force or not worse
    if not report.activated:
        report.notes.append("not activated: it scores below the model in use in cross-validation;"
                            " the suggestions stay as they were")
    report.seconds = time.perf_counter() - start
    # Nothing was written before this point: closing the generator above leaves no trace.
    head_id = store_head(catalogue, head, report, data.photo_ids)
    report.head_id = head_id
    del data, cv_data, oof, after_pred  # the refresh below reads embeddings afresh; 100k photos: ~350 MB back
    if report.activated:
        yield from activate_and_refresh(catalogue, head_id, backbone_key, classifier, taxonomy, start)
    report.seconds = time.perf_counter() - start
    update_report(catalogue, head_id, report)
    yield Progress("done", 1, 1, report.seconds, "Done")
    return report


def _library_name(catalogue: Catalogue) -> Path:
    """The photo folder when the catalogue lives inside it (the usual case), else the catalogue."""
    folder = catalogue.path.parent
    return folder.parent if folder.name == APP_FOLDER else catalogue.path


def shrink_predictions(
    predicted: np.ndarray, head: TagHead, start: TagHead, data: TrainingData, oof: np.ndarray
) -> np.ndarray:
    """The report's out-of-fold yes/no for tags whose threshold was shrunk: cut at the
    shrunk threshold, as they will be served."""
    few = np.flatnonzero(_shrunk_tags(head, start, data))
    with np.errstate(invalid="ignore"):
        predicted[:, few] = oof[:, few] >= head.thresholds_[few]
    return predicted


def compare_with_head_in_use(
    catalogue: Catalogue,
    backbone_key: str,
    classifier: tuple[np.ndarray, np.ndarray],
    taxonomy: Taxonomy | None,
    data: TrainingData,
    oof: np.ndarray,
) -> tuple[float, float, int] | None:
    """(mAP of the trained head in use, mAP of the new head's out-of-fold scores, photos) over
    the labelled photos the head in use was not trained on; None when no trained head is in
    use, its training photos are not recorded, or fewer than MIN_UNSEEN_PHOTOS are left."""
    in_use = load_suggestion_model(catalogue, backbone_key, classifier, taxonomy)
    if in_use.head_id is None:
        return None
    seen = heads.trained_photo_ids(catalogue, in_use.head_id)
    if seen is None:
        return None
    unseen = ~np.isin(data.photo_ids, seen)
    if unseen.sum() < MIN_UNSEEN_PHOTOS:
        return None
    rows = np.flatnonzero(unseen)
    old = in_use.score(data.embeddings[rows], None if data.faces is None else data.faces[rows])
    column = {name.casefold(): j for j, name in enumerate(in_use.head.tag_names)}
    old_maps, new_maps = [], []
    for j, name in enumerate(data.tag_names):
        known = data.mask[rows, j]
        y = data.labels[rows, j][known]
        k = column.get(name.casefold())
        if k is None or y.all() or not y.any():
            continue
        new = np.where(np.isnan(oof[rows, j]), data.base_scores[rows, j], oof[rows, j])[known]
        old_maps.append(average_precision_score(y, np.nan_to_num(old[known, k], nan=0.0)))
        new_maps.append(average_precision_score(y, np.nan_to_num(new, nan=0.0)))
    if not old_maps:
        return None
    return float(np.mean(old_maps)), float(np.mean(new_maps)), int(len(rows))


def _worse(report: TrainReport) -> bool:
    before, after = report.before.map, report.after.map
    return before is not None and after is not None and after < before
