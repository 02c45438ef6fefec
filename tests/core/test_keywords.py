"""Keywords already in photos (XMP, IPTC) and in their sidecars become confirmed tags at
index time, without ever overriding what the user said."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from catalogue_rows import tag_path
from jobs import run_index
from keyword_photos import XMP_PACKET, iptc_segment, jpeg_with_keywords, library_with_keywords
from PIL import Image

from photo_tagger.core.keywords import embedded_paths, read_sources
from photo_tagger.core.library import Library
from photo_tagger.core.service import export_library_sidecars
from photo_tagger.core.store import settings
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.tag_names import find_tag
from photo_tagger.core.tagging import set_state, tag_labels
from photo_tagger.core.xmp import read_sidecar

DATA = Path(__file__).parent / "data"


def test_embedded_xmp_and_iptc_keywords_are_read(tmp_path: Path) -> None:
    photo = jpeg_with_keywords(tmp_path / "a.jpg", 1, xmp=XMP_PACKET, iptc=["Cat", "Straße"])
    # Cat is the leaf of Animals|Cat (one keyword); IPTC adds Straße
    assert embedded_paths(photo) == [("Animals", "Cat"), ("Holiday 2019",), ("Straße",)]
    assert embedded_paths(jpeg_with_keywords(tmp_path / "none.jpg", 2)) == []


def test_iptc_keywords_without_a_character_set_are_decoded_as_exiftool_does(tmp_path: Path) -> None:
    photo = tmp_path / "old mac.jpg"
    jpeg_with_keywords(photo, 3)
    legacy = [b"fot\x97grafo", b"medell\x92n", b"caf\xe9", "Stra\u00dfe".encode()]
    data = photo.read_bytes()
    photo.write_bytes(data[:2] + iptc_segment(legacy, utf8=False) + data[2:])
    # Mac Roman (bytes in Latin-1's C1 control range), Latin-1, and valid UTF-8
    assert embedded_paths(photo) == [("fot\u00f3grafo",), ("medell\u00edn",), ("caf\u00e9",), ("Stra\u00dfe",)]


def test_unreadable_sources_become_warnings_naming_the_file(tmp_path: Path) -> None:
    jpeg_with_keywords(tmp_path / "a.jpg", 1)
    shutil.copy(DATA / "entity_bomb.xmp", tmp_path / "a.jpg.xmp")
    embedded, sidecar = read_sources(tmp_path, "a.jpg")
    assert embedded.error is None and embedded.paths == ()
    assert sidecar.file == "a.jpg.xmp" and "a.jpg.xmp: refused XML" in (sidecar.error or "")


def photo_tags(cat: Catalogue, path: str) -> dict[str, tuple[str, str]]:
    """label -> (state, source) of the photo's confirmed and rejected tags."""
    label = tag_labels(cat)
    rows = cat.query(
        "SELECT pt.tag_id, pt.state, pt.source FROM photo_tags pt"
        " JOIN photos p ON p.id = pt.photo_id WHERE p.path = ? AND pt.state != 'suggested'",
        (path,),
    )
    return {label[tag_id]: (state, source) for tag_id, state, source in rows}


@pytest.fixture
def tagged_library(tmp_path: Path) -> Library:
    return library_with_keywords(tmp_path / "lib")


def test_indexing_imports_keywords_as_confirmed_tags_with_their_hierarchy(tagged_library: Library, embedder) -> None:
    summary = run_index(tagged_library, embedder)
    assert summary.indexed == 4
    assert any("broken_sidecar.jpg.xmp: malformed XMP" in w for w in summary.keywords.warnings)
    with tagged_library.connect() as cat:
        # A keyword is the tag at its own path: Animals|Cat is not the taxonomy's
        # animal|cat (both are named by their path, as their name is shared), Animals|Kitten
        # is not cat though Kitten is cat's synonym
        assert photo_tags(cat, "embedded.jpg") == {
            "Animals|Cat": ("confirmed", "keywords"),
            "Holiday 2019": ("confirmed", "keywords"),
            "Straße": ("confirmed", "keywords"),
        }
        assert photo_tags(cat, "digikam.jpg") == {"Kitten": ("confirmed", "keywords"),
                                                  "Garden": ("confirmed", "keywords")}
        assert tag_path(cat, "Garden") == ["Places", "Garden"]  # a new tag under a new parent
        assert tag_path(cat, "Kitten") == ["Animals", "Kitten"]
        assert tag_path(cat, "animal|cat") == ["animal", "cat"]  # the built-in tag stays where it is
        assert set(photo_tags(cat, "raw/IMG_1.jpg")) == {"Animals|Cat", "Holiday 2019"}
        assert photo_tags(cat, "broken_sidecar.jpg") == {}
    assert (tagged_library.root / "broken_sidecar.jpg.xmp").read_bytes() == (DATA / "truncated.xmp").read_bytes()


def test_keywords_never_override_the_user_and_only_new_ones_apply(tagged_library: Library, embedder) -> None:
    run_index(tagged_library, embedder)
    with tagged_library.connect() as cat:
        photo_id = cat.scalar("SELECT id FROM photos WHERE path = 'digikam.jpg'")
        set_state(cat, [photo_id], find_tag(cat, "Kitten"), "rejected")
    sidecar = tagged_library.root / "digikam.jpg.xmp"
    sidecar.write_bytes(
        sidecar.read_bytes().replace(b"<rdf:li>Garden</rdf:li>", b"<rdf:li>Garden</rdf:li><rdf:li>Sunny</rdf:li>")
    )
    os.utime(sidecar, ns=(1, 1_000_000_000))
    summary = run_index(tagged_library, embedder)
    assert summary.indexed == 0 and summary.keywords.applied == 1
    with tagged_library.connect() as cat:
        tags = photo_tags(cat, "digikam.jpg")
    assert tags["Kitten"] == ("rejected", "user") and tags["Sunny"] == ("confirmed", "keywords")


def test_our_own_sidecar_writes_are_not_imported_back(tagged_library: Library, embedder) -> None:
    run_index(tagged_library, embedder, keywords=False)
    with tagged_library.connect() as cat:
        assert photo_tags(cat, "embedded.jpg") == {}
        cat.conn.execute("UPDATE tags SET threshold = 0.01")  # every suggestion is a tag now
    summary = export_library_sidecars(tagged_library, include_suggestions=True)
    assert summary.written and len(summary.errors) == 1  # only the broken sidecar fails
    with tagged_library.connect() as cat:
        before = cat.query("SELECT photo_id, tag_id, state FROM photo_tags WHERE state = 'confirmed'")
    run_index(tagged_library, embedder)
    with tagged_library.connect() as cat:
        confirmed = cat.query(
            "SELECT photo_id, tag_id, state FROM photo_tags WHERE state = 'confirmed' AND source = 'keywords'"
        )
        # only keywords that are really in the files: embedded ones and other apps' sidecar
        # keywords; none of the suggestions we wrote
        names = {cat.scalar("SELECT name FROM tags WHERE id = ?", (row[1],)) for row in confirmed}
    assert before == [] and names <= {"Cat", "Kitten", "Holiday 2019", "Straße", "Garden"}


def test_keyword_reading_can_be_turned_off_for_the_library(tagged_library: Library, embedder) -> None:
    with tagged_library.connect() as cat:
        settings.set_keywords_enabled(cat, False)
    run_index(tagged_library, embedder)
    with tagged_library.connect() as cat:
        assert cat.scalar("SELECT count(*) FROM photo_tags WHERE source = 'keywords'") == 0
        settings.set_keywords_enabled(cat, True)
    summary = run_index(tagged_library, embedder)  # photos indexed while it was off are read now
    assert summary.indexed == 0 and summary.keywords.applied >= 6


def test_keywords_embedded_in_a_heic_photo_are_read(tmp_path: Path) -> None:
    pytest.importorskip("pillow_heif")
    packet = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag>'
        b"<rdf:li>Mittens</rdf:li><rdf:li>garden</rdf:li></rdf:Bag></dc:subject></rdf:Description>"
        b"</rdf:RDF></x:xmpmeta>"
    )
    path = tmp_path / "IMG_0001.heic"
    Image.new("RGB", (64, 48), "red").save(path, xmp=packet)
    assert embedded_paths(path) == [("Mittens",), ("garden",)]


def test_an_upper_case_sidecar_is_imported_and_export_writes_back_into_it(tmp_path: Path, embedder) -> None:
    root = tmp_path / "lib"
    jpeg_with_keywords(root / "DSC_1.JPG", 1)
    (root / "DSC_1.XMP").write_bytes(
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag>'
        b"<rdf:li>Harbour</rdf:li></rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    library = Library.open(root)
    run_index(library, embedder)
    with library.connect() as cat:
        assert photo_tags(cat, "DSC_1.JPG") == {"Harbour": ("confirmed", "keywords")}
        photo_id = cat.scalar("SELECT id FROM photos WHERE path = 'DSC_1.JPG'")
        set_state(cat, [photo_id], find_tag(cat, "cat"), "confirmed")
    summary = export_library_sidecars(library)
    assert summary.written == [root / "DSC_1.XMP"]
    sidecars = sorted(p.name for p in root.iterdir() if ".xmp" in p.name.casefold())
    assert sidecars == ["DSC_1.XMP", "DSC_1.XMP.bak", "DSC_1.XMP.orig"]
    # the file's keywords first, as they were; ours appended
    assert read_sidecar(root / "DSC_1.XMP").paths() == [("Harbour",), ("animal", "cat")]


def test_keywords_lightroom_adds_to_the_raws_sidecar_after_our_export_still_come_in(tmp_path: Path, embedder) -> None:
    root = tmp_path / "lib"
    jpeg_with_keywords(root / "IMG_1.JPG", 1)
    (root / "IMG_1.CR2").write_bytes(b"raw")
    raw_sidecar = root / "IMG_1.xmp"
    shutil.copy(DATA / "lightroom.xmp", raw_sidecar)
    library = Library.open(root)
    run_index(library, embedder)
    with library.connect() as cat:
        assert set(photo_tags(cat, "IMG_1.JPG")) == {"Animals|Cat", "Holiday 2019"}
    summary = export_library_sidecars(library)
    assert summary.written == [root / "IMG_1.JPG.xmp"]  # the raw's sidecar is Lightroom's
    assert raw_sidecar.read_bytes() == (DATA / "lightroom.xmp").read_bytes()
    assert run_index(library, embedder).keywords.applied == 0  # our own write is not news

    raw_sidecar.write_bytes(
        raw_sidecar.read_bytes()
        .replace(b"<rdf:li>Holiday 2019</rdf:li>", b"<rdf:li>Holiday 2019</rdf:li><rdf:li>Fjord Cruise</rdf:li>")
        .replace(b"<rdf:li>Animals|Cat</rdf:li>", b"<rdf:li>Animals|Cat</rdf:li><rdf:li>Trips|Fjord Cruise</rdf:li>")
    )
    os.utime(raw_sidecar, ns=(1, 1_000_000_000))
    summary = run_index(library, embedder)
    assert summary.keywords.applied == 1
    with library.connect() as cat:
        tags = photo_tags(cat, "IMG_1.JPG")
        assert tags["Fjord Cruise"] == ("confirmed", "keywords")
        assert tag_path(cat, "Fjord Cruise") == ["Trips", "Fjord Cruise"]
        assert set(tags) == {"Animals|Cat", "Holiday 2019", "Fjord Cruise"}
    assert run_index(library, embedder).keywords.applied == 0
    export_library_sidecars(library)  # and the next export carries Lightroom's new keyword
    written = read_sidecar(root / "IMG_1.JPG.xmp").paths()
    assert written == [("Animals", "Cat"), ("Holiday 2019",), ("Trips", "Fjord Cruise")]


def test_a_sidecar_recorded_by_an_earlier_version_is_still_known(tagged_library: Library, embedder) -> None:
    run_index(tagged_library, embedder)
    sidecar = tagged_library.root / "digikam.jpg.xmp"
    st = sidecar.stat()
    with tagged_library.connect() as cat:  # the row as versions that read one sidecar wrote it
        cat.conn.execute(
            "UPDATE keyword_sources SET file = 'digikam.jpg.xmp', size = ?, mtime_ns = ?,"
            " keywords = '[[\"Animals\", \"Kitten\"], [\"Places\", \"Garden\"]]'"
            " WHERE kind = 'sidecar' AND photo_id = (SELECT id FROM photos WHERE path = 'digikam.jpg')",
            (st.st_size, st.st_mtime_ns),
        )
    assert run_index(tagged_library, embedder).keywords.applied == 0
    sidecar.write_bytes(
        sidecar.read_bytes().replace(b"<rdf:li>Garden</rdf:li>", b"<rdf:li>Garden</rdf:li><rdf:li>Sunny</rdf:li>")
    )
    os.utime(sidecar, ns=(1, 1_000_000_000))
    assert run_index(tagged_library, embedder).keywords.applied == 1
