"""The pretrained head that ships in models/: it loads, fits this app, is refused when it
does not, is where a new library starts, and its build script is reproducible."""

from __future__ import annotations

import csv
import importlib.util
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from photos import sample_photo, save_photo
from PIL import ImageOps

from photo_tagger.core import pretrained, service
from photo_tagger.core.backbone import classifier_weights, get_backbone_spec
from photo_tagger.core.head import HeadFormatError, TagHead
from photo_tagger.core.library import Library
from photo_tagger.core.pretrained import check_pretrained, load_pretrained_head, taxonomy_fingerprint
from photo_tagger.core.suggest import base_suggestion_model
from photo_tagger.core.taxonomy import load_default_taxonomy, parse_taxonomy

MODELS = Path(pretrained.__file__).resolve().parents[1] / "models"
BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_pretrained_head.py"


def shipped() -> tuple[TagHead, dict]:
    import importlib.resources

    folder = importlib.resources.files("photo_tagger.models")
    head = TagHead.from_bytes((folder / pretrained.HEAD_FILE).read_bytes())
    return head, json.loads((folder / pretrained.META_FILE).read_text(encoding="utf-8"))


def test_the_shipped_head_fits_this_pipeline_and_taxonomy() -> None:
    key = service.current_backbone_key()
    head = load_pretrained_head(key, get_backbone_spec().embedding_dim, load_default_taxonomy())
    assert head is not None, "models/pretrained_head.* missing or refused: run scripts/build_pretrained_head.py"
    # Tags ImageNet cannot see come from the real photos it was fitted on.
    assert {"giraffe", "fork", "banana", "car"} <= set(head.tag_names)
    assert head.has_model_.all() and not head.trained_.any()
    assert np.all((head.thresholds_ > 0) & (head.thresholds_ < 1))
    meta = shipped()[1]
    assert meta["pipeline"] == key and meta["cross_validation"]["map"] > meta["cross_validation"]["map_prior_alone"]


@pytest.mark.parametrize("damage", ["pipeline", "dimension", "taxonomy", "tag_names", "unknown_tag"])
def test_a_mismatched_head_is_refused_with_the_reason(damage: str) -> None:
    head, meta = shipped()
    key, dim, taxonomy = meta["pipeline"], head.embedding_dim, load_default_taxonomy()
    if damage == "pipeline":
        key = "efficientnet-lite0:0000000000000000:centre"
    elif damage == "dimension":
        dim = 512
    elif damage == "taxonomy":
        taxonomy = parse_taxonomy('[tags.cat]\nimagenet = [281]\n[tags.giraffe]\nimagenet = []\n')
    elif damage == "tag_names":
        meta = {**meta, "tag_names": meta["tag_names"][::-1]}
    else:
        head.tag_names[0] = "no such tag"
        meta = {**meta, "tag_names": head.tag_names}
    with pytest.raises(HeadFormatError, match={"pipeline": "pipeline", "dimension": "512-d|embeddings",
                                               "taxonomy": "taxonomy|not in", "tag_names": "tag names",
                                               "unknown_tag": "not in the taxonomy"}[damage]):
        check_pretrained(head, meta, key, dim, taxonomy)


def test_a_refused_head_leaves_the_taxonomy_prior_with_a_warning(tmp_path: Path, caplog) -> None:
    library = Library.open(tmp_path)
    spec = get_backbone_spec()
    with caplog.at_level(logging.WARNING), library.connect() as catalogue:
        model = base_suggestion_model(catalogue, "another-backbone:0:centre", classifier_weights(spec))
    assert "refused" in caplog.text and "taxonomy prior" in caplog.text
    names = model.head.tag_names  # a head names a tag by its path
    assert not model.head.has_model_[names.index("animal|wild animal|giraffe")]  # giraffe has no ImageNet class
    assert model.head.has_model_[names.index("animal|cat")]


def test_a_new_library_starts_from_the_shipped_head(tmp_path: Path) -> None:
    library = Library.open(tmp_path)
    model = service.load_model(library)
    names = model.head.tag_names
    giraffe = names.index("animal|wild animal|giraffe")
    assert model.head_id is None and model.head.has_model_[giraffe] and model.strong_start[giraffe]
    assert "person" not in model.head.tag_names or model.strong_start[names.index("person")]  # faces, clothing, context


def test_the_fingerprint_ignores_synonyms_but_not_members() -> None:
    base = '[tags.cat]\nimagenet = [281]\n'
    assert taxonomy_fingerprint(parse_taxonomy(base)) == taxonomy_fingerprint(
        parse_taxonomy(base + 'synonyms = ["kitten"]\n'))
    assert taxonomy_fingerprint(parse_taxonomy(base)) != taxonomy_fingerprint(
        parse_taxonomy('[tags.cat]\nimagenet = [281, 282]\n'))


def tiny_trainset(folder: Path) -> None:
    """12 real photos (crops of two scikit-image samples) labelled as COCO would label them."""
    rows = []
    for name, label in (("chelsea", "cat"), ("coffee", "cup")):
        image = sample_photo(name).convert("RGB")
        for i in range(6):
            w, h = image.size
            crop = image.crop((i * 8, i * 6, w - 40 + i * 4, h - 30 + i * 3))
            save_photo(ImageOps.mirror(crop) if i % 2 else crop, folder / "images" / f"{name}{i}.jpg", quality=90)
            rows.append({"path": f"images/{name}{i}.jpg", "tags": label})
    with open(folder / "labels.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, ["path", "tags"])
        writer.writeheader()
        writer.writerows(rows)


def test_the_build_script_is_deterministic_on_a_tiny_slice(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("build_pretrained_head", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    tiny_trainset(tmp_path / "photos")
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run
        assert build.main(["--photos", str(tmp_path / "photos"), "--out", str(out)]) == 0
        outputs.append({f.name: f.read_bytes() for f in sorted(out.iterdir())})
    assert outputs[0] == outputs[1]
    head = TagHead.from_bytes(outputs[0][pretrained.HEAD_FILE])
    meta = json.loads(outputs[0][pretrained.META_FILE])
    assert head.tag_names == meta["tag_names"] == ["cat", "cup"]
    assert meta["trained_on"]["photos"] == 12
