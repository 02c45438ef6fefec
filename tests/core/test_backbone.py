"""The backbone: real weights, real sample photos, a real ONNX export in a temp cache."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from photo_tagger.core import onnx_runtime as onnx_cache
from photo_tagger.core.backbone import (
    BackboneSpec,
    Embedder,
    Preprocessing,
    backbone_cache_dir,
    build_torch_model,
    classifier_weights,
    get_backbone_spec,
    imagenet_class_names,
    load_embedder,
    to_model_input,
    to_model_views,
)
from photo_tagger.core.efficientnet_lite import EfficientNetLite, load_weights

TABBY, TIGER_CAT, EGYPTIAN_CAT, ESPRESSO = 281, 282, 285, 967
CATS = set(range(281, 286))


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's private cache (conftest.py sets one; else a temp one), so the ONNX
    export happens once per test session."""
    if root := os.environ.get("PHOTO_TAGGER_CACHE_DIR"):
        yield Path(root)
        return
    with pytest.MonkeyPatch.context() as patch:
        temp = tmp_path_factory.mktemp("cache")
        patch.setenv("PHOTO_TAGGER_CACHE_DIR", str(temp))
        yield temp


@pytest.fixture(scope="session")
def spec() -> BackboneSpec:
    return get_backbone_spec()


@pytest.fixture(scope="session")
def torch_model(spec: BackboneSpec) -> EfficientNetLite:
    return build_torch_model(spec)


@pytest.fixture(scope="session")
def ort_embedder(cache_root: Path) -> Embedder:
    warnings: list[str] = []
    embedder = load_embedder(warn=warnings.append)
    assert warnings == []
    assert embedder.runtime == "onnxruntime"
    return embedder


@pytest.fixture(scope="session")
def chelsea(spec: BackboneSpec) -> np.ndarray:
    return to_model_input(Image.fromarray(data.chelsea()), spec.preprocessing)[None]


@pytest.fixture(scope="session")
def imagenet_reference(spec: BackboneSpec) -> Preprocessing:
    """How the weights' published ImageNet figures were measured (the app tags at 320 / 320)."""
    return replace(spec.preprocessing, resize_size=256, input_size=224)


def torch_outputs(model: EfficientNetLite, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with torch.inference_mode():
        embedding, logits = model(torch.from_numpy(batch))
    return embedding.numpy(), logits.numpy()


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_default_backbone_is_lite0_with_its_preprocessing(spec: BackboneSpec) -> None:
    assert spec == get_backbone_spec("efficientnet-lite0")
    assert (spec.embedding_dim, spec.num_classes) == (1280, 1000)
    assert spec.preprocessing.input_size == 320 and spec.preprocessing.resize_size == 320
    assert spec.preprocessing.views == ("centre", "whole")
    assert spec.weights_sha256() == hashlib.sha256(spec.weights_path().read_bytes()).hexdigest()


def test_unknown_backbone_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="efficientnet-lite0"):
        get_backbone_spec("resnet-9000")


def test_imagenet_class_names_index_like_the_logits() -> None:
    names = imagenet_class_names()
    assert len(names) == 1000
    assert (names[TABBY], names[TIGER_CAT], names[ESPRESSO]) == ("tabby", "tiger cat", "espresso")


@pytest.mark.parametrize(
    ("size", "mode"),
    [((640, 480), "RGB"), ((480, 640), "RGB"), ((100, 37), "L"), ((50, 50), "RGBA"), ((8000, 200), "RGB")],
)
def test_model_input_is_a_normalised_square_of_the_input_size_for_any_photo(
    spec: BackboneSpec, size: tuple[int, int], mode: str
) -> None:
    white = to_model_input(Image.new(mode, size, "white"), spec.preprocessing)
    grey = to_model_input(Image.new("RGB", size, (127, 127, 127)), spec.preprocessing)
    assert white.shape == (3, 320, 320) and white.dtype == np.float32
    np.testing.assert_allclose(white, 1.0, atol=1e-6)  # (1 - 127/255) / (128/255)
    np.testing.assert_allclose(grey, 0.0, atol=1e-6)


def test_chelsea_is_a_tiger_egyptian_or_tabby_cat(
    torch_model: EfficientNetLite, imagenet_reference: Preprocessing
) -> None:
    batch = to_model_input(Image.fromarray(data.chelsea()), imagenet_reference)[None]
    embedding, logits = torch_outputs(torch_model, batch)
    assert embedding.shape == (1, 1280) and logits.shape == (1, 1000)
    probs = softmax(logits)[0]
    assert set(np.argsort(-probs)[:5]) & CATS
    assert probs[TIGER_CAT] == pytest.approx(0.38, abs=0.08)
    assert probs[EGYPTIAN_CAT] == pytest.approx(0.38, abs=0.08)
    assert probs[TABBY] == pytest.approx(0.17, abs=0.06)


def test_coffee_is_espresso(torch_model: EfficientNetLite, imagenet_reference: Preprocessing) -> None:
    batch = to_model_input(Image.fromarray(data.coffee()), imagenet_reference)[None]
    _, logits = torch_outputs(torch_model, batch)
    assert int(np.argmax(logits[0])) == ESPRESSO


def test_the_views_the_app_tags_from_see_the_cat_and_the_espresso(
    torch_model: EfficientNetLite, spec: BackboneSpec
) -> None:
    for photo, wanted in ((data.chelsea(), CATS), (data.coffee(), {ESPRESSO})):
        _, logits = torch_outputs(torch_model, to_model_views(Image.fromarray(photo), spec.preprocessing))
        assert set(np.argsort(-softmax(logits.mean(axis=0)))[:3]) & wanted


def test_onnx_runtime_matches_torch_on_chelsea(
    ort_embedder: Embedder, torch_model: EfficientNetLite, chelsea: np.ndarray
) -> None:
    batch = np.concatenate([chelsea, chelsea[..., ::-1]])  # a batch of 2 uses the dynamic axis
    ort_embedding, ort_logits = ort_embedder.embed(batch)
    torch_embedding, torch_logits = torch_outputs(torch_model, np.ascontiguousarray(batch))
    assert np.abs(ort_embedding - torch_embedding).max() < 1e-4
    assert np.abs(ort_logits - torch_logits).max() < 1e-4


def test_export_folds_same_padding_into_the_convolutions(ort_embedder: Embedder) -> None:
    import onnx

    graph = onnx.load(str(backbone_cache_dir(ort_embedder.spec) / "model.onnx")).graph
    ops = {node.op_type for node in graph.node}
    assert "Pad" not in ops and "BatchNormalization" not in ops  # both slow ORT down
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_logits_can_be_recomputed_from_stored_embeddings(ort_embedder: Embedder, chelsea: np.ndarray) -> None:
    embedding, logits = ort_embedder.embed(chelsea)
    weight, bias = classifier_weights(ort_embedder.spec)
    assert weight.shape == (1000, 1280) and weight.dtype == np.float32
    np.testing.assert_allclose(embedding @ weight.T + bias, logits, atol=1e-4)


def test_embed_rejects_a_batch_of_the_wrong_shape(ort_embedder: Embedder) -> None:
    with pytest.raises(ValueError, match=r"\(N, 3, 320, 320\)"):
        ort_embedder.embed(np.zeros((3, 320, 320), np.float32))


def test_second_load_reuses_the_export_without_importing_torch(ort_embedder: Embedder, cache_root: Path) -> None:
    folder = backbone_cache_dir(ort_embedder.spec)
    mtimes = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        from photo_tagger.core.backbone import load_embedder
        embedder = load_embedder(warn=lambda message: sys.exit(message))
        embedder.embed(np.zeros((1, 3, 320, 320), np.float32))
        print(embedder.runtime, "torch" in sys.modules)
        """
    )
    env = {**os.environ, "PHOTO_TAGGER_CACHE_DIR": str(cache_root)}
    # cwd outside the repo: `python -c` puts cwd on sys.path, and the source tree's
    # photo_tagger lacks the resources that only the installed package carries.
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=cache_root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["onnxruntime", "False"]
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == mtimes


def test_a_process_waits_for_another_ones_export_and_then_uses_it(ort_embedder: Embedder, tmp_path: Path) -> None:
    """The app and a CLI started together on a first run: while one holds the export lock,
    the other waits, then loads the sealed cache (no export of its own, no torch) instead of
    clearing the files being written."""
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        from photo_tagger.core.backbone import load_embedder
        embedder = load_embedder(warn=lambda message: sys.exit(message))
        embedder.embed(np.zeros((1, 3, 320, 320), np.float32))
        print(embedder.runtime, "torch" in sys.modules)
        """
    )
    folder = backbone_cache_dir(ort_embedder.spec, tmp_path)
    env = {**os.environ, "PHOTO_TAGGER_CACHE_DIR": str(tmp_path)}
    with onnx_cache.export_lock(folder):  # "another process" is exporting
        child = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=tmp_path, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        assert child.poll() is None and not (folder / "model.onnx").exists(), "the child must wait"
        for path in backbone_cache_dir(ort_embedder.spec).iterdir():  # the export finishes
            if path.name != onnx_cache.LOCK_FILE:
                shutil.copy(path, folder / path.name)
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    assert out.split() == ["onnxruntime", "False"]  # loaded the cache; never exported


def test_a_truncated_model_is_rebuilt_not_loaded(ort_embedder: Embedder, chelsea: np.ndarray, tmp_path: Path) -> None:
    good = backbone_cache_dir(ort_embedder.spec)
    copy = backbone_cache_dir(ort_embedder.spec, tmp_path)
    shutil.copytree(good, copy)
    model = copy / "model.onnx"
    with open(model, "r+b") as f:
        f.truncate(model.stat().st_size // 2)

    warnings: list[str] = []
    rebuilt = load_embedder(cache_dir=tmp_path, warn=warnings.append)

    assert warnings == [] and rebuilt.runtime == "onnxruntime"
    assert model.stat().st_size == (good / "model.onnx").stat().st_size
    assert json.loads((copy / "meta.json").read_text())["weights_sha256"] == ort_embedder.spec.weights_sha256()
    np.testing.assert_allclose(rebuilt.embed(chelsea)[0], ort_embedder.embed(chelsea)[0], atol=1e-5)


def test_an_export_killed_before_sealing_is_not_trusted(ort_embedder: Embedder, tmp_path: Path) -> None:
    good = backbone_cache_dir(ort_embedder.spec)
    identity = json.loads((good / "meta.json").read_text())
    identity.pop("files")
    assert onnx_cache.read_meta(good, identity) is not None

    killed = tmp_path / good.name  # model and classifier written, meta.json not yet
    killed.mkdir()
    for name in ("model.onnx", "classifier.npz"):
        shutil.copy(good / name, killed / name)
    assert onnx_cache.read_meta(killed, identity) is None


def test_a_model_onnx_runtime_rejects_means_torch_and_one_warning(ort_embedder: Embedder, tmp_path: Path) -> None:
    good = backbone_cache_dir(ort_embedder.spec)
    identity = json.loads((good / "meta.json").read_text())
    identity.pop("files")
    folder = backbone_cache_dir(ort_embedder.spec, tmp_path)
    folder.mkdir(parents=True)
    shutil.copy(good / "classifier.npz", folder / "classifier.npz")
    (folder / "model.onnx").write_bytes(b"not a protobuf at all")
    onnx_cache.write_meta(folder, identity)  # sealed, so only ONNX Runtime can object

    warnings: list[str] = []
    embedder = load_embedder(cache_dir=tmp_path, warn=warnings.append)

    assert embedder.runtime == "torch" and len(warnings) == 1
    assert "model.onnx" in warnings[0]


def test_without_onnx_runtime_torch_is_used_after_one_warning(
    monkeypatch: pytest.MonkeyPatch, chelsea: np.ndarray, torch_model: EfficientNetLite
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    warnings: list[str] = []
    embedder = load_embedder(warn=warnings.append)
    assert embedder.runtime == "torch" and len(warnings) == 1
    assert "ONNX Runtime" in warnings[0]
    embedding, logits = embedder.embed(chelsea)
    np.testing.assert_allclose(logits, torch_outputs(torch_model, chelsea)[1], atol=1e-4)


@pytest.mark.parametrize("damage", ["missing", "unexpected"])
def test_checkpoint_that_does_not_fit_is_a_clear_error(spec: BackboneSpec, damage: str) -> None:
    state = torch.load(spec.weights_path(), map_location="cpu", weights_only=True)
    if damage == "missing":
        del state["_blocks.3._bn1.running_var"]
        expected = r"missing keys \['_blocks.3._bn1.running_var'\]"
    else:
        state["_blocks.0._se_reduce.weight"] = torch.zeros(8, 32, 1, 1)
        expected = r"unexpected keys \['_blocks.0._se_reduce.weight'\]"
    with pytest.raises(ValueError, match=expected):
        load_weights(EfficientNetLite(), state, source="damaged.pth")


def test_unknown_runtime_is_refused() -> None:
    with pytest.raises(ValueError, match="prefer"):
        load_embedder(prefer="tensorflow")
