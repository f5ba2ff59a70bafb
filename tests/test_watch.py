"""``kickclip watch``: a live stream clipped while it goes on (a growing playlist on 127.0.0.1)."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import Workspace
from kickclip.analyze.rolling import RollingFeatures
from kickclip.errors import InvalidInput
from kickclip.records import Features, FeatureSeries
from kickclip.watch import parse_duration
from media import decode_duration, make_media
from servers import LivePlaylist, Outage, Server, make_hls

SEGMENT_S = 10.0  # as Kick's


def watch_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "kickclip.cli", "watch", *args]


def generate_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "kickclip.cli", "generate", *args]


def read_lines(stream, into: list) -> threading.Thread:
    def read() -> None:
        for line in stream:
            into.append((time.time(), line))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


MOMENTS_S = (25.0, 95.0, 160.0)


def test_a_live_stream_is_clipped_while_it_goes_on(workspace: Workspace, tmp_path: Path) -> None:
    """Three shouts in a live stream published in real time, 10 s segments: each is a clip
    within 60 s of happening, a 20 s outage is survived, nothing is cut twice, Ctrl-C leaves
    no partial file, and a later generate of the ended stream reuses the clips."""
    source = make_media(
        tmp_path / "live.mp4",
        duration_s=210,
        size=(320, 180),
        bursts=[(t, t + 2.5) for t in MOMENTS_S],
    )
    live = LivePlaylist(make_hls(source, tmp_path / "live", segment_s=SEGMENT_S))
    live.outages.append((105.0, 125.0))
    stdout: list = []
    stderr: list = []
    with Server(tmp_path, dynamic={"stream.m3u8": live.render}, statuses=Outage(live)) as server:
        started_at = live.start()
        process = subprocess.Popen(
            watch_command(server.url("stream.m3u8"), "--json"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        readers = [read_lines(process.stdout, stdout), read_lines(process.stderr, stderr)]
        try:
            while len(stdout) < len(MOMENTS_S) and live.elapsed() < 200:
                assert process.poll() is None, "".join(line for _, line in stderr)
                time.sleep(0.5)
            time.sleep(3)  # into the next piece: the stop comes mid-recording
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
        for reader in readers:
            reader.join(timeout=5)
        said = "".join(line for _, line in stderr)
        assert process.returncode == 0, said
        clips = [(wall, json.loads(line)) for wall, line in stdout]
        assert len(clips) == len(MOMENTS_S), said
        for moment_s, (wall, clip) in zip(MOMENTS_S, clips, strict=True):
            assert clip["start"] <= moment_s + 1 <= clip["end"], clip
            assert Path(clip["filepath"]).is_file()
            assert set(clip) == {
                "id",
                "start",
                "end",
                "score",
                "clip_type",
                "reason",
                "filepath",
                "delay_s",
            }
            happened_at = started_at + moment_s  # second t is live at t: segments in real time
            assert wall - happened_at <= 60, (moment_s, wall - happened_at)
            assert 0 <= clip["delay_s"] <= wall - happened_at + 1
        assert "reconnecting" in said and "Stopping" in said
        ids = [clip["id"] for _, clip in clips]
        assert len(set(ids)) == len(ids)
        with sqlite3.connect(workspace.db) as db:
            rows = db.execute("SELECT id, start_time, end_time FROM clips ORDER BY start_time")
            stored = rows.fetchall()
        assert [row[0] for row in stored] == sorted(ids, key=lambda i: ids.index(i))
        assert all(a[2] <= b[1] for a, b in itertools.pairwise(stored))  # no moment twice
        left = [p.name for p in workspace.out.rglob("*") if p.is_file() and p.suffix != ".jpg"]
        assert sorted(left) == sorted(Path(clip["filepath"]).name for _, clip in clips)
        assert not (workspace.out / ".recordings").exists() or not any(
            (workspace.out / ".recordings").rglob("*")
        )

        while live.elapsed() < len(live.segments) * SEGMENT_S:  # the stream ends: a VOD now
            time.sleep(1)
        done = subprocess.run(
            [*generate_command(server.url("stream.m3u8")), "--json", "--top", "3", "--no-words"],
            capture_output=True,
            text=True,
        )
    assert done.returncode == 0, done.stderr
    again = json.loads(done.stdout)["highlights"]
    assert sorted(h["id"] for h in again) == sorted(ids)
    assert all(h["reused"] for h in again)


def test_watching_keeps_the_recording_when_asked(workspace: Workspace, tmp_path: Path) -> None:
    """A stream that ends (here a file read at once) is clipped at every planted moment;
    --keep-recording leaves one recording of all that was watched; --for stops early."""
    source = make_media(
        tmp_path / "show.mp4", duration_s=160, bursts=[(20, 22), (85, 87), (145, 147)]
    )
    done = subprocess.run(
        watch_command(str(source), "--json", "--keep-recording", "--no-words"),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    clips = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(clips) == 3
    for moment_s, clip in zip((20, 85, 145), clips, strict=True):
        assert clip["start"] <= moment_s + 1 <= clip["end"], clip
    recordings = list((workspace.out / ".recordings").glob("*.ts"))
    assert len(recordings) == 1 and not list(workspace.out.rglob("*.part"))
    seconds, _ = decode_duration(recordings[0])
    assert 158 <= seconds <= 161
    assert "Watched 0:02:40 (the stream ended): 3 clips" in done.stderr

    early = subprocess.run(
        [
            *watch_command(str(source), "--for", "1m", "--json", "--no-words"),
            *("--out", str(tmp_path / "o2"), "--db", str(tmp_path / "other.db")),
        ],
        capture_output=True,
        text=True,
    )
    assert early.returncode == 0, early.stderr
    assert [json.loads(line)["start"] < 60 for line in early.stdout.splitlines()] == [True]
    assert "(the time was up)" in early.stderr


def test_an_unreachable_live_stream_is_one_line_and_writes_nothing(
    workspace: Workspace, tmp_path: Path
) -> None:
    for source, expected in (
        (str(tmp_path / "gone.m3u8"), "file not found"),
        ("https://kick.com/somechannel", "kick.com"),
    ):
        done = subprocess.run(
            watch_command(source),
            capture_output=True,
            text=True,
            env={
                **os.environ,
                "HTTPS_PROXY": "http://127.0.0.1:9",
                "HTTP_PROXY": "http://127.0.0.1:9",
            },
            timeout=120,
        )
        assert done.returncode == 1
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0], lines
    assert workspace.unchanged()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3h", 10800), ("90m", 5400), ("1h30m", 5400), ("1:30:00", 5400), ("45s", 45), ("20", 20)],
)
def test_watch_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "0", "-5m", "1:2:3:4", "h"])
def test_bad_watch_durations_say_what_is_taken(text: str) -> None:
    with pytest.raises(InvalidInput, match="--for takes a duration like 3h"):
        parse_duration(text)


def test_the_rolling_features_keep_only_the_last_minutes() -> None:
    """Pieces laid end to end on one clock; a step between pieces carries the last value; the
    kept length stops growing at ``keep_s``."""
    rolling = RollingFeatures(keep_s=60.0, hop_s=0.5)
    for number in range(40):  # 40 pieces of 5 s, one step left out at each boundary
        values = np.full(9, float(number))
        piece = Features(5.0, audio=FeatureSeries("audio", 0.5, {"rms_db": values}))
        rolling.add(piece, number * 5.0)
    kept = rolling.features()
    assert kept.duration_s == 200.0
    assert len(kept.audio) == 120 and kept.audio.start_s == 139.5  # the last step is to come
    series = kept.audio.values["rms_db"]
    assert not np.isnan(series).any()
    assert series[0] == 27.0  # the step piece 27 left out carries its last value
    assert series[1] == 28.0 and series[-1] == 39.0
