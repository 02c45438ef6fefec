"""Kill at any moment: SIGKILL `photo-tagger index` / `import` / `train` and the bulk
edits the app makes at random points, then check that the catalogue is intact, every
committed change is there, nothing half-written is visible and the next run resumes.

Trials are sequential and small (a kill costs one process start, ~0.5 s); the random
points come from a fixed seed so a failure replays. Set PHOTO_TAGGER_KILL_SEED to explore.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from photos import noise_photo, save_photo
from robustness.common import EXE, add_synthetic_photos

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.library import Library
from photo_tagger.core.tagging import ensure_tag, set_state

BULK_EDIT = Path(__file__).with_name("bulk_edit.py")
SEED = int(os.environ.get("PHOTO_TAGGER_KILL_SEED", "20261125"))
pytestmark = pytest.mark.slow


def synthetic_library(root: Path, photos: int) -> Path:
    """A library whose catalogue holds `photos` rows (no files: tag writes need none)."""
    root.mkdir(parents=True, exist_ok=True)
    library = Library.open(root)
    with library.connect() as cat:
        add_synthetic_photos(cat, [f"p{i:04d}.jpg" for i in range(photos)])
    return library.catalogue_path


def kill_at(args: list[str], delay: float, after: Callable[[], bool] | None = None) -> tuple[bool, str]:
    """Start `args`, SIGKILL it `delay` s after `after()` turns true (or after start);
    returns (whether it had exited by itself, its stdout)."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while after is not None and proc.poll() is None and not after():
        time.sleep(0.01)
    try:
        proc.wait(delay)
        finished = True
    except subprocess.TimeoutExpired:
        proc.kill()
        finished = False
    out, err = proc.communicate()
    assert "Traceback" not in err, err
    if finished:
        assert proc.returncode == 0, err
    return finished, out


def count_ok(library: Library) -> int:
    """Indexed photos, read the way the app would while an indexer writes (WAL reader)."""
    conn = sqlite3.connect(f"file:{library.catalogue_path}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute("SELECT count(*) FROM photos WHERE status = 'ok'").fetchone()[0])
    finally:
        conn.close()


def user_rows(cat: Catalogue) -> set[tuple]:
    return {tuple(r) for r in cat.query("SELECT photo_id, tag_id, state FROM photo_tags WHERE source != 'model'")}


def check_intact(cat: Catalogue) -> None:
    assert cat.integrity_ok()
    assert cat.scalar("PRAGMA foreign_key_check") is None
    # An indexed photo always has its thumbnail and embedding: never one without the other.
    assert cat.scalar(
        "SELECT count(*) FROM photos p WHERE p.status = 'ok' AND p.indexed_at IS NOT NULL AND"
        " (NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.photo_id = p.id)"
        "  OR NOT EXISTS (SELECT 1 FROM thumbnails t WHERE t.photo_id = p.id))"
    ) == 0


def test_killing_bulk_edits_keeps_every_committed_step_whole(tmp_path: Path) -> None:
    catalogue = synthetic_library(tmp_path / "lib", 150)
    rng = random.Random(SEED)
    committed_by_trial: list[tuple[str, list[int]]] = []
    for trial in range(20):
        prefix = f"t{trial}"
        proc = subprocess.Popen([sys.executable, str(BULK_EDIT), str(catalogue), "1000", prefix],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        stop_after = rng.randint(0, 10)
        printed: list[str] = []
        if stop_after == 0:  # somewhere in start-up or the first steps
            time.sleep(rng.uniform(0.0, 0.8))
        else:
            for line in proc.stdout:
                printed.append(line)
                if sum(p.startswith("committed") for p in printed) >= stop_after:
                    break
            time.sleep(rng.uniform(0.0, 0.03))
        proc.kill()
        printed += proc.communicate()[0].splitlines()
        steps = [int(line.split()[1]) for line in printed if line.startswith("committed")]
        committed_by_trial.append((prefix, steps))

        with Catalogue(catalogue) as cat:
            check_intact(cat)
            counts = dict(cat.query(
                "SELECT t.name, count(pt.photo_id) FROM tags t LEFT JOIN photo_tags pt ON pt.tag_id = t.id"
                " AND pt.state = 'confirmed' WHERE t.name LIKE 'bulk-%' GROUP BY t.name"
            ))
        for earlier_prefix, earlier_steps in committed_by_trial:
            for step in earlier_steps:
                assert counts.get(f"bulk-{earlier_prefix}-{step}") == 150, (earlier_prefix, step)
        last = max(steps, default=-1)
        # The step in flight at the kill may have committed without being printed; it is
        # whole or absent, and nothing after it exists.
        assert counts.get(f"bulk-{prefix}-{last + 1}", 0) in (0, 150)
        assert all(counts.get(f"bulk-{prefix}-{s}", 0) == 0 for s in range(last + 2, last + 50))


def test_killing_import_applies_the_whole_file_or_none_of_it(tmp_path: Path) -> None:
    catalogue = synthetic_library(tmp_path / "lib", 400)
    sources = {}
    for name, tags in (("a", "alpha;beta"), ("b", "gamma")):
        sources[name] = tmp_path / f"{name}.csv"
        sources[name].write_text("path,tags\n" + "".join(f"p{i:04d}.jpg,{tags}\n" for i in range(400)))
    confirmed_sets = {"a": {"alpha", "beta"}, "b": {"gamma"}}
    rng = random.Random(SEED + 1)
    state: set[str] = set()
    completed = 0
    duration = 0.0  # of one whole import on this machine, measured by the first trial
    for trial in range(16):
        name = "ab"[trial % 2]
        args = [EXE, "import", str(tmp_path / "lib"), str(sources[name])]
        if trial == 0:
            start = time.monotonic()
            finished, out = kill_at(args, 600)
            duration = time.monotonic() - start
        else:  # anywhere from start-up to just after the end
            finished, out = kill_at(args, rng.uniform(0.1, 1.1) * duration)
        with Catalogue(catalogue) as cat:
            check_intact(cat)
            per_photo = {}
            for photo_id, tag in cat.query(
                "SELECT pt.photo_id, t.name FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id"
                " WHERE pt.state = 'confirmed'"
            ):
                per_photo.setdefault(photo_id, set()).add(tag)
        distinct = {frozenset(tags) for tags in per_photo.values()}
        assert len(distinct) <= 1, "an import was half applied"
        now = set(next(iter(distinct))) if distinct else set()
        if finished or "imported" in out:
            assert now == confirmed_sets[name] and len(per_photo) == 400
            completed += 1
        else:
            assert now in (state, confirmed_sets[name])
            assert len(per_photo) in (0, 400)
        state = now
    assert 0 < completed < 16, "the kill points should hit both finished and unfinished imports"


def test_killing_index_loses_nothing_and_the_next_run_redoes_nothing(tmp_path: Path, embedder) -> None:
    root = tmp_path / "lib"
    next_photo = 0

    def add_photos(count: int) -> None:
        nonlocal next_photo
        for i in range(next_photo, next_photo + count):
            save_photo(noise_photo(i, (200, 150)), root / f"d{i % 3}" / f"p{i:03d}.jpg", quality=80)
        next_photo += count

    add_photos(24)
    library = Library.open(root)
    rng = random.Random(SEED + 2)
    interrupted = 0
    for _trial in range(16):
        with library.connect() as cat:
            done_before = {tuple(r)[0]: tuple(r)[1:] for r in cat.query(
                "SELECT p.id, p.indexed_at, e.vector FROM photos p JOIN embeddings e ON e.photo_id = p.id"
                " WHERE p.status = 'ok'")}
            rows_before = user_rows(cat)

        # A quarter of the kills land in start-up, scan or the first batch; the others a
        # random moment after a random number of photos were committed, whatever the
        # machine's speed.
        args = [EXE, "index", str(root), "--batch-size", "4"]
        if rng.random() < 0.25:
            finished, _ = kill_at(args, rng.uniform(0.05, 1.5))
        else:
            target = len(done_before) + rng.randint(0, max(next_photo - len(done_before) - 5, 0))
            finished, _ = kill_at(args, rng.uniform(0.0, 0.3), after=lambda target=target: count_ok(library) >= target)
        interrupted += not finished

        with library.connect() as cat:
            check_intact(cat)
            assert user_rows(cat) == rows_before
            done_after = {tuple(r)[0]: tuple(r)[1:] for r in cat.query(
                "SELECT p.id, p.indexed_at, e.vector FROM photos p JOIN embeddings e ON e.photo_id = p.id"
                " WHERE p.status = 'ok'")}
            for photo_id, done in done_before.items():
                assert done_after.get(photo_id) == done, "finished work was redone or lost"
            # the user keeps tagging between runs; those tags must survive the next kill
            if done_after:
                some = rng.sample(sorted(done_after), min(3, len(done_after)))
                set_state(cat, some, ensure_tag(cat, rng.choice(["holiday", "family", "cat"])),
                          rng.choice(["confirmed", "rejected"]))
            pending = cat.scalar("SELECT count(*) FROM photos WHERE status = 'pending'")
        if not pending and finished:
            add_photos(8)
    assert interrupted >= 10, "most trials should be killed mid-run"

    with library.connect() as cat:
        ok_before = cat.scalar("SELECT count(*) FROM photos WHERE status = 'ok'")
    result = subprocess.run([EXE, "index", str(root)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    # resumes: only what was left (pending or never scanned) is decoded
    assert f"{next_photo} photos, {next_photo - ok_before} indexed," in result.stdout


def test_killing_train_keeps_user_tags_and_one_complete_active_head(tmp_path: Path, embedder) -> None:
    root = tmp_path / "lib"
    for i in range(30):
        save_photo(noise_photo(i, (200, 150)), root / f"p{i:03d}.jpg", quality=80)
    assert subprocess.run([EXE, "index", str(root)], capture_output=True, timeout=300).returncode == 0
    library = Library.open(root)
    with library.connect() as cat:
        ids = [pid for (pid,) in cat.query("SELECT id FROM photos ORDER BY id")]
        holiday = ensure_tag(cat, "holiday")
        set_state(cat, ids[:12], holiday, "confirmed")
        set_state(cat, ids[12:], holiday, "rejected")
    rng = random.Random(SEED + 3)
    for _trial in range(4):
        with library.connect() as cat:
            rows_before = user_rows(cat)
            heads_before = {tuple(r) for r in cat.query("SELECT id, weights FROM heads")}
        kill_at([EXE, "train", str(root)], rng.uniform(0.5, 12.0))
        with library.connect() as cat:
            check_intact(cat)
            assert user_rows(cat) == rows_before
            heads = {tuple(r) for r in cat.query("SELECT id, weights FROM heads")}
            assert heads_before <= heads
            assert all(weights for _, weights in heads)
            assert cat.scalar("SELECT count(*) FROM heads WHERE active = 1") <= 1
