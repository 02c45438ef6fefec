"""XMP sidecars: reading what digiKam, Lightroom and darktable write, merging into them
without losing their data, refusing hostile or broken XML."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from xmp_readers import assigned_categories, exiftool_json, needs_exiftool

from photo_tagger.core import xmp_fields as xmp
from photo_tagger.core.sidecar_files import sidecar_for
from photo_tagger.core.xmp import XmpError, parse_xmp, read_sidecar, render_sidecar, write_sidecar

DATA = Path(__file__).parent / "data"


def photo_in(folder: Path, name: str = "cat.jpg") -> Path:
    from photos import noise_photo, save_photo

    return save_photo(noise_photo(1, (64, 48)), folder / name)


def without_keywords(data: bytes) -> str:
    """The sidecar with its keyword properties removed, canonicalised: what must survive."""
    root = ET.fromstring(data)
    for description in root.iter(xmp.DESCRIPTION):
        for prop in xmp.KEYWORD_PROPERTIES:
            for element in description.findall(prop):
                description.remove(element)
    return ET.canonicalize(ET.tostring(root), strip_text=True)


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("digikam.jpg.xmp", [("Animals", "Kitten"), ("Places", "Garden")]),
        ("lightroom.xmp", [("Animals", "Cat"), ("Holiday 2019",)]),
        ("darktable.jpg.xmp", [("pets", "cat"), ("sofa",)]),
    ],
)
def test_keywords_are_read_as_each_tool_writes_them(fixture: str, expected: list) -> None:
    assert read_sidecar(DATA / fixture).paths() == expected


def test_darktable_bookkeeping_tags_are_not_keywords_but_are_kept() -> None:
    keywords = read_sidecar(DATA / "darktable.jpg.xmp")
    assert ("darktable", "format", "jpg") in keywords.paths(internal=True)
    assert ("darktable", "format", "jpg") not in keywords.paths()


@pytest.mark.parametrize("fixture", ["entity_bomb.xmp", "external_entity.xmp"])
def test_entity_bombs_and_external_entities_are_refused(fixture: str, tmp_path: Path) -> None:
    with pytest.raises(XmpError, match=fixture):
        read_sidecar(DATA / fixture)
    photo = photo_in(tmp_path)
    sidecar = tmp_path / "cat.jpg.xmp"
    shutil.copy(DATA / fixture, sidecar)
    before = sidecar.read_bytes()
    with pytest.raises(XmpError, match="DTD or entities"):
        write_sidecar(photo, [("cat",)])
    assert sidecar.read_bytes() == before
    assert not (tmp_path / "cat.jpg.xmp.bak").exists()


def test_a_malformed_sidecar_is_named_and_left_untouched(tmp_path: Path) -> None:
    photo = photo_in(tmp_path)
    sidecar = tmp_path / "cat.jpg.xmp"
    shutil.copy(DATA / "truncated.xmp", sidecar)
    before = sidecar.read_bytes()
    with pytest.raises(XmpError, match=r"cat\.jpg\.xmp: malformed XMP"):
        write_sidecar(photo, [("cat",)])
    assert sidecar.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.jpg", "cat.jpg.xmp"]


def test_xml_that_is_not_xmp_is_not_rewritten(tmp_path: Path) -> None:
    photo = photo_in(tmp_path)
    shutil.copy(DATA / "not_xmp.xmp", tmp_path / "cat.jpg.xmp")
    with pytest.raises(XmpError, match="no rdf:RDF"):
        write_sidecar(photo, [("cat",)])


@pytest.mark.parametrize("fixture", ["digikam.jpg.xmp", "lightroom.xmp", "darktable.jpg.xmp"])
def test_merging_keeps_everything_but_the_keywords(fixture: str) -> None:
    original = (DATA / fixture).read_bytes()
    merged = render_sidecar(original, [("animal", "cat"), ("Holiday",)], fixture)
    assert parse_xmp(merged, fixture).paths() == [("animal", "cat"), ("Holiday",)]
    assert without_keywords(merged) == without_keywords(original)


def test_digikam_reads_its_own_tag_list_first_so_that_is_rewritten_too() -> None:
    merged = render_sidecar((DATA / "digikam.jpg.xmp").read_bytes(), [("animal", "cat")])
    root = ET.fromstring(merged)
    tags_list = [li.text for li in root.iter(f"{{{xmp.RDF}}}li") if li.text and "/" in li.text]
    assert tags_list == ["animal/cat", "animal/cat"]  # digiKam:TagsList, MicrosoftPhoto:LastKeywordXMP
    assert b"Kitten" not in merged


def test_a_new_sidecar_has_subjects_and_hierarchical_subjects(tmp_path: Path) -> None:
    photo = photo_in(tmp_path)
    photo_bytes = photo.read_bytes()
    photo_mtime = photo.stat().st_mtime_ns
    result = write_sidecar(photo, [("animal", "cat"), ("Holiday",)])
    assert result.path == tmp_path / "cat.jpg.xmp" and result.changed and result.backup is None
    root = ET.fromstring(result.path.read_bytes())
    subjects = [li.text for li in root.find(f".//{xmp.SUBJECT}").iter(f"{{{xmp.RDF}}}li")]
    hierarchical = [li.text for li in root.find(f".//{xmp.HIERARCHICAL}").iter(f"{{{xmp.RDF}}}li")]
    assert subjects == ["cat", "Holiday"]
    assert hierarchical == ["animal|cat", "Holiday"]
    assert result.path.read_bytes().startswith(b"<?xpacket begin=")
    assert result.path.stat().st_mode & 0o044 == 0o044  # other tools can read it
    assert photo.read_bytes() == photo_bytes and photo.stat().st_mtime_ns == photo_mtime


def test_an_existing_photo_xmp_is_updated_instead_of_adding_a_second_sidecar(tmp_path: Path) -> None:
    photo = photo_in(tmp_path)
    shutil.copy(DATA / "lightroom.xmp", tmp_path / "cat.xmp")
    result = write_sidecar(photo, [("cat",)])
    assert result.path == tmp_path / "cat.xmp"
    assert not (tmp_path / "cat.jpg.xmp").exists()
    assert result.backup == tmp_path / "cat.xmp.bak"
    assert result.backup.read_bytes() == (DATA / "lightroom.xmp").read_bytes()
    assert read_sidecar(result.path).paths() == [("Cat",)]  # the file's own spelling of it stays


def test_photo_xmp_shared_by_two_photos_is_left_to_its_owner(tmp_path: Path) -> None:
    photo = photo_in(tmp_path)
    (tmp_path / "cat.cr2").write_bytes(b"raw")
    shutil.copy(DATA / "lightroom.xmp", tmp_path / "cat.xmp")
    assert sidecar_for(photo) == tmp_path / "cat.xmp"  # read: the raw's keywords are this photo's
    assert write_sidecar(photo, [("cat",)]).path == tmp_path / "cat.jpg.xmp"
    assert (tmp_path / "cat.xmp").read_bytes() == (DATA / "lightroom.xmp").read_bytes()


def test_rewriting_the_same_keywords_changes_nothing(tmp_path: Path) -> None:
    photo = photo_in(tmp_path)
    first = write_sidecar(photo, [("animal", "cat")])
    second = write_sidecar(photo, [("animal", "cat")])
    assert not second.changed and second.backup is None
    assert not first.path.with_name("cat.jpg.xmp.bak").exists()


def test_no_keywords_removes_the_keyword_properties(tmp_path: Path) -> None:
    merged = render_sidecar((DATA / "darktable.jpg.xmp").read_bytes(), [])
    assert parse_xmp(merged, "x").paths() == []
    assert b'xmp:Rating="2"' in merged


def as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


@needs_exiftool
def test_exiftool_reads_back_what_we_wrote(tmp_path: Path) -> None:
    photo = photo_in(tmp_path)
    result = write_sidecar(photo, [("animal", "cat"), ("Holiday 2019",), ("Café",)])
    tags = exiftool_json(result.path)
    assert as_list(tags["Subject"]) == ["cat", "Holiday 2019", "Café"]
    assert as_list(tags["HierarchicalSubject"]) == ["animal|cat", "Holiday 2019", "Café"]


@needs_exiftool
@pytest.mark.parametrize("fixture", ["digikam.jpg.xmp", "lightroom.xmp", "darktable.jpg.xmp"])
def test_exiftool_sees_the_other_apps_fields_unchanged_after_a_merge(fixture: str, tmp_path: Path) -> None:
    original = tmp_path / "original.xmp"
    shutil.copy(DATA / fixture, original)
    merged = tmp_path / "merged.xmp"
    merged.write_bytes(render_sidecar(original.read_bytes(), [("animal", "cat")]))
    before, after = exiftool_json(original), exiftool_json(merged)
    keyword_fields = {"Subject", "HierarchicalSubject", "TagsList", "LastKeywordXMP", "CatalogSets", "SourceFile"}
    assert {k: v for k, v in after.items() if k not in keyword_fields} == {
        k: v for k, v in before.items() if k not in keyword_fields
    }
    assert as_list(after["HierarchicalSubject"])[0] == "animal|cat"


# Photo Mechanic's layout: dc:subject only, plus its own fields, in `photo.XMP`
PHOTO_MECHANIC = b"""<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Photo Mechanic 6">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:photomechanic="http://ns.camerabits.com/photomechanic/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    photomechanic:ColorClass="3" photomechanic:Tagged="True">
   <dc:subject>
    <rdf:Bag>
     <rdf:li>Harbour</rdf:li>
     <rdf:li>Boats</rdf:li>
    </rdf:Bag>
   </dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


@pytest.mark.parametrize("name", ["cat.XMP", "cat.jpg.XMP", "cat.JPG.xmp", "cat.Jpg.Xmp"])
def test_a_sidecar_is_found_in_any_case_of_its_extensions_and_updated_in_place(name: str, tmp_path: Path) -> None:
    photo = photo_in(tmp_path)
    (tmp_path / name).write_bytes(PHOTO_MECHANIC)
    assert sidecar_for(photo) == tmp_path / name
    assert read_sidecar(sidecar_for(photo)).paths() == [("Harbour",), ("Boats",)]
    result = write_sidecar(photo, [("Harbour",), ("Boats",), ("animal", "cat")])
    assert result.path == tmp_path / name
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.casefold().endswith(".xmp")) == [name]
    assert read_sidecar(tmp_path / name).paths() == [("Harbour",), ("Boats",), ("animal", "cat")]
    assert b'photomechanic:ColorClass="3"' in (tmp_path / name).read_bytes()


@needs_exiftool
def test_exiftool_reads_our_keywords_from_photo_mechanics_upper_case_sidecar(tmp_path: Path) -> None:
    photo = photo_in(tmp_path)
    (tmp_path / "cat.XMP").write_bytes(PHOTO_MECHANIC)
    write_sidecar(photo, [("Harbour",), ("animal", "cat")])
    tags = exiftool_json(tmp_path / "cat.XMP")
    assert as_list(tags["Subject"]) == ["Harbour", "cat"]
    assert as_list(tags["HierarchicalSubject"]) == ["Harbour", "animal|cat"]
    assert tags["ColorClass"] == "3 (Superior)" and tags["Tagged"] == "Yes"  # theirs, kept


def test_the_other_apps_original_sidecar_survives_two_exports_byte_identical(tmp_path: Path) -> None:
    photo = photo_in(tmp_path)
    sidecar = tmp_path / "cat.jpg.xmp"
    shutil.copy(DATA / "digikam.jpg.xmp", sidecar)
    first = write_sidecar(photo, [("animal", "cat")])
    assert first.original == tmp_path / "cat.jpg.xmp.orig"
    after_first = sidecar.read_bytes()
    second = write_sidecar(photo, [("animal", "cat"), ("Holiday",)])
    assert second.original is None
    assert (tmp_path / "cat.jpg.xmp.orig").read_bytes() == (DATA / "digikam.jpg.xmp").read_bytes()
    assert (tmp_path / "cat.jpg.xmp.bak").read_bytes() == after_first  # the previous version
    assert read_sidecar(tmp_path / "cat.jpg.xmp.orig").paths() == [("Animals", "Kitten"), ("Places", "Garden")]
    assert read_sidecar(sidecar).paths() == [("animal", "cat"), ("Holiday",)]


def test_a_sidecar_we_created_gets_no_original_copy(tmp_path: Path) -> None:
    photo = photo_in(tmp_path)
    write_sidecar(photo, [("animal", "cat")])
    second = write_sidecar(photo, [("dog",)])
    assert second.original is None and second.backup == tmp_path / "cat.jpg.xmp.bak"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.jpg", "cat.jpg.xmp", "cat.jpg.xmp.bak"]


# digiKam's layout after ExifTool has rewritten it: MicrosoftPhoto under ExifTool's
# namespace (no trailing slash), and ACDSee's categories as an XML string
DIGIKAM_EXIFTOOL = b"""<?xpacket begin='\xef\xbb\xbf' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x='adobe:ns:meta/' x:xmptk='Image::ExifTool 12.57'>
<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>
 <rdf:Description rdf:about=''
  xmlns:MicrosoftPhoto='http://ns.microsoft.com/photo/1.0'>
  <MicrosoftPhoto:LastKeywordXMP>
   <rdf:Bag>
    <rdf:li>Places/Paris</rdf:li>
    <rdf:li>People/Anna</rdf:li>
   </rdf:Bag>
  </MicrosoftPhoto:LastKeywordXMP>
 </rdf:Description>
 <rdf:Description rdf:about=''
  xmlns:acdsee='http://ns.acdsee.com/iptc/1.0/'>
  <acdsee:categories>CATEGORIES</acdsee:categories>
 </rdf:Description>
 <rdf:Description rdf:about=''
  xmlns:dc='http://purl.org/dc/elements/1.1/'
  xmlns:digiKam='http://www.digikam.org/ns/1.0/'
  xmlns:xmp='http://ns.adobe.com/xap/1.0/'>
  <dc:subject>
   <rdf:Bag>
    <rdf:li>Paris</rdf:li>
    <rdf:li>Anna</rdf:li>
   </rdf:Bag>
  </dc:subject>
  <digiKam:TagsList>
   <rdf:Seq>
    <rdf:li>Places/Paris</rdf:li>
    <rdf:li>People/Anna</rdf:li>
   </rdf:Seq>
  </digiKam:TagsList>
  <xmp:Rating>4</xmp:Rating>
 </rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end='w'?>
""".replace(
    b"CATEGORIES",
    escape(
        '<Categories><Category Assigned="1">Places<Category Assigned="1">Paris</Category></Category>'
        '<Category Assigned="0">People<Category Assigned="1">Anna</Category></Category>'
        '<Category Assigned="0">Events</Category></Categories>'
    ).encode(),
)


def test_exiftools_spelling_of_the_microsoft_namespace_is_read() -> None:
    first_description = DIGIKAM_EXIFTOOL.split(b" <rdf:Description rdf:about=''\n  xmlns:acdsee")[0]
    only_microsoft = first_description + b"</rdf:RDF></x:xmpmeta>"
    assert parse_xmp(only_microsoft, "x").paths() == [("Places", "Paris"), ("People", "Anna")]


def test_stale_keyword_copies_are_updated_a_removed_tag_removed_an_added_one_added(tmp_path: Path) -> None:
    photo = photo_in(tmp_path)
    sidecar = tmp_path / "cat.jpg.xmp"
    sidecar.write_bytes(DIGIKAM_EXIFTOOL)
    write_sidecar(photo, [("People", "Anna"), ("animal", "cat")])  # Paris removed, cat added
    root = ET.fromstring(sidecar.read_bytes())
    last = [li.text for li in root.find(f".//{xmp.LAST_KEYWORD_EXIFTOOL}").iter(f"{{{xmp.RDF}}}li")]
    assert last == ["People/Anna", "animal/cat"]
    assert root.find(f".//{xmp.LAST_KEYWORD}") is None  # not a second copy under the other spelling
    categories = root.find(f".//{xmp.CATEGORIES}").text
    assert assigned_categories(categories) == [("People", "Anna"), ("animal", "cat")]
    assert '<Category Assigned="0">Events</Category>' in categories  # ACDSee's own structure
    assert read_sidecar(sidecar).paths() == [("People", "Anna"), ("animal", "cat")]
    assert b"<xmp:Rating>4</xmp:Rating>" in sidecar.read_bytes()


@needs_exiftool
def test_exiftool_reads_the_updated_keyword_copies(tmp_path: Path) -> None:
    photo = photo_in(tmp_path)
    sidecar = tmp_path / "cat.jpg.xmp"
    sidecar.write_bytes(DIGIKAM_EXIFTOOL)
    write_sidecar(photo, [("People", "Anna"), ("animal", "cat")])
    tags = exiftool_json(sidecar)
    assert as_list(tags["LastKeywordXMP"]) == ["People/Anna", "animal/cat"]
    assert as_list(tags["TagsList"]) == ["People/Anna", "animal/cat"]
    assert as_list(tags["Subject"]) == ["Anna", "cat"]
    assert assigned_categories(tags["Categories"]) == [("People", "Anna"), ("animal", "cat")]
    assert "Paris" not in json.dumps(tags) and tags["Rating"] == 4


def li_texts(data: bytes, prop: str) -> list[str]:
    element = ET.fromstring(data).find(f".//{prop}")
    return [li.text or "" for li in element.iter(f"{{{xmp.RDF}}}li")]


def test_a_separator_inside_a_tag_name_is_written_as_a_look_alike_in_that_field_only() -> None:
    merged = render_sidecar((DATA / "digikam.jpg.xmp").read_bytes(), [("Style", "Black/White"), ("Rock|Pop",)])
    assert li_texts(merged, xmp.SUBJECT) == ["Black/White", "Rock|Pop"]
    assert li_texts(merged, xmp.HIERARCHICAL) == ["Style|Black/White", "Rock\u2223Pop"]
    assert li_texts(merged, xmp.TAGS_LIST) == ["Style/Black\u2215White", "Rock|Pop"]  # one tag to digiKam
    assert li_texts(merged, xmp.LAST_KEYWORD) == ["Style/Black\u2215White", "Rock|Pop"]
    # and read back as the names we wrote, not as nested tags
    assert parse_xmp(merged, "x").paths() == [("Style", "Black/White"), ("Rock|Pop",)]


@needs_exiftool
def test_exiftool_sees_one_tag_per_name_holding_a_separator(tmp_path: Path) -> None:
    photo = photo_in(tmp_path)
    shutil.copy(DATA / "digikam.jpg.xmp", tmp_path / "cat.jpg.xmp")
    write_sidecar(photo, [("Style", "Black/White"), ("Rock|Pop",)])
    tags = exiftool_json(tmp_path / "cat.jpg.xmp")
    assert as_list(tags["TagsList"]) == ["Style/Black\u2215White", "Rock|Pop"]
    assert as_list(tags["HierarchicalSubject"]) == ["Style|Black/White", "Rock\u2223Pop"]
    assert as_list(tags["Subject"]) == ["Black/White", "Rock|Pop"]
    assert [item.split("/") for item in as_list(tags["TagsList"])] == [["Style", "Black\u2215White"], ["Rock|Pop"]]
