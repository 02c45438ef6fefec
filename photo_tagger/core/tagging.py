"""What the user says about tags: confirm, reject, add, remove, and what that adds up to.

Confirming a tag confirms its ancestors too (`zebra` is a `wild animal` is an `animal`):
a photo of a zebra is a photo of an animal, and the parents stop being asked about.

Every function here writes in one transaction and returns what it replaced, so the GUI
can undo it exactly (`store.opinions.restore_states`). What the states mean is
store/opinions.py's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from photo_tagger.core.store import opinions
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.opinions import TagState
from photo_tagger.core.store.tags import all_labels, parents
from photo_tagger.core.tag_names import resolve_name

USER_STATES = ("confirmed", "rejected")


def ensure_tag(catalogue: Catalogue, name: str, origin: str = "user") -> int:
    """The id of the tag `name` names (a label, a `|`-path or a leaf name, see
    tag_names.py; not a synonym: a name typed as a tag is that tag), created at the path
    it spells if new. Refuses bad names, and a leaf name several tags share."""
    return resolve_name(catalogue, name, origin, synonyms=False)[0]


def with_ancestors(catalogue: Catalogue, tag_ids: Iterable[int]) -> list[int]:
    """`tag_ids` followed by every ancestor not among them. A cycle ends a chain."""
    parent_of = parents(catalogue)
    result = list(dict.fromkeys(tag_ids))
    seen = set(result)
    for tag_id in list(result):
        parent = parent_of.get(tag_id)
        while parent is not None and parent in parent_of and parent not in seen:
            seen.add(parent)
            result.append(parent)
            parent = parent_of.get(parent)
    return result


def set_state(
    catalogue: Catalogue,
    photo_ids: Sequence[int],
    tag_id: int,
    state: str | None,
    source: str = "user",
) -> list[TagState]:
    """Confirm (with its ancestors) or reject `tag_id` on every photo, or (state None) drop
    the user's opinion (a model suggestion comes back at the next scoring). Returns the
    previous rows."""
    if state is not None and state not in USER_STATES:
        raise ValueError(f"state must be one of {USER_STATES} or None, not {state!r}")
    with catalogue.transaction():
        tag_ids = with_ancestors(catalogue, [tag_id]) if state == "confirmed" else [tag_id]
        before = opinions.states(catalogue, photo_ids, tag_ids)
        opinions.set_state(catalogue, [(photo_id, t) for photo_id in photo_ids for t in tag_ids], state, source)
    return before


def accept_suggestions(catalogue: Catalogue, photo_ids: Sequence[int]) -> list[TagState]:
    """Confirm every suggestion at or above its threshold on these photos, and the
    ancestors of each; the photos count as reviewed."""
    with catalogue.transaction():
        before: list[TagState] = []
        for photo_id in photo_ids:
            tag_ids = with_ancestors(catalogue, opinions.suggested_tag_ids(catalogue, photo_id))
            before += opinions.states(catalogue, [photo_id], tag_ids)
            opinions.set_state(catalogue, [(photo_id, tag_id) for tag_id in tag_ids], "confirmed", "user")
        opinions.mark_reviewed(catalogue, photo_ids)
    return before


def effective_tags(catalogue: Catalogue) -> dict[int, tuple[list[str], list[str]]]:
    """photo id -> (effective tags, confirmed tags) by label, each sorted. Effective =
    confirmed, plus unreviewed suggestions at or above their threshold (rejected never count)."""
    label = tag_labels(catalogue)
    result: dict[int, tuple[list[str], list[str]]] = {}
    for photo_id, tag_id, is_confirmed in opinions.effective_opinions(catalogue):
        tags, confirmed = result.setdefault(photo_id, ([], []))
        tags.append(label[tag_id])
        if is_confirmed:
            confirmed.append(label[tag_id])
    for tags, confirmed in result.values():
        tags.sort(key=str.casefold)
        confirmed.sort(key=str.casefold)
    return result


def tag_labels(catalogue: Catalogue) -> dict[int, str]:
    """tag id -> label: its name, or its path where the name is not enough (tag_names.py)."""
    return all_labels(catalogue)
