"""Catalogue schema, one list of statements per `PRAGMA user_version` step.

Migrations run in order inside one transaction (see `Catalogue._migrate`); never edit a
released step, append a new one. A step is SQL, or a function of the connection for
what SQL cannot say. Tests keep a fixture catalogue of every version.
"""

import json
import sqlite3
from collections.abc import Callable, Iterator

from photo_tagger.core.store.tags import ensure_path_in, find_path_in, insert_synonym_in
from photo_tagger.core.tag_tree import TagPath
from photo_tagger.core.taxonomy import load_default_taxonomy

SCHEMA_VERSION = 7

Step = str | Callable[[sqlite3.Connection], None]


def _count_since(since: str) -> str:
    """The scan the correction_counts rows stand for (see step 5)."""
    return (f"((SELECT count(*) FROM photo_tags WHERE state != 'suggested' AND updated_at > {since})"
            f" + (SELECT count(*) FROM photos WHERE reviewed_at > {since}))")


_TRACK_ACTIVE_HEAD = f"""DELETE FROM correction_counts
            WHERE since != 0 AND since NOT IN (SELECT created_at FROM heads WHERE active = 1);
            INSERT INTO correction_counts(since, n)
            SELECT NEW.created_at, {_count_since('NEW.created_at')}
            WHERE NOT EXISTS (SELECT 1 FROM correction_counts WHERE since = NEW.created_at);"""


# --- step 4: keywords merged by leaf name get the tags at their own paths back ---------

# Undo, at the upgrade to schema 4, what reading keywords by leaf name merged.
#
# Before schema 4 a keyword was the tag of its leaf name or synonym wherever it stood:
# `Places|France|Paris` on one photo and `People|Paris` on another were one tag, `Winter`
# was `snow`. The catalogue remembers the exact keywords each source held
# (`keyword_sources`), so each keyword gets the tag at its own path back (tag_tree.py),
# and the photo's opinion on the merged tag moves to it: confirmed stays confirmed,
# rejected stays rejected. The merged tag keeps the opinion too when the user gave it
# (source other than 'keywords'), and loses it when only the keyword had put it there.
#
# Where the record cannot say which keyword put a tag on a photo (a keyword-sourced tag
# no recorded keyword explains), the photo's sources are forgotten, so the next index
# reads its sidecars and embedded keywords again under the new rules. A keyword that an
# export before this version already rewrote in the sidecar (`person|Niaz` for
# `People|Niaz`) is beyond both: only the sidecar's `.orig` still has it.

_KEYWORD_SOURCE = "keywords"  # photo_tags.source of a tag a keyword put there (keywords.py)


def split_keyword_merges(conn: sqlite3.Connection) -> None:
    """Step 4: undo what reading keywords by leaf name merged (see above)."""
    # Tag names were unique (case aside) until now, so this is what a keyword resolved to.
    by_name = {name.casefold(): tag_id for tag_id, name in conn.execute("SELECT id, name FROM tags")}
    by_synonym = {name.casefold(): tag_id for name, tag_id in conn.execute("SELECT name, tag_id FROM tag_synonyms")}
    emptied: set[int] = set()
    unexplained: list[int] = []
    for photo_id, paths in _recorded_keywords(conn):
        merged_into: dict[int, set[int]] = {}  # old tag -> the tags at the keywords' own paths
        for path in paths:
            old = by_name.get(path[-1].casefold(), by_synonym.get(path[-1].casefold()))
            try:
                own = ensure_path_in(conn, path, origin="import")[0]
            except ValueError:
                continue
            if old is not None:
                merged_into.setdefault(old, set()).add(own)
        for old, own_tags in merged_into.items():
            if old not in own_tags and _move_opinion(conn, photo_id, old, own_tags):
                emptied.add(old)
        if _keyword_tags(conn, photo_id) - set(merged_into):
            unexplained.append(photo_id)
    conn.executemany("DELETE FROM keyword_sources WHERE photo_id = ?", [(p,) for p in unexplained])
    _drop_unused(conn, emptied)


def _recorded_keywords(conn: sqlite3.Connection) -> Iterator[tuple[int, list[TagPath]]]:
    """Per photo, every keyword its sources held when last read (both row layouts of
    store/keywords.py: a JSON list of paths, or {file: [size, mtime_ns, paths]})."""
    by_photo: dict[int, list[TagPath]] = {}
    for photo_id, keywords in conn.execute("SELECT photo_id, keywords FROM keyword_sources ORDER BY photo_id"):
        data = json.loads(keywords)
        lists = [data] if isinstance(data, list) else [paths for _, _, paths in data.values()]
        by_photo.setdefault(photo_id, []).extend(tuple(p) for paths in lists for p in paths if p)
    yield from by_photo.items()


def _move_opinion(conn: sqlite3.Connection, photo_id: int, old: int, own_tags: set[int]) -> bool:
    """Give the photo's opinion on `old` to each of `own_tags`; True when `old` lost it."""
    row = conn.execute(
        "SELECT state, source, updated_at FROM photo_tags WHERE photo_id = ? AND tag_id = ?"
        " AND state IN ('confirmed', 'rejected')",
        (photo_id, old),
    ).fetchone()
    if row is None:
        return False
    state, source, updated_at = row
    conn.executemany(
        "INSERT INTO photo_tags(photo_id, tag_id, state, source, updated_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(photo_id, tag_id) DO UPDATE SET state = excluded.state, source = excluded.source"
        " WHERE photo_tags.state = 'suggested'",
        [(photo_id, own, state, source, updated_at) for own in sorted(own_tags)],
    )
    if source != _KEYWORD_SOURCE:
        return False
    conn.execute("DELETE FROM photo_tags WHERE photo_id = ? AND tag_id = ?", (photo_id, old))
    return True


def _keyword_tags(conn: sqlite3.Connection, photo_id: int) -> set[int]:
    return {tag_id for (tag_id,) in conn.execute(
        "SELECT tag_id FROM photo_tags WHERE photo_id = ? AND source = ? AND state != 'suggested'",
        (photo_id, _KEYWORD_SOURCE),
    )}


def _drop_unused(conn: sqlite3.Connection, tag_ids: set[int]) -> None:
    """Remove the tags a keyword had made that now hold no opinion and no child: a
    leftover of the merge (`Niaz` under `person`). Foreign keys are off during a
    migration, so their suggestions and synonyms go by hand."""
    for tag_id in sorted(tag_ids):
        unused = conn.execute(
            "SELECT 1 FROM tags WHERE id = ? AND origin = 'import'"
            " AND NOT EXISTS (SELECT 1 FROM photo_tags WHERE tag_id = tags.id AND state != 'suggested')"
            " AND NOT EXISTS (SELECT 1 FROM tags c WHERE c.parent_id = tags.id)",
            (tag_id,),
        ).fetchone()
        if unused:
            for table, column in (("photo_tags", "tag_id"), ("tag_synonyms", "tag_id"), ("tags", "id")):
                conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (tag_id,))
            conn.execute("UPDATE tags SET link_id = NULL WHERE link_id = ?", (tag_id,))


# Before schema 6 the library seeded its tags on open and the lookups their synonyms, each
# once, marked by these meta keys.
_SEEDED_KEYS = ("taxonomy_seeded", "synonyms_seeded")


def seed_default_tags(conn: sqlite3.Connection) -> None:
    """The default taxonomy's tags and their synonyms, in a new catalogue and in an old one
    that never had them. What an old catalogue's keys say was seeded is not seeded again,
    so a built-in tag the user deleted stays deleted."""
    placeholders = ", ".join("?" * len(_SEEDED_KEYS))
    seeded = {key for (key,) in conn.execute(f"SELECT key FROM meta WHERE key IN ({placeholders})", _SEEDED_KEYS)}
    taxonomy = load_default_taxonomy()
    if "taxonomy_seeded" not in seeded:
        for tag in taxonomy.tags:
            ensure_path_in(conn, taxonomy.path(tag.name), origin="taxonomy")
    if "synonyms_seeded" not in seeded:
        for tag in taxonomy.tags:
            tag_id = find_path_in(conn, taxonomy.path(tag.name))
            if tag_id is None:
                continue
            for synonym in tag.synonyms:
                insert_synonym_in(conn, synonym, tag_id)
    conn.execute(f"DELETE FROM meta WHERE key IN ({placeholders})", _SEEDED_KEYS)


MIGRATIONS: dict[int, list[Step]] = {
    1: [
        """CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        # status: pending (needs decoding + embedding), ok, error (see `error`), missing
        # (file gone; the row and its tags stay so a returning file gets them back).
        """CREATE TABLE photos (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            width INTEGER,
            height INTEGER,
            taken_at TEXT,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'ok', 'error', 'missing')),
            error TEXT,
            added_at REAL NOT NULL,
            indexed_at REAL,
            -- set when the user has reviewed the photo's whole tag set (accepted all,
            -- imported): its unlisted tags then count as negatives for training
            reviewed_at REAL
        )""",
        "CREATE INDEX photos_by_hash ON photos(content_hash)",
        "CREATE INDEX photos_by_status ON photos(status)",
        """CREATE TABLE thumbnails (
            photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            jpeg BLOB NOT NULL
        )""",
        # float16 vectors; `backbone` is the backbone id + weights hash, so a backbone
        # change re-embeds instead of mixing vectors from two models.
        """CREATE TABLE embeddings (
            photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
            backbone TEXT NOT NULL,
            vector BLOB NOT NULL
        )""",
        # model_threshold comes with the active head (chosen by cross-validation);
        # threshold is the user's override from the tag manager (NULL = none).
        """CREATE TABLE tags (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            parent TEXT,
            model_threshold REAL NOT NULL DEFAULT 0.5,
            threshold REAL CHECK (threshold IS NULL OR (threshold > 0 AND threshold < 1)),
            origin TEXT NOT NULL DEFAULT 'user' CHECK (origin IN ('taxonomy', 'user', 'import')),
            created_at REAL NOT NULL
        )""",
        # One row per (photo, tag) the model or the user has an opinion on. A user row
        # (confirmed / rejected) is never overwritten by the model: only its score is.
        """CREATE TABLE photo_tags (
            photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
            tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
            state TEXT NOT NULL CHECK (state IN ('suggested', 'confirmed', 'rejected')),
            score REAL,
            source TEXT NOT NULL DEFAULT 'model',
            updated_at REAL NOT NULL,
            PRIMARY KEY (photo_id, tag_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX photo_tags_by_tag ON photo_tags(tag_id, state)",
        # Learned heads, the weights as safetensors bytes (cannot execute code). Exactly
        # one row is active; older rows are kept for rollback.
        """CREATE TABLE heads (
            id INTEGER PRIMARY KEY,
            backbone TEXT NOT NULL,
            created_at REAL NOT NULL,
            format_version INTEGER NOT NULL,
            tag_names TEXT NOT NULL,
            weights BLOB NOT NULL,
            report TEXT,
            active INTEGER NOT NULL DEFAULT 0
        )""",
    ],
    # Tags that travel: synonyms, and what keywords were last read from (or
    # written to) each photo's embedded XMP/IPTC and its XMP sidecar.
    2: [
        # Another word for a tag ("kitten" -> cat): import and keyword reading map it to
        # the tag. A synonym never equals a tag name (enforced in tag_names.py).
        """CREATE TABLE tag_synonyms (
            name TEXT PRIMARY KEY COLLATE NOCASE,
            tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE
        )""",
        "CREATE INDEX tag_synonyms_by_tag ON tag_synonyms(tag_id)",
        # tags.parent holds the parent's name: a rename carries the children along,
        # whoever renames (tag manager, undo, import).
        """CREATE TRIGGER tags_rename_keeps_children AFTER UPDATE OF name ON tags
        WHEN OLD.name != NEW.name
        BEGIN
            UPDATE tags SET parent = NEW.name WHERE parent = OLD.name COLLATE NOCASE;
        END""",
        # kind 'embedded': keywords inside the image file; 'sidecar': the .xmp next to it
        # (`file` relative to the library). size/mtime_ns say whether the source changed
        # since; `keywords` (JSON list of '|'-joined paths) is what it held then, so only
        # keywords added since are applied, and our own sidecar writes are not re-imported.
        """CREATE TABLE keyword_sources (
            photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('embedded', 'sidecar')),
            file TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            keywords TEXT NOT NULL,
            read_at REAL NOT NULL,
            PRIMARY KEY (photo_id, kind)
        ) WITHOUT ROWID""",
    ],
    # Faces found in each photo (faces.py's summary, float32 bytes), stored beside the
    # embedding they were computed with: person, portrait and group photo read them.
    # NULL = not detected (an embedding from before faces): those photos are re-embedded,
    # their backbone key having changed with the views.
    3: [
        "ALTER TABLE embeddings ADD COLUMN faces BLOB",
        # The photos a head was trained on (int64 ids): the next training compares itself
        # with this head on photos the head never saw. NULL for heads from before.
        "ALTER TABLE heads ADD COLUMN photo_ids BLOB",
    ],
    # A tag is its path, not its leaf name: `parent_id` replaces the parent's
    # name, a name is unique among its siblings only, and `link_id` ties a keyword's own
    # tag to the built-in tag it names (tag_tree.py). SQLite cannot drop a UNIQUE column
    # constraint, so the table is rebuilt (foreign keys are off during migrations).
    4: [
        "DROP TRIGGER tags_rename_keeps_children",
        """CREATE TABLE tags_v4 (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL COLLATE NOCASE,
            parent_id INTEGER REFERENCES tags(id) ON DELETE CASCADE,
            link_id INTEGER REFERENCES tags(id) ON DELETE SET NULL,
            model_threshold REAL NOT NULL DEFAULT 0.5,
            threshold REAL CHECK (threshold IS NULL OR (threshold > 0 AND threshold < 1)),
            origin TEXT NOT NULL DEFAULT 'user' CHECK (origin IN ('taxonomy', 'user', 'import')),
            created_at REAL NOT NULL
        )""",
        """INSERT INTO tags_v4(id, name, parent_id, model_threshold, threshold, origin, created_at)
        SELECT t.id, t.name, (SELECT p.id FROM tags p WHERE p.name = t.parent COLLATE NOCASE AND p.id != t.id),
            t.model_threshold, t.threshold, t.origin, t.created_at
        FROM tags t""",
        "DROP TABLE tags",
        "ALTER TABLE tags_v4 RENAME TO tags",
        "CREATE UNIQUE INDEX tags_by_parent_and_name ON tags(ifnull(parent_id, 0), name)",
        "CREATE INDEX tags_by_name ON tags(name)",
        # Keywords that were renamed or merged into another tag by leaf name or synonym
        # get a tag at their own path again, with the photo's opinion moved to it.
        split_keyword_merges,
    ],
    # Corrections since a training, kept by triggers in the transaction of every write, so
    # auto-retrain reads one row instead of scanning photo_tags on each edit. One row per
    # `since` (an active head's created_at; 0 = no head yet) holds what a scan would count:
    # opinions in a user state updated after `since`, plus photos reviewed after it. Undo,
    # deletions and a row edited twice keep it equal to the scan, not a tally of events.
    5: [
        """CREATE TABLE correction_counts (
            since REAL PRIMARY KEY,
            n INTEGER NOT NULL
        )""",
        """CREATE TRIGGER photo_tags_count_insert AFTER INSERT ON photo_tags
        WHEN NEW.state != 'suggested'
        BEGIN
            UPDATE correction_counts SET n = n + 1 WHERE NEW.updated_at > since;
        END""",
        """CREATE TRIGGER photo_tags_count_update AFTER UPDATE OF state, updated_at ON photo_tags
        WHEN OLD.state != 'suggested' OR NEW.state != 'suggested'
        BEGIN
            UPDATE correction_counts
            SET n = n + (NEW.state != 'suggested' AND NEW.updated_at > since)
                      - (OLD.state != 'suggested' AND OLD.updated_at > since);
        END""",
        """CREATE TRIGGER photo_tags_count_delete AFTER DELETE ON photo_tags
        WHEN OLD.state != 'suggested'
        BEGIN
            UPDATE correction_counts SET n = n - 1 WHERE OLD.updated_at > since;
        END""",
        """CREATE TRIGGER photos_count_insert AFTER INSERT ON photos
        WHEN NEW.reviewed_at IS NOT NULL
        BEGIN
            UPDATE correction_counts SET n = n + 1 WHERE NEW.reviewed_at > since;
        END""",
        """CREATE TRIGGER photos_count_update AFTER UPDATE OF reviewed_at ON photos
        WHEN OLD.reviewed_at IS NOT NEW.reviewed_at
        BEGIN
            UPDATE correction_counts
            SET n = n + ifnull(NEW.reviewed_at > since, 0) - ifnull(OLD.reviewed_at > since, 0);
        END""",
        """CREATE TRIGGER photos_count_delete AFTER DELETE ON photos
        WHEN OLD.reviewed_at IS NOT NULL
        BEGIN
            UPDATE correction_counts SET n = n - 1 WHERE OLD.reviewed_at > since;
        END""",
        # An activated head gets its row, counted once (a full scan, on the training's
        # thread); rows of heads no longer active go, so each edit updates one or two rows.
        f"""CREATE TRIGGER heads_count_activate AFTER UPDATE OF active ON heads
        WHEN NEW.active = 1
        BEGIN
            {_TRACK_ACTIVE_HEAD}
        END""",
        f"""CREATE TRIGGER heads_count_insert_active AFTER INSERT ON heads
        WHEN NEW.active = 1
        BEGIN
            {_TRACK_ACTIVE_HEAD}
        END""",
        f"INSERT INTO correction_counts(since, n) VALUES (0, {_count_since('0')})",
        f"""INSERT OR IGNORE INTO correction_counts(since, n)
        SELECT created_at, {_count_since('created_at')} FROM heads WHERE active = 1""",
    ],
    # The default taxonomy's tags and synonyms are part of the schema: a new catalogue has
    # them, and nothing seeds on open or on lookup any more.
    6: [seed_default_tags],
    # "Suggested" leaves out a built-in tag where a tag linked to it is confirmed
    # (store/opinions.py): the grid's read looks the links up by the tag they point at.
    7: ["CREATE INDEX tags_by_link ON tags(link_id) WHERE link_id IS NOT NULL"],
}
