"""Export a library's tags into XMP sidecars (`photo-tagger export PATH --format xmp`).

Per photo, the sidecar's keywords become: every keyword it holds, exactly as the other
app wrote it (text, path and order), except those whose tag the user rejected on this
photo or took off since it was read or written last time; then the tags the user has
here that the file does not hold yet, under their path here. A keyword is the tag at
exactly its path (case aside: `Nature` is the built-in `nature`, and stays spelt
`Nature`); a synonym or a leaf name never makes it another tag, so no keyword is ever
renamed, moved or merged. A sidecar whose keywords would not change is not rewritten;
a malformed one is reported and left as it is. xmp.py does the XML; this module
decides the keywords.
"""

from __future__ import annotations

import errno
import time
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

from photo_tagger.core.errors import UserError
from photo_tagger.core.formats import ExportOptions, select_photo_tags, vocabulary
from photo_tagger.core.keywords import record_sidecar
from photo_tagger.core.progress import Progress
from photo_tagger.core.sidecar_files import sidecar_for
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.keywords import recorded_sidecars
from photo_tagger.core.store.tags import find_path
from photo_tagger.core.tag_names import TagIndex
from photo_tagger.core.xmp import is_internal, read_sidecar, write_sidecar

KeywordPath = tuple[str, ...]
PROGRESS_EVERY = 20  # photos: a sidecar is a file read and maybe a write each


@dataclass
class SidecarSummary:
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0
    backups: list[Path] = field(default_factory=list)
    skipped_missing: int = 0  # photo files not on disk
    errors: list[str] = field(default_factory=list)  # "FILE: problem", file untouched


def export_sidecars(
    catalogue: Catalogue, root: Path, options: ExportOptions
) -> Generator[Progress, None, SidecarSummary]:
    """Yields progress every `PROGRESS_EVERY` photos; closing it stops between two sidecars."""
    start = time.perf_counter()
    vocab = vocabulary(catalogue, options)
    index = TagIndex(catalogue)
    recorded = {  # every sidecar's: a keyword imported from the raw's IMG.xmp counts too
        photo_id: [path for _, _, paths in state.values() for path in paths]
        for photo_id, state in recorded_sidecars(catalogue).items()
    }
    summary = SidecarSummary()
    read_only: Counter[Path] = Counter()  # folder -> photos skipped: one message per folder, not per photo
    keyword_tag = _KeywordTags(catalogue)
    photos = select_photo_tags(catalogue, options, vocab)
    for done, photo in enumerate(photos):
        if done % PROGRESS_EVERY == 0:
            yield Progress("exporting", done, len(photos), time.perf_counter() - start, errors=len(summary.errors))
        photo_file = root / photo.path
        if not photo_file.is_file():
            summary.skipped_missing += 1
            continue
        dropped = set(photo.rejected_ids)
        for path in recorded.get(photo.photo_id, []):  # read or written last time, not among the tags now
            tag_id = keyword_tag(path)
            if tag_id is not None and tag_id not in photo.tag_ids and tag_id in vocab:
                dropped.add(tag_id)
        try:
            _write_one(catalogue, root, photo.photo_id, photo_file, {t: index.path(t) for t in photo.tag_ids},
                       dropped, keyword_tag, summary)
        except UserError as exc:
            if _is_permission_error(exc):
                read_only[photo_file.parent] += 1
            else:
                summary.errors.append(str(exc))
    summary.errors[:0] = [f"{folder}: cannot write sidecars here (read-only): {n} photo{'' if n == 1 else 's'} skipped"
                          for folder, n in sorted(read_only.items())]
    return summary


def _is_permission_error(exc: BaseException) -> bool:
    cause = exc.__cause__
    return isinstance(cause, OSError) and cause.errno in (errno.EACCES, errno.EPERM, errno.EROFS)


def _write_one(
    catalogue: Catalogue,
    root: Path,
    photo_id: int,
    photo_file: Path,
    ours: dict[int, KeywordPath],
    dropped: set[int],
    keyword_tag: _KeywordTags,
    summary: SidecarSummary,
) -> None:
    """`ours`: the photo's tags to write (id -> path here); `dropped`: tags to take out."""
    target = sidecar_for(photo_file, writing=True)
    existing = read_sidecar(target).paths(internal=True) if target.exists() else []
    keep: list[KeywordPath] = []  # the file's keywords, as the file spells them
    present: dict[int, KeywordPath] = {}
    for path in existing:
        tag_id = None if is_internal(path) else keyword_tag(path)
        if tag_id is not None and tag_id in dropped:
            continue
        keep.append(path)
        if tag_id is not None:
            present[tag_id] = path
    added = _new_keywords({t: p for t, p in ours.items() if t not in present}, list(present.values()))
    final = keep + added
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
    record_sidecar(catalogue, photo_id, root, result.path,
                   [path for tag_id, path in present.items() if tag_id in ours] + added)


def _new_keywords(new: dict[int, KeywordPath], present: list[KeywordPath]) -> list[KeywordPath]:
    """The paths of `new` tags, sorted, without those another new or present keyword's
    path extends: confirming `cat` confirms `animal` too, and `animal|cat` already says
    so (as Lightroom writes a keyword tree)."""
    folded = [_fold(path) for path in [*new.values(), *present]]
    return sorted((path for path in new.values()
                   if not any(len(other) > len(path) and other[: len(path)] == _fold(path) for other in folded)),
                  key=_fold)


def _fold(path: KeywordPath) -> KeywordPath:
    return tuple(part.casefold() for part in path)


def _same(a: list[KeywordPath], b: list[KeywordPath]) -> bool:
    return {_fold(p) for p in a} == {_fold(p) for p in b}


class _KeywordTags:
    """Keyword path -> the tag at exactly that path (case aside), cached; None for a
    keyword no tag is. No synonyms, no leaf-name guesses: `Winter` is never `snow`."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._cache: dict[KeywordPath, int | None] = {}

    def __call__(self, path: KeywordPath) -> int | None:
        key = _fold(path)
        if key not in self._cache:
            self._cache[key] = find_path(self.catalogue, path)
        return self._cache[key]
