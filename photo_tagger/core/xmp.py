"""XMP keywords: read them from a packet or a sidecar, write them into a sidecar.

Read: `dc:subject` (flat keywords, every tool), `lr:hierarchicalSubject` (Lightroom,
darktable, digiKam: `Animals|Cat`), `digiKam:TagsList` and `MicrosoftPhoto:LastKeywordXMP`
(`Animals/Cat`; the namespace with or without its trailing slash). Untrusted XML is
parsed with defusedxml with DTDs forbidden, so entity bombs and external entities are
refused before anything expands.

Write: a sidecar gets `dc:subject` (each tag's own name, as digiKam and darktable write
it) and `lr:hierarchicalSubject` (each tag's full path); `digiKam:TagsList` and
`MicrosoftPhoto:LastKeywordXMP` (under either spelling of its namespace) are rewritten
too when the sidecar already has them, since digiKam reads those first, and so is
`acdsee:categories` (an XML string of nested categories). Everything else in an
existing sidecar (ratings, darktable history, Lightroom develop settings, unknown
namespaces, prefixes, comments) is kept: the file is edited as a tree with lxml, never
re-templated. The previous content goes to `<sidecar>.bak`, another app's content
before our first write to `<sidecar>.orig` (once); the new one is written atomically.
Image files are never opened for writing.

Which file is a photo's sidecar is sidecar_files.py's concern.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from lxml import etree

from photo_tagger.core.atomic import atomic_write_bytes
from photo_tagger.core.errors import UserError
from photo_tagger.core.sidecar_files import sidecar_for

X = "adobe:ns:meta/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DC = "http://purl.org/dc/elements/1.1/"
LR = "http://ns.adobe.com/lightroom/1.0/"
DIGIKAM = "http://www.digikam.org/ns/1.0/"
MSPHOTO = "http://ns.microsoft.com/photo/1.0/"  # as Exiv2 (digiKam) spells it
MSPHOTO_EXIFTOOL = "http://ns.microsoft.com/photo/1.0"  # as ExifTool writes it, no trailing slash
MEDIAPRO = "http://ns.iview-multimedia.com/mediapro/1.0/"
ACDSEE = "http://ns.acdsee.com/iptc/1.0/"
PREFIXES = {
    DC: "dc",
    LR: "lr",
    DIGIKAM: "digiKam",
    MSPHOTO: "MicrosoftPhoto",
    MSPHOTO_EXIFTOOL: "MicrosoftPhoto",
    MEDIAPRO: "mediapro",
}

SUBJECT = f"{{{DC}}}subject"
HIERARCHICAL = f"{{{LR}}}hierarchicalSubject"
TAGS_LIST = f"{{{DIGIKAM}}}TagsList"
LAST_KEYWORD = f"{{{MSPHOTO}}}LastKeywordXMP"
LAST_KEYWORD_EXIFTOOL = f"{{{MSPHOTO_EXIFTOOL}}}LastKeywordXMP"
# ACDSee's (and digiKam's) copy of the tags: an XML string, `<Categories><Category
# Assigned="1">Places<Category Assigned="1">Paris</Category></Category></Categories>`;
# not read (dc:subject says the same), but kept in step when written
CATEGORIES = f"{{{ACDSEE}}}categories"
CATALOG_SETS = f"{{{MEDIAPRO}}}CatalogSets"
DESCRIPTION = f"{{{RDF}}}Description"
# property -> the separator of its hierarchical values (None: flat keywords)
KEYWORD_PROPERTIES = {
    SUBJECT: None,
    HIERARCHICAL: "|",
    TAGS_LIST: "/",
    LAST_KEYWORD: "/",
    LAST_KEYWORD_EXIFTOOL: "/",
    CATALOG_SETS: "|",
}
# A tag name holding its field's separator (`Black/White`) would read as two nested tags
# (digiKam's TagsList cannot hold a `/` in a name at all). In those fields the character
# is written as a look-alike (U+2215 DIVISION SLASH, U+2223 DIVIDES), and read back as
# itself. Not left out: digiKam reads TagsList before dc:subject, so a tag missing there
# would be lost to it, and its next write would drop it from dc:subject too; with the
# look-alike it shows one tag, spelt nearly the same, and the round trip keeps the name.
LOOK_ALIKES = {"/": "\u2215", "|": "\u2223"}
# darktable files its own bookkeeping (`darktable|format|jpg`, `darktable|changed`) as
# hierarchical keywords: not the user's tags, so not read, but kept when we write.
INTERNAL_ROOTS = frozenset({"darktable"})

MAX_SIDECAR_BYTES = 16 * 1024 * 1024  # darktable histories reach ~1 MB; 16 is generous
XPACKET_ID = "W5M0MpCehiHzreSzNTczkc9d"  # fixed by the XMP specification
XMPTK = "photo-tagger"  # the toolkit a sidecar we create names; a merge keeps the other app's
XMPTK_MARK = f'xmptk="{XMPTK}"'.encode()


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


def is_internal(path: Sequence[str]) -> bool:
    return len(path) > 1 and path[0].casefold() in INTERNAL_ROOTS


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
                        parts = (p.strip().replace(LOOK_ALIKES[separator], separator) for p in value.split(separator))
                        path = tuple(p for p in parts if p)
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


def render_sidecar(existing: bytes | None, paths: Sequence[Sequence[str]], source: str = "sidecar") -> bytes:
    """The sidecar bytes holding exactly `paths` as keywords: `existing` with its keyword
    properties replaced and everything else kept, or a new sidecar."""
    if existing is None:
        doc = _new_document()
    else:
        _safe_parse(existing, source)  # refuses DTDs/entities before lxml sees the bytes
        doc = _lxml_parse(existing, source)
    rdf = doc.getroot() if doc.getroot().tag == f"{{{RDF}}}RDF" else doc.getroot().find(f".//{{{RDF}}}RDF")
    if rdf is None:
        raise XmpError(f"{source}: not an XMP sidecar (no rdf:RDF element)")
    present = _remove_keyword_properties(rdf)
    descriptions = rdf.findall(DESCRIPTION)
    target = descriptions[0] if descriptions else _add_description(rdf)
    paths = [tuple(p) for p in paths if p]
    if paths:
        own = [p for p in paths if not is_internal(p)]
        if own:
            _append_bag(target, SUBJECT, dict.fromkeys(p[-1] for p in own), "rdf:Bag")
        hierarchical = [_join(p, "|") for p in paths]
        if hierarchical:
            _append_bag(target, HIERARCHICAL, hierarchical, "rdf:Bag")
        slashed = [_join(p, "/") for p in own]
        if TAGS_LIST in present and slashed:
            _append_bag(target, TAGS_LIST, slashed, "rdf:Seq")
        for last_keyword in (LAST_KEYWORD, LAST_KEYWORD_EXIFTOOL):  # under the spelling found
            if last_keyword in present and slashed:
                _append_bag(target, last_keyword, slashed, "rdf:Bag")
        if CATALOG_SETS in present and hierarchical:
            _append_bag(target, CATALOG_SETS, hierarchical, "rdf:Bag")
    _update_categories(rdf, [tuple(p) for p in paths if not is_internal(p)])
    declaration = existing is not None and existing.lstrip().startswith(b"<?xml")
    body = etree.tostring(doc, encoding="UTF-8", xml_declaration=declaration)
    # lxml drops the line breaks between the root and the xpacket instructions around it
    body = body.replace(b"?><x:xmpmeta", b"?>\n<x:xmpmeta").replace(
        b"</x:xmpmeta><?xpacket", b"</x:xmpmeta>\n<?xpacket"
    )
    return body if body.endswith(b"\n") else body + b"\n"


def _join(path: Sequence[str], separator: str) -> str:
    return separator.join(part.replace(separator, LOOK_ALIKES[separator]) for part in path)


def _update_categories(rdf: etree._Element, paths: Sequence[tuple[str, ...]]) -> None:
    for description in rdf.iter(DESCRIPTION):
        if CATEGORIES in description.attrib:
            description.set(CATEGORIES, edit_categories(description.get(CATEGORIES) or "", paths))
        for element in description.findall(CATEGORIES):
            element.text = edit_categories(element.text or "", paths)


def edit_categories(text: str, paths: Sequence[Sequence[str]]) -> str:
    """acdsee:categories holding exactly `paths` as assigned categories: a category no
    path goes through is removed (when it or one below it was assigned: a tag removed),
    each path is added under its parents. Categories assigned to nothing are ACDSee's
    structure and stay. Text that is not such XML is left as it is."""
    try:
        root = SafeET.fromstring(text, forbid_dtd=True) if text.strip() else Element("Categories")
    except (DefusedXmlException, ParseError):
        return text
    wanted = {tuple(part.casefold() for part in p) for p in paths if p}
    through = {w[:i] for w in wanted for i in range(1, len(w) + 1)}

    def prune(parent: Element, prefix: tuple[str, ...]) -> None:
        for node in parent.findall("Category"):
            path = (*prefix, (node.text or "").strip().casefold())
            if path in through:
                if path in wanted:
                    node.set("Assigned", "1")
                prune(node, path)
            elif any(n.get("Assigned") == "1" for n in node.iter("Category")):
                parent.remove(node)

    prune(root, ())
    for p in paths:
        parent = root
        for part in p:
            node = next(
                (n for n in parent.findall("Category") if (n.text or "").strip().casefold() == part.casefold()), None
            )
            if node is None:
                node = SubElement(parent, "Category", {"Assigned": "1"})
                node.text = part
            parent = node
    return tostring(root, encoding="unicode")


def _lxml_parse(data: bytes, source: str) -> etree._ElementTree:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.ElementTree(etree.fromstring(data, parser))
    except etree.XMLSyntaxError as exc:
        raise XmpError(f"{source}: malformed XMP ({exc})") from exc


def _new_document() -> etree._ElementTree:
    meta = etree.Element(f"{{{X}}}xmpmeta", nsmap={"x": X})
    meta.set(f"{{{X}}}xmptk", XMPTK)
    meta.text = "\n "
    rdf = etree.SubElement(meta, f"{{{RDF}}}RDF", nsmap={"rdf": RDF})
    rdf.text, rdf.tail = "\n  ", "\n"
    description = etree.SubElement(rdf, DESCRIPTION, nsmap={"dc": DC, "lr": LR})
    description.set(f"{{{RDF}}}about", "")
    description.text, description.tail = "\n   ", "\n "
    meta.addprevious(etree.ProcessingInstruction("xpacket", f'begin="\ufeff" id="{XPACKET_ID}"'))
    meta.addnext(etree.ProcessingInstruction("xpacket", 'end="w"'))
    return meta.getroottree()


def _add_description(rdf: etree._Element) -> etree._Element:
    description = etree.SubElement(rdf, DESCRIPTION)
    description.set(f"{{{RDF}}}about", "")
    return description


def _remove_keyword_properties(rdf: etree._Element) -> set[str]:
    """Drop every keyword property (element or attribute form); return which were there."""
    present = set()
    for description in rdf.iter(DESCRIPTION):
        for prop in KEYWORD_PROPERTIES:
            if prop in description.attrib:
                present.add(prop)
                del description.attrib[prop]
            for element in description.findall(prop):
                present.add(prop)
                _remove_keeping_layout(element)
    return present


def _remove_keeping_layout(element: etree._Element) -> None:
    parent = element.getparent()
    previous = element.getprevious()
    if previous is not None:
        previous.tail = element.tail
    else:
        parent.text = element.tail
    parent.remove(element)


def _append_bag(description: etree._Element, prop: str, values: Iterable[str], container: str) -> None:
    indent = _indent_of(description)
    namespace = prop[1:].split("}")[0]
    nsmap = {} if namespace in description.nsmap.values() else {PREFIXES[namespace]: namespace}
    element = etree.Element(prop, nsmap=nsmap)
    bag = etree.SubElement(element, f"{{{RDF}}}{container.split(':')[1]}")
    element.text, bag.text, bag.tail = indent + " ", indent + "  ", indent
    items = list(values)
    for i, value in enumerate(items):
        li = etree.SubElement(bag, f"{{{RDF}}}li")
        li.text = value
        li.tail = indent + ("  " if i < len(items) - 1 else " ")
    children = list(description)
    if children:
        last = children[-1]
        element.tail = last.tail
        last.tail = indent
        last.addnext(element)
    else:
        element.tail = (description.tail or "\n").rstrip(" ") + _outer_indent(description)
        description.text = indent
        description.append(element)


def _indent_of(description: etree._Element) -> str:
    children = list(description)
    sample = description.text if children else None
    if sample and sample.strip() == "" and "\n" in sample:
        return "\n" + sample.rsplit("\n", 1)[1]
    return "\n" + _outer_indent(description).lstrip("\n") + " "


def _outer_indent(description: etree._Element) -> str:
    previous = description.getprevious()
    text = previous.tail if previous is not None else description.getparent().text
    return text.rsplit("\n", 1)[1] if text and "\n" in text else " "


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
