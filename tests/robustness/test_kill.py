"""Kill at any moment: SIGKILL `photo-tagger index` / `import` / `train` and the real app
applying bulk edits at random points, then check that the catalogue is intact, every
committed change is there, nothing half-written is visible and the next run resumes.

Kill trials (the issue asks for at least 50 overall): index 16, import 16, train 4 and
the app APP_TRIALS = 20 (each ~2 s: the app starts offscreen, opens the library, selects
all photos), 56 in all. Trials are sequential and small; the random points come from a fixed
seed so a failure replays. Set PHOTO_TAGGER_KILL_SEED to explore.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from photos import noise_photo, save_photo
from robustness.common import EXE, AppBulkEdit, add_synthetic_photos

from photo_tagger.core.library import Library
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.tagging import ensure_tag, set_state

APP_TRIALS = 20
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


def seed_suggestions(cat: Catalogue, names: list[str]) -> None:
    """The model suggests `names` on every photo (high scores, so the panel offers them);
    earlier suggestions nobody answered are dropped, as a retrain would rescore them."""
    with cat.transaction() as conn:
        conn.execute("DELETE FROM photo_tags WHERE state = 'suggested'")
        photo_ids = [pid for (pid,) in conn.execute("SELECT id FROM photos")]
        for rank, name in enumerate(names):
            tag_id = conn.execute("INSERT INTO tags(name, origin, created_at) VALUES (?, 'taxonomy', 0)"
                                  " RETURNING id", (name,)).fetchone()[0]
            conn.executemany("INSERT INTO photo_tags(photo_id, tag_id, state, score, source, updated_at)"
                             " VALUES (?, ?, 'suggested', ?, 'model', 0)",
                             [(pid, tag_id, 0.95 - rank / 100) for pid in photo_ids])


def states_by_tag(cat: Catalogue, pattern: str) -> dict[str, dict[str, int]]:
    """tag name -> state -> photos, for the tags whose names are LIKE `pattern`."""
    result: dict[str, dict[str, int]] = {}
    for name, state, count in cat.query(
        "SELECT t.name, pt.state, count(*) FROM tags t JOIN photo_tags pt ON pt.tag_id = t.id"
        " WHERE t.name LIKE ? GROUP BY t.name, pt.state", (pattern,)
    ):
        result.setdefault(name, {})[state] = count
    return result


def user_rows_with_times(cat: Catalogue) -> set[tuple]:
    return {tuple(r) for r in cat.query(
        "SELECT photo_id, tag_id, state, updated_at FROM photo_tags WHERE source != 'model'")}


def test_killing_the_app_mid_bulk_edit_keeps_every_committed_step_whole(tmp_path: Path) -> None:
    """The real app (offscreen, `app_bulk_edit.py`) selects all 150 photos and adds a tag
    (T, type, Return), rejects the first suggestion (R) or accepts it (1) on all of them,
    step after step;
    it is killed in start-up or a random moment after a random number of reported steps.
    Every reported step is on every photo, no step is on some photos only, and what one
    run did is neither lost nor redone by the next."""
    photos = 150
    root = tmp_path / "lib"
    catalogue = synthetic_library(root, photos)
    rng = random.Random(SEED + 4)
    promised: list[tuple[str, str]] = []  # (state, tag name) of every step reported committed
    startup = 0.0  # seconds from start to `ready` on this machine, measured by the first trial
    step_time = 0.05  # seconds per step, re-measured by every run that reports steps
    for trial in range(APP_TRIALS):
        prefix = f"t{trial}"
        with Catalogue(catalogue) as cat:
            seed_suggestions(cat, [f"sug-{prefix}-{k}" for k in range(8)])
            rows_before = user_rows_with_times(cat)
        started = time.monotonic()
        app = AppBulkEdit(root, 1000, prefix, tmp_path / prefix, "mixed")
        if trial and rng.random() < 0.2:  # somewhere in start-up, opening or selecting
            time.sleep(rng.uniform(0.0, 1.1) * startup)
        else:
            stop_after = rng.randint(0, 12)
            ready_at = started
            while len(app.committed()) < stop_after or not app.lines:
                line = app.next_line()
                assert line is not None and not line.startswith("error"), (line, app.stderr())
                if line.startswith("ready"):
                    ready_at = time.monotonic()
                    startup = startup or ready_at - started
            if stop_after >= 2:
                step_time = (time.monotonic() - ready_at) / stop_after
            time.sleep(rng.uniform(0.0, 1.5) * step_time)  # in the next step, or between two
        app.kill()
        assert not any(line.startswith("error") for line in app.lines), app.lines
        assert all(len(line.split()) == photos + 1 for line in app.lines if line.startswith("ready"))
        steps = app.committed()
        assert [step for step, _, _ in steps] == list(range(len(steps)))
        promised += [(state, name) for _, state, name in steps]

        with Catalogue(catalogue) as cat:
            check_intact(cat)
            rows_after = user_rows_with_times(cat)
            added = states_by_tag(cat, "bulk-%")
            suggested = states_by_tag(cat, "sug-%")
        assert rows_before <= rows_after, "a finished step was lost or redone"
        for state, name in promised:
            states = added.get(name) if name.startswith("bulk-") else suggested.get(name)
            assert states == {state: photos}, (name, states)
        # Nothing half-written: every bulk tag is on all photos or none, every suggestion
        # answered on all or none; at most the step in flight at the kill went unreported.
        assert all(states in ({}, {"confirmed": photos}) for states in added.values()), added
        assert all(states in ({"suggested": photos}, {"rejected": photos}, {"confirmed": photos})
                   for states in suggested.values()), suggested
        mine = {name for name in added if name.startswith(f"bulk-{prefix}-")}
        mine |= {name for name, states in suggested.items() if "suggested" not in states and f"-{prefix}-" in name}
        reported = {name for _, _, name in steps}
        assert reported <= mine and len(mine - reported) <= 1, (mine, reported)

    # After all those kills, a run left alone does all its steps and exits cleanly.
    app = AppBulkEdit(root, 4, "last", tmp_path / "last", "mixed")
    assert app.wait() == 0, app.stderr()
    assert [step for step, _, _ in app.committed()] == [0, 1, 2, 3]
    with Catalogue(catalogue) as cat:
        check_intact(cat)
        everything = states_by_tag(cat, "%")
    for state, name in promised + [(state, name) for _, state, name in app.committed()]:
        assert everything[name] == {state: photos}, (name, everything[name])


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
            finished, _ = kill_at(args, rng.uniform(0.0, 0.1), after=lambda target=target: count_ok(library) >= target)
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
    redone = next_photo - ok_before
    assert f"library: {next_photo} photos" in result.stdout
    assert (f"Indexed {redone} new or changed photo" if redone else "Nothing new or changed to index") in result.stdout


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
