"""The catalogue: schema, WAL, all-or-nothing writes, and where it lives."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from photo_tagger.core.errors import UserError
from photo_tagger.core.store import settings
from photo_tagger.core.store.connection import Catalogue, catalogue_path_for
from photo_tagger.core.store.migrations import SCHEMA_VERSION


def test_new_catalogue_has_current_schema_and_wal(tmp_path: Path) -> None:
    with Catalogue(tmp_path / "c.sqlite") as cat:
        assert cat.schema_version == SCHEMA_VERSION
        assert cat.scalar("PRAGMA journal_mode") == "wal"
        assert cat.integrity_ok()


def test_the_tags_linked_to_a_tag_are_found_through_an_index(tmp_path: Path) -> None:
    with Catalogue(tmp_path / "c.sqlite") as cat:
        plan = cat.query("EXPLAIN QUERY PLAN SELECT id FROM tags WHERE link_id = ? AND link_id IS NOT NULL", (1,))
        assert any("tags_by_link" in row["detail"] for row in plan)


def test_failed_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    with Catalogue(tmp_path / "c.sqlite") as cat:
        with pytest.raises(RuntimeError):
            with cat.transaction():
                settings.set_keywords_enabled(cat, False)
                raise RuntimeError("crash mid-write")
        assert settings.keywords_enabled(cat)


def test_committed_write_is_visible_to_a_new_connection(tmp_path: Path) -> None:
    with Catalogue(tmp_path / "c.sqlite") as cat:
        settings.set_target_precision(cat, 0.42)
    with Catalogue(tmp_path / "c.sqlite") as again:
        assert settings.target_precision(again) == 0.42


def test_catalogue_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(UserError, match="newer than this photo-tagger"):
        Catalogue(path)


def test_a_non_database_file_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not sqlite" * 200)
    with pytest.raises(UserError, match="c.sqlite"):
        Catalogue(path)


def test_catalogue_lives_in_the_library(tmp_path: Path) -> None:
    assert catalogue_path_for(tmp_path) == tmp_path.resolve() / ".photo-tagger" / "catalogue.sqlite"


@pytest.fixture
def read_only_folder(tmp_path: Path):
    """A folder nobody can write to: a read-only tmpfs when root, else chmod 555."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)]).returncode:
            pytest.skip("cannot mount a read-only tmpfs here")
        yield folder
        subprocess.run(["umount", str(folder)], check=False)
    else:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)


def test_read_only_library_uses_the_fallback_location(read_only_folder: Path) -> None:
    path = catalogue_path_for(read_only_folder)
    assert read_only_folder not in path.parents
    with Catalogue(path) as cat:
        assert cat.integrity_ok()
