"""Face detection (MTCNN) as a zero-shot signal for the person / portrait / group photo tags.

ImageNet has no person class; MTCNN's face probability alone scores person AP 0.88 on COCO
photos (FIELD_NOTES.md). The three nets (models/mtcnn.safetensors, from facenet-pytorch, MIT)
are exported to ONNX once into the per-user cache, like the backbone (core.onnx_runtime), and
then run with ONNX Runtime and numpy only: importing this module, or detecting from a warm
cache, never imports torch. The pipeline follows facenet-pytorch's `detect_face` (same
pyramid, thresholds, NMS and box arithmetic) so its measured figures carry over.

A FaceDetector holds three ONNX sessions and no mutable state, so decode threads may share one.
"""

from __future__ import annotations

import importlib.resources
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from photo_tagger.core import onnx_runtime as onnx_cache

if TYPE_CHECKING:
    import onnxruntime

_log = logging.getLogger(__name__)

WEIGHTS_FILE = "mtcnn.safetensors"
NET_FILES = {"pnet": "pnet.onnx", "rnet": "rnet.onnx", "onet": "onet.onnx"}
# Bump when the exported graphs would differ for the same weights.
FORMAT_VERSION = 1
# ONNX Runtime must reproduce torch to this (softmax in [0, 1], regressions ~±1).
MAX_EXPORT_ABS_DIFF = 1e-4

# facenet-pytorch's stage thresholds and pyramid factor.
THRESHOLDS = (0.6, 0.7, 0.7)
PYRAMID_FACTOR = 0.709
# Smallest face searched for, in pixels of the image given. facenet-pytorch uses 20; on photos
# with a 640 px long side, 30 keeps person AP within 0.013 of it at about half the cost
# (benchmarks/faces.py): each halving of min_face_px quadruples PNet's pixels.
DEFAULT_MIN_FACE_PX = 30
# A face at or above this probability counts as "confident" in face_summary.
CONFIDENT = 0.9
MAX_COUNTED_FACES = 10
FACE_FEATURES = 4
# PNet sees 12x12 windows at stride 2 of each pyramid level.
_CELL, _STRIDE = 12, 2


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels of the image given
    probability: float


class FaceDetector:
    """MTCNN on ONNX Runtime. `min_face_px` is in pixels of the image passed to `detect`:
    smaller finds smaller faces but costs more (the pyramid starts at a larger scale)."""

    def __init__(self, sessions: dict[str, onnxruntime.InferenceSession], min_face_px: int = DEFAULT_MIN_FACE_PX):
        if min_face_px < 1:
            raise ValueError(f"min_face_px must be >= 1, got {min_face_px}")
        self.min_face_px = min_face_px
        self._sessions = sessions

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """Faces in an (H, W, 3) uint8 RGB image, most probable first."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB array, got {rgb.shape} {rgb.dtype}")
        height, width = rgb.shape[:2]
        image = Image.fromarray(rgb)
        boxes = self._propose(image)
        boxes = self._refine(image, boxes, "rnet", 24, THRESHOLDS[1])
        boxes = self._refine(image, boxes, "onet", 48, THRESHOLDS[2])
        faces = []
        # Regression may push a box past the border (a face cut by the frame): clip it, so
        # sizes and areas in face_summary are those of the visible face.
        for x0, y0, x1, y1, p in boxes[np.argsort(-boxes[:, 4], kind="stable")].tolist():
            box = (max(0.0, x0), max(0.0, y0), min(float(width), x1), min(float(height), y1))
            if box[2] > box[0] and box[3] > box[1]:
                faces.append(Face(box, p))
        return faces

    def _propose(self, image: Image.Image) -> np.ndarray:
        """Stage 1: PNet over the pyramid -> squared candidate boxes (N, 5: x0 y0 x1 y1 p)."""
        width, height = image.size
        per_scale = []
        for scale in pyramid_scales(width, height, self.min_face_px):
            size = (int(width * scale + 1), int(height * scale + 1))
            # BOX resampling is area averaging, as facenet-pytorch's interpolate(mode="area").
            level = _normalise(np.asarray(image.resize(size, Image.Resampling.BOX))[None])
            regression, probability = self._sessions["pnet"].run(None, {"input": level})
            candidates = _pnet_boxes(regression[0], probability[0, 1], scale, THRESHOLDS[0])
            per_scale.append(candidates[nms(candidates[:, :4], candidates[:, 4], 0.5)])
        if not per_scale:
            return np.zeros((0, 5), np.float32)
        boxes = np.concatenate(per_scale)
        boxes = boxes[nms(boxes[:, :4], boxes[:, 4], 0.7)]
        # Stage 1 regresses with width x1 - x0 (no +1), later stages with +1: as the reference.
        sizes = np.tile(boxes[:, 2:4] - boxes[:, 0:2], 2)
        regressed = boxes[:, :4] + boxes[:, 5:9] * sizes
        return _square(np.column_stack([regressed, boxes[:, 4]]))

    def _refine(self, image: Image.Image, boxes: np.ndarray, net: str, size: int, threshold: float) -> np.ndarray:
        """Stages 2 and 3: re-score each candidate's crop, keep the confident ones, regress."""
        if len(boxes) == 0:
            return boxes
        crops, boxes = _crops(image, boxes, size)
        if len(boxes) == 0:
            return boxes
        regression, probability = self._sessions[net].run(None, {"input": crops})
        keep = probability[:, 1] > threshold
        boxes = np.column_stack([boxes[keep, :4], probability[keep, 1]])
        regression = regression[keep]
        if net == "rnet":
            boxes = boxes[(pick := nms(boxes[:, :4], boxes[:, 4], 0.7))]
            return _square(_regress(boxes, regression[pick]))
        # The last NMS uses intersection over the smaller box, which drops a box inside another.
        boxes = _regress(boxes, regression)
        return boxes[nms(boxes[:, :4], boxes[:, 4], 0.7, over_min=True, plus_one=True)]


def pyramid_scales(width: int, height: int, min_face_px: int) -> list[float]:
    """Scales at which a face of min_face_px, then ever larger ones, fills PNet's 12 px cell."""
    scale = _CELL / min_face_px
    side = min(width, height) * scale
    scales = []
    while side >= _CELL:
        scales.append(scale)
        scale *= PYRAMID_FACTOR
        side *= PYRAMID_FACTOR
    return scales


def _normalise(pixels: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float32 in about [-1, 1], as the nets were trained."""
    return np.ascontiguousarray(((pixels.astype(np.float32) - 127.5) * 0.0078125).transpose(0, 3, 1, 2))


def _pnet_boxes(regression: np.ndarray, probability: np.ndarray, scale: float, threshold: float) -> np.ndarray:
    """PNet cells above threshold -> (N, 9): box in image pixels, score, 4 regressions."""
    rows, cols = np.nonzero(probability >= threshold)
    cells = np.column_stack([cols, rows]).astype(np.float32)
    top_left = np.floor((_STRIDE * cells + 1) / scale)
    bottom_right = np.floor((_STRIDE * cells + _CELL) / scale)
    columns = [top_left, bottom_right, probability[rows, cols], regression[:, rows, cols].T]
    return np.column_stack(columns).astype(np.float32)


def _regress(boxes: np.ndarray, regression: np.ndarray) -> np.ndarray:
    sizes = np.tile(boxes[:, 2:4] - boxes[:, 0:2] + 1, 2)
    return np.column_stack([boxes[:, :4] + regression * sizes, boxes[:, 4]])


def _square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box to a square around its centre: the nets take square crops."""
    sizes = boxes[:, 2:4] - boxes[:, 0:2]
    side = sizes.max(axis=1)
    out = boxes.copy()
    out[:, 0:2] = boxes[:, 0:2] + sizes * 0.5 - side[:, None] * 0.5
    out[:, 2:4] = out[:, 0:2] + side[:, None]
    return out


def _crops(image: Image.Image, boxes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each box's pixels (clipped to the image, 1-based like the reference) resized to
    size x size, and the boxes that had any pixels."""
    width, height = image.size
    corners = np.trunc(boxes[:, :4]).astype(np.int64)
    x0 = np.maximum(corners[:, 0], 1) - 1
    y0 = np.maximum(corners[:, 1], 1) - 1
    x1 = np.minimum(corners[:, 2], width)
    y1 = np.minimum(corners[:, 3], height)
    valid = (x1 > x0) & (y1 > y0)
    crops = [
        np.asarray(image.resize((size, size), Image.Resampling.BOX, box=(int(a), int(b), int(c), int(d))))
        for a, b, c, d in zip(x0[valid], y0[valid], x1[valid], y1[valid], strict=True)
    ]
    if not crops:
        return np.zeros((0, 3, size, size), np.float32), boxes[:0]
    return _normalise(np.stack(crops)), boxes[valid]


def nms(
    boxes: np.ndarray, scores: np.ndarray, threshold: float, *, over_min: bool = False, plus_one: bool = False
) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best first. Overlap is
    intersection over union (or over the smaller box); `plus_one` counts pixels inclusively,
    as the reference's numpy NMS does (torchvision's does not)."""
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    extra = 1.0 if plus_one else 0.0
    x0, y0, x1, y1 = (boxes[:, i].astype(np.float64) for i in range(4))
    areas = (x1 - x0 + extra) * (y1 - y0 + extra)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        w = np.maximum(0.0, np.minimum(x1[best], x1[rest]) - np.maximum(x0[best], x0[rest]) + extra)
        h = np.maximum(0.0, np.minimum(y1[best], y1[rest]) - np.maximum(y0[best], y0[rest]) + extra)
        inter = w * h
        denominator = np.minimum(areas[best], areas[rest]) if over_min else areas[best] + areas[rest] - inter
        overlap = inter / np.maximum(denominator, 1e-12)
        order = rest[overlap <= threshold]
    return np.asarray(keep, np.int64)


def face_summary(faces: list[Face], width: int, height: int) -> np.ndarray:
    """What the catalogue stores per photo, float32 in [0, 1]:
    [max face probability (0 if none), confident faces (p >= 0.9) as min(n, 10) / 10,
     tallest confident face / image height, fraction of the image covered by confident faces].
    The size features use confident faces only: the 0.7-0.9 detections are mostly texture
    (bark, patterns), and a portrait prior must not fire on them."""
    summary = np.zeros(FACE_FEATURES, np.float32)
    if width <= 0 or height <= 0 or not faces:
        return summary
    summary[0] = max(face.probability for face in faces)
    confident = [face for face in faces if face.probability >= CONFIDENT]
    summary[1] = min(len(confident), MAX_COUNTED_FACES) / MAX_COUNTED_FACES
    if confident:
        summary[2] = max(face.box[3] - face.box[1] for face in confident) / height
        # Faces after NMS barely overlap, so the sum of areas is the covered area to within a
        # few percent; capped at 1 for the rare stack of overlapping boxes.
        summary[3] = sum((f.box[2] - f.box[0]) * (f.box[3] - f.box[1]) for f in confident) / (width * height)
    return np.clip(summary, 0.0, 1.0)


# --- weights and the ONNX cache -------------------------------------------------------------


def weights_path() -> Path:
    """models/mtcnn.safetensors as installed with the package."""
    path = Path(str(importlib.resources.files("photo_tagger.models") / WEIGHTS_FILE))
    if not path.is_file():
        raise FileNotFoundError(f"MTCNN weights missing: {path} (run scripts/build_mtcnn_weights.py)")
    return path


@lru_cache(maxsize=4)
def _sha256_memo(path: str, size: int, mtime_ns: int) -> str:
    return onnx_cache.file_sha256(Path(path))


def _weights_sha256() -> str:
    path = weights_path()
    stat = path.stat()
    return _sha256_memo(str(path), stat.st_size, stat.st_mtime_ns)


def faces_cache_dir(cache_dir: Path | None = None) -> Path:
    """Where the ONNX export lives; new weights get a new folder."""
    return onnx_cache.cache_root(cache_dir) / "faces" / f"mtcnn-{_weights_sha256()[:16]}"


def _cache_identity() -> dict[str, Any]:
    return {"format": FORMAT_VERSION, "model": "mtcnn", "weights_sha256": _weights_sha256()}


def load_face_detector(cache_dir: Path | None = None, *, min_face_px: int = DEFAULT_MIN_FACE_PX) -> FaceDetector:
    """A detector running on ONNX Runtime. A valid cache in `cache_dir` (default: as the
    backbone's) loads without torch; a missing or corrupt one is exported again (about a
    second, imports torch). Raises RuntimeError if ONNX Runtime disagrees with torch."""
    directory = faces_cache_dir(cache_dir)
    files = tuple(NET_FILES.values())
    if onnx_cache.read_meta(directory, _cache_identity(), files) is None:
        with onnx_cache.export_lock(directory):
            if onnx_cache.read_meta(directory, _cache_identity(), files) is None:  # nobody exported meanwhile
                _export_and_verify(directory)
    sessions = {name: onnx_cache.open_session(directory / file) for name, file in NET_FILES.items()}
    return FaceDetector(sessions, min_face_px)


def _export_and_verify(directory: Path) -> None:
    """Export the three nets, check ONNX Runtime against torch, and seal the folder."""
    from photo_tagger.core import mtcnn_nets

    files = tuple(NET_FILES.values())
    started = time.perf_counter()
    onnx_cache.clear(directory, files)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        nets = mtcnn_nets.load_nets(weights_path())
        diffs = {}
        for name, file in NET_FILES.items():
            mtcnn_nets.export(nets[name], name, directory / file)
            diffs[name] = export_max_abs_diff(onnx_cache.open_session(directory / file), nets[name], name)
        if max(diffs.values()) >= MAX_EXPORT_ABS_DIFF:
            raise RuntimeError(f"ONNX Runtime disagrees with torch on MTCNN (max abs diff {diffs})")
        seconds = time.perf_counter() - started
        onnx_cache.write_meta(directory, {**_cache_identity(), "max_abs_diff": diffs, "export_seconds": seconds}, files)
    except BaseException:
        onnx_cache.clear(directory, files)
        raise
    _log.info("exported MTCNN to %s in %.1f s (max abs diff %s)", directory, seconds, diffs)


def export_max_abs_diff(session: onnxruntime.InferenceSession, net: Any, name: str) -> float:
    """Largest difference between ONNX Runtime and torch over both outputs of one net."""
    from photo_tagger.core import mtcnn_nets

    batch = mtcnn_nets.check_inputs(name)
    expected = mtcnn_nets.torch_outputs(net, batch)
    actual = session.run(list(mtcnn_nets.OUTPUT_NAMES), {"input": batch})
    return max(float(np.abs(a - e).max()) for a, e in zip(actual, expected, strict=True))
