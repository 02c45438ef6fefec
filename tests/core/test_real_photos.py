"""The shipped suggestions on a few real photos (a slice of ../shared/devset, read in place).

The devset is for measuring only and never enters the repo: these tests link its photos into
a temporary library and skip where the folder is not beside the project. The photos with
large faces were picked by eye; the others are the first devset photos (by name) whose COCO
labels hold the class and at most one other.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from photo_tagger.core import service
from photo_tagger.core.library import Library
from photo_tagger.core.progress import run_to_end

DEVSET = Path(os.environ.get("PHOTO_TAGGER_DEVSET", Path(__file__).resolve().parents[2].parent / "shared" / "devset"))
LARGE_FACES = ["cocotiny-train2017_000000253956.jpg", "cocotiny-val2017_000000020992.jpg",
               "cocotiny-val2017_000000324614.jpg"]
BY_TAG = {
    "car": ["cocotiny-train2017_000000360449.jpg", "lztinycoco-val2017_000000322864.jpg"],
    "banana": ["cocotiny-val2017_000000269314.jpg", "mintoval-val2017_000000090891.jpg"],
    "toilet": ["cocotiny-train2017_000000286720.jpg", "cocotiny-train2017_000000507904.jpg"],
}
ZEBRA = "cocotiny-train2017_000000499716.jpg"

pytestmark = pytest.mark.skipif(not (DEVSET / "labels.csv").is_file(), reason=f"no devset at {DEVSET}")


@pytest.fixture(scope="module")
def effective_tags(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """File name -> the tags the app shows on it (confirmed + suggested at threshold)."""
    root = tmp_path_factory.mktemp("devslice") / "Photos"
    root.mkdir()
    for name in [*LARGE_FACES, ZEBRA, *(n for names in BY_TAG.values() for n in names)]:
        (root / name).symlink_to(DEVSET / "images" / name)
    library = Library.open(root)
    run_to_end(service.index(library, keywords=False))  # Flickr's own keywords would confirm tags
    out = root.parent / "tags.csv"
    service.export_library_csv(library, out)
    with open(out, newline="", encoding="utf-8") as fh:
        return {row["path"]: set(filter(None, row["tags"].split(";"))) for row in csv.DictReader(fh)}


@pytest.mark.parametrize("name", LARGE_FACES)
def test_person_is_suggested_on_photos_with_large_faces(effective_tags: dict[str, set[str]], name: str) -> None:
    assert "person" in effective_tags[name]


def test_person_is_not_suggested_on_the_zebras(effective_tags: dict[str, set[str]]) -> None:
    assert "person" not in effective_tags[ZEBRA]
    assert "zebra" in effective_tags[ZEBRA]


@pytest.mark.parametrize("tag,name", [(tag, name) for tag, names in BY_TAG.items() for name in names])
def test_everyday_objects_are_suggested_on_their_photos(effective_tags: dict[str, set[str]], tag: str,
                                                        name: str) -> None:
    assert tag in effective_tags[name]
