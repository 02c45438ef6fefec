"""Run the core's long jobs off the GUI thread.

A `GeneratorWorker` drives a core generator (indexing, training) in a QThreadPool thread
and reports through `WorkerSignals`, a separate QObject that lives on the GUI thread, so
slots run there. Cancel is real: the worker stops asking for the next item and closes the
generator in its own thread, which runs the job's `finally` blocks (finished batches are
already committed by the core).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from photo_tagger.core.errors import UserError

log = logging.getLogger(__name__)


class WorkerSignals(QObject):
    progress = Signal(object)
    finished = Signal(object)  # the generator's return value / the function's result
    failed = Signal(str)  # a message for the user, never a traceback
    cancelled = Signal()


def failure_message(exc: BaseException) -> str:
    """A user error is its message; a bug is logged with its traceback and summarised."""
    if isinstance(exc, UserError):
        return str(exc)
    log.error("unexpected error in a background job", exc_info=exc)
    return f"Unexpected error: {type(exc).__name__}: {exc} (details in the log)"


class GeneratorWorker(QRunnable):
    """Drives `make()` (which returns a generator) to its end, unless cancelled."""

    def __init__(self, make: Callable[[], Generator[Any, None, Any]]) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the owner keeps a reference; Qt must not delete it under us
        self._make = make
        self._cancel = threading.Event()
        self.done = threading.Event()
        self.signals = WorkerSignals()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:
        try:
            job = self._make()
            try:
                while not self._cancel.is_set():
                    try:
                        item = next(job)
                    except StopIteration as stop:
                        self.signals.finished.emit(stop.value)
                        return
                    self.signals.progress.emit(item)
                self.signals.cancelled.emit()
            finally:
                job.close()
        except BaseException as exc:  # noqa: BLE001 - reported to the GUI, never re-raised in a pool thread
            self.signals.failed.emit(failure_message(exc))
        finally:
            self.done.set()


class CallWorker(QRunnable):
    """Runs one function off the GUI thread; `finished(result)` or `failed(message)`."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self._fn = fn
        self.done = threading.Event()
        self.signals = WorkerSignals()

    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:  # noqa: BLE001
            self.signals.failed.emit(failure_message(exc))
        else:
            self.signals.finished.emit(result)
        finally:
            self.done.set()


def job_pool() -> QThreadPool:
    """Long jobs (indexing, training, export): one at a time is plenty on 2 cores; the
    indexer runs its own decode threads."""
    pool = _pools.get("jobs")
    if pool is None:
        pool = _pools["jobs"] = QThreadPool()
        pool.setMaxThreadCount(2)
    return pool


def io_pool() -> QThreadPool:
    """Short reads and decodes (thumbnails, previews), never queued behind a long job."""
    pool = _pools.get("io")
    if pool is None:
        pool = _pools["io"] = QThreadPool()
        pool.setMaxThreadCount(2)
    return pool


_pools: dict[str, QThreadPool] = {}
