"""The command line contract, run through the installed `photo-tagger` entry point."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXE = shutil.which("photo-tagger", path=os.path.dirname(sys.executable)) or "photo-tagger"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=600)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def indexed_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from photos import noise_photo, sample_photo, save_photo

    root = tmp_path_factory.mktemp("cli") / "Photos"
    save_photo(sample_photo("chelsea"), root / "cat.jpg", quality=92)
    save_photo(sample_photo("coffee"), root / "drinks" / "coffee.png")
    save_photo(noise_photo(3), root / "=formula.jpg")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    result = run("index", str(root), "--batch-size", "2")
    assert result.returncode == 0, result.stderr
    return root


def test_index_prints_a_summary_and_reports_the_broken_file(indexed_library: Path) -> None:
    result = run("index", str(indexed_library))
    assert result.returncode == 0
    assert "library: 3 photos" in result.stdout and "Nothing new or changed to index" in result.stdout
    assert "3 unchanged" in result.stdout  # nothing was redone
    assert "1 still unreadable (not retried until it changes)" in result.stdout  # broken.jpg is not decoded again


def test_export_writes_suggested_tags(indexed_library: Path, tmp_path: Path) -> None:
    out = tmp_path / "tags.csv"
    result = run("export", str(indexed_library), "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = {row["path"]: row for row in read_csv(out)}
    assert set(rows) == {"cat.jpg", "drinks/coffee.png", "'=formula.jpg", "broken.jpg"}
    assert "cat" in rows["cat.jpg"]["tags"].split(";")
    assert "dog" not in rows["cat.jpg"]["tags"].split(";")
    assert rows["cat.jpg"]["confirmed"] == ""
    assert out.read_bytes().startswith(b"path,tags,confirmed\r\n")


def test_export_scores_has_one_column_per_tag(indexed_library: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    assert run("export", str(indexed_library), "-o", str(out), "--scores").returncode == 0
    rows = {row["path"]: row for row in read_csv(out)}
    cat = rows["cat.jpg"]
    assert float(cat["score:cat"]) > 0.5
    assert float(cat["score:dog"]) < 0.2 and float(cat["score:car"]) < 0.2
    assert cat["score:child"] == ""  # no ImageNet class, no face rule: no prior until the user teaches it


def test_import_makes_tags_confirmed_and_reports_unknown_paths(indexed_library: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("path,tags\r\ncat.jpg,cat;Mittens\r\nnot/there.jpg,dog\r\n", encoding="utf-8")
    result = run("import", str(indexed_library), str(source))
    assert result.returncode == 0, result.stderr
    assert "not/there.jpg" in result.stderr
    out = tmp_path / "after.csv"
    run("export", str(indexed_library), "-o", str(out), "--confirmed-only")
    rows = {row["path"]: row for row in read_csv(out)}
    assert rows["cat.jpg"]["confirmed"] == "animal;cat;Mittens"  # cat brings its parent
    tags = run("tags", str(indexed_library)).stdout
    assert "Mittens" in tags


def test_missing_folder_is_a_user_error_without_traceback(tmp_path: Path) -> None:
    result = run("index", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "nope: no such folder" in result.stderr and "Traceback" not in result.stderr


def test_bad_csv_encoding_names_the_file(indexed_library: Path, tmp_path: Path) -> None:
    source = tmp_path / "latin1.csv"
    source.write_bytes("path,tags\ncat.jpg,caf\xe9\n".encode("latin-1"))
    result = run("import", str(indexed_library), str(source))
    assert result.returncode == 1
    assert "latin1.csv: not UTF-8" in result.stderr


def test_an_unknown_tag_points_at_the_option_and_the_tags_command(indexed_library: Path, tmp_path: Path) -> None:
    result = run("export", str(indexed_library), "-o", str(tmp_path / "t.csv"), "--tag", "unicorn")
    assert result.returncode == 1
    assert "no such tag: 'unicorn' (--tag; `photo-tagger tags PATH` lists them)" in result.stderr


def test_usage_error_exits_2() -> None:
    assert run("index").returncode == 2
    assert run("index", "x", "--batch-size", "0").returncode == 2


def test_help_documents_every_command() -> None:
    out = run("--help").stdout
    for command in ("index", "export", "import", "tags"):
        assert command in out
