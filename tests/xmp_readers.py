"""Third-party views of a sidecar for the XMP tests: exiftool's reading of it, and the
categories ACDSee's XML string assigns."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(
    EXIFTOOL is None, reason="exiftool not installed (apt-get install libimage-exiftool-perl)"
)


def exiftool_json(path: Path) -> dict:
    assert EXIFTOOL is not None
    out = subprocess.run(
        [EXIFTOOL, "-j", "-struct", "-XMP:all", str(path)], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout)[0]


def assigned_categories(text: str) -> list[tuple[str, ...]]:
    """The deepest assigned categories' paths, in the string's order (an unassigned
    parent is ACDSee's structure)."""
    found = []

    def walk(node: ET.Element, prefix: tuple[str, ...]) -> None:
        for child in node.findall("Category"):
            path = (*prefix, (child.text or "").strip())
            if child.get("Assigned") == "1" and not any(c.get("Assigned") == "1" for c in child.iter("Category")
                                                       if c is not child):
                found.append(path)
            walk(child, path)

    walk(ET.fromstring(text), ())
    return found
