"""The app's tag edits are written by one thread with its own catalogue connection.

A commit waits for the disk (`synchronous=FULL`) and for the write lock, which an indexer
in another process holds for ~15 ms per batch: measured on the GUI thread, edits made
while indexing took 3 ms at the median but 29 ms at p99 and up to 83 ms. Here the GUI
thread only queues the change; jobs run strictly in order, and each one's result (or
error) comes back to the GUI thread through a queued signal. Closing drains the queue, so
an edit the user made is never dropped on the way out.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from photo_tagger.core.library import Library
from photo_tagger.core.store.connection import Catalogue

Job = Callable[[Catalogue], Any]
Done = Callable[[Any], None]
Failed = Callable[[Exception], None]


class CatalogueWriter(QObject):
    _finished = Signal(object)  # (callback, argument): run on the GUI thread

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: queue.Queue[tuple[Job, Done, Failed] | None] = queue.Queue()
        self._idle = threading.Condition()
        self._unwritten = 0  # jobs queued or running (guarded by _idle)
        self._finished.connect(self._deliver)
        self._catalogue = library.connect()  # opened here: a bad catalogue fails at once
        self._thread = threading.Thread(target=self._work, name="catalogue-writer", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        """Some submitted job is not written yet."""
        with self._idle:
            return self._unwritten > 0

    def submit(self, job: Job, done: Done, failed: Failed) -> None:
        """Run `job(catalogue)` after every job submitted before it; then `done(result)`
        or `failed(exception)` on the GUI thread."""
        with self._idle:
            self._unwritten += 1
        self._jobs.put((job, done, failed))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted job has been written (their callbacks are still to
        come through the event loop). For closing, and for what must follow the edits in
        order on the GUI's own connection (the tag manager's changes)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unwritten == 0, timeout)

    def close(self) -> None:
        """Write what is queued, then stop the thread and close the connection."""
        self._jobs.put(None)
        self._thread.join()
        self._catalogue.close()

    def _work(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, done, failed = item
            try:
                outcome: tuple[Callable[[Any], None], Any] = (done, job(self._catalogue))
            except Exception as exc:  # reported to the GUI thread: UserError as a message
                outcome = (failed, exc)
            self._finished.emit(outcome)
            with self._idle:
                self._unwritten -= 1
                self._idle.notify_all()

    @staticmethod
    def _deliver(outcome: tuple[Callable[[Any], None], Any]) -> None:
        callback, argument = outcome
        callback(argument)
