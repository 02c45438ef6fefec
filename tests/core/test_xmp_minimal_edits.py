"""Write-back is a minimal edit: in each program's own sidecar
layout, confirming or removing a keyword changes that keyword's lines in every keyword
field the file uses, following the file's conventions, and no other byte. exiftool is
the third-party reader."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import pytest
from xmp_readers import assigned_categories, exiftool_json, needs_exiftool

from photo_tagger.core.xmp import XmpError, read_sidecar, render_sidecar, write_sidecar

DATA = Path(__file__).parent / "data"
LAYOUTS = DATA / "layouts"
# exiftool's tag -> the separator of its hierarchical values
HIERARCHICAL_TAGS = {"HierarchicalSubject": "|", "TagsList": "/", "LastKeywordXMP": "/", "CatalogSets": "|"}
KEYWORD_TAGS = {"Subject", "Categories", *HIERARCHICAL_TAGS}
NEW = ("Places", "Norway", "Tromsø")


@dataclass(frozen=True)
class Layout:
    file: str
    ancestors_in_subject: bool  # dc:subject lists `Places`, `Iceland` for `Places|Iceland|Vik`
    exiftool_spelling: bool = False  # MicrosoftPhoto's namespace without its trailing slash

    def data(self) -> bytes:
        data = (LAYOUTS / self.file).read_bytes()
        if self.exiftool_spelling:
            data = data.replace(b'"http://ns.microsoft.com/photo/1.0/"', b'"http://ns.microsoft.com/photo/1.0"')
            assert b"photo/1.0/" not in data
        return data


ALL = [
    pytest.param(Layout("darktable.xmp", True), id="darktable"),
    pytest.param(Layout("lightroom_classic.xmp", True), id="lightroom-classic"),
    pytest.param(Layout("digikam.xmp", False), id="digikam"),
    pytest.param(Layout("digikam.xmp", False, exiftool_spelling=True), id="digikam-exiftool-namespace"),
    pytest.param(Layout("photo_mechanic.XMP", False), id="photo-mechanic"),
    pytest.param(Layout("bridge_bom_padding.xmp", False), id="bridge-bom-padding"),
]


def exiftool(path: Path) -> dict:
    tags = exiftool_json(path)
    del tags["SourceFile"]
    return {k: v if isinstance(v, list) or k not in KEYWORD_TAGS - {"Categories"} else [v] for k, v in tags.items()}


def keywords(tags: dict) -> dict:
    fields = {k: v for k, v in tags.items() if k in KEYWORD_TAGS}
    if "Categories" in fields:
        fields["Categories"] = sorted(assigned_categories(fields["Categories"]))
    return fields


def others(tags: dict) -> dict:
    return {k: v for k, v in tags.items() if k not in KEYWORD_TAGS}


def edited(layout: Layout, tmp_path: Path, change) -> tuple[Path, Path]:
    """The layout's file, and the file after `change(old paths) -> final paths`."""
    before = tmp_path / "before.xmp"
    before.write_bytes(layout.data())
    after = tmp_path / "after.xmp"
    after.write_bytes(render_sidecar(layout.data(), change(read_sidecar(before).paths(internal=True))))
    return before, after


def changed_lines(old: bytes, new: bytes) -> tuple[list[str], list[str]]:
    """(lines of `old` gone, lines of `new` added), stripped; the rest is in order. Not
    counting digiKam's acdsee:categories attribute: one line, one keyword field."""
    a, b = old.decode().splitlines(), new.decode().splitlines()
    removed, added = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            removed += [line.strip() for line in a[i1:i2]]
        if tag in ("replace", "insert"):
            added += [line.strip() for line in b[j1:j2]]

    def keywords_only(lines: list[str]) -> list[str]:
        return [line for line in lines if not line.startswith("acdsee:categories=")]

    return keywords_only(removed), keywords_only(added)


def li(value: str) -> str:
    return f"<rdf:li>{value}</rdf:li>"


@needs_exiftool
@pytest.mark.parametrize("layout", ALL)
def test_confirming_one_more_path_adds_exactly_it_to_every_keyword_field(layout: Layout, tmp_path: Path) -> None:
    before, after = edited(layout, tmp_path, lambda paths: [*paths, NEW])
    old, new = keywords(exiftool(before)), keywords(exiftool(after))
    names = list(NEW) if layout.ancestors_in_subject else [NEW[-1]]
    expected = {**old, "Subject": old["Subject"] + [n for n in names if n not in old["Subject"]]}
    for tag, separator in HIERARCHICAL_TAGS.items():
        if tag in old:
            expected[tag] = old[tag] + [separator.join(NEW)]
    if not any(tag in old for tag in HIERARCHICAL_TAGS):  # a home for the path, holding every keyword
        expected["HierarchicalSubject"] = old["Subject"] + ["|".join(NEW)]
    if "Categories" in old:
        expected["Categories"] = sorted([*old["Categories"], NEW])
    assert new == expected
    assert read_sidecar(after).paths(internal=True) == [*read_sidecar(before).paths(internal=True), NEW]


@needs_exiftool
@pytest.mark.parametrize("layout", ALL)
def test_an_edit_keeps_every_other_field_as_exiftool_reads_it(layout: Layout, tmp_path: Path) -> None:
    before, after = edited(layout, tmp_path, lambda paths: [*paths[1:], NEW])
    assert others(exiftool(after)) == others(exiftool(before))


@pytest.mark.parametrize("layout", ALL)
def test_adding_a_path_only_adds_lines_and_keeps_bom_and_padding(layout: Layout, tmp_path: Path) -> None:
    before, after = edited(layout, tmp_path, lambda paths: [*paths, NEW])
    old, new = before.read_bytes(), after.read_bytes()
    removed, added = changed_lines(old, new)
    assert removed == []  # every line of the old file is still there, in order
    ours = {li(v) for v in [*NEW, "|".join(NEW), "/".join(NEW)]}
    if b"lr:hierarchicalSubject" not in old:  # the home made for the path: one new property
        ours |= {li("|".join(p)) for p in read_sidecar(before).paths()} | {"<rdf:Bag>", "</rdf:Bag>",
                 '<lr:hierarchicalSubject xmlns:lr="http://ns.adobe.com/lightroom/1.0/">', "</lr:hierarchicalSubject>"}
    assert set(added) <= ours and added
    assert new.startswith(old[:3]) and old.endswith(new[new.index(b"</x:xmpmeta>"):])  # BOM, padding


REMOVALS = [
    # layout, path removed, dc:subject values that go with it
    (Layout("darktable.xmp", True), ("Places", "Iceland", "Reykjavik"), ["Reykjavik"]),
    (Layout("lightroom_classic.xmp", True), ("Places", "Iceland", "Vik"), ["Vik"]),
    (Layout("digikam.xmp", False), ("Places", "France", "Paris"), ["Paris"]),
    (Layout("digikam.xmp", False, exiftool_spelling=True), ("People", "Niaz"), ["Niaz"]),
    (Layout("photo_mechanic.XMP", False), ("Boats",), ["Boats"]),
    (Layout("bridge_bom_padding.xmp", False), ("coffee",), ["coffee"]),
]


@needs_exiftool
@pytest.mark.parametrize(("layout", "path", "subjects"), REMOVALS)
def test_removing_a_path_removes_it_from_every_field_and_nothing_else(
    layout: Layout, path: tuple[str, ...], subjects: list[str], tmp_path: Path
) -> None:
    before, after = edited(layout, tmp_path, lambda paths: [p for p in paths if p != path])
    old, new = keywords(exiftool(before)), keywords(exiftool(after))
    expected = {**old, "Subject": [s for s in old["Subject"] if s not in subjects]}
    for tag, separator in HIERARCHICAL_TAGS.items():
        if tag in old:
            expected[tag] = [v for v in old[tag] if v != separator.join(path)]
    if "Categories" in old:
        expected["Categories"] = [c for c in old["Categories"] if c != path]
    assert new == expected
    removed, added = changed_lines(before.read_bytes(), after.read_bytes())
    assert added == []
    lines = {li(v) for v in [*subjects, "|".join(path), "/".join(path)]}
    assert removed and set(removed) <= lines


@pytest.mark.parametrize("layout", [Layout("darktable.xmp", True), Layout("lightroom_classic.xmp", True)])
def test_ancestors_leave_dc_subject_with_the_last_path_that_needs_them(layout: Layout, tmp_path: Path) -> None:
    before, after = edited(layout, tmp_path, lambda paths: [p for p in paths if p[:2] != ("Places", "Iceland")])
    removed, added = changed_lines(before.read_bytes(), after.read_bytes())
    assert added == []
    gone = ["Iceland", "Places", "Reykjavik", "Vik", "Places|Iceland|Reykjavik", "Places|Iceland|Vik"]
    assert sorted(removed) == sorted(li(v) for v in gone)


@pytest.mark.parametrize(
    "layout",
    [*ALL, *(Layout(f"../{name}", False) for name in ("lightroom.xmp", "digikam.jpg.xmp", "darktable.jpg.xmp"))],
)
def test_the_same_keywords_in_any_case_leave_the_file_byte_identical(layout: Layout) -> None:
    data = layout.data()
    paths = read_sidecar(LAYOUTS / layout.file).paths(internal=True)
    assert render_sidecar(data, paths) == data
    assert render_sidecar(data, [tuple(part.swapcase() for part in p) for p in paths]) == data


def test_a_file_listing_only_leaves_gets_only_the_leaf(tmp_path: Path) -> None:
    data = (DATA / "darktable.jpg.xmp").read_bytes()  # `pets|cat` with only `cat` in dc:subject
    merged = render_sidecar(data, [*read_sidecar(DATA / "darktable.jpg.xmp").paths(internal=True), NEW])
    removed, added = changed_lines(data, merged)
    assert removed == [] and added == [li("Tromsø"), li("Places|Norway|Tromsø")]


def test_a_name_holding_the_separator_is_appended_with_its_look_alike() -> None:
    data = Layout("digikam.xmp", False).data()
    merged = render_sidecar(data, [*read_sidecar(LAYOUTS / "digikam.xmp").paths(), ("Style", "Black/White")])
    removed, added = changed_lines(data, merged)
    assert removed == []
    assert added == [li("Style/Black\u2215White"), li("Style/Black\u2215White"), li("Style|Black/White"),
                     li("Style|Black/White"), li("Black/White")]  # TagsList, LastKeywordXMP, lr, mediapro, dc
    assert ("Style", "Black/White") in read_sidecar_bytes(merged)


def read_sidecar_bytes(data: bytes) -> list[tuple[str, ...]]:
    from photo_tagger.core.xmp import parse_xmp

    return parse_xmp(data, "x").paths()


# Lightroom's sidecar for a raw with develop settings and no keywords yet: one
# self-closing rdf:Description, Windows line breaks
LIGHTROOM_NO_KEYWORDS = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000, 0000/00/00-00:00:00        ">\r\n'
    b' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\r\n'
    b'  <rdf:Description rdf:about=""\r\n'
    b'    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"\r\n'
    b'   crs:Version="15.4"\r\n'
    b'   crs:Exposure2012="+0.35"\r\n'
    b'   crs:HasSettings="True"/>\r\n'
    b" </rdf:RDF>\r\n"
    b"</x:xmpmeta>\r\n"
)


@needs_exiftool
def test_a_sidecar_without_keywords_gets_subject_and_hierarchical_subject(tmp_path: Path) -> None:
    (tmp_path / "before.xmp").write_bytes(LIGHTROOM_NO_KEYWORDS)
    after = tmp_path / "after.xmp"
    after.write_bytes(render_sidecar(LIGHTROOM_NO_KEYWORDS, [NEW, ("sunset",)]))
    tags = exiftool(after)
    assert tags["Subject"] == ["Tromsø", "sunset"]
    assert tags["HierarchicalSubject"] == ["Places|Norway|Tromsø", "sunset"]
    assert others(tags) == others(exiftool(tmp_path / "before.xmp"))
    assert b"\n" not in after.read_bytes().replace(b"\r\n", b"")  # still Windows line breaks
    assert after.read_bytes().startswith(LIGHTROOM_NO_KEYWORDS.split(b'"/>')[0])


def test_a_flat_keyword_adds_no_field_the_file_does_not_use() -> None:
    data = Layout("photo_mechanic.XMP", False).data()
    merged = render_sidecar(data, [("Harbour",), ("Boats",), ("sunset",)])
    assert changed_lines(data, merged) == ([], [li("sunset")])


def test_removing_every_keyword_removes_only_the_keyword_properties() -> None:
    data = Layout("lightroom_classic.xmp", True).data()
    removed, added = changed_lines(data, render_sidecar(data, []))
    subjects = [li(v) for v in ["Iceland", "Places", "Reykjavik", "Vik", "sunset"]]
    hierarchical = [li(v) for v in ["Places|Iceland|Reykjavik", "Places|Iceland|Vik", "sunset"]]
    assert added == []
    bag = ["<rdf:Bag>", "</rdf:Bag>"]
    assert removed == ["<dc:subject>", bag[0], *subjects, bag[1], "</dc:subject>",
                       "<lr:hierarchicalSubject>", bag[0], *hierarchical, bag[1], "</lr:hierarchicalSubject>"]


def test_a_sidecar_in_another_encoding_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    from photos import noise_photo, save_photo

    photo = save_photo(noise_photo(1, (32, 24)), tmp_path / "cat.jpg")
    text = Layout("photo_mechanic.XMP", False).data().decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    sidecar = tmp_path / "cat.jpg.xmp"
    sidecar.write_bytes(text.encode("utf-16"))
    with pytest.raises(XmpError, match=r"cat\.jpg\.xmp: sidecar not in UTF-8"):
        write_sidecar(photo, [("Harbour",)])
    assert sidecar.read_bytes() == text.encode("utf-16")
