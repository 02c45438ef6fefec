"""Learn from corrections: labelled photos from the catalogue -> a new head -> suggestions.

Labels: a confirmed tag is 1, a rejected tag 0, and a photo whose whole tag set was
reviewed (`photos.reviewed_at`) is 0 for every tag not confirmed on it. Everything else,
unreviewed suggestions included, is unknown and masked out of the loss.

`train_catalogue` is a generator (progress out; closing it cancels before anything is
written). Heads are kept: each training adds a row to `heads`, activation flips the
`active` flag in one transaction with the tag thresholds, then every photo's suggestions
are re-scored in batches. `rollback` re-activates the previous head (or the prior).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass

import numpy as np

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.errors import UserError
from photo_tagger.core.head import FORMAT_VERSION, TagHead
from photo_tagger.core.metrics import best_f1_threshold
from photo_tagger.core.report import TrainReport, build_report
from photo_tagger.core.suggest import (
    SUGGESTION_FLOOR,
    SuggestionModel,
    apply_model_thresholds,
    decode_vectors,
    load_suggestion_model,
    prior_suggestion_model,
    write_suggestions,
)
from photo_tagger.core.taxonomy import Taxonomy

CV_FOLDS = 5
REFRESH_BATCH = 2000
MAX_THRESHOLD = 0.99
CV_MAX_PHOTOS = 20_000  # cross-validate on at most this many labelled photos


@dataclass
class TrainProgress:
    phase: str  # "loading", "cross-validating", "fitting", "saving", "refreshing", "done"
    done: int
    total: int
    elapsed_s: float
    message: str = ""


@dataclass
class TrainingData:
    photo_ids: np.ndarray  # (n,) photos with at least one known label
    embeddings: np.ndarray  # (n, dim) float32
    prior: np.ndarray  # (n, n_tags) zero-shot prior probabilities, NaN = none
    labels: np.ndarray  # (n, n_tags) bool
    mask: np.ndarray  # (n, n_tags) bool: label known
    tag_names: list[str]
    has_prior: np.ndarray  # (n_tags,) bool


    def rows(self, index: np.ndarray) -> TrainingData:
        return TrainingData(self.photo_ids[index], self.embeddings[index], self.prior[index], self.labels[index],
                            self.mask[index], self.tag_names, self.has_prior)


def cross_validation_sample(data: TrainingData, limit: int = CV_MAX_PHOTOS, seed: int = 0) -> TrainingData:
    """The photos cross-validation runs on: all of them, or a fixed random `limit` of them.
    Above ~20k labelled photos the thresholds and the report are as good from a sample, and
    five folds over everything cost minutes and gigabytes (100k photos: 346 s, 3.8 GB)."""
    if len(data.photo_ids) <= limit:
        return data
    index = np.sort(np.random.default_rng(seed).choice(len(data.photo_ids), limit, replace=False))
    return data.rows(index)


def load_training_data(catalogue: Catalogue, model: SuggestionModel) -> TrainingData:
    """Every photo with an embedding for the model's backbone and at least one known label."""
    names = model.head.tag_names
    column = {tag_id: j for j, tag_id in enumerate(model.tag_ids)}
    ids: list[int] = []
    reviewed: list[bool] = []
    # One pass over the cursor, vectors appended to one buffer: holding 100k blobs in a
    # list and joining them cost ~0.5 GB more at peak.
    vectors = bytearray()
    for photo_id, is_reviewed, vector in catalogue.conn.execute(
        "SELECT p.id, p.reviewed_at IS NOT NULL, e.vector FROM photos p JOIN embeddings e ON e.photo_id = p.id"
        " WHERE e.backbone = ? AND (p.reviewed_at IS NOT NULL OR EXISTS (SELECT 1 FROM photo_tags pt"
        " WHERE pt.photo_id = p.id AND pt.state != 'suggested')) ORDER BY p.id",
        (model.backbone_key,),
    ):
        ids.append(photo_id)
        reviewed.append(bool(is_reviewed))
        vectors += vector
    n, n_tags = len(ids), len(names)
    index = {photo_id: i for i, photo_id in enumerate(ids)}
    labels = np.zeros((n, n_tags), bool)
    mask = np.zeros((n, n_tags), bool)
    mask[np.array(reviewed, bool)] = True
    embeddings = np.frombuffer(vectors, np.float16).reshape(n, model.head.embedding_dim).astype(np.float32)
    del vectors
    for photo_id, tag_id, state in catalogue.query(
        "SELECT photo_id, tag_id, state FROM photo_tags WHERE state != 'suggested'"
    ):
        row_index, col_index = index.get(photo_id), column.get(tag_id)
        if row_index is None or col_index is None:
            continue
        mask[row_index, col_index] = True
        labels[row_index, col_index] = state == "confirmed"
    return TrainingData(
        photo_ids=np.array(ids, np.int64),
        embeddings=embeddings,
        prior=model.prior_probabilities(embeddings),
        labels=labels,
        mask=mask,
        tag_names=list(names),
        has_prior=model.head.has_model_.copy(),
    )


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


def choose_thresholds(head: TagHead, data: TrainingData, oof: np.ndarray) -> np.ndarray:
    """Per trained tag, the threshold maximising F1 on the out-of-fold scores, clamped to
    [SUGGESTION_FLOOR, MAX_THRESHOLD]; other tags keep theirs."""
    thresholds = head.thresholds_.copy()
    for j in np.flatnonzero(head.trained_):
        known = data.mask[:, j] & ~np.isnan(oof[:, j])
        if known.any():
            threshold, _ = best_f1_threshold(data.labels[known, j], oof[known, j])
            thresholds[j] = min(max(threshold, SUGGESTION_FLOOR), MAX_THRESHOLD)
    return thresholds


def train_catalogue(
    catalogue: Catalogue,
    backbone_key: str,
    classifier: tuple[np.ndarray, np.ndarray],
    taxonomy: Taxonomy | None = None,
    *,
    make_head: Callable[[list[str], int, str], TagHead] | None = None,
    folds: int = CV_FOLDS,
) -> Generator[TrainProgress, None, TrainReport]:
    """Fit a head on the catalogue's labels, store it, make it active, refresh suggestions."""
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

    def new_head() -> TagHead:
        return make_head(data.tag_names, dim, backbone_key) if make_head else TagHead(data.tag_names, dim, backbone_key)

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
    head.thresholds_ = choose_thresholds(head, cv_data, oof)
    yield TrainProgress("fitting", k + 1, k + 1, time.perf_counter() - start, "Fitted")
    report = build_report(cv_data, head, oof, cv_folds=k)
    report.fit_seconds = fit_seconds
    report.seconds = time.perf_counter() - start
    # Nothing was written before this point: closing the generator above leaves no trace.
    head_id = store_head(catalogue, head, report)
    report.head_id = head_id
    yield from _activate_and_refresh(catalogue, head_id, backbone_key, classifier, taxonomy, start)
    report.seconds = time.perf_counter() - start
    _update_report(catalogue, head_id, report)
    yield TrainProgress("done", 1, 1, report.seconds, "Done")
    return report


def store_head(catalogue: Catalogue, head: TagHead, report: TrainReport | None = None) -> int:
    """Add `head` to the kept heads (inactive); returns its id."""
    with catalogue.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO heads(backbone, created_at, format_version, tag_names, weights, report, active)"
            " VALUES (?, ?, ?, ?, ?, ?, 0)",
            (head.backbone, time.time(), FORMAT_VERSION, json.dumps(head.tag_names, ensure_ascii=False),
             head.to_bytes(), None if report is None else report.to_json()),
        )
        return int(cur.lastrowid or 0)


def _update_report(catalogue: Catalogue, head_id: int, report: TrainReport) -> None:
    with catalogue.transaction() as conn:
        conn.execute("UPDATE heads SET report = ? WHERE id = ?", (report.to_json(), head_id))


def activate(catalogue: Catalogue, head_id: int | None, backbone_key: str, *, rollback: bool = False) -> None:
    """Make `head_id` the only active head of the backbone (None: back to the prior).
    The order of activations is kept in `meta`, so a rollback returns to the head that
    was active before, not merely to an older id."""
    key = f"head_history:{backbone_key}"
    with catalogue.transaction() as conn:
        conn.execute("UPDATE heads SET active = (id IS ?) WHERE backbone = ?", (head_id, backbone_key))
        history = json.loads(catalogue.get_meta(key) or "[]")
        if rollback:
            while history and history[-1] != head_id:
                history.pop()
        elif head_id is not None:
            history.append(head_id)
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, json.dumps(history)))


def previous_head(catalogue: Catalogue, backbone_key: str, active: int) -> int | None:
    history = [h for h in json.loads(catalogue.get_meta(f"head_history:{backbone_key}") or "[]")
               if h != active]
    exists = {row[0] for row in catalogue.query("SELECT id FROM heads WHERE backbone = ?", (backbone_key,))}
    while history and history[-1] not in exists:
        history.pop()
    if history:
        return int(history[-1])
    older = catalogue.scalar("SELECT max(id) FROM heads WHERE backbone = ? AND id < ?", (backbone_key, active))
    return None if older is None or catalogue.get_meta(f"head_history:{backbone_key}") else int(older)


def _activate_and_refresh(
    catalogue: Catalogue,
    head_id: int | None,
    backbone_key: str,
    classifier: tuple[np.ndarray, np.ndarray],
    taxonomy: Taxonomy | None,
    start: float,
    rollback: bool = False,
) -> Iterator[TrainProgress]:
    activate(catalogue, head_id, backbone_key, rollback=rollback)
    model = load_suggestion_model(catalogue, backbone_key, classifier, taxonomy)
    yield from refresh_suggestions(catalogue, model, start)


def refresh_suggestions(catalogue: Catalogue, model: SuggestionModel, start: float) -> Iterator[TrainProgress]:
    """Re-score every embedded photo with `model`, a batch per transaction. Closing the
    generator finishes the refresh first (without yielding), so suggestions never stay
    half from the old head and half from the new one."""
    with catalogue.transaction() as conn:
        apply_model_thresholds(conn, model)
    ids = [row[0] for row in catalogue.query(
        "SELECT photo_id FROM embeddings WHERE backbone = ? ORDER BY photo_id", (model.backbone_key,))]
    cancelled = False
    for begin in range(0, len(ids), REFRESH_BATCH):
        _refresh_batch(catalogue, model, ids[begin : begin + REFRESH_BATCH])
        if not cancelled:
            try:
                yield TrainProgress("refreshing", min(begin + REFRESH_BATCH, len(ids)), len(ids),
                                    time.perf_counter() - start, "Updating suggestions")
            except GeneratorExit:
                cancelled = True
    if cancelled:
        raise GeneratorExit


def _refresh_batch(catalogue: Catalogue, model: SuggestionModel, photo_ids: list[int]) -> None:
    placeholders = ",".join("?" * len(photo_ids))
    rows = catalogue.query(
        f"SELECT photo_id, vector FROM embeddings WHERE photo_id IN ({placeholders}) ORDER BY photo_id",
        tuple(photo_ids),
    )
    scores = model.score(decode_vectors([row["vector"] for row in rows], model.head.embedding_dim))
    with catalogue.transaction() as conn:
        write_suggestions(conn, [row["photo_id"] for row in rows], scores, model.tag_ids)


def rollback_catalogue(
    catalogue: Catalogue,
    backbone_key: str,
    classifier: tuple[np.ndarray, np.ndarray],
    taxonomy: Taxonomy | None = None,
) -> Generator[TrainProgress, None, int | None]:
    """Re-activate the head trained before the active one (or the prior if there is none)
    and refresh suggestions. Returns the now active head id (None = the prior)."""
    start = time.perf_counter()
    active = catalogue.scalar("SELECT id FROM heads WHERE active = 1 AND backbone = ?", (backbone_key,))
    if active is None:
        raise UserError(f"{catalogue.path}: no trained head to roll back; the taxonomy prior is in use")
    previous = previous_head(catalogue, backbone_key, int(active))
    yield from _activate_and_refresh(catalogue, previous, backbone_key, classifier, taxonomy, start, rollback=True)
    return None if previous is None else int(previous)


def active_report(catalogue: Catalogue, backbone_key: str) -> TrainReport | None:
    text = catalogue.scalar("SELECT report FROM heads WHERE active = 1 AND backbone = ?", (backbone_key,))
    return None if text is None else TrainReport.from_json(text)


def corrections_since_last_training(catalogue: Catalogue, backbone_key: str) -> int:
    """User-set tag rows changed, plus photos reviewed, since the active head was trained
    (since ever when none was): the GUI retrains by itself past a configured number."""
    since = catalogue.scalar(
        "SELECT created_at FROM heads WHERE active = 1 AND backbone = ?", (backbone_key,)
    ) or 0.0
    tags = catalogue.scalar(
        "SELECT count(*) FROM photo_tags WHERE state != 'suggested' AND updated_at > ?", (since,)
    )
    photos = catalogue.scalar("SELECT count(*) FROM photos WHERE reviewed_at > ?", (since,))
    return int(tags or 0) + int(photos or 0)
