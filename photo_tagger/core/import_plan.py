"""Import as a plan: read a file, work out which tags it changes, then apply exactly that.

`plan_import` only reads (the catalogue and the file) and returns an `ImportPlan`: the
tag changes, and what they add up to (N confirmed, M rejected, K unchanged).
`apply_import` writes the plan in one transaction. The CLI's `--dry-run` and the app's
File › Import tags… show the plan first.

What a file means:
- our CSV with a `confirmed` column (what `export` writes): tags in `confirmed` become
  confirmed; a tag the photo shows today (confirmed, or a suggestion at its threshold)
  that the row no longer lists in `tags` becomes rejected (the user deleted it); a tag
  listed in `tags` that the photo does not show today becomes confirmed (the user added
  it); a suggestion still listed but not confirmed stays a suggestion. So an unchanged
  export -> import round trip changes nothing.
- a plain `path,tags` CSV is the photo's complete truth: listed tags confirmed, every
  other tag the photo has an opinion on rejected.
- one-hot and JSON: see formats.py.
A tag cell names a tag by its label, its path (`Pets|Rex`: the tag `Rex` under `Pets`,
created there if new) or, when only one tag has it, its leaf name; an ambiguous leaf name
is reported as a problem naming the candidates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from photo_tagger.core.csv_io import ImportSummary, library_key, read_csv_table, split_tags
from photo_tagger.core.errors import UserError
from photo_tagger.core.store import opinions, photos
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.tags import find_path
from photo_tagger.core.tag_names import TagIndex, resolve_path, split_path
from photo_tagger.core.tag_tree import join_path
from photo_tagger.core.tagging import set_state
from photo_tagger.core.taxonomy import validate_tag_name

KeywordPath = tuple[str, ...]


@dataclass(frozen=True)
class TagChange:
    photo_id: int
    tag: KeywordPath  # as the file names it; resolved (created when new) on apply
    state: str | None  # 'confirmed', 'rejected', or None: drop the user's opinion


@dataclass
class ImportPlan:
    source: Path
    fmt: str
    changes: list[TagChange] = field(default_factory=list)
    unchanged: int = 0  # (photo, tag) pairs the file repeats as they are
    rows: int = 0
    updated: int = 0  # rows matched to a photo
    reviewed: set[int] = field(default_factory=set)  # photos to mark reviewed
    new_tags: list[str] = field(default_factory=list)
    unknown_paths: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    tag_definitions: list = field(default_factory=list)  # JSON `tags`, applied first

    def count(self, state: str | None) -> int:
        return sum(1 for change in self.changes if change.state == state)

    def summary_text(self) -> str:
        text = (f"{self.count('confirmed'):,} confirmed, {self.count('rejected'):,} rejected, "
                f"{self.unchanged:,} unchanged")
        if self.count(None):
            text += f", {self.count(None):,} back to suggestions"
        return (f"{text} ({self.updated:,} of {self.rows:,} rows; {len(self.unknown_paths):,} unknown paths; "
                f"{len(self.new_tags):,} new tags)")


class Planner:
    """The catalogue's tag states, read once, and the plan being built against them."""

    def __init__(self, catalogue: Catalogue, root: Path, plan: ImportPlan) -> None:
        self.catalogue, self.root, self.plan = catalogue, root, plan
        self.path_ids = {path: pid for pid, path in photos.all_paths(catalogue)}
        self.states: dict[int, dict[int, tuple[str, bool]]] = {}
        for photo_id, tag_id, state, _, suggested in opinions.library_rows(catalogue):
            self.states.setdefault(photo_id, {})[tag_id] = (state, suggested)
        self.index = TagIndex(catalogue)
        self.defined: dict[str, KeywordPath] = {}  # label -> path of the tags the file defines (JSON)
        self._ids: dict[KeywordPath, int | None] = {}
        self._new: set[KeywordPath] = set()
        self._planned: set[tuple[int, int]] = set()  # (photo, existing tag) already in the plan

    def photo(self, path: str, where: str) -> int | None:
        # Exactly as exported first: a file name may start or end with a space.
        key = path if path in self.path_ids else library_key(path, self.root)
        photo_id = self.path_ids.get(key)
        self.plan.rows += 1
        if photo_id is None:
            self.plan.unknown_paths.append(path)
        else:
            self.plan.updated += 1
        return photo_id

    def keyword(self, text: str, where: str) -> KeywordPath | None:
        """A cell's tag as the path of the tag it names (a label, path, unambiguous leaf
        name or synonym: tag_names.py), or the path it spells for a new tag; None (a
        problem noted) for an ambiguous name or one no tag may have."""
        if text.strip().casefold() in self.defined:
            return self.defined[text.strip().casefold()]
        try:
            found = self.index.find(text)
            if found is not None:
                return self.index.path(found)
            path = split_path(text)
            for part in path:
                validate_tag_name(part)
        except (UserError, ValueError) as exc:
            self.plan.problems.append(f"{where}: {exc}")
            return None
        return path or None

    def tag_id(self, path: KeywordPath) -> int | None:
        """The existing tag at `path`; None if new (its new components are noted)."""
        key = tuple(part.casefold() for part in path)
        if key not in self._ids:
            self._ids[key] = find_path(self.catalogue, path)
            for depth in range(len(path)):
                prefix = tuple(part.casefold() for part in path[: depth + 1])
                if prefix not in self._new and find_path(self.catalogue, path[: depth + 1]) is None:
                    self._new.add(prefix)
                    self.plan.new_tags.append(join_path(path[: depth + 1]))
        return self._ids[key]

    def shown(self, photo_id: int) -> set[int]:
        """The photo's effective tags today: confirmed, and suggestions at their threshold."""
        return {tid for tid, (state, suggested) in self.states.get(photo_id, {}).items()
                if state == "confirmed" or suggested}

    def with_opinion(self, photo_id: int) -> set[int]:
        """Tags with a row that is not rejected (what a complete truth rejects when unlisted)."""
        return {tid for tid, (state, _) in self.states.get(photo_id, {}).items() if state != "rejected"}

    def implied(self, paths: list[KeywordPath]) -> set[int]:
        """The existing tags `paths` name, with every ancestor: confirming a tag confirms
        them (tagging.py), so a file that lists `cat` does not reject `animal`."""
        from photo_tagger.core.tagging import with_ancestors

        ids = {self.tag_id(path) for path in paths}
        return set(with_ancestors(self.catalogue, sorted(i for i in ids if i is not None)))

    def want(self, photo_id: int, path: KeywordPath, state: str | None) -> None:
        tag_id = self.tag_id(path)
        current = None if tag_id is None else self.states.get(photo_id, {}).get(tag_id, (None, False))[0]
        if tag_id is None and state != "confirmed":
            return  # nothing to reject or clear on a tag that does not exist
        if tag_id is not None and (photo_id, tag_id) in self._planned:
            return  # confirmed already as the ancestor of another listed tag
        if current == state or (state is None and current in (None, "suggested")):
            self.plan.unchanged += 1
            return
        self.plan.changes.append(TagChange(photo_id, path, state))
        self.plan.reviewed.add(photo_id)
        if tag_id is not None:
            self._planned.add((photo_id, tag_id))
            if state == "confirmed":
                self._plan_ancestors(photo_id, tag_id)

    def _plan_ancestors(self, photo_id: int, tag_id: int) -> None:
        """Confirming a tag confirms its ancestors (tagging.py): the summary counts them."""
        from photo_tagger.core.tagging import with_ancestors

        for ancestor in with_ancestors(self.catalogue, [tag_id])[1:]:
            if self.states.get(photo_id, {}).get(ancestor, (None, False))[0] != "confirmed" \
                    and (photo_id, ancestor) not in self._planned:
                self._planned.add((photo_id, ancestor))
                self.plan.changes.append(TagChange(photo_id, self.index.path(ancestor), "confirmed"))

    def want_id(self, photo_id: int, tag_id: int, state: str | None) -> None:
        self.want(photo_id, self.index.path(tag_id), state)


def plan_import(catalogue: Catalogue, root: Path, source: Path, fmt: str | None = None) -> ImportPlan:
    """What importing `source` (`fmt` None: by extension, then by the CSV header) would
    change. Reads only."""
    from photo_tagger.core.formats import detect_format, plan_json, plan_onehot

    if fmt == "json" or (fmt is None and source.suffix.lower() == ".json"):
        plan = ImportPlan(source, "json")
        plan_json(Planner(catalogue, root, plan), source)
        return plan
    header, rows = read_csv_table(source)
    fmt = fmt or detect_format(source, header)
    if "path" not in header or (fmt == "csv" and "tags" not in header):
        raise UserError(f"{source}: needs a header with 'path' and "
                        f"{'tags' if fmt == 'csv' else 'one column per tag'}, found {header}")
    plan = ImportPlan(source, fmt)
    planner = Planner(catalogue, root, plan)
    if fmt == "onehot":
        plan_onehot(planner, source, header, rows)
    else:
        plan_csv(planner, source, rows, with_confirmed="confirmed" in header)
    return plan


def plan_csv(planner: Planner, source: Path, rows: list[dict[str, str]], *, with_confirmed: bool) -> None:
    seen: dict[int, int] = {}
    for line, row in enumerate(rows, start=2):
        where = f"{source} line {line}"
        photo_id = planner.photo(row["path"], where)
        if photo_id is None:
            continue
        if photo_id in seen:
            planner.plan.problems.append(f"{where}: duplicate row for {row['path']} (line {seen[photo_id]});"
                                         " the later row wins")
        seen[photo_id] = line
        listed = [p for p in (planner.keyword(n, where) for n in split_tags(row["tags"])) if p]
        if not with_confirmed:
            complete_truth(planner, photo_id, listed)
            continue
        confirmed = [p for p in (planner.keyword(n, where) for n in split_tags(row.get("confirmed", ""))) if p]
        shown = planner.shown(photo_id)
        for path in confirmed:
            planner.want(photo_id, path, "confirmed")
        confirmed_keys = {tuple(part.casefold() for part in path) for path in confirmed}
        for path in listed:
            tag_id = planner.tag_id(path)
            if tuple(part.casefold() for part in path) in confirmed_keys:
                continue
            if tag_id is None or tag_id not in shown:
                planner.want(photo_id, path, "confirmed")  # the user added it
            else:
                planner.plan.unchanged += 1  # still listed: stays as it is
        kept = planner.implied([*listed, *confirmed])
        for tag_id in sorted(shown - kept):
            planner.want_id(photo_id, tag_id, "rejected")  # the user deleted it


def complete_truth(planner: Planner, photo_id: int, listed: list[KeywordPath]) -> None:
    """Listed tags confirmed, every other opinion of the photo rejected."""
    for path in listed:
        planner.want(photo_id, path, "confirmed")
    kept = planner.implied(listed)
    for tag_id in sorted(planner.with_opinion(photo_id) - kept):
        planner.want_id(photo_id, tag_id, "rejected")
    planner.plan.reviewed.add(photo_id)


def apply_import(catalogue: Catalogue, plan: ImportPlan) -> ImportSummary:
    """Write `plan` in one transaction; new tags (and their parents) are created."""
    summary = ImportSummary(rows=plan.rows, updated=plan.updated, unknown_paths=list(plan.unknown_paths),
                            problems=list(plan.problems))
    with catalogue.transaction():
        if plan.tag_definitions:
            from photo_tagger.core.formats import import_tag_definitions

            import_tag_definitions(catalogue, plan.source, plan.tag_definitions, summary)
        ids: dict[KeywordPath, int] = {}
        for change in plan.changes:
            if change.tag not in ids:
                try:
                    ids[change.tag], created = resolve_path(catalogue, change.tag, origin="import")
                except UserError as exc:
                    summary.problems.append(f"{plan.source}: {exc}")
                    continue
                summary.created_tags.extend(created)
            set_state(catalogue, [change.photo_id], ids[change.tag], change.state, source="import")
        opinions.mark_reviewed(catalogue, plan.reviewed)
    return summary
