"""Real-photo embeddings with planted labels for benchmarks/train.py.

22 real photos ship offline with scikit-image and scikit-learn. Each benchmark "photo" is
one, two (a strip) or four (a 2x2 collage) of them, each randomly cropped, flipped and
colour-jittered, run through the real backbone (EfficientNet-Lite0, ONNX Runtime). Labels:
  * taxonomy tags set by eye per source photo (cat, coffee, person, ...): they have a
    zero-shot prior, so the learning curve can compare against it;
  * one identity tag per source ("like a pet's name": which photo is in it), no prior;
  * tags that are unions of 2-3 random sources ("grandma's house" appears in several), no prior;
up to 100 tags. A photo has a tag when one of its tiles' sources has it. The embeddings
are cached (float16 .npz) because computing 50k of them takes minutes.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

# source name -> taxonomy tags present (set by eye)
SOURCES: dict[str, tuple[str, ...]] = {
    "astronaut": ("person", "portrait"),
    "camera": ("person", "camera"),
    "chelsea": ("cat", "pet", "animal"),
    "coffee": ("coffee", "cup", "drink"),
    "rocket": ("rocket", "vehicle", "sky"),
    "clock": ("clock",),
    "coins": (),
    "page": ("document",),
    "text": (),
    "brick": (),
    "grass": ("plant",),
    "gravel": (),
    "moon": ("night", "sky"),
    "hubble_deep_field": ("night", "sky"),
    "immunohistochemistry": (),
    "stereo_motorcycle": ("motorcycle", "vehicle"),
    "horse": ("horse", "animal"),
    "retina": (),
    "colorwheel": (),
    "logo": (),
    "china": ("building",),
    "flower": ("flower", "plant"),
}
TILE = 128
SIZE = 2 * TILE  # 256: the backbone's resize size, so to_model_input only centre-crops


def load_sources() -> dict[str, Image.Image]:
    from skimage import data
    from sklearn.datasets import load_sample_images

    images: dict[str, Image.Image] = {}
    samples = load_sample_images()
    for name in SOURCES:
        if name in ("china", "flower"):
            array = samples.images[0 if name == "china" else 1]
        else:
            array = getattr(data, name)()
            array = array[0] if isinstance(array, tuple) else array
        if array.dtype == bool:
            array = array.astype(np.uint8) * 255
        image = Image.fromarray(array).convert("RGB")
        image.thumbnail((512, 512))
        images[name] = image
    return images


def tag_matrix(n_tags: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """(tag names, (n_sources, n_tags) bool membership)."""
    names = list(SOURCES)
    taxonomy_tags = sorted({t for tags in SOURCES.values() for t in tags})
    rng = np.random.default_rng(seed)
    columns: list[np.ndarray] = []
    tag_names: list[str] = []
    for tag in taxonomy_tags:
        tag_names.append(tag)
        columns.append(np.array([tag in SOURCES[s] for s in names]))
    for s in names:
        tag_names.append(f"id:{s}")
        columns.append(np.array([s == other for other in names]))
    while len(tag_names) < n_tags:
        members = rng.choice(len(names), size=int(rng.integers(2, 4)), replace=False)
        column = np.zeros(len(names), bool)
        column[members] = True
        tag_names.append(f"group:{'+'.join(names[m] for m in sorted(members))}")
        columns.append(column)
    return tag_names[:n_tags], np.stack(columns[:n_tags], axis=1)


def _augment(image: Image.Image, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    w, h = image.size
    scale = rng.uniform(0.45, 1.0)
    cw, ch = max(16, int(w * scale)), max(16, int(h * scale))
    left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    tile = image.crop((left, top, left + cw, top + ch)).resize(size, Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        tile = ImageOps.mirror(tile)
    tile = ImageEnhance.Brightness(tile).enhance(rng.uniform(0.7, 1.3))
    tile = ImageEnhance.Contrast(tile).enhance(rng.uniform(0.7, 1.3))
    return ImageEnhance.Color(tile).enhance(rng.uniform(0.6, 1.4))


def compose(sources: list[Image.Image], rng: np.random.Generator) -> Image.Image:
    canvas = Image.new("RGB", (SIZE, SIZE))
    if len(sources) == 1:
        canvas.paste(_augment(sources[0], (SIZE, SIZE), rng))
    elif len(sources) == 2:
        for i, source in enumerate(sources):
            canvas.paste(_augment(source, (TILE, SIZE), rng), (i * TILE, 0))
    else:
        for i, source in enumerate(sources):
            canvas.paste(_augment(source, (TILE, TILE), rng), ((i % 2) * TILE, (i // 2) * TILE))
    return canvas


def make_embeddings(n: int, cache: Path, seed: int = 0, log=print) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """(embeddings (n, D) float32, source membership (n, n_sources) bool), cached."""
    path = cache / f"real_embeddings_{n}_{seed}.npz"
    if path.exists():
        data = np.load(path)
        return data["embeddings"].astype(np.float32), data["sources"]
    from photo_tagger.core.backbone import load_embedder, to_model_input

    embedder = load_embedder(intra_op_threads=1)
    pre = embedder.spec.preprocessing
    images = load_sources()
    names = list(images)
    rng = np.random.default_rng(seed)
    embeddings = np.zeros((n, embedder.spec.embedding_dim), np.float16)
    membership = np.zeros((n, len(names)), bool)
    start = time.perf_counter()
    batch: list[np.ndarray] = []
    for i in range(n):
        k = int(rng.choice([1, 2, 4], p=[0.4, 0.3, 0.3]))
        picked = rng.choice(len(names), size=k, replace=False)
        membership[i, picked] = True
        batch.append(to_model_input(compose([images[names[p]] for p in picked], rng), pre))
        if len(batch) == 16 or i == n - 1:
            vectors, _ = embedder.embed(np.stack(batch))
            embeddings[i + 1 - len(batch) : i + 1] = vectors
            batch = []
        if (i + 1) % 2000 == 0:
            log(f"  embedded {i + 1}/{n} real-photo composites ({time.perf_counter() - start:.0f} s)", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, embeddings=embeddings, sources=membership)
    return embeddings.astype(np.float32), membership


if __name__ == "__main__":
    import sys

    make_embeddings(int(sys.argv[1]), Path(sys.argv[2]))
