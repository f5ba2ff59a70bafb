"""Shared fixtures: a throw-away workspace and synthetic media (see ``tests/media.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

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


def fill_store(db: Path, n: int = 30, *, rated: int = 0, seed: int = 0):
    """Register ``n`` clips with two informative features; rate the first ``rated`` of them."""
    import random

    from kickclip.store.clip_manager import ClipManager

    rng = random.Random(seed)
    manager = ClipManager(db)
    ids = []
    for i in range(n):
        loud, motion = rng.random(), rng.random()
        ids.append(
            manager.register_clip(
                filepath=db.parent / "output_clips" / f"clip{i}.mp4",
                start_time=10.0 * i,
                end_time=10.0 * i + 8,
                score=round(rng.random(), 3),
                clip_type="audio" if i % 3 else "video",
                features={"rms_db_z_max": loud, "motion_mean": motion, "noise": rng.random()},
            )
        )
    for clip_id in ids[:rated]:
        features = manager.get_clip(clip_id).features
        manager.rate_clip(clip_id, 1 + round(4 * features["rms_db_z_max"]))
    return manager, ids
