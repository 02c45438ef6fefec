"""A tag is its path: other apps' keywords come back exactly as they wrote
them through index -> export --format xmp, homonyms in different branches stay apart,
and a built-in tag never moves into (or takes its place from) another app's tree.
Sidecars are written by hand in each program's layout; exiftool reads them back."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from catalogue_rows import tag_path
from jobs import run_index
from sidecar_layouts import BRIDGE, DIGIKAM, library_with_sidecars, lightroom

from photo_tagger.core.browse import BrowseFilter, photo_ids
from photo_tagger.core.library import Library
from photo_tagger.core.service import export_library_sidecars
from photo_tagger.core.tag_names import find_tag
from photo_tagger.core.tagging import set_state
from photo_tagger.core.xmp import read_sidecar

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool not installed")
KEYWORD_FIELDS = ("Subject", "HierarchicalSubject", "TagsList", "LastKeywordXMP", "CatalogSets")

def exiftool_keywords(path: Path) -> dict[str, list[str]]:
    out = subprocess.run([EXIFTOOL, "-j", "-XMP:all", str(path)], capture_output=True, text=True, check=True,
                         timeout=60)
    found = json.loads(out.stdout)[0]
    return {field: [str(v) for v in (found[field] if isinstance(found[field], list) else [found[field]])]
            for field in KEYWORD_FIELDS if field in found}


def confirm(library: Library, photo: str, tag: str) -> None:
    with library.connect() as cat:
        photo_id = cat.scalar("SELECT id FROM photos WHERE path = ?", (photo,))
        set_state(cat, [photo_id], find_tag(cat, tag), "confirmed")


@needs_exiftool
def test_digikam_keywords_come_back_byte_identical_after_index_and_export(tmp_path: Path, embedder) -> None:
    library = library_with_sidecars(tmp_path / "lib", {"a.jpg.xmp": DIGIKAM})
    run_index(library, embedder)
    summary = export_library_sidecars(library)
    assert summary.unchanged == 1 and not summary.written and not summary.errors
    assert (library.root / "a.jpg.xmp").read_bytes() == DIGIKAM
    with library.connect() as cat:
        # each keyword is the tag at its own path, with the other app's text
        assert tag_path(cat, "Niaz") == ["People", "Niaz"] and tag_path(cat, "Winter") == ["Winter"]
        assert tag_path(cat, "person") == ["person"] and tag_path(cat, "snow") == ["snow"]
        assert tag_path(cat, "Nature") == ["nature"]  # the built-in tag at that path, case aside
        linked = dict(cat.query("SELECT t.name, b.name FROM tags t JOIN tags b ON b.id = t.link_id"))
    assert linked == {"Winter": "snow", "People": "person"}  # linked by synonym, never renamed


@needs_exiftool
def test_confirming_one_more_built_in_tag_adds_exactly_that_tag_in_every_field(tmp_path: Path, embedder) -> None:
    library = library_with_sidecars(tmp_path / "lib", {"a.jpg.xmp": DIGIKAM})
    before = exiftool_keywords(library.root / "a.jpg.xmp")
    run_index(library, embedder)
    confirm(library, "a.jpg", "dog")  # animal|dog: animal is confirmed with it
    export_library_sidecars(library)
    after = exiftool_keywords(library.root / "a.jpg.xmp")
    added = {"Subject": "dog", "HierarchicalSubject": "animal|dog", "TagsList": "animal/dog",
             "LastKeywordXMP": "animal/dog"}
    assert set(after) == set(before)
    for field, values in before.items():
        assert after[field] == [*values, added[field]], field


def test_homonyms_in_different_branches_stay_apart_through_index_and_export(tmp_path: Path, embedder) -> None:
    library = library_with_sidecars(tmp_path / "lib", {"a.jpg.xmp": lightroom("People|Paris"),
                                                       "b.jpg.xmp": lightroom("Places|France|Paris")})
    run_index(library, embedder)
    with library.connect() as cat:
        people, places = find_tag(cat, "People|Paris"), find_tag(cat, "Places|France|Paris")
        assert people is not None and places is not None and people != places
    for photo in ("a.jpg", "b.jpg"):
        confirm(library, photo, "dog")
    export_library_sidecars(library)
    assert read_sidecar(library.root / "a.jpg.xmp").paths() == [("People", "Paris"), ("animal", "dog")]
    assert read_sidecar(library.root / "b.jpg.xmp").paths() == [("Places", "France", "Paris"), ("animal", "dog")]
    if EXIFTOOL:
        assert exiftool_keywords(library.root / "b.jpg.xmp")["HierarchicalSubject"] == [
            "Places|France|Paris", "animal|dog"]


@needs_exiftool
def test_flat_bridge_keywords_come_back_flat(tmp_path: Path, embedder) -> None:
    library = library_with_sidecars(tmp_path / "lib", {"a.jpg.xmp": BRIDGE})
    run_index(library, embedder)
    assert export_library_sidecars(library).unchanged == 1
    assert (library.root / "a.jpg.xmp").read_bytes() == BRIDGE
    with library.connect() as cat:
        # desk is a root tag of its own (linked to furniture|desk, which stays where it is)
        assert tag_path(cat, "desk") == ["desk"] and tag_path(cat, "furniture|desk") == ["furniture", "desk"]
    confirm(library, "a.jpg", "person")
    export_library_sidecars(library)
    assert exiftool_keywords(library.root / "a.jpg.xmp")["Subject"] == ["desk", "coffee", "computer", "person"]
    assert read_sidecar(library.root / "a.jpg.xmp").paths() == [("desk",), ("coffee",), ("computer",), ("person",)]


def test_a_root_built_in_tag_is_not_re_parented_by_a_sidecar(tmp_path: Path, embedder) -> None:
    library = library_with_sidecars(tmp_path / "lib", {"a.jpg.xmp": lightroom("Seasons|snow"), "b.jpg.xmp": BRIDGE})
    run_index(library, embedder)
    confirm(library, "b.jpg", "snow")
    export_library_sidecars(library)
    with library.connect() as cat:
        assert tag_path(cat, "snow") == ["snow"] and tag_path(cat, "Seasons|snow") == ["Seasons", "snow"]
    assert read_sidecar(library.root / "b.jpg.xmp").paths()[-1] == ("snow",)


def test_filtering_by_a_built_in_tag_finds_the_keywords_linked_to_it(tmp_path: Path, embedder) -> None:
    library = library_with_sidecars(tmp_path / "lib", {"a.jpg.xmp": DIGIKAM, "b.jpg.xmp": BRIDGE})
    run_index(library, embedder)
    with library.connect() as cat:
        winter = cat.scalar("SELECT id FROM photos WHERE path = 'a.jpg'")
        assert winter in photo_ids(cat, BrowseFilter(tags=("snow",)))
        assert photo_ids(cat, BrowseFilter(tags=("Winter",))) == [winter]
