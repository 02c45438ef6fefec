"""Retraining in the app through the real core: the report dialog, the stored report from the
Tags menu, and rolling a training back from the dialog."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui.helpers import open_tag_manager, select, settle, table_rows, tags_of
from photos import sample_photo, save_photo
from PIL import ImageOps
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from photo_tagger.core import service, tagging
from photo_tagger.core.indexer import index_library
from photo_tagger.core.library import Library
from photo_tagger.gui.retraining import ACTIVATE_JOB, RETRAIN_JOB, ROLLBACK_JOB
from photo_tagger.gui.train_report_dialog import COLUMNS, TrainReportDialog


@pytest.fixture(scope="module")
def pets_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four views of the cat and four of the coffee, indexed; the cats confirmed as
    "Mittens" (a tag ImageNet has no class for) and those eight reviewed, so the coffees are
    its negatives. A fifth view of the cat stays unreviewed."""
    root = tmp_path_factory.mktemp("pets") / "Pets"
    cat, coffee = sample_photo("chelsea"), sample_photo("coffee")
    for i in range(5):
        for name, image in (("cat", cat), ("coffee", coffee)):
            view = image.crop((12 * i, 8 * i, image.width - 12 * i, image.height - 8 * i))
            view = ImageOps.mirror(view) if i % 2 else view
            if i < 4:
                save_photo(view, root / f"{name}{i}.jpg", quality=90)
            elif name == "cat":
                save_photo(view, root / "new cat.jpg", quality=90)
    library = Library.open(root)
    for _ in index_library(library):
        pass
    with library.connect() as catalogue:
        ids = {row["path"]: row["id"] for row in catalogue.query("SELECT id, path FROM photos")}
        mittens = tagging.ensure_tag(catalogue, "Mittens")
        tagging.set_state(catalogue, [ids[f"cat{i}.jpg"] for i in range(4)], mittens, "confirmed")
        tagging.accept_suggestions(catalogue, [ids[path] for path in ids if path != "new cat.jpg"])
    return root


@pytest.fixture
def pets(window, pets_template: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    import shutil

    root = tmp_path / "Pets"
    shutil.copytree(pets_template, root)
    assert window.open_library(root, index=False)
    return window


def run_job(window, qtbot, start) -> list:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.runner.finished, timeout=120_000) as finished:
        start()
    return finished.args


def report_rows(dialog: TrainReportDialog) -> dict[str, dict[str, str]]:
    table = dialog.table.model()
    return {
        table.index(row, 0).data(): {name: table.index(row, col).data() for col, name in enumerate(COLUMNS)}
        for row in range(table.rowCount())
    }


def test_retraining_shows_the_report_and_the_new_tag_is_suggested(pets, qtbot, qtmodeltester) -> None:
    window = pets
    manager = open_tag_manager(window, qtbot)  # left open while it trains
    assert table_rows(manager, qtbot)["Mittens"].suggested == 0
    assert run_job(window, qtbot, window.retraining.retrain)[0] == RETRAIN_JOB
    dialog = window.findChild(TrainReportDialog, "trainReport")
    assert dialog is not None and dialog.isVisible()
    qtmodeltester.check(dialog.model)
    rows = report_rows(dialog)
    assert rows["Mittens"]["Confirmed"] == "4" and rows["Mittens"]["Rejected"] == "4"
    assert float(rows["Mittens"]["AP after"]) > float(rows["Mittens"]["AP before"])
    assert "Retrained on 8 photos" in dialog.summary.text()
    assert dialog.findChild(type(dialog.summary), "map_after").text() != "\u2013"
    # Sorting by a number column sorts by value, not by text.
    dialog.table.sortByColumn(COLUMNS.index("Confirmed"), Qt.SortOrder.DescendingOrder)
    assert dialog.table.model().index(0, COLUMNS.index("Confirmed")).data() == "4"
    dialog.close()
    settle(window)
    assert "Mittens" not in tags_of(window, "coffee0.jpg")["suggested"]
    assert "Mittens" in tags_of(window, "new cat.jpg")["suggested"]  # learnt from four examples
    assert table_rows(manager, qtbot)["Mittens"].suggested >= 1  # the manager too


def test_the_report_menu_shows_the_stored_report_and_rolls_back(pets, qtbot) -> None:
    window = pets
    report = window.findChild(QAction, "trainingReport")
    report.trigger()
    box = None

    def no_training_box() -> bool:
        nonlocal box
        box = window.findChild(QMessageBox, "noTrainReport")
        return box is not None

    qtbot.waitUntil(no_training_box, timeout=10_000)
    assert "No training yet" in box.text()
    box.close()
    run_job(window, qtbot, window.retraining.retrain)
    window.findChild(TrainReportDialog, "trainReport").close()
    settle(window)
    report.trigger()
    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(TrainReportDialog)), timeout=10_000)
    dialog = next(d for d in window.findChildren(TrainReportDialog) if d.isVisible())
    assert "Mittens" in report_rows(dialog)
    with qtbot.waitSignal(window.runner.finished, timeout=120_000) as finished:
        dialog.rollback_button.click()
    assert finished.args[0] == ROLLBACK_JOB
    settle(window)
    assert service.training_report(window.session.library) is None  # back to the zero-shot model
    assert "zero-shot" in window.statusBar().currentMessage()
    # Mittens had no model before the training: it is suggested nowhere after the rollback,
    # and the user's own confirmed tags are untouched.
    select(window, "cat1.jpg")
    assert "Mittens" in tags_of(window, "cat1.jpg")["confirmed"]
    assert "Mittens" not in tags_of(window, "new cat.jpg")["suggested"]


def test_rolling_back_without_a_training_says_so(window, qtbot) -> None:
    with qtbot.waitSignal(window.runner.failed, timeout=10_000):
        window.findChild(QAction, "rollback").trigger()
    assert "no trained head to roll back" in window.statusBar().currentMessage()


def test_a_training_kept_inactive_asks_and_is_used_on_request(pets, qtbot) -> None:
    window = pets
    run_job(window, qtbot, window.retraining.retrain)
    shown = window.findChild(TrainReportDialog, "trainReport")
    report = shown.report
    shown.close()
    run_job(window, qtbot, window.retraining.rollback)
    assert service.load_model(window.session.library).head_id is None
    report.activated = False  # what training returns when the new head scored lower
    window.retraining.open_report(report)
    dialog = next(d for d in window.findChildren(TrainReportDialog) if d.isVisible() and not d.report.activated)
    assert "Not in use" in dialog.summary.text() and not hasattr(dialog, "rollback_button")
    with qtbot.waitSignal(window.runner.finished, timeout=120_000) as finished:
        dialog.activate_button.click()
    assert finished.args[0] == ACTIVATE_JOB
    settle(window)
    assert service.load_model(window.session.library).head_id == report.head_id
    assert "Mittens" in tags_of(window, "new cat.jpg")["suggested"]
    assert any("activated by hand" in note for note in service.training_report(window.session.library).notes)
