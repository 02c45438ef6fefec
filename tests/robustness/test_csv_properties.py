"""Property tests: whatever a user names their tags and files, CSV export then import
gives back exactly the confirmed tags, and spreadsheet formulas never survive as such."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from robustness.common import add_synthetic_photos, confirmed_by_path

from photo_tagger.core.csv_io import (
    FORMULA_PREFIXES,
    MAX_IMPORT_BYTES,
    export_rows,
    import_csv,
    neutralise_cell,
    restore_cell,
    write_csv,
)
from photo_tagger.core.errors import UserError
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.tagging import ensure_tag, set_state
from photo_tagger.core.taxonomy import validate_tag_name

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

# Everything SQLite TEXT and the file system can hold: no NUL, no lone surrogates.
any_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
awkward = st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", '"', ",", ";", "\n", " ", "\\", "é", "👍", "\u2028"])
name_text = st.lists(st.one_of(awkward, any_text), min_size=1, max_size=4).map("".join)


def _valid_tag(text: str) -> str | None:
    try:
        return validate_tag_name(text)
    except ValueError:
        return None


# '|' in an imported cell separates a keyword path (Pets|Rex), so names here have none.
tag_names = name_text.map(_valid_tag).filter(lambda name: name is not None and "|" not in name)
# A catalogue key: '/'-separated segments, each a non-empty file name other than . and ..
segment = name_text.map(lambda s: s.replace("/", "_")).filter(lambda s: s not in ("", ".", ".."))
photo_paths = st.lists(segment, min_size=1, max_size=3).map("/".join)


@given(st.one_of(any_text, st.tuples(st.sampled_from([*FORMULA_PREFIXES, "'", "''"]), any_text).map("".join)))
@SETTINGS
def test_neutralised_cells_restore_exactly_and_never_start_a_formula(value: str) -> None:
    cell = neutralise_cell(value)
    assert restore_cell(cell) == value
    assert not cell.startswith(FORMULA_PREFIXES)


@given(
    photos=st.lists(photo_paths, min_size=1, max_size=5, unique=True),
    tags=st.lists(tag_names, min_size=1, max_size=6, unique_by=lambda n: n.translate(_ASCII_LOWER)),
    data=st.data(),
)
@SETTINGS
def test_confirmed_tags_round_trip_through_csv(photos: list[str], tags: list[str], data: st.DataObject) -> None:
    chosen = {path: data.draw(st.sets(st.sampled_from(tags)), label=path) for path in photos}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with Catalogue(folder / "a.sqlite") as source:
            ids = add_synthetic_photos(source, photos)
            for path, names in chosen.items():
                for name in names:
                    set_state(source, [ids[path]], ensure_tag(source, name), "confirmed")
            write_csv(export_rows(source, confirmed_only=True), folder / "tags.csv")
            expected = confirmed_by_path(source)
        with Catalogue(folder / "b.sqlite") as target:
            add_synthetic_photos(target, photos)
            summary = import_csv(target, folder, folder / "tags.csv")
            assert summary.unknown_paths == [] and summary.problems == []
            assert confirmed_by_path(target) == expected
            import_csv(target, folder, folder / "tags.csv")  # importing again changes nothing
            assert confirmed_by_path(target) == expected
    assert expected == {path: names for path, names in chosen.items() if names}


def test_an_oversized_csv_is_refused_with_a_message(tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as fh:  # sparse: costs no disk
        fh.write(b"path,tags\n")
        fh.truncate(MAX_IMPORT_BYTES + 1)
    with Catalogue(tmp_path / "c.sqlite") as cat:
        with pytest.raises(UserError, match=r"huge\.csv: file too large to import"):
            import_csv(cat, tmp_path, huge)
