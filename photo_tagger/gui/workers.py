"""Run the core's long jobs off the GUI thread.

A `GeneratorWorker` drives a core generator in a QThreadPool thread; a
`ProcessGeneratorWorker` drives it in a child process (indexing, training: hours of
Python and numpy work would otherwise compete with the GUI thread for the GIL, which
measured as 200-400 ms event-loop stalls). Both report through `WorkerSignals`, a separate
QObject that lives on the GUI thread, so slots run there. Cancel is real: the job stops
asking for the next item and closes the generator where it runs, which runs the job's
`finally` blocks (finished batches are already committed by the core).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from photo_tagger.core.errors import UserError

log = logging.getLogger(__name__)
# Background indexing and training yield to everything else, the GUI first (as desktop
# indexers do): idle cores still go to them in full.
CHILD_NICENESS = 19


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


class CancellableWorker(QRunnable):
    """A runnable with signals, a cancel flag the job polls, and `done` set when it ends."""

    def __init__(self) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the owner keeps a reference; Qt must not delete it under us
        self._cancel = threading.Event()
        self.done = threading.Event()
        self.signals = WorkerSignals()
        self.wait_first: Callable[[], object] | None = None  # run in the pool thread before the job

    def _wait_first(self) -> None:
        if self.wait_first is not None:
            self.wait_first()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()


class GeneratorWorker(CancellableWorker):
    """Drives `make()` (which returns a generator) to its end, unless cancelled."""

    def __init__(self, make: Callable[[], Generator[Any, None, Any]]) -> None:
        super().__init__()
        self._make = make

    def run(self) -> None:
        try:
            self._wait_first()
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


def _run_in_child(target: Callable[..., Generator[Any, None, Any]], args: tuple, conn: Any) -> None:
    """The child process: run `target(*args)`, send ("progress" | "finished" | "failed" |
    "cancelled", payload) messages; a "cancel" message from the parent closes the job."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:  # background work yields the CPU to the window the user is working in
        os.nice(CHILD_NICENESS)
    except (AttributeError, OSError):
        pass
    try:
        job = target(*args)
        try:
            while not (conn.poll() and conn.recv() == "cancel"):
                try:
                    item = next(job)
                except StopIteration as stop:
                    conn.send(("finished", stop.value))
                    return
                conn.send(("progress", item))
            conn.send(("cancelled", None))
        finally:
            job.close()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send(("failed", failure_message(exc)))


class ProcessGeneratorWorker(CancellableWorker):
    """Drives `target(*args)` (a picklable module-level function returning a generator)
    in a child process; this runnable only relays its messages as signals."""

    def __init__(self, target: Callable[..., Generator[Any, None, Any]], *args: Any) -> None:
        super().__init__()
        self._target, self._args = target, args

    def run(self) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process with Qt threads
        parent, child = context.Pipe()
        process = context.Process(target=_run_in_child, args=(self._target, self._args, child), daemon=True)
        try:
            self._wait_first()
            process.start()
            child.close()
            self._relay(parent, process)
        except BaseException as exc:  # noqa: BLE001
            self.signals.failed.emit(failure_message(exc))
        finally:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
            parent.close()
            self.done.set()

    def _relay(self, conn: Any, process: Any) -> None:
        asked_to_cancel = False
        while True:
            if self._cancel.is_set() and not asked_to_cancel:
                conn.send("cancel")
                asked_to_cancel = True
            if not conn.poll(0.05):
                if not process.is_alive() and not conn.poll():
                    self.signals.failed.emit(f"the background job stopped unexpectedly (exit code {process.exitcode})")
                    return
                continue
            try:
                kind, payload = conn.recv()
            except EOFError:
                continue
            if kind == "progress":
                self.signals.progress.emit(payload)
                continue
            if kind == "finished":
                self.signals.finished.emit(payload)
            elif kind == "failed":
                self.signals.failed.emit(payload)
            else:
                self.signals.cancelled.emit()
            return


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
