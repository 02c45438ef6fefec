"""The long job in the status bar: what it does, a progress bar and a Cancel button, for
the op an `OpRunner` runs as its long job (indexing, retraining, an export)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from photo_tagger.core.progress import Progress
from photo_tagger.gui.op_runner import OpRunner


def describe_progress(progress: Progress) -> tuple[str, int, int]:
    """(text, done, total) for the status bar."""
    if progress.phase == "scanning":
        return (progress.message or "Scanning\u2026", 0, 0)
    if progress.total:
        text = f"{progress.phase.capitalize() or 'Working'}: {progress.done:,} of {progress.total:,}"
        if progress.phase == "indexing" and progress.per_s:
            text += f"  \u00b7  {progress.per_s:.0f} photos/s"
        if progress.errors:
            text += f"  \u00b7  {progress.errors} errors"
        return (text, progress.done, progress.total)
    return (progress.message or progress.phase.capitalize() or "Working\u2026", 0, 0)


class JobStatus:
    """Permanent widgets of `status_bar`, shown while `runner` runs a long job."""

    def __init__(self, runner: OpRunner, status_bar: QStatusBar) -> None:
        self.label = QLabel()
        self.label.setFixedWidth(330)  # a fixed size: new text never relayouts the window
        self.bar = QProgressBar()
        self.bar.setFixedWidth(180)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelJob")
        self.cancel_button.clicked.connect(runner.cancel)
        for widget in (self.label, self.bar, self.cancel_button):
            status_bar.addPermanentWidget(widget)
            widget.hide()
        runner.started.connect(self._started)
        runner.progress.connect(self._progress)
        runner.cancelling.connect(self._cancelling)
        runner.finished.connect(self._hide)
        runner.failed.connect(self._hide)
        runner.cancelled.connect(self._hide)

    def _started(self, title: str) -> None:
        self.label.setText(f"{title}\u2026")
        self.bar.setRange(0, 0)
        for widget in (self.label, self.bar, self.cancel_button):
            widget.show()
        self.cancel_button.setEnabled(True)

    def _cancelling(self, title: str) -> None:
        self.cancel_button.setEnabled(False)
        self.label.setText(f"Cancelling {title.lower()}\u2026")

    def _progress(self, progress: Progress) -> None:
        text, done, total = describe_progress(progress)
        self.label.setText(text)
        if total:
            self.bar.setRange(0, total)
            self.bar.setValue(done)

    def _hide(self, *_args: object) -> None:
        for widget in (self.label, self.bar, self.cancel_button):
            widget.hide()
