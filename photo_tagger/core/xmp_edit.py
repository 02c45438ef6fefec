"""Keyword write-back as a minimal edit of the sidecar's text.

Given a sidecar's bytes and the final keyword paths (deepest paths: an ancestor of a
path is implied by it), each keyword field is edited in place (xml_splice): a value no
final path accounts for is removed with its line, a path new to the file (in none of its
fields) is appended after each field's last value in that value's layout, and every
other byte stays (attribute layout, indentation, BOM, xpacket padding, the values' order
and spelling). A keyword the file already has is left as the file has it, even if some
field lacks it. Values compare case-insensitively, as they are read: the file's spelling
of a keyword wins over ours.

Per field:
- dc:subject: a value stays while it names a component of some final path. Added: the
  leaf, and its missing ancestors too when the file lists ancestors there (darktable,
  Lightroom: `Places`, `Iceland`, `Reykjavik` for `Places|Iceland|Reykjavik`), which we
  know from a hierarchical value whose ancestors are all in dc:subject.
- lr:hierarchicalSubject and mediapro:CatalogSets (`|`), digiKam:TagsList and
  MicrosoftPhoto:LastKeywordXMP under either namespace (`/`): a value stays while it is a
  final path or an ancestor of one; every new path is added, flat ones too (digiKam
  takes the first of these fields it finds as the whole list). A name holding the
  separator is written with its look-alike.
- acdsee:categories: an XML string, rewritten only when its assigned categories change.
A field the file does not have is not added, except where a keyword would otherwise have
no home: dc:subject (every reader reads it) when the file has none, and
lr:hierarchicalSubject when a multi-level path is added to a file with no hierarchical
field; either holds every keyword, since a reader may take it as the whole list. They go
last in the rdf:Description that holds the file's keywords (else the first one),
indented like its other properties. Paths under INTERNAL_ROOTS (darktable's bookkeeping)
are kept where they are, never added. The xpacket padding is left as it is: a sidecar is
rewritten whole, so keeping the packet's size buys nothing, and an unchanged padding
keeps the diff to the keyword lines. A keyword property written as an attribute
(`dc:subject="x"`, not valid for a bag) is neither read nor edited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from photo_tagger.core.xml_splice import (
    Node,
    Splice,
    attribute_span,
    escape_attribute,
    escape_text,
    indent_of,
    whitespace_before,
)
from photo_tagger.core.xmp_fields import (
    CATEGORIES,
    CONTAINERS,
    DESCRIPTION,
    HIERARCHICAL,
    KEYWORD_PROPERTIES,
    LI,
    PREFIXES,
    RDF,
    SUBJECT,
    TAGS_LIST,
    is_internal,
    join_path,
    split_path,
)

KeywordPath = tuple[str, ...]


@dataclass
class _Field:
    """One keyword property element and its values as written."""

    prop: str
    node: Node
    container: Node | None  # its rdf:Bag/Seq; None for a bare text value
    items: list[tuple[Node | None, str]]  # (the rdf:li, or None for a bare value; its text)


def keyword_splices(data: bytes, rdf: Node, paths: Sequence[Sequence[str]]) -> list[Splice]:
    """The edits that make the keywords under `rdf` exactly `paths`."""
    final = [tuple(p) for p in paths if p]
    fields = _fields(rdf)
    layout = _Layout(data, rdf)
    wanted = _Wanted(final, _present(fields), _lists_ancestors(fields))
    splices: list[Splice] = []
    homes: list[tuple[str, list[str]]] = []
    for prop, separator in KEYWORD_PROPERTIES.items():
        keep, key = wanted.keeper(separator)
        occurrences = [f for f in fields if f.prop == prop]
        kept = {key(value) for f in occurrences for _, value in f.items if keep(value)}
        new = [v for v in dict.fromkeys(wanted.candidates(separator)) if key(v) not in kept]
        for i, found in enumerate(occurrences):  # added once, to the first
            splices += layout.edit_field(found, keep, new if i == 0 else [])
        if not occurrences and new and wanted.needs_home(prop, fields):
            homes.append((prop, list(dict.fromkeys(wanted.candidates(separator, every=True)))))
    if homes:
        holder = next((f.node.parent for f in fields if f.node.parent), None)
        splices.append(layout.add_fields(holder or next(iter(rdf.find(DESCRIPTION)), rdf), homes))
    return splices + _categories_splices(data, rdf, [p for p in final if not is_internal(p)])


def _fields(rdf: Node) -> list[_Field]:
    fields = []
    for description in rdf.find(DESCRIPTION):
        for node in description.children:
            if node.name in KEYWORD_PROPERTIES:
                container = next((c for c in node.children if c.name in CONTAINERS), None)
                if container is not None:
                    items: list[tuple[Node | None, str]] = [(li, li.text) for li in container.find(LI)]
                else:
                    items = [(None, node.text)] if node.text.strip() else []
                fields.append(_Field(node.name, node, container, items))
    return fields


def _present(fields: list[_Field]) -> set[KeywordPath]:
    """The file's keywords (case-folded paths), in whichever field."""
    found = set()
    for f in fields:
        separator = KEYWORD_PROPERTIES[f.prop]
        for _, value in f.items:
            path = (value.strip(),) if separator is None else split_path(value, separator)
            found.add(tuple(part.casefold() for part in path))
    return found


def _lists_ancestors(fields: list[_Field]) -> bool:
    """Whether dc:subject lists a hierarchical keyword's ancestors besides its leaf."""
    subjects = {value.strip().casefold() for f in fields if f.prop == SUBJECT for _, value in f.items}
    for f in fields:
        separator = KEYWORD_PROPERTIES[f.prop]
        if separator is None:
            continue
        for _, value in f.items:
            path = split_path(value, separator)
            if len(path) > 1 and all(part.casefold() in subjects for part in path[:-1]):
                return True
    return False


class _Wanted:
    """What the final paths ask of each field."""

    def __init__(self, final: list[KeywordPath], present: set[KeywordPath], lists_ancestors: bool) -> None:
        folded = [tuple(part.casefold() for part in p) for p in final]
        self.components = {part for p in folded for part in p}
        self.prefixes = {p[:i] for p in folded for i in range(1, len(p) + 1)}
        longer = {p[:i] for p in folded for i in range(1, len(p))}
        # to add: new to the file, not darktable's bookkeeping, not an ancestor another path
        # implies (a keyword already in the file is left as the file has it, in every field)
        self.every = [p for p, f in zip(final, folded, strict=True) if not is_internal(p) and f not in longer]
        self.own = [p for p in self.every if tuple(part.casefold() for part in p) not in present]
        self.lists_ancestors = lists_ancestors

    def keeper(self, separator: str | None) -> tuple[Callable[[str], bool], Callable[[str], object]]:
        """(does a value of this field stay, the value's identity)."""
        if separator is None:
            return (lambda v: not v.strip() or v.strip().casefold() in self.components), (
                lambda v: v.strip().casefold()
            )

        def key(value: str) -> object:
            return tuple(part.casefold() for part in split_path(value, separator))

        return (lambda v: not split_path(v, separator) or key(v) in self.prefixes), key

    def candidates(self, separator: str | None, *, every: bool = False) -> list[str]:
        """The values to add: for the paths new to the file, or for every path (a field
        made for them, which holds them all)."""
        paths = self.every if every else self.own
        if separator is not None:
            return [join_path(p, separator) for p in paths]
        return [name for p in paths for name in (p if self.lists_ancestors else p[-1:])]

    def needs_home(self, prop: str, fields: list[_Field]) -> bool:
        if prop == SUBJECT:
            return True
        hierarchical = any(KEYWORD_PROPERTIES[f.prop] for f in fields)
        return prop == HIERARCHICAL and not hierarchical and any(len(p) > 1 for p in self.own)


class _Layout:
    """Splices that copy the file's own indentation and line breaks."""

    def __init__(self, data: bytes, rdf: Node) -> None:
        self.data = data
        self.newline = b"\r\n" if b"\r\n" in data else b"\n"
        self.step = _step(data, rdf)

    def edit_field(self, found: _Field, keep: Callable[[str], bool], new: list[str]) -> list[Splice]:
        gone = [li for li, value in found.items if not keep(value)]
        if not gone and not new:
            return []
        if len(gone) == len(found.items) and not new:
            return [self.remove(found.node)]
        if found.container is None:  # a bare value: written as a proper bag
            values = [value for _, value in found.items if keep(value)] + new
            bag = self.bag(found.node, found.prop, values, self.indent(found.node))
            return [self.replace_content(found.node, bag)]
        splices = [self.remove(li) for li in gone if li is not None]
        if new:
            splices.append(self.append_items(found.container, new))
        return splices

    def remove(self, node: Node) -> Splice:
        return whitespace_before(self.data, node.start), node.end, b""

    def append_items(self, container: Node, values: list[str]) -> Splice:
        lis = container.find(LI)
        if lis:  # after the last item, as far from it as it is from the one before
            last = lis[-1]
            lead = self.data[whitespace_before(self.data, last.start) : last.start]
            return last.end, last.end, b"".join(lead + _element(last.qname, v) for v in values)
        indent = self.indent(container)
        li = _qname(container, RDF, "li")
        items = b"".join(self.newline + indent + self.step + _element(li, v) for v in values)
        return self.replace_content(container, items + self.newline + indent)

    def replace_content(self, node: Node, content: bytes) -> Splice:
        return _replace_content(self.data, node, content)

    def bag(self, parent: Node, prop: str, values: list[str], indent: bytes) -> bytes:
        """The content of a keyword property at `indent`, in `parent`'s namespace scope."""
        container = _qname(parent, RDF, "Seq" if prop == TAGS_LIST else "Bag")
        li = _qname(parent, RDF, "li")
        items = b"".join(self.newline + indent + self.step * 2 + _element(li, v) for v in values)
        return (self.newline + indent + self.step + b"<" + container + b">" + items
                + self.newline + indent + self.step + b"</" + container + b">" + self.newline + indent)

    def add_fields(self, parent: Node, fields: list[tuple[str, list[str]]]) -> Splice:
        """New keyword properties last in `parent` (an rdf:Description; rdf:RDF when the
        file has none, which gets one)."""
        indent = self.indent(parent) + self.step
        if parent.children:
            indent = self.indent(parent.children[-1])
        if parent.name == DESCRIPTION:
            text = b"".join(self.newline + indent + self.property(parent, prop, values, indent)
                            for prop, values in fields)
        else:
            description = _qname(parent, RDF, "Description")
            inner = indent + self.step
            text = (self.newline + indent + b"<" + description + b" " + _qname(parent, RDF, "about") + b'="">'
                    + b"".join(self.newline + inner + self.property(parent, prop, values, inner)
                               for prop, values in fields)
                    + self.newline + indent + b"</" + description + b">")
        if parent.children:
            return parent.children[-1].end, parent.children[-1].end, text
        if parent.self_closing or b"\n" not in self.data[parent.open_end : parent.close_start]:
            text += self.newline + self.indent(parent)
        return self.replace_content(parent, text) if parent.self_closing else (parent.open_end, parent.open_end, text)

    def property(self, parent: Node, prop: str, values: list[str], indent: bytes) -> bytes:
        namespace, local = prop[1:].split("}")
        prefix = parent.prefix_of(namespace)
        declaration = b""
        if prefix is None:  # declared on the element itself: no other line changes
            prefix = PREFIXES[namespace]
            while prefix in parent.scope:
                prefix += "_"
            declaration = f' xmlns:{prefix}="{namespace}"'.encode()
        name = f"{prefix}:{local}".encode() if prefix else local.encode()
        return b"<" + name + declaration + b">" + self.bag(parent, prop, values, indent) + b"</" + name + b">"

    def indent(self, node: Node) -> bytes:
        return indent_of(self.data, node).encode()


def _replace_content(data: bytes, node: Node, content: bytes) -> Splice:
    if node.self_closing:
        start_tag = data[node.start : node.open_end - 2].rstrip()
        return node.start, node.end, start_tag + b">" + content + b"</" + node.qname.encode() + b">"
    return node.open_end, node.close_start, content


def _step(data: bytes, rdf: Node) -> bytes:
    """One level of the file's indentation (one space when it shows none)."""
    for description in rdf.find(DESCRIPTION):
        if description.children:
            outer, inner = indent_of(data, description), indent_of(data, description.children[0])
            if inner.startswith(outer) and len(inner) > len(outer):
                return inner[len(outer) :].encode()
    return b" "


def _qname(node: Node, namespace: str, local: str) -> bytes:
    prefix = node.prefix_of(namespace)
    prefix = PREFIXES[namespace] if prefix is None else prefix
    return (f"{prefix}:{local}" if prefix else local).encode()


def _element(qname: str | bytes, value: str) -> bytes:
    name = qname.encode() if isinstance(qname, str) else qname
    return b"<" + name + b">" + escape_text(value) + b"</" + name + b">"


def _categories_splices(data: bytes, rdf: Node, paths: list[KeywordPath]) -> list[Splice]:
    splices = []
    for description in rdf.find(DESCRIPTION):
        if CATEGORIES in description.attributes:
            old = description.attributes[CATEGORIES]
            new = edit_categories(old, paths)
            span = attribute_span(data, description, CATEGORIES)
            if new != old and span is not None:
                splices.append((span[0], span[1], escape_attribute(new, span[2])))
        for node in description.find(CATEGORIES):
            new = edit_categories(node.text, paths)
            if new != node.text and not node.children:
                splices.append(_replace_content(data, node, escape_text(new)))
    return splices


def edit_categories(text: str, paths: Sequence[Sequence[str]]) -> str:
    """acdsee:categories holding exactly `paths` as assigned categories: a category no
    path goes through is removed (when it or one below it was assigned: a tag removed),
    each path is added under its parents. Categories assigned to nothing are ACDSee's
    structure and stay. `text` itself when that changes nothing, or when it is not such
    XML."""
    try:
        root = SafeET.fromstring(text, forbid_dtd=True) if text.strip() else Element("Categories")
    except (DefusedXmlException, ParseError):
        return text
    before = tostring(root, encoding="unicode")
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
    after = tostring(root, encoding="unicode")
    return text if after == before else after
