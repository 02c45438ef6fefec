"""Photos that carry keywords the way other programs write them: embedded XMP and IPTC,
and sidecars beside them (from tests/core/data), for tests."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

from photos import noise_photo

from photo_tagger.core.library import Library

DATA = Path(__file__).parent / "core" / "data"
XMP_PACKET = b"""<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:lr="http://ns.adobe.com/lightroom/1.0/">
<dc:subject><rdf:Bag><rdf:li>Cat</rdf:li><rdf:li>Holiday 2019</rdf:li></rdf:Bag></dc:subject>
<lr:hierarchicalSubject><rdf:Bag><rdf:li>Animals|Cat</rdf:li></rdf:Bag></lr:hierarchicalSubject>
</rdf:Description></rdf:RDF></x:xmpmeta>"""


def iptc_segment(keywords: list[str] | list[bytes], *, utf8: bool = True) -> bytes:
    """A JPEG APP13 segment holding IPTC Keywords (2:25) as Photoshop stores it: in UTF-8
    with 1:90 saying so, or (`utf8` False) as raw bytes with no character set."""
    records = b"\x1c\x01\x5a\x00\x03\x1b%G" if utf8 else b""  # 1:90 coded character set = UTF-8
    for word in keywords:
        value = word.encode("utf-8") if isinstance(word, str) else word
        records += b"\x1c\x02\x19" + struct.pack(">H", len(value)) + value
    if len(records) % 2:
        records += b"\x00"
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(records)) + records
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def jpeg_with_keywords(path: Path, seed: int, *, xmp: bytes | None = None, iptc: list[str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    noise_photo(seed, (96, 64)).save(path, "JPEG", **({"xmp": xmp} if xmp else {}))
    if iptc:
        data = path.read_bytes()
        path.write_bytes(data[:2] + iptc_segment(iptc) + data[2:])
    return path


def library_with_keywords(root: Path) -> Library:
    """Four photos, not indexed: embedded.jpg with XMP and IPTC keywords, digikam.jpg with
    digiKam's sidecar, raw/IMG_1.jpg with Lightroom's sidecar of its raw (IMG_1.xmp), and
    broken_sidecar.jpg with a truncated one."""
    jpeg_with_keywords(root / "embedded.jpg", 1, xmp=XMP_PACKET, iptc=["Straße"])
    jpeg_with_keywords(root / "digikam.jpg", 2)
    shutil.copy(DATA / "digikam.jpg.xmp", root / "digikam.jpg.xmp")
    jpeg_with_keywords(root / "raw" / "IMG_1.jpg", 3)
    shutil.copy(DATA / "lightroom.xmp", root / "raw" / "IMG_1.xmp")
    jpeg_with_keywords(root / "broken_sidecar.jpg", 4)
    shutil.copy(DATA / "truncated.xmp", root / "broken_sidecar.jpg.xmp")
    return Library.open(root)
