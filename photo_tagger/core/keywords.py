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

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from PIL import Image, IptcImagePlugin, UnidentifiedImageError

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.errors import UserError
from photo_tagger.core.sidecar_files import folder_names, sidecar_files
from photo_tagger.core.tag_names import resolve_path
from photo_tagger.core.tag_tree import join_path
from photo_tagger.core.xmp import XmpError, XmpKeywords, dedupe_paths, parse_xmp, read_sidecar

log = logging.getLogger(__name__)

SOURCE = "keywords"  # photo_tags.source of tags that came from keywords
IPTC_KEYWORDS = (2, 25)
IPTC_CHARSET = (1, 90)
IPTC_UTF8 = b"\x1b%G"

KeywordPath = tuple[str, ...]


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


# A photo's sidecars (`IMG.JPG.xmp` and the raw's `IMG.xmp`) share its one 'sidecar' row:
# `keywords` holds {file: [size, mtime_ns, paths]}; `file`, `size` and `mtime_ns` repeat
# the first file's. A row from before (a JSON list) describes its `file` alone.
SourceState = tuple[int, int, list[KeywordPath]]  # size, mtime_ns, keywords then


def _sidecar_state(row: Sequence) -> dict[str, SourceState]:
    file, size, mtime_ns, keywords = row
    data = json.loads(keywords)
    if isinstance(data, list):
        return {file: (size, mtime_ns, [tuple(p) for p in data])}
    return {name: (s, m, [tuple(p) for p in paths]) for name, (s, m, paths) in data.items()}


def recorded_sidecars(catalogue: Catalogue) -> dict[int, dict[str, SourceState]]:
    """Per photo, its sidecars as last read or written."""
    rows = catalogue.query(
        "SELECT photo_id, file, size, mtime_ns, keywords FROM keyword_sources WHERE kind = 'sidecar'"
    )
    return {row[0]: _sidecar_state(row[1:]) for row in rows}


def _store_sidecars(catalogue: Catalogue, photo_id: int, state: dict[str, SourceState], now: float) -> None:
    if not state:
        catalogue.conn.execute("DELETE FROM keyword_sources WHERE photo_id = ? AND kind = 'sidecar'", (photo_id,))
        return
    first = sorted(state)[0]
    data = {name: [s, m, [list(p) for p in paths]] for name, (s, m, paths) in sorted(state.items())}
    catalogue.conn.execute(
        "INSERT OR REPLACE INTO keyword_sources(photo_id, kind, file, size, mtime_ns, keywords, read_at)"
        " VALUES (?, 'sidecar', ?, ?, ?, ?, ?)",
        (photo_id, first, state[first][0], state[first][1], json.dumps(data, ensure_ascii=False), now),
    )


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
    previous = {
        row["kind"]: row
        for row in catalogue.query(
            "SELECT kind, file, size, mtime_ns, keywords FROM keyword_sources WHERE photo_id = ?", (photo_id,)
        )
    }
    old_sidecars = _sidecar_state(tuple(previous["sidecar"])[1:]) if "sidecar" in previous else {}
    new_sidecars = {} if forget_sidecar else dict(old_sidecars)
    now = time.time()
    with catalogue.transaction() as conn:
        for source in sources:
            if source.kind == "sidecar":
                old = old_sidecars.get(source.file)
                new_sidecars[source.file] = _apply_source(catalogue, photo_id, source, old, result)
                continue
            row = previous.get(source.kind)
            old = None
            if row is not None:  # another file (the photo moved): re-read, but what it held is known
                size, mtime_ns, paths = _sidecar_state(tuple(row)[1:])[row["file"]]
                old = (size, mtime_ns, paths) if row["file"] == source.file else (-1, -1, paths)
            size, mtime_ns, paths = _apply_source(catalogue, photo_id, source, old, result)
            if (size, mtime_ns, paths) != old:
                conn.execute(
                    "INSERT OR REPLACE INTO keyword_sources(photo_id, kind, file, size, mtime_ns, keywords, read_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (photo_id, source.kind, source.file, size, mtime_ns,
                     json.dumps([list(p) for p in paths], ensure_ascii=False), now),
                )
        if new_sidecars != old_sidecars:
            _store_sidecars(catalogue, photo_id, new_sidecars, now)


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
    now = time.time()
    for path in dedupe_paths(paths):
        if tuple(part.casefold() for part in path) in seen:
            continue
        try:
            tag_id, created = resolve_path(catalogue, path, origin="import")
        except UserError as exc:
            result.warnings.append(f"keyword {join_path(path)!r}: {exc}")
            continue
        result.created_tags.extend(created)
        cur = catalogue.conn.execute(
            "INSERT INTO photo_tags(photo_id, tag_id, state, source, updated_at)"
            " VALUES (?, ?, 'confirmed', ?, ?) ON CONFLICT(photo_id, tag_id) DO UPDATE SET"
            " state = 'confirmed', source = excluded.source, updated_at = excluded.updated_at"
            " WHERE photo_tags.state = 'suggested'",
            (photo_id, tag_id, SOURCE, now),
        )
        result.applied += cur.rowcount


def record_sidecar(
    catalogue: Catalogue, photo_id: int, root: Path, sidecar: Path, paths: Sequence[KeywordPath]
) -> None:
    """Remember a sidecar we wrote as already read, so indexing does not import our own
    tags (model suggestions included) back as confirmed keywords. The photo's other
    sidecars stay as they were read: what another app adds to them later still counts."""
    st = sidecar.stat()
    with catalogue.transaction():
        row = catalogue.query(
            "SELECT file, size, mtime_ns, keywords FROM keyword_sources WHERE photo_id = ? AND kind = 'sidecar'",
            (photo_id,),
        )
        state = _sidecar_state(tuple(row[0])) if row else {}
        state[sidecar.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns, [tuple(p) for p in paths])
        _store_sidecars(catalogue, photo_id, state, time.time())


def sync_keywords(catalogue: Catalogue, root: Path) -> KeywordResult:
    """Read the sources of indexed photos that are new or changed since last time: a
    sidecar added, edited or removed, or a photo never read (reading was off). One
    listing per folder; only folders holding a sidecar, now or last time, look further,
    so an unchanged library of 100k photos costs a few SQL scans and the listings."""
    result = KeywordResult()
    conn = catalogue.conn
    todo = {
        photo_id: path
        for photo_id, path in conn.execute(
            "SELECT id, path FROM photos p WHERE status = 'ok' AND NOT EXISTS (SELECT 1 FROM keyword_sources k"
            " WHERE k.photo_id = p.id AND k.kind = 'embedded')"
        )
    }
    recorded = {
        photo_id: {file: (size, mtime_ns) for file, (size, mtime_ns, _) in state.items()}
        for photo_id, state in recorded_sidecars(catalogue).items()
    }
    recorded_folders = {file.rpartition("/")[0] for state in recorded.values() for file in state}
    # rtrim(path, <path without '/'>) strips the file name: 'a/b/c.jpg' -> 'a/b/'
    folders = [
        row[0]
        for row in conn.execute("SELECT DISTINCT rtrim(path, replace(path, '/', '')) FROM photos WHERE status = 'ok'")
    ]
    for prefix in folders:
        folder = prefix.rstrip("/")
        listing = _sidecar_listing(root / folder)
        if not listing and folder not in recorded_folders:
            continue
        names = set(listing)
        for photo_id, rel in conn.execute(
            "SELECT id, path FROM photos WHERE status = 'ok' AND substr(path, 1, ?) = ?"
            " AND instr(substr(path, ? + 1), '/') = 0",
            (len(prefix), prefix, len(prefix)),
        ).fetchall():
            sidecars = sidecar_files(rel[len(prefix) :], names) if names else []
            now_state = {prefix + name: listing[name] for name in sidecars}
            if recorded.get(photo_id, {}) != now_state:
                todo[photo_id] = rel
    for photo_id, rel in sorted(todo.items(), key=lambda item: item[1]):
        embedded = not catalogue.scalar(
            "SELECT 1 FROM keyword_sources WHERE photo_id = ? AND kind = 'embedded'", (photo_id,)
        )
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
