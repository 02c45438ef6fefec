"""Export formats (CSV, one-hot, JSON, XMP), their filters and import back; schema v2."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from catalogue_rows import reviewed_library, tag_path

from photo_tagger.core.errors import UserError
from photo_tagger.core.formats import ExportOptions
from photo_tagger.core.library import Library
from photo_tagger.core.scan import reconcile, walk_photos
from photo_tagger.core.service import (
    export_library,
    export_library_csv,
    export_library_sidecars,
    import_library,
)
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.migrations import SCHEMA_VERSION
from photo_tagger.core.tag_names import add_synonym, find_tag, lookup_tag, resolve_path, synonyms_of
from photo_tagger.core.tagging import set_state
from photo_tagger.core.xmp import read_sidecar

DATA = Path(__file__).parent / "data"


@pytest.fixture
def library(tmp_path: Path) -> Library:
    return reviewed_library(tmp_path / "lib")


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_csv_export_without_filters_is_unchanged(library: Library, tmp_path: Path) -> None:
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    export_library_csv(library, old)
    export_library(library, new)
    assert new.read_bytes() == old.read_bytes()
    rows = {r["path"]: r for r in read_rows(new)}
    # confirming cat confirmed its parent animal too
    assert rows["cat.jpg"]["tags"] == "animal;cat;Mittens" and rows["dogs/dog.jpg"]["tags"] == "dog"


def test_filters_tag_confirmed_only_and_min_score(library: Library, tmp_path: Path) -> None:
    out = tmp_path / "f.csv"
    export_library(library, out, options=ExportOptions(min_score=0.25))
    assert {r["path"]: r["tags"] for r in read_rows(out)}["dogs/dog.jpg"] == "dog;grass"
    export_library(library, out, options=ExportOptions(confirmed_only=True))
    assert {r["path"]: r["tags"] for r in read_rows(out)}["dogs/dog.jpg"] == ""
    export_library(library, out, options=ExportOptions(tags=("animal",)))  # cat and dog are under animal
    assert {r["path"]: r["tags"] for r in read_rows(out)} == {
        "cat.jpg": "animal;cat", "dogs/dog.jpg": "dog", "'=odd.png": ""}
    with pytest.raises(UserError, match="no such tag"):
        export_library(library, out, options=ExportOptions(tags=("unicorn",)))


def test_onehot_has_one_0_1_column_per_tag(library: Library, tmp_path: Path) -> None:
    out = tmp_path / "onehot.csv"
    export_library(library, out, fmt="onehot", options=ExportOptions(tags=("cat", "dog", "Mittens")))
    rows = {row["path"]: row for row in read_rows(out)}
    assert list(rows["cat.jpg"]) == ["path", "cat", "dog", "Mittens"]
    assert rows["cat.jpg"] == {"path": "cat.jpg", "cat": "1", "dog": "0", "Mittens": "1"}
    assert rows["dogs/dog.jpg"]["dog"] == "1" and rows["'=odd.png"]["cat"] == "0"


@pytest.mark.parametrize(("fmt", "suffix"), [("csv", ".csv"), ("onehot", ".csv"), ("json", ".json")])
def test_export_import_export_is_identical(library: Library, tmp_path: Path, fmt: str, suffix: str) -> None:
    first, second = tmp_path / f"first{suffix}", tmp_path / f"second{suffix}"
    # csv: the tags column is imported as confirmed truth, so the file round-trips exactly
    # when it holds confirmed tags; one-hot and JSON round-trip with suggestions too.
    options = ExportOptions(confirmed_only=fmt == "csv")
    export_library(library, first, fmt=fmt, options=options)
    summary = import_library(library, first)
    assert summary.updated == 3 and not summary.problems and not summary.unknown_paths
    export_library(library, second, fmt=fmt, options=options)
    if fmt == "onehot":  # its 1s confirm: the suggested dog's parent animal is confirmed with it
        first.write_bytes(second.read_bytes())
        import_library(library, first)
        export_library(library, second, fmt=fmt, options=options)
    assert second.read_bytes() == first.read_bytes()


def test_json_round_trip_into_a_fresh_library_recreates_tags_parents_and_synonyms(
    library: Library, tmp_path: Path
) -> None:
    with library.connect() as cat:
        # a tag of its own beside the root Mittens (a tag is its path)
        resolve_path(cat, ("Pets", "Mittens"))
        add_synonym(cat, "Pets|Mittens", "Mitty")
        # confirmed: its ancestors are confirmed with it, as the import into the fresh
        # library will do
        photo_id = cat.scalar("SELECT id FROM photos WHERE path = 'cat.jpg'")
        set_state(cat, [photo_id], find_tag(cat, "Pets|Mittens"), "confirmed")
    out = tmp_path / "tags.json"
    export_library(library, out, fmt="json")
    fresh_root = tmp_path / "fresh"
    shutil.copytree(library.root, fresh_root, ignore=shutil.ignore_patterns(".photo-tagger"))
    fresh = Library.open(fresh_root)
    with fresh.connect() as cat:
        reconcile(cat, fresh.root, list(walk_photos(fresh.root)))
    import_library(fresh, out)
    with fresh.connect() as cat:
        assert tag_path(cat, "Pets|Mittens") == ["Pets", "Mittens"]  # not under pet, whose synonym Pets is
        assert tag_path(cat, "Mittens") == ["Mittens"]
        assert synonyms_of(cat, "Pets|Mittens") == ["Mitty"]
    again = tmp_path / "again.json"
    export_library(fresh, again, fmt="json", options=ExportOptions(confirmed_only=True))
    export_library(library, out, fmt="json", options=ExportOptions(confirmed_only=True))
    first, second = json.loads(out.read_text()), json.loads(again.read_text())
    assert [(p["path"], p["confirmed"], p["rejected"]) for p in first["photos"]] == [
        (p["path"], p["confirmed"], p["rejected"]) for p in second["photos"]
    ]


def test_json_objects_with_only_tags_work_like_the_csv(library: Library, tmp_path: Path) -> None:
    source = tmp_path / "simple.json"
    source.write_text(json.dumps([{"path": "dogs/dog.jpg", "tags": ["dog", "kitten"]}]))
    import_library(library, source)
    out = tmp_path / "out.csv"
    export_library(library, out, options=ExportOptions(confirmed_only=True))
    # kitten is cat; both are animals
    assert {r["path"]: r["tags"] for r in read_rows(out)}["dogs/dog.jpg"] == "animal;cat;dog"


def test_import_maps_synonyms_to_their_tag(library: Library, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("path,tags\r\n=odd.png,kitty;Puppy\r\n", encoding="utf-8")
    summary = import_library(library, source)
    assert summary.created_tags == []
    out = tmp_path / "out.csv"
    export_library(library, out, options=ExportOptions(confirmed_only=True))
    assert {r["path"]: r["tags"] for r in read_rows(out)}["'=odd.png"] == "animal;cat;dog"


def test_bad_import_files_name_the_file(library: Library, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="bad.json"):
        import_library(library, bad)
    odd = tmp_path / "odd.csv"
    odd.write_text("name,value\r\na,b\r\n")
    with pytest.raises(UserError, match="odd.csv"):
        import_library(library, odd)
    onehot = tmp_path / "onehot.csv"
    onehot.write_text("path,cat\r\ncat.jpg,yes\r\n")
    assert "expected 0 or 1" in import_library(library, onehot).problems[0]


def test_xmp_export_writes_sidecars_and_keeps_other_apps_fields(library: Library) -> None:
    shutil.copy(DATA / "darktable.jpg.xmp", library.root / "cat.jpg.xmp")
    photo_before = (library.root / "cat.jpg").read_bytes()
    summary = export_library_sidecars(library, include_suggestions=True)
    assert not summary.errors
    assert sorted(p.name for p in summary.written) == ["cat.jpg.xmp", "dog.jpg.xmp"]
    assert [p.name for p in summary.backups] == ["cat.jpg.xmp.bak"]
    cat_keywords = read_sidecar(library.root / "cat.jpg.xmp").paths(internal=True)
    # the file's keywords kept as they were, in their order: darktable's own, and its
    # `pets|cat` and `sofa`, which are not our animal|cat and furniture|sofa (a keyword is the
    # tag at its own path, never renamed); ours appended after them
    assert cat_keywords == [
        ("darktable", "format", "jpg"),
        ("darktable", "changed"),
        ("pets", "cat"),
        ("sofa",),
        ("animal", "cat"),
        ("Mittens",),
    ]
    assert b'xmp:Rating="2"' in (library.root / "cat.jpg.xmp").read_bytes()
    assert (library.root / "cat.jpg").read_bytes() == photo_before
    assert not (library.root / "=odd.png.xmp").exists()  # no tags, no sidecar
    assert export_library_sidecars(library, include_suggestions=True).unchanged == 2


def test_xmp_export_drops_a_keyword_the_user_rejected(library: Library) -> None:
    export_library_sidecars(library)
    with library.connect() as cat:
        photo_id = cat.scalar("SELECT id FROM photos WHERE path = 'cat.jpg'")
        set_state(cat, [photo_id], find_tag(cat, "Mittens"), "rejected")
    export_library_sidecars(library)
    assert read_sidecar(library.root / "cat.jpg.xmp").paths() == [("animal", "cat")]


def test_xmp_export_reports_a_malformed_sidecar_and_goes_on(library: Library) -> None:
    shutil.copy(DATA / "truncated.xmp", library.root / "cat.jpg.xmp")
    summary = export_library_sidecars(library, include_suggestions=True)
    assert len(summary.errors) == 1 and "cat.jpg.xmp: malformed XMP" in summary.errors[0]
    assert (library.root / "cat.jpg.xmp").read_bytes() == (DATA / "truncated.xmp").read_bytes()
    assert [p.name for p in summary.written] == ["dog.jpg.xmp"]


def test_a_v1_catalogue_is_upgraded_with_its_tags_kept(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    shutil.copy(DATA / "catalogues" / "v1.sqlite", path)  # the migration fixtures' own v1
    with Catalogue(path) as cat:
        assert cat.schema_version == SCHEMA_VERSION >= 2
        assert cat.query("SELECT state FROM photo_tags WHERE photo_id = 1 ORDER BY tag_id")[0][0] == "confirmed"
        add_synonym(cat, "cat", "kitten")
        assert lookup_tag(cat, "Kitten") == (2, "cat")
        assert tag_path(cat, "cat") == ["animal", "cat"]
    assert (tmp_path / "catalogue.sqlite.v1.bak").exists()
    conn = sqlite3.connect(tmp_path / "catalogue.sqlite.v1.bak")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()


def test_synonyms_never_shadow_a_tag(library: Library) -> None:
    with library.connect() as cat:
        with pytest.raises(UserError, match="tag of its own"):
            add_synonym(cat, "cat", "dog")
        with pytest.raises(UserError, match="already a synonym"):
            add_synonym(cat, "dog", "kitten")


def test_renaming_a_tag_keeps_its_children(library: Library) -> None:
    with library.connect() as cat:
        with cat.transaction() as conn:
            conn.execute("UPDATE tags SET name = 'Animals' WHERE name = 'animal'")
        assert tag_path(cat, "cat") == ["Animals", "cat"]
