"""Tag names as other tools write them: synonyms and keyword paths.

A hierarchical keyword (`Animals|Cat` from Lightroom, `Animals/Cat` from digiKam) is a
*path*. In the catalogue a tag is its last component (`Cat`) and `tags.parent` names the
component before it (`Animals`), the same shape as resources/taxonomy.toml; so a tag is
unique by its own name, and export rebuilds the path from the parent chain. Each path
component is looked up by tag name, then by synonym (`kitten` -> cat), before a new
tag is created.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.errors import UserError
from photo_tagger.core.tagging import ensure_tag
from photo_tagger.core.taxonomy import validate_tag_name

# Lightroom's separator; we write paths with it and store them with it.
PATH_SEPARATOR = "|"
MAX_DEPTH = 32  # a parent chain longer than this is a cycle or garbage


def split_path(keyword: str, separator: str = PATH_SEPARATOR) -> tuple[str, ...]:
    """`'Animals|Cat'` -> ('Animals', 'Cat'); empty components are dropped."""
    return tuple(part.strip() for part in keyword.split(separator) if part.strip())


def join_path(path: Sequence[str]) -> str:
    return PATH_SEPARATOR.join(path)


def ensure_synonyms_seeded(catalogue: Catalogue) -> None:
    """Store the default taxonomy's synonyms once per catalogue (new or upgraded)."""
    if catalogue.get_meta("synonyms_seeded"):
        return
    from photo_tagger.core.taxonomy import load_default_taxonomy

    with catalogue.transaction() as conn:
        for tag in load_default_taxonomy().tags:
            row = conn.execute("SELECT id FROM tags WHERE name = ?", (tag.name,)).fetchone()
            if row is None:
                continue
            for synonym in tag.synonyms:
                _insert_synonym(conn, synonym, int(row[0]))
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('synonyms_seeded', '1')")


def _insert_synonym(conn: sqlite3.Connection, synonym: str, tag_id: int) -> bool:
    name = validate_tag_name(synonym)
    if conn.execute("SELECT 1 FROM tags WHERE name = ?", (name,)).fetchone():
        return False  # a real tag of that name wins; never shadow it
    conn.execute("INSERT OR IGNORE INTO tag_synonyms(name, tag_id) VALUES (?, ?)", (name, tag_id))
    return True


def add_synonym(catalogue: Catalogue, tag: str, synonym: str) -> None:
    """Make `synonym` another word for the existing tag `tag`."""
    ensure_synonyms_seeded(catalogue)
    tag_id = catalogue.scalar("SELECT id FROM tags WHERE name = ?", (tag.strip(),))
    if tag_id is None:
        raise UserError(f"no tag {tag!r}; create it before giving it synonyms")
    try:
        with catalogue.transaction() as conn:
            owner = conn.execute(
                "SELECT t.name FROM tag_synonyms s JOIN tags t ON t.id = s.tag_id WHERE s.name = ?",
                (synonym.strip(),),
            ).fetchone()
            if owner is not None and owner[0].casefold() != tag.strip().casefold():
                raise UserError(f"{synonym!r} is already a synonym of {owner[0]!r}")
            if not _insert_synonym(conn, synonym, int(tag_id)):
                raise UserError(f"{synonym!r} is a tag of its own; it cannot also be a synonym")
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def remove_synonym(catalogue: Catalogue, synonym: str) -> None:
    with catalogue.transaction() as conn:
        conn.execute("DELETE FROM tag_synonyms WHERE name = ?", (synonym.strip(),))


def synonyms_of(catalogue: Catalogue, tag: str) -> list[str]:
    rows = catalogue.query(
        "SELECT s.name FROM tag_synonyms s JOIN tags t ON t.id = s.tag_id WHERE t.name = ?"
        " ORDER BY s.name COLLATE NOCASE",
        (tag.strip(),),
    )
    return [row[0] for row in rows]


def lookup_tag(catalogue: Catalogue, name: str) -> tuple[int, str] | None:
    """(id, name) of the tag called `name` or having it as a synonym; None if neither."""
    ensure_synonyms_seeded(catalogue)
    clean = name.strip()
    row = catalogue.query("SELECT id, name FROM tags WHERE name = ?", (clean,))
    if not row:
        row = catalogue.query(
            "SELECT t.id, t.name FROM tag_synonyms s JOIN tags t ON t.id = s.tag_id WHERE s.name = ?",
            (clean,),
        )
    return (int(row[0][0]), str(row[0][1])) if row else None


def resolve_name(catalogue: Catalogue, name: str, origin: str = "import") -> tuple[int, bool]:
    """(tag id, created) for a flat keyword: the tag, the tag it is a synonym of, or a new
    tag. Raises UserError for a name no tag may have."""
    found = lookup_tag(catalogue, name)
    if found is not None:
        return found[0], False
    return ensure_tag(catalogue, name, origin=origin), True


def resolve_path(catalogue: Catalogue, path: Sequence[str], origin: str = "import") -> tuple[int, list[str]]:
    """The tag id of the last component of a keyword path, creating missing tags along it
    with their parent set. An existing tag keeps the parent it has; one without a parent
    gets the path's (unless that would make a cycle). Returns (id, names created)."""
    if not path:
        raise UserError("empty keyword")
    created: list[str] = []
    parent_name: str | None = None
    tag_id = -1
    for component in path[:MAX_DEPTH]:
        tag_id, new = resolve_name(catalogue, component, origin)
        name = str(catalogue.scalar("SELECT name FROM tags WHERE id = ?", (tag_id,)))
        if new:
            created.append(name)
        if parent_name is not None and parent_name.casefold() != name.casefold():
            _adopt_parent(catalogue, tag_id, name, parent_name)
        parent_name = name
    return tag_id, created


def _adopt_parent(catalogue: Catalogue, tag_id: int, name: str, parent: str) -> None:
    if catalogue.scalar("SELECT parent FROM tags WHERE id = ?", (tag_id,)) is not None:
        return
    if any(ancestor.casefold() == name.casefold() for ancestor in tag_path(catalogue, parent)):
        return  # parent is already below this tag: adopting it would make a cycle
    with catalogue.transaction() as conn:
        conn.execute("UPDATE tags SET parent = ? WHERE id = ?", (parent, tag_id))


def tag_path(catalogue: Catalogue, name: str) -> list[str]:
    """['Animals', 'Cat'] for tag Cat whose parent is Animals."""
    return tag_paths(catalogue, [name])[name]


def tag_paths(catalogue: Catalogue, names: Iterable[str]) -> dict[str, list[str]]:
    """tag name -> its path (root first), for many tags with one query. A cycle or a
    parent that is not a tag ends the chain."""
    rows = catalogue.query("SELECT name, parent FROM tags")
    parents = {name.casefold(): parent for name, parent in rows}
    proper = {name.casefold(): name for name, _ in rows}
    result = {}
    for name in names:
        path = [proper.get(name.casefold(), name)]
        seen = {name.casefold()}
        parent = parents.get(name.casefold())
        while parent is not None and parent.casefold() in proper and parent.casefold() not in seen:
            if len(path) >= MAX_DEPTH:
                break
            path.append(proper[parent.casefold()])
            seen.add(parent.casefold())
            parent = parents.get(parent.casefold())
        result[name] = path[::-1]
    return result
