"""The default taxonomy's tags and synonyms come with the schema (migration 6): a new
library has them, an older catalogue gets what it never had, and what the user deleted
stays deleted. Old catalogues are the fixtures of tests/core/data/catalogues, edited
where the test needs a history they do not hold."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from catalogue_rows import tag_path

from photo_tagger.core.library import Library
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.tag_admin import delete_tag
from photo_tagger.core.tag_names import find_tag
from photo_tagger.core.taxonomy import load_default_taxonomy

FIXTURES = Path(__file__).parent / "data" / "catalogues"
TAXONOMY = load_default_taxonomy()


def schema5_catalogue(tmp_path: Path, *edits: str) -> Path:
    """The schema-5 fixture (built-in animal, cat and dog; its meta says the taxonomy was
    seeded, not its synonyms), with `edits` run on it first."""
    path = tmp_path / "catalogue.sqlite"
    shutil.copy(FIXTURES / "v5.sqlite", path)
    conn = sqlite3.connect(path, isolation_level=None)
    for sql in edits:
        conn.execute(sql)
    conn.close()
    return path


def seeded_keys(cat: Catalogue) -> list[str]:
    return [row[0] for row in cat.query("SELECT key FROM meta WHERE key LIKE '%seeded'")]


def test_a_new_library_has_every_built_in_tag_and_synonym(tmp_path: Path) -> None:
    library = Library.open(tmp_path)
    with library.connect() as cat:
        assert cat.scalar("SELECT count(*) FROM tags WHERE origin = 'taxonomy'") == len(TAXONOMY.tags)
        assert cat.scalar("SELECT count(*) FROM tag_synonyms") == sum(len(tag.synonyms) for tag in TAXONOMY.tags)
        assert tag_path(cat, "kitten") == ["animal", "cat"]
        assert seeded_keys(cat) == []


def test_a_deleted_built_in_tag_does_not_come_back_on_the_next_open(tmp_path: Path) -> None:
    library = Library.open(tmp_path)
    with library.connect() as cat:
        delete_tag(cat, "dog")
    library = Library.open(tmp_path)
    with library.connect() as cat:
        assert find_tag(cat, "dog") is None and find_tag(cat, "puppy") is None
        assert find_tag(cat, "cat") is not None


def test_a_catalogue_from_before_gets_the_synonyms_it_never_stored_and_keeps_its_tags(tmp_path: Path) -> None:
    path = schema5_catalogue(tmp_path)
    with Catalogue(path) as cat:
        assert cat.scalar("SELECT count(*) FROM tags") == 5  # no built-in tag added: they were seeded
        assert find_tag(cat, "kitten") == 2 and find_tag(cat, "puppy") == 3 and find_tag(cat, "animals") == 1
        assert seeded_keys(cat) == []
    assert (tmp_path / "catalogue.sqlite.v5.bak").exists()


def test_a_built_in_tag_deleted_before_the_upgrade_stays_deleted(tmp_path: Path) -> None:
    path = schema5_catalogue(tmp_path, "DELETE FROM photo_tags WHERE tag_id = 3", "DELETE FROM tags WHERE id = 3")
    with Catalogue(path) as cat:
        assert find_tag(cat, "dog") is None and find_tag(cat, "puppy") is None
        assert find_tag(cat, "kitten") == 2


def test_synonyms_already_stored_are_not_stored_again(tmp_path: Path) -> None:
    path = schema5_catalogue(
        tmp_path,
        "INSERT INTO meta(key, value) VALUES ('synonyms_seeded', '1')",
        "INSERT INTO tag_synonyms(name, tag_id) VALUES ('kitten', 2)",  # the user's only synonym left
    )
    with Catalogue(path) as cat:
        assert [tuple(row) for row in cat.query("SELECT name, tag_id FROM tag_synonyms")] == [("kitten", 2)]
        assert seeded_keys(cat) == []


def test_a_catalogue_never_seeded_gets_the_whole_taxonomy_around_its_own_tags(tmp_path: Path) -> None:
    path = schema5_catalogue(tmp_path, "DELETE FROM meta WHERE key = 'taxonomy_seeded'")
    with Catalogue(path) as cat:
        assert cat.scalar("SELECT count(*) FROM tags WHERE origin = 'taxonomy'") == len(TAXONOMY.tags)
        assert find_tag(cat, "animal|cat") == 2 and find_tag(cat, "Mittens") == 4  # ids and user tags kept
        assert tag_path(cat, "kitty") == ["animal", "cat"]
