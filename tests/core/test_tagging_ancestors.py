"""Confirming a tag confirms its ancestors, in the core, so the CLI and the app agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalogue_rows import add_photo, add_tag, catalogue_without_tags, set_row

from photo_tagger.core import tagging
from photo_tagger.core.browse import selection_tags
from photo_tagger.core.store import opinions
from photo_tagger.core.store.connection import Catalogue


@pytest.fixture
def cat(tmp_path: Path):
    with catalogue_without_tags(tmp_path / "c.sqlite") as catalogue:
        yield catalogue


def _family(cat: Catalogue) -> dict[str, int]:
    """animal > wild animal > zebra, and an unrelated dog."""
    tags = {name: add_tag(cat, name) for name in ("animal", "wild animal", "zebra", "dog")}
    with cat.transaction() as conn:  # a parent is a tag id
        conn.execute("UPDATE tags SET parent_id = ? WHERE id = ?", (tags["animal"], tags["wild animal"]))
        conn.execute("UPDATE tags SET parent_id = ? WHERE id = ?", (tags["wild animal"], tags["zebra"]))
    return tags


def _states(cat: Catalogue, photo: int) -> dict[str, str]:
    return {name: state for name, state in cat.query(
        "SELECT t.name, pt.state FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.photo_id = ?",
        (photo,))}


def test_confirming_a_child_confirms_its_ancestors_and_they_stop_being_suggested(cat: Catalogue) -> None:
    photo = add_photo(cat, "z.jpg")
    tags = _family(cat)
    set_row(cat, photo, tags["zebra"], "suggested", 0.8)
    set_row(cat, photo, tags["animal"], "suggested", 0.9)
    set_row(cat, photo, tags["wild animal"], "rejected", 0.2)
    before = tagging.set_state(cat, [photo], tags["zebra"], "confirmed")
    assert _states(cat, photo) == {"zebra": "confirmed", "wild animal": "confirmed", "animal": "confirmed"}
    assert selection_tags(cat, [photo]).candidates == []
    opinions.restore_states(cat, before)  # one undo puts every row back
    assert _states(cat, photo) == {"zebra": "suggested", "wild animal": "rejected", "animal": "suggested"}


def test_rejecting_a_child_leaves_its_ancestors_alone(cat: Catalogue) -> None:
    photo = add_photo(cat, "z.jpg")
    tags = _family(cat)
    tagging.set_state(cat, [photo], tags["zebra"], "rejected")
    assert _states(cat, photo) == {"zebra": "rejected"}


def test_accepting_all_suggestions_confirms_their_ancestors(cat: Catalogue) -> None:
    photo = add_photo(cat, "z.jpg")
    tags = _family(cat)
    set_row(cat, photo, tags["zebra"], "suggested", 0.8)
    set_row(cat, photo, tags["dog"], "suggested", 0.1)
    before = tagging.accept_suggestions(cat, [photo])
    assert _states(cat, photo) == {"zebra": "confirmed", "wild animal": "confirmed", "animal": "confirmed",
                                   "dog": "suggested"}
    opinions.restore_states(cat, before)
    assert _states(cat, photo) == {"zebra": "suggested", "dog": "suggested"}


def test_a_parent_cycle_ends_the_chain(cat: Catalogue) -> None:
    photo = add_photo(cat, "z.jpg")
    tags = _family(cat)
    with cat.transaction() as conn:
        conn.execute("UPDATE tags SET parent_id = ? WHERE id = ?", (tags["zebra"], tags["animal"]))
    tagging.set_state(cat, [photo], tags["zebra"], "confirmed")
    assert set(_states(cat, photo)) == {"zebra", "wild animal", "animal"}
