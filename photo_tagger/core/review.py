""""Review next": unreviewed photos ordered by how much a correction would teach the model.

A photo teaches most where the model is least sure: a tag score close to that tag's
threshold, for a tag with few confirmed examples (a rare tag's boundary is the least
known). Priority of a photo = max over its open suggestions of

    closeness(score, threshold) / sqrt(1 + confirmed examples of the tag)

with closeness 1 at the threshold falling linearly to 0 at score 0 or 1. Works on the
stored suggestion scores (no model run), so it is instant on 100k photos.
"""

from __future__ import annotations

import numpy as np

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.tagging import EFFECTIVE_THRESHOLD_SQL


def review_priorities(catalogue: Catalogue) -> dict[int, float]:
    """photo id -> priority, for indexed photos not yet reviewed that have suggestions."""
    rows = catalogue.query(
        f"SELECT pt.photo_id, pt.score, {EFFECTIVE_THRESHOLD_SQL} AS threshold,"
        " (SELECT count(*) FROM photo_tags c WHERE c.tag_id = pt.tag_id AND c.state = 'confirmed') AS examples"
        " FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id JOIN photos p ON p.id = pt.photo_id"
        " WHERE pt.state = 'suggested' AND pt.score IS NOT NULL AND p.reviewed_at IS NULL AND p.status = 'ok'"
    )
    if not rows:
        return {}
    photo = np.array([r[0] for r in rows], np.int64)
    score = np.array([r[1] for r in rows], np.float64)
    threshold = np.clip(np.array([r[2] for r in rows], np.float64), 1e-6, 1 - 1e-6)
    examples = np.array([r[3] for r in rows], np.float64)
    closeness = np.where(score >= threshold, (1 - score) / (1 - threshold), score / threshold)
    value = np.clip(closeness, 0.0, 1.0) / np.sqrt(1.0 + examples)
    best: dict[int, float] = {}
    for photo_id, v in zip(photo.tolist(), value.tolist(), strict=True):
        if v > best.get(photo_id, -1.0):
            best[photo_id] = v
    return best


def review_queue(catalogue: Catalogue, limit: int = 50) -> list[int]:
    """Up to `limit` photo ids, most informative first (ties: lower id first)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    priorities = review_priorities(catalogue)
    ordered = sorted(priorities.items(), key=lambda item: (-item[1], item[0]))
    return [photo_id for photo_id, _ in ordered[:limit]]
