"""Two writers on one library (the app and a CLI, two CLIs): SQLite's busy handling makes
them take turns; nobody corrupts the catalogue or dies with "database is locked"."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from photos import noise_photo, save_photo
from robustness.common import EXE, AppBulkEdit, add_synthetic_photos, confirmed_by_path

from photo_tagger.core.errors import UserError
from photo_tagger.core.library import Library
from photo_tagger.core.store import settings
from photo_tagger.core.store.connection import Catalogue


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=300)
    assert "locked" not in err and "Traceback" not in err, err
    assert proc.returncode == 0, err
    return out


@pytest.mark.slow
def test_index_import_and_bulk_edits_in_the_app_at_once_all_succeed(tmp_path: Path, embedder) -> None:
    """The CLI indexes and imports while the real app (offscreen, `app_bulk_edit.py`)
    adds 40 tags, each to every photo it shows."""
    root = tmp_path / "lib"
    for i in range(12):
        save_photo(noise_photo(i, (200, 150)), root / f"p{i:03d}.jpg", quality=80)
    assert subprocess.run([EXE, "index", str(root)], capture_output=True, timeout=300).returncode == 0
    for i in range(12, 60):  # new work for the indexer
        save_photo(noise_photo(i, (200, 150)), root / f"p{i:03d}.jpg", quality=80)
    source = tmp_path / "tags.csv"
    source.write_text("path,tags\n" + "".join(f"p{i:03d}.jpg,imported;Mittens\n" for i in range(12)))
    catalogue = Library.open(root).catalogue_path

    index = start(EXE, "index", str(root), "--batch-size", "4")
    edits = AppBulkEdit(root, 40, "app", tmp_path / "app")
    imports = start(EXE, "import", str(root), str(source))
    summary = finish(index)
    assert "Indexed 48 new or changed photos" in summary and "library: 60 photos" in summary
    assert "imported 12 of 12 rows" in finish(imports)
    assert edits.wait() == 0, edits.lines[-1:] + [edits.stderr()]
    assert "locked" not in edits.stderr()
    assert [step for step, _, _ in edits.committed()] == list(range(40))

    with Catalogue(catalogue) as cat:
        assert cat.integrity_ok()
        tags = confirmed_by_path(cat)
        bulk_rows = cat.scalar(
            "SELECT count(*) FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id JOIN photos p ON p.id = pt.photo_id"
            " WHERE t.name LIKE 'bulk-app-%' AND pt.source != 'model' AND p.path < 'p012'"
        )
    for i in range(12):
        assert {"imported", "Mittens"} <= tags[f"p{i:03d}.jpg"]
    # every bulk edit reached the 12 photos that existed when it started (confirmed, or
    # rejected by the import if that committed later: the import makes its list the truth)
    assert bulk_rows == 40 * 12


def test_two_importers_take_turns_and_one_wins_whole(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    library = Library.open(root)
    with library.connect() as cat:
        add_synthetic_photos(cat, [f"p{i:04d}.jpg" for i in range(300)])
    sources = []
    for name in ("red", "blue"):
        sources.append(tmp_path / f"{name}.csv")
        sources[-1].write_text("path,tags\n" + "".join(f"p{i:04d}.jpg,{name}\n" for i in range(300)))

    procs = [start(EXE, "import", str(root), str(source)) for source in sources]
    for proc in procs:
        assert "imported 300 of 300 rows" in finish(proc)

    with library.connect() as cat:
        assert cat.integrity_ok()
        final = {frozenset(tags) for tags in confirmed_by_path(cat).values()}
    assert final in ({frozenset({"red"})}, {frozenset({"blue"})})


def test_a_writer_that_waits_too_long_gets_a_message_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with Catalogue(path) as holder, Catalogue(path) as waiter:
        waiter.conn.execute("PRAGMA busy_timeout = 100")  # instead of 30 s
        with holder.transaction():
            with pytest.raises(UserError, match=r"c\.sqlite: .*another photo-tagger") as caught:
                settings.set_keywords_enabled(waiter, False)
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        settings.set_keywords_enabled(waiter, False)  # once the other writer is done, it works
        assert not settings.keywords_enabled(holder)
