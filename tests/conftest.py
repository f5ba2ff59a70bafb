"""Shared fixtures: a throw-away workspace and synthetic media (see ``tests/media.py``)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# The tests' servers listen on 127.0.0.1: the CLI (and every subprocess) may read them, as a
# user's LAN media server with this opt-in; tests of the refusal take it away.
os.environ["KICKCLIP_ALLOW_PRIVATE_ADDRESSES"] = "1"

from media import make_media


@pytest.fixture
def sample_video(tmp_path: Path) -> Path:
    """20 s, 160x96 at 15 fps with audio: a loud burst at 5-7 s, action at 12-14 s."""
    return make_media(
        tmp_path / "sample.mp4", duration_s=20, bursts=[(5, 7)], action=[(12, 14)], cuts=[9]
    )


class Workspace:
    """A throw-away db / clips folder / models folder, with a before-after snapshot."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.db = root / "clips.db"
        self.out = root / "output_clips"
        self.models = root / "models"
        self._snapshot = self.snapshot()

    def snapshot(self) -> tuple:
        import sqlite3

        rows: list = []
        if self.db.exists():
            with sqlite3.connect(self.db) as db:
                tables = [
                    r[0]
                    for r in db.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                    )
                ]
                if "clips" in tables:
                    rows = db.execute("SELECT * FROM clips ORDER BY id").fetchall()
            db.close()
        files = sorted(
            (str(p.relative_to(self.root)), p.stat().st_size)
            for folder in (self.out, self.models)
            if folder.exists()
            for p in folder.rglob("*")
            if p.is_file()
        )
        return rows, files

    def mark(self) -> None:
        self._snapshot = self.snapshot()

    def unchanged(self) -> bool:
        return self.snapshot() == self._snapshot


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """Env vars point the CLI at tmp paths; the cwd is the tmp dir too."""
    ws = Workspace(tmp_path)
    monkeypatch.setenv("KICKCLIP_DB", str(ws.db))
    monkeypatch.setenv("KICKCLIP_OUT", str(ws.out))
    monkeypatch.setenv("KICKCLIP_MODELS", str(ws.models))
    monkeypatch.chdir(tmp_path)
    return ws


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server on a loopback port for this test session (see ``postgres.py``)."""
    from postgres import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """A new, empty clip store: an SQLite file, then a PostgreSQL database (the same tests
    run on both backends)."""
    if request.param == "sqlite":
        return tmp_path / "clips.db"
    from postgres import fresh_database

    return fresh_database(request.getfixturevalue("postgres_url"))


def fill_store(db: Path | str, n: int = 30, *, rated: int = 0, seed: int = 0):
    """Register ``n`` clips with two informative features; rate the first ``rated`` of them.
    The clip paths lie beside an SQLite file (none of them exists)."""
    import random

    from kickclip.store.clip_manager import ClipManager

    rng = random.Random(seed)
    manager = ClipManager(db)
    folder = db.parent if isinstance(db, Path) else Path(tempfile.gettempdir()) / "kickclip-pg"
    ids = []
    for i in range(n):
        loud, motion = rng.random(), rng.random()
        ids.append(
            manager.register_clip(
                filepath=folder / "output_clips" / f"clip{i}.mp4",
                start_time=10.0 * i,
                end_time=10.0 * i + 8,
                score=round(rng.random(), 3),
                clip_type="audio" if i % 3 else "video",
                features={
                    "rms_db_z_max": loud,
                    "motion_mean": motion,
                    "noise": rng.random(),
                    # what the learner reads: rises and in-stream ranks (learn/dataset.py)
                    "activity_kbits_z_max": motion,
                    "flatness_pct": rng.random(),
                },
            )
        )
    for clip_id in ids[:rated]:
        features = manager.get_clip(clip_id).features
        manager.rate_clip(clip_id, 1 + round(4 * features["rms_db_z_max"]))
    return manager, ids
