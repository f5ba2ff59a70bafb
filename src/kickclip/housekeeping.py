"""Keep the clips folder and the database in step: delete clips, clean up after interruptions.

A clip is a row and its files (the clip, its thumbnail). ``delete`` removes the rows first and
the files after, and only files inside the clips folder (a row imported from elsewhere names any
path): a failed write leaves both, an interruption leaves files without rows, which ``cleanup``
removes or registers. A run killed mid-way leaves what ``cleanup`` repairs:

- temporary files of a process that is gone (``.kickclip-<pid>-….part.*``; a live recording's
  ``….ts.part`` once it has not grown for ``STALE_RECORDING_S``): removed;
- a clip file without a row (killed between rename and registration, or a moved clips folder):
  matched by the description the clip carries in its ``comment`` tag to the stored clip of its
  moment, whose row then points at it again (rating kept); registered only when its moment
  has no row; removed when its moment's row has a file of its own (a second cut of one moment);
  a thumbnail without its clip: removed; files kickclip did not write are left alone;
- rows whose clip file is gone: kept with their ratings and listed, until the file comes back
  or ``prune`` removes them.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kickclip.cut import TEMP_PREFIX
from kickclip.errors import KickclipError
from kickclip.store.clip_manager import ClipManager, ClipRecord

NOTE_KEY = "kickclip"
CLIP_SUFFIXES = (".mp4", ".m4a")
STALE_RECORDING_S = 300
_OUR_NAME = re.compile(r"_\d\dh\d\dm\d\ds-\d\dh\d\dm\d\ds_(audio|video)(-\d+)?$")
_PID = re.compile(rf"^{re.escape(TEMP_PREFIX)}(\d+)-")


def clip_note(
    source: str,
    start_s: float,
    end_s: float,
    score: float,
    clip_type: str,
    features: dict[str, float],
) -> str:
    """The description a clip file carries, enough to register it again."""
    return json.dumps(
        {
            NOTE_KEY: 1,
            "source": source,
            "start": start_s,
            "end": end_s,
            "score": score,
            "clip_type": clip_type,
            "features": features,
        }
    )


def files_of(clip: ClipRecord) -> list[Path]:
    path = Path(clip.filepath)
    return [path, path.with_suffix(".jpg")]


@dataclass
class Deletion:
    clips: list[ClipRecord]
    files_left: list[Path] = field(default_factory=list)  # outside the clips folder, or locked


def delete(manager: ClipManager, clip_ids: list[int], clips_dir: Path) -> Deletion:
    """Remove clips: their rows in one transaction, then their files inside ``clips_dir``."""
    records = manager.delete_clips(clip_ids)  # every id exists, or nothing is removed
    deletion = Deletion(records)
    folder = clips_dir.resolve()
    for path in (path for record in records for path in files_of(record)):
        if not os.path.lexists(path):
            continue
        if not path.resolve().is_relative_to(folder):  # named by an imported row, or a link
            deletion.files_left.append(path)
            continue
        try:
            path.unlink()
        except OSError:
            deletion.files_left.append(path)
    return deletion


@dataclass
class CleanupReport:
    temp_files: list[Path] = field(default_factory=list)
    registered: list[Path] = field(default_factory=list)
    relinked: list[Path] = field(default_factory=list)  # rows pointed at their moved file
    duplicates: list[Path] = field(default_factory=list)  # a second cut of a stored moment
    thumbnails: list[Path] = field(default_factory=list)
    missing_rows: list[int] = field(default_factory=list)
    pruned: bool = False  # missing_rows were removed
    left_alone: list[Path] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def paths(items: list[Path]) -> list[str]:
            return [str(p) for p in items]

        return {
            "temp_files": paths(self.temp_files),
            "registered": paths(self.registered),
            "relinked": paths(self.relinked),
            "duplicates": paths(self.duplicates),
            "thumbnails": paths(self.thumbnails),
            "rows_without_file": self.missing_rows,
            "pruned": self.pruned,
            "left_alone": paths(self.left_alone),
        }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead_temp(path: Path) -> bool:
    match = _PID.match(path.name)
    if match:
        return not _alive(int(match[1]))
    if path.name.endswith(".part"):  # a live recording being written grows all the time
        return time.time() - path.stat().st_mtime > STALE_RECORDING_S
    return False


def _read_note(path: Path) -> dict[str, Any] | None:
    import av

    try:
        with av.open(str(path), metadata_errors="replace") as container:
            note = container.metadata.get("comment")
            duration = container.duration
    except (av.error.FFmpegError, OSError, ValueError):
        return None
    try:
        data = json.loads(note) if note else None
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get(NOTE_KEY) != 1:
        return None
    data["file_duration"] = None if duration is None else duration / 1_000_000
    return data


def _register(manager: ClipManager, path: Path, note: dict[str, Any]) -> str:
    """Give an orphan clip file its row: the stored row of its moment, or a new one. A stream
    copy starts at the keyframe before the window and ends with it, so the real start is the
    end minus the file's length. What was done: registered, relinked or duplicate."""
    end = float(note["end"])
    length = note.get("file_duration") or end - float(note["start"])
    record, created = manager.register_moment(
        path,
        max(0.0, end - length),
        end,
        note["score"],
        note["clip_type"],
        note["features"],
        note["source"],
    )
    if created:
        return "registered"
    if not os.path.exists(record.filepath):
        manager.move_clip(record.id, path)
        return "relinked"
    for file in (path, path.with_suffix(".jpg")):
        if file not in files_of(record):
            file.unlink(missing_ok=True)
    return "duplicates"


def cleanup(
    manager: ClipManager, out_dir: Path, *, dry_run: bool = False, prune: bool = False
) -> CleanupReport:
    """Repair what interrupted runs left behind (see the module's text); ``dry_run`` lists;
    ``prune`` removes the rows whose file is gone (ratings with them)."""
    report = CleanupReport()
    folders = [out_dir, out_dir / ".recordings"]
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            temporary = path.name.startswith(TEMP_PREFIX) or path.suffix == ".part"
            if temporary and path.is_file() and _dead_temp(path):
                report.temp_files.append(path)
    stored = manager.stored_paths()
    clips = []
    if out_dir.is_dir():
        clips = [p for p in sorted(out_dir.iterdir()) if p.is_file() and not p.name.startswith(".")]
    for path in clips:
        if path.suffix in CLIP_SUFFIXES and os.path.abspath(path) not in stored:
            note = _read_note(path)
            (report.registered if note else report.left_alone).append(path)
        elif (
            path.suffix == ".jpg"
            and _OUR_NAME.search(path.stem)
            and not any(path.with_suffix(s).exists() for s in CLIP_SUFFIXES)
        ):
            report.thumbnails.append(path)
    if dry_run:
        report.missing_rows = manager.missing_file_ids()
        return report
    for path in report.temp_files + report.thumbnails:
        path.unlink(missing_ok=True)
    for path in list(report.registered):
        note = _read_note(path)
        try:
            done = _register(manager, path, note or {})
        except (KickclipError, KeyError, TypeError, ValueError):
            done = "left_alone"
        if done != "registered":
            report.registered.remove(path)
            getattr(report, done).append(path)
    report.missing_rows = manager.missing_file_ids()
    if prune and report.missing_rows:
        manager.delete_clips(report.missing_rows)
        report.pruned = True
    return report
