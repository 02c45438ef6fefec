"""Import means what the file says, through the installed `photo-tagger` entry
point: our own export imported back changes nothing, a row edited in a spreadsheet
changes exactly what was edited, a plain path,tags file is complete truth, `--dry-run`
only tells, and sidecars carry what the user confirmed."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from catalogue_rows import scanned_library, suggest

from photo_tagger.core.tagging import ensure_tag, set_state
from photo_tagger.core.xmp import read_sidecar
from photo_tagger.core.xmp_fields import HIERARCHICAL, SUBJECT

EXE = shutil.which("photo-tagger", path=os.path.dirname(sys.executable)) or "photo-tagger"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([EXE, *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """Real photo files scanned into a real catalogue: cat.jpg has a confirmed, a rejected
    and a suggested tag at its threshold; dog.jpg two suggestions, one below threshold."""
    root = tmp_path / "lib"
    lib, ids = scanned_library(root, ["cat.jpg", "dogs/dog.jpg"])
    with lib.connect() as cat:
        set_state(cat, [ids["cat.jpg"]], ensure_tag(cat, "cat"), "confirmed")
        set_state(cat, [ids["cat.jpg"]], ensure_tag(cat, "dog"), "rejected")
        suggest(cat, ids["cat.jpg"], "sofa", 0.8)
        suggest(cat, ids["dogs/dog.jpg"], "dog", 0.9)
        suggest(cat, ids["dogs/dog.jpg"], "grass", 0.3)
        cat.conn.execute("UPDATE tags SET threshold = 0.5")
    return root


def states(root: Path) -> dict[str, dict[str, str]]:
    """photo -> tag -> state, read by a fresh process (so after a restart)."""
    out = root.parent / "states.json"
    run("export", str(root), "-o", str(out), "--format", "json")
    photos = json.loads(out.read_text(encoding="utf-8"))["photos"]
    result: dict[str, dict[str, str]] = {}
    for photo in photos:
        tags = {name: "suggested" for name in photo["tags"]}
        tags.update({name: "confirmed" for name in photo["confirmed"]})
        tags.update({name: "rejected" for name in photo["rejected"]})
        result[photo["path"]] = tags
    return result


def edit_row(source: Path, path: str, tags: str) -> None:
    with open(source, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["path"] == path:
            row["tags"] = tags
    with open(source, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_our_export_imported_back_unchanged_changes_nothing(library: Path, tmp_path: Path) -> None:
    before = states(library)
    exported = tmp_path / "t.csv"
    run("export", str(library), "-o", str(exported))
    result = run("import", str(library), str(exported))
    assert "import: 0 confirmed, 0 rejected, 4 unchanged" in result.stdout  # cat, animal, dog; sofa
    assert states(library) == before
    again = tmp_path / "again.csv"
    run("export", str(library), "-o", str(again))
    assert again.read_bytes() == exported.read_bytes()


def test_a_row_edited_in_a_spreadsheet_rejects_the_removed_tag_and_confirms_the_added_one(
    library: Path, tmp_path: Path
) -> None:
    exported = tmp_path / "t.csv"
    run("export", str(library), "-o", str(exported))
    edit_row(exported, "cat.jpg", "cat;Mittens")  # sofa (a suggestion) deleted, Mittens typed in
    result = run("import", str(library), str(exported))
    assert "import: 1 confirmed, 1 rejected, 3 unchanged" in result.stdout
    after = states(library)  # read by a new process: the import was committed
    assert after["cat.jpg"] == {"cat": "confirmed", "animal": "confirmed", "Mittens": "confirmed",
                                "sofa": "rejected", "dog": "rejected"}
    assert after["dogs/dog.jpg"] == {"dog": "suggested"}  # untouched row: still a suggestion


def test_a_plain_path_tags_file_is_the_photos_complete_truth(library: Path, tmp_path: Path) -> None:
    source = tmp_path / "truth.csv"
    source.write_text("path,tags\r\ndogs/dog.jpg,dog\r\n", encoding="utf-8")
    result = run("import", str(library), str(source))
    # dog and its parent animal confirmed; grass, below threshold, rejected too
    assert "import: 2 confirmed, 1 rejected, 0 unchanged" in result.stdout
    # dog's parent animal comes with it
    assert states(library)["dogs/dog.jpg"] == {"dog": "confirmed", "animal": "confirmed", "grass": "rejected"}


def test_dry_run_prints_the_summary_and_changes_nothing(library: Path, tmp_path: Path) -> None:
    before = states(library)
    catalogue = library / ".photo-tagger" / "catalogue.sqlite"
    source = tmp_path / "truth.csv"
    source.write_text("path,tags\r\ncat.jpg,Pets|Rex\r\n", encoding="utf-8")
    tags_before = run("tags", str(library)).stdout
    result = run("import", str(library), str(source), "--dry-run")
    # A path is taken as written: Pets is a new tag beside the taxonomy's pet, so
    # animal is no longer kept as Rex's ancestor and is rejected with cat and Mittens.
    assert result.stdout.startswith("would change: 1 confirmed, 3 rejected, 0 unchanged")
    assert "2 new tags" in result.stdout  # Pets and Pets|Rex
    assert states(library) == before
    assert run("tags", str(library)).stdout == tags_before  # Rex was not created
    assert catalogue.exists()


def test_sidecars_carry_confirmed_tags_unless_suggestions_are_asked_for(library: Path) -> None:
    result = run("export", str(library), "--format", "xmp")
    assert "wrote 1 sidecars" in result.stdout
    assert read_sidecar(library / "cat.jpg.xmp").paths() == [("animal", "cat")]
    assert not (library / "dogs" / "dog.jpg.xmp").exists()  # only guesses: no sidecar
    run("export", str(library), "--format", "xmp", "--confirmed-only")  # still accepted
    assert not (library / "dogs" / "dog.jpg.xmp").exists()
    run("export", str(library), "--format", "xmp", "--include-suggestions")
    assert read_sidecar(library / "cat.jpg.xmp").paths() == [("animal", "cat"), ("furniture", "sofa")]
    assert read_sidecar(library / "dogs" / "dog.jpg.xmp").paths() == [("animal", "dog")]


def test_a_lightroom_keyword_path_imports_as_a_tag_under_its_parent(library: Path, tmp_path: Path) -> None:
    source = tmp_path / "keywords.csv"
    source.write_text("path,tags\r\ncat.jpg,cat;Pets|Rex;Trips|Medellín\r\n", encoding="utf-8")
    assert "4 new tags" in run("import", str(library), str(source)).stdout  # Pets, Rex, Trips, Medellín
    out = tmp_path / "t.json"
    run("export", str(library), "-o", str(out), "--format", "json")
    document = json.loads(out.read_text(encoding="utf-8"))
    # A path is taken as written: Pets is a tag of its own, though the starting
    # taxonomy has it as a synonym of pet (it is linked to pet, not renamed to it)
    assert {"name": "Rex", "parent": "Pets", "synonyms": []} in document["tags"]
    assert {"name": "Medellín", "parent": "Trips", "synonyms": []} in document["tags"]
    assert not any("|" in tag["name"] for tag in document["tags"])
    assert states(library)["cat.jpg"]["Rex"] == "confirmed"
    run("export", str(library), "--format", "xmp")
    tree = ElementTree.fromstring((library / "cat.jpg.xmp").read_bytes())
    subject = [li.text for bag in tree.iter(SUBJECT) for li in bag.iterfind(".//{*}li")]
    hierarchical = [li.text for bag in tree.iter(HIERARCHICAL) for li in bag.iterfind(".//{*}li")]
    assert subject == ["cat", "Rex", "Medellín"]
    assert hierarchical == ["animal|cat", "Pets|Rex", "Trips|Medellín"]
