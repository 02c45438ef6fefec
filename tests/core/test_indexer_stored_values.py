"""What indexing stores for a photo is what the backbone and the face detector make of that
photo alone: the same values whichever photos share its batch, its thread or its run, so a
faster pipeline can never change a library's embeddings, faces or suggestions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from jobs import run_index
from photos import noise_photo, sample_photo, save_photo
from PIL import Image

from photo_tagger.core.backbone import embed_views, to_model_views
from photo_tagger.core.faces import face_summary, load_face_detector
from photo_tagger.core.imaging import decode_photo
from photo_tagger.core.indexer import FACE_MIN_PX, backbone_key, decode_short_side
from photo_tagger.core.library import Library
from photo_tagger.core.store import photos
from photo_tagger.core.suggest import encode_faces, encode_vector


def _library(root: Path) -> Library:
    astronaut = sample_photo("astronaut")
    save_photo(astronaut, root / "astronaut.jpg", quality=90)
    # Large enough for the draft (DCT-scaled) decode, and a face to find in it.
    save_photo(astronaut.resize((2048, 2048), Image.Resampling.BICUBIC), root / "astronaut-large.jpg", quality=90)
    save_photo(sample_photo("chelsea"), root / "cat.png")
    save_photo(sample_photo("coffee"), root / "coffee.jpg", quality=92)
    for seed in range(5):
        save_photo(noise_photo(seed, (1600, 1200)), root / f"noise{seed}.jpg", quality=90)
    return Library.open(root)


def test_each_stored_embedding_face_summary_and_thumbnail_is_that_of_the_photo_alone(
    tmp_path: Path, embedder
) -> None:
    library = _library(tmp_path / "Photos")
    summary = run_index(library, embedder, workers=2)
    assert summary.indexed == 9 and summary.errors == 0

    key = backbone_key(embedder.spec)
    detector = load_face_detector(min_face_px=FACE_MIN_PX)
    with library.connect() as catalogue:
        paths = dict(photos.all_paths(catalogue))
        stored = {paths[pid]: (vector, faces) for pid, vector, faces in photos.embeddings(catalogue, key)}
        thumbnails = {paths[pid]: jpeg for pid, jpeg in photos.thumbnail_jpegs(catalogue, list(paths)).items()}
    assert len(stored) == 9
    for path, (vector, faces) in stored.items():
        decoded = decode_photo(library.root / path, decode_short_side(embedder.spec))
        image = decoded.model_image
        alone = embed_views(embedder, to_model_views(image, embedder.spec.preprocessing)[None])[0]
        assert vector == encode_vector(alone), path
        assert faces == encode_faces(face_summary(detector.detect(np.asarray(image)), *image.size)), path
        assert thumbnails[path] == decoded.thumbnail_jpeg, path
    assert np.frombuffer(stored["astronaut-large.jpg"][1], np.float32)[0] > 0.9  # her face was found
