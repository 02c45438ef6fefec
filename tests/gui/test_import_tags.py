"""File › Import tags…: the dry-run summary is worked out off the GUI thread, the user
is asked "Apply?", and the import runs as a job whose changes survive a restart."""

from __future__ import annotations

from pathlib import Path

from gui.helpers import tags_of
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from photo_tagger.core import service
from photo_tagger.gui.library_jobs import IMPORT_JOB


def test_import_tags_shows_what_it_will_change_and_applies_it_when_asked(
    window, qtbot, library_path: Path, tmp_path: Path
) -> None:
    assert window.findChild(QAction, "importTags") is not None
    assert "confirmed tags only" in window.findChild(QAction, "exportSidecars").text()
    source = tmp_path / "tags.csv"
    source.write_text("path,tags\r\ncat.jpg,Mittens\r\n", encoding="utf-8")
    expected = service.plan_library_import(window.session.library, source)
    window.library_jobs.import_tags(source)
    assert window.findChild(QMessageBox, "importPlan") is None  # the plan is worked out in the pool
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "importPlan") is not None, timeout=30_000)
    box = window.findChild(QMessageBox, "importPlan")
    assert f"{expected.count('confirmed')} confirmed, {expected.count('rejected')} rejected" in box.text()
    assert "Apply?" in box.text()
    assert tags_of(window, "cat.jpg")["confirmed"] == set()  # nothing changed before the answer
    with qtbot.waitSignal(window.runner.finished, timeout=60_000) as finished:
        box.button(QMessageBox.StandardButton.Yes).click()
    assert finished.args[0] == IMPORT_JOB
    assert tags_of(window, "cat.jpg")["confirmed"] == {"Mittens"}
    reopened = service.Library.open(library_path)  # a restart: the import was committed
    assert service.plan_library_import(reopened, source).changes == []
