"""The MTCNN face detector: real photos in, faces out; ONNX Runtime reproduces torch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from skimage import data

from photo_tagger.core import onnx_runtime as onnx_cache
from photo_tagger.core.faces import (
    FACE_FEATURES,
    NET_FILES,
    Face,
    FaceDetector,
    face_summary,
    faces_cache_dir,
    load_face_detector,
    nms,
    weights_path,
)


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return load_face_detector()


def test_the_astronaut_has_one_confident_face_where_her_face_is(detector: FaceDetector) -> None:
    faces = detector.detect(data.astronaut())
    confident = [f for f in faces if f.probability > 0.9]
    assert len(confident) == 1
    x0, y0, x1, y1 = confident[0].box
    # Eileen Collins' face spans about x 180-270, y 60-175 of the 512x512 photo.
    assert 160 < x0 < 200 and 250 < x1 < 290
    assert 40 < y0 < 85 and 155 < y1 < 195


@pytest.mark.parametrize("name", ["coffee", "chelsea"])
def test_no_confident_face_in_a_photo_without_people(detector: FaceDetector, name: str) -> None:
    faces = detector.detect(getattr(data, name)())
    assert not [f for f in faces if f.probability > 0.9]


@pytest.mark.parametrize("shape", [(5, 5, 3), (1, 300, 3), (300, 1, 3), (11, 400, 3), (0, 0, 3)])
def test_an_image_too_small_for_a_face_has_none(detector: FaceDetector, shape: tuple[int, int, int]) -> None:
    assert detector.detect(np.zeros(shape, np.uint8)) == []


def test_a_blank_image_has_no_face(detector: FaceDetector) -> None:
    assert detector.detect(np.full((240, 320, 3), 128, np.uint8)) == []


def test_a_face_box_stays_inside_the_image(detector: FaceDetector) -> None:
    # The astronaut's face cut by the top-left corner: the regressed box would stick out.
    crop = np.ascontiguousarray(data.astronaut()[100:400, 210:500])
    for face in detector.detect(crop):
        x0, y0, x1, y1 = face.box
        assert 0 <= x0 < x1 <= crop.shape[1] and 0 <= y0 < y1 <= crop.shape[0]


def test_two_threads_sharing_a_detector_get_the_same_faces(detector: FaceDetector) -> None:
    from concurrent.futures import ThreadPoolExecutor

    photos = [data.astronaut(), data.coffee(), data.chelsea()] * 2
    alone = [detector.detect(photo) for photo in photos]
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(detector.detect, photos)) == alone


def test_detect_rejects_an_array_that_is_not_uint8_rgb(detector: FaceDetector) -> None:
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        detector.detect(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        detector.detect(np.zeros((64, 64, 3), np.float32))


def test_summary_of_no_faces_is_zeros() -> None:
    summary = face_summary([], 640, 480)
    assert summary.shape == (FACE_FEATURES,) and summary.dtype == np.float32
    assert not summary.any()


def test_summary_of_the_astronaut_is_one_large_confident_face(detector: FaceDetector) -> None:
    photo = data.astronaut()
    probability, count, tallest, area = face_summary(detector.detect(photo), photo.shape[1], photo.shape[0])
    assert probability > 0.99
    assert count == pytest.approx(0.1)  # one face
    assert 0.15 < tallest < 0.3  # a head-and-shoulders portrait: the face is about 115 of 512 px
    assert 0.02 < area < 0.06


def test_summary_counts_confident_faces_up_to_ten_and_stays_in_range() -> None:
    crowd = [Face((10.0 * i, 0.0, 10.0 * i + 50, 50.0), 0.95) for i in range(14)]
    doubtful = [Face((0.0, 0.0, 100.0, 100.0), 0.8)]
    summary = face_summary(crowd + doubtful, 100, 50)
    assert summary[0] == pytest.approx(0.95)
    assert summary[1] == 1.0
    assert summary[2] == 1.0
    assert summary[3] == 1.0  # overlapping boxes sum past the image: capped
    only_doubtful = face_summary(doubtful, 200, 200)
    assert only_doubtful[0] == pytest.approx(0.8) and not only_doubtful[1:].any()


def test_nms_keeps_the_best_of_overlapping_boxes_and_the_separate_ones() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [2, 2, 6, 6]], np.float32)
    scores = np.array([0.8, 0.9, 0.7, 0.6], np.float32)
    assert nms(boxes, scores, 0.5).tolist() == [1, 2, 3]
    # Over the smaller box, the small box inside the big one is suppressed too.
    assert nms(boxes, scores, 0.5, over_min=True).tolist() == [1, 2]


def test_the_weights_file_loads_strictly_into_our_nets() -> None:
    from safetensors.numpy import load_file

    from photo_tagger.core.mtcnn_nets import load_nets

    nets = load_nets(weights_path())
    tensors = load_file(str(weights_path()))
    loaded = {f"{name}.{key}" for name, net in nets.items() for key in net.state_dict()}
    assert loaded == set(tensors)


def test_onnx_runtime_reproduces_torch_on_each_net() -> None:
    from photo_tagger.core.faces import export_max_abs_diff
    from photo_tagger.core.mtcnn_nets import load_nets

    nets = load_nets(weights_path())
    folder = faces_cache_dir()
    load_face_detector()  # exported and sealed
    for name, file in NET_FILES.items():
        assert export_max_abs_diff(onnx_cache.open_session(folder / file), nets[name], name) < 1e-4


def test_a_warm_cache_detects_faces_without_importing_torch(detector: FaceDetector) -> None:
    folder = faces_cache_dir()
    mtimes = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    script = textwrap.dedent(
        """
        import sys
        from skimage import data
        import photo_tagger.core.faces as faces
        assert "torch" not in sys.modules, "importing faces imported torch"
        found = faces.load_face_detector().detect(data.astronaut())
        print(len([f for f in found if f.probability > 0.9]), "torch" in sys.modules)
        """
    )
    cache = os.environ["PHOTO_TAGGER_CACHE_DIR"]
    # cwd outside the repo, so the installed package (with its models folder) is imported.
    result = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ}, capture_output=True, text=True, cwd=cache
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "False"]
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == mtimes


def test_a_corrupt_export_is_rebuilt(tmp_path: Path) -> None:
    load_face_detector(tmp_path)
    folder = faces_cache_dir(tmp_path)
    (folder / NET_FILES["rnet"]).write_bytes(b"not an onnx model")
    detector = load_face_detector(tmp_path)
    assert any(f.probability > 0.9 for f in detector.detect(data.astronaut()))
    assert onnx_cache.read_meta(folder, {"model": "mtcnn"}, tuple(NET_FILES.values())) is not None
