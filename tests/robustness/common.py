"""Helpers the robustness tests share: the installed CLI, the real app applying bulk edits
in a child process, synthetic catalogue rows, and what a catalogue says the user confirmed."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from photo_tagger.core.store.connection import Catalogue

EXE = shutil.which("photo-tagger", path=os.path.dirname(sys.executable)) or "photo-tagger"
LINE_TIMEOUT_S = 300  # for the app to print its next line: generous, the machine may be busy


def add_synthetic_photos(cat: Catalogue, paths: Sequence[str]) -> dict[str, int]:
    """Catalogue rows for photos that need no file (tag writes never read one): path -> id."""
    with cat.transaction() as conn:
        conn.executemany(
            "INSERT INTO photos(path, size, mtime_ns, content_hash, status, added_at) VALUES (?, 1, 1, ?, 'ok', 0)",
            [(path, f"h{i}") for i, path in enumerate(paths)],
        )
    return {path: pid for pid, path in cat.query("SELECT id, path FROM photos")}


def confirmed_by_path(cat: Catalogue) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for path, name in cat.query(
        "SELECT p.path, t.name FROM photo_tags pt JOIN photos p ON p.id = pt.photo_id"
        " JOIN tags t ON t.id = pt.tag_id WHERE pt.state = 'confirmed'"
    ):
        result.setdefault(path, set()).add(name)
    return result


APP_BULK_EDIT = Path(__file__).with_name("app_bulk_edit.py")


class AppBulkEdit:
    """`app_bulk_edit.py` (the real app, offscreen) in a child process, its stdout read
    line by line in a thread so a wait can time out instead of hanging the suite."""

    def __init__(self, root: Path, steps: int, prefix: str, workdir: Path, mode: str = "add") -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.stderr_path = workdir / f"app-{prefix}.stderr"
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        args = [str(root), str(steps), prefix, str(workdir / "settings.ini"), mode]
        with self.stderr_path.open("w") as err:  # a file: Qt's chatter never fills a pipe
            self.proc = subprocess.Popen(
                [sys.executable, str(APP_BULK_EDIT), *args],
                stdout=subprocess.PIPE, stderr=err, text=True, cwd=workdir, env=env,
            )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def next_line(self, timeout: float = LINE_TIMEOUT_S) -> str | None:
        """The next line it printed (None once it exited), also kept in `lines`."""
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            self.proc.kill()
            raise AssertionError(f"the app printed nothing for {timeout} s; stderr:\n{self.stderr()}") from None
        if line is not None:
            self.lines.append(line)
        return line

    def kill(self) -> None:
        """SIGKILL; then collect what it printed before dying."""
        self.proc.kill()
        self.wait()

    def wait(self) -> int:
        while self.next_line() is not None:
            pass
        returncode = self.proc.wait(LINE_TIMEOUT_S)
        assert "Traceback" not in self.stderr(), self.stderr()
        return returncode

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def committed(self) -> list[tuple[int, str, str]]:
        """(step, state, tag name) of every step it reported committed."""
        return [(int(step), state, name) for _, step, state, name in
                (line.split() for line in self.lines if line.startswith("committed "))]
