"""Writing a head's scores as suggestions: user rows keep their state, suggestions are replaced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from catalogue_rows import add_photo, add_tag

from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.suggestions import write_suggestions
from photo_tagger.core.suggest import SUGGESTION_FLOOR


def rows(catalogue: Catalogue) -> dict[tuple[int, int], tuple[str, float | None, str]]:
    return {(p, t): (state, score, source) for p, t, state, score, source in
            catalogue.query("SELECT photo_id, tag_id, state, score, source FROM photo_tags")}


def test_new_scores_replace_suggestions_and_only_rescore_user_rows(tmp_path: Path) -> None:
    with Catalogue(tmp_path / "c.sqlite") as catalogue:
        p1, p2, p3 = (add_photo(catalogue, f"{i}.jpg") for i in range(3))
        t10, t11, t12, t99 = (add_tag(catalogue, name) for name in ("a", "b", "c", "d"))
        with catalogue.transaction() as conn:
            conn.executemany(
                "INSERT INTO photo_tags VALUES (?, ?, ?, ?, ?, 0)",
                [(p1, t10, "confirmed", None, "user"), (p1, t11, "suggested", 0.9, "model"),
                 (p1, t12, "suggested", 0.8, "import"),
                 (p1, t99, "suggested", 0.7, "model"),  # a tag this model does not score: dropped
                 (p2, t10, "rejected", 0.2, "user"), (p2, t12, "suggested", 0.3, "model"),
                 (p3, t11, "suggested", 0.5, "model")],
            )
        scores = np.array([[0.6, 0.01, 0.5], [np.nan, 0.7, 0.02], [0.3, 0.4, 0.2]], np.float32)
        write_suggestions(catalogue, [p1, p2], scores[:2], [t10, t11, t12], floor=SUGGESTION_FLOOR)
        assert rows(catalogue) == {
            (p1, t10): ("confirmed", float(scores[0, 0]), "user"),
            (p1, t12): ("suggested", float(scores[0, 2]), "model"),
            (p2, t10): ("rejected", 0.2, "user"),  # NaN: no model, the old score stays
            (p2, t11): ("suggested", float(scores[1, 1]), "model"),
            (p3, t11): ("suggested", 0.5, "model"),  # not in this batch: untouched
        }
    assert SUGGESTION_FLOOR > 0.02


def test_a_photo_listed_twice_keeps_its_last_scores(tmp_path: Path) -> None:
    with Catalogue(tmp_path / "c.sqlite") as catalogue:
        photo, tag = add_photo(catalogue, "a.jpg"), add_tag(catalogue, "a")
        write_suggestions(catalogue, [photo, photo], np.array([[0.9], [0.3]], np.float32), [tag],
                          floor=SUGGESTION_FLOOR)
        assert rows(catalogue) == {(photo, tag): ("suggested", float(np.float32(0.3)), "model")}
