"""The head that ships with the app: where every library's suggestions start.

It was fitted on real labelled photos (COCO; README, Pretrained head; and
scripts/build_pretrained_head.py) on top of the taxonomy's ImageNet prior, so a tag that
ImageNet cannot see (giraffe, fork, toothbrush) gets a score from the first index. The user's
retraining starts from it and is pulled back toward it; rollback returns to it.

Stored as `models/pretrained_head.safetensors` (a TagHead, cannot execute code) plus
`models/pretrained_head.json` (what it was built from and how well it did). Loading checks the
pipeline it was fitted for (backbone, weights, views), the taxonomy whose prior it combines
with, the shapes and the tag names; anything that does not match is refused with a warning
naming the problem, and suggestions start from the taxonomy prior instead.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import logging
from functools import lru_cache
from typing import Any

from photo_tagger.core.head import HeadFormatError, TagHead
from photo_tagger.core.taxonomy import Taxonomy

log = logging.getLogger(__name__)

HEAD_FILE = "pretrained_head.safetensors"
META_FILE = "pretrained_head.json"
META_FORMAT = 1


def taxonomy_fingerprint(taxonomy: Taxonomy) -> str:
    """What the prior depends on (tags, members, calibration), not comments or synonyms: a
    head fitted on one prior is refused with another."""
    content = {
        "calibration": [taxonomy.temperature, taxonomy.aggregation, taxonomy.exponent],
        "tags": [[tag.name, list(tag.imagenet), tag.faces, list(tag.implied_by), tag.above_uniform]
                 for tag in taxonomy.tags],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


@lru_cache(maxsize=4)
def load_pretrained_head(pipeline_key: str, embedding_dim: int, taxonomy: Taxonomy) -> TagHead | None:
    """The shipped head if it fits this pipeline and taxonomy, else None (with a warning).
    Read once per pipeline: callers copy what they take from it, never change it."""
    folder = importlib.resources.files("photo_tagger.models")
    head_file, meta_file = folder / HEAD_FILE, folder / META_FILE
    if not head_file.is_file():
        log.info("no pretrained head shipped (%s); suggestions start from the taxonomy prior", HEAD_FILE)
        return None
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        head = TagHead.from_bytes(head_file.read_bytes())
        check_pretrained(head, meta, pipeline_key, embedding_dim, taxonomy)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # HeadFormatError is a ValueError
        log.warning("%s refused: %s; suggestions start from the taxonomy prior instead", HEAD_FILE, exc)
        return None
    return head


def check_pretrained(
    head: TagHead, meta: dict[str, Any], pipeline_key: str, embedding_dim: int, taxonomy: Taxonomy
) -> None:
    """Raise HeadFormatError naming the first thing that does not fit."""
    if meta.get("format") != META_FORMAT:
        raise HeadFormatError(f"{META_FILE} has format {meta.get('format')!r}, expected {META_FORMAT}")
    if head.backbone != pipeline_key or meta.get("pipeline") != pipeline_key:
        raise HeadFormatError(f"it was fitted for the pipeline {head.backbone!r}, this app runs {pipeline_key!r}")
    if head.embedding_dim != embedding_dim:
        raise HeadFormatError(f"it takes {head.embedding_dim}-d embeddings, the backbone gives {embedding_dim}")
    if meta.get("tag_names") != head.tag_names:
        raise HeadFormatError(f"its tag names differ from those listed in {META_FILE}")
    known = {name.casefold() for name in taxonomy.names()}
    unknown = [name for name in head.tag_names if name.casefold() not in known]
    if unknown:
        raise HeadFormatError(f"tags {unknown[:5]} are not in the taxonomy")
    fingerprint = taxonomy_fingerprint(taxonomy)
    if meta.get("taxonomy") != fingerprint:
        raise HeadFormatError(
            f"it was fitted on another taxonomy prior ({meta.get('taxonomy')!r}, this one is {fingerprint!r});"
            " rebuild it with scripts/build_pretrained_head.py"
        )
