"""Export and import clips with their features and ratings, as CSV or JSON (by extension).

Import merges: a clip already stored (same file and span) is not duplicated; it only takes the
file's rating when it has none, and gains the file's tags (in CSV one column, separated by
spaces: a tag never holds one). The whole import is one transaction, so a bad row changes
nothing.
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
FEATURE_PREFIX = "feature:"
EXPORT_VERSION = 1


@dataclass(frozen=True)
class ImportSummary:
    added: int
    rated: int
    skipped: int


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ExchangeError(f"{path.name}: use a .csv or .json file")
    return suffix


def export_clips(manager: ClipManager, path: str | Path) -> int:
    """Write every clip to ``path`` (temp file, then rename); return how many."""
    path = Path(path)
    suffix = _format(path)
    clips = [clip.to_json() for clip in manager.list_clips(limit=-1)][::-1]
    if suffix == ".json":
        text = dumps({"kickclip_export": EXPORT_VERSION, "clips": clips}, indent=1)
    else:
        names = sorted({name for clip in clips for name in clip["features"]})
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([*METADATA, TAGS, *(FEATURE_PREFIX + name for name in names)])
        for clip in clips:
            writer.writerow(
                [
                    *("" if clip[key] is None else clip[key] for key in METADATA),
                    " ".join(clip[TAGS]),
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


def _read_rows(path: Path) -> list[dict[str, Any]]:
    try:
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
        rows.append(clip)
    return rows


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
    added = rated = skipped = 0
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
    except manager.backend.errors as error:
        where = manager.backend.location
        raise ExchangeError(f"cannot import into {where}: {' '.join(str(error).split())}") from None
    return ImportSummary(added=added, rated=rated, skipped=skipped)
