"""The XMP fields that hold keywords, and how each spells a keyword path: shared by the
reader (xmp.py) and the writer (xmp_edit.py)."""

from __future__ import annotations

from collections.abc import Sequence

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
    RDF: "rdf",
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
RDF_RDF = f"{{{RDF}}}RDF"
LI = f"{{{RDF}}}li"
CONTAINERS = (f"{{{RDF}}}Bag", f"{{{RDF}}}Seq", f"{{{RDF}}}Alt")
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


def is_internal(path: Sequence[str]) -> bool:
    return len(path) > 1 and path[0].casefold() in INTERNAL_ROOTS


def split_path(value: str, separator: str) -> tuple[str, ...]:
    """`Places|Paris` -> ('Places', 'Paris'); a look-alike reads as the separator."""
    parts = (part.strip().replace(LOOK_ALIKES[separator], separator) for part in value.split(separator))
    return tuple(part for part in parts if part)


def join_path(path: Sequence[str], separator: str) -> str:
    return separator.join(part.replace(separator, LOOK_ALIKES[separator]) for part in path)
