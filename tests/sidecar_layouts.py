"""XMP sidecars written by hand in other programs' documented layouts, for tests."""

from __future__ import annotations

from pathlib import Path

from photos import noise_photo

from photo_tagger.core.library import Library

HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0">\n'
        b' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n')
TAIL = b" </rdf:RDF>\n</x:xmpmeta>\n"


def bag(prop: str, values: list[str], container: str = "Bag") -> bytes:
    items = "".join(f"<rdf:li>{v}</rdf:li>" for v in values)
    return f"   <{prop}><rdf:{container}>{items}</rdf:{container}></{prop}>\n".encode()


def description(*fields: bytes) -> bytes:
    return (b'  <rdf:Description rdf:about=""\n'
            b'    xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:lr="http://ns.adobe.com/lightroom/1.0/"\n'
            b'    xmlns:digiKam="http://www.digikam.org/ns/1.0/"\n'
            b'    xmlns:MicrosoftPhoto="http://ns.microsoft.com/photo/1.0/"\n'
            b'    xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="3">\n'
            + b"".join(fields) + b"  </rdf:Description>\n")


# digiKam: TagsList with '/', LastKeywordXMP, hierarchicalSubject, leaves in dc:subject
DIGIKAM = HEAD + description(
    bag("digiKam:TagsList", ["People/Niaz", "Winter", "Nature"], "Seq"),
    bag("MicrosoftPhoto:LastKeywordXMP", ["People/Niaz", "Winter", "Nature"]),
    bag("lr:hierarchicalSubject", ["People|Niaz", "Winter", "Nature"]),
    bag("dc:subject", ["Niaz", "Winter", "Nature"]),
) + TAIL


def lightroom(path: str) -> bytes:
    """Lightroom Classic: the path in hierarchicalSubject, every level in dc:subject."""
    return HEAD + description(bag("dc:subject", path.split("|")), bag("lr:hierarchicalSubject", [path])) + TAIL


BRIDGE = HEAD + description(bag("dc:subject", ["desk", "coffee", "computer"])) + TAIL  # flat, dc:subject only


def library_with_sidecars(root: Path, sidecars: dict[str, bytes]) -> Library:
    """A library of one small JPEG per sidecar (name minus .xmp), each beside its sidecar."""
    for seed, (name, content) in enumerate(sorted(sidecars.items())):
        photo = root / name.removesuffix(".xmp")
        photo.parent.mkdir(parents=True, exist_ok=True)
        noise_photo(seed, (96, 64)).save(photo, "JPEG")
        (root / name).write_bytes(content)
    return Library.open(root)
