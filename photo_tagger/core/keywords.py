"""Keywords a photo already has, in the file (XMP packet, IPTC) or in its XMP sidecar,
brought in as confirmed tags (source 'keywords') when a library is indexed.

Rules: a keyword never overrides what the user said in the app (a confirmed or rejected
tag stays as it is; only an unreviewed suggestion is promoted). Each source (the
embedded keywords, each sidecar: `IMG.JPG.xmp` and the raw's `IMG.xmp`) is remembered
in `keyword_sources` with its size, mtime and keywords, so a source is read again only
when it changed and only keywords added since are applied; our own sidecar writes are
recorded there too and never come back as "new" keywords. Reading is on by default;
`store.settings.set_keywords_enabled` (the library setting) turns it off.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from PIL import Image, IptcImagePlugin, UnidentifiedImageError

from photo_tagger.core.errors import UserError
from photo_tagger.core.sidecar_files import folder_names, sidecar_files
from photo_tagger.core.store import keywords as keyword_store
from photo_tagger.core.store import opinions, photos
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.keywords import KeywordPath, SourceState
from photo_tagger.core.tag_names import resolve_path
from photo_tagger.core.tag_tree import join_path
from photo_tagger.core.xmp import XmpError, XmpKeywords, dedupe_paths, parse_xmp, read_sidecar

log = logging.getLogger(__name__)

SOURCE = "keywords"  # photo_tags.source of tags that came from keywords
IPTC_KEYWORDS = (2, 25)
IPTC_CHARSET = (1, 90)
IPTC_UTF8 = b"\x1b%G"


@dataclass(frozen=True)
class KeywordSource:
    """One source of keywords as found now: the photo file or its sidecar."""

    kind: str  # 'embedded' or 'sidecar'
    file: str  # library-relative path of the file read
    size: int
    mtime_ns: int
    paths: tuple[KeywordPath, ...] = ()
    error: str | None = None  # unreadable: recorded (not re-read until it changes), not applied


@dataclass
class KeywordResult:
    applied: int = 0  # (photo, tag) pairs confirmed from keywords
    created_tags: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# --- reading (runs in the decode threads; no catalogue access) -------------------------


def embedded_paths(path: Path) -> list[KeywordPath]:
    """Keywords inside an image file: its XMP packet and IPTC Keywords. Pillow parses
    only the headers here, no pixels. Raises XmpError for an unreadable packet."""
    try:
        with Image.open(path) as image:
            packet = image.info.get("xmp")
            iptc = IptcImagePlugin.getiptcinfo(image) or {}
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise XmpError(f"{path}: cannot read embedded metadata ({exc})") from exc
    found = parse_xmp(packet, f"{path} (embedded XMP)") if packet else XmpKeywords()
    iptc_words = _iptc_keywords(iptc)
    return XmpKeywords(tuple(dict.fromkeys([*found.subjects, *iptc_words])), found.hierarchical).paths()


def _iptc_keywords(iptc: dict) -> list[str]:
    raw = iptc.get(IPTC_KEYWORDS) or []
    values = raw if isinstance(raw, list) else [raw]
    charset = iptc.get(IPTC_CHARSET)
    utf8 = (charset[0] if isinstance(charset, list) and charset else charset) == IPTC_UTF8
    words = []
    for value in values:
        text = decode_iptc(value, utf8=utf8)
        if text.strip():
            words.append(text.strip())
    return words


def decode_iptc(value: bytes, *, utf8: bool = False) -> str:
    """IPTC text as exiftool reads it. 1:90 CodedCharacterSet `ESC % G` declares UTF-8;
    without it: UTF-8 when the bytes are valid UTF-8, else a legacy 8-bit guess, Mac Roman
    when a byte falls in 0x80-0x9F (control characters in Latin-1, letters such as
    0x97 'ó' and 0x92 'í' in Mac Roman, what old Mac software wrote), else Latin-1."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        if utf8:
            return value.decode("utf-8", errors="replace")
    if any(0x80 <= byte <= 0x9F for byte in value):
        return value.decode("mac_roman")
    return value.decode("latin-1")


def read_sources(root: Path, rel_path: str, *, embedded: bool = True) -> list[KeywordSource]:
    """The photo's keyword sources as they are now (errors captured, never raised)."""
    photo = root / rel_path
    sources = []
    if embedded:
        sources.append(_read_source("embedded", photo, rel_path, embedded_paths))
    for sidecar in sidecar_files(photo.name, folder_names(photo.parent)):
        rel_sidecar = str(PurePosixPath(rel_path).with_name(sidecar))
        sources.append(_read_source("sidecar", photo.parent / sidecar, rel_sidecar, lambda p: read_sidecar(p).paths()))
    return sources


def _read_source(kind: str, path: Path, rel: str, reader: Callable[[Path], list[KeywordPath]]) -> KeywordSource:
    try:
        st = path.stat()
    except OSError as exc:
        return KeywordSource(kind, rel, 0, 0, error=f"{path}: cannot read ({exc.strerror})")
    try:
        return KeywordSource(kind, rel, st.st_size, st.st_mtime_ns, tuple(reader(path)))
    except UserError as exc:
        return KeywordSource(kind, rel, st.st_size, st.st_mtime_ns, error=str(exc))
    except Exception as exc:  # a metadata bug must not cost the photo
        log.exception("%s: unexpected error reading keywords", path)
        return KeywordSource(kind, rel, st.st_size, st.st_mtime_ns, error=f"{path}: {type(exc).__name__}: {exc}")


# --- applying (catalogue writer) ------------------------------------------------------


def apply_sources(
    catalogue: Catalogue,
    photo_id: int,
    sources: Sequence[KeywordSource],
    result: KeywordResult,
    *,
    forget_sidecar: bool = True,
) -> None:
    """Apply what changed in `sources` to the photo (one transaction, joins an outer one).
    With `forget_sidecar`, a sidecar that is gone is forgotten."""
    with catalogue.transaction():
        previous = keyword_store.recorded_sources(catalogue, photo_id)
        old_sidecars = previous.get("sidecar", {})
        new_sidecars = {} if forget_sidecar else dict(old_sidecars)
        for source in sources:
            if source.kind == "sidecar":
                old = old_sidecars.get(source.file)
                new_sidecars[source.file] = _apply_source(catalogue, photo_id, source, old, result)
                continue
            old = None
            for file, (size, mtime_ns, paths) in previous.get(source.kind, {}).items():
                # another file (the photo moved): re-read, but what it held is known
                old = (size, mtime_ns, paths) if file == source.file else (-1, -1, paths)
            state = _apply_source(catalogue, photo_id, source, old, result)
            if state != old:
                keyword_store.record_embedded(catalogue, photo_id, source.file, state)
        if new_sidecars != old_sidecars:
            keyword_store.record_sidecars(catalogue, photo_id, new_sidecars)


def _apply_source(
    catalogue: Catalogue, photo_id: int, source: KeywordSource, old: SourceState | None, result: KeywordResult
) -> SourceState:
    """Confirm the keywords `source` gained since `old` (its state when last read); its state now."""
    if old is not None and (old[0], old[1]) == (source.size, source.mtime_ns):
        return old
    known = old[2] if old is not None else []
    if source.error is not None:
        result.warnings.append(source.error)
        return (source.size, source.mtime_ns, known)  # keep what we knew; re-read once the file changes
    paths = list(source.paths)
    _confirm_new(catalogue, photo_id, paths, known, result)
    return (source.size, source.mtime_ns, paths)


def _confirm_new(
    catalogue: Catalogue,
    photo_id: int,
    paths: Iterable[KeywordPath],
    known: Iterable[KeywordPath],
    result: KeywordResult,
) -> None:
    seen = {tuple(part.casefold() for part in p) for p in known}
    tag_ids = []
    for path in dedupe_paths(paths):
        if tuple(part.casefold() for part in path) in seen:
            continue
        try:
            tag_id, created = resolve_path(catalogue, path, origin="import")
        except UserError as exc:
            result.warnings.append(f"keyword {join_path(path)!r}: {exc}")
            continue
        result.created_tags.extend(created)
        tag_ids.append(tag_id)
    result.applied += opinions.confirm_unanswered(catalogue, photo_id, tag_ids, SOURCE)


def record_sidecar(
    catalogue: Catalogue, photo_id: int, root: Path, sidecar: Path, paths: Sequence[KeywordPath]
) -> None:
    """Remember a sidecar we wrote as already read, so indexing does not import our own
    tags (model suggestions included) back as confirmed keywords. The photo's other
    sidecars stay as they were read: what another app adds to them later still counts."""
    st = sidecar.stat()
    with catalogue.transaction():
        state = keyword_store.recorded_sources(catalogue, photo_id).get("sidecar", {})
        state[sidecar.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns, [tuple(p) for p in paths])
        keyword_store.record_sidecars(catalogue, photo_id, state)


def sync_keywords(catalogue: Catalogue, root: Path) -> KeywordResult:
    """Read the sources of indexed photos that are new or changed since last time: a
    sidecar added, edited or removed, or a photo never read (reading was off). One
    listing per folder; only folders holding a sidecar, now or last time, look further,
    so an unchanged library of 100k photos costs a few SQL scans and the listings."""
    result = KeywordResult()
    todo = photos.photos_never_read(catalogue)
    recorded = {
        photo_id: {file: (size, mtime_ns) for file, (size, mtime_ns, _) in state.items()}
        for photo_id, state in keyword_store.recorded_sidecars(catalogue).items()
    }
    recorded_folders = {file.rpartition("/")[0] for state in recorded.values() for file in state}
    for prefix in photos.photo_folders(catalogue):
        folder = prefix.rstrip("/")
        listing = _sidecar_listing(root / folder)
        if not listing and folder not in recorded_folders:
            continue
        names = set(listing)
        for photo_id, rel in photos.photos_in_folder(catalogue, prefix):
            sidecars = sidecar_files(rel[len(prefix) :], names) if names else []
            now_state = {prefix + name: listing[name] for name in sidecars}
            if recorded.get(photo_id, {}) != now_state:
                todo[photo_id] = rel
    for photo_id, rel in sorted(todo.items(), key=lambda item: item[1]):
        embedded = not keyword_store.embedded_read(catalogue, photo_id)
        apply_sources(catalogue, photo_id, read_sources(root, rel, embedded=embedded), result)
    return result


def _sidecar_listing(folder: Path) -> dict[str, tuple[int, int]]:
    listing = {}
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.casefold().endswith(".xmp") and entry.is_file():
                    st = entry.stat()
                    listing[entry.name] = (st.st_size, st.st_mtime_ns)
    except OSError:
        pass
    return listing
