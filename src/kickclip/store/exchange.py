"""Export and import clips with their features and ratings, as CSV or JSON (by extension).

Import merges: a clip already stored (same file and span) is not duplicated; it only takes the
file's rating when it has none, and gains the file's tags (in CSV one column, separated by
spaces: a tag never holds one). Named users' ratings travel too (JSON: ``user_ratings``
``{"ana": {"stars": 4, "confidence": null, "rated_at": "…"}}``; CSV: one column of
``ana:4 bo:2:0.5``, user:stars[:confidence]); a user's rating is taken only where they have
none. The whole import is one transaction, so a bad row changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kickclip.errors import ExchangeError, KickclipError
from kickclip.fs import temp_file
from kickclip.jsonout import dumps, finite
from kickclip.store.clip_manager import (
    ClipManager,
    utc_now,
    validate_clip,
    validate_confidence,
    validate_rating,
    validate_tag,
    validate_user,
)

FORMATS = (".csv", ".json")
METADATA = (
    "id",
    "filename",
    "filepath",
    "start_time",
    "end_time",
    "duration",
    "score",
    "clip_type",
    "rating",
    "confidence",
    "created_at",
    "rated_at",
    "source_url",
)
TAGS = "tags"
USER_RATINGS = "user_ratings"
FEATURE_PREFIX = "feature:"
EXPORT_VERSION = 1


@dataclass(frozen=True)
class ImportSummary:
    added: int
    rated: int
    skipped: int
    user_ratings: int = 0  # named users' ratings taken


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ExchangeError(f"{path.name}: use a .csv or .json file")
    return suffix


def export_clips(manager: ClipManager, path: str | Path) -> int:
    """Write every clip to ``path`` (temp file, then rename); return how many."""
    path = Path(path)
    suffix = _format(path)
    by_user = manager.user_ratings()
    clips = [
        {**clip.to_json(), USER_RATINGS: by_user.get(clip.id, {})}
        for clip in manager.list_clips(limit=None)
    ][::-1]
    if suffix == ".json":
        text = dumps({"kickclip_export": EXPORT_VERSION, "clips": clips}, indent=1)
    else:
        names = sorted({name for clip in clips for name in clip["features"]})
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([*METADATA, TAGS, USER_RATINGS, *(FEATURE_PREFIX + name for name in names)])
        for clip in clips:
            writer.writerow(
                [
                    *("" if clip[key] is None else clip[key] for key in METADATA),
                    " ".join(clip[TAGS]),
                    " ".join(_user_rating_text(user, r) for user, r in clip[USER_RATINGS].items()),
                    *(
                        "" if (v := finite(clip["features"].get(name))) is None else v
                        for name in names
                    ),
                ]
            )
        text = buffer.getvalue()
    folder = path.absolute().parent
    try:
        fd, tmp = temp_file(folder, f".{path.name}.", ".part")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(tmp, path)
    except OSError as error:
        raise ExchangeError(f"cannot write {path}: {error.strerror or error}") from None
    return len(clips)


MAX_IMPORT_BYTES = 512 * 1024**2  # about a million clips with their features


def _read_rows(path: Path) -> list[dict[str, Any]]:
    try:
        return _parse_rows(path)
    except RecursionError:
        raise ExchangeError(f"{path.name}: nested too deeply to be an export") from None
    except csv.Error as error:  # a field over csv's limit (128 KB), a NUL byte
        raise ExchangeError(f"{path.name}: not an export ({error})") from None


def _parse_rows(path: Path) -> list[dict[str, Any]]:
    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise ExchangeError(
                f"{path.name} is larger than {MAX_IMPORT_BYTES // 1024**2} MB: split it"
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExchangeError(f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ExchangeError(f"cannot read {path}: {error}") from None
    if _format(path) == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ExchangeError(f"{path.name}: not valid JSON ({error})") from None
        clips = data.get("clips") if isinstance(data, dict) else data
        if not isinstance(clips, list) or not all(isinstance(c, dict) for c in clips):
            raise ExchangeError(f"{path.name}: expected {{'clips': [ … ]}} of clip objects")
        return clips
    reader = csv.DictReader(io.StringIO(text))
    missing = {"filepath", "start_time", "end_time", "score", "clip_type"} - set(
        reader.fieldnames or ()
    )
    if missing:
        raise ExchangeError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
    rows = []
    for row in reader:
        features = {
            key[len(FEATURE_PREFIX) :]: _number(value)
            for key, value in row.items()
            if key and key.startswith(FEATURE_PREFIX) and value not in ("", None)
        }
        clip = {
            key: (None if value == "" else value) for key, value in row.items() if key in METADATA
        }
        for key in ("start_time", "end_time", "score"):
            clip[key] = _number(clip.get(key))
        for key in ("rating", "confidence"):
            if clip.get(key) is not None:
                clip[key] = _number(clip[key])
        clip["features"] = features
        clip[TAGS] = (row.get(TAGS) or "").split()
        clip[USER_RATINGS] = _user_ratings_of_text(row.get(USER_RATINGS) or "")
        rows.append(clip)
    return rows


def _user_rating_text(user: str, rating: dict[str, Any]) -> str:
    """``ana:4`` or, when not fully sure, ``ana:4:0.5`` (user names hold no colon)."""
    sure = "" if rating.get("confidence") is None else f":{rating['confidence']:g}"
    return f"{user}:{rating['stars']}{sure}"


def _user_ratings_of_text(text: str) -> dict[str, Any]:
    ratings: dict[str, Any] = {}
    for item in text.split():
        user, _, rest = item.partition(":")
        stars, _, sure = rest.partition(":")
        ratings[user] = {"stars": _number(stars), "confidence": _number(sure) if sure else None}
    return ratings


def _checked_user_ratings(value: Any) -> list[tuple[str, int, float | None, str | None]]:
    """A clip's ``user_ratings`` as (user, stars, confidence, rated_at), each checked."""
    if not isinstance(value, dict):
        raise ExchangeError(f"{USER_RATINGS} must be an object of user: rating, got {value!r}")
    checked = []
    for user, rating in value.items():
        name = validate_user(user)
        if name is None:
            raise ExchangeError(f"{USER_RATINGS}: {user!r} is the default user, use rating")
        if not isinstance(rating, dict):
            raise ExchangeError(f"{USER_RATINGS}: {user}'s rating must be an object")
        stars = validate_rating(rating.get("stars"))
        sure = validate_confidence(rating.get("confidence"))
        checked.append((name, stars, sure, rating.get("rated_at")))
    return checked


def _number(value: Any) -> Any:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value  # validation names the bad value
    return int(number) if number.is_integer() and "." not in str(value) else number


def import_clips(manager: ClipManager, path: str | Path) -> ImportSummary:
    """Merge a file written by :func:`export_clips` into ``manager``'s database."""
    path = Path(path)
    rows = _read_rows(path)
    added = rated = skipped = user_ratings = 0
    try:
        with manager.backend.write() as db:
            for line, clip in enumerate(rows, start=1):
                try:
                    start, end, score, kind, features = validate_clip(
                        clip.get("start_time"),
                        clip.get("end_time"),
                        clip.get("score"),
                        clip.get("clip_type"),
                        clip.get("features", {}),
                        lenient=True,
                    )
                    rating = clip.get("rating")
                    rating = None if rating is None else validate_rating(rating)
                    confidence = validate_confidence(clip.get("confidence"))
                    filepath = os.path.abspath(str(clip["filepath"]))
                    tags = clip.get(TAGS) or []
                    if not isinstance(tags, list):
                        raise ExchangeError(f"tags must be a list, got {tags!r}")
                    tags = sorted({validate_tag(tag) for tag in tags})
                    others = _checked_user_ratings(clip.get(USER_RATINGS) or {})
                except (KickclipError, KeyError, TypeError) as error:
                    raise ExchangeError(f"{path.name}, clip {line}: {error}") from None
                existing = db.execute(
                    "SELECT id, rating FROM clips WHERE filepath = ? AND "
                    "abs(start_time - ?) < 1e-3 AND abs(end_time - ?) < 1e-3",
                    (filepath, start, end),
                ).fetchone()
                if existing is None:
                    cursor = db.execute(
                        "INSERT INTO clips (filename, filepath, start_time, end_time, duration, "
                        "score, clip_type, features, rating, created_at, rated_at, source_url) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        (
                            os.path.basename(filepath),
                            filepath,
                            start,
                            end,
                            end - start,
                            score,
                            kind,
                            json.dumps(features),
                            rating,
                            clip.get("created_at") or utc_now(),
                            clip.get("rated_at") or (utc_now() if rating else None),
                            clip.get("source_url"),
                        ),
                    )
                    clip_id = cursor.fetchall()[0][0]
                    took_rating = rating is not None
                    added += 1
                elif existing["rating"] is None and rating is not None:
                    db.execute(
                        "UPDATE clips SET rating = ?, rated_at = ? WHERE id = ?",
                        (rating, clip.get("rated_at") or utc_now(), existing["id"]),
                    )
                    clip_id = existing["id"]
                    took_rating = True
                    rated += 1
                else:
                    clip_id = existing["id"]
                    took_rating = False
                    skipped += 1
                if took_rating and confidence is not None:
                    db.execute(
                        "INSERT INTO rating_confidence (clip_id, confidence) VALUES (?, ?) "
                        "ON CONFLICT (clip_id) DO UPDATE SET confidence = excluded.confidence",
                        (clip_id, confidence),
                    )
                db.executemany(
                    "INSERT INTO clip_tags (clip_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [(clip_id, tag) for tag in tags],
                )
                for user, stars, sure, rated_at in others:
                    user_ratings += db.execute(
                        "INSERT INTO ratings (clip_id, user_name, stars, confidence, rated_at) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        (clip_id, user, stars, sure, rated_at or utc_now()),
                    ).rowcount
    except manager.backend.errors as error:
        where = manager.backend.location
        raise ExchangeError(f"cannot import into {where}: {' '.join(str(error).split())}") from None
    return ImportSummary(added=added, rated=rated, skipped=skipped, user_ratings=user_ratings)
