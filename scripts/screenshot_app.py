"""Make a README screenshot: a sample library (scikit-image's photos), indexed and partly
reviewed, shown in the app with a photo selected; saves the window as a PNG.

    python scripts/screenshot_app.py --theme light --out docs/screenshot.png

Run it under a display (scripts/screenshot.sh uses Xvfb); needs scikit-image.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

SAMPLES = ["chelsea", "coffee", "astronaut", "rocket", "immunohistochemistry", "retina", "camera", "cat"]


def make_library(root: Path) -> None:
    from skimage import data

    for name in SAMPLES:
        array = getattr(data, name)()
        image = Image.fromarray(array).convert("RGB")
        folder = root / ("lab" if name in ("immunohistochemistry", "retina") else "2026 Summer")
        folder.mkdir(parents=True, exist_ok=True)
        image.save(folder / f"{name}.jpg", quality=90)
    left, _right, _disp = data.stereo_motorcycle()
    Image.fromarray(left).save(root / "2026 Summer" / "motorcycle.jpg", quality=90)
    rng = np.random.default_rng(3)
    for i in range(5):
        small = rng.integers(0, 255, (4, 6, 3), dtype=np.uint8)
        Image.fromarray(small).resize((600, 400), Image.Resampling.BICUBIC).save(root / f"abstract {i + 1}.jpg")
    (root / "scan-0042.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated in transfer")


def review_some(root: Path) -> None:
    """Accept the suggestions of two photos (real suggestions, nothing staged), so the grid
    shows confirmed chips beside suggested ones."""
    from photo_tagger.core import tagging
    from photo_tagger.core.indexer import index_library
    from photo_tagger.core.library import Library

    library = Library.open(root)
    for _ in index_library(library):
        pass
    with library.connect() as catalogue:
        ids = {row["path"]: row["id"] for row in catalogue.query("SELECT id, path FROM photos")}
        tagging.accept_suggestions(catalogue, [ids["2026 Summer/coffee.jpg"], ids["2026 Summer/rocket.jpg"]])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", default="1440x900")
    args = parser.parse_args()
    os.environ["PHOTO_TAGGER_THEME"] = args.theme
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from photo_tagger.gui.app import make_app
    from photo_tagger.gui.main_window import MainWindow

    with tempfile.TemporaryDirectory(prefix="photo-tagger-shot-") as tmp:
        root = Path(tmp) / "Pictures"
        make_library(root)
        review_some(root)
        app = make_app()
        window = MainWindow(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat))
        width, height = (int(v) for v in args.size.split("x"))
        window.resize(width, height)
        window.show()
        window.open_library(root, index=False)
        window.filter_bar.zoom.setValue(176)
        cat = next(r for r in range(window.model.rowCount()) if window.model.info(r).name == "astronaut.jpg")
        window.grid.setCurrentIndex(window.model.index(cat))
        deadline = time.time() + 8
        while time.time() < deadline:
            app.processEvents()
            time.sleep(0.01)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(args.out)):
            print(f"could not write {args.out}", file=sys.stderr)
            return 1
        window.close()
        QApplication.processEvents()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
