"""Tag manager operations and their exact undo."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from catalogue_rows import add_photo, add_tag, catalogue_without_tags, set_row

from photo_tagger.core.errors import UserError
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.tags import TagSnapshot, restore_snapshot
from photo_tagger.core.tag_admin import delete_tag, merge_tags, rename_tag, set_threshold


@pytest.fixture
def cat(tmp_path: Path):
    with catalogue_without_tags(tmp_path / "c.sqlite") as catalogue:
        one, two = add_photo(catalogue, "1.jpg"), add_photo(catalogue, "2.jpg")
        kitty, cat_tag = add_tag(catalogue, "kitty"), add_tag(catalogue, "cat")
        set_row(catalogue, one, kitty, "confirmed", 0.3)
        set_row(catalogue, one, cat_tag, "suggested", 0.9)
        set_row(catalogue, two, kitty, "rejected", 0.7)
        yield catalogue


def dump(cat: Catalogue) -> list[tuple]:
    return [tuple(r) for r in cat.query(
        "SELECT p.path, t.name, pt.state, pt.score, t.threshold FROM photo_tags pt JOIN photos p ON p.id = pt.photo_id"
        " JOIN tags t ON t.id = pt.tag_id ORDER BY p.path, t.name")]


def test_rename_keeps_the_photos_and_undo_restores_the_name(cat: Catalogue) -> None:
    before = dump(cat)
    snapshot = rename_tag(cat, "kitty", "Kitten")
    assert ("1.jpg", "Kitten", "confirmed", 0.3, None) in dump(cat)
    restore_snapshot(cat, snapshot)
    assert dump(cat) == before


def test_rename_refuses_bad_names_and_existing_names(cat: Catalogue) -> None:
    for bad in ("", "   ", "x" * 101, "a;b", "line\nbreak"):
        with pytest.raises(UserError):
            rename_tag(cat, "kitty", bad)
    with pytest.raises(UserError, match="merge"):
        rename_tag(cat, "kitty", "CAT")
    rename_tag(cat, "kitty", "KITTY")  # a case-only change is fine
    with pytest.raises(UserError, match="no tag"):
        rename_tag(cat, "nope", "x")


def test_merge_keeps_the_strongest_opinion_per_photo_and_undoes(cat: Catalogue) -> None:
    before = dump(cat)
    snapshot = merge_tags(cat, ["kitty"], "cat")
    assert dump(cat) == [("1.jpg", "cat", "confirmed", 0.3, None), ("2.jpg", "cat", "rejected", 0.7, None)]
    assert cat.scalar("SELECT count(*) FROM tags WHERE name = 'kitty'") == 0
    restore_snapshot(cat, snapshot)
    assert dump(cat) == before


def test_merge_needs_another_tag(cat: Catalogue) -> None:
    with pytest.raises(UserError):
        merge_tags(cat, ["cat"], "cat")


def test_delete_and_undo(cat: Catalogue) -> None:
    before = dump(cat)
    snapshot = delete_tag(cat, "kitty")
    assert all(row[1] != "kitty" for row in dump(cat))
    restore_snapshot(cat, snapshot)
    assert dump(cat) == before


def test_threshold_is_checked_set_and_undone(cat: Catalogue) -> None:
    with pytest.raises(UserError):
        set_threshold(cat, "cat", 1.5)
    snapshot = set_threshold(cat, "cat", 0.95)
    assert cat.scalar("SELECT threshold FROM tags WHERE name = 'cat'") == 0.95
    restore_snapshot(cat, snapshot)
    assert cat.scalar("SELECT threshold FROM tags WHERE name = 'cat'") is None
    assert len(dump(cat)) == 3


def synonyms_and_parents(cat: Catalogue) -> tuple[list, list]:
    synonyms = cat.query("SELECT s.name, t.name FROM tag_synonyms s JOIN tags t ON t.id = s.tag_id ORDER BY s.name")
    parents = cat.query("SELECT c.name, p.name FROM tags c JOIN tags p ON p.id = c.parent_id ORDER BY c.name")
    return [tuple(r) for r in synonyms], [tuple(r) for r in parents]


def test_merge_moves_synonyms_and_children_to_the_target_and_undo_puts_them_back(cat: Catalogue) -> None:
    kitty = cat.scalar("SELECT id FROM tags WHERE name = 'kitty'")
    with cat.transaction() as conn:
        conn.execute("INSERT INTO tag_synonyms(name, tag_id) VALUES ('kitten', ?)", (kitty,))
    tabby = add_tag(cat, "tabby kitty")
    with cat.transaction() as conn:
        conn.execute("UPDATE tags SET parent_id = ? WHERE id = ?", (kitty, tabby))
    before = synonyms_and_parents(cat)
    snapshot = merge_tags(cat, ["kitty"], "cat")
    synonyms, parents = synonyms_and_parents(cat)
    assert ("kitten", "cat") in synonyms and ("kitty", "cat") in synonyms  # both words still find the tag
    assert ("tabby kitty", "cat") in parents
    restore_snapshot(cat, snapshot)
    assert synonyms_and_parents(cat) == before


OPERATIONS: dict[str, Callable[[Catalogue], TagSnapshot]] = {
    "rename": lambda c: rename_tag(c, "kitty", "Kitten"),
    "merge": lambda c: merge_tags(c, ["kitty"], "cat"),
    "delete": lambda c: delete_tag(c, "kitty"),
    "threshold": lambda c: set_threshold(c, "kitty", 0.8),
}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_commit_made_while_an_operation_waits_to_write_survives_its_undo(cat: Catalogue, operation: str) -> None:
    """The indexer's thread (another connection) is writing a suggestion when the tag
    manager's operation starts: the operation waits for the write lock, and its undo
    snapshot must include what the indexer committed meanwhile."""
    photo = add_photo(cat, "3.jpg")
    kitty = cat.scalar("SELECT id FROM tags WHERE name = 'kitty'")
    done: dict[str, TagSnapshot] = {}
    with Catalogue(cat.path) as indexer, Catalogue(cat.path) as editor:
        with indexer.transaction() as conn:
            conn.execute("INSERT INTO photo_tags(photo_id, tag_id, state, score, source, updated_at)"
                         " VALUES (?, ?, 'suggested', 0.6, 'model', 0)", (photo, kitty))
            thread = threading.Thread(target=lambda: done.update(snapshot=OPERATIONS[operation](editor)))
            thread.start()
            thread.join(timeout=0.5)
            assert thread.is_alive()  # waiting for the indexer's commit
        thread.join()
        restore_snapshot(editor, done["snapshot"])
    assert ("3.jpg", "kitty", "suggested", 0.6, None) in dump(cat)
