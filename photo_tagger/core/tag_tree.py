"""Tags as a tree: a tag is its path, not its leaf name.

`tags.parent_id` points at the parent tag and a name is unique among its siblings (case
aside), so `People|Paris` and `Places|France|Paris` are two tags. A keyword read from a
photo or sidecar becomes the tag at exactly its path, spelt as the other app wrote it
when it is new; a path equal to an existing tag's path case-insensitively IS that tag
(the file's own text is what write-back keeps, see sidecars.py).

Linking: a new tag whose name or leaf is a built-in (taxonomy) tag's name or synonym
(`Winter` -> snow, a flat `desk` -> furniture|desk) gets `link_id` = that built-in tag.
A link never renames, moves or merges anything: the built-in tag learns from the
linked tag's confirmations and rejections (training_data.py), and filtering by the
built-in tag finds photos with a linked tag too (browse.py).

This module is the paths' and labels' logic; the statements on the tags table live in
store/tags.py.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

PATH_SEPARATOR = "|"  # Lightroom's; paths are written and typed with it
MAX_DEPTH = 32  # a parent chain longer than this is a cycle or garbage

TagPath = tuple[str, ...]


def join_path(path: Sequence[str]) -> str:
    return PATH_SEPARATOR.join(path)


# Paths and labels are worked out in Python from the whole tags table, which every key press
# asked for several times (~0.4 ms each at 200 tags); the table's rows themselves are the cache
# key (store/tags.py reads them), so a rename, move or new tag anywhere is seen at once.
@functools.lru_cache(maxsize=8)
def paths_from_rows(rows: tuple[tuple[int, str, int | None], ...]) -> dict[int, TagPath]:
    """Every tag's path, root first, from (id, name, parent id) rows. A cycle or a
    dangling parent ends a chain."""
    names = {tag_id: name for tag_id, name, _ in rows}
    parents = {tag_id: parent for tag_id, _, parent in rows}
    result = {}
    for tag_id in names:
        chain = [tag_id]
        parent = parents[tag_id]
        while parent in names and parent not in chain and len(chain) < MAX_DEPTH:
            chain.append(parent)
            parent = parents[parent]
        result[tag_id] = tuple(names[t] for t in reversed(chain))
    return result


@functools.lru_cache(maxsize=8)
def labels_from_rows(rows: tuple[tuple[int, str, int | None], ...]) -> dict[int, str]:
    return labels(paths_from_rows(rows))


def labels(paths: dict[int, TagPath]) -> dict[int, str]:
    """What a tag is called where one name must do (CSV cells, `--tag`, the tag panel):
    its name when the name alone finds it (see `name_finds`), else its whole path
    `Places|France|Paris`. Both resolve back to the tag."""
    by_name: dict[str, list[int]] = {}
    for tag_id, path in paths.items():
        by_name.setdefault(path[-1].casefold(), []).append(tag_id)
    return {tag_id: path[-1] if name_finds(paths, by_name[path[-1].casefold()]) == tag_id else join_path(path)
            for tag_id, path in paths.items()}


def name_finds(paths: dict[int, TagPath], named: Sequence[int]) -> int | None:
    """Which of the tags sharing a name the name alone means: the root tag of that name
    (a name is a one-level path first), else the only one; None when it is ambiguous."""
    roots = [tag_id for tag_id in named if len(paths[tag_id]) == 1]
    if roots:
        return roots[0]
    return named[0] if len(named) == 1 else None
