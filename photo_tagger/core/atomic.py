"""Write a file so that readers see either the old or the new content, never half."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from photo_tagger.core.errors import UserError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename over `path`. A full disk or a kill
    leaves the old file intact and no stray temp file."""
    try:
        fd, tmp_name = _create_temp(path)
    except OSError as exc:
        raise UserError(f"{path}: cannot write ({exc.strerror})") from exc
    try:
        _keep_mode(path, tmp_name)
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


def _create_temp(path: Path) -> tuple[int, str]:
    """Like tempfile.mkstemp, but with mode 0o666 minus the umask, as `open(path, "w")` would
    give: mkstemp's 0o600 made every export private, whatever the user's umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        name = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(name, flags, 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {path}")


def _keep_mode(path: Path, tmp_name: str) -> None:
    """A file that is replaced keeps its permissions (0o640 stays 0o640)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    os.chmod(tmp_name, mode)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _remove_quietly(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass
