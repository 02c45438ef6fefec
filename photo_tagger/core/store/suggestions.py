"""The model's suggestions: the rows of `photo_tags` the head writes after indexing or
retraining, and the thresholds it learned. The user's rows are never changed here beyond
their latest score (see opinions.py for what each state means)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.id_lists import IN_IDS, id_list

_WRITE_CHUNK = 500  # photo ids per IN (...) list


def write_suggestions(
    catalogue: Catalogue, photo_ids: Sequence[int], scores: np.ndarray, tag_ids: Sequence[int], *, floor: float
) -> None:
    """Replace the model's suggestions for `photo_ids` with `scores` (photos x `tag_ids`, NaN:
    no model for the tag, its rows are left alone): a suggestion is kept where the score
    reaches `floor`; the user's rows keep their state and take the new score.

    Set-wise: one SELECT per chunk of photos finds the rows that exist; then one
    executemany each updates the user rows' scores, upserts the suggestions that reach
    the floor (an existing suggestion is updated in place, so its index entry stays) and
    deletes the suggestions that fell below it. Row by row (DELETE every suggestion, a
    SELECT per photo, INSERT again) refreshing 100k photos x ~58 suggestions took ~250 s."""
    scores = np.asarray(scores)
    if len(scores) != len(photo_ids):
        raise ValueError(f"{len(photo_ids)} photo ids but {len(scores)} rows of scores")
    if len(photo_ids) == 0:
        return
    now = time.time()
    ids = np.asarray(photo_ids, np.int64)
    # A photo listed twice keeps its last row of scores (as writing row by row did).
    _, last = np.unique(ids[::-1], return_index=True)
    keep = np.sort(len(ids) - 1 - last)
    ids, scores = ids[keep], scores[keep]
    tags = np.asarray(list(tag_ids), np.int64)
    row_of = {photo_id: i for i, photo_id in enumerate(ids.tolist())}
    column = {tag_id: j for j, tag_id in enumerate(tags.tolist())}
    is_user = np.zeros(scores.shape, bool)
    was_suggested = np.zeros(scores.shape, bool)
    stray: list[tuple[int, int]] = []  # suggestions for tags the model does not score
    ordered = ids.tolist()
    with catalogue.transaction() as conn:
        for begin in range(0, len(ordered), _WRITE_CHUNK):
            chunk = ordered[begin : begin + _WRITE_CHUNK]
            for photo_id, tag_id, state in conn.execute(
                f"SELECT photo_id, tag_id, state FROM photo_tags WHERE photo_id IN {IN_IDS}", (id_list(chunk),)
            ):
                j = column.get(tag_id)
                if j is None:
                    if state == "suggested":
                        stray.append((photo_id, tag_id))
                elif state == "suggested":
                    was_suggested[row_of[photo_id], j] = True
                else:
                    is_user[row_of[photo_id], j] = True
        scored = ~np.isnan(scores)
        with np.errstate(invalid="ignore"):
            suggest = ~is_user & scored & (scores >= floor)
        rows, cols = np.nonzero(is_user & scored)
        conn.executemany(
            "UPDATE photo_tags SET score = ? WHERE photo_id = ? AND tag_id = ?",
            zip(scores[rows, cols].tolist(), ids[rows].tolist(), tags[cols].tolist(), strict=True),
        )
        rows, cols = np.nonzero(was_suggested & ~suggest)
        conn.executemany(
            "DELETE FROM photo_tags WHERE photo_id = ? AND tag_id = ? AND state = 'suggested'",
            [*zip(ids[rows].tolist(), tags[cols].tolist(), strict=True), *stray],
        )
        rows, cols = np.nonzero(suggest)
        conn.executemany(
            "INSERT INTO photo_tags(photo_id, tag_id, state, score, source, updated_at)"
            " VALUES (?, ?, 'suggested', ?, 'model', ?)"
            " ON CONFLICT(photo_id, tag_id) DO UPDATE SET score = excluded.score, source = 'model',"
            " updated_at = excluded.updated_at"
            " WHERE state = 'suggested'",
            zip(ids[rows].tolist(), tags[cols].tolist(), scores[rows, cols].tolist(), [now] * len(rows), strict=True),
        )


def set_model_thresholds(catalogue: Catalogue, thresholds: dict[int, float]) -> None:
    """tag id -> the threshold the head learned (the one used where the user set none).
    Here with the suggestions it decides about."""
    with catalogue.transaction() as conn:
        conn.executemany("UPDATE tags SET model_threshold = ? WHERE id = ?",
                         [(threshold, tag_id) for tag_id, threshold in thresholds.items()])
