"""Which XMP sidecar files belong to a photo, in any case of their extensions.

darktable and digiKam write `photo.jpg.xmp`, Lightroom `photo.xmp` (shared by a raw and its
JPEG), Photo Mechanic `photo.XMP`. Every one of them is read. The one written is an existing
`photo.jpg.xmp`, else an existing `photo.xmp` (only if no other photo shares its stem), else a
new `photo.jpg.xmp` (`sidecar_for`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from photo_tagger.core.photo_files import PHOTO_EXTENSIONS, RAW_EXTENSIONS


def sidecar_names(photo_name: str, names: Iterable[str]) -> tuple[list[str], list[str]]:
    """The sidecars of `photo_name` among `names` (a folder's file names), in any case of
    the extensions (Photo Mechanic writes `photo.XMP`, cameras `PHOTO.JPG`): the
    `photo.jpg.xmp` forms and the `photo.xmp` forms, each with the exact case first."""
    photo = Path(photo_name)
    stem, full_tail = photo.stem, (photo.suffix + ".xmp").casefold()
    full: list[str] = []
    short: list[str] = []
    for name in names:
        if len(name) <= len(stem) or name[: len(stem)] != stem:
            continue
        tail = name[len(stem) :].casefold()
        if tail == full_tail:
            full.append(name)
        elif tail == ".xmp":
            short.append(name)
    full.sort(key=lambda n: (n != photo_name + ".xmp", n))
    short.sort(key=lambda n: (n != stem + ".xmp", n))
    return full, short


def sidecar_files(photo_name: str, names: Iterable[str]) -> list[str]:
    """Every sidecar of `photo_name` among `names`, all read: for `IMG.JPG` beside
    `IMG.CR2`, Lightroom keeps adding keywords to `IMG.xmp` after we wrote `IMG.JPG.xmp`."""
    full, short = sidecar_names(photo_name, names)
    return full + short


_listings: dict[Path, tuple[int, frozenset[str]]] = {}
_listings_lock = threading.Lock()


def folder_names(folder: Path) -> frozenset[str]:
    """The file names in `folder`. Finding `photo.XMP` takes a listing (a case-sensitive
    file system has no case-insensitive lookup); it is reused while the folder's mtime
    stays the same, so a folder of n photos is listed once, not n times."""
    try:
        mtime = folder.stat().st_mtime_ns
        with _listings_lock:
            cached = _listings.get(folder)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        names = frozenset(entry.name for entry in folder.iterdir())
    except OSError:
        return frozenset()
    with _listings_lock:
        if len(_listings) >= 64:
            _listings.clear()
        _listings[folder] = (mtime, names)
    return names


def sidecar_for(photo: Path, *, writing: bool = False, names: Iterable[str] | None = None) -> Path:
    """The one sidecar to update for `photo` (it may not exist yet), and the first one
    read (`sidecar_files` lists them all). `names`: the folder's file names, when the caller has them."""
    names = folder_names(photo.parent) if names is None else names
    full, short = sidecar_names(photo.name, names)
    if full:
        return photo.with_name(full[0])
    if short and not (writing and _stem_shared(photo, names)):
        return photo.with_name(short[0])
    # photo.xmp may belong to photo.cr2 next to photo.jpg: leave it
    return photo.with_name(photo.name + ".xmp")


def _stem_shared(photo: Path, names: Iterable[str]) -> bool:
    others = PHOTO_EXTENSIONS | RAW_EXTENSIONS
    return any(
        Path(name).stem == photo.stem and name != photo.name and Path(name).suffix.lower() in others for name in names
    )

