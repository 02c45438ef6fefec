"""Tags: the tag tree, synonyms, links and thresholds; every statement on `tags` and
`tag_synonyms`.

Functions ending in `_in` work on a bare connection inside a transaction someone else
holds: the schema migrations use them. The rest take the `Catalogue`.
"""

from __future__ import annotations

import sqlite3

from photo_tagger.core.taxonomy import validate_tag_name


def insert_synonym_in(conn: sqlite3.Connection, synonym: str, tag_id: int) -> bool:
    """Make `synonym` another word for tag `tag_id` unless a tag has that name (a real tag
    wins; a synonym never shadows it): False then. ValueError for a name no tag may have."""
    name = validate_tag_name(synonym)
    if conn.execute("SELECT 1 FROM tags WHERE name = ? COLLATE NOCASE", (name,)).fetchone():
        return False
    conn.execute("INSERT INTO tag_synonyms(name, tag_id) VALUES (?, ?) ON CONFLICT(name) DO NOTHING", (name, tag_id))
    return True
