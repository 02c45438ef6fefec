"""`export` (and `import` of what it wrote) run in process through `cli.main`: formats and
filters, and a tag named by its leaf only when that leaf is unambiguous."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from catalogue_rows import reviewed_library
from jobs import run_index
from sidecar_layouts import library_with_sidecars, lightroom

from photo_tagger import cli
from photo_tagger.core.library import Library


@pytest.fixture
def library(tmp_path: Path) -> Library:
    return reviewed_library(tmp_path / "lib")


def test_cli_export_formats_and_import(library: Library, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = str(library.root)
    out = tmp_path / "t.json"
    assert cli.main(["export", root, "-o", str(out), "--format", "json", "--tag", "dog", "--min-score", "0.5"]) == 0
    assert [p["tags"] for p in json.loads(out.read_text())["photos"]] == [[], [], ["dog"]]
    assert cli.main(["import", root, str(out)]) == 0
    assert cli.main(["export", root, "--format", "xmp", "--include-suggestions"]) == 0
    assert "wrote 2 sidecars" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        cli.main(["export", root, "--format", "onehot"])
    assert exc.value.code == 2


def test_an_ambiguous_leaf_name_is_refused_naming_the_paths_and_a_path_works(tmp_path: Path, embedder,
                                                                             capsys) -> None:
    library = library_with_sidecars(tmp_path / "lib", {"a.jpg.xmp": lightroom("People|Paris"),
                                                       "b.jpg.xmp": lightroom("Places|France|Paris")})
    run_index(library, embedder)
    out = tmp_path / "paris.csv"
    assert cli.main(["export", str(library.root), "-o", str(out), "--tag", "Paris"]) == 1
    err = capsys.readouterr().err
    assert "'Paris' is the name of 2 tags (People|Paris, Places|France|Paris)" in err
    assert cli.main(["export", str(library.root), "-o", str(out), "--tag", "People|Paris"]) == 0
    rows = out.read_text(encoding="utf-8").splitlines()
    assert rows[1:] == ["a.jpg,People|Paris,People|Paris", "b.jpg,,"]  # the label is the path
