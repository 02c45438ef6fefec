"""Auto-retrain's count of corrections is kept by the catalogue with every write, and always
equals the full scan it replaced: user-state opinions updated since the active head was
trained, plus photos reviewed since then."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from catalogue_rows import add_photo, catalogue_without_tags, suggest
from training_library import replace_confirmed_tags

from photo_tagger.core import head_versions, tag_admin, tagging
from photo_tagger.core.formats import import_file
from photo_tagger.core.store import heads, opinions
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.tags import restore_snapshot
from photo_tagger.core.tag_names import find_tag
from photo_tagger.core.tagging import ensure_tag

KEY = "efficientnet_lite0:test"
FIXTURES = Path(__file__).parent / "data" / "catalogues"


def scanned(catalogue: Catalogue, backbone_key: str = KEY) -> int:
    """The definition before schema 5: two full scans."""
    since = catalogue.scalar(
        "SELECT created_at FROM heads WHERE active = 1 AND backbone = ?", (backbone_key,)
    ) or 0.0
    tags = catalogue.scalar("SELECT count(*) FROM photo_tags WHERE state != 'suggested' AND updated_at > ?", (since,))
    photos = catalogue.scalar("SELECT count(*) FROM photos WHERE reviewed_at > ?", (since,))
    return int(tags) + int(photos)


def kept(catalogue: Catalogue, backbone_key: str = KEY) -> int:
    return heads.corrections_since_active(catalogue, backbone_key)


def add_head(catalogue: Catalogue, backbone_key: str = KEY) -> int:
    with catalogue.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO heads(backbone, created_at, format_version, tag_names, weights, active)"
            " VALUES (?, ?, 1, '[]', x'00', 0)",
            (backbone_key, time.time()),
        )
    return int(cur.lastrowid or 0)


@pytest.fixture
def catalogue(tmp_path: Path):
    with catalogue_without_tags(tmp_path / "catalogue.sqlite") as cat:
        for name in ("a.jpg", "b.jpg", "c.jpg", "d.jpg"):
            add_photo(cat, name)
        for photo_id in (1, 2, 3, 4):
            for tag, score in (("cat", 0.9), ("dog", 0.4), ("tree", 0.7)):
                suggest(cat, photo_id, tag, score)
        yield cat


def test_each_kind_of_edit_keeps_the_count_equal_to_the_scan(catalogue: Catalogue, tmp_path: Path) -> None:
    cat, dog, tree = (find_tag(catalogue, n) for n in ("cat", "dog", "tree"))
    assert kept(catalogue) == scanned(catalogue) == 0

    steps = [
        lambda: tagging.set_state(catalogue, [1, 2], cat, "confirmed"),
        lambda: tagging.set_state(catalogue, [1], cat, "rejected"),  # the same row again: still one
        lambda: tagging.set_state(catalogue, [2], cat, None),  # back to a suggestion
        lambda: tagging.accept_suggestions(catalogue, [3]),  # confirms and reviews
        lambda: replace_confirmed_tags(catalogue, 4, [dog]),
        lambda: tagging.set_state(catalogue, [1, 2, 3], ensure_tag(catalogue, "Mittens"), "confirmed"),
    ]
    undo = []
    for step in steps:
        undo.append(step())
        assert kept(catalogue) == scanned(catalogue)
    assert kept(catalogue) > 5
    for before in reversed(undo):  # restore_states writes with INSERT OR REPLACE
        if before is not None:
            opinions.restore_states(catalogue, before)
            assert kept(catalogue) == scanned(catalogue)

    merged = tag_admin.merge_tags(catalogue, ["tree"], "cat")
    assert kept(catalogue) == scanned(catalogue)
    restore_snapshot(catalogue, merged)
    assert kept(catalogue) == scanned(catalogue)
    deleted = tag_admin.delete_tag(catalogue, "Mittens")  # its opinions go by cascade
    assert kept(catalogue) == scanned(catalogue)
    restore_snapshot(catalogue, deleted)
    assert kept(catalogue) == scanned(catalogue)

    onehot = tmp_path / "onehot.csv"
    onehot.write_text("path,cat,dog,tree\na.jpg,0,1,0\nb.jpg,1,0,\n", encoding="utf-8")
    import_file(catalogue, tmp_path, onehot)
    assert kept(catalogue) == scanned(catalogue)

    with catalogue.transaction() as conn:  # a photo gone with its opinions
        conn.execute("DELETE FROM photos WHERE id = 3")
    assert kept(catalogue) == scanned(catalogue)
    assert tree != dog


def test_a_one_hot_zero_is_counted_as_a_correction(catalogue: Catalogue, tmp_path: Path) -> None:
    add_head(catalogue)
    head_versions.activate(catalogue, 1, KEY)
    onehot = tmp_path / "onehot.csv"
    onehot.write_text("path,cat\na.jpg,0\n", encoding="utf-8")  # the model suggested cat: now rejected
    import_file(catalogue, tmp_path, onehot)
    since = catalogue.scalar("SELECT created_at FROM heads WHERE id = 1")
    assert catalogue.scalar("SELECT state = 'rejected' AND updated_at > ? FROM photo_tags WHERE photo_id = 1"
                            " AND tag_id = ?", (since, find_tag(catalogue, "cat"))) == 1
    assert kept(catalogue) == scanned(catalogue) == 2  # the rejection, and the photo reviewed


def test_a_training_starts_the_count_again_and_a_rollback_returns_to_it(catalogue: Catalogue) -> None:
    cat = find_tag(catalogue, "cat")
    tagging.set_state(catalogue, [1, 2], cat, "rejected")
    before = kept(catalogue)
    assert before == scanned(catalogue) == 2

    time.sleep(0.01)
    first = add_head(catalogue)
    tagging.set_state(catalogue, [3], cat, "rejected")  # while the head was being stored
    head_versions.activate(catalogue, first, KEY)
    assert kept(catalogue) == scanned(catalogue) == 1
    tagging.set_state(catalogue, [4], cat, "confirmed")
    assert kept(catalogue) == scanned(catalogue) == 2
    assert kept(catalogue, "other:backbone") == scanned(catalogue, "other:backbone") == 4  # none trained there

    head_versions.activate(catalogue, None, KEY, rollback=True)
    assert kept(catalogue) == scanned(catalogue) == 4
    head_versions.activate(catalogue, first, KEY)
    assert kept(catalogue) == scanned(catalogue) == 2
    rows = catalogue.scalar("SELECT count(*) FROM correction_counts")
    assert rows == 2  # since ever, and the active head's: an edit updates no more


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_an_upgraded_catalogue_starts_with_the_scanned_count(version: int, tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    shutil.copy(FIXTURES / f"v{version}.sqlite", path)
    with Catalogue(path) as catalogue:
        for key in ("efficientnet_lite0:abc", KEY):  # the fixture's active head, and no head
            assert kept(catalogue, key) == scanned(catalogue, key)
        tagging.set_state(catalogue, [2], 3, "rejected")
        for key in ("efficientnet_lite0:abc", KEY):
            assert kept(catalogue, key) == scanned(catalogue, key)
