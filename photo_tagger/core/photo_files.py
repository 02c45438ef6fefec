"""Which file extensions are photos, for the scanner and for the sidecar rules alike."""

from __future__ import annotations

PHOTO_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif", ".heic", ".heif"}
)
# Not indexed, but a raw beside a JPEG may own the `photo.xmp` both would share.
RAW_EXTENSIONS = frozenset({".cr2", ".cr3", ".nef", ".arw", ".dng", ".orf", ".raf", ".rw2", ".pef", ".srw"})
