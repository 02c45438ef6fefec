"""The indexer's work on one photo, for benchmarks/ingest.py: done the naive way, and costed stage
by stage with the app's own functions.

The indexer turns each photo into a 256 px JPEG thumbnail, two 320 px views (centre crop and whole
photo) through the backbone, averaged, a face summary from MTCNN at 480 x 360 (4:3) with 40 px
faces, scores and catalogue rows. `naive_same_work` produces the same per photo the plain way;
`indexer_stage_costs` gives each of the indexer's stages in CPU ms per photo on one thread.
"""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageOps

if TYPE_CHECKING:
    from photo_tagger.core.backbone import Preprocessing

NAIVE_SAME_WORK = (
    "full PIL decode + EXIF transpose; PIL resizes for the 256 px thumbnail (saved as JPEG), both 320 px views"
    " and the face image at the indexer's size; torch eager (its default threads) on both views, batch 32 images"
    " (16 photos); MTCNN in torch eager with the app's nets, weights and settings; no scoring, no catalogue writes"
)
STAGES = ("decode", "thumbnail", "views", "faces", "backbone", "scoring", "writes")


def centre_input(image: Image.Image, pre: Preprocessing) -> np.ndarray:
    """torchvision's Resize(resize_size) + CenterCrop(input_size) + ToTensor + Normalize, spelled out: the
    CPU-only torch this project installs has no matching torchvision build."""
    w, h = image.size
    scale = pre.resize_size / min(w, h)
    image = image.resize((round(w * scale), round(h * scale)), Image.Resampling.BILINEAR)
    left, top = (image.size[0] - pre.input_size) // 2, (image.size[1] - pre.input_size) // 2
    return _normalised(image.crop((left, top, left + pre.input_size, top + pre.input_size)), pre)


def _whole_input(image: Image.Image, pre: Preprocessing) -> np.ndarray:
    return _normalised(image.resize((pre.input_size, pre.input_size), Image.Resampling.BILINEAR), pre)


def _normalised(image: Image.Image, pre: Preprocessing) -> np.ndarray:
    pixels = np.asarray(image, np.float32) / np.float32(255.0)
    return ((pixels - np.asarray(pre.mean, np.float32)) / np.asarray(pre.std, np.float32)).transpose(2, 0, 1)


class _TorchNet:
    """One MTCNN net in torch eager, called as core.faces.FaceDetector calls an ONNX Runtime session."""

    def __init__(self, net: Any) -> None:
        self.net = net

    def run(self, output_names: Any, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        from photo_tagger.core.mtcnn_nets import torch_outputs

        return torch_outputs(self.net, feed["input"])


def naive_same_work(paths: list[Path]) -> float:
    """Photos/s of the indexer's work per photo done the naive way (NAIVE_SAME_WORK)."""
    import torch

    from photo_tagger.core import mtcnn_nets
    from photo_tagger.core.backbone import build_torch_model, get_backbone_spec
    from photo_tagger.core.faces import FaceDetector, face_summary, weights_path
    from photo_tagger.core.imaging import THUMBNAIL_QUALITY, THUMBNAIL_SIZE
    from photo_tagger.core.indexer import FACE_MIN_PX, decode_short_side

    spec = get_backbone_spec()
    pre = spec.preprocessing
    face_side = decode_short_side(spec)  # the indexer detects faces in its decoded image
    model = build_torch_model(spec)
    nets = mtcnn_nets.load_nets(weights_path())
    detector = FaceDetector({name: _TorchNet(net) for name, net in nets.items()}, FACE_MIN_PX)
    per_batch = 16
    with torch.no_grad():
        model(torch.zeros(2 * per_batch, 3, pre.input_size, pre.input_size))  # warm-up, untimed
        detector.detect(np.zeros((face_side, face_side * 4 // 3, 3), np.uint8))
        start = time.perf_counter()
        for i in range(0, len(paths), per_batch):
            views = []
            for path in paths[i : i + per_batch]:
                with Image.open(path) as file:
                    image = ImageOps.exif_transpose(file)
                if image.mode != "RGB":
                    image = image.convert("RGB")
                thumbnail = ImageOps.contain(image, (THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.BILINEAR)
                thumbnail.save(io.BytesIO(), "JPEG", quality=THUMBNAIL_QUALITY)
                views += [centre_input(image, pre), _whole_input(image, pre)]
                w, h = image.size
                scale = face_side / min(w, h)
                small = image.resize((round(w * scale), round(h * scale)), Image.Resampling.BILINEAR)
                face_summary(detector.detect(np.asarray(small)), *small.size)
            model(torch.from_numpy(np.stack(views)))
    return len(paths) / (time.perf_counter() - start)


def indexer_stage_costs(paths: list[Path], work: Path, batch_size: int) -> dict[str, float]:
    """CPU ms per photo of each of the indexer's stages (STAGES), one thread, no overlap, with the
    app's own functions: decode (read, draft decode, EXIF, shrink to the decode size; the thumbnail
    is timed apart), thumbnail (resize + JPEG), views (both model inputs), faces (MTCNN + summary),
    backbone (both views, ONNX Runtime on one thread), scoring (the head, one BLAS thread) and writes
    (the catalogue rows and suggestions, `batch_size` photos a transaction). `work` is an empty
    folder the photos are copied into for a catalogue of their own."""
    from threadpoolctl import threadpool_limits

    from photo_tagger.core.backbone import classifier_weights, embed_views, load_embedder, to_model_views
    from photo_tagger.core.faces import face_summary, load_face_detector
    from photo_tagger.core.imaging import decode_photo, thumbnail_jpeg
    from photo_tagger.core.indexer import FACE_MIN_PX, backbone_key, decode_short_side
    from photo_tagger.core.library import Library
    from photo_tagger.core.scan import reconcile, walk_photos
    from photo_tagger.core.store import photos, suggestions
    from photo_tagger.core.suggest import SUGGESTION_FLOOR, encode_faces, encode_vector, load_suggestion_model

    embedder = load_embedder()
    detector = load_face_detector(min_face_px=FACE_MIN_PX)
    spec = embedder.spec
    spent = dict.fromkeys(STAGES, 0.0)

    def timed(stage: str, call: Callable[..., Any], *args: Any) -> Any:
        start = time.thread_time()
        result = call(*args)
        spent[stage] += time.thread_time() - start
        return result

    def faces_of(image: Image.Image) -> np.ndarray:
        return face_summary(detector.detect(np.asarray(image)), *image.size)

    decoded = [timed("decode", decode_photo, path, decode_short_side(spec)) for path in paths]
    for photo in decoded:
        timed("thumbnail", thumbnail_jpeg, photo.model_image)
    spent["decode"] -= spent["thumbnail"]  # decode_photo makes the thumbnail too
    views = [timed("views", to_model_views, photo.model_image, spec.preprocessing) for photo in decoded]
    faces = np.stack([timed("faces", faces_of, photo.model_image) for photo in decoded])
    embed_views(embedder, np.stack(views[:1]))  # warm-up, untimed
    embeddings = np.concatenate([timed("backbone", embed_views, embedder, np.stack(views[i : i + batch_size]))
                                 for i in range(0, len(views), batch_size)])

    for path in paths:
        shutil.copy(path, work / path.name)
    key = backbone_key(spec)
    with Library.open(work).connect() as catalogue:
        reconcile(catalogue, work, list(walk_photos(work)))
        id_of = {name: photo_id for photo_id, name in photos.photos_to_index(catalogue, key)}
        ids = [id_of[path.name] for path in paths]
        model = load_suggestion_model(catalogue, key, classifier_weights(spec))
        with threadpool_limits(limits=1, user_api="blas"):
            scores = timed("scoring", model.score, embeddings, faces)

        def write(start: int, stop: int) -> None:
            now = time.time()
            with catalogue.transaction():
                for row in range(start, stop):
                    photo = decoded[row]
                    photos.store_indexed(catalogue, photos.IndexedPhoto(
                        ids[row], photo.width, photo.height, photo.taken_at, photo.thumbnail_jpeg,
                        photo.thumbnail_size, encode_vector(embeddings[row]), encode_faces(faces[row]),
                    ), key, now)
                suggestions.write_suggestions(catalogue, ids[start:stop], scores[start:stop], model.tag_ids,
                                              floor=SUGGESTION_FLOOR)

        for i in range(0, len(paths), batch_size):
            timed("writes", write, i, min(i + batch_size, len(paths)))
    return {stage: 1000 * seconds / len(paths) for stage, seconds in spent.items()}
