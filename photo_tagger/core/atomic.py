"""Write a file so that readers see either the old or the new content, never half."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from photo_tagger.core.errors import UserError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename over `path`. A full disk or a kill
    leaves the old file intact and no stray temp file."""
    folder = path.parent
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise UserError(f"{path}: cannot write ({exc.strerror})") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except OSError as exc:
        _remove_quietly(tmp_name)
        raise UserError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    except BaseException:
        _remove_quietly(tmp_name)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _remove_quietly(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass
