"""What export and import files look like, in a module that imports nothing, so the CLI can
offer the format names without loading the core."""

from __future__ import annotations

EXPORT_FORMATS = ("csv", "onehot", "json", "xmp")
IMPORT_FORMATS = ("csv", "onehot", "json")
TAG_SEPARATOR = ";"  # between tags in a CSV cell, so no tag name may contain it
