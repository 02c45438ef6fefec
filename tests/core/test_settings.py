"""Typed library settings (core/store/settings.py)."""

from __future__ import annotations

from pathlib import Path

from photo_tagger.core.store import settings
from photo_tagger.core.store.connection import Catalogue


def test_a_new_catalogue_reads_every_setting_s_default(tmp_path: Path) -> None:
    with Catalogue(tmp_path / "c.sqlite") as cat:
        assert settings.keywords_enabled(cat)
        assert settings.target_precision(cat) is None
        assert settings.head_history(cat, "b") is None
        assert not settings.suggestions_stale(cat, "b")


def test_settings_survive_reopening_with_their_types(tmp_path: Path) -> None:
    with Catalogue(tmp_path / "c.sqlite") as cat:
        settings.set_keywords_enabled(cat, False)
        settings.set_target_precision(cat, 0.9)
        settings.set_head_history(cat, "b", [3, 5])
        settings.set_head_history(cat, "other", [])
        settings.mark_suggestions_stale(cat, "b")
    with Catalogue(tmp_path / "c.sqlite") as cat:
        assert settings.keywords_enabled(cat) is False
        assert settings.target_precision(cat) == 0.9
        assert settings.head_history(cat, "b") == [3, 5]
        assert settings.head_history(cat, "other") == []  # recorded, though empty: not None
        assert settings.suggestions_stale(cat, "b") and not settings.suggestions_stale(cat, "other")
        settings.clear_suggestions_stale(cat, "b")
        settings.set_target_precision(cat, None)
        assert not settings.suggestions_stale(cat, "b") and settings.target_precision(cat) is None


def test_a_target_precision_stored_as_garbage_reads_as_the_default(tmp_path: Path) -> None:
    with Catalogue(tmp_path / "c.sqlite") as cat:
        with cat.transaction() as conn:  # as a hand-edited or damaged catalogue would hold it
            conn.execute("INSERT INTO meta(key, value) VALUES ('training.target_precision', 'high')")
        assert settings.target_precision(cat) is None
