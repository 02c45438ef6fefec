"""Kept heads: store, activate, roll back, and re-score suggestions with the active one.

Each training adds a row to `heads`; activation flips the `active` flag in one transaction
with the tag thresholds, then every photo's suggestions are re-scored in batches.
`rollback_catalogue` re-activates the previous head (or the prior).

The activation also marks the suggestions stale, and the last refresh batch clears the mark
in its own transaction: a refresh cut short by a kill or a crash is finished by the next
index run (`service.index`), so suggestions never stay half old, half new.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator

import numpy as np

from photo_tagger.core.errors import UserError
from photo_tagger.core.head import FORMAT_VERSION, TagHead
from photo_tagger.core.progress import Progress
from photo_tagger.core.report import TrainReport
from photo_tagger.core.store import heads, photos, settings, suggestions
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.suggest import (
    SUGGESTION_FLOOR,
    SuggestionModel,
    apply_model_thresholds,
    decode_faces,
    decode_vectors,
    load_suggestion_model,
)
from photo_tagger.core.taxonomy import Taxonomy

REFRESH_BATCH = 2000


def store_head(
    catalogue: Catalogue, head: TagHead, report: TrainReport | None = None, photo_ids: np.ndarray | None = None
) -> int:
    """Add `head` to the kept heads (inactive), with the ids of the photos it was trained on;
    returns its id."""
    return heads.add_head(catalogue, head.backbone, FORMAT_VERSION, list(head.tag_names), head.to_bytes(),
                          None if report is None else report.to_json(), photo_ids)


def update_report(catalogue: Catalogue, head_id: int, report: TrainReport) -> None:
    heads.set_report(catalogue, head_id, report.to_json())


def activate(catalogue: Catalogue, head_id: int | None, backbone_key: str, *, rollback: bool = False) -> None:
    """Make `head_id` the only active head of the backbone (None: back to the prior).
    The order of activations is kept (`settings.head_history`), so a rollback returns to the
    head that was active before, not merely to an older id."""
    with catalogue.transaction():
        heads.set_active(catalogue, backbone_key, head_id)
        history = settings.head_history(catalogue, backbone_key) or []
        if rollback:
            while history and history[-1] != head_id:
                history.pop()
        elif head_id is not None:
            history.append(head_id)
        settings.set_head_history(catalogue, backbone_key, history)
        settings.mark_suggestions_stale(catalogue, backbone_key)


def refresh_with_active_head(
    catalogue: Catalogue,
    backbone_key: str,
    classifier: tuple[np.ndarray, np.ndarray],
    taxonomy: Taxonomy | None = None,
    start: float | None = None,
) -> Iterator[Progress]:
    """Re-score every photo with the active head (or the prior): after an activation, or to
    finish a refresh a crash cut short (see `settings.suggestions_stale`)."""
    model = load_suggestion_model(catalogue, backbone_key, classifier, taxonomy)
    yield from refresh_suggestions(catalogue, model, time.perf_counter() if start is None else start)


def previous_head(catalogue: Catalogue, backbone_key: str, active: int) -> int | None:
    recorded = settings.head_history(catalogue, backbone_key)
    history = [h for h in recorded or [] if h != active]
    exists = heads.head_ids(catalogue, backbone_key)
    while history and history[-1] not in exists:
        history.pop()
    if history:
        return int(history[-1])
    older = heads.newest_head_before(catalogue, backbone_key, active)
    return None if recorded is not None else older


def activate_and_refresh(
    catalogue: Catalogue,
    head_id: int | None,
    backbone_key: str,
    classifier: tuple[np.ndarray, np.ndarray],
    taxonomy: Taxonomy | None,
    start: float,
    rollback: bool = False,
) -> Iterator[Progress]:
    activate(catalogue, head_id, backbone_key, rollback=rollback)
    yield from refresh_with_active_head(catalogue, backbone_key, classifier, taxonomy, start)


def refresh_suggestions(catalogue: Catalogue, model: SuggestionModel, start: float) -> Iterator[Progress]:
    """Re-score every embedded photo with `model`, a batch per transaction. Closing the
    generator finishes the refresh first (without yielding), so suggestions never stay
    half from the old head and half from the new one."""
    ids = photos.embedded_photo_ids(catalogue, model.backbone_key)
    with catalogue.transaction():
        apply_model_thresholds(catalogue, model)
        if not ids:  # nothing to re-score: the refresh is done
            settings.clear_suggestions_stale(catalogue, model.backbone_key)
    cancelled = False
    for begin in range(0, len(ids), REFRESH_BATCH):
        last = begin + REFRESH_BATCH >= len(ids)
        _refresh_batch(catalogue, model, ids[begin : begin + REFRESH_BATCH], last)
        if not cancelled:
            try:
                yield Progress("refreshing", min(begin + REFRESH_BATCH, len(ids)), len(ids),
                                    time.perf_counter() - start, "Updating suggestions")
            except GeneratorExit:
                cancelled = True
    if cancelled:
        raise GeneratorExit


def _refresh_batch(catalogue: Catalogue, model: SuggestionModel, photo_ids: list[int], last: bool) -> None:
    rows = photos.embeddings(catalogue, model.backbone_key, photo_ids)
    scores = model.score(decode_vectors([vector for _, vector, _ in rows], model.head.embedding_dim),
                         decode_faces([faces for _, _, faces in rows]))
    with catalogue.transaction():
        suggestions.write_suggestions(catalogue, [photo_id for photo_id, _, _ in rows], scores, model.tag_ids,
                                   floor=SUGGESTION_FLOOR)
        if last:
            settings.clear_suggestions_stale(catalogue, model.backbone_key)


def rollback_catalogue(
    catalogue: Catalogue,
    backbone_key: str,
    classifier: tuple[np.ndarray, np.ndarray],
    taxonomy: Taxonomy | None = None,
) -> Generator[Progress, None, int | None]:
    """Re-activate the head trained before the active one (or the prior if there is none)
    and refresh suggestions. Returns the now active head id (None = the prior)."""
    start = time.perf_counter()
    active = heads.active_head_id(catalogue, backbone_key)
    if active is None:
        raise UserError(f"{catalogue.path}: no trained head to roll back; the taxonomy prior is in use")
    previous = previous_head(catalogue, backbone_key, active)
    yield from activate_and_refresh(catalogue, previous, backbone_key, classifier, taxonomy, start, rollback=True)
    return None if previous is None else int(previous)


def activate_stored_report(catalogue: Catalogue, head_id: int) -> None:
    """A head activated by hand after training kept it inactive: its report says so now."""
    text = heads.report(catalogue, head_id)
    if text is None:
        return
    report = TrainReport.from_json(text)
    report.activated = True
    report.notes = [note for note in report.notes if not note.startswith("not activated")]
    report.notes.append("activated by hand, although it scored below the model in use")
    update_report(catalogue, head_id, report)


def active_report(catalogue: Catalogue, backbone_key: str) -> TrainReport | None:
    text = heads.active_report(catalogue, backbone_key)
    return None if text is None else TrainReport.from_json(text)
