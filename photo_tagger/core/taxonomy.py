"""Tags, the ImageNet classes each one maps to, and the zero-shot prior that mapping gives.

The default taxonomy lives in resources/taxonomy.toml. A tag's prior for a photo is the
calibrated softmax mass the backbone's 1000 ImageNet logits put on the tag's member classes;
tags ImageNet cannot see (person, sunset, ...) have no members and a NaN prior, which means
"no opinion" rather than "no". numpy only: no torch here.
"""

from __future__ import annotations

import importlib.resources
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

from photo_tagger.core.interchange import TAG_SEPARATOR

MAX_TAG_NAME_LENGTH = 100
AGGREGATIONS = ("sum", "noisy_or")
# What a tag's `faces` rule reads from the face summary (photo_tagger.core.faces), see face_prior.
FACE_RULES = ("person", "portrait", "group", "selfie")


def validate_tag_name(name: str) -> str:
    """`name` stripped (a trailing newline too), inner whitespace collapsed, NFC-normalised;
    case is kept.

    Raises ValueError naming the problem for a name that is empty, longer than
    MAX_TAG_NAME_LENGTH, holds a control character (newline, tab, NUL, ...) or ';'.
    """
    if not isinstance(name, str):
        raise ValueError(f"a tag name must be text, not {type(name).__name__}")
    # NFC so that "café" typed and "café" pasted (e + combining accent) are one tag.
    stripped = unicodedata.normalize("NFC", name).strip()
    if not stripped:
        raise ValueError("a tag name cannot be empty")
    for char in stripped:
        # Cc: \n, \t, NUL, DEL ...; Zl/Zp: Unicode line and paragraph separators.
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            raise ValueError(
                f"tag name {stripped!r} contains the control character U+{ord(char):04X};"
                " a tag name must be a single line of text"
            )
    if TAG_SEPARATOR in stripped:
        raise ValueError(
            f"tag name {stripped!r} contains {TAG_SEPARATOR!r}, which separates tags in CSV"
            " files; use another character"
        )
    clean = " ".join(stripped.split())
    if len(clean) > MAX_TAG_NAME_LENGTH:
        start, limit = clean[:20], MAX_TAG_NAME_LENGTH
        raise ValueError(f"tag name {start!r}... has {len(clean)} characters; the limit is {limit}")
    return clean


@dataclass(frozen=True)
class TagDefinition:
    name: str
    imagenet: tuple[int, ...]  # member ImageNet-1k class indices; () = no prior
    parent: str | None = None
    synonyms: tuple[str, ...] = ()
    faces: str | None = None  # a FACE_RULES entry: the tag's prior also reads the photo's faces
    threshold: float | None = None  # the zero-shot threshold, where the general rule does not fit
    # Tags whose presence implies this one (a tennis racket implies a player): the suggestion
    # model folds their scores into this tag's prior by noisy-or (SuggestionModel).
    implied_by: tuple[str, ...] = ()
    # The member classes' mass counts only above what a uniform prediction gives them: for a
    # tag of many classes (person's 83 clothing classes) a texture otherwise scores ~0.3.
    above_uniform: bool = False


@dataclass(frozen=True)
class Taxonomy:
    tags: tuple[TagDefinition, ...]
    temperature: float = 1.0  # softmax temperature applied to the logits
    aggregation: str = "sum"  # how member-class probabilities combine: see AGGREGATIONS
    exponent: float = 1.0  # p -> p ** exponent after aggregation (monotone recalibration)

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"calibration temperature must be > 0, not {self.temperature}")
        if not self.exponent > 0:
            raise ValueError(f"calibration exponent must be > 0, not {self.exponent}")
        if self.aggregation not in AGGREGATIONS:
            choices = ", ".join(AGGREGATIONS)
            raise ValueError(f"calibration aggregation {self.aggregation!r} unknown; use {choices}")
        _check_tags(self.tags)

    def names(self) -> list[str]:
        return [tag.name for tag in self.tags]

    def tag(self, name: str) -> TagDefinition:
        """The tag called `name`, case-insensitively; KeyError if there is none."""
        wanted = name.casefold()
        for tag in self.tags:
            if tag.name.casefold() == wanted:
                return tag
        raise KeyError(name)

    @cached_property
    def paths(self) -> tuple[tuple[str, ...], ...]:
        """Each tag's path, root first (`('animal', 'cat')`), aligned with `tags`: where the
        catalogue seeds it, and what a head calls it (suggest.py)."""
        parents = {tag.name: tag.parent for tag in self.tags}
        result = []
        for tag in self.tags:
            path = [tag.name]
            while (parent := parents[path[-1]]) is not None:
                path.append(parent)
            result.append(tuple(reversed(path)))
        return tuple(result)

    def path(self, name: str) -> tuple[str, ...]:
        return self.paths[self.tags.index(self.tag(name))]

    def membership_matrix(self, num_classes: int = 1000) -> np.ndarray:
        """(num_classes, n_tags) float32: 1 where class c is a member of tag t."""
        matrix = np.zeros((num_classes, len(self.tags)), np.float32)
        for column, tag in enumerate(self.tags):
            if tag.imagenet and max(tag.imagenet) >= num_classes:
                raise ValueError(
                    f"tag {tag.name!r} maps to class {max(tag.imagenet)},"
                    f" but the classifier has only {num_classes} classes"
                )
            matrix[list(tag.imagenet), column] = 1.0
        return matrix

    def prior_probabilities(self, logits: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
        """(N, num_classes) ImageNet logits -> (N, n_tags) float32 priors in [0, 1].

        `faces` (N, FACE_FEATURES) is each photo's face summary: a tag with a `faces` rule
        combines its member classes' prior with the rule's by noisy-or (either may show a
        person: a face, or a suit and a helmet). Columns of tags with neither members nor a
        rule (or a rule but no `faces`) are NaN: nothing here says anything about them.
        """
        logits = np.asarray(logits, np.float64)
        if logits.ndim != 2:
            raise ValueError(f"logits must be (n_photos, n_classes), got shape {logits.shape}")
        membership = self.membership_matrix(logits.shape[1]).astype(np.float64)
        scaled = logits / self.temperature
        scaled -= scaled.max(axis=1, keepdims=True)  # exp cannot overflow
        probs = np.exp(scaled)
        probs /= probs.sum(axis=1, keepdims=True)
        if self.aggregation == "sum":
            prior = probs @ membership
        else:  # noisy-or: the tag is present if any member class is, as if independent
            prior = -np.expm1(np.log1p(-np.minimum(probs, 1.0 - 1e-12)) @ membership)
        above_uniform = [column for column, tag in enumerate(self.tags) if tag.above_uniform]
        if above_uniform:  # what a uniform prediction (a texture) would give counts for nothing
            uniform = membership.sum(axis=0)[above_uniform] / membership.shape[0]
            prior[:, above_uniform] = (prior[:, above_uniform] - uniform) / (1.0 - uniform)
        prior = np.clip(prior, 0.0, 1.0) ** self.exponent
        has_members = membership.sum(axis=0) > 0
        prior[:, ~has_members] = 0.0
        seen = has_members.copy()
        if faces is not None:
            from photo_tagger.core.face_priors import face_prior

            for column, tag in enumerate(self.tags):
                if tag.faces is not None:
                    by_faces = face_prior(faces, tag.faces)
                    prior[:, column] = 1.0 - (1.0 - prior[:, column]) * (1.0 - by_faces)
                    seen[column] = True
        prior[:, ~seen] = np.nan
        return prior.astype(np.float32)

    def prior_thresholds(self, num_classes: int = 1000, default: float = 0.5, margin: float = 0.15) -> np.ndarray:
        """(n_tags,) zero-shot decision thresholds.

        A tag that sums many classes collects probability from any uninformative picture:
        `animal` holds ~400 of the 1000 classes, so a texture or a flower with a bee scores
        ~0.6 after the exponent. Each threshold is therefore at least what a uniform
        prediction would score, plus a margin. Rankings (and so mAP) are unchanged; only
        which suggestions count as tags before the user has trained anything.
        """
        sizes = np.array([len(tag.imagenet) for tag in self.tags], np.float64)
        uniform = np.clip(sizes / num_classes, 0.0, 1.0) ** self.exponent
        thresholds = np.maximum(default, np.minimum(uniform + margin, 0.95))
        for column, tag in enumerate(self.tags):
            if tag.threshold is not None:
                thresholds[column] = tag.threshold
        return thresholds.astype(np.float32)


def _check_tags(tags: tuple[TagDefinition, ...]) -> None:
    """Refuse what would break callers: bad names, duplicates, unknown parents, cycles."""
    seen: dict[str, str] = {}
    for tag in tags:
        if validate_tag_name(tag.name) != tag.name:
            raise ValueError(f"tag name {tag.name!r} is not normalised; write it trimmed")
        key = tag.name.casefold()
        if key in seen:
            raise ValueError(f"tag {tag.name!r} is defined twice (also as {seen[key]!r})")
        seen[key] = tag.name
        bad = [i for i in tag.imagenet if not isinstance(i, int) or isinstance(i, bool) or i < 0]
        if bad:
            raise ValueError(f"tag {tag.name!r}: ImageNet classes must be indices >= 0, got {bad}")
        if len(set(tag.imagenet)) != len(tag.imagenet):
            raise ValueError(f"tag {tag.name!r} lists an ImageNet class twice")
        if not all(isinstance(synonym, str) for synonym in tag.synonyms):
            raise ValueError(f"tag {tag.name!r}: synonyms must be strings")
        if tag.threshold is not None and not 0.0 < tag.threshold < 1.0:
            raise ValueError(f"tag {tag.name!r}: threshold must be between 0 and 1, not {tag.threshold}")
        if tag.faces is not None and tag.faces not in FACE_RULES:
            raise ValueError(f"tag {tag.name!r}: faces rule {tag.faces!r} unknown; use one of {', '.join(FACE_RULES)}")
    parents = {tag.name: tag.parent for tag in tags}
    for tag in tags:
        unknown = [name for name in tag.implied_by if name not in parents or name == tag.name]
        if unknown:
            raise ValueError(f"tag {tag.name!r}: implied_by names {unknown}, which are not other tags")
        if tag.parent is not None and tag.parent not in parents:
            raise ValueError(f"tag {tag.name!r} has parent {tag.parent!r}, which is not a tag")
    for tag in tags:
        chain = [tag.name]
        parent = tag.parent
        while parent is not None:
            if parent in chain:
                raise ValueError(f"tags form a parent cycle: {' -> '.join([*chain, parent])}")
            chain.append(parent)
            parent = parents[parent]


def parse_taxonomy(text: str, source: str = "taxonomy") -> Taxonomy:
    """A Taxonomy from TOML text (the format of resources/taxonomy.toml)."""
    try:
        data = tomllib.loads(text)
        return _from_table(data)
    except (tomllib.TOMLDecodeError, ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"{source}: {exc}") from exc


def _from_table(data: Mapping[str, Any]) -> Taxonomy:
    calibration = data.get("calibration", {})
    tags = []
    for name, table in data.get("tags", {}).items():
        unknown = set(table) - {"imagenet", "parent", "synonyms", "faces", "threshold", "implied_by", "above_uniform"}
        if unknown:
            raise ValueError(f"tag {name!r}: unknown keys {sorted(unknown)}")
        tags.append(
            TagDefinition(
                name=name,
                imagenet=tuple(table.get("imagenet", ())),
                parent=table.get("parent"),
                synonyms=tuple(table.get("synonyms", ())),
                faces=table.get("faces"),
                threshold=None if "threshold" not in table else float(table["threshold"]),
                implied_by=tuple(table.get("implied_by", ())),
                above_uniform=bool(table.get("above_uniform", False)),
            )
        )
    return Taxonomy(
        tags=tuple(tags),
        temperature=float(calibration.get("temperature", 1.0)),
        aggregation=str(calibration.get("aggregation", "sum")),
        exponent=float(calibration.get("exponent", 1.0)),
    )


@lru_cache(maxsize=1)
def load_default_taxonomy() -> Taxonomy:
    """The taxonomy shipped in photo_tagger.resources (read once; it is immutable)."""
    source = importlib.resources.files("photo_tagger.resources") / "taxonomy.toml"
    return parse_taxonomy(source.read_text(encoding="utf-8"), source="taxonomy.toml")
