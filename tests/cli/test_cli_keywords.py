"""`index --no-keywords` run in process through `cli.main`: the library remembers it."""

from __future__ import annotations

from pathlib import Path

import pytest
from keyword_photos import library_with_keywords
from PIL import Image

from photo_tagger import cli
from photo_tagger.core.library import Library
from photo_tagger.core.store import settings


@pytest.fixture
def tagged_library(tmp_path: Path) -> Library:
    return library_with_keywords(tmp_path / "lib")


def test_cli_no_keywords_is_remembered(tagged_library: Library, embedder) -> None:
    assert cli.main(["index", str(tagged_library.root), "--no-keywords"]) == 0
    with tagged_library.connect() as cat:
        assert not settings.keywords_enabled(cat)
        assert cat.scalar("SELECT count(*) FROM photo_tags WHERE source = 'keywords'") == 0
    assert isinstance(Image.open(tagged_library.root / "embedded.jpg").info.get("xmp"), bytes)  # file untouched
