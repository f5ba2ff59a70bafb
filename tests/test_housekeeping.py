"""Nothing duplicated, nothing half-done: idempotent generate, delete, cleanup, kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import Workspace
from kickclip.cli import app
from kickclip.store.clip_manager import ClipManager
from media import make_media

ARGS = ("--clip-duration", "6", "--min-gap", "10", "--top", "2", "--json")


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def _generate(source: str, *extra: str) -> list[dict]:
    result = _run("generate", source, *ARGS, *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["highlights"]


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def source(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("source")
    return make_media(
        folder / "stream.mp4", duration_s=60, bursts=[(10, 12), (40, 42)], action=[(25, 28)]
    )


def test_generate_twice_reuses_the_clips(workspace: Workspace, source: Path) -> None:
    first = _generate(str(source))
    files = _files(workspace.out)
    assert first and not any(h["reused"] for h in first)
    # The same file by another path: still the same source.
    os.chdir(source.parent)
    again = _generate(source.name)
    assert [h["id"] for h in again] == [h["id"] for h in first]
    assert all(h["reused"] for h in again)
    assert _files(workspace.out) == files  # no "-2" copies
    assert len(ClipManager(workspace.db).list_clips(limit=-1)) == len(first)


def test_force_cuts_again_and_keeps_rating_and_tags(workspace: Workspace, source: Path) -> None:
    first = _generate(str(source))
    manager = ClipManager(workspace.db)
    manager.rate_clip(first[0]["id"], 5)
    manager.tag_clip(first[0]["id"], ["best"])
    old = Path(first[0]["filepath"])
    old_inode = old.stat().st_ino
    again = _generate(str(source), "--force")
    assert [h["id"] for h in again] == [h["id"] for h in first]
    assert not any(h["reused"] for h in again)
    clip = manager.get_clip(first[0]["id"])
    assert (clip.rating, clip.tags) == (5, ("best",))
    assert Path(clip.filepath).is_file() and Path(clip.filepath).stat().st_ino != old_inode
    assert len([n for n in _files(workspace.out) if n.endswith(".mp4")]) == len(first)


def test_delete_removes_files_rows_and_tags(workspace: Workspace, source: Path) -> None:
    clips = _generate(str(source))
    manager = ClipManager(workspace.db)
    target = manager.get_clip(clips[0]["id"])
    manager.tag_clip(target.id, ["gone"])
    workspace.mark()
    bad = _run("delete", str(target.id), "999")
    assert bad.exit_code == 1 and "999" in bad.stderr
    assert workspace.unchanged()  # one unknown id: nothing deleted
    result = _run("delete", str(target.id))
    assert result.exit_code == 0, result.output
    assert not Path(target.filepath).exists() and target.thumbnail_path is None
    assert manager.list_clips(limit=-1, tag="gone") == []
    assert len(manager.list_clips(limit=-1)) == len(clips) - 1


def test_cleanup_repairs_what_a_crash_leaves(workspace: Workspace, source: Path) -> None:
    clips = _generate(str(source))
    manager = ClipManager(workspace.db)
    orphan = manager.get_clip(clips[0]["id"])
    with sqlite3.connect(workspace.db) as db:  # killed between rename and registration
        db.execute("DELETE FROM clips WHERE id = ?", (orphan.id,))
    db.close()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    temp = workspace.out / f".kickclip-{dead.stdout.strip()}-abc.part.mp4"
    temp.write_bytes(b"half a clip")
    mine = workspace.out / f".kickclip-{os.getpid()}-live.part.mp4"  # a running process's
    mine.write_bytes(b"being written")
    stray = workspace.out / "old_00h00m01s-00h00m07s_video.jpg"
    stray.write_bytes(b"\xff\xd8\xff\xd9")
    foreign = workspace.out / "holiday.mp4"
    foreign.write_bytes(b"not ours")

    workspace.mark()
    listed = _run("cleanup", "--dry-run", "--json")
    assert listed.exit_code == 0 and workspace.unchanged()
    report = json.loads(listed.stdout)
    assert report["temp_files"] == [str(temp)] and report["thumbnails"] == [str(stray)]
    assert report["registered"] == [orphan.filepath]
    assert report["left_alone"] == [str(foreign)]

    result = _run("cleanup")
    assert result.exit_code == 0, result.output
    assert not temp.exists() and not stray.exists() and mine.exists() and foreign.exists()
    back = [c for c in manager.list_clips(limit=-1) if c.filepath == orphan.filepath]
    assert len(back) == 1
    restored = back[0]
    assert (restored.clip_type, restored.score, restored.features) == (
        orphan.clip_type,
        orphan.score,
        orphan.features,
    )
    assert restored.start_time == pytest.approx(orphan.start_time, abs=0.1)
    assert restored.end_time == pytest.approx(orphan.end_time, abs=0.1)
    assert restored.source_url == orphan.source_url


def test_kill_minus_9_mid_cut_then_cleanup(workspace: Workspace, tmp_path: Path) -> None:
    """A generate killed while it cuts: cleanup leaves no temp file and no file without a row."""
    long_source = make_media(
        tmp_path / "long.mp4",
        duration_s=240,
        bursts=[(20 + 30 * k, 22 + 30 * k) for k in range(7)],
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for _attempt in range(3):
        run = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kickclip",
                "generate",
                str(long_source),
                "--accurate",
                "--clip-duration",
                "20",
                "--min-gap",
                "25",
                "--top",
                "7",
            ],
            cwd=workspace.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        temp = []
        while time.monotonic() < deadline and run.poll() is None:
            temp = list(workspace.out.glob(f".kickclip-{run.pid}-*.part.mp4"))
            if temp and temp[0].stat().st_size > 0:
                break
            time.sleep(0.02)
        run.send_signal(signal.SIGKILL)
        run.wait()
        if temp:
            break
    assert temp, "the generate never reached a cut"
    result = _run("cleanup")
    assert result.exit_code == 0, result.output
    assert not list(workspace.out.glob(".kickclip-*"))
    stored = ClipManager(workspace.db).stored_paths() if workspace.db.exists() else set()
    on_disk = {str(p) for p in workspace.out.glob("*.mp4")}
    assert on_disk <= stored
    assert all(Path(path).is_file() for path in stored)


def test_live_recording_is_removed_unless_kept(workspace: Workspace, tmp_path: Path) -> None:
    from servers import Server, growing_playlist, make_hls

    make_media(tmp_path / "live.mp4", duration_s=40, bursts=[(3, 5)])
    playlist = make_hls(tmp_path / "live.mp4", tmp_path / "live")
    recordings = workspace.out / ".recordings"
    for keep, expected in ((False, 0), (True, 1)):
        with Server(tmp_path, dynamic={"stream.m3u8": growing_playlist(playlist)}) as server:
            extra = ["--keep-recording"] if keep else []
            result = _run(
                "generate",
                server.url("stream.m3u8"),
                "--record-minutes",
                "0.1",
                "--clip-duration",
                "3",
                "--min-gap",
                "2",
                "--top",
                "1",
                *extra,
            )
        assert result.exit_code == 0, result.output
        assert len(list(recordings.glob("*.ts"))) == expected


def test_written_files_get_the_usual_rights(workspace: Workspace, source: Path) -> None:
    """Not 0600 like a bare temporary file: clips, thumbnails, exports and the model."""
    from conftest import fill_store

    old = os.umask(0o022)
    try:
        clips = _generate(str(source))
        clip = Path(clips[0]["filepath"])
        fill_store(workspace.db, 12, rated=12)
        assert _run("train").exit_code == 0
        assert _run("export", str(workspace.root / "all.json")).exit_code == 0
    finally:
        os.umask(old)
    for path in (
        clip,
        clip.with_suffix(".jpg"),
        workspace.root / "all.json",
        workspace.models / "highlight_model.pkl",
    ):
        assert path.stat().st_mode & 0o777 == 0o644, path
