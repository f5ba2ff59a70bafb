"""ClipManager: the SQLite clip store that never loses a clip or a rating.

Every operation opens a short-lived connection (WAL mode, a generous busy timeout), so the web
UI's worker threads, the CLI and a script can write to one database at the same time. Writes
start with ``BEGIN IMMEDIATE``: in WAL mode a deferred transaction that upgrades from read to
write fails at once with "database is locked", and the busy handler cannot help it.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kickclip.errors import ClipNotFound, InvalidClip, InvalidRating, InvalidTag, StoreError
from kickclip.records import CLIP_TYPES
from kickclip.store.schema import migrate

BUSY_TIMEOUT_MS = 30_000
COLUMNS = (
    "id, filename, filepath, start_time, end_time, duration, score, clip_type, features, "
    "rating, created_at, rated_at, source_url, "
    "(SELECT group_concat(tag, ' ') FROM clip_tags WHERE clip_tags.clip_id = clips.id) AS tags, "
    "(SELECT confidence FROM rating_confidence WHERE rating_confidence.clip_id = clips.id) "
    "AS confidence"
)
TAG_MAX_CHARS = 32


def utc_now() -> str:
    """UTC ISO 8601 with microseconds, so timestamps order the way events happened."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def as_utc(timestamp: str) -> str:
    """An ISO 8601 time as UTC in ``utc_now``'s form; a naive one is this machine's local time
    (what ``datetime.now().isoformat()`` writes). Text that is not a time comes back as is."""
    try:
        moment = datetime.fromisoformat(timestamp)
    except (TypeError, ValueError):
        return timestamp
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _times_in_utc(db: sqlite3.Connection) -> None:
    """Rewrite times another tool stored in local or other-offset form as UTC, so that SQL
    orders and compares them correctly ("newest first", "rated since")."""
    foreign = "{0} IS NOT NULL AND {0} NOT LIKE '%+00:00'"
    for column in ("created_at", "rated_at"):
        if db.execute(f"SELECT 1 FROM clips WHERE {foreign.format(column)} LIMIT 1").fetchone():
            db.create_function("kickclip_utc", 1, as_utc, deterministic=True)
            db.execute(
                f"UPDATE clips SET {column} = kickclip_utc({column}) WHERE {foreign.format(column)}"
            )


@dataclass(frozen=True)
class ClipRecord:
    """One row of the ``clips`` table, with ``features`` decoded to a dict."""

    id: int
    filename: str
    filepath: str
    start_time: float
    end_time: float
    duration: float
    score: float
    clip_type: str
    features: dict[str, float] = field(default_factory=dict)
    rating: int | None = None
    created_at: str = ""
    rated_at: str | None = None
    source_url: str | None = None
    tags: tuple[str, ...] = ()
    confidence: float | None = None  # of the rating, in (0, 1]; None: fully sure

    @property
    def weight(self) -> float:
        """How much the rating counts in training."""
        return 1.0 if self.confidence is None else self.confidence

    @property
    def thumbnail_path(self) -> Path | None:
        """The JPEG written beside the clip (same stem), if it exists."""
        thumbnail = Path(self.filepath).with_suffix(".jpg")
        return thumbnail if thumbnail.is_file() else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ClipRecord:
        values = dict(row)
        values["features"] = json.loads(values["features"])
        values["tags"] = tuple(sorted((values.get("tags") or "").split()))
        return cls(**values)


# --- validation: a rejected call changes nothing -------------------------------------------------
def validate_rating(rating: object) -> int:
    """A whole number 1-5; bools, floats (even 3.0) and strings are refused."""
    if isinstance(rating, bool) or not isinstance(rating, numbers.Integral):
        raise InvalidRating(f"rating must be a whole number from 1 to 5, got {rating!r}")
    if not 1 <= int(rating) <= 5:
        raise InvalidRating(f"rating must be from 1 to 5, got {int(rating)}")
    return int(rating)


def validate_tag(tag: object) -> str:
    """A tag as stored: lower case, inner spaces as "-", letters, digits, "-" and "_" only."""
    if not isinstance(tag, str):
        raise InvalidTag(f"a tag must be text, got {tag!r}")
    clean = "-".join(tag.strip().lower().split())
    if not clean:
        raise InvalidTag("a tag cannot be empty")
    if len(clean) > TAG_MAX_CHARS:
        raise InvalidTag(f"tag {clean[:40]!r} is longer than {TAG_MAX_CHARS} characters")
    if not all(char.isalnum() or char in "-_" for char in clean):
        raise InvalidTag(f"tag {clean!r} may hold only letters, digits, '-' and '_'")
    return clean


def validate_confidence(confidence: object) -> float | None:
    """A rating's confidence in (0, 1]; None and 1 both mean fully sure (stored as None)."""
    if confidence is None:
        return None
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real):
        raise InvalidRating(f"confidence must be a number in (0, 1], got {confidence!r}")
    value = float(confidence)
    if not (math.isfinite(value) and 0 < value <= 1):
        raise InvalidRating(f"confidence must be more than 0 and at most 1, got {value:g}")
    return None if value == 1 else value


def _finite(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidClip(f"{name} must be a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise InvalidClip(f"{name} must be a finite number, got {value!r}")
    return float(value)


def validate_clip(
    start_time: object,
    end_time: object,
    score: object,
    clip_type: object,
    features: object,
    *,
    lenient: bool = False,
) -> tuple[float, float, float, str, dict[str, float]]:
    """Checked clip fields. ``lenient`` (importing rows another tool stored): a zero-length
    span passes, and feature values that are not finite numbers are dropped (unknown to the
    model, as a missing feature is) instead of refusing the row."""
    start = _finite("start_time", start_time)
    end = _finite("end_time", end_time)
    if not (0 <= start <= end if lenient else 0 <= start < end):
        raise InvalidClip(f"need 0 <= start_time < end_time, got {start:g} and {end:g}")
    value = _finite("score", score)
    if clip_type not in CLIP_TYPES:
        raise InvalidClip(f"clip_type must be one of {', '.join(CLIP_TYPES)}, got {clip_type!r}")
    if not isinstance(features, Mapping):
        raise InvalidClip(
            f"features must be a JSON object of numbers, got {type(features).__name__}"
        )
    clean = {}
    for key, number in features.items():
        if not isinstance(key, str):
            raise InvalidClip(f"feature names must be strings, got {key!r}")
        try:
            clean[key] = _finite(f"feature {key!r}", number)
        except InvalidClip:
            if not lenient:
                raise
    return start, end, value, str(clip_type), clean


class ClipManager:
    """The clip database (``clips.db``): register, rate, list, summarize, export training data."""

    def __init__(self, db_path: str | Path = "clips.db") -> None:
        self.db_path = Path(db_path)
        parent = self.db_path.absolute().parent
        if not parent.is_dir():
            raise StoreError(
                f"cannot open clip database {self.db_path}: folder {parent} does not exist"
            )
        try:
            with closing(self._connect()) as db:
                db.execute("PRAGMA journal_mode = WAL")  # persistent: once per database
            with self._write() as db:
                migrate(db)
                _times_in_utc(db)
        except sqlite3.Error as error:
            raise StoreError(f"cannot open clip database {self.db_path}: {error}") from None

    # --- connections -----------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA synchronous = NORMAL")
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: all of it lands, or none of it."""
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _read(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        try:
            with closing(self._connect()) as db:
                return db.execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise StoreError(f"cannot read clip database {self.db_path}: {error}") from None

    def model_key(self) -> bytes:
        """The key that signs this database's model file (see ``learn.model_file``)."""
        return bytes.fromhex(self._read("SELECT value FROM secrets WHERE name = 'model_key'")[0][0])

    # --- writing ---------------------------------------------------------------------------------
    def register_clip(
        self,
        filepath: str | Path,
        start_time: float,
        end_time: float,
        score: float,
        clip_type: str,
        features: Mapping[str, float],
        source_url: str | None = None,
    ) -> int:
        """Store one clip in one transaction and return its id. The file need not exist yet."""
        start, end, value, kind, clean = validate_clip(
            start_time, end_time, score, clip_type, features
        )
        path = os.path.abspath(os.fspath(filepath))
        try:
            with self._write() as db:
                cursor = db.execute(
                    "INSERT INTO clips (filename, filepath, start_time, end_time, duration, "
                    "score, clip_type, features, created_at, source_url) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        os.path.basename(path),
                        path,
                        start,
                        end,
                        end - start,
                        value,
                        kind,
                        json.dumps(clean),
                        utc_now(),
                        source_url,
                    ),
                )
                return int(cursor.lastrowid)
        except sqlite3.Error as error:
            raise StoreError(f"cannot write clip database {self.db_path}: {error}") from None

    def rate_clip(self, clip_id: int, rating: int, confidence: float | None = None) -> ClipRecord:
        """Store a 1-5 rating (replacing an earlier one) and return the updated clip.

        ``confidence`` in (0, 1] says how sure the rater is: a rating at 0.5 counts half in
        training. Rating again without it makes the rating fully sure.
        """
        stars = validate_rating(rating)
        sure = validate_confidence(confidence)
        clip_id = _as_id(clip_id)
        try:
            with self._write() as db:
                updated = db.execute(
                    "UPDATE clips SET rating = ?, rated_at = ? WHERE id = ?",
                    (stars, utc_now(), clip_id),
                ).rowcount
                if not updated:
                    raise ClipNotFound(clip_id)
                db.execute("DELETE FROM rating_confidence WHERE clip_id = ?", (clip_id,))
                if sure is not None:
                    db.execute(
                        "INSERT INTO rating_confidence (clip_id, confidence) VALUES (?, ?)",
                        (clip_id, sure),
                    )
        except sqlite3.Error as error:
            raise StoreError(f"cannot write clip database {self.db_path}: {error}") from None
        return self.get_clip(clip_id)

    def recut_clip(
        self,
        clip_id: int,
        filepath: str | Path,
        start_time: float,
        end_time: float,
        score: float,
        features: Mapping[str, float],
    ) -> ClipRecord:
        """Point a stored clip at a new cut of its moment; its id, rating and tags stay."""
        clip_id = _as_id(clip_id)
        kind = self.get_clip(clip_id).clip_type
        start, end, value, _, clean = validate_clip(start_time, end_time, score, kind, features)
        path = os.path.abspath(os.fspath(filepath))
        try:
            with self._write() as db:
                updated = db.execute(
                    "UPDATE clips SET filename = ?, filepath = ?, start_time = ?, end_time = ?, "
                    "duration = ?, score = ?, features = ? WHERE id = ?",
                    (
                        os.path.basename(path),
                        path,
                        start,
                        end,
                        end - start,
                        value,
                        json.dumps(clean),
                        clip_id,
                    ),
                ).rowcount
                if not updated:
                    raise ClipNotFound(clip_id)
        except sqlite3.Error as error:
            raise StoreError(f"cannot write clip database {self.db_path}: {error}") from None
        return self.get_clip(clip_id)

    def delete_clips(self, clip_ids: Iterable[int]) -> list[ClipRecord]:
        """Remove the rows (with their tags and confidences) in one transaction; the removed
        clips. Every id must exist, else nothing is removed."""
        ids = sorted({_as_id(clip_id) for clip_id in clip_ids})
        records = [self.get_clip(clip_id) for clip_id in ids]  # ClipNotFound before any write
        try:
            with self._write() as db:
                for table, column in (
                    ("clip_tags", "clip_id"),
                    ("rating_confidence", "clip_id"),
                    ("clips", "id"),
                ):
                    db.executemany(f"DELETE FROM {table} WHERE {column} = ?", [(i,) for i in ids])
        except sqlite3.Error as error:
            raise StoreError(f"cannot write clip database {self.db_path}: {error}") from None
        return records

    def tag_clip(self, clip_id: int, tags: Iterable[str], *, remove: bool = False) -> ClipRecord:
        """Add (or with ``remove``, take away) tags; one transaction; the updated clip."""
        clean = sorted({validate_tag(tag) for tag in tags})
        if not clean:
            raise InvalidTag("name at least one tag")
        return self._change_tags(clip_id, [] if remove else clean, clean if remove else [])

    def set_tags(self, clip_id: int, tags: Iterable[str]) -> ClipRecord:
        """Make ``tags`` the clip's tags, exactly (none: untag all); one transaction."""
        wanted = {validate_tag(tag) for tag in tags}
        current = set(self.get_clip(clip_id).tags)
        return self._change_tags(clip_id, sorted(wanted - current), sorted(current - wanted))

    def _change_tags(self, clip_id: int, add: list[str], remove: list[str]) -> ClipRecord:
        clip_id = _as_id(clip_id)
        try:
            with self._write() as db:
                if db.execute("SELECT 1 FROM clips WHERE id = ?", (clip_id,)).fetchone() is None:
                    raise ClipNotFound(clip_id)
                db.executemany(
                    "INSERT OR IGNORE INTO clip_tags (clip_id, tag) VALUES (?, ?)",
                    [(clip_id, tag) for tag in add],
                )
                db.executemany(
                    "DELETE FROM clip_tags WHERE clip_id = ? AND tag = ?",
                    [(clip_id, tag) for tag in remove],
                )
        except sqlite3.Error as error:
            raise StoreError(f"cannot write clip database {self.db_path}: {error}") from None
        return self.get_clip(clip_id)

    def tag_counts(self) -> dict[str, int]:
        """Every tag in use and how many clips carry it, most used first."""
        rows = self._read(
            "SELECT tag, COUNT(*) AS n FROM clip_tags JOIN clips ON clips.id = clip_id "
            "GROUP BY tag ORDER BY n DESC, tag"
        )
        return {row["tag"]: row["n"] for row in rows}

    def cleanup_missing_files(self) -> int:
        """Delete the rows (and their tags) whose clip file is gone; return how many."""
        return len(self.delete_clips(self.missing_file_ids()))

    def missing_file_ids(self) -> list[int]:
        """The clips whose file is gone."""
        rows = self._read("SELECT id, filepath FROM clips")
        return [row["id"] for row in rows if not os.path.exists(row["filepath"])]

    def stored_paths(self) -> set[str]:
        """Every clip file path the store knows (absolute, as registered)."""
        return {row[0] for row in self._read("SELECT filepath FROM clips")}

    # --- reading ---------------------------------------------------------------------------------
    def get_clip(self, clip_id: int) -> ClipRecord:
        rows = self._read(f"SELECT {COLUMNS} FROM clips WHERE id = ?", (_as_id(clip_id),))
        if not rows:
            raise ClipNotFound(clip_id)
        return ClipRecord.from_row(rows[0])

    def list_clips(
        self, limit: int = 50, unrated_only: bool = False, tag: str | None = None
    ) -> list[ClipRecord]:
        """Newest first; only unrated ones, only those tagged ``tag``, if asked."""
        conditions, params = [], []
        if unrated_only:
            conditions.append("rating IS NULL")
        if tag is not None:
            conditions.append("id IN (SELECT clip_id FROM clip_tags WHERE tag = ?)")
            params.append(validate_tag(tag))
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = self._read(
            f"SELECT {COLUMNS} FROM clips {where} ORDER BY created_at DESC, id DESC LIMIT ?",
            (*params, int(limit)),
        )
        return [ClipRecord.from_row(row) for row in rows]

    def get_clips_for_review(self, limit: int = 50) -> list[ClipRecord]:
        """Unrated clips, newest first (the order the web UI offers them)."""
        return self.list_clips(limit=limit, unrated_only=True)

    def rated_clips(self) -> list[ClipRecord]:
        """Every rated clip, in id order: what the trainer learns from."""
        rows = self._read(f"SELECT {COLUMNS} FROM clips WHERE rating IS NOT NULL ORDER BY id")
        return [ClipRecord.from_row(row) for row in rows]

    def get_training_data(self) -> tuple[list[dict[str, float]], list[int]]:
        """``(features, ratings)`` of rated clips; ``pandas.DataFrame(features)`` works."""
        clips = self.rated_clips()
        return [clip.features for clip in clips], [int(clip.rating) for clip in clips]

    def count_rated_since(self, timestamp_iso: str | None) -> int:
        """Clips rated after ``timestamp_iso`` (all rated clips when None).

        The time is parsed (naive means this machine's local time) and compared in UTC: the
        stored times are UTC, those of other tools made so when the database is opened.
        """
        if timestamp_iso is None:
            sql, params = "SELECT COUNT(*) FROM clips WHERE rating IS NOT NULL", ()
        else:
            sql = "SELECT COUNT(*) FROM clips WHERE rating IS NOT NULL AND rated_at > ?"
            params = (as_utc(timestamp_iso),)
        return int(self._read(sql, params)[0][0])

    def find_overlapping(
        self, sources: Iterable[str], start_time: float, end_time: float
    ) -> ClipRecord | None:
        """A stored clip of one of ``sources`` whose span overlaps this one by more than half
        of the shorter of the two (the most overlapping one)."""
        names = sorted(set(sources))
        if not names:
            return None
        rows = self._read(
            f"SELECT {COLUMNS} FROM clips WHERE source_url IN ({', '.join('?' * len(names))}) "
            "AND start_time < ? AND end_time > ?",
            (*names, float(end_time), float(start_time)),
        )
        best, best_share = None, 0.5
        for row in rows:
            overlap = min(end_time, row["end_time"]) - max(start_time, row["start_time"])
            shorter = min(end_time - start_time, row["end_time"] - row["start_time"])
            share = overlap / shorter if shorter > 0 else 0.0
            if share > best_share:
                best, best_share = row, share
        return None if best is None else ClipRecord.from_row(best)

    def find_clip(
        self, filepath: str | Path, start_time: float, end_time: float
    ) -> ClipRecord | None:
        """The clip cut from the same file span, if one is stored (used to avoid duplicates)."""
        rows = self._read(
            f"SELECT {COLUMNS} FROM clips WHERE filepath = ? AND abs(start_time - ?) < 1e-3 "
            "AND abs(end_time - ?) < 1e-3 LIMIT 1",
            (os.path.abspath(os.fspath(filepath)), float(start_time), float(end_time)),
        )
        return ClipRecord.from_row(rows[0]) if rows else None

    def get_statistics(self) -> dict[str, Any]:
        """Totals, average rating, distribution and per-type counts, from SQL aggregates."""
        rows = self._read(
            "SELECT clip_type, rating, COUNT(*) AS n FROM clips GROUP BY clip_type, rating"
        )
        distribution = {stars: 0 for stars in range(1, 6)}
        by_type = {kind: {"total": 0, "rated": 0, "average_rating": None} for kind in CLIP_TYPES}
        sums = {kind: 0 for kind in CLIP_TYPES}
        for row in rows:
            kind = by_type.setdefault(
                row["clip_type"], {"total": 0, "rated": 0, "average_rating": None}
            )
            kind["total"] += row["n"]
            if row["rating"] is not None:
                kind["rated"] += row["n"]
                distribution[row["rating"]] = distribution.get(row["rating"], 0) + row["n"]
                sums[row["clip_type"]] = sums.get(row["clip_type"], 0) + row["rating"] * row["n"]
        for name, kind in by_type.items():
            if kind["rated"]:
                kind["average_rating"] = round(sums[name] / kind["rated"], 3)
        total = sum(kind["total"] for kind in by_type.values())
        rated = sum(distribution.values())
        weighted = sum(stars * n for stars, n in distribution.items())
        return {
            "total_clips": total,
            "rated_clips": rated,
            "unrated_clips": total - rated,
            "average_rating": round(weighted / rated, 3) if rated else None,
            "rating_distribution": distribution,
            "audio_clips": by_type["audio"]["total"],
            "video_clips": by_type["video"]["total"],
            "chat_clips": by_type["chat"]["total"],
            "by_type": by_type,
        }


def read_model_key(db_path: str | Path) -> bytes | None:
    """The model key of an existing database, read only (None: no database or no key yet)."""
    path = Path(db_path)
    if not path.is_file():
        return None
    try:  # query_only: nothing written; a plain connection still tidies its WAL files away
        with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)) as db:
            db.execute("PRAGMA query_only = 1")
            row = db.execute("SELECT value FROM secrets WHERE name = 'model_key'").fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else bytes.fromhex(row[0])


def _as_id(clip_id: object) -> int:
    try:
        return int(clip_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ClipNotFound(clip_id) from None
