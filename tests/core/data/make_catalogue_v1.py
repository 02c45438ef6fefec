"""Rebuild catalogue_v1.sqlite: a schema-1 catalogue (the v1 migration statements as
released) holding a few photos and tags, for the upgrade test. Run from the repo root:
    python tests/core/data/make_catalogue_v1.py
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from photo_tagger.core.migrations import MIGRATIONS

OUT = Path(__file__).with_name("catalogue_v1.sqlite")


def main() -> None:
    OUT.unlink(missing_ok=True)
    conn = sqlite3.connect(OUT, isolation_level=None)
    conn.execute("PRAGMA page_size = 1024")
    conn.execute("BEGIN")
    for statement in MIGRATIONS[1]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO meta(key, value) VALUES ('taxonomy_seeded', '1')")
    conn.executemany(
        "INSERT INTO tags(id, name, parent, origin, created_at) VALUES (?, ?, ?, ?, 0)",
        [(1, "animal", None, "taxonomy"), (2, "cat", "animal", "taxonomy"), (3, "Mittens", None, "user")],
    )
    conn.executemany(
        "INSERT INTO photos(id, path, size, mtime_ns, content_hash, status, added_at)"
        " VALUES (?, ?, 10, 0, ?, 'ok', 0)",
        [(1, "cat.jpg", "h1"), (2, "sub/dog.jpg", "h2")],
    )
    conn.executemany(
        "INSERT INTO photo_tags(photo_id, tag_id, state, score, source, updated_at) VALUES (?, ?, ?, ?, ?, 0)",
        [(1, 2, "confirmed", 0.9, "user"), (1, 3, "confirmed", None, "user"), (2, 2, "rejected", 0.6, "user")],
    )
    conn.execute("COMMIT")
    conn.execute("VACUUM")
    conn.close()


if __name__ == "__main__":
    main()
