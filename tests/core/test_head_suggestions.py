"""Writing a head's scores as suggestions: user rows keep their state, suggestions are replaced."""

from __future__ import annotations

import sqlite3

import numpy as np

from photo_tagger.core.suggest import SUGGESTION_FLOOR, write_suggestions


def photo_tags() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE photo_tags (photo_id INTEGER NOT NULL, tag_id INTEGER NOT NULL, state TEXT NOT NULL,"
        " score REAL, source TEXT NOT NULL DEFAULT 'model', updated_at REAL NOT NULL,"
        " PRIMARY KEY (photo_id, tag_id)) WITHOUT ROWID"
    )
    return conn


def rows(conn: sqlite3.Connection) -> dict[tuple[int, int], tuple[str, float | None, str]]:
    return {(p, t): (state, score, source) for p, t, state, score, source in
            conn.execute("SELECT photo_id, tag_id, state, score, source FROM photo_tags")}


def test_new_scores_replace_suggestions_and_only_rescore_user_rows() -> None:
    conn = photo_tags()
    conn.executemany(
        "INSERT INTO photo_tags VALUES (?, ?, ?, ?, ?, 0)",
        [(1, 10, "confirmed", None, "user"), (1, 11, "suggested", 0.9, "model"), (1, 12, "suggested", 0.8, "import"),
         (1, 99, "suggested", 0.7, "model"),  # a tag this model does not score: dropped
         (2, 10, "rejected", 0.2, "user"), (2, 12, "suggested", 0.3, "model"), (3, 11, "suggested", 0.5, "model")],
    )
    scores = np.array([[0.6, 0.01, 0.5], [np.nan, 0.7, 0.02], [0.3, 0.4, 0.2]], np.float32)
    write_suggestions(conn, [1, 2], scores[:2], [10, 11, 12])
    assert rows(conn) == {
        (1, 10): ("confirmed", float(scores[0, 0]), "user"),
        (1, 12): ("suggested", float(scores[0, 2]), "model"),
        (2, 10): ("rejected", 0.2, "user"),  # NaN: no model, the old score stays
        (2, 11): ("suggested", float(scores[1, 1]), "model"),
        (3, 11): ("suggested", 0.5, "model"),  # not in this batch: untouched
    }
    assert SUGGESTION_FLOOR > 0.02


def test_a_photo_listed_twice_keeps_its_last_scores() -> None:
    conn = photo_tags()
    write_suggestions(conn, [5, 5], np.array([[0.9], [0.3]], np.float32), [1])
    assert rows(conn) == {(5, 1): ("suggested", float(np.float32(0.3)), "model")}
