"""No file can crash or hang the index: a generated corpus of hostile files, each of which
must end as a precise error row (or, for strange but valid photos, an indexed one)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from photos import noise_photo, save_photo
from robustness.common import EXE
from robustness.corpus import OK, build_corpus, large_png

from photo_tagger.core.imaging import PhotoDecodeError, _large_decode_lock, decode_photo
from photo_tagger.core.indexer import index_library
from photo_tagger.core.library import Library
from photo_tagger.core.progress import run_to_end
from photo_tagger.core.scan import reconcile, sampled_content_hash, walk_photos
from photo_tagger.core.store.connection import Catalogue

RSS_LIMIT_MB = 1024
INDEX_TIMEOUT_S = 240


def run_measured(args: list[str], timeout: float) -> tuple[int, str, str, float]:
    """Run a command; return (exit code, stdout, stderr, peak RSS of that process in MB).

    The peak is the child's own VmHWM, polled: wait4's ru_maxrss would report this test
    process's size instead (Linux carries the pre-exec high-water mark over exec).
    """
    peak_kb = 0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            peak_kb = max(peak_kb, _vm_hwm_kb(proc.pid))
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                pytest.fail(f"{args} did not finish in {timeout} s: a file made the index hang")
            time.sleep(0.02)
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read().decode(), err.read().decode(), peak_kb / 1024


def _vm_hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rows_by_path(root: Path) -> dict[str, sqlite3.Row]:
    with Catalogue(root / ".photo-tagger" / "catalogue.sqlite") as cat:
        assert cat.integrity_ok()
        return {row["path"]: row for row in cat.query("SELECT * FROM photos")}


@pytest.mark.slow
def test_hostile_corpus_is_indexed_with_a_precise_error_per_bad_file(tmp_path: Path, capsys, embedder) -> None:
    # `embedder` fills the session's ONNX cache, so the measured run never imports torch.
    root = tmp_path / "hostile"
    expected = build_corpus(root)
    # Two legal 90 MP PNGs (1.2 MB each on disk, 360 MB each decoded): memory must stay
    # bounded because such full decodes run one at a time.
    big = large_png()
    for name in ("large/a.png", "large/b.png"):
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_bytes(big)
        expected[name] = OK

    code, out, err, rss_mb = run_measured([EXE, "index", str(root)], INDEX_TIMEOUT_S)

    with capsys.disabled():
        print(f"\nhostile corpus: {len(expected)} files, peak RSS {rss_mb:.0f} MB")
    assert code == 0, err
    assert "Traceback" not in err
    assert "Warning" not in err  # Pillow's complaints about damaged files go to the log
    rows = rows_by_path(root)
    assert_rows_say(rows, expected)
    assert set(rows) == set(expected)
    assert rss_mb < RSS_LIMIT_MB


def test_a_second_index_of_the_hostile_corpus_redoes_nothing_that_worked(tmp_path: Path, embedder) -> None:
    root = tmp_path / "hostile"
    build_corpus(root)
    library = Library.open(root)
    first = run_to_end(index_library(library, embedder=embedder, batch_size=4))
    again = run_to_end(index_library(library, embedder=embedder, batch_size=4))
    assert first.indexed >= 10
    assert again.indexed == 0
    assert again.scan.new == 0


def test_a_hostile_corpus_with_a_decode_that_times_out_still_ends_in_precise_rows(
    tmp_path: Path, embedder
) -> None:
    root = tmp_path / "hostile"
    expected = build_corpus(root)
    (root / "slow.png").write_bytes(large_png())
    expected["slow.png"] = "decoding took longer than 1 s; skipped"
    start = time.monotonic()
    # Holding the one-large-decode-at-a-time slot makes the PNG's decode wait for as long as
    # the run lasts, like a huge decode stuck elsewhere (its own decode time varies 1-5 s here).
    with _large_decode_lock:
        run_to_end(index_library(Library.open(root), embedder=embedder, batch_size=4, decode_timeout_s=1))
    assert time.monotonic() - start < INDEX_TIMEOUT_S
    rows = rows_by_path(root)
    assert_rows_say(rows, expected)


def test_a_photo_that_vanishes_between_scan_and_decode_gets_an_error_row(tmp_path: Path, embedder) -> None:
    root = tmp_path / "lib"
    for i in range(4):
        save_photo(noise_photo(i, (160, 120)), root / f"p{i}.jpg")
    job = index_library(Library.open(root), embedder=embedder, batch_size=2)
    while next(job).phase != "indexing":  # the list of photos to decode is now fixed
        pass
    (root / "p2.jpg").unlink()
    summary = run_to_end(job)
    rows = rows_by_path(root)
    assert rows["p2.jpg"]["status"] == "error"
    assert "No such file" in rows["p2.jpg"]["error"]
    assert summary.indexed == 3


def test_a_photo_that_vanishes_between_walk_and_hash_gets_an_error_row(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    for i in range(3):
        save_photo(noise_photo(i, (160, 120)), root / f"p{i}.jpg")
    files = list(walk_photos(root))
    (root / "p1.jpg").unlink()
    with Catalogue(tmp_path / "c.sqlite") as cat:
        summary = reconcile(cat, root, files)
        row = cat.query("SELECT status, error FROM photos WHERE path = 'p1.jpg'")[0]
    assert summary.errors == 1 and summary.new == 2
    assert row["status"] == "error" and "No such file" in row["error"]


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to switch to nobody")
def test_an_unreadable_photo_gets_a_permission_error_row() -> None:
    """As root every file is readable, so the scan runs as `nobody` here."""
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable]
    probe = subprocess.run([*as_nobody, "-c", "import photo_tagger.core.scan"], capture_output=True, cwd="/")
    if probe.returncode != 0:  # e.g. the checkout (and its venv) sits in a 0700 folder
        pytest.skip("nobody cannot read this Python environment")
    folder = Path(tempfile.mkdtemp(prefix="photo-tagger-unreadable-"))
    try:
        root = folder / "lib"
        save_photo(noise_photo(1, (160, 120)), root / "fine.jpg")
        save_photo(noise_photo(2, (160, 120)), root / "secret.jpg")
        (root / "secret.jpg").chmod(0o000)
        for path in (folder, root, root / "fine.jpg", root / "secret.jpg"):
            os.chown(path, 65534, 65534)
        script = (
            "import sys; from pathlib import Path\n"
            "from photo_tagger.core.store.connection import Catalogue\n"
            "from photo_tagger.core.imaging import PhotoDecodeError, decode_photo\n"
            "from photo_tagger.core.scan import reconcile, walk_photos\n"
            "root = Path(sys.argv[1])\n"
            "with Catalogue(root.parent / 'c.sqlite') as cat:\n"
            "    reconcile(cat, root, list(walk_photos(root)))\n"
            "    for path, status, error in cat.query('SELECT path, status, error FROM photos ORDER BY path'):\n"
            "        print(path, status, error, sep='|')\n"
            "try:\n"
            "    decode_photo(root / 'secret.jpg', 256)\n"
            "except PhotoDecodeError as exc:\n"
            "    print('decode', exc, sep='|')\n"
        )
        result = subprocess.run(
            [*as_nobody, "-c", script, str(root)],
            capture_output=True, text=True, timeout=60, cwd=folder,
        )
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert "fine.jpg|pending|None" in lines
        assert "secret.jpg|error|permission denied" in lines
        assert "decode|cannot read file (Permission denied)" in lines
    finally:
        shutil.rmtree(folder, ignore_errors=True)




def test_a_fifo_swapped_in_after_the_scan_is_refused_not_read(tmp_path: Path) -> None:
    """Reading a FIFO blocks forever; decode and hash must refuse it instead."""
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            decode_photo(fifo, 256)
        except PhotoDecodeError as exc:
            outcomes.append(str(exc))
        try:
            sampled_content_hash(fifo, 0)
        except OSError as exc:
            outcomes.append(str(exc.strerror))

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "reading a FIFO hung"
    assert outcomes == ["cannot read file (not a regular file)", "not a regular file"]


def assert_rows_say(rows: dict, expected: dict[str, str]) -> None:
    """Each expected file has a row: indexed (OK) or an error row whose message says `want`."""
    for name, want in expected.items():
        assert name in rows, f"{name!r} has no catalogue row"
        row = rows[name]
        if want == OK:
            assert row["status"] == "ok", f"{name!r}: {row['error']}"
        else:
            assert row["status"] == "error", f"{name!r} should be an error row"
            assert want in row["error"], f"{name!r}: {row['error']!r} does not say {want!r}"
