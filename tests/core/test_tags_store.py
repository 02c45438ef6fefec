"""The tags store (core/store/tags.py) on a real catalogue: the tree, synonyms, and the
tag manager's writes with their undo."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalogue_rows import add_photo, catalogue_without_tags, set_row

from photo_tagger.core.store import opinions, tags
from photo_tagger.core.store.connection import Catalogue


@pytest.fixture
def cat(tmp_path: Path):
    with Catalogue(tmp_path / "c.sqlite") as catalogue:  # with the default taxonomy
        yield catalogue


def test_a_path_is_found_case_aside_and_created_once_with_its_missing_ancestors(cat: Catalogue) -> None:
    assert tags.find_path(cat, ("Places", "France")) is None
    paris, created = tags.ensure_path(cat, ("Places", "France", "Paris"))
    assert created == [("Places",), ("Places", "France"), ("Places", "France", "Paris")]
    assert tags.ensure_path(cat, ("places", "FRANCE", "paris")) == (paris, [])
    assert tags.find_path(cat, ("PLACES", "france", "Paris")) == paris
    assert tags.all_paths(cat)[paris] == ("Places", "France", "Paris")
    assert tags.subtree(cat, tags.find_path(cat, ("Places",)) or 0)[-1] == paris  # parents first


def test_a_new_tag_naming_a_built_in_one_is_linked_to_it(cat: Catalogue) -> None:
    snow = tags.find_path(cat, ("snow",))
    assert snow is not None and tags.builtin_named(cat, "Winter") == snow  # a synonym of snow
    winter, _ = tags.ensure_path(cat, ("Seasons", "Winter"))
    assert cat.scalar("SELECT link_id FROM tags WHERE id = ?", (winter,)) == snow


def test_a_bad_component_is_refused_and_nothing_is_created(cat: Catalogue) -> None:
    before = len(tags.all_paths(cat))
    with pytest.raises(ValueError):
        tags.ensure_path(cat, ("Trips", ""))
    assert len(tags.all_paths(cat)) == before


def test_labels_are_names_unless_ambiguous_and_the_cache_is_not_shared(cat: Catalogue) -> None:
    people, _ = tags.ensure_path(cat, ("People", "Paris"))
    places, _ = tags.ensure_path(cat, ("Places", "Paris"))
    labels = tags.all_labels(cat)
    assert labels[people] == "People|Paris" and labels[places] == "Places|Paris"
    labels.clear()
    tags.all_paths(cat).clear()
    assert tags.all_labels(cat)[people] == "People|Paris" and tags.all_paths(cat)[people] == ("People", "Paris")


def test_synonyms_never_shadow_a_tag_and_belong_to_one_tag(cat: Catalogue) -> None:
    mittens, _ = tags.ensure_path(cat, ("Mittens",))
    assert tags.add_synonym(cat, "Mitty", mittens)
    assert not tags.add_synonym(cat, "dog", mittens)  # a tag of its own
    assert tags.synonym_owner(cat, "mitty") == mittens and tags.synonym_owner(cat, "dog") is None
    assert tags.synonyms_of(cat, mittens) == ["Mitty"]
    assert tags.synonyms(cat)["kitten"] == tags.find_path(cat, ("animal", "cat"))  # seeded


def test_sibling_named_sees_only_the_same_parent(cat: Catalogue) -> None:
    people, _ = tags.ensure_path(cat, ("People", "Paris"))
    tags.ensure_path(cat, ("Places", "Lyon"))
    assert tags.sibling_named(cat, people, "Lyon") is None
    niaz, _ = tags.ensure_path(cat, ("People", "Niaz"))
    assert tags.sibling_named(cat, people, "Niaz") == niaz


def test_a_deleted_subtree_comes_back_from_its_snapshot_with_every_row(tmp_path: Path) -> None:
    with catalogue_without_tags(tmp_path / "c.sqlite") as cat:
        photo = add_photo(cat, "a.jpg")
        animal, _ = tags.ensure_path(cat, ("animal",))
        cat_tag, _ = tags.ensure_path(cat, ("animal", "cat"))
        tags.add_synonym(cat, "kitten", cat_tag)
        tags.set_threshold(cat, cat_tag, 0.7)
        set_row(cat, photo, cat_tag, "confirmed", 0.9)
        before = tags.snapshot(cat, tags.subtree(cat, animal))
        tags.delete(cat, animal)
        assert tags.all_paths(cat) == {} and cat.scalar("SELECT count(*) FROM photo_tags") == 0
        tags.restore_snapshot(cat, before)
        assert tags.snapshot(cat, [animal, cat_tag]) == before
        assert tags.synonym_owner(cat, "kitten") == cat_tag


def test_a_merge_moves_words_children_and_links_and_the_target_gets_the_opinions(tmp_path: Path) -> None:
    with catalogue_without_tags(tmp_path / "c.sqlite") as cat:
        photo = add_photo(cat, "a.jpg")
        kitty, _ = tags.ensure_path(cat, ("kitty",))
        calico, _ = tags.ensure_path(cat, ("kitty", "calico"))
        target, _ = tags.ensure_path(cat, ("cat",))
        set_row(cat, photo, kitty, "confirmed", 0.3)
        before = tags.snapshot(cat, [kitty, target])
        with cat.transaction():
            tags.merge_into(cat, kitty, target)
            opinions.replace_tag_opinions(cat, target, [(photo, "confirmed", 0.3, "user")])
        assert tags.all_paths(cat) == {calico: ("cat", "calico"), target: ("cat",)}
        assert tags.synonym_owner(cat, "kitty") == target
        assert [tuple(r) for r in cat.query("SELECT photo_id, tag_id, state FROM photo_tags")] == [
            (photo, target, "confirmed")]
        tags.restore_snapshot(cat, before)
        assert tags.snapshot(cat, [kitty, target]) == before
        assert tags.all_paths(cat)[calico] == ("kitty", "calico")


def test_rename_and_threshold(cat: Catalogue) -> None:
    mittens, _ = tags.ensure_path(cat, ("Mittens",))
    tags.rename(cat, mittens, "Mitten")
    tags.set_threshold(cat, mittens, 0.4)
    assert tags.name_of(cat, mittens) == "Mitten"
    assert cat.scalar("SELECT threshold FROM tags WHERE id = ?", (mittens,)) == 0.4
    tags.set_threshold(cat, mittens, None)
    assert cat.scalar("SELECT threshold FROM tags WHERE id = ?", (mittens,)) is None
