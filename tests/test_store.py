"""ClipManager: the seed table, validation that changes nothing, statistics, migrations."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from conftest import Workspace, fill_store
from kickclip.errors import ClipNotFound, InvalidClip, InvalidRating, StoreError
from kickclip.store.backends import SqliteBackend
from kickclip.store.clip_manager import ClipManager
from kickclip.store.schema import MIGRATIONS

SEED_COLUMNS = [
    "id",
    "filename",
    "filepath",
    "start_time",
    "end_time",
    "duration",
    "score",
    "clip_type",
    "features",
    "rating",
    "created_at",
    "rated_at",
    "source_url",
]


def test_table_is_the_seed_table(db_location: Path | str) -> None:
    manager = ClipManager(db_location)
    if isinstance(db_location, Path):
        with sqlite3.connect(db_location) as db:
            columns = [row[1] for row in db.execute("PRAGMA table_info(clips)")]
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    else:
        rows = manager._read(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'clips' ORDER BY ordinal_position"
        )
        columns = [row[0] for row in rows]
        types = dict((row[0], row[1]) for row in rows)
        assert types["start_time"] == types["score"] == "double precision"
    assert columns == SEED_COLUMNS


def test_register_derives_fields_and_round_trips(db_location: Path | str) -> None:
    manager = ClipManager(db_location)
    clip_id = manager.register_clip(
        "clips/a.mp4",
        120.5,
        150.5,
        0.85,
        "audio",
        {"rms_mean": 0.5, "tempo": 120},
        "https://x/stream",
    )
    clip = manager.get_clip(clip_id)
    assert clip.filename == "a.mp4" and Path(clip.filepath).is_absolute()
    assert clip.duration == pytest.approx(30.0)
    assert clip.features == {"rms_mean": 0.5, "tempo": 120.0}
    assert clip.created_at.endswith("+00:00") and clip.rating is None
    assert clip.source_url == "https://x/stream" and clip.thumbnail_path is None
    rated = manager.rate_clip(clip_id, np.int64(4))
    assert rated.rating == 4 and rated.rated_at.endswith("+00:00")


def test_lists_are_newest_first_and_review_is_unrated(db_location: Path | str) -> None:
    manager, ids = fill_store(db_location, 12, rated=4)
    assert [c.id for c in manager.list_clips(5)] == ids[::-1][:5]
    review = manager.get_clips_for_review(limit=50)
    assert {c.id for c in review} == set(ids[4:])
    assert all(c.rating is None for c in manager.list_clips(50, unrated_only=True))


def test_statistics(db_location: Path | str) -> None:
    manager = ClipManager(db_location)
    empty = manager.get_statistics()
    assert empty["total_clips"] == 0 and empty["average_rating"] is None
    assert empty["rating_distribution"] == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
    for i, (kind, stars) in enumerate([("audio", 5), ("audio", 3), ("video", 4), ("video", None)]):
        clip_id = manager.register_clip(f"/c/{i}.mp4", 0, 10, 0.5, kind, {})
        if stars:
            manager.rate_clip(clip_id, stars)
    stats = manager.get_statistics()
    assert (stats["total_clips"], stats["rated_clips"], stats["unrated_clips"]) == (4, 3, 1)
    assert stats["average_rating"] == pytest.approx(4.0)
    assert stats["rating_distribution"] == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert (stats["audio_clips"], stats["video_clips"]) == (2, 2)
    assert stats["by_type"]["video"] == {"total": 2, "rated": 1, "average_rating": 4.0}


def test_training_data_and_rated_since(db_location: Path | str) -> None:
    manager, ids = fill_store(db_location, 10, rated=6)
    features, ratings = manager.get_training_data()
    assert len(features) == len(ratings) == 6
    assert all(isinstance(f, dict) and 1 <= r <= 5 for f, r in zip(features, ratings, strict=True))
    mark = manager.get_clip(ids[5]).rated_at
    assert manager.count_rated_since(None) == 6
    assert manager.count_rated_since(mark) == 0
    manager.rate_clip(ids[7], 2)
    assert manager.count_rated_since(mark) == 1


def test_cleanup_removes_rows_of_missing_files(tmp_path: Path, db_location: Path | str) -> None:
    manager = ClipManager(db_location)
    kept = tmp_path / "kept.mp4"
    kept.write_bytes(b"x")
    keep_id = manager.register_clip(kept, 0, 5, 0.5, "video", {})
    manager.register_clip(tmp_path / "gone.mp4", 0, 5, 0.5, "video", {})
    assert manager.cleanup_missing_files() == 1
    assert [c.id for c in manager.list_clips()] == [keep_id]
    assert manager.cleanup_missing_files() == 0


def test_seed_database_is_migrated_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "seed.db"
    with sqlite3.connect(path) as db:
        db.execute("""CREATE TABLE clips (id INTEGER PRIMARY KEY, filename TEXT NOT NULL,
            filepath TEXT NOT NULL, start_time REAL NOT NULL, end_time REAL NOT NULL,
            duration REAL NOT NULL, score REAL NOT NULL, clip_type TEXT NOT NULL,
            features TEXT NOT NULL, rating INTEGER, created_at TEXT NOT NULL, rated_at TEXT,
            source_url TEXT)""")
        db.execute(
            "INSERT INTO clips VALUES (1, 'a.mp4', '/a.mp4', 1, 2, 1, 0.5, 'audio', "
            "'{\"rms_mean\": 0.1}', 4, '2025-01-01T00:00:00', '2025-01-02T00:00:00', NULL)"
        )
    db.close()
    manager = ClipManager(path)
    assert manager.get_clip(1).rating == 4 and manager.get_clip(1).features == {"rms_mean": 0.1}
    with sqlite3.connect(path) as db:
        names = [r[0] for r in db.execute("SELECT name FROM schema_migrations ORDER BY name")]
    assert names[:4] == [
        *("0001_seed_clips_table", "0002_indexes", "0003_unrated_index", "0004_secrets"),
    ]
    assert names == [name for name, _ in MIGRATIONS]
    ClipManager(path)  # opening again applies nothing twice
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)
        key = db.execute("SELECT value FROM secrets").fetchall()
    assert len(key) == 1 and len(bytes.fromhex(key[0][0])) == 32 == len(manager.model_key())


BAD_CALLS = [
    ("rate 0", lambda m, i: m.rate_clip(i, 0), InvalidRating, "1 to 5"),
    ("rate 6", lambda m, i: m.rate_clip(i, 6), InvalidRating, "1 to 5"),
    ("rate five", lambda m, i: m.rate_clip(i, "five"), InvalidRating, "'five'"),
    ("rate 3.5", lambda m, i: m.rate_clip(i, 3.5), InvalidRating, "3.5"),
    ("rate True", lambda m, i: m.rate_clip(i, True), InvalidRating, "True"),
    ("unknown id", lambda m, i: m.rate_clip(9999, 3), ClipNotFound, "9999"),
    ("get unknown", lambda m, i: m.get_clip(9999), KeyError, "9999"),
    (
        "type gif",
        lambda m, i: m.register_clip("/g.mp4", 0, 5, 0.5, "gif", {}),
        InvalidClip,
        "'gif'",
    ),
    (
        "NaN feature",
        lambda m, i: m.register_clip("/n.mp4", 0, 5, 0.5, "audio", {"rms": math.nan}),
        InvalidClip,
        "finite",
    ),
    (
        "text feature",
        lambda m, i: m.register_clip("/n.mp4", 0, 5, 0.5, "audio", {"rms": "x"}),
        InvalidClip,
        "number",
    ),
    (
        "end < start",
        lambda m, i: m.register_clip("/e.mp4", 10, 5, 0.5, "audio", {}),
        InvalidClip,
        "start_time < end_time",
    ),
    (
        "negative start",
        lambda m, i: m.register_clip("/e.mp4", -1, 5, 0.5, "audio", {}),
        InvalidClip,
        "0 <=",
    ),
    (
        "features list",
        lambda m, i: m.register_clip("/e.mp4", 0, 5, 0.5, "audio", [1]),
        InvalidClip,
        "JSON object",
    ),
]


@pytest.mark.parametrize(
    ("name", "call", "error", "text"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS]
)
def test_bad_input_changes_nothing(workspace: Workspace, name, call, error, text) -> None:
    manager, ids = fill_store(workspace.db, 3, rated=1)
    workspace.mark()
    with pytest.raises(error) as raised:
        call(manager, ids[1])
    assert isinstance(raised.value, ValueError | KeyError)
    message = str(raised.value)
    assert text in message and "\n" not in message
    assert workspace.unchanged()


def test_bad_input_changes_nothing_in_the_store(db_location: Path | str) -> None:
    manager, ids = fill_store(db_location, 3, rated=1)
    before = (manager.list_clips(100), manager.get_statistics())
    for name, call, error, _text in BAD_CALLS:
        with pytest.raises(error):
            call(manager, ids[1])
        assert (manager.list_clips(100), manager.get_statistics()) == before, name


def test_unknown_id_error_names_the_id() -> None:
    assert str(ClipNotFound(7)) == "no clip with id 7"


def test_unwritable_database_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(StoreError, match="cannot open clip database"):
        ClipManager(blocker / "clips.db")
    assert blocker.read_text() == "a file where a folder should be"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]


def test_read_only_database_file_refuses_writes(tmp_path: Path) -> None:
    manager, ids = fill_store(tmp_path / "clips.db", 2)
    before = manager.get_clip(ids[0])
    # Root ignores file modes, so make the database unwritable the way SQLite sees it.
    uri_manager = ClipManager.__new__(ClipManager)
    uri_manager.backend = SqliteBackend.__new__(SqliteBackend)
    uri_manager.backend.path = Path(f"file:{tmp_path / 'clips.db'}?mode=ro")
    uri_manager.backend.location = str(tmp_path / "clips.db")
    original = sqlite3.connect

    def read_only(path, *args, **kwargs):
        return original(str(path), *args, uri=True, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sqlite3, "connect", read_only)
        with pytest.raises(StoreError, match="cannot write clip database"):
            uri_manager.rate_clip(ids[0], 5)
    assert manager.get_clip(ids[0]) == before


def test_unreachable_postgres_is_one_line_without_the_password(workspace: Workspace) -> None:
    import socket

    from typer.testing import CliRunner

    from kickclip.cli import app

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://kickclip:s3cret@127.0.0.1:{port}/clips"
    result = CliRunner().invoke(app, ["stats", "--db", url])
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot open clip database")
    assert "s3cret" not in result.stderr and f"//127.0.0.1:{port}/" in lines[0]
    assert workspace.unchanged()
