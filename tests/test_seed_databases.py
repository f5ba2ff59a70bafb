"""A database made by the guide's own code (or another tool of the same design) just works.

Same ``clips`` table, no ``schema_migrations``, possibly ``UNIQUE(filepath)``, times written by
``datetime.now().isoformat()`` (naive, local), NaN and odd feature values, zero-length clips.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import Workspace
from kickclip.cli import app
from kickclip.store.clip_manager import ClipManager
from kickclip.store.exchange import export_clips, import_clips

N = 14


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch):
    """A machine whose clock is not UTC: naive local times differ from UTC ones by 9 hours."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def guide_database(path: Path, *, unique: bool) -> None:
    """What the guide's ``ClipManager`` writes: ``json.dumps`` features, naive local times."""
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE clips (id INTEGER PRIMARY KEY AUTOINCREMENT, filename TEXT NOT NULL, "
        f"filepath TEXT NOT NULL{' UNIQUE' if unique else ''}, start_time REAL NOT NULL, "
        "end_time REAL NOT NULL, duration REAL NOT NULL, score REAL NOT NULL, "
        "clip_type TEXT NOT NULL, features TEXT NOT NULL, rating INTEGER, "
        "created_at TEXT NOT NULL, rated_at TEXT, source_url TEXT)"
    )
    an_hour_ago = datetime.now() - timedelta(hours=1)
    for i in range(N):
        features = {"rms_db_z_max": i / N, "motion_mean": (i * 7 % N) / N}
        if i == 1:
            features["rms_db_z_max"] = float("nan")
        if i == 2:
            features["odd"] = "loud"
        if i == 3:
            features["motion_mean"] = float("inf")
        start, end = 10.0 * i, 10.0 * i + (0 if i == 4 else 8)
        rated = i < 12
        db.execute(
            "INSERT INTO clips (filename, filepath, start_time, end_time, duration, score, "
            "clip_type, features, rating, created_at, rated_at, source_url) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                f"clip{i}.mp4",
                str(path.parent / f"clip{i}.mp4"),
                start,
                end,
                end - start,
                0.5,
                "audio" if i % 3 else "video",
                json.dumps(features),  # NaN and Infinity written bare, as json does
                1 + i % 5 if rated else None,
                (an_hour_ago + timedelta(minutes=i)).isoformat(),
                (an_hour_ago + timedelta(minutes=i, seconds=30)).isoformat() if rated else None,
                "vod.mp4",
            ),
        )
    db.commit()
    db.close()


def _strict(text: str):
    def refuse(constant: str):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("unique", [False, True])
def test_a_guide_database_works_end_to_end(
    workspace: Workspace, tokyo, tmp_path: Path, unique: bool
) -> None:
    guide_database(workspace.db, unique=unique)
    runner = CliRunner()

    listed = runner.invoke(app, ["clips", "--json", "--limit", "100"])
    assert listed.exit_code == 0, listed.output
    clips = {clip["id"]: clip for clip in _strict(listed.stdout)}  # strict JSON
    assert len(clips) == N
    assert clips[2]["features"]["rms_db_z_max"] is None
    assert clips[4]["features"]["motion_mean"] is None
    assert clips[3]["features"]["odd"] == "loud"
    assert clips[5]["duration"] == 0

    # Naive local times were an hour ago; a clip registered now must be the newest.
    manager = ClipManager(workspace.db)
    fresh = manager.register_clip(workspace.root / "clip0.mp4", 500, 508, 0.9, "audio", {})
    assert manager.list_clips(limit=1)[0].id == fresh  # same file as clip 1: UNIQUE gone
    assert runner.invoke(app, ["rate", str(fresh), "4"]).exit_code == 0

    trained = runner.invoke(app, ["train"])
    assert trained.exit_code == 0, trained.output
    progress = _strict(runner.invoke(app, ["stats", "--json"]).stdout)["model"]
    # Ratings an hour ago (local time) are not "after" a training just now (UTC).
    assert progress["ratings_since_training"] == 0 and progress["next_auto_train_in"] == 5

    for suffix in (".json", ".csv"):
        path = tmp_path / f"export{suffix}"
        assert export_clips(manager, path) == N + 1
        if suffix == ".json":
            _strict(path.read_text())
        target = ClipManager(tmp_path / f"copy{suffix}.db")
        summary = import_clips(target, path)
        assert summary.added == N + 1
        copied = {(c.start_time, c.end_time): c for c in target.list_clips(limit=-1)}
        for clip in manager.list_clips(limit=-1):
            twin = copied[clip.start_time, clip.end_time]
            assert twin.rating == clip.rating and twin.clip_type == clip.clip_type
            usable = {
                k: v
                for k, v in clip.features.items()
                if isinstance(v, float | int) and math.isfinite(v)
            }
            assert twin.features == usable
