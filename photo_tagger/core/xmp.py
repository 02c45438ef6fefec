"""XMP keywords: read them from a packet or a sidecar, write them into a sidecar.

Read: `dc:subject` (flat keywords, every tool), `lr:hierarchicalSubject` (Lightroom,
darktable, digiKam: `Animals|Cat`), `digiKam:TagsList` and `MicrosoftPhoto:LastKeywordXMP`
(`Animals/Cat`; the namespace with or without its trailing slash). Untrusted XML is
parsed with defusedxml with DTDs forbidden, so entity bombs and external entities are
refused before anything expands.

Write: the keyword values of an existing sidecar are edited where they stand, in every
keyword field it uses and following its own conventions; every other byte is kept
(ratings, darktable history, Lightroom develop settings, unknown namespaces, layout,
BOM, padding). xmp_edit.py decides the edit. A new sidecar gets `dc:subject` (each tag's
own name, as digiKam and darktable write it) and, for a multi-level path,
`lr:hierarchicalSubject` (each tag's full path). The previous content goes to
`<sidecar>.bak`, another app's content before our first write to `<sidecar>.orig`
(once); the new one is written atomically.
Image files are never opened for writing.

Which file is a photo's sidecar is sidecar_files.py's concern.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from photo_tagger.core import xml_splice
from photo_tagger.core.atomic import atomic_write_bytes
from photo_tagger.core.errors import UserError
from photo_tagger.core.sidecar_files import sidecar_for
from photo_tagger.core.xmp_edit import keyword_splices
from photo_tagger.core.xmp_fields import (
    DESCRIPTION,
    KEYWORD_PROPERTIES,
    RDF,
    RDF_RDF,
    X,
    is_internal,
    split_path,
)

MAX_SIDECAR_BYTES = 16 * 1024 * 1024  # darktable histories reach ~1 MB; 16 is generous


class XmpError(UserError):
    """A sidecar or packet we cannot read; the message names the file."""


@dataclass(frozen=True)
class XmpKeywords:
    subjects: tuple[str, ...] = ()  # dc:subject, flat
    hierarchical: tuple[tuple[str, ...], ...] = ()  # paths, root first

    def paths(self, *, internal: bool = False) -> list[tuple[str, ...]]:
        """The keywords as paths: every hierarchical path, plus each flat keyword that is
        not a component of one (Lightroom also lists `Animals` and `Cat` flat for
        `Animals|Cat`; that is one keyword, not three). Tools' bookkeeping paths
        (INTERNAL_ROOTS) only with `internal`."""
        components = {part.casefold() for path in self.hierarchical for part in path}
        flat = [(s,) for s in self.subjects if s.casefold() not in components]
        paths = dedupe_paths([*self.hierarchical, *flat])
        return paths if internal else [p for p in paths if not is_internal(p)]


def dedupe_paths(paths: Iterable[Sequence[str]]) -> list[tuple[str, ...]]:
    seen: set[tuple[str, ...]] = set()
    result = []
    for path in paths:
        key = tuple(part.casefold() for part in path)
        if key and key not in seen:
            seen.add(key)
            result.append(tuple(path))
    return result


def parse_xmp(data: bytes | str, source: str) -> XmpKeywords:
    """The keywords in an XMP packet or sidecar. Raises XmpError naming `source`."""
    root = _safe_parse(data, source)
    subjects: list[str] = []
    hierarchical: list[tuple[str, ...]] = []
    for description in root.iter(DESCRIPTION):
        for prop, separator in KEYWORD_PROPERTIES.items():
            for element in description.iter(prop):
                for value in _values(element):
                    if separator is None:
                        subjects.append(value)
                    else:
                        path = split_path(value, separator)
                        if path:
                            hierarchical.append(path)
    return XmpKeywords(tuple(dict.fromkeys(subjects)), tuple(dedupe_paths(hierarchical)))


def _safe_parse(data: bytes | str, source: str) -> Element:
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise XmpError(f"{source}: refused XML with a DTD or entities ({type(exc).__name__})") from exc
    except ParseError as exc:
        raise XmpError(f"{source}: malformed XMP ({exc})") from exc


def _values(element: Element) -> list[str]:
    """rdf:li items of a Bag/Seq/Alt, or the text of a (non-standard) simple value."""
    items = [li.text or "" for li in element.iter(f"{{{RDF}}}li")]
    if not items and element.text:
        items = [element.text]
    return [item.strip() for item in items if item.strip()]


def read_packet_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_SIDECAR_BYTES:
            raise XmpError(f"{path}: sidecar too large ({size:,} bytes; limit {MAX_SIDECAR_BYTES:,})")
        return path.read_bytes()
    except OSError as exc:
        raise XmpError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def read_sidecar(path: Path) -> XmpKeywords:
    return parse_xmp(read_packet_bytes(path), str(path))




# --- writing -------------------------------------------------------------------------

XPACKET_ID = "W5M0MpCehiHzreSzNTczkc9d"  # fixed by the XMP specification
XMPTK = "photo-tagger"  # the toolkit a sidecar we create names; a merge keeps the other app's
XMPTK_MARK = f'xmptk="{XMPTK}"'.encode()
# A sidecar we create is this, with its keywords added as into any other file
NEW_SIDECAR = f"""<?xpacket begin="\ufeff" id="{XPACKET_ID}"?>
<x:xmpmeta xmlns:x="{X}" x:{XMPTK_MARK.decode()}>
 <rdf:RDF xmlns:rdf="{RDF}">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/">
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
""".encode()
_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")


def render_sidecar(existing: bytes | None, paths: Sequence[Sequence[str]], source: str = "sidecar") -> bytes:
    """The sidecar bytes holding exactly `paths` as keywords: `existing` with only its
    keyword values edited (xmp_edit.py says how), or a new sidecar."""
    data = NEW_SIDECAR if existing is None else existing
    if existing is not None:
        _safe_parse(existing, source)  # refuses DTDs/entities before expat sees the bytes
        _require_utf8(existing, source)
    try:
        document = xml_splice.parse(data)
    except xml_splice.MalformedXml as exc:
        raise XmpError(f"{source}: malformed XMP ({exc})") from exc
    rdf = next(document.iter(RDF_RDF), None)
    if rdf is None:
        raise XmpError(f"{source}: not an XMP sidecar (no rdf:RDF element)")
    return xml_splice.apply(data, keyword_splices(data, rdf, paths))


def _require_utf8(data: bytes, source: str) -> None:
    """The edit splices UTF-8 into the file's bytes: another encoding (allowed, never
    seen in a sidecar) is refused rather than garbled."""
    declared = _ENCODING.match(data)
    encoding = declared.group(1).decode("ascii", "replace").lower() if declared else "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or encoding not in {"utf-8", "utf8", "us-ascii", "ascii"}:
        raise XmpError(f"{source}: sidecar not in UTF-8 ({encoding}); not rewritten")


@dataclass(frozen=True)
class SidecarWrite:
    path: Path
    changed: bool
    backup: Path | None  # the previous content, when there was one and it changed
    original: Path | None = None  # another app's content before our first write, kept now


def write_sidecar(photo: Path, paths: Sequence[Sequence[str]], *, names: Iterable[str] | None = None) -> SidecarWrite:
    """Write `paths` as the keywords of `photo`'s sidecar (created or merged). A malformed
    sidecar raises XmpError and stays untouched; the photo itself is never written.
    `names`: the folder's file names, as for `sidecar_for`."""
    target = sidecar_for(photo, writing=True, names=names)
    existing = read_packet_bytes(target) if target.exists() else None
    new = render_sidecar(existing, paths, str(target))
    if new == existing:
        return SidecarWrite(target, False, None)
    backup = original = None
    mode = 0o644
    if existing is not None:
        original = _keep_original(target, existing)
        backup = target.with_name(target.name + ".bak")
        mode = target.stat().st_mode & 0o777
        try:
            shutil.copy2(target, backup)
        except OSError as exc:
            raise XmpError(f"{backup}: cannot keep a backup ({exc.strerror or exc}); sidecar left as it was") from exc
    atomic_write_bytes(target, new)
    try:
        os.chmod(target, mode)  # other tools must read it; mkstemp made it private
    except OSError:
        pass
    return SidecarWrite(target, True, backup, original)


def _keep_original(target: Path, existing: bytes) -> Path | None:
    """Keep another app's sidecar as it was before our first write (`<sidecar>.orig`,
    written once, never replaced): `.bak` holds only the previous version, which after
    two exports is our own. Returns the file when written now."""
    if XMPTK_MARK in existing:
        return None  # a sidecar we created: there is no other app's original to keep
    original = target.with_name(target.name + ".orig")
    try:
        with open(original, "xb") as out:
            out.write(existing)
        shutil.copystat(target, original)
    except FileExistsError:
        return None
    except OSError as exc:
        raise XmpError(f"{original}: cannot keep the original ({exc.strerror or exc}); sidecar left as it was") from exc
    return original
