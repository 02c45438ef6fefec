"""The desktop app (PySide6). Qt only presents and dispatches; the logic is in photo_tagger.core."""

from photo_tagger.gui.qt_compat import apply_refcount_workaround

# Before any other Qt call: a PySide6 build that leaks references to None/True would
# otherwise abort the app after a few thousand calls (see qt_compat).
apply_refcount_workaround()
