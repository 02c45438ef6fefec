"""Export formats beyond the core CSV (one-hot CSV, JSON, XMP sidecars), the filters they
share, and import of each format back.

Tags are named by their label (tag_names.py: the name, or the path where the name alone is
ambiguous). Filters (`ExportOptions`): `tags` keeps only those tags and the tags under them
(a label, path, unambiguous leaf name or synonym; every photo is still listed),
`confirmed_only` drops unreviewed suggestions, `min_score` makes a suggestion count when
its score reaches it (instead of its tag's threshold). Confirmed tags always count, rejected ones never.

- one-hot: `path,<tag>,<tag>...`, one 0/1 column per tag (sorted), the shape
  scikit-learn's multi-label estimators and `pandas.read_csv` expect. Import: 1 -> the
  tag is confirmed; 0 -> an opinion the photo had on it becomes rejected (as the core
  CSV does); tags without a column are left alone.
- JSON: `{"format": "photo-tagger", "version": 1, "tags": [{name, parent, synonyms}],
  "photos": [{path, tags, confirmed, rejected, scores}]}`, tags by label. Import creates
  the tags at their paths (name under parent; a label that is a path is the path) with
  their synonyms and sets each photo's confirmed and rejected tags exactly; an
  opinion on a listed tag that the file does not repeat is cleared. An object without
  `confirmed` takes `tags` as confirmed truth, like the core CSV.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from photo_tagger.core.atomic import atomic_write_text
from photo_tagger.core.csv_io import MAX_IMPORT_BYTES, ImportSummary
from photo_tagger.core.errors import UserError
from photo_tagger.core.import_plan import ImportPlan, Planner, apply_import, complete_truth, plan_import
from photo_tagger.core.interchange import EXPORT_FORMATS, IMPORT_FORMATS
from photo_tagger.core.store import opinions
from photo_tagger.core.store import photos as store_photos
from photo_tagger.core.store import tags as store_tags
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.tag_names import (
    TagIndex,
    add_synonym,
    lookup_tag,
    resolve_path,
    split_path,
    synonyms_of,
)
from photo_tagger.core.tag_tree import MAX_DEPTH

JSON_FORMAT_NAME = "photo-tagger"
JSON_VERSION = 1


@dataclass(frozen=True)
class ExportOptions:
    confirmed_only: bool = False
    tags: tuple[str, ...] = ()  # () = every tag
    min_score: float | None = None

    def __post_init__(self) -> None:
        if self.min_score is not None and not 0.0 <= self.min_score <= 1.0:
            raise UserError(f"the minimum score must be between 0 and 1, not {self.min_score}")


@dataclass
class PhotoTags:
    photo_id: int
    path: str
    tags: list[str] = field(default_factory=list)  # what the export shows, by label
    confirmed: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    tag_ids: set[int] = field(default_factory=set)  # `tags` as ids
    rejected_ids: set[int] = field(default_factory=set)


# tag id -> label (tag_names.py), sorted by label case-insensitively
Vocabulary = dict[int, str]


def vocabulary(catalogue: Catalogue, options: ExportOptions) -> Vocabulary:
    """The tags an export covers: every tag, or those `options.tags` name and the tags under them."""
    index = TagIndex(catalogue)
    ids = set(index.paths)
    if options.tags:
        ids = set()
        for name in options.tags:
            try:
                found = index.find(name)
            except UserError as exc:
                raise UserError(f"tag {name!r}: {exc}", about="tags") from exc
            if found is None:
                raise UserError(f"no such tag: {name!r}", about="tags")
            ids.update(store_tags.subtree(catalogue, found))  # the tags under a wanted tag are wanted too
    return dict(sorted(((tag_id, index.label(tag_id)) for tag_id in ids), key=lambda item: item[1].casefold()))


def select_photo_tags(catalogue: Catalogue, options: ExportOptions, vocab: Vocabulary) -> list[PhotoTags]:
    """Every present photo (sorted by path) with its tags under `options`."""
    photos = {pid: PhotoTags(pid, path) for pid, path in store_photos.present_paths(catalogue)}
    for photo_id, tag_id, state, score, suggested in opinions.library_rows(catalogue, options.min_score):
        photo = photos.get(photo_id)
        name = vocab.get(tag_id)
        if photo is None or name is None:
            continue
        if score is not None:
            photo.scores[name] = round(float(score), 4)
        if state == "confirmed" or (suggested and not options.confirmed_only):
            photo.tags.append(name)
            photo.tag_ids.add(tag_id)
        if state == "confirmed":
            photo.confirmed.append(name)
        elif state == "rejected":
            photo.rejected.append(name)
            photo.rejected_ids.add(tag_id)
    for photo in photos.values():
        for names in (photo.tags, photo.confirmed, photo.rejected):
            names.sort(key=str.casefold)
        photo.scores = dict(sorted(photo.scores.items(), key=lambda item: item[0].casefold()))
    return list(photos.values())


# --- one-hot ----------------------------------------------------------------------------


def onehot_rows(photos: Sequence[PhotoTags], vocab: Vocabulary) -> list[list[str]]:
    if any(name.casefold() == "path" for name in vocab.values()):
        raise UserError(
            "a tag is named 'path', which is the one-hot file's path column; rename it or export only other tags",
            about="tags",
        )
    rows = [["path", *vocab.values()]]
    for photo in photos:
        rows.append([photo.path, *("1" if tag_id in photo.tag_ids else "0" for tag_id in vocab)])
    return rows


def plan_onehot(planner: Planner, source: Path, header: list[str], rows: list[dict]) -> None:
    columns = {}
    for name in header:
        if name != "path":
            path = planner.keyword(name, f"{source} column {name!r}")
            if path is not None:
                columns[name] = path
    for line, row in enumerate(rows, start=2):
        photo_id = planner.photo(row["path"], f"{source} line {line}")
        if photo_id is None:
            continue
        for name, path in columns.items():
            value = (row.get(name) or "").strip()
            if value not in ("0", "1", ""):
                planner.plan.problems.append(f"{source} line {line}: {name!r} is {value!r}, expected 0 or 1")
            elif value == "1":
                planner.want(photo_id, path, "confirmed")
            elif value == "0" and planner.tag_id(path) in planner.with_opinion(photo_id):
                planner.want(photo_id, path, "rejected")


# --- JSON -------------------------------------------------------------------------------


def json_document(catalogue: Catalogue, photos: Sequence[PhotoTags], vocab: Vocabulary) -> dict:
    index = TagIndex(catalogue)
    parents = store_tags.parents(catalogue)
    return {
        "format": JSON_FORMAT_NAME,
        "version": JSON_VERSION,
        "tags": [
            {"name": name, "parent": None if (parent := parents.get(tag_id)) is None else index.label(parent),
             "synonyms": synonyms_of(catalogue, tag_id)}
            for tag_id, name in vocab.items()
        ],
        "photos": [
            {
                "path": p.path,
                "tags": p.tags,
                "confirmed": p.confirmed,
                "rejected": p.rejected,
                "scores": p.scores,
            }
            for p in photos
        ],
    }


def write_json(document: dict, out: Path) -> None:
    atomic_write_text(out, json.dumps(document, ensure_ascii=False, indent=1) + "\n")


def read_json(source: Path) -> dict:
    try:
        size = source.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise UserError(f"{source}: file too large to import ({size:,} bytes; limit {MAX_IMPORT_BYTES:,})")
        document = json.loads(source.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError as exc:
        raise UserError(f"{source}: no such file") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{source}: not valid UTF-8 JSON ({exc})") from exc
    except OSError as exc:
        raise UserError(f"{source}: cannot read ({exc.strerror})") from exc
    photos = document.get("photos") if isinstance(document, dict) else document
    if not isinstance(photos, list) or not all(isinstance(p, dict) and isinstance(p.get("path"), str) for p in photos):
        raise UserError(
            f"{source}: expected {{'photos': [{{'path': ..., 'tags': [...]}}, ...]}} or a list of such objects"
        )
    return document if isinstance(document, dict) else {"photos": photos}


def plan_json(planner: Planner, source: Path) -> None:
    document = read_json(source)
    planner.plan.tag_definitions = list(document.get("tags") or [])
    planner.defined = defined_paths(planner.catalogue, planner.plan.tag_definitions)
    listed = set()
    for definition in planner.plan.tag_definitions:
        if isinstance(definition, dict) and isinstance(definition.get("name"), str):
            path = planner.keyword(definition["name"], f"{source} tags")
            if path is not None and planner.tag_id(path) is not None:
                listed.add(planner.tag_id(path))
    for index, entry in enumerate(document["photos"]):
        where = f"{source} photos[{index}]"
        photo_id = planner.photo(entry["path"], where)
        if photo_id is None:
            continue
        if "confirmed" not in entry:
            complete_truth(planner, photo_id, _paths(planner, entry.get("tags"), where))
            continue
        confirmed = _paths(planner, entry.get("confirmed"), where)
        rejected = _paths(planner, entry.get("rejected"), where)
        for path in confirmed:
            planner.want(photo_id, path, "confirmed")
        confirmed_ids = {planner.tag_id(path) for path in confirmed}
        for path in rejected:
            if planner.tag_id(path) not in confirmed_ids or planner.tag_id(path) is None:
                planner.want(photo_id, path, "rejected")
        said = confirmed_ids | {planner.tag_id(path) for path in rejected}
        for tag_id, (state, _) in sorted(planner.states.get(photo_id, {}).items()):
            if state != "suggested" and tag_id in listed and tag_id not in said:
                planner.want_id(photo_id, tag_id, None)  # an opinion the file does not repeat


def _paths(planner: Planner, value: object, where: str) -> list[tuple[str, ...]]:
    return [p for p in (planner.keyword(name, where) for name in _names(value, where)) if p]


def import_tag_definitions(catalogue: Catalogue, source: Path, tags: list, summary: ImportSummary) -> set[int]:
    """Create the file's tags at their paths, exactly (a tag, unlike a word in a cell, is
    never taken for another by synonym), with their synonyms."""
    listed = set()
    paths = defined_paths(catalogue, tags)
    for index, definition in enumerate(tags):
        where = f"{source} tags[{index}]"
        if not isinstance(definition, dict) or not isinstance(definition.get("name"), str):
            summary.problems.append(f"{where}: expected an object with a 'name'")
            continue
        try:
            tag_id, created = resolve_path(catalogue, paths[definition["name"].strip().casefold()])
        except UserError as exc:
            summary.problems.append(f"{where}: {exc}")
            continue
        summary.created_tags.extend(created)
        listed.add(tag_id)
        label = TagIndex(catalogue).label(tag_id)
        for synonym in definition.get("synonyms") or []:
            found = lookup_tag(catalogue, str(synonym))
            if found is not None and found[0] == tag_id:
                continue
            try:
                add_synonym(catalogue, label, str(synonym))
            except UserError as exc:
                summary.problems.append(f"{where}: {exc}")
    return listed


def defined_paths(catalogue: Catalogue, tags: list) -> dict[str, tuple[str, ...]]:
    """label (case-folded) -> path of each tag a JSON file defines: a label that is a path
    is the path; else its parent's path (a parent the file does not define is the tag its
    label names here), then the name."""
    parents = {d["name"].strip().casefold(): d.get("parent") for d in tags
               if isinstance(d, dict) and isinstance(d.get("name"), str)}
    names = {d["name"].strip().casefold(): d["name"].strip() for d in tags
             if isinstance(d, dict) and isinstance(d.get("name"), str)}
    index = TagIndex(catalogue)

    def path_of(label: str, depth: int = 0) -> tuple[str, ...]:
        parts = split_path(label)
        parent = parents.get(label.casefold())
        if len(parts) > 1 or depth > MAX_DEPTH:
            return parts
        if label.casefold() not in parents:
            try:
                found = index.find(label)
            except UserError:
                found = None
            return parts if found is None else index.path(found)
        return (*path_of(parent.strip(), depth + 1), *parts) if isinstance(parent, str) and parent.strip() else parts

    return {key: path_of(name) for key, name in names.items()}


def _names(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(f"{where}: tag lists must be lists of names")
    return value


# --- format detection --------------------------------------------------------------------


def detect_format(source: Path, header: list[str]) -> str:
    if source.suffix.lower() == ".json":
        return "json"
    if "tags" in header:
        return "csv"
    if "path" in header:
        return "onehot"
    raise UserError(f"{source}: needs a 'path' column, and 'tags' (our CSV) or one column per tag (one-hot)")


def import_file(catalogue: Catalogue, root: Path, source: Path, fmt: str | None = None) -> ImportSummary:
    """Import `source` in `fmt` (None: by extension, then by the CSV header)."""
    return import_file_planned(catalogue, root, source, fmt)[1]


def import_file_planned(
    catalogue: Catalogue, root: Path, source: Path, fmt: str | None = None
) -> tuple[ImportPlan, ImportSummary]:
    """Plan and apply under one write lock: a plan made outside it could be overtaken by
    another writer (two imports at once would then both half win)."""
    with catalogue.transaction():
        plan = plan_import(catalogue, root, source, fmt)
        return plan, apply_import(catalogue, plan)


__all__ = [
    "EXPORT_FORMATS",
    "IMPORT_FORMATS",
    "ExportOptions",
    "PhotoTags",
    "import_file",
    "json_document",
    "onehot_rows",
    "select_photo_tags",
    "vocabulary",
    "write_json",
]
