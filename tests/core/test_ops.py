"""The app's ops: each returns what the use case returned and the Changes the views
refresh from, worked out from that result; long ones yield Progress and stop when closed."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalogue_rows import scanned_library

from photo_tagger.core import ops, service, sidecars
from photo_tagger.core.changes import NOTHING, Changes
from photo_tagger.core.library import Library
from photo_tagger.core.progress import Progress, run_to_end
from photo_tagger.core.tagging import ensure_tag, set_state


@pytest.fixture
def tagged(tmp_path: Path) -> tuple[Library, dict[str, int]]:
    """Three scanned photos, each with a confirmed tag (so each gets a sidecar)."""
    library, ids = scanned_library(tmp_path / "lib", ["a.jpg", "b.jpg", "c.jpg"])
    with library.connect() as catalogue:
        set_state(catalogue, list(ids.values()), ensure_tag(catalogue, "cat"), "confirmed")
    return library, ids


def test_an_import_names_the_photos_it_changed_and_says_it_made_a_tag(tagged, tmp_path: Path) -> None:
    library, ids = tagged
    source = tmp_path / "tags.csv"
    source.write_text("path,tags\r\na.jpg,Mittens\r\n", encoding="utf-8")
    outcome = ops.apply_import(library, service.plan_library_import(library, source))
    assert outcome.value.updated == 1 and outcome.value.created_tags == ["Mittens"]
    assert outcome.changes.photos == {ids["a.jpg"]}
    assert outcome.changes.tags is None and not outcome.changes.head  # a new tag: every tag list


def test_an_import_of_known_tags_changes_no_tag(tagged, tmp_path: Path) -> None:
    library, ids = tagged
    source = tmp_path / "tags.csv"
    source.write_text("path,tags\r\nb.jpg,cat;dog\r\n", encoding="utf-8")
    outcome = ops.apply_import(library, service.plan_library_import(library, source))
    assert outcome.changes == Changes.of_photos([ids["b.jpg"]])


def test_the_sidecar_export_yields_progress_and_changes_nothing_shown(tagged) -> None:
    library, _ = tagged
    job = ops.export_sidecars(library)
    items = []
    try:
        while True:
            items.append(next(job))
    except StopIteration as stop:
        outcome = stop.value
    assert items and all(isinstance(p, Progress) and p.phase == "exporting" and p.total == 3 for p in items)
    assert outcome.changes == NOTHING and not outcome.changes.any
    assert sorted(p.name for p in outcome.value.written) == ["a.jpg.xmp", "b.jpg.xmp", "c.jpg.xmp"]


def test_closing_the_sidecar_export_stops_it_between_two_photos(tagged, monkeypatch) -> None:
    library, _ = tagged
    monkeypatch.setattr(sidecars, "PROGRESS_EVERY", 1)
    job = ops.export_sidecars(library)
    assert next(job).done == 0
    assert next(job).done == 1  # the first photo's sidecar is written
    job.close()
    assert sorted(p.name for p in library.root.glob("*.xmp")) == ["a.jpg.xmp"]
    assert run_to_end(ops.export_sidecars(library)).value.unchanged == 1  # and counted as such next time


def test_changes_say_whether_anything_changed() -> None:
    assert not NOTHING.any
    assert Changes.of_photos([3, 1]).photos == {1, 3} and Changes.of_photos([1]).any
    assert Changes.of_photos([1], new_tags=True).tags is None
    everything = Changes.of_everything(head=True)
    assert everything.photos is None and everything.tags is None and everything.head
