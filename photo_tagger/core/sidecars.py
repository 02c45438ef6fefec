"""Export a library's tags into XMP sidecars (`photo-tagger export PATH --format xmp`).

Per photo, the sidecar's keywords become: the exported tags (their full paths), plus the
keywords already in the sidecar that we have no say on (unknown to the catalogue, or
tags outside `--tag`), minus keywords whose tag the user rejected on this photo and
keywords we wrote or imported from it last time that are no longer among the photo's
tags. A
sidecar whose keywords would not change is not rewritten; a malformed one is reported
and left as it is. xmp.py does the XML; this module decides the keywords.
"""

from __future__ import annotations

import errno
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.errors import UserError
from photo_tagger.core.formats import ExportOptions, select_photo_tags, vocabulary
from photo_tagger.core.keywords import record_sidecar, recorded_sidecars
from photo_tagger.core.sidecar_files import sidecar_for
from photo_tagger.core.tag_names import ensure_synonyms_seeded, lookup_tag, tag_paths
from photo_tagger.core.xmp import is_internal, read_sidecar, write_sidecar

KeywordPath = tuple[str, ...]


@dataclass
class SidecarSummary:
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0
    backups: list[Path] = field(default_factory=list)
    skipped_missing: int = 0  # photo files not on disk
    errors: list[str] = field(default_factory=list)  # "FILE: problem", file untouched


def export_sidecars(catalogue: Catalogue, root: Path, options: ExportOptions) -> SidecarSummary:
    ensure_synonyms_seeded(catalogue)
    vocab = vocabulary(catalogue, options)
    restricted = {name.casefold() for name in vocab} if options.tags else None
    paths = tag_paths(catalogue, vocab)
    recorded = {  # every sidecar's: a keyword imported from the raw's IMG.xmp counts too
        photo_id: [path for _, _, paths in state.values() for path in paths]
        for photo_id, state in recorded_sidecars(catalogue).items()
    }
    summary = SidecarSummary()
    read_only: Counter[Path] = Counter()  # folder -> photos skipped: one message per folder, not per photo
    resolver = _Resolver(catalogue)
    for photo in select_photo_tags(catalogue, options, vocab):
        photo_file = root / photo.path
        if not photo_file.is_file():
            summary.skipped_missing += 1
            continue
        ours = _deepest({resolver.id(name): tuple(paths[name]) for name in photo.tags})
        dropped = {resolver.id(name) for name in photo.rejected}
        for path in recorded.get(photo.photo_id, []):
            tag_id = resolver.id(path[-1])
            in_scope = restricted is None or resolver.name(path[-1]).casefold() in restricted
            if tag_id is not None and tag_id not in ours and in_scope:
                dropped.add(tag_id)
        try:
            _write_one(catalogue, root, photo.photo_id, photo_file, ours, dropped, resolver, summary)
        except UserError as exc:
            if _is_permission_error(exc):
                read_only[photo_file.parent] += 1
            else:
                summary.errors.append(str(exc))
    summary.errors[:0] = [f"{folder}: cannot write sidecars here (read-only): {n} photo{'' if n == 1 else 's'} skipped"
                          for folder, n in sorted(read_only.items())]
    return summary


def _deepest(ours: dict[int | None, KeywordPath]) -> dict[int | None, KeywordPath]:
    """Without the tags whose path another tag's path extends: confirming `cat` confirms
    `animal` too, and `animal|cat` already says so (as Lightroom writes a keyword tree)."""
    folded = {tag_id: tuple(part.casefold() for part in path) for tag_id, path in ours.items()}
    longer = list(folded.values())
    return {tag_id: path for tag_id, path in ours.items()
            if not any(len(other) > len(folded[tag_id]) and other[: len(folded[tag_id])] == folded[tag_id]
                       for other in longer)}


def _is_permission_error(exc: BaseException) -> bool:
    cause = exc.__cause__
    return isinstance(cause, OSError) and cause.errno in (errno.EACCES, errno.EPERM, errno.EROFS)


def _write_one(
    catalogue: Catalogue,
    root: Path,
    photo_id: int,
    photo_file: Path,
    ours: dict[int | None, KeywordPath],
    dropped: set[int | None],
    resolver: _Resolver,
    summary: SidecarSummary,
) -> None:
    target = sidecar_for(photo_file, writing=True)
    existing = read_sidecar(target).paths(internal=True) if target.exists() else []
    keep = []
    for path in existing:
        tag_id = None if is_internal(path) else resolver.id(path[-1])
        if tag_id is None or (tag_id not in ours and tag_id not in dropped):
            keep.append(path)
    final = sorted(ours.values(), key=lambda p: [part.casefold() for part in p]) + keep
    if not target.exists() and not final:
        return
    if target.exists() and _same(existing, final):
        summary.unchanged += 1
        return
    result = write_sidecar(photo_file, final)
    summary.written.append(result.path)
    if result.backup is not None:
        summary.backups.append(result.backup)
    # Only our own tags count as "written by us": a keyword kept from another app is
    # still new to the catalogue, and comes in when the sidecar is next read.
    record_sidecar(catalogue, photo_id, root, result.path, list(ours.values()))


def _same(a: list[KeywordPath], b: list[KeywordPath]) -> bool:
    def key(paths: list[KeywordPath]) -> set[tuple[str, ...]]:
        return {tuple(part.casefold() for part in p) for p in paths}

    return key(a) == key(b)


class _Resolver:
    """Keyword -> tag id (by name or synonym), cached; None for a keyword no tag has."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._cache: dict[str, tuple[int, str] | None] = {}

    def _lookup(self, name: str) -> tuple[int, str] | None:
        key = name.casefold()
        if key not in self._cache:
            self._cache[key] = lookup_tag(self.catalogue, name)
        return self._cache[key]

    def id(self, name: str) -> int | None:
        found = self._lookup(name)
        return None if found is None else found[0]

    def name(self, name: str) -> str:
        found = self._lookup(name)
        return name if found is None else found[1]
