"""Kept heads in the store (core/store/heads.py): plain data in and out."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from photo_tagger.core.store import heads
from photo_tagger.core.store.connection import Catalogue


def test_a_kept_head_is_inactive_until_activated_and_keeps_what_it_was_given(tmp_path: Path) -> None:
    with Catalogue(tmp_path / "c.sqlite") as cat:
        first = heads.add_head(cat, "b", 1, ["cat", "dog"], b"w1", '{"n": 1}', np.array([4, 2]))
        second = heads.add_head(cat, "b", 1, ["cat"], b"w2")
        assert heads.active_head_id(cat, "b") is None and heads.active_report(cat, "b") is None
        heads.set_active(cat, "b", second)
        assert heads.active_head_id(cat, "b") == second
        assert heads.weights_up_to(cat, "b", second) == [(second, b"w2"), (first, b"w1")]
        assert heads.newest_head_before(cat, "b", second) == first
        assert heads.head_ids(cat, "b") == {first, second} and heads.head_exists(cat, first, "b")
        assert not heads.head_exists(cat, first, "other")
        assert np.array_equal(heads.trained_photo_ids(cat, first), [4, 2])
        assert heads.trained_photo_ids(cat, second) is None
        heads.set_report(cat, second, '{"n": 2}')
        assert heads.active_report(cat, "b") == '{"n": 2}' and heads.report(cat, first) == '{"n": 1}'
        heads.set_active(cat, "b", None)  # back to the prior
        assert heads.active_head_id(cat, "b") is None


def test_a_training_made_for_another_backbone_only_is_told_apart(tmp_path: Path) -> None:
    with Catalogue(tmp_path / "c.sqlite") as cat:
        assert not heads.trained_only_for_other_backbones(cat, "b")
        heads.add_head(cat, "old", 1, ["cat"], b"w")
        assert heads.trained_only_for_other_backbones(cat, "b")
        heads.add_head(cat, "b", 1, ["cat"], b"w")
        assert not heads.trained_only_for_other_backbones(cat, "b")
