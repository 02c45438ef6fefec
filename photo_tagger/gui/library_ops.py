"""Starting ops on the open library: the one long job at a time (from a menu or button,
said back when another runs) or a read alongside it, each failing with a message through
the `Notifier`. Shared by the File menu's jobs (library_jobs.py) and retraining
(retraining.py); the window hands it the session it opens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from photo_tagger.core.library import Library
from photo_tagger.gui.notifier import Notifier
from photo_tagger.gui.op_runner import Op, OpRunner
from photo_tagger.gui.session import LibrarySession


def job_op(notifier: Notifier, title: str, target: Callable[..., Any], *args: Any) -> Op:
    """A long job in a child process (its Python work off the GUI process's GIL), which
    says when it failed or was cancelled."""
    return (Op(target, *args, in_child_process=True)
            .failure(lambda message: notifier.error(f"{title} stopped: {message}"))
            .on_cancel(lambda: notifier.status(f"{title} cancelled; finished work is saved.", 5000)))


class LibraryOps:
    def __init__(self, runner: OpRunner, notifier: Notifier) -> None:
        self.runner, self.notifier = runner, notifier
        self.session: LibrarySession | None = None

    def set_session(self, session: LibrarySession | None) -> None:
        self.session = session

    def library(self) -> Library | None:
        """The open library; None (and the user told so) without one."""
        if self.session is None:
            self.notifier.error("Open a folder first.", modal_box=True)
            return None
        return self.session.library

    def start_by_hand(self, title: str, what: str, make_op: Callable[[Library], Op]) -> bool:
        """Start `make_op(library)` as the long job `title`; `what` the user asked for,
        said back when another job is running."""
        library = self.library()
        if library is None:
            return False
        if self.runner.busy:
            self.notifier.error(f"{self.runner.title} is running; {what} when it has finished.")
            return False
        return self.runner.start(title, make_op(library))

    def read(self, fn: Callable[[], Any], done: Callable[[Any], Any]) -> Op:
        """Run `fn()` (a read, or a file written from the catalogue) off the GUI thread,
        then `done(result)`."""
        return self.runner.run(Op(fn).success(done).failure(lambda message: self.notifier.error(message, True)))
