"""Run work off the GUI thread: one `Op` type, and the `OpRunner` the window runs ops with.

An op calls `target(*args)` in a QThreadPool thread, or in a child process (indexing,
training: hours of Python and numpy work would otherwise compete with the GUI thread for
the GIL, measured as 200-400 ms event-loop stalls). The target is a function (its result is
the op's) or a generator function (its items are `Progress`, its return value the result).
Each op carries its own callbacks, which run on the GUI thread (its signals live on a
separate QObject made there): `success(result)`, `failure(message)`, `on_progress`,
`on_cancel`; a result that is an `Outcome` hands its `Changes` to `on_changes` first and its
value to `success`. Cancel is real: the op stops asking for the next item and closes the
generator where it runs, which runs the job's `finally` blocks (finished batches are
already committed by the core).
"""

from __future__ import annotations

import inspect
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from photo_tagger.core.changes import Outcome
from photo_tagger.core.errors import UserError

log = logging.getLogger(__name__)
# Background indexing and training yield to everything else, the GUI first (as desktop
# indexers do): idle cores still go to them in full.
CHILD_NICENESS = 19

Send = Callable[[str, Any], None]  # ("progress" | "finished" | "cancelled", payload)


def failure_message(exc: BaseException) -> str:
    """A user error is its message; a bug is logged with its traceback and summarised."""
    if isinstance(exc, UserError):
        return str(exc)
    log.error("unexpected error in a background job", exc_info=exc)
    return f"Unexpected error: {type(exc).__name__}: {exc} (details in the log)"


def drive(target: Callable[..., Any], args: tuple, cancelled: Callable[[], bool], send: Send) -> None:
    """Call `target(*args)`; a generator is run to its end (or until `cancelled()`), each
    item sent as progress. Where the op runs: a pool thread or the child process."""
    job = target(*args)
    if not inspect.isgenerator(job):
        send("finished", job)
        return
    try:
        while not cancelled():
            try:
                item = next(job)
            except StopIteration as stop:
                send("finished", stop.value)
                return
            send("progress", item)
        send("cancelled", None)
    finally:
        job.close()


def _run_in_child(target: Callable[..., Any], args: tuple, conn: Any) -> None:
    """The child process: `drive` the target, its messages sent to the parent, which
    asks to cancel by sending "cancel"."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:  # background work yields the CPU to the window the user is working in
        os.nice(CHILD_NICENESS)
    except (AttributeError, OSError):
        pass
    try:
        drive(target, args, lambda: conn.poll() and conn.recv() == "cancel",
              lambda kind, payload: conn.send((kind, payload)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send(("failed", failure_message(exc)))


class OpSignals(QObject):
    progress = Signal(object)
    finished = Signal(object)  # the target's result
    failed = Signal(str)  # a message for the user, never a traceback
    cancelled = Signal()


class Op(QRunnable):
    """`target(*args)` off the GUI thread, with its callbacks (see the module's doc). With
    `in_child_process`, `target` must be a picklable module-level function."""

    def __init__(self, target: Callable[..., Any], *args: Any, in_child_process: bool = False) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the owner keeps a reference; Qt must not delete it under us
        self._target, self._args = target, args
        self.in_child_process = in_child_process
        self.wait_first: Callable[[], object] | None = None  # run where the op runs, before it
        self._cancel = threading.Event()
        self.done = threading.Event()
        self._callbacks: dict[str, list[Callable[..., Any]]] = {
            "success": [], "failure": [], "progress": [], "cancelled": [], "changes": [], "ended": []}
        self.signals = OpSignals()
        self.signals.progress.connect(self._progressed)
        self.signals.finished.connect(self._finished)
        self.signals.failed.connect(self._failed)
        self.signals.cancelled.connect(self._cancelled)

    # -- callbacks, chained: Op(f).success(show).failure(say) ---------------------------
    def success(self, callback: Callable[[Any], Any]) -> Op:
        self._callbacks["success"].append(callback)
        return self

    def failure(self, callback: Callable[[str], Any]) -> Op:
        self._callbacks["failure"].append(callback)
        return self

    def on_progress(self, callback: Callable[[Any], Any]) -> Op:
        self._callbacks["progress"].append(callback)
        return self

    def on_cancel(self, callback: Callable[[], Any]) -> Op:
        self._callbacks["cancelled"].append(callback)
        return self

    def on_changes(self, callback: Callable[[Any], Any]) -> Op:
        self._callbacks["changes"].append(callback)
        return self

    def on_end(self, callback: Callable[[], Any]) -> Op:
        """After the op's outcome, whichever it was."""
        self._callbacks["ended"].append(callback)
        return self

    def _call(self, kind: str, *args: Any) -> None:
        for callback in self._callbacks[kind]:
            callback(*args)

    def _progressed(self, progress: Any) -> None:
        if not self.is_cancelled:
            self._call("progress", progress)

    def _finished(self, result: Any) -> None:
        if isinstance(result, Outcome):
            self._call("changes", result.changes)
            result = result.value
        self._call("success", result)
        self._call("ended")

    def _cancelled(self) -> None:
        self._call("cancelled")
        self._call("ended")

    def _failed(self, message: str) -> None:
        if not self._callbacks["failure"]:
            log.warning("a background job failed, and no one was told: %s", message)
        self._call("failure", message)
        self._call("ended")

    # -- running ------------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:
        try:
            if self.wait_first is not None:
                self.wait_first()
            if self.in_child_process:
                self._run_child()
            else:
                drive(self._target, self._args, self._cancel.is_set, self._emit)
        except BaseException as exc:  # noqa: BLE001 - reported to the GUI, never re-raised in a pool thread
            self.signals.failed.emit(failure_message(exc))
        finally:
            self.done.set()

    def _emit(self, kind: str, payload: Any) -> None:
        if kind == "progress":
            self.signals.progress.emit(payload)
        elif kind == "finished":
            self.signals.finished.emit(payload)
        elif kind == "failed":
            self.signals.failed.emit(payload)
        else:
            self.signals.cancelled.emit()

    def _run_child(self) -> None:
        """This pool thread only relays the child's messages as signals."""
        context = multiprocessing.get_context("spawn")  # never fork a process with Qt threads
        parent, child = context.Pipe()
        process = context.Process(target=_run_in_child, args=(self._target, self._args, child), daemon=True)
        try:
            process.start()
            child.close()
            self._relay(parent, process)
        finally:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
            parent.close()

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
            self._emit(kind, payload)
            if kind != "progress":
                return


class OpRunner(QObject):
    """The window's ops. `run(op)`: alongside others (reads, a CSV export); `start(title,
    op)`: the one long job at a time, which the status bar shows with a Cancel button.
    Every op waits first, in its own thread, for `wait_first` (the tag edits queued so far:
    an op reads the catalogue from its own connection, and must see them). `changed`
    carries the `Changes` of every op that finished; the other signals observe the long
    job (its outcome itself goes to the op's own callbacks)."""

    changed = Signal(object)
    started = Signal(str)  # the long job's title
    progress = Signal(object)
    finished = Signal(str, object)  # title, result
    failed = Signal(str, str)  # title, message
    cancelled = Signal(str)
    cancelling = Signal(str)  # asked to stop; it stops at its next item

    def __init__(self, wait_first: Callable[[], object], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._wait_first = wait_first
        self._running: set[Op] = set()
        self.job: Op | None = None
        self.title = ""

    @property
    def busy(self) -> bool:
        """A long job is running."""
        return self.job is not None

    def run(self, op: Op, pool: QThreadPool | None = None) -> Op:
        op.wait_first = self._wait_first
        op.on_changes(self.changed.emit)
        self._running.add(op)
        op.on_end(lambda: self._running.discard(op))
        (pool or job_pool()).start(op)
        return op

    def start(self, title: str, op: Op) -> bool:
        """False (and nothing runs) while another long job runs."""
        if self.job is not None:
            return False
        self.job, self.title = op, title
        op.on_progress(self.progress.emit)  # after the op's own callbacks:
        op.success(lambda result: self._ended(op, self.finished, title, result))
        op.failure(lambda message: self._ended(op, self.failed, title, message))
        op.on_cancel(lambda: self._ended(op, self.cancelled, title))
        self.started.emit(title)
        self.run(op)
        return True

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancelling.emit(self.title)

    def wait(self, timeout_s: float = 30.0) -> None:
        """Cancel the long job and wait for it to stop (closing the library)."""
        if self.job is not None:
            self.job.cancel()
            self.job.done.wait(timeout_s)

    def _ended(self, op: Op, signal: Any, *args: Any) -> None:
        if op is self.job:
            self.job = None
            signal.emit(*args)


def job_pool() -> QThreadPool:
    """Ops (indexing, training, exports, reads for dialogs): one long job runs at a time;
    the indexer runs its own decode threads."""
    return _pool("jobs")


def io_pool() -> QThreadPool:
    """Short reads and decodes (thumbnails, previews), never queued behind a long job."""
    return _pool("io")


_pools: dict[str, QThreadPool] = {}


def _pool(name: str) -> QThreadPool:
    """The pool `name` of two threads, made on first use."""
    if name not in _pools:
        _pools[name] = QThreadPool()
        _pools[name].setMaxThreadCount(2)
    return _pools[name]
