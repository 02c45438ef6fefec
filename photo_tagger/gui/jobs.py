"""Long jobs in the status bar: a label, a progress bar and a Cancel button driving one
`GeneratorWorker` at a time (indexing, retraining)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from photo_tagger.core import service
from photo_tagger.core.progress import Progress
from photo_tagger.gui.workers import GeneratorWorker, ProcessGeneratorWorker, job_pool


def export_sidecars_job(library: service.Library,
                        options: service.ExportOptions | None = None) -> Generator[Any, None, Any]:
    """`service.export_library_sidecars` as a job for `JobRunner` (module level, so it can
    run in a child process). The core reports no progress: the bar stays indeterminate."""
    return service.export_library_sidecars(library, options)
    yield  # pragma: no cover - makes this a generator


def apply_import_job(library: service.Library, plan: service.ImportPlan) -> Generator[Any, None, Any]:
    """`service.apply_library_import` as a job for `JobRunner` (module level, like
    `export_sidecars_job`)."""
    return service.apply_library_import(library, plan)[1]
    yield  # pragma: no cover - makes this a generator


def sidecar_summary_text(summary: Any) -> str:
    """One line for the status bar from a `SidecarSummary`."""
    parts = [f"{len(summary.written):,} written", f"{len(summary.backups):,} previous versions kept as .bak",
             f"{summary.unchanged:,} unchanged", f"{len(summary.errors):,} errors"]
    if summary.skipped_missing:
        parts.append(f"{summary.skipped_missing:,} photos missing")
    return "XMP sidecars (confirmed tags only): " + ", ".join(parts)


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


class JobRunner(QObject):
    """Runs one job at a time; `progress`, `finished(name, result)`, `failed(name, message)`."""

    progress = Signal(object)
    finished = Signal(str, object)
    failed = Signal(str, str)
    cancelled = Signal(str)

    def __init__(self, status_bar: QStatusBar) -> None:
        super().__init__(status_bar)
        self.label = QLabel()
        self.label.setFixedWidth(330)  # a fixed size: new text never relayouts the window
        self.bar = QProgressBar()
        self.bar.setFixedWidth(180)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelJob")
        self.cancel_button.clicked.connect(self.cancel)
        for widget in (self.label, self.bar, self.cancel_button):
            status_bar.addPermanentWidget(widget)
            widget.hide()
        self.worker: GeneratorWorker | ProcessGeneratorWorker | None = None
        self.name = ""
        self.wait_first: Callable[[], object] | None = None  # in the job's thread: e.g. queued edits

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def start(self, name: str, target: Callable[..., Generator[Any, None, Any]], *args: Any,
              child_process: bool = True) -> bool:
        """Run `target(*args)`; in a child process unless `child_process` is False (then
        `target` may be any callable, e.g. a closure in tests)."""
        if self.worker is not None:
            return False
        self.name = name
        worker: GeneratorWorker | ProcessGeneratorWorker
        if child_process:
            worker = ProcessGeneratorWorker(target, *args)
        else:
            worker = GeneratorWorker(lambda: target(*args))
        worker.wait_first = self.wait_first
        self.worker = worker
        worker.signals.progress.connect(self._on_progress)
        worker.signals.finished.connect(lambda result: self._end(worker, self.finished, result))
        worker.signals.failed.connect(lambda message: self._end(worker, self.failed, message))
        worker.signals.cancelled.connect(lambda: self._end(worker, self.cancelled, None))
        self.label.setText(f"{name}\u2026")
        self.bar.setRange(0, 0)
        for widget in (self.label, self.bar, self.cancel_button):
            widget.show()
        self.cancel_button.setEnabled(True)
        job_pool().start(worker)
        return True

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText(f"Cancelling {self.name.lower()}\u2026")

    def wait(self, timeout_s: float = 30.0) -> None:
        """Cancel and wait for the job to stop (closing the window)."""
        if self.worker is not None:
            self.worker.cancel()
            self.worker.done.wait(timeout_s)

    def _on_progress(self, progress: Progress) -> None:
        if self.worker is None or self.worker.is_cancelled:
            return
        text, done, total = describe_progress(progress)
        self.label.setText(text)
        if total:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
        self.progress.emit(progress)

    def _end(self, worker: GeneratorWorker | ProcessGeneratorWorker, signal: Any, payload: Any) -> None:
        if worker is not self.worker:
            return
        self.worker = None
        for widget in (self.label, self.bar, self.cancel_button):
            widget.hide()
        if signal is self.cancelled:
            signal.emit(self.name)
        else:
            signal.emit(self.name, payload)
