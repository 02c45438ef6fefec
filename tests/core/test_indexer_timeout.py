"""A photo whose decode takes too long costs that photo, not the run: it gets an error row,
the others are indexed, and cancelling never waits for it. The slow decode is real: a
legal 90 MP PNG among small JPEGs, whose decode reads the file, checks its header and then
waits for the one-large-decode-at-a-time slot, which the test holds as a huge decode stuck
elsewhere would. (Timing alone proved flaky: on this shared machine the same PNG decodes in
under a second or in several, so a fixed timeout sometimes did not fire.)"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from photos import noise_photo, save_photo
from robustness.corpus import large_png

from photo_tagger.core.imaging import _large_decode_lock as large_decode_slot
from photo_tagger.core.indexer import index_library
from photo_tagger.core.library import Library
from photo_tagger.core.progress import run_to_end
from photo_tagger.core.store.connection import Catalogue


@pytest.fixture(scope="module")
def png_90mp() -> bytes:
    return large_png()  # a few seconds to decode, 1.2 MB on disk


@pytest.fixture
def slow_png(png_90mp: bytes) -> bytes:
    with large_decode_slot:  # a slow decode left running by an earlier test has finished
        return png_90mp


def _library(root: Path, slow_png: bytes, slow_name: str, jpegs: int) -> Library:
    for i in range(jpegs):
        save_photo(noise_photo(i, (160, 120)), root / f"p{i}.jpg")
    (root / slow_name).write_bytes(slow_png)
    return Library.open(root)




def _within(seconds: float, call: Callable[[], object]) -> object:
    """`call()`, in a daemon thread so that a regression fails the test instead of hanging it."""
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert outcome, f"still running after {seconds} s: it waited for a decode that never ends"
    return outcome[0]


def _rows(root: Path) -> dict[str, sqlite3.Row]:
    with Catalogue(root / ".photo-tagger" / "catalogue.sqlite") as cat:
        return {row["path"]: row for row in cat.query("SELECT * FROM photos")}


def test_a_decode_that_never_ends_costs_that_photo_not_the_run(
    tmp_path: Path, slow_png: bytes, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "lib"
    library = _library(root, slow_png, "a stuck.png", jpegs=6)  # sorted first: decoded first
    with large_decode_slot:  # the PNG cannot finish until the run is over
        summary = _within(60, lambda: run_to_end(
            index_library(library, embedder=embedder, batch_size=2, decode_timeout_s=1)))
    rows = _rows(root)
    assert rows["a stuck.png"]["status"] == "error"
    assert rows["a stuck.png"]["error"] == "decoding took longer than 1 s; skipped"
    assert all(rows[f"p{i}.jpg"]["status"] == "ok" for i in range(6))
    assert summary.indexed == 6 and summary.errors == 1
    assert "a stuck.png: decoding took longer than 1 s; skipped" in caplog.text


def test_the_next_run_retries_a_photo_that_timed_out_like_any_error_row(
    tmp_path: Path, slow_png: bytes, embedder
) -> None:
    """A timeout is a transient error (photo_errors.is_transient): the photo is tried again on
    the next run, so a photo that hit a stalled drive once is indexed once it answers."""
    root = tmp_path / "lib"
    library = _library(root, slow_png, "slow.png", jpegs=1)
    with large_decode_slot:
        _within(60, lambda: run_to_end(index_library(library, embedder=embedder, decode_timeout_s=1)))
    assert _rows(root)["slow.png"]["status"] == "error"

    again = run_to_end(index_library(library, embedder=embedder))  # the default: a minute

    assert again.errors == 0
    assert _rows(root)["slow.png"]["status"] == "ok"


def test_cancelling_does_not_wait_for_a_decode_that_never_ends(tmp_path: Path, slow_png: bytes, embedder) -> None:
    root = tmp_path / "lib"
    library = _library(root, slow_png, "z stuck.png", jpegs=2)  # sorted last
    with large_decode_slot:
        job = index_library(library, embedder=embedder, batch_size=2)
        while next(job).done < 2:  # the two JPEGs are stored; the PNG is still "decoding"
            pass
        _within(5, job.close)
    assert _rows(root)["z stuck.png"]["status"] == "pending"  # the next run does it


def test_a_timeout_that_is_not_positive_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="decode_timeout_s"):
        next(index_library(Library.open(tmp_path), decode_timeout_s=0))
