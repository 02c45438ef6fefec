"""The library-wide changes the app runs in the background, as ops: each takes the library
and plain data, runs the use case of `service`, and returns an `Outcome`: the use case's
own result (a report, a summary) and the `Changes` the views refresh from. Long ones are
generators of `Progress`, cancelled by closing them. Module-level functions, so that the
app can run them in a child process."""

from __future__ import annotations

from collections.abc import Generator

from photo_tagger.core import service
from photo_tagger.core.changes import NOTHING, Changes, Outcome
from photo_tagger.core.csv_io import ImportSummary
from photo_tagger.core.import_plan import ImportPlan
from photo_tagger.core.indexer import IndexSummary
from photo_tagger.core.library import Library
from photo_tagger.core.progress import Progress
from photo_tagger.core.report import TrainReport
from photo_tagger.core.sidecars import SidecarSummary


def index(library: Library) -> Generator[Progress, None, Outcome[IndexSummary]]:
    """New, changed and vanished photos; keywords read from them may add tags."""
    summary = yield from service.index(library)
    return Outcome(Changes.of_everything(), summary)


def train(library: Library) -> Generator[Progress, None, Outcome[TrainReport]]:
    """A head kept inactive (it scored lower) changes nothing the user sees."""
    report = yield from service.train(library)
    return Outcome(Changes.of_everything(head=True) if report.activated else NOTHING, report)


def rollback(library: Library) -> Generator[Progress, None, Outcome[int | None]]:
    head_id = yield from service.rollback(library)
    return Outcome(Changes.of_everything(head=True), head_id)


def activate_head(library: Library, head_id: int) -> Generator[Progress, None, Outcome[int]]:
    activated = yield from service.activate_head(library, head_id)
    return Outcome(Changes.of_everything(head=True), activated)


def apply_import(library: Library, plan: ImportPlan) -> Outcome[ImportSummary]:
    """The photos the applied plan changed or marked reviewed; every tag when it created
    or defined some."""
    applied, summary = service.apply_library_import(library, plan)
    photos = {change.photo_id for change in applied.changes} | applied.reviewed
    new_tags = bool(summary.created_tags or applied.tag_definitions)
    return Outcome(Changes.of_photos(photos, new_tags=new_tags), summary)


def export_sidecars(library: Library) -> Generator[Progress, None, Outcome[SidecarSummary]]:
    """Confirmed tags only; the catalogue records what it wrote, which nothing shows."""
    summary = yield from service.write_library_sidecars(library)
    return Outcome(NOTHING, summary)


def set_threshold_policy(library: Library, target_precision: float | None) -> Outcome[None]:
    """Used from the next training: nothing shown changes now."""
    service.set_training_target_precision(library, target_precision)
    return Outcome(NOTHING, None)
