"""Typed library settings: the only reader and writer of the catalogue's `meta` table.

Each setting has a getter and a setter with a Python type; the stored text (kept as it
always was, so older catalogues read the same) never leaves this module. Setters open
their own transaction, or join the caller's when called inside one.
"""

from __future__ import annotations

import json

from photo_tagger.core.store.connection import Catalogue

_KEYWORDS_READ = "keywords.read"
_TARGET_PRECISION = "training.target_precision"


def _get(catalogue: Catalogue, key: str) -> str | None:
    value = catalogue.scalar("SELECT value FROM meta WHERE key = ?", (key,))
    return None if value is None else str(value)


def _set(catalogue: Catalogue, key: str, value: str) -> None:
    with catalogue.transaction() as conn:
        conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                     (key, value))


def _delete(catalogue: Catalogue, key: str) -> None:
    with catalogue.transaction() as conn:
        conn.execute("DELETE FROM meta WHERE key = ?", (key,))


def keywords_enabled(catalogue: Catalogue) -> bool:
    """Whether indexing reads the keywords embedded in photos and sidecars (on by default)."""
    return _get(catalogue, _KEYWORDS_READ) != "off"


def set_keywords_enabled(catalogue: Catalogue, enabled: bool) -> None:
    _set(catalogue, _KEYWORDS_READ, "on" if enabled else "off")


def target_precision(catalogue: Catalogue) -> float | None:
    """The stored threshold policy: a precision to keep, or None (maximise F1, the default,
    also when the stored text is not a number). The range is `training`'s to check."""
    text = _get(catalogue, _TARGET_PRECISION)
    if text in (None, "", "f1"):
        return None
    try:
        return float(text)
    except ValueError:
        return None


def set_target_precision(catalogue: Catalogue, value: float | None) -> None:
    _set(catalogue, _TARGET_PRECISION, "f1" if value is None else repr(float(value)))


def _history_key(backbone_key: str) -> str:
    return f"head_history:{backbone_key}"


def head_history(catalogue: Catalogue, backbone_key: str) -> list[int] | None:
    """The heads of `backbone_key` in the order they were activated, oldest first; None when
    no activation was ever recorded (a catalogue older than the history)."""
    text = _get(catalogue, _history_key(backbone_key))
    return None if not text else [int(head_id) for head_id in json.loads(text)]


def set_head_history(catalogue: Catalogue, backbone_key: str, history: list[int]) -> None:
    _set(catalogue, _history_key(backbone_key), json.dumps(history))


def _stale_key(backbone_key: str) -> str:
    return f"suggestions_stale:{backbone_key}"


def suggestions_stale(catalogue: Catalogue, backbone_key: str) -> bool:
    """True when a head was activated but re-scoring every photo has not finished."""
    return _get(catalogue, _stale_key(backbone_key)) is not None


def mark_suggestions_stale(catalogue: Catalogue, backbone_key: str) -> None:
    _set(catalogue, _stale_key(backbone_key), "1")


def clear_suggestions_stale(catalogue: Catalogue, backbone_key: str) -> None:
    _delete(catalogue, _stale_key(backbone_key))
