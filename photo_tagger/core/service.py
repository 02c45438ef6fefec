"""Use cases shared by the command line and the desktop app."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from pathlib import Path

import numpy as np

from photo_tagger.core.backbone import classifier_weights, get_backbone_spec
from photo_tagger.core.browse import TagRow, tag_table
from photo_tagger.core.csv_io import ExportSummary, ImportSummary, export_rows, write_csv
from photo_tagger.core.formats import (
    ExportOptions,
    import_file,
    json_document,
    onehot_rows,
    select_photo_tags,
    vocabulary,
    write_json,
)
from photo_tagger.core.import_plan import ImportPlan, plan_import
from photo_tagger.core.indexer import IndexSummary, backbone_key, index_library
from photo_tagger.core.library import Library
from photo_tagger.core.progress import Progress, run_to_end
from photo_tagger.core.report import TrainReport
from photo_tagger.core.sidecars import SidecarSummary, export_sidecars
from photo_tagger.core.store import heads, photos, settings
from photo_tagger.core.suggest import SuggestionModel, decode_faces, decode_vectors, load_suggestion_model
from photo_tagger.core.tagging import tag_labels

__all__ = [
    "ExportOptions",
    "IndexSummary",
    "Library",
    "current_backbone_key",
    "export_library",
    "export_library_csv",
    "export_library_sidecars",
    "write_library_sidecars",
    "import_library",
    "plan_library_import",
    "apply_library_import",
    "ImportPlan",
    "set_library_keywords_enabled",
    "index",
    "library_tag_counts",
    "load_model",
    "corrections_since_last_training",
    "review_queue",
    "rollback",
    "train",
    "training_report",
    "score_all_photos",
]


def index(
    library: Library, *, batch_size: int = 16, workers: int = 2, keywords: bool | None = None
) -> Generator[Progress, None, IndexSummary]:
    """`keywords`: read keywords already in photos/sidecars; None = the library setting.
    First finishes re-scoring suggestions if a training's refresh was cut short."""
    from photo_tagger.core.head_versions import refresh_with_active_head

    with library.connect() as catalogue:
        key = current_backbone_key()
        if settings.suggestions_stale(catalogue, key):  # the classifier is read only then: re-indexing stays cheap
            classifier = classifier_weights(get_backbone_spec())
            yield from refresh_with_active_head(catalogue, key, classifier)
    return (yield from index_library(library, batch_size=batch_size, workers=workers, keywords=keywords))


def set_library_keywords_enabled(library: Library, enabled: bool) -> None:
    """The library setting: read keywords already in photos and sidecars when indexing."""
    with library.connect() as catalogue:
        settings.set_keywords_enabled(catalogue, enabled)


def current_backbone_key(backbone_id: str | None = None) -> str:
    return backbone_key(get_backbone_spec(backbone_id))


def load_model(library: Library, backbone_id: str | None = None) -> SuggestionModel:
    spec = get_backbone_spec(backbone_id)
    with library.connect() as catalogue:
        return load_suggestion_model(catalogue, current_backbone_key(backbone_id), classifier_weights(spec))


def score_all_photos(library: Library) -> dict[int, dict[str, float]]:
    """photo id -> tag -> probability from the current model, for every embedded photo."""
    model = load_model(library)
    with library.connect() as catalogue:
        rows = photos.embeddings(catalogue, model.backbone_key)
        label = tag_labels(catalogue)
    if not rows:
        return {}
    ids = [row[0] for row in rows]
    embeddings = decode_vectors([row[1] for row in rows], model.head.embedding_dim)
    faces = decode_faces([row[2] for row in rows])
    result: dict[int, dict[str, float]] = {}
    names = [label.get(tag_id, key) for tag_id, key in zip(model.tag_ids, model.head.tag_names, strict=True)]
    for start in range(0, len(ids), 4096):
        block = model.score(embeddings[start : start + 4096], faces[start : start + 4096])
        for photo_id, row in zip(ids[start : start + 4096], block, strict=True):
            result[photo_id] = {n: float(s) for n, s in zip(names, row.tolist(), strict=True) if not np.isnan(s)}
    return result


def export_library_csv(
    library: Library, out: Path, *, scores: bool = False, confirmed_only: bool = False
) -> ExportSummary:
    score_map = score_all_photos(library) if scores else None
    with library.connect() as catalogue:
        score_tags = sorted(tag_labels(catalogue).values(), key=str.casefold)
        rows = export_rows(
            catalogue,
            scores=score_map,
            score_tags=score_tags if scores else (),
            confirmed_only=confirmed_only,
        )
    write_csv(rows, out)
    return ExportSummary(out, len(rows) - 1, len(score_tags))


def export_library(
    library: Library,
    out: Path,
    *,
    fmt: str = "csv",
    options: ExportOptions | None = None,
    scores: bool = False,
) -> ExportSummary:
    """Write the tags as `fmt` (csv, onehot or json) with the export filters."""
    options = options or ExportOptions()
    score_map = score_all_photos(library) if scores and fmt == "csv" else None
    with library.connect() as catalogue:
        vocab = vocabulary(catalogue, options)
        selected = select_photo_tags(catalogue, options, vocab)
        if fmt == "json":
            write_json(json_document(catalogue, selected, vocab), out)
        elif fmt == "onehot":
            write_csv(onehot_rows(selected, vocab), out)
        elif fmt == "csv":
            rows = export_rows(
                catalogue,
                scores=score_map,
                score_tags=list(vocab.values()) if scores else (),
                tags_by_photo={p.photo_id: (p.tags, p.confirmed) for p in selected},
            )
            write_csv(rows, out)
        else:
            raise ValueError(f"unknown export format {fmt!r}")
    return ExportSummary(out, len(selected), len(vocab))


def export_library_sidecars(
    library: Library, options: ExportOptions | None = None, *, include_suggestions: bool = False
) -> SidecarSummary:
    """Write or update an XMP sidecar next to each photo (never the photo itself). Only
    confirmed tags unless `include_suggestions`: other apps take sidecar keywords as
    true, so unreviewed guesses go there only when asked for."""
    return run_to_end(write_library_sidecars(library, options, include_suggestions=include_suggestions))


def write_library_sidecars(
    library: Library, options: ExportOptions | None = None, *, include_suggestions: bool = False
) -> Generator[Progress, None, SidecarSummary]:
    """`export_library_sidecars` as a job that yields its progress."""
    options = replace(options or ExportOptions(), confirmed_only=not include_suggestions)
    with library.connect() as catalogue:
        return (yield from export_sidecars(catalogue, library.root, options))


def import_library(library: Library, source: Path, fmt: str | None = None) -> ImportSummary:
    """Import our CSV, a one-hot CSV or JSON (`fmt` None: detected)."""
    with library.connect() as catalogue:
        return import_file(catalogue, library.root, source, fmt)


def plan_library_import(library: Library, source: Path, fmt: str | None = None) -> ImportPlan:
    """What importing `source` would change (reads only; see import_plan.py)."""
    with library.connect() as catalogue:
        return plan_import(catalogue, library.root, source, fmt)


def apply_library_import(library: Library, plan: ImportPlan) -> tuple[ImportPlan, ImportSummary]:
    """Import the file `plan` was made from: planned again and applied in one write
    transaction, so an edit or another import since the plan is not overwritten by a stale
    one. Returns the plan applied and the summary."""
    from photo_tagger.core.formats import import_file_planned

    with library.connect() as catalogue:
        return import_file_planned(catalogue, library.root, plan.source, plan.fmt)


def library_tag_counts(library: Library) -> list[TagRow]:
    with library.connect() as catalogue:
        return tag_table(catalogue)


# -- learning from corrections ------------------------------------------------------------


def train(
    library: Library, *, backbone_id: str | None = None, force: bool = False
) -> Generator[Progress, None, TrainReport]:
    """Retrain the head on the user's corrections, make it active, refresh suggestions.
    A head that cross-validates below the model in use is kept inactive unless `force`
    (`report.activated`). Yields progress; closing the generator before the "refreshing"
    phase leaves no trace."""
    from photo_tagger.core.training import target_precision, train_catalogue

    spec = get_backbone_spec(backbone_id)
    with library.connect() as catalogue:
        return (yield from train_catalogue(catalogue, current_backbone_key(backbone_id), classifier_weights(spec),
                                           target_precision=target_precision(catalogue), force=force))


def training_target_precision(library: Library) -> float | None:
    """The library's threshold policy for training: a precision to keep, None = max F1."""
    from photo_tagger.core.training import target_precision

    with library.connect() as catalogue:
        return target_precision(catalogue)


def set_training_target_precision(library: Library, value: float | None) -> None:
    """Remembered per library, so the app's retraining and `photo-tagger train` agree."""
    from photo_tagger.core.training import set_target_precision

    with library.connect() as catalogue:
        set_target_precision(catalogue, value)


def rollback(library: Library, *, backbone_id: str | None = None) -> Generator[Progress, None, int | None]:
    """Re-activate the previous head (None when back to the zero-shot prior); refresh."""
    from photo_tagger.core.head_versions import rollback_catalogue

    spec = get_backbone_spec(backbone_id)
    with library.connect() as catalogue:
        return (yield from rollback_catalogue(catalogue, current_backbone_key(backbone_id), classifier_weights(spec)))


def activate_head(
    library: Library, head_id: int, *, backbone_id: str | None = None
) -> Generator[Progress, None, int]:
    """Make a stored head active after all (one a training kept inactive) and refresh."""
    import time

    from photo_tagger.core.errors import UserError
    from photo_tagger.core.head_versions import activate_and_refresh, activate_stored_report

    spec = get_backbone_spec(backbone_id)
    key = current_backbone_key(backbone_id)
    with library.connect() as catalogue:
        if not heads.head_exists(catalogue, head_id, key):
            raise UserError(f"{library.root}: there is no trained head {head_id} for this backbone")
        yield from activate_and_refresh(catalogue, head_id, key, classifier_weights(spec), None, time.perf_counter())
        activate_stored_report(catalogue, head_id)
    return head_id


def training_report(library: Library, *, backbone_id: str | None = None) -> TrainReport | None:
    """The report stored with the active head (None while the prior is in use)."""
    from photo_tagger.core.head_versions import active_report

    with library.connect() as catalogue:
        return active_report(catalogue, current_backbone_key(backbone_id))


def corrections_since_last_training(library: Library, *, backbone_id: str | None = None) -> int:
    """Corrections made since the active head was trained: auto-retrain past a setting."""
    with library.connect() as catalogue:
        return heads.corrections_since_active(catalogue, current_backbone_key(backbone_id))


def review_queue(library: Library, limit: int = 50) -> list[int]:
    """Unreviewed photo ids, the ones whose correction teaches the model most first."""
    from photo_tagger.core import review

    with library.connect() as catalogue:
        return review.review_queue(catalogue, limit)
