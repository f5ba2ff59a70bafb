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
from dataclasses import replace
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


KICK_VOD = "https://kick.com/somechannel/videos/0b5c7a8e-1d2f-4a3b-9c8d-7e6f5a4b3c2d"


def test_a_kick_live_and_its_vod_are_one_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    """yt-dlp's info for kick.com/<channel> live and for its VOD name one stream, on one
    clock: Kick's start_time (a live's release_timestamp, a VOD's timestamp)."""
    from yt_dlp import YoutubeDL

    from kickclip.ingest.resolve import resolve

    formats = [{"url": "https://cdn.example/index.m3u8", "height": 720, "vcodec": "avc1"}]
    infos = {
        "https://kick.com/SomeChannel": {
            "extractor_key": "Kick",
            "is_live": True,
            "uploader_id": "somechannel",
            "release_timestamp": 1796500000,  # start_time
            "timestamp": 1796499990,  # created_at: not when the stream began
            "formats": formats,
        },
        KICK_VOD: {"extractor_key": "KickVOD", "timestamp": 1796500000, "formats": formats},
        "https://www.youtube.com/watch?v=x": {"extractor_key": "Youtube", "timestamp": 1},
    }
    monkeypatch.setattr(YoutubeDL, "extract_info", lambda self, url, download: infos[url])
    live = resolve("https://kick.com/SomeChannel", allow_private=True)
    vod = resolve(KICK_VOD, allow_private=True)
    assert live.stream == vod.stream == "kick:somechannel@2026-12-05T19:46:40Z"
    assert live.started_at == vod.started_at and live.is_live and not vod.is_live
    infos["https://www.youtube.com/watch?v=x"]["formats"] = formats
    other = resolve("https://www.youtube.com/watch?v=x", allow_private=True)
    assert other.stream is None and other.started_at is None


def test_a_kick_vod_reuses_what_a_watch_of_its_stream_clipped(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A watch that joins a Kick stream 35 s after it began stores its clip on the stream's
    clock under the stream's name; generate of the VOD (another address) reuses it. The
    watch ends when Kick says the channel is offline."""
    from datetime import UTC, datetime

    from kickclip import pipeline
    from kickclip import watch as watching
    from kickclip.chat import kick
    from kickclip.errors import NotLive
    from kickclip.ingest import resolve
    from kickclip.records import Rendition
    from kickclip.settings import Settings
    from kickclip.watch import Watch

    moment_s = 42.0
    source = make_media(
        tmp_path / "stream.mp4", duration_s=75, size=(320, 180), bursts=[(moment_s, 44.5)]
    )
    vod = make_hls(source, tmp_path / "vod", segment_s=5)
    live = LivePlaylist(vod, pace_s=5)
    monkeypatch.setattr(kick, "KICK_BASE_URL", "http://127.0.0.1:9")  # no chat: nothing there
    settings = Settings(
        db=workspace.db,
        out=workspace.out,
        models_dir=workspace.models,
        words=False,
        allow_private_addresses=True,
    )
    with Server(tmp_path, dynamic={"stream.m3u8": live.render}) as server:
        began = datetime.fromtimestamp(round(live.start(ago_s=35)), UTC)
        stream = resolve.stream_name("somechannel", began)

        def fake_resolve(url: str, **_: object) -> resolve.Resolved:
            is_live = url == "https://kick.com/somechannel"
            if is_live and live.elapsed() >= len(live.segments) * 5:
                raise NotLive("kick.com: the channel is not live right now")
            where = server.url("stream.m3u8" if is_live else "vod/index.m3u8")
            renditions = (Rendition(where, height=180, has_audio=True, has_video=True),)
            return resolve.Resolved("a stream", is_live, renditions, {}, None, began, stream)

        monkeypatch.setattr(resolve, "resolve", fake_resolve)
        monkeypatch.setattr(watching, "OFFLINE_S", 0.0)
        watch = Watch("https://kick.com/somechannel", settings, min_score=0.5)
        watched = watch.run(threading.Event())
        assert watched.ended_by == "stream end" and len(watched.clips) == 1, watched
        clip = watched.clips[0].clip
        # On the stream's clock, not the watch's: its second 0 was 20-35 s into the stream
        # (FFmpeg joins a live playlist 3 segments before its end).
        assert clip.cut.start_s <= moment_s + 1 <= clip.cut.end_s, clip.cut
        assert 18 <= watch.stream_clock() <= 37, watch.stream_clock()
        with sqlite3.connect(workspace.db) as db:
            stored = db.execute("SELECT source_url FROM clips").fetchall()
        assert stored == [(stream,)]

        found = pipeline.generate(KICK_VOD, replace(settings, top=1))
    assert [c.clip_id for c in found.clips] == [clip.clip_id]
    assert found.clips[0].reused
    # The watch placed the moment where the VOD's detector finds it, within a segment.
    off_s = clip.highlight.peak_s - found.clips[0].highlight.peak_s
    print(f"the watch's clock against the VOD's: {off_s:+.2f} s")
    assert abs(off_s) <= 5, off_s


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


def test_moments_in_a_watch_first_minute_and_in_a_dense_stream_are_clipped(
    workspace: Workspace, tmp_path: Path
) -> None:
    """What is ordinary is judged over at least 3 minutes, filled out at the detector's floor:
    a shout 20 s into a watch, and shouts a tenth of a short stream apart, are not counted as
    ordinary against themselves (they scored 0.35 each and made no clip before)."""
    source = make_media(
        tmp_path / "short.mp4", duration_s=90, bursts=[(20, 22.5), (45, 47.5), (70, 72.5)]
    )
    done = subprocess.run(
        watch_command(str(source), "--json", "--no-words", "--min-gap", "20"),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    clips = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(clips) == 3, done.stderr
    for moment_s, clip in zip((20, 45, 70), sorted(clips, key=lambda c: c["start"]), strict=True):
        assert clip["start"] <= moment_s + 1 <= clip["end"] and clip["score"] >= 0.6, clip


@pytest.mark.parametrize(
    ("detector", "stars", "clipped"),
    [
        (0.62, None, True),  # no taste: the detector's score against the bar
        (0.55, None, False),
        (0.62, 3.0, True),  # blended under the bar (0.54), but clear and not disliked
        (0.62, 2.0, False),  # clear, but disliked
        (0.55, 5.0, True),  # under the bar alone, lifted by the taste
        (0.55, 3.0, False),  # neither clear nor lifted
    ],
)
def test_a_live_moment_clears_the_bar_by_the_detector_and_the_taste(
    detector: float, stars: float | None, clipped: bool
) -> None:
    from kickclip.records import Highlight
    from kickclip.rescore import blend
    from kickclip.watch import MIN_SCORE, to_clip

    moment = Highlight(10.0, 30.0, 20.0, detector, "audio", {"loudness": 1.0})
    predict = None if stars is None else (lambda features, clip_type: (stars - 1) / 4)
    if predict is not None:
        (moment,) = blend([moment], predict, n_ratings=50)
        assert moment.heuristic_score == detector and moment.score != detector
    clip = to_clip(moment, MIN_SCORE, predict)
    assert (clip is not None) is clipped
    if clip is not None:  # a clip under the bar says why it was kept
        kept = f"kept: the detector alone scores {detector:.2f}"
        assert (kept in clip.reason) is (moment.score < MIN_SCORE), clip.reason


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
