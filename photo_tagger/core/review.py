""""Review next": unreviewed photos ordered by how much a correction would teach the model.

A photo teaches most where the model is least sure: a tag score close to that tag's
threshold, for a tag with few confirmed examples (a rare tag's boundary is the least
known). Priority of a photo = max over its open suggestions of

    closeness(score, threshold) / sqrt(1 + confirmed examples of the tag)

with closeness 1 at the threshold falling linearly to 0 at score 0 or 1. Works on the
stored suggestion scores in one SQL query (no model run).
"""

from __future__ import annotations

import math

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.tagging import EFFECTIVE_THRESHOLD_SQL


def review_queue(catalogue: Catalogue, limit: int = 50) -> list[int]:
    """Up to `limit` photo ids, most informative first (ties: lower id first), among the
    indexed photos not yet reviewed that have open suggestions."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    conn = catalogue.conn
    # Per-tag rarity weights in a temporary table (connection-private, no write lock).
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS review_weight(tag_id INTEGER PRIMARY KEY, weight REAL NOT NULL)")
    conn.execute("DELETE FROM temp.review_weight")
    counts: dict[int, int] = {
        int(row[0]): int(row[1]) for row in catalogue.query(
            "SELECT tag_id, count(*) FROM photo_tags WHERE state = 'confirmed' GROUP BY tag_id")
    }
    tag_ids = [tag_id for (tag_id,) in catalogue.query("SELECT id FROM tags")]
    conn.executemany(
        "INSERT INTO temp.review_weight(tag_id, weight) VALUES (?, ?)",
        [(tag_id, 1.0 / math.sqrt(1.0 + counts.get(tag_id, 0))) for tag_id in tag_ids],
    )
    threshold = f"min(max({EFFECTIVE_THRESHOLD_SQL}, 1e-6), 1 - 1e-6)"
    rows = catalogue.query(
        "SELECT pt.photo_id, max(w.weight * max(0.0, min(1.0, CASE WHEN pt.score >= th.value"
        " THEN (1.0 - pt.score) / (1.0 - th.value) ELSE pt.score / th.value END))) AS priority"
        " FROM photo_tags pt JOIN photos p ON p.id = pt.photo_id"
        " JOIN temp.review_weight w ON w.tag_id = pt.tag_id"
        f" JOIN (SELECT t.id, {threshold} AS value FROM tags t) th ON th.id = pt.tag_id"
        " WHERE pt.state = 'suggested' AND pt.score IS NOT NULL AND p.reviewed_at IS NULL AND p.status = 'ok'"
        " GROUP BY pt.photo_id ORDER BY priority DESC, pt.photo_id LIMIT ?",
        (limit,),
    )
    return [int(row[0]) for row in rows]
