"""Zero-shot priors from a photo's face summary: person, portrait, group photo, selfie.

ImageNet has no person class, so these tags read the faces MTCNN found (faces.py). The summary
columns are defined there; each rule is a smooth function of them, so a ranking (and AP) comes
out, not only a yes/no:
- person: the most probable face's probability (MTCNN alone: person AP 0.88 on COCO photos;
  the taxonomy combines it with clothing classes by noisy-or).
- portrait: a sure face that fills the frame: one or two faces, the largest at least ~1/5 of
  the picture's height.
- group: three or more sure faces (two: none; the ramp keeps the score a ranking).
- selfie: one to three faces with the largest very close to the camera (over ~2/5 of the
  height). A weak cue: the pose of the arm is not seen; its threshold stays high.
"""

from __future__ import annotations

import numpy as np

from photo_tagger.core.faces import FACE_FEATURES, MAX_COUNTED_FACES

# Columns of faces.face_summary.
MAX_PROBABILITY, SURE_FACES, LARGEST_FACE_HEIGHT = 0, 1, 2


def _ramp(x: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.clip((x - low) / (high - low), 0.0, 1.0)


def face_prior(faces: np.ndarray, rule: str) -> np.ndarray:
    """(N, FACE_FEATURES) face summaries -> (N,) probabilities for the tag `rule`."""
    faces = np.asarray(faces, np.float64)
    if faces.ndim != 2 or faces.shape[1] != FACE_FEATURES:
        raise ValueError(f"face summaries must be (n, {FACE_FEATURES}), got {faces.shape}")
    probability = faces[:, MAX_PROBABILITY]
    count = np.rint(faces[:, SURE_FACES] * MAX_COUNTED_FACES)
    height = faces[:, LARGEST_FACE_HEIGHT]
    if rule == "person":
        return probability
    if rule == "portrait":
        return probability * _ramp(height, 0.12, 0.25) * (count <= 2)
    if rule == "group":
        return probability * _ramp(count, 2.0, 3.0)
    if rule == "selfie":
        return probability * _ramp(height, 0.35, 0.55) * (count <= 3)
    raise ValueError(f"unknown face rule {rule!r}")
