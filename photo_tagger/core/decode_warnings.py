"""Warnings raised while we read a photo go to our log, naming the file, never to stderr.

Pillow reports damage it recovers from ("Corrupt EXIF data", "Possibly corrupt EXIF data",
a TIFF tag past the end of the file) with `warnings.warn`, which would print over the CLI's
output once per odd photo. `warnings.catch_warnings` could silence them, but it swaps
process-wide state on entry and exit, so two decode threads using it at once can restore
each other's filters and leak them. Instead a single `showwarning` hook is installed once
(the way `logging.captureWarnings` works): a warning raised in a thread that is inside
`warnings_logged(label)` is logged at info level with that label (`photo-tagger -v`), and any other warning
is passed on unchanged. The label lives in a thread-local, so threads never see each other's.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

log = logging.getLogger(__name__)

_reading = threading.local()  # .label: what this thread is reading, e.g. a photo's path
_install_lock = threading.Lock()
_hook: Callable[..., None] | None = None


@contextmanager
def warnings_logged(label: str) -> Iterator[None]:
    """Route warnings raised in this thread to the log as "`label`: warning" meanwhile.
    Python shows a given text from a given line once per process (the "default" action),
    so a message repeated word for word by many photos is logged for the first one."""
    if warnings.showwarning is not _hook:
        _install()
    outer = getattr(_reading, "label", None)
    _reading.label = label
    try:
        yield
    finally:
        _reading.label = outer


def _install() -> None:
    """Wrap whatever `showwarning` is now. Checked on every use, because a
    `catch_warnings` block entered before the first install restores the old one on exit."""
    global _hook
    with _install_lock:
        passed_on = warnings.showwarning
        if passed_on is _hook:
            return

        def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: TextIO | None = None, line: str | None = None) -> None:
            label = getattr(_reading, "label", None)
            if label is None:
                passed_on(message, category, filename, lineno, file, line)
            else:
                log.info("%s: %s: %s", label, category.__name__, message)

        warnings.showwarning = _hook = show
