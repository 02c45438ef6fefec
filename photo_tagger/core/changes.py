"""What a change to the catalogue touched, so that a view refreshes what it shows of that
and nothing else: the photos whose tags or scores changed, the tags that were added,
renamed, moved or re-thresholded, and whether the suggestions now come from another head.
Every op the app runs returns one (see ops.py), as does every tag edit and its undo."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Changes:
    photos: frozenset[int] | None = frozenset()  # None: any photo may have changed
    tags: frozenset[int] | None = frozenset()  # tag ids; None: any tag, or tags were added
    head: bool = False  # another head is active: every score and suggestion may differ

    @classmethod
    def of_photos(cls, photo_ids: Iterable[int], *, new_tags: bool = False) -> Changes:
        """Tag states of these photos; `new_tags`: some tag may have been created for them."""
        return cls(frozenset(photo_ids), None if new_tags else frozenset())

    @classmethod
    def of_everything(cls, *, head: bool = False) -> Changes:
        return cls(None, None, head)

    @property
    def any(self) -> bool:
        return self.head or self.photos is None or self.tags is None or bool(self.photos or self.tags)


NOTHING = Changes()


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """An op's result: what the feature returned (a report, a summary) and what changed."""

    changes: Changes
    value: T
