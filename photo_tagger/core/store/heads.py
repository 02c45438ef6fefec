"""Kept heads: the `heads` table, which head is active per backbone, and the correction count
since the active head was trained.

A head is stored as given (serialized weights, tag names, report JSON): turning them into a
`TagHead` or a `TrainReport` is the caller's business, so the store stays below the model code.
"""

from __future__ import annotations

import json
import time

import numpy as np

from photo_tagger.core.store.connection import Catalogue


def add_head(
    catalogue: Catalogue,
    backbone_key: str,
    format_version: int,
    tag_names: list[str],
    weights: bytes,
    report: str | None = None,
    photo_ids: np.ndarray | None = None,
) -> int:
    """Keep a head (inactive) with the ids of the photos it was trained on; returns its id."""
    with catalogue.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO heads(backbone, created_at, format_version, tag_names, weights, report, active, photo_ids)"
            " VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
            (backbone_key, time.time(), format_version, json.dumps(tag_names, ensure_ascii=False), weights, report,
             None if photo_ids is None else np.asarray(photo_ids, np.int64).tobytes()),
        )
        return int(cur.lastrowid or 0)


def trained_photo_ids(catalogue: Catalogue, head_id: int) -> np.ndarray | None:
    """The photos head `head_id` was trained on; None when not recorded (an older head)."""
    blob = catalogue.scalar("SELECT photo_ids FROM heads WHERE id = ?", (head_id,))
    return None if blob is None else np.frombuffer(blob, np.int64)


def report(catalogue: Catalogue, head_id: int) -> str | None:
    """The training report (JSON) kept with head `head_id`."""
    text = catalogue.scalar("SELECT report FROM heads WHERE id = ?", (head_id,))
    return None if text is None else str(text)


def set_report(catalogue: Catalogue, head_id: int, report: str) -> None:
    with catalogue.transaction() as conn:
        conn.execute("UPDATE heads SET report = ? WHERE id = ?", (report, head_id))


def active_head_id(catalogue: Catalogue, backbone_key: str) -> int | None:
    """The head in use for `backbone_key`; None while the starting model (the prior) is."""
    head_id = catalogue.scalar("SELECT max(id) FROM heads WHERE active = 1 AND backbone = ?", (backbone_key,))
    return None if head_id is None else int(head_id)


def active_report(catalogue: Catalogue, backbone_key: str) -> str | None:
    head_id = active_head_id(catalogue, backbone_key)
    return None if head_id is None else report(catalogue, head_id)


def set_active(catalogue: Catalogue, backbone_key: str, head_id: int | None) -> None:
    """Make `head_id` the only active head of the backbone (None: none, the prior is in use)."""
    with catalogue.transaction() as conn:
        conn.execute("UPDATE heads SET active = (id IS ?) WHERE backbone = ?", (head_id, backbone_key))


def head_exists(catalogue: Catalogue, head_id: int, backbone_key: str) -> bool:
    return catalogue.scalar("SELECT count(*) FROM heads WHERE id = ? AND backbone = ?", (head_id, backbone_key)) == 1


def head_ids(catalogue: Catalogue, backbone_key: str) -> set[int]:
    return {int(row[0]) for row in catalogue.query("SELECT id FROM heads WHERE backbone = ?", (backbone_key,))}


def newest_head_before(catalogue: Catalogue, backbone_key: str, head_id: int) -> int | None:
    older = catalogue.scalar("SELECT max(id) FROM heads WHERE backbone = ? AND id < ?", (backbone_key, head_id))
    return None if older is None else int(older)


def weights_up_to(catalogue: Catalogue, backbone_key: str, head_id: int) -> list[tuple[int, bytes]]:
    """(id, serialized weights) of head `head_id` and the older heads of the backbone, newest
    first: the fallbacks when a stored head turns out unreadable."""
    rows = catalogue.query(
        "SELECT id, weights FROM heads WHERE backbone = ? AND id <= ? ORDER BY id DESC", (backbone_key, head_id)
    )
    return [(int(row["id"]), bytes(row["weights"])) for row in rows]


def trained_only_for_other_backbones(catalogue: Catalogue, backbone_key: str) -> bool:
    """True when heads exist, but none for `backbone_key` (a training made before a backbone
    change, which the user may want to redo)."""
    return bool(catalogue.scalar(
        "SELECT EXISTS (SELECT 1 FROM heads WHERE backbone != ?) AND NOT EXISTS"
        " (SELECT 1 FROM heads WHERE backbone = ?)", (backbone_key, backbone_key)))


def corrections_since_active(catalogue: Catalogue, backbone_key: str) -> int:
    """User-set tag rows changed, plus photos reviewed, since the active head of the backbone
    was trained (since ever when none was). One row read: the catalogue's triggers keep the
    count with every write (migration 5)."""
    return int(catalogue.scalar(
        "SELECT n FROM correction_counts"
        " WHERE since = ifnull((SELECT created_at FROM heads WHERE active = 1 AND backbone = ?), 0)",
        (backbone_key,),
    ))
