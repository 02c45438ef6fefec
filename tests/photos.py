"""Real photo files for tests: scikit-image samples and generated pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def sample_photo(name: str) -> Image.Image:
    """A real photo from scikit-image's bundled samples (no network)."""
    from skimage import data

    return Image.fromarray(getattr(data, name)())


def save_photo(image: Image.Image, path: Path, **save_args) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **save_args)
    return path


def noise_photo(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A smooth random picture: distinct per seed, compresses like a photo."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)
