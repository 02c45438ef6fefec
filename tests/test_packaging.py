"""`pip install .` (not only -e) must ship every package: pyproject lists them by hand, so a
new subpackage left out installs without it (photo_tagger.core.store once did)."""

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_package_of_photo_tagger_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(init.parent.relative_to(REPO).parts) for init in (REPO / "photo_tagger").rglob("__init__.py")}
    assert on_disk - listed == set()
