"""The seed's ``clips`` table plus named, recorded, additive migrations.

A database made by the seed (just the ``clips`` table) opens unchanged and is brought up to
date; each migration runs once and is recorded in ``schema_migrations``.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

SEED_TABLE = """
CREATE TABLE IF NOT EXISTS clips (
    id INTEGER PRIMARY KEY, filename TEXT NOT NULL, filepath TEXT NOT NULL,
    start_time REAL NOT NULL, end_time REAL NOT NULL, duration REAL NOT NULL,
    score REAL NOT NULL, clip_type TEXT NOT NULL,
    features TEXT NOT NULL,
    rating INTEGER,
    created_at TEXT NOT NULL, rated_at TEXT, source_url TEXT
)
"""


def _seed_clips_table(db: sqlite3.Connection) -> None:
    db.execute(SEED_TABLE)


def _indexes(db: sqlite3.Connection) -> None:
    db.execute("CREATE INDEX IF NOT EXISTS clips_rating ON clips (rating)")
    db.execute("CREATE INDEX IF NOT EXISTS clips_created ON clips (created_at, id)")
    db.execute("CREATE INDEX IF NOT EXISTS clips_span ON clips (filepath, start_time, end_time)")
    db.execute("CREATE INDEX IF NOT EXISTS clips_rated_at ON clips (rated_at)")


def _unrated_index(db: sqlite3.Connection) -> None:
    """The review queue (unrated, newest first) without sorting half the table.

    The plain rating index made SQLite search by rating and then sort every unrated row.
    """
    db.execute("DROP INDEX IF EXISTS clips_rating")
    db.execute(
        "CREATE INDEX IF NOT EXISTS clips_unrated ON clips (created_at, id) WHERE rating IS NULL"
    )


def _secrets(db: sqlite3.Connection) -> None:
    """A random key, kept with the ratings, that signs the model file trained from them.

    The model file is a pickle; a pickle from elsewhere could run code when loaded. Only a
    file signed with this database's key is ever unpickled.
    """
    db.execute("CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        "INSERT OR IGNORE INTO secrets (name, value) VALUES ('model_key', ?)",
        (secrets.token_hex(32),),
    )


def _tags(db: sqlite3.Connection) -> None:
    """Free-form labels per clip ("funny", "clutch"), to filter, browse and export by."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS clip_tags (clip_id INTEGER NOT NULL, tag TEXT NOT NULL, "
        "PRIMARY KEY (clip_id, tag))"
    )
    db.execute("CREATE INDEX IF NOT EXISTS clip_tags_tag ON clip_tags (tag, clip_id)")


def _rating_confidence(db: sqlite3.Connection) -> None:
    """How sure the rater was, in (0, 1]; a rating without a row here counts fully.

    A table of its own, so the seed's ``clips`` table keeps its exact shape.
    """
    db.execute(
        "CREATE TABLE IF NOT EXISTS rating_confidence "
        "(clip_id INTEGER PRIMARY KEY, confidence REAL NOT NULL)"
    )


def _no_unique_filepath(db: sqlite3.Connection) -> None:
    """A seed-shaped table made with ``UNIQUE(filepath)`` (or ``filepath TEXT UNIQUE``) refuses
    what the store does (an import of a second span of one file, a re-cut). SQLite cannot
    drop a constraint, so the table is rebuilt without it: same columns, same rows and ids."""
    row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'clips'")
    sql = row.fetchone()[0]
    relaxed = re.sub(r",\s*UNIQUE\s*\(\s*filepath\s*\)", "", sql, flags=re.I)
    relaxed = re.sub(
        r"(\bfilepath\s+TEXT(?:\s+NOT\s+NULL)?)\s+UNIQUE\b", r"\1", relaxed, flags=re.I
    )
    if relaxed == sql:
        return
    new = re.sub(
        r"^\s*CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?\S+",
        "CREATE TABLE clips_new",
        relaxed,
        count=1,
        flags=re.I,
    )
    db.execute(new)
    db.execute("INSERT INTO clips_new SELECT * FROM clips")
    db.execute("DROP TABLE clips")
    db.execute("ALTER TABLE clips_new RENAME TO clips")
    _indexes(db)
    _unrated_index(db)


MIGRATIONS: tuple[tuple[str, Callable[[sqlite3.Connection], None]], ...] = (
    ("0001_seed_clips_table", _seed_clips_table),
    ("0002_indexes", _indexes),
    ("0003_unrated_index", _unrated_index),
    ("0004_secrets", _secrets),
    ("0005_tags", _tags),
    ("0006_rating_confidence", _rating_confidence),
    ("0007_no_unique_filepath", _no_unique_filepath),
)


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply the migrations not yet recorded, in order, inside the caller's transaction."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
    )
    done = {row[0] for row in db.execute("SELECT name FROM schema_migrations")}
    applied = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        step(db)
        db.execute(
            "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
            (name, datetime.now(UTC).isoformat(timespec="seconds")),
        )
        applied.append(name)
    return applied
