"""Tags by what people type: a label, a keyword path, a leaf name or a synonym.

A tag is its path (tag_tree.py). Where one word must name it (a CSV cell, `--tag`, the
tag panel, the tag manager) it goes by its *label*: its name when the name alone finds
it, else its whole path `Places|France|Paris`. Text is looked up as: a tag called
exactly that; a `|`-path; a leaf name that only one tag has (shorthand; a root tag of
that name wins, as the name is also a one-level path); a synonym (`kitten` -> cat). A
leaf name several tags share names none of them: `AmbiguousTag` lists the candidates.
"""

from __future__ import annotations

from collections.abc import Iterable

from photo_tagger.core.errors import UserError
from photo_tagger.core.store import tags
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.tag_tree import (
    PATH_SEPARATOR,
    TagPath,
    join_path,
    labels,
    name_finds,
)


class AmbiguousTag(UserError):
    """A leaf name that several tags have; the message names each by its path."""


def split_path(keyword: str, separator: str = PATH_SEPARATOR) -> TagPath:
    """`'Animals|Cat'` -> ('Animals', 'Cat'); empty components are dropped."""
    return tuple(part.strip() for part in keyword.split(separator) if part.strip())


class TagIndex:
    """Every tag's path and label, read once, for looking many names up."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.paths = tags.all_paths(catalogue)
        self.labels = labels(self.paths)  # from the paths just read, not a second read of the tags
        self._named: dict[str, list[int]] = {}
        for tag_id in sorted(self.paths):
            self._named.setdefault(self.paths[tag_id][-1].casefold(), []).append(tag_id)
        self._synonyms = {name.casefold(): tag_id for name, tag_id in tags.synonyms(catalogue).items()}

    def find(self, text: str, *, synonyms: bool = True) -> int | None:
        """The tag `text` names (see the module); None if none; AmbiguousTag if several."""
        clean = text.strip()
        named = self._named.get(clean.casefold(), [])
        if named:
            found = name_finds(self.paths, named)
            if found is None:
                candidates = ", ".join(sorted((join_path(self.paths[t]) for t in named), key=str.casefold))
                raise AmbiguousTag(f"{clean!r} is the name of {len(named)} tags ({candidates}); write its path")
            return found
        parts = split_path(clean)
        if len(parts) > 1:
            return tags.find_path(self.catalogue, parts)
        return self._synonyms.get(clean.casefold()) if synonyms else None

    def label(self, tag_id: int) -> str:
        return self.labels[tag_id]

    def path(self, tag_id: int) -> TagPath:
        return self.paths[tag_id]


def find_tag(catalogue: Catalogue, text: str, *, synonyms: bool = True) -> int | None:
    return TagIndex(catalogue).find(text, synonyms=synonyms)


def existing_tag(catalogue: Catalogue, text: str) -> int:
    """The id of the tag `text` names; UserError if there is none (or several)."""
    tag_id = find_tag(catalogue, text)
    if tag_id is None:
        raise UserError(f"there is no tag {text.strip()!r}")
    return tag_id


def add_synonym(catalogue: Catalogue, tag: str, synonym: str) -> None:
    """Make `synonym` another word for the existing tag `tag`."""
    tag_id = find_tag(catalogue, tag)
    if tag_id is None:
        raise UserError(f"no tag {tag!r}; create it before giving it synonyms")
    try:
        with catalogue.transaction():
            owner = tags.synonym_owner(catalogue, synonym.strip())
            if owner is not None and owner != tag_id:
                raise UserError(f"{synonym!r} is already a synonym of {TagIndex(catalogue).label(owner)!r}")
            if not tags.add_synonym(catalogue, synonym, tag_id):
                raise UserError(f"{synonym!r} is a tag of its own; it cannot also be a synonym")
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def synonyms_of(catalogue: Catalogue, tag: str | int) -> list[str]:
    tag_id = tag if isinstance(tag, int) else find_tag(catalogue, tag)
    return [] if tag_id is None else tags.synonyms_of(catalogue, tag_id)


def lookup_tag(catalogue: Catalogue, name: str) -> tuple[int, str] | None:
    """(id, label) of the tag `name` names (see the module); None if none."""
    index = TagIndex(catalogue)
    tag_id = index.find(name)
    return None if tag_id is None else (tag_id, index.label(tag_id))


def resolve_name(
    catalogue: Catalogue, name: str, origin: str = "import", *, synonyms: bool = True
) -> tuple[int, bool]:
    """(tag id, created) for what a user typed: the tag it names, else a new tag at the
    path it spells. Raises UserError for a name no tag may have."""
    found = find_tag(catalogue, name, synonyms=synonyms)
    if found is not None:
        return found, False
    tag_id, created = resolve_path(catalogue, split_path(name) or (name,), origin)
    return tag_id, bool(created)


def resolve_path(catalogue: Catalogue, path: Iterable[str], origin: str = "import") -> tuple[int, list[str]]:
    """The tag at exactly `path` (a keyword as another app wrote it), created with its
    missing ancestors if new. Returns (id, labels of the tags created)."""
    try:
        tag_id, created = tags.ensure_path(catalogue, tuple(path), origin)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    return tag_id, [join_path(p) for p in created]


def tag_paths(catalogue: Catalogue, names: Iterable[str]) -> dict[str, list[str]]:
    """label (or any name `TagIndex.find` takes) -> the tag's path, root first, for many
    tags at once; a name no tag has maps to itself."""
    index = TagIndex(catalogue)
    by_label = {label.casefold(): tag_id for tag_id, label in index.labels.items()}
    result = {}
    for name in names:
        tag_id = by_label.get(name.casefold())
        if tag_id is None:
            try:
                tag_id = index.find(name)
            except AmbiguousTag:
                tag_id = None
        result[name] = list(index.paths[tag_id]) if tag_id is not None else [name]
    return result
