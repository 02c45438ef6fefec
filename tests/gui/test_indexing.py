"""Indexing in the app: in a child process, with progress, cancel, and a grid that fills in."""

from __future__ import annotations

import shutil
from pathlib import Path

from gui.helpers import select
from photos import sample_photo, save_photo


def test_opening_a_new_folder_indexes_it_in_the_background(qtbot, settings, tmp_path: Path) -> None:
    from photo_tagger.gui.app import make_app
    from photo_tagger.gui.main_window import MainWindow

    root = tmp_path / "Fresh"
    save_photo(sample_photo("chelsea"), root / "cat.jpg")
    save_photo(sample_photo("coffee"), root / "coffee.jpg")
    make_app()
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    progress = []
    window.runner.progress.connect(progress.append)
    with qtbot.waitSignal(window.runner.finished, timeout=60_000) as finished:
        assert window.open_library(root)
        assert window.runner.busy and window.job_status.cancel_button.isVisible()
    assert finished.args[0] == "Indexing" and finished.args[1].indexed == 2
    assert progress and not window.job_status.cancel_button.isVisible()
    select(window, "cat.jpg")
    assert "cat" in {t.name for t in window.panel.tags.suggested}
    window.close()


def test_cancel_stops_indexing_and_keeps_the_app_usable(qtbot, window, library_path: Path) -> None:
    for i in range(40):
        shutil.copy(library_path / "cat.jpg", library_path / f"copy{i:02d}.jpg")
    window.library_jobs.start_indexing()
    # Cancel once photos are being decoded: by then the scan has listed all 45.
    with qtbot.waitSignal(
        window.runner.progress, timeout=60_000, check_params_cb=lambda p: p.phase == "indexing"
    ):
        pass
    with qtbot.waitSignal(window.runner.cancelled, timeout=60_000):
        window.runner.cancel()
    assert not window.runner.busy
    window.refresh()
    assert window.model.rowCount() == 45
