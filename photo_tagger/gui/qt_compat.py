"""Work around a PySide6 refcount bug before any Qt call is made.

PySide6 6.12.0 on Python 3.11 (seen on this project's machines) returns `None` from every
void method and `True` from every `Signal.emit()` without taking a new reference, as if
they were immortal (they are from Python 3.12 on). Each call then takes one reference
away; after a few thousand calls (seconds of scrolling) the interpreter aborts with
"Fatal Python error: none_dealloc" (or bool_dealloc). We detect the bug once and, only
where it exists, make those singletons effectively immortal the way Python 3.12 does: by
giving them a refcount no run can exhaust.
"""

from __future__ import annotations

import ctypes
import sys

_HUGE = 1 << 40  # 10^12 calls of headroom; Python 3.12 uses a similar large constant


def _lost_per_call(obj: object, call: object, n: int = 64) -> bool:
    before = sys.getrefcount(obj)
    for _ in range(n):
        call()  # type: ignore[operator]
    return sys.getrefcount(obj) < before


def _immortalize(obj: object) -> None:
    ctypes.c_ssize_t.from_address(id(obj)).value += _HUGE


def apply_refcount_workaround() -> bool:
    """Returns whether the workaround was needed (and applied)."""
    if sys.version_info >= (3, 12) or getattr(sys, "_photo_tagger_immortal", False):
        return False
    from PySide6.QtCore import QObject, QSize, Signal

    class _Probe(QObject):
        ping = Signal()

    probe, size = _Probe(), QSize(1, 1)
    needed = _lost_per_call(None, lambda: size.setWidth(2)) or _lost_per_call(True, probe.ping.emit)
    if needed:
        for obj in (None, True, False):
            _immortalize(obj)
        sys._photo_tagger_immortal = True  # type: ignore[attr-defined]
    return needed
