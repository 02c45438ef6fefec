""""Review next": the photos whose correction teaches the model most come first."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from photo_tagger.core import service
from photo_tagger.core.library import Library
from photo_tagger.core.tagging import ensure_tag, set_state


def library_with_scores(tmp_path: Path, scores: dict[str, dict[str, float]]) -> tuple[Library, dict[str, int]]:
    """Photos named by `scores` keys, each with stored suggestion scores per tag."""
    library = Library.open(tmp_path)
    ids = {}
    with library.connect() as catalogue:
        tag_ids = {tag: ensure_tag(catalogue, tag) for row in scores.values() for tag in row}
        with catalogue.transaction() as conn:
            for name, row in scores.items():
                cur = conn.execute(
                    "INSERT INTO photos(path, size, mtime_ns, content_hash, status, added_at)"
                    " VALUES (?, 1, 0, ?, 'ok', ?)", (f"{name}.jpg", name, time.time()))
                ids[name] = int(cur.lastrowid or 0)
                for tag, score in row.items():
                    conn.execute(
                        "INSERT INTO photo_tags(photo_id, tag_id, state, score, updated_at)"
                        " VALUES (?, ?, 'suggested', ?, ?)", (ids[name], tag_ids[tag], score, time.time()))
    return library, ids


def test_uncertain_photos_come_first_and_sure_ones_last(tmp_path: Path) -> None:
    library, ids = library_with_scores(tmp_path, {
        "sure_yes": {"cat": 0.99}, "sure_no": {"cat": 0.06}, "borderline": {"cat": 0.52},
        "leaning": {"cat": 0.7},
    })
    queue = service.review_queue(library, 10)
    assert queue == [ids["borderline"], ids["leaning"], ids["sure_no"], ids["sure_yes"]]
    assert service.review_queue(library, 2) == queue[:2]


def test_a_rare_tag_outranks_a_common_one_at_equal_uncertainty(tmp_path: Path) -> None:
    library, ids = library_with_scores(tmp_path, {
        "common": {"cat": 0.5}, "rare": {"Mittens": 0.5},
        **{f"cat{i}": {"cat": 0.99} for i in range(5)},
    })
    with library.connect() as catalogue:
        set_state(catalogue, [ids[f"cat{i}"] for i in range(5)], ensure_tag(catalogue, "cat"), "confirmed")
    assert service.review_queue(library, 1) == [ids["rare"]]


def test_reviewed_photos_and_user_set_tags_are_not_queued(tmp_path: Path) -> None:
    library, ids = library_with_scores(tmp_path, {"done": {"cat": 0.5}, "answered": {"cat": 0.5}, "open": {"cat": 0.9}})
    with library.connect() as catalogue:
        catalogue.conn.execute("UPDATE photos SET reviewed_at = 1 WHERE id = ?", (ids["done"],))
        set_state(catalogue, [ids["answered"]], ensure_tag(catalogue, "cat"), "rejected")
    assert service.review_queue(library, 10) == [ids["open"]]
    with pytest.raises(ValueError, match="limit"):
        service.review_queue(library, 0)
