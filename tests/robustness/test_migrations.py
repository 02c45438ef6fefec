"""Every earlier catalogue opens, upgrades to the current schema with a backup taken
first, and keeps every tag, photo and head it held."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from photo_tagger.core.errors import UserError
from photo_tagger.core.library import Library
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.migrations import SCHEMA_VERSION

FIXTURES = Path(__file__).parents[1] / "core" / "data" / "catalogues"
VERSIONS = sorted(int(p.stem[1:]) for p in FIXTURES.glob("v*.sqlite"))


def user_data(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    queries = {
        "photos": "SELECT id, path, status, error, content_hash, reviewed_at FROM photos ORDER BY id",
        # the parent by name: schema 4 holds its id instead (a tag is its path)
        "tags": "SELECT t.id, t.name, p.name, t.origin FROM tags t LEFT JOIN tags p ON p.id = t.parent_id ORDER BY t.id"
        if _has_column(conn, "tags", "parent_id") else "SELECT id, name, parent, origin FROM tags ORDER BY id",
        "photo_tags": "SELECT photo_id, tag_id, state, score, source FROM photo_tags ORDER BY photo_id, tag_id",
        "embeddings": "SELECT photo_id, backbone, vector FROM embeddings ORDER BY photo_id",
        "thumbnails": "SELECT photo_id, jpeg FROM thumbnails ORDER BY photo_id",
        "heads": "SELECT id, backbone, weights, active FROM heads ORDER BY id",
    }
    return {name: [tuple(r) for r in conn.execute(sql)] for name, sql in queries.items()}


def _has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})"))


def read_fixture(path: Path) -> tuple[int, dict[str, list[tuple]]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0], user_data(conn)
    finally:
        conn.close()


def test_there_is_a_fixture_catalogue_for_every_earlier_schema_version() -> None:
    missing = set(range(1, SCHEMA_VERSION)) - set(VERSIONS)
    assert not missing, f"add tests/core/data/catalogues/v{min(missing)}.sqlite (see make_catalogue.py there)"


@pytest.mark.parametrize("version", VERSIONS, ids=[f"v{v}" for v in VERSIONS])
def test_a_catalogue_of_each_version_opens_upgraded_with_its_data_and_a_backup(version: int, tmp_path: Path) -> None:
    fixture = FIXTURES / f"v{version}.sqlite"
    fixture_version, before = read_fixture(fixture)
    assert fixture_version == version
    path = tmp_path / "catalogue.sqlite"
    shutil.copy(fixture, path)

    with Catalogue(path) as cat:
        assert cat.schema_version == SCHEMA_VERSION
        assert cat.integrity_ok()
        assert cat.scalar("PRAGMA foreign_key_check") is None
        assert user_data(cat.conn) == before
    with Catalogue(path) as again:  # a second open migrates nothing
        assert user_data(again.conn) == before

    backup = tmp_path / f"catalogue.sqlite.v{version}.bak"
    if version < SCHEMA_VERSION:
        assert read_fixture(backup) == (version, before)
    else:
        assert not backup.exists()
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize("version", VERSIONS, ids=[f"v{v}" for v in VERSIONS])
def test_a_library_with_an_old_catalogue_opens_through_the_front_door(version: int, tmp_path: Path) -> None:
    root = tmp_path / "Photos"
    (root / ".photo-tagger").mkdir(parents=True)
    shutil.copy(FIXTURES / f"v{version}.sqlite", root / ".photo-tagger" / "catalogue.sqlite")
    library = Library.open(root)
    with library.connect() as cat:
        states = dict(((p, t), s) for p, t, s in cat.query("SELECT photo_id, tag_id, state FROM photo_tags"))
    assert states[(1, 2)] == "confirmed" and states[(1, 4)] == "confirmed" and states[(2, 2)] == "rejected"


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
# 48k: no room to open in WAL mode; 64k: no room for the backup; 80k: backup taken, no
# room for the migration itself (sizes measured with the v1 fixture).
@pytest.mark.parametrize("size", ["48k", "64k", "80k"])
def test_an_upgrade_on_a_full_disk_fails_cleanly_and_leaves_the_old_catalogue(size: str, tmp_path: Path) -> None:
    old = [v for v in VERSIONS if v < SCHEMA_VERSION]
    if not old:
        pytest.skip("no earlier schema version yet")
    fixture = FIXTURES / f"v{old[0]}.sqlite"
    folder = tmp_path / "tiny"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        path = folder / "catalogue.sqlite"
        shutil.copy(fixture, path)
        with pytest.raises(UserError, match="catalogue.sqlite.*(disk is full|No space left)"):
            Catalogue(path)
        after = tmp_path / "after"  # read it where there is room for SQLite's -shm file
        after.mkdir()
        for part in folder.glob("catalogue.sqlite*"):
            shutil.copy(part, after / part.name)
        assert read_fixture(after / "catalogue.sqlite") == read_fixture(fixture)
        assert not list(folder.glob("*.partial"))
        for backup in folder.glob("*.bak"):  # a backup that exists is a whole one
            shutil.copy(backup, after / backup.name)
            assert read_fixture(after / backup.name) == read_fixture(fixture)
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
