"""Edits to an XML document's text that leave every other byte as it was.

A serialiser (lxml, ElementTree) re-quotes attributes, turns `<a></a>` into `<a/>`, drops
the BOM and the xpacket padding and re-indents: a sidecar kept under version control
would show the whole file rewritten for one added keyword. Here the document is parsed
once with expat, which reports where each element starts in the bytes; an edit is a list
of splices (start, end, replacement) applied to the original bytes.

UTF-8 only (what XMP sidecars are). The caller refuses DTDs and entities first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

Splice = tuple[int, int, bytes]  # replace data[start:end] with the bytes

_TAG_REST = re.compile(rb"""(?:[^>"']|"[^"]*"|'[^']*')*>""")  # a tag's text after its '<'
_QNAME = re.compile(rb"[^\s/>]+")
_ATTRIBUTE = re.compile(rb"""([^\s=/<>]+)\s*=\s*("[^"]*"|'[^']*')""")
_WHITESPACE = b" \t\r\n"


class MalformedXml(ValueError):
    pass


@dataclass(eq=False)
class Node:
    """An element as it sits in the bytes."""

    name: str  # "{uri}local", as ElementTree spells it
    qname: str  # as written: "rdf:li"
    start: int  # its '<'
    open_end: int  # just past its start tag's '>'
    scope: dict[str, str]  # prefix ('' for the default) -> namespace in scope here
    parent: Node | None = None
    attributes: dict[str, str] = field(default_factory=dict)  # "{uri}local" -> value
    children: list[Node] = field(default_factory=list)
    text: str = ""  # character data directly inside it
    close_start: int = -1  # its end tag's '<' (open_end for `<a/>`)
    end: int = -1  # just past its end tag's '>'

    @property
    def self_closing(self) -> bool:
        return self.end == self.open_end

    def find(self, name: str) -> list[Node]:
        return [child for child in self.children if child.name == name]

    def iter(self, name: str) -> Iterator[Node]:
        for child in self.children:
            if child.name == name:
                yield child
            yield from child.iter(name)

    def prefix_of(self, namespace: str) -> str | None:
        """A prefix bound to `namespace` here ('' when it is the default namespace)."""
        return next((prefix for prefix, uri in self.scope.items() if uri == namespace), None)


def parse(data: bytes) -> Node:
    """The document's elements with their byte offsets, under a root-less pseudo node."""
    document = Node("", "", 0, 0, {"xml": "http://www.w3.org/XML/1998/namespace"})
    stack = [document]
    declared: dict[str, str] = {}
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True

    def declare(prefix: str | None, uri: str | None) -> None:
        declared[prefix or ""] = uri or ""

    def start(name: str, attributes: dict[str, str]) -> None:
        at = parser.CurrentByteIndex
        rest = _TAG_REST.match(data, at + 1)
        qname = _QNAME.match(data, at + 1)
        assert rest is not None and qname is not None  # expat has just read this tag
        parent = stack[-1]
        scope = {**parent.scope, **declared} if declared else parent.scope
        declared.clear()
        node = Node(_expanded(name), qname.group().decode(), at, rest.end(), scope, parent,
                    {_expanded(k): v for k, v in attributes.items()})
        parent.children.append(node)
        stack.append(node)

    def end(name: str) -> None:
        node = stack.pop()
        if data[node.open_end - 2 : node.open_end] == b"/>":
            node.close_start = node.end = node.open_end
        else:
            node.close_start = parser.CurrentByteIndex
            node.end = data.index(b">", node.close_start) + 1

    def characters(text: str) -> None:
        stack[-1].text += text

    parser.StartNamespaceDeclHandler = declare
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise MalformedXml(str(exc)) from exc
    document.end = len(data)
    return document


def _expanded(name: str) -> str:
    return "{" + name if "}" in name else name


def apply(data: bytes, splices: Iterable[Splice]) -> bytes:
    """`data` with the splices made; insertions at one place keep their given order."""
    out, at = [], 0
    for start, end, replacement in sorted(splices, key=lambda s: (s[0], s[1])):
        if start < at:
            raise ValueError(f"overlapping edits at byte {start}")
        out += [data[at:start], replacement]
        at = end
    out.append(data[at:])
    return b"".join(out)


def whitespace_before(data: bytes, position: int) -> int:
    """Where the run of whitespace that ends at `position` starts."""
    while position > 0 and data[position - 1] in _WHITESPACE:
        position -= 1
    return position


def indent_of(data: bytes, node: Node) -> str:
    """The spaces or tabs between the line break before `node` and its '<' ('' if it does
    not start a line)."""
    lead = data[whitespace_before(data, node.start) : node.start].decode()
    return lead.rsplit("\n", 1)[1] if "\n" in lead else ""


def attribute_span(data: bytes, node: Node, name: str) -> tuple[int, int, bytes] | None:
    """Where the value of attribute `name` ("{uri}local") sits in the start tag, without
    its quotes, and the quote it uses."""
    tag_rest = node.start + 1 + len(node.qname.encode())
    for match in _ATTRIBUTE.finditer(data, tag_rest, node.open_end):
        prefix, _, local = match.group(1).decode().rpartition(":")
        if prefix and "{" + node.scope.get(prefix, "") + "}" + local == name:
            return match.start(2) + 1, match.end(2) - 1, match.group(2)[:1]
    return None


def escape_text(text: str) -> bytes:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode()


def escape_attribute(text: str, quote: bytes) -> bytes:
    escaped = escape_text(text).replace(b"\n", b"&#xA;").replace(b"\t", b"&#x9;").replace(b"\r", b"&#xD;")
    return escaped.replace(b'"', b"&quot;") if quote == b'"' else escaped.replace(b"'", b"&apos;")
