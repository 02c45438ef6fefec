"""A library: a folder of photos plus its catalogue. The entry point of every use case."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from photo_tagger.core.catalogue import Catalogue, catalogue_path_for
from photo_tagger.core.errors import UserError
from photo_tagger.core.store import settings
from photo_tagger.core.tag_tree import ensure_path


@dataclass
class Library:
    root: Path
    catalogue_path: Path

    @classmethod
    def open(cls, root: Path | str) -> Library:
        """Open (creating if needed) the catalogue of the photo folder `root`."""
        path = Path(root).expanduser()
        if not path.exists():
            raise UserError(f"{path}: no such folder")
        if not path.is_dir():
            raise UserError(f"{path}: not a folder")
        root_path = path.resolve()
        library = cls(root_path, catalogue_path_for(root_path))
        with library.connect() as catalogue:
            _seed_default_tags(catalogue)
        return library

    def connect(self) -> Catalogue:
        """A new connection to the catalogue, for the calling thread only."""
        return Catalogue(self.catalogue_path)


def _seed_default_tags(catalogue: Catalogue) -> None:
    if settings.taxonomy_seeded(catalogue):
        return
    from photo_tagger.core.taxonomy import load_default_taxonomy

    taxonomy = load_default_taxonomy()
    with catalogue.transaction() as conn:
        for tag in taxonomy.tags:
            ensure_path(conn, taxonomy.path(tag.name), origin="taxonomy")
        settings.mark_taxonomy_seeded(catalogue)
