"""CSV export and import (RFC 4180, UTF-8).

Export columns: `path,tags,confirmed` and, with scores, one `score:<tag>` per tag.
`path` is relative to the library with '/' separators; tags are ';'-separated, sorted.
Cells that a spreadsheet would run as a formula (leading = + - @ tab CR) get a leading
apostrophe; import strips exactly that apostrophe again, so a round trip is lossless.
Import maps a tag's synonym to the tag (`kitten` -> cat). The one-hot and JSON variants
live in formats.py.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from photo_tagger.core.atomic import atomic_write_text
from photo_tagger.core.errors import UserError
from photo_tagger.core.interchange import TAG_SEPARATOR
from photo_tagger.core.store import photos
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.tagging import effective_tags

log = logging.getLogger(__name__)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_IMPORT_BYTES = 200 * 1024 * 1024


def neutralise_cell(value: str) -> str:
    # A value that already starts with the apostrophe `restore_cell` strips gets one more.
    if value.startswith(FORMULA_PREFIXES) or (value.startswith("'") and value[1:2] in (*FORMULA_PREFIXES, "'")):
        return "'" + value
    return value


def restore_cell(value: str) -> str:
    if value.startswith("'") and value[1:2] and (value[1:2] in FORMULA_PREFIXES or value[1:2] == "'"):
        return value[1:]
    return value


@dataclass
class ExportSummary:
    path: Path
    photos: int
    tags: int


def export_rows(
    catalogue: Catalogue,
    *,
    scores: dict[int, dict[str, float]] | None = None,
    score_tags: Sequence[str] = (),
    confirmed_only: bool = False,
    tags_by_photo: dict[int, tuple[list[str], list[str]]] | None = None,
) -> list[list[str]]:
    """`tags_by_photo` (photo id -> (tags, confirmed)) replaces the effective tags, for
    the export filters in formats.py."""
    header = ["path", "tags", "confirmed"] + [f"score:{name}" for name in score_tags]
    rows = [header]
    if tags_by_photo is None:
        tags_by_photo = effective_tags(catalogue)
    for photo_id, path in photos.present_paths(catalogue):
        effective, confirmed = tags_by_photo.get(photo_id, ([], []))
        shown = confirmed if confirmed_only else effective
        row = [path, TAG_SEPARATOR.join(shown), TAG_SEPARATOR.join(confirmed)]
        if scores is not None:
            photo_scores = scores.get(photo_id, {})
            row += [_format_score(photo_scores.get(name)) for name in score_tags]
        rows.append(row)
    return rows


def _format_score(score: float | None) -> str:
    return "" if score is None or score != score else f"{score:.4f}"


def write_csv(rows: list[list[str]], out: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow([neutralise_cell(cell) for cell in row])
    atomic_write_text(out, buffer.getvalue())


@dataclass
class ImportSummary:
    rows: int = 0
    updated: int = 0
    created_tags: list[str] = field(default_factory=list)
    unknown_paths: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "FILE line N: what is wrong"


def read_csv(source: Path) -> list[dict[str, str]]:
    header, rows = read_csv_table(source)
    if "path" not in header or "tags" not in header:
        raise UserError(f"{source}: needs a header with 'path' and 'tags' columns, found {header}")
    return rows


def read_csv_table(source: Path) -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows) of a UTF-8 CSV, formula apostrophes removed."""
    try:
        size = source.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise UserError(f"{source}: file too large to import ({size:,} bytes; limit {MAX_IMPORT_BYTES:,})")
        text = source.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as exc:
        raise UserError(f"{source}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise UserError(f"{source}: not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8") from exc
    except OSError as exc:
        raise UserError(f"{source}: cannot read ({exc.strerror})") from exc
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        fields = [restore_cell(f.strip()) for f in (reader.fieldnames or [])]
        reader.fieldnames = fields
        rows = [
            {k: restore_cell(v or "") for k, v in row.items() if k is not None}
            for row in reader
        ]
        return fields, rows
    except csv.Error as exc:
        raise UserError(f"{source}: malformed CSV ({exc})") from exc


def import_csv(catalogue: Catalogue, root: Path, source: Path) -> ImportSummary:
    """Import our CSV (see import_plan.py for what its rows mean)."""
    from photo_tagger.core.import_plan import apply_import, plan_import

    return apply_import(catalogue, plan_import(catalogue, root, source, "csv"))


def split_tags(cell: str) -> list[str]:
    return [name.strip() for name in cell.split(TAG_SEPARATOR) if name.strip()]


def library_key(path: str, root: Path) -> str:
    """A path from an import file as the catalogue's key: relative, '/'-separated."""
    path = path.strip().replace("\\", "/")
    candidate = PurePosixPath(path)
    if candidate.is_absolute():
        try:
            return Path(path).resolve().relative_to(root).as_posix()
        except ValueError:
            return path
    return candidate.as_posix().removeprefix("./")
