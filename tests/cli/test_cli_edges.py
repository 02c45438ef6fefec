"""Command-line edges, run through the installed `photo-tagger` entry point."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

EXE = shutil.which("photo-tagger", path=os.path.dirname(sys.executable)) or "photo-tagger"
COMMANDS = ("index", "export", "import", "tags", "train")


def run(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=600, **kwargs)


def make_library(root: Path) -> Path:
    from photos import noise_photo, sample_photo, save_photo

    save_photo(sample_photo("chelsea"), root / "cat.jpg", quality=92)
    save_photo(sample_photo("coffee"), root / "coffee.png")
    save_photo(noise_photo(3), root / "noise.jpg")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    return root


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_library(tmp_path_factory.mktemp("edges") / "Photos")
    result = run("index", str(root))
    assert result.returncode == 0, result.stderr
    return root


def test_export_to_dash_writes_only_the_data_to_stdout(library: Path, tmp_path: Path) -> None:
    result = run("export", str(library), "-o", "-", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert {row["path"] for row in rows} == {"cat.jpg", "coffee.png", "noise.jpg", "broken.jpg"}
    assert result.stdout.startswith("path,tags,confirmed")
    assert "wrote 4 photos to stdout" in result.stderr
    assert not (tmp_path / "-").exists()  # no file named "-"


def test_export_to_dash_works_for_json_and_onehot(library: Path, tmp_path: Path) -> None:
    as_json = run("export", str(library), "-o", "-", "--format", "json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert "tags" in document and "wrote 4 photos" in as_json.stderr
    onehot = run("export", str(library), "-o", "-", "--format", "onehot", cwd=tmp_path)
    assert onehot.returncode == 0, onehot.stderr
    assert onehot.stdout.splitlines()[0].startswith("path,")
    assert os.listdir(tmp_path) == []


def test_a_reader_that_stops_early_ends_the_output_quietly(library: Path) -> None:
    result = subprocess.run(f'"{EXE}" tags "{library}" | head -1', shell=True, capture_output=True, text=True,
                            timeout=600)
    assert result.stdout.split() == ["tag", "confirmed", "suggested", "rejected"]
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
    assert "Exception ignored" not in result.stderr


def test_a_closed_pipe_exits_141_without_a_traceback(library: Path) -> None:
    for args in (("tags", str(library)), ("export", str(library), "-o", "-", "--format", "json")):
        proc = subprocess.Popen([EXE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the first line is written
        stderr = proc.stderr.read()
        assert proc.wait(timeout=600) == 141, stderr
        assert "Traceback" not in stderr and "BrokenPipe" not in stderr and "Exception ignored" not in stderr


def test_a_mistyped_command_is_a_usage_error_that_suggests_the_command(tmp_path: Path) -> None:
    result = run("idnex", cwd=tmp_path)
    assert result.returncode == 2
    assert "did you mean 'index'?" in result.stderr
    for command in COMMANDS:
        assert command in result.stderr
    assert "Reinstalling" not in result.stderr


def test_an_unknown_word_before_a_folder_lists_the_commands(tmp_path: Path) -> None:
    result = run("frobnicate", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "'frobnicate' is neither a command nor a folder" in result.stderr
    assert "did you mean" not in result.stderr
    for command in COMMANDS:
        assert command in result.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY / WAYLAND_DISPLAY are Linux's")
def test_opening_the_app_without_a_display_is_a_plain_error(library: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = run(str(library), env=env)
    assert result.returncode == 1, result.stderr
    assert "cannot open the desktop app: no display" in result.stderr
    assert "Reinstalling" not in result.stderr and "qt.qpa" not in result.stderr


def test_train_with_nothing_it_can_learn_exits_1_and_stores_no_head(tmp_path: Path) -> None:
    root = make_library(tmp_path / "Photos")
    assert run("index", str(root)).returncode == 0
    truth = tmp_path / "truth.csv"
    truth.write_text("path,tags\r\ncat.jpg,cat;Mittens\r\n", encoding="utf-8")
    assert run("import", str(root), str(truth)).returncode == 0
    result = run("train", str(root))
    assert result.returncode == 1, result.stdout
    assert f"{root.resolve()}: nothing to learn yet" in result.stderr
    assert "at least 3 photos" in result.stderr and "Traceback" not in result.stderr
    with sqlite3.connect(root / ".photo-tagger" / "catalogue.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM heads").fetchone() == (0,)


def test_exported_files_follow_the_umask_and_keep_an_existing_mode(library: Path, tmp_path: Path) -> None:
    new_csv, new_json = tmp_path / "new.csv", tmp_path / "new.json"
    assert run("export", str(library), "-o", str(new_csv), umask=0o022).returncode == 0
    assert run("export", str(library), "-o", str(new_json), "--format", "json", umask=0o022).returncode == 0
    assert stat.S_IMODE(new_csv.stat().st_mode) == 0o644
    assert stat.S_IMODE(new_json.stat().st_mode) == 0o644
    private = tmp_path / "private.csv"
    assert run("export", str(library), "-o", str(private), umask=0o077).returncode == 0
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    shared = tmp_path / "shared.csv"
    shared.write_text("old\n", encoding="utf-8")
    shared.chmod(0o640)
    assert run("export", str(library), "-o", str(shared), umask=0o022).returncode == 0
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640
    assert shared.read_text(encoding="utf-8").startswith("path,tags")


def _make_unwritable(folder: Path) -> bool:
    """chmod 555, or (as root, which chmod does not stop) the immutable flag; False if neither
    stops a write, as a probe shows."""
    folder.chmod(0o555)
    if _can_create_in(folder) and shutil.which("chattr"):
        subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
    return not _can_create_in(folder)


def _can_create_in(folder: Path) -> bool:
    probe = folder / ".probe"
    try:
        probe.write_bytes(b"")
    except OSError:
        return False
    probe.unlink()
    return True


def test_a_read_only_folder_is_reported_once(tmp_path: Path) -> None:
    root = make_library(tmp_path / "Photos")
    (root / "broken.jpg").unlink()
    assert run("index", str(root)).returncode == 0
    try:
        if not _make_unwritable(root):
            pytest.skip("cannot make a folder read-only here (root without chattr)")
        result = run("export", str(root), "--format", "xmp", "--include-suggestions", "--min-score", "0")
    finally:
        if shutil.which("chattr"):
            subprocess.run(["chattr", "-i", str(root)], capture_output=True)
        root.chmod(0o755)
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    assert errors == [f"error: {root.resolve()}: cannot write sidecars here (read-only): 3 photos skipped"]
    assert "wrote 0 sidecars" in result.stdout and "1 error" in result.stdout


def test_index_summary_is_one_sentence_for_a_person(tmp_path: Path) -> None:
    root = make_library(tmp_path / "Photos")
    first = run("index", str(root))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Indexed 3 new or changed photos in ")
    assert "photos/s); 1 could not be read (listed above); library: 3 photos." in first.stdout
    assert "Files since the last index: 4 new, 0 changed, 0 moved, 0 missing, 0 unchanged." in first.stdout
    assert "broken.jpg" in first.stderr
    (root / "noise.jpg").rename(root / "moved.jpg")
    again = run("index", str(root))
    assert again.stdout.startswith("Nothing new or changed to index (")
    assert "0 new, 0 changed, 1 moved, 0 missing, 2 unchanged, 1 still unreadable (not retried until it changes)." \
        in again.stdout
