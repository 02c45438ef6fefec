"""The desktop app (PySide6). Qt only presents and dispatches; the logic is in photo_tagger.core."""
