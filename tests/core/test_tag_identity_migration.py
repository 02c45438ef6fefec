"""A catalogue from before tags were paths (schema 3), whose keyword reading merged tags
by leaf name and synonym, upgrades without losing what the user confirmed or rejected:
each keyword gets the tag at its own path back. Built with the released migration
steps, as tests/core/data/catalogues/make_catalogue.py builds the fixtures."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from photos import noise_photo
from sidecar_layouts import lightroom

from photo_tagger.core.keywords import sync_keywords
from photo_tagger.core.library import Library
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.migrations import MIGRATIONS, SCHEMA_VERSION
from photo_tagger.core.store.tags import all_paths, find_path

# What reading these sidecars by leaf name made of them before schema 4
SIDECARS = {
    1: ("niaz.jpg", "People|Niaz"),  # -> Niaz under person (People is person's synonym)
    2: ("winter.jpg", "Winter"),  # -> snow
    3: ("people.jpg", "People|Paris"),  # -> Paris under person
    4: ("places.jpg", "Places|France|Paris"),  # -> the same Paris
    6: ("unrecorded.jpg", "People|Niaz"),  # its record does not say what put Niaz there
}
TAGS = [  # id, name, parent (by name, as schema 3 held it), origin
    (1, "person", None, "taxonomy"), (2, "snow", None, "taxonomy"), (3, "animal", None, "taxonomy"),
    (4, "cat", "animal", "taxonomy"), (5, "Niaz", "person", "import"), (6, "Paris", "person", "import"),
    (7, "Places", None, "import"), (8, "France", "Places", "import"),
]
OPINIONS = [  # photo, tag, state, source
    (1, 5, "confirmed", "keywords"), (2, 2, "confirmed", "keywords"), (3, 6, "confirmed", "keywords"),
    (4, 6, "rejected", "user"),  # the user rejected the Paris a keyword had put there
    (5, 4, "confirmed", "user"), (6, 5, "confirmed", "keywords"),
]


def old_library(root: Path) -> Path:
    """A library whose schema-3 catalogue holds the merged tags and the keywords read."""
    root.mkdir()
    path = root / ".photo-tagger" / "catalogue.sqlite"
    path.parent.mkdir()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    for step in range(1, 4):
        for statement in MIGRATIONS[step]:
            assert isinstance(statement, str)
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 3")
    conn.executemany("INSERT INTO meta(key, value) VALUES (?, '1')", [("taxonomy_seeded",), ("synonyms_seeded",)])
    conn.executemany("INSERT INTO tags(id, name, parent, origin, created_at) VALUES (?, ?, ?, ?, 0)", TAGS)
    conn.executemany("INSERT INTO tag_synonyms(name, tag_id) VALUES (?, ?)", [("people", 1), ("winter", 2)])
    names = {1: "niaz.jpg", 2: "winter.jpg", 3: "people.jpg", 4: "places.jpg", 5: "cat.jpg", 6: "unrecorded.jpg"}
    for photo_id, name in names.items():
        noise_photo(photo_id, (96, 64)).save(root / name, "JPEG")
        st = (root / name).stat()
        conn.execute("INSERT INTO photos(id, path, size, mtime_ns, content_hash, status, added_at)"
                     " VALUES (?, ?, ?, ?, ?, 'ok', 0)", (photo_id, name, st.st_size, st.st_mtime_ns, name))
        conn.execute("INSERT INTO keyword_sources VALUES (?, 'embedded', ?, ?, ?, '[]', 0)",
                     (photo_id, name, st.st_size, st.st_mtime_ns))
    for photo_id, (name, keyword) in SIDECARS.items():
        sidecar = root / f"{name}.xmp"
        sidecar.write_bytes(lightroom(keyword))
        st = sidecar.stat()
        held = [["Holiday"]] if photo_id == 6 else [keyword.split("|")]
        state = {sidecar.name: [st.st_size, st.st_mtime_ns, held]}
        conn.execute("INSERT INTO keyword_sources VALUES (?, 'sidecar', ?, ?, ?, ?, 0)",
                     (photo_id, sidecar.name, st.st_size, st.st_mtime_ns, json.dumps(state)))
    conn.executemany("INSERT INTO photo_tags(photo_id, tag_id, state, source, updated_at) VALUES (?, ?, ?, ?, 0)",
                     OPINIONS)
    conn.execute("COMMIT")
    conn.close()
    return path


def opinions(cat: Catalogue, photo_id: int) -> dict[tuple[str, ...], tuple[str, str]]:
    paths = all_paths(cat)
    rows = cat.query("SELECT tag_id, state, source FROM photo_tags WHERE photo_id = ?", (photo_id,))
    return {paths[tag_id]: (state, source) for tag_id, state, source in rows}


def test_a_catalogue_merged_by_leaf_name_is_split_by_path_keeping_every_opinion(tmp_path: Path) -> None:
    path = old_library(tmp_path / "lib")
    with Catalogue(path) as cat:
        assert cat.schema_version == SCHEMA_VERSION
        assert opinions(cat, 1) == {("People", "Niaz"): ("confirmed", "keywords")}
        assert opinions(cat, 2) == {("Winter",): ("confirmed", "keywords")}  # no longer snow
        assert opinions(cat, 3) == {("People", "Paris"): ("confirmed", "keywords")}
        # the user's rejection stays on the tag they rejected, and goes to the keyword's own tag
        assert opinions(cat, 4) == {("person", "Paris"): ("rejected", "user"),
                                    ("Places", "France", "Paris"): ("rejected", "user")}
        assert opinions(cat, 5) == {("animal", "cat"): ("confirmed", "user")}
        # built-in tags stay where they were; the keyword's tags are linked to them
        assert find_path(cat, ("snow",)) == 2 and find_path(cat, ("animal", "cat")) == 4
        links = dict(cat.query("SELECT t.name, b.name FROM tags t JOIN tags b ON b.id = t.link_id"))
        assert links == {"Winter": "snow", "People": "person"}
        # photo 6's record does not explain its Niaz: its sources are read again next time
        assert cat.scalar("SELECT count(*) FROM keyword_sources WHERE photo_id = 6") == 0
        assert cat.scalar("PRAGMA foreign_key_check") is None
    assert (path.parent / "catalogue.sqlite.v3.bak").exists()

    library = Library.open(tmp_path / "lib")
    with library.connect() as cat:
        result = sync_keywords(cat, library.root)
        assert result.applied == 1 and not result.warnings
        assert opinions(cat, 6)[("People", "Niaz")] == ("confirmed", "keywords")
        assert opinions(cat, 1) == {("People", "Niaz"): ("confirmed", "keywords")}  # nothing read twice
