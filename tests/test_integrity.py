"""Issue 20, "Ratings and clips lost or doubled", and PostgreSQL's share of it: the store owns
identity, ids are never reused, delete and cleanup never lose a rating or make a second row."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import Workspace, fill_store
from kickclip import pipeline
from kickclip.cli import app
from kickclip.errors import StoreError
from kickclip.store.clip_manager import ClipManager
from kickclip.store.schema import SEED_TABLE
from media import make_media

ARGS = ("--clip-duration", "6", "--min-gap", "10", "--top", "3")


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def _generate(source: Path | str, *extra: str) -> list[dict]:
    result = _run("generate", str(source), *ARGS, "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["highlights"]


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("stream")
    return make_media(
        folder / "vod.mp4", duration_s=60, bursts=[(10, 12), (40, 42)], action=[(25, 28)]
    )


def _moment(manager: ClipManager, start: float, **extra) -> tuple:
    return manager.register_moment(
        f"/clips/at{start:g}.mp4", start, start + 8, 0.5, "audio", {"x": 1.0}, "src", **extra
    )


# --- ids --------------------------------------------------------------------------------------
def test_a_deleted_id_is_never_handed_out_again(db_location: Path | str) -> None:
    manager, ids = fill_store(db_location, 3)
    manager.delete_clips([ids[-1]])
    new = manager.register_clip("/clips/new.mp4", 0, 5, 0.5, "audio", {})
    assert new == ids[-1] + 1


def test_a_seed_database_stops_reusing_ids(tmp_path: Path) -> None:
    db = tmp_path / "clips.db"
    with sqlite3.connect(db) as seed:
        seed.execute(SEED_TABLE)
        seed.executemany(
            "INSERT INTO clips (filename, filepath, start_time, end_time, duration, score, "
            "clip_type, features, rating, created_at) VALUES (?, ?, ?, ?, 5, 0.5, 'audio', "
            "'{}', ?, '2026-01-01T00:00:00+00:00')",
            [
                (f"c{i}.mp4", f"/c{i}.mp4", 10 * i, 10 * i + 5, 4 if i == 1 else None)
                for i in (1, 2)
            ],
        )
    seed.close()
    manager = ClipManager(db)
    assert manager.get_clip(1).rating == 4  # rebuilt with its rows, ids and ratings
    manager.delete_clips([2])
    assert manager.register_clip("/c3.mp4", 30, 35, 0.5, "audio", {}) == 3


# --- identity -----------------------------------------------------------------------------------
def test_a_moment_is_stored_once(db_location: Path | str) -> None:
    manager = ClipManager(db_location)
    first, created = _moment(manager, 10)
    again, created_again = _moment(manager, 12)  # overlaps by 6 of 8 s: the same moment
    _other, created_other = _moment(manager, 20)  # overlaps by 0
    assert (created, created_again, created_other) == (True, False, True)
    assert again.id == first.id and again.filepath == first.filepath
    assert _moment(manager, 12, exclude=[first.id])[1]  # an id this run handed out is not reused


MOMENTS_WORKER = """
import sys, time
from kickclip.store.clip_manager import ClipManager
db, start_at, tag = sys.argv[1], float(sys.argv[2]), sys.argv[3]
manager = ClipManager(db)
while time.time() < start_at:
    time.sleep(0.001)
for k in range(30):
    manager.register_moment(f"/clips/{tag}-{k}.mp4", 20.0 * k, 20.0 * k + 8, 0.5, "audio",
                            {}, "stream", sources=["stream", "./stream"])
print("done")
"""


def test_processes_storing_one_stream_at_once_store_each_moment_once(
    db_location: Path | str,
) -> None:
    ClipManager(db_location)  # the schema is there; racing its creation is another test
    start_at = time.time() + 2.0
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", MOMENTS_WORKER, str(db_location), str(start_at), tag],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in "abc"
    ]
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0 and stdout.strip() == "done", stderr
    clips = ClipManager(db_location).list_clips(limit=None)
    assert sorted(c.start_time for c in clips) == [20.0 * k for k in range(30)]


def test_a_batch_of_one_file_twice_stores_each_moment_once(
    workspace: Workspace, stream: Path
) -> None:
    local = workspace.root / "vod.mp4"
    shutil.copy(stream, local)
    result = _run("batch", str(local), "./vod.mp4", *ARGS, "--workers", "2", "--json")
    assert result.exit_code == 0, result.output
    clips = ClipManager(workspace.db).list_clips(limit=None)
    spans = [(c.start_time, c.end_time) for c in clips]
    assert len(spans) == len(set(spans)) and 1 <= len(clips) <= 3
    assert sorted(p.name for p in workspace.out.glob("*.mp4")) == sorted(
        c.filename for c in clips
    )  # no "-2" copies left behind


def test_a_force_cut_killed_before_its_row_then_cleanup_makes_no_second_row(
    workspace: Workspace, stream: Path
) -> None:
    first = _generate(stream)[0]
    assert _run("rate", str(first["id"]), "5").exit_code == 0
    # What `generate --force` leaves when killed between its rename and its row: a second
    # cut of the moment (same description inside) under the next free name.
    cut = Path(first["filepath"])
    second = cut.with_name(cut.stem + "-2.mp4")
    shutil.copy(cut, second)
    shutil.copy(cut.with_suffix(".jpg"), second.with_suffix(".jpg"))
    before = ClipManager(workspace.db).list_clips(limit=None)
    report = json.loads(_run("cleanup", "--json").stdout)
    after = ClipManager(workspace.db).list_clips(limit=None)
    assert [c.id for c in after] == [c.id for c in before]
    assert report["duplicates"] == [str(second)] and not second.exists()
    assert ClipManager(workspace.db).get_clip(first["id"]).rating == 5


# --- delete: the row first, then only files of the clips folder ----------------------------------
def test_a_failed_delete_leaves_the_files_and_the_rating(
    workspace: Workspace, stream: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _generate(stream)[0]
    manager = ClipManager(workspace.db)
    manager.rate_clip(first["id"], 5)

    def full_disk(*_args, **_kwargs):
        raise StoreError("cannot write clip database: database or disk is full")

    monkeypatch.setattr(manager, "delete_clips", full_disk)
    with pytest.raises(StoreError):
        pipeline.delete(manager, [first["id"]], workspace.out)
    assert (
        Path(first["filepath"]).is_file() and Path(first["filepath"]).with_suffix(".jpg").is_file()
    )
    assert ClipManager(workspace.db).get_clip(first["id"]).rating == 5


@pytest.mark.parametrize("where", ["elsewhere", "linked folder"])
def test_delete_never_removes_a_file_outside_the_clips_folder(
    workspace: Workspace, tmp_path_factory, where: str
) -> None:
    outside = tmp_path_factory.mktemp("victim")
    victim = outside / "victim.mp4"
    victim.write_bytes(b"precious")
    victim.with_suffix(".jpg").write_bytes(b"precious too")
    workspace.out.mkdir()
    named = victim
    if where == "linked folder":
        (workspace.out / "link").symlink_to(outside, target_is_directory=True)
        named = workspace.out / "link" / "victim.mp4"
    clip_id = ClipManager(workspace.db).register_clip(named, 0, 5, 0.5, "video", {})
    result = _run("delete", str(clip_id))
    assert result.exit_code == 0, result.output
    assert "Left" in result.stdout
    assert victim.read_bytes() == b"precious" and victim.with_suffix(".jpg").exists()
    assert ClipManager(workspace.db).list_clips(limit=None) == []


# --- cleanup: a moved folder keeps its ratings ------------------------------------------------
def test_cleanup_keeps_rated_rows_of_a_moved_folder_and_finds_them_again(
    workspace: Workspace, stream: Path
) -> None:
    clips = _generate(stream)
    for clip in clips:
        assert _run("rate", str(clip["id"]), "4").exit_code == 0
    moved = workspace.root / "moved_clips"
    workspace.out.rename(moved)
    result = _run("cleanup")
    assert result.exit_code == 0 and f"Kept {len(clips)} clip(s)" in result.stdout
    assert len(ClipManager(workspace.db).rated_clips()) == len(clips)

    report = json.loads(_run("cleanup", "--out", str(moved), "--json").stdout)
    assert len(report["relinked"]) == len(clips) and report["registered"] == []
    rated = ClipManager(workspace.db).rated_clips()
    assert {c.id for c in rated} == {c["id"] for c in clips}
    assert all(Path(c.filepath).parent == moved and Path(c.filepath).is_file() for c in rated)
    assert (
        json.loads(_run("cleanup", "--out", str(moved), "--json").stdout)["rows_without_file"] == []
    )


def test_cleanup_prune_drops_rows_after_listing_them(workspace: Workspace) -> None:
    fill_store(workspace.db, 3, rated=3)
    listed = _run("cleanup", "--prune", "--dry-run")
    assert listed.stdout.count("would remove the row") == 3
    assert len(ClipManager(workspace.db).list_clips(limit=None)) == 3
    assert json.loads(_run("cleanup", "--prune", "--json").stdout)["pruned"] is True
    assert ClipManager(workspace.db).list_clips(limit=None) == []


# --- PostgreSQL: first use at once, restarts ----------------------------------------------------
OPEN_WORKER = """
import sys, time
from kickclip.store.clip_manager import ClipManager
db, start_at = sys.argv[1], float(sys.argv[2])
while time.time() < start_at:
    time.sleep(0.001)
ClipManager(db).register_clip("/c.mp4", 0, 5, 0.5, "audio", {})
print("done")
"""


def test_processes_opening_a_new_postgres_database_at_once_all_succeed(postgres_url: str) -> None:
    from postgres import fresh_database

    for _trial in range(3):
        db = fresh_database(postgres_url)
        start_at = time.time() + 2.0
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_WORKER, db, str(start_at)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        for worker in workers:
            stdout, stderr = worker.communicate(timeout=120)
            assert worker.returncode == 0 and stdout.strip() == "done", stderr
        assert len(ClipManager(db).list_clips(limit=None)) == 4


def test_a_write_after_a_postgres_restart_lands() -> None:
    from postgres import fresh_database, postgres_server, restart

    with postgres_server() as server:
        manager, ids = fill_store(fresh_database(server), 3)
        manager.rate_clip(ids[0], 3)  # the pool holds a connection now
        restart(server)
        manager.rate_clip(ids[0], 5)
        manager.tag_clip(ids[1], ["after-restart"])
        assert manager.get_clip(ids[0]).rating == 5


def test_every_store_command_works_on_postgres(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from postgres import fresh_database

    db = fresh_database(postgres_url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KICKCLIP_DB", db)
    monkeypatch.setenv("KICKCLIP_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("KICKCLIP_MODELS", str(tmp_path / "models"))
    _, ids = fill_store(db, 12, rated=11)
    commands = [
        ("clips", "--json"),
        ("clips", "--unrated"),
        ("rate", str(ids[-1]), "4"),
        ("tag", str(ids[0]), "funny"),
        ("clips", "--tag", "funny"),
        ("untag", str(ids[0]), "funny"),
        ("stats", "--json"),
        ("train",),
        ("models",),
        ("explain", str(ids[0])),
        ("export", "all.json"),
        ("export", "all.csv"),
        ("import", "all.json"),
        ("delete", str(ids[1])),
        ("cleanup", "--dry-run"),
        ("cleanup", "--prune"),
    ]
    for command in commands:
        result = _run(*command)
        assert result.exit_code == 0, (command, result.output)
    exported = json.loads((tmp_path / "all.json").read_text())["clips"]
    assert len(exported) == 12 and sum(c["rating"] is not None for c in exported) == 12
    assert ClipManager(db).list_clips(limit=None) == []  # none of the files exist: pruned
