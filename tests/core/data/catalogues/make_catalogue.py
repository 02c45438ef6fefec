"""Build the fixture catalogue of one schema version: `vN.sqlite`, made by the migration
steps 1..N exactly as released, holding a little of everything a user could lose
(confirmed, rejected and suggested tags, a user tag, an error photo, a missing photo, a
thumbnail, an embedding, a head). Run from the repo root when you add schema N+1:

    python tests/core/data/catalogues/make_catalogue.py N

and commit the file: the upgrade test opens every `v*.sqlite` here, and asks for one per
earlier version.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from photo_tagger.core.store.migrations import MIGRATIONS

HERE = Path(__file__).parent


def build(version: int) -> Path:
    out = HERE / f"v{version}.sqlite"
    out.unlink(missing_ok=True)
    conn = sqlite3.connect(out, isolation_level=None)
    conn.execute("PRAGMA page_size = 1024")
    conn.execute("BEGIN")
    for step in range(1, version + 1):
        for statement in MIGRATIONS[step]:
            if callable(statement):
                statement(conn)
            else:
                conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    if version < 6:  # the library seeded its tags on open and marked it
        conn.execute("INSERT INTO meta(key, value) VALUES ('taxonomy_seeded', '1')")
    else:  # migration 6 seeded the whole taxonomy: keep only the five tags below
        conn.execute("DELETE FROM tag_synonyms")  # the seeded synonyms name seeded tags
        conn.execute("DELETE FROM tags")
    tags = [(1, "animal", None, "taxonomy"), (2, "cat", "animal", "taxonomy"), (3, "dog", "animal", "taxonomy"),
            (4, "Mittens", None, "user"), (5, "Grand-mère Zoë", None, "import")]
    if version < 4:  # the parent by name
        conn.executemany("INSERT INTO tags(id, name, parent, origin, created_at) VALUES (?, ?, ?, ?, 0)", tags)
    else:  # by id: a tag is its path
        ids = {name: tag_id for tag_id, name, _, _ in tags}
        conn.executemany("INSERT INTO tags(id, name, parent_id, origin, created_at) VALUES (?, ?, ?, ?, 0)",
                         [(tag_id, name, ids.get(parent), origin) for tag_id, name, parent, origin in tags])
    conn.executemany(
        "INSERT INTO photos(id, path, size, mtime_ns, content_hash, status, error, added_at, indexed_at,"
        " reviewed_at) VALUES (?, ?, 10, 1, ?, ?, ?, 0, ?, ?)",
        [(1, "cat.jpg", "h1", "ok", None, 1.0, 2.0), (2, "sub/dog.jpg", "h2", "ok", None, 1.0, None),
         (3, "broken.jpg", "h3", "error", "corrupt or truncated image", 1.0, None),
         (4, "gone/é.jpg", "h4", "missing", None, 1.0, None)],
    )
    conn.executemany(
        "INSERT INTO photo_tags(photo_id, tag_id, state, score, source, updated_at) VALUES (?, ?, ?, ?, ?, 0)",
        [(1, 2, "confirmed", 0.9, "user"), (1, 4, "confirmed", None, "user"), (1, 3, "rejected", 0.2, "user"),
         (2, 3, "suggested", 0.8, "model"), (2, 2, "rejected", 0.6, "user"), (4, 5, "confirmed", None, "import")],
    )
    conn.execute("INSERT INTO thumbnails(photo_id, width, height, jpeg) VALUES (1, 2, 2, x'ffd8ffd9')")
    conn.execute("INSERT INTO embeddings(photo_id, backbone, vector) VALUES (1, 'efficientnet_lite0:abc', ?)",
                 (bytes(2560),))
    conn.execute(
        "INSERT INTO heads(id, backbone, created_at, format_version, tag_names, weights, report, active)"
        " VALUES (1, 'efficientnet_lite0:abc', 0, 1, '[\"cat\"]', x'00', NULL, 1)"
    )
    conn.execute("COMMIT")
    conn.execute("VACUUM")
    conn.close()
    return out


if __name__ == "__main__":
    print(build(int(sys.argv[1])))
