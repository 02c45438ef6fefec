"""The catalogue: one SQLite file per library holding photos, tags, embeddings and heads;
the connection, the transaction and locking policy, and running the migrations.

Every write goes through `Catalogue.transaction()` (BEGIN IMMEDIATE ... COMMIT), so a
crash or kill leaves either the whole change or none of it. WAL lets the GUI read while
an indexer writes; `synchronous=FULL` makes a committed tag survive a power cut too.
Each thread opens its own `Catalogue` on the same file (sqlite3 connections are not
shared across threads).

Outside the store a `Catalogue` is a handle to pass to store functions, and
`with catalogue.transaction():` (without `as`) makes several of their writes one. Its
connection (`conn`, what `transaction()` yields) and `query`/`scalar` are for the store's
modules: tests/core/test_sql_lives_in_the_store.py fails if any other module of the app
reaches them or imports sqlite3. (Tests and benchmark fixtures use them to build and inspect
the file.)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from photo_tagger.core.errors import UserError
from photo_tagger.core.store.migrations import MIGRATIONS, SCHEMA_VERSION

APP_FOLDER = ".photo-tagger"
CATALOGUE_NAME = "catalogue.sqlite"
BUSY_TIMEOUT_S = 30.0
# SQLite primary result codes (an extended code keeps its primary in the low byte).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN = 5, 6, 8, 10, 13, 14
_LOW_SPACE_BYTES = 256 * 1024


def catalogue_path_for(library_root: Path) -> Path:
    """Where the catalogue of `library_root` lives: inside the library when we can write
    there, else in the per-user data folder (a read-only disk, a shared folder)."""
    root = library_root.resolve()
    inside = root / APP_FOLDER / CATALOGUE_NAME
    return inside if _can_write_in(inside.parent) else fallback_catalogue_path(root)


def _can_write_in(folder: Path) -> bool:
    """A real probe: os.access says yes to root on a read-only mount."""
    try:
        folder.mkdir(exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def fallback_catalogue_path(root: Path) -> Path:
    import platformdirs

    key = hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    base = os.environ.get("PHOTO_TAGGER_DATA_DIR") or platformdirs.user_data_dir("photo-tagger")
    return Path(base) / "libraries" / f"{root.name or 'root'}-{key}" / CATALOGUE_NAME


class Catalogue:
    """A connection to one catalogue file, schema migrated to `SCHEMA_VERSION`."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        if not readonly:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UserError(f"{path.parent}: cannot create the catalogue folder ({exc.strerror})") from exc
        try:
            self.conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            self.conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self.conn.execute("PRAGMA foreign_keys = ON")
            # An INSERT OR REPLACE's implicit delete fires delete triggers too: the
            # correction counts (migration 5) rely on seeing every row that goes.
            self.conn.execute("PRAGMA recursive_triggers = ON")
            if not readonly:
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = FULL")
                self._migrate()
        except sqlite3.DatabaseError as exc:
            problem = storage_problem(exc, path)
            if problem is not None:
                raise UserError(f"{path}: cannot open the catalogue: {problem}") from exc
            raise UserError(f"{path}: not a usable photo-tagger catalogue ({exc})") from exc
        self._in_transaction = False

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Catalogue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing write. Nested calls join the outer transaction."""
        if self._in_transaction:
            yield self.conn
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._write_error(exc) from exc
        self._in_transaction = True
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            self._rollback_quietly()
            if isinstance(exc, sqlite3.OperationalError):
                raise self._write_error(exc) from exc
            raise
        finally:
            self._in_transaction = False

    def _rollback_quietly(self) -> None:
        """SQLite has already rolled back after some errors (a full disk): don't fail again."""
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def _write_error(self, exc: sqlite3.OperationalError) -> Exception:
        """A UserError for what the user can fix (full disk, another writer), else `exc`."""
        problem = storage_problem(exc, self.path)
        if problem is None:
            return exc
        return UserError(f"{self.path}: cannot write to the catalogue: {problem}; nothing of this change was saved")

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        cur = self.conn.execute(sql, params)
        cur.row_factory = sqlite3.Row
        return cur.fetchall()

    def scalar(self, sql: str, params: tuple | dict = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    @property
    def schema_version(self) -> int:
        return int(self.scalar("PRAGMA user_version") or 0)

    def _migrate(self) -> None:
        current = self.schema_version
        if current > SCHEMA_VERSION:
            raise UserError(
                f"{self.path}: catalogue schema {current} is newer than this photo-tagger "
                f"understands ({SCHEMA_VERSION}); update photo-tagger"
            )
        if current == SCHEMA_VERSION:
            return
        if current > 0:
            self._backup_before_migration(current)
        # Off while tables are rebuilt (a DROP TABLE would cascade into photo_tags);
        # checked before the commit instead. The pragma is a no-op inside a transaction.
        self.conn.execute("PRAGMA foreign_keys = OFF")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            current = self.schema_version
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for step in MIGRATIONS[version]:
                    if callable(step):
                        step(self.conn)
                    else:
                        self.conn.execute(step)
            broken = self.conn.execute("PRAGMA foreign_key_check").fetchone()
            if broken is not None:
                raise sqlite3.IntegrityError(f"migration left a dangling reference: {tuple(broken)}")
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.conn.execute(
                "INSERT INTO meta(key, value) VALUES ('migrated_at', ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (str(time.time()),),
            )
        except BaseException:
            self._rollback_quietly()
            self.conn.execute("PRAGMA foreign_keys = ON")
            raise
        self.conn.execute("COMMIT")
        self.conn.execute("PRAGMA foreign_keys = ON")

    def _backup_before_migration(self, version: int) -> None:
        """Copy the catalogue aside before upgrading it, atomically: a half-written backup
        must never be mistaken for a complete one by the next attempt."""
        backup = self.path.with_name(f"{self.path.name}.v{version}.bak")
        if backup.exists():
            return
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        partial = backup.with_name(backup.name + ".partial")
        try:
            shutil.copy2(self.path, partial)
            os.replace(partial, backup)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise UserError(
                f"{backup}: cannot back up the catalogue before upgrading it ({exc.strerror or exc}); "
                "nothing was changed"
            ) from exc

    def integrity_ok(self) -> bool:
        return self.scalar("PRAGMA integrity_check") == "ok"


def storage_problem(exc: sqlite3.Error, path: Path) -> str | None:
    """Plain words for an SQLite error the user can act on; None for anything else (a bug)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    primary = code & 0xFF
    if primary == _SQLITE_FULL or (primary in (_SQLITE_IOERR, _SQLITE_CANTOPEN) and _disk_is_full(path)):
        return "the disk is full; free some space and try again"
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return (f"another photo-tagger has been writing to this library for over {BUSY_TIMEOUT_S:.0f} s; "
                "try again when it has finished")
    if primary == _SQLITE_READONLY:
        return "the catalogue or its folder is read-only"
    if primary == _SQLITE_IOERR:
        return f"disk I/O error ({exc})"
    if primary == _SQLITE_CANTOPEN:
        return "cannot open the file (check the folder exists and is writable)"
    return None


def _disk_is_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < _LOW_SPACE_BYTES
    except OSError:
        return False
