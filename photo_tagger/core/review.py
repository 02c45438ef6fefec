""""Review next": unreviewed photos ordered by how much a correction would teach the model.

A photo teaches most where the model is least sure: a tag score close to that tag's
threshold, for a tag with few confirmed examples (a rare tag's boundary is the least
known). Priority of a photo = max over its open suggestions of

    closeness(score, threshold) / sqrt(1 + confirmed examples of the tag)

with closeness 1 at the threshold falling linearly to 0 at score 0 or 1. Works on the
stored suggestion scores in one query (no model run): the closeness is the store's
(store/opinions.py), the weights are ours.
"""

from __future__ import annotations

import math

from photo_tagger.core.store import opinions
from photo_tagger.core.store.connection import Catalogue


def review_queue(catalogue: Catalogue, limit: int = 50) -> list[int]:
    """Up to `limit` photo ids, most informative first (ties: lower id first), among the
    indexed photos not yet reviewed that have open suggestions."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    return opinions.photos_by_review_priority(catalogue, _rarity, limit)


def _rarity(confirmed: int) -> float:
    """The weight of a tag confirmed on `confirmed` photos."""
    return 1.0 / math.sqrt(1.0 + confirmed)
