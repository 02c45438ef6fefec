"""A library: a folder of photos plus its catalogue. The entry point of every use case."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from photo_tagger.core.errors import UserError
from photo_tagger.core.store.connection import Catalogue, catalogue_path_for


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
        library.connect().close()  # creates or upgrades the catalogue: a problem shows here
        return library

    def connect(self) -> Catalogue:
        """A new connection to the catalogue, for the calling thread only."""
        return Catalogue(self.catalogue_path)

