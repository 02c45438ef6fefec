"""The tag manager's operations: rename, merge, delete, set a threshold; each undoable.

Each operation runs in one write transaction and returns a `TagSnapshot` of everything
it touched (the tag rows and all their photo_tags rows), and `store.tags.restore_snapshot`
puts that back exactly (undo). The snapshot is read inside the transaction: taken before
it, a write another connection (the indexer) committed while the operation waited for the
write lock would be missing from it, and lost on undo. A renamed tag keeps its id, so its
photos keep it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from photo_tagger.core.errors import UserError
from photo_tagger.core.store import opinions, tags
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.tags import TagSnapshot
from photo_tagger.core.tag_names import existing_tag
from photo_tagger.core.tagging import with_ancestors
from photo_tagger.core.taxonomy import validate_tag_name

# When merging, the user's word beats the model's: confirmed > rejected > suggested.
_RANK = {"confirmed": 3, "rejected": 2, "suggested": 1}


def rename_tag(catalogue: Catalogue, old: str, new: str) -> TagSnapshot:
    """Rename tag `old` to `new` where it stands (a case-only change is allowed).
    Refuses a bad name and a name a sibling has (merge instead)."""
    try:
        clean = validate_tag_name(new)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    with catalogue.transaction():
        tag_id = existing_tag(catalogue, old)
        if tags.sibling_named(catalogue, tag_id, clean) is not None:
            raise UserError(f"a tag {clean!r} already exists there; merge {old.strip()!r} into it instead")
        before = tags.snapshot(catalogue, [tag_id])
        tags.rename(catalogue, tag_id, clean)
    return before


def merge_tags(catalogue: Catalogue, sources: Sequence[str], target: str) -> TagSnapshot:
    """Fold every tag in `sources` into `target` and delete the sources. Per photo the
    strongest opinion wins (confirmed > rejected > suggested; the higher score)."""
    with catalogue.transaction():
        target_id = existing_tag(catalogue, target)
        source_ids = [tid for tid in dict.fromkeys(existing_tag(catalogue, s) for s in sources) if tid != target_id]
        if not source_ids:
            raise UserError("choose at least one other tag to merge")
        if set(source_ids) & set(with_ancestors(catalogue, [target_id])):
            raise UserError("a tag cannot be merged into a tag under it")
        before = tags.snapshot(catalogue, [*source_ids, target_id])
        for source_id in source_ids:
            # The merged tag's words keep meaning the target (import, keywords), and its
            # children move under the target instead of going with it.
            source_name = tags.name_of(catalogue, source_id)
            try:
                tags.merge_into(catalogue, source_id, target_id)
            except tags.ChildNameClash as exc:
                raise UserError(f"{source_name!r} and {target!r} both have a tag of the same name under them;"
                                " merge those first") from exc
        opinions.replace_tag_opinions(catalogue, target_id, _strongest_opinions(before.rows))
    return before


def _strongest_opinions(rows: Iterable[tuple]) -> list[tuple]:
    """Per photo, of photo_tags rows (photo_id, tag_id, state, score, source, updated_at):
    (photo_id, state, score, source) of the strongest opinion."""
    best: dict[int, tuple] = {}
    for row in rows:
        current = best.get(row[0])
        if current is None or (_RANK[row[2]], row[3] or 0.0) > (_RANK[current[2]], current[3] or 0.0):
            best[row[0]] = row
    return [(photo_id, row[2], row[3], row[4]) for photo_id, row in best.items()]


def delete_tag(catalogue: Catalogue, name: str) -> TagSnapshot:
    """Delete tag `name`, the tags under it and every opinion on them; the snapshot
    brings it all back."""
    with catalogue.transaction():
        tag_id = existing_tag(catalogue, name)
        before = tags.snapshot(catalogue, tags.subtree(catalogue, tag_id))
        tags.delete(catalogue, tag_id)
    return before


def set_threshold(catalogue: Catalogue, name: str, threshold: float | None) -> TagSnapshot:
    """The user's threshold for `name` (None: back to the model's)."""
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise UserError(f"a threshold must be between 0 and 1 (exclusive), not {threshold}")
    with catalogue.transaction():
        tag_id = existing_tag(catalogue, name)
        before = tags.snapshot(catalogue, [tag_id])
        tags.set_threshold(catalogue, tag_id, threshold)
    return before
