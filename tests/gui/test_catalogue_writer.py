"""Tag edits are committed by the writer thread: the GUI thread never waits for a lock or
the disk, edits land in the order they were made, and closing writes what is queued."""

from __future__ import annotations

import sqlite3
import threading
import time

from gui.helpers import select, settle, tags_of


def hold_write_lock(window, seconds: float) -> threading.Thread:
    """Another process's long write (an indexer batch, a CLI import), in a thread."""
    path = window.session.library.catalogue_path
    locked = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(seconds)
        other.execute("COMMIT")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(10)
    return thread


def test_edits_do_not_wait_for_another_writer_and_land_in_order(window) -> None:
    ids = select(window, "cat.jpg")
    holder = hold_write_lock(window, 1.5)
    start = time.perf_counter()
    assert window.session.confirm_on_all(ids, "Mittens")
    assert window.session.confirm_on_all(ids, "sofa cushion")
    mittens = window.session.catalogue.scalar("SELECT id FROM tags WHERE name = 'Mittens'")
    assert time.perf_counter() - start < 0.5  # queued, not written: the lock is still held
    assert mittens is None and window.session.writer.busy
    holder.join()
    settle(window)
    tags = tags_of(window, "cat.jpg")
    assert {"Mittens", "sofa cushion"} <= tags["confirmed"]
    assert window.session.undo_stack.count() == 2
    window.session.undo_stack.undo()  # undo goes through the writer too, after the edits
    settle(window)
    assert "sofa cushion" not in tags_of(window, "cat.jpg")["confirmed"]
    assert "Mittens" in tags_of(window, "cat.jpg")["confirmed"]


def test_closing_the_window_writes_the_queued_edits(window) -> None:
    ids = select(window, "coffee.jpg")
    path = window.session.library.catalogue_path
    holder = hold_write_lock(window, 0.8)
    assert window.session.confirm_on_all(ids, "Espresso")
    window.close()  # waits for the lock, then commits
    holder.join()
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    state = reader.execute(
        "SELECT pt.state FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id"
        " WHERE t.name = 'Espresso' AND pt.photo_id = ?", (ids[0],)).fetchone()
    reader.close()
    assert state == ("confirmed",)


def test_a_refused_tag_name_is_a_message_and_nothing_is_queued(window) -> None:
    ids = select(window, "cat.jpg")
    messages: list[str] = []
    window.session.error.connect(messages.append)
    assert not window.session.confirm_on_all(ids, "   ")
    assert messages and not window.session.writer.busy and window.session.undo_stack.count() == 0
