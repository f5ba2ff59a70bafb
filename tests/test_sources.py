"""Sources over the network (loopback only) and the kick.com path up to yt-dlp's extractor."""

from __future__ import annotations

import socket
from pathlib import Path

import av
import pytest

from kickclip import pipeline
from kickclip.errors import InvalidInput, SourceUnreachable
from kickclip.ingest import open_source
from kickclip.ingest.resolve import by_quality, lowest
from kickclip.ingest.sources import SourceKind, classify
from kickclip.records import Rendition
from kickclip.settings import Settings
from media import make_media
from servers import Server

LAN = Settings(allow_private_addresses=True)  # the test servers listen on 127.0.0.1


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://kick.com/somechannel", SourceKind.KICK_LIVE),
        (
            "https://kick.com/somechannel/videos/0f5c7a4e-1111-2222-3333-444455556666",
            SourceKind.KICK_VOD,
        ),
        ("https://kick.com/somechannel/clips/clip_01HX0ABCDEF", SourceKind.KICK_CLIP),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", SourceKind.SITE),
        ("http://127.0.0.1:8000/master.m3u8", SourceKind.MEDIA_URL),
        ("http://127.0.0.1:8000/vod.mp4", SourceKind.MEDIA_URL),
        ("recordings/stream.mkv", SourceKind.FILE),
    ],
)
def test_classify_offline(url: str, kind: SourceKind) -> None:
    assert classify(url).kind is kind


def test_old_kick_video_form_says_which_form_to_use() -> None:
    with pytest.raises(InvalidInput, match=r"kick.com/<channel>/videos/<uuid>"):
        classify("https://kick.com/video/0f5c7a4e-1111-2222-3333-444455556666")


def test_kick_without_network_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # a closed port: nothing leaves here
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(SourceUnreachable) as raised:
        open_source("https://kick.com/somechannel/videos/0f5c7a4e-1111-2222-3333-444455556666")
    assert str(raised.value).startswith("cannot reach kick.com: ")
    assert "\n" not in str(raised.value)


def test_mp4_over_http_with_range(tmp_path: Path) -> None:
    make_media(tmp_path / "vod.mp4", duration_s=90, bursts=[(40, 43)])
    with Server(tmp_path) as server:
        analysis = pipeline.analyze(
            server.url("vod.mp4"),
            Settings(clip_duration=10, min_gap=20, allow_private_addresses=True),
        )
    assert analysis.duration_s == pytest.approx(90, abs=1)
    assert any(40 <= h.peak_s <= 44 for h in analysis.highlights if h.clip_type == "audio")
    assert all(path == "/vod.mp4" for path, _ in server.requests)
    assert any(header and header.startswith("bytes=") for _, header in server.requests)


@pytest.mark.parametrize(("status", "text"), [(404, "404"), (403, "403")])
def test_http_errors(tmp_path: Path, status: int, text: str) -> None:
    with (
        Server(tmp_path, statuses={"vod.mp4": status}) as server,
        pytest.raises(SourceUnreachable, match=text),
    ):
        open_source(server.url("vod.mp4"), LAN)


def test_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(SourceUnreachable, match="cannot read"):
            open_source(f"http://127.0.0.1:{port}/vod.mp4", LAN)


def test_rendition_choice() -> None:
    renditions = (
        Rendition("low", height=160, bandwidth_bps=300e3),
        Rendition("mid", height=720, bandwidth_bps=3e6),
        Rendition("high", height=1080, bandwidth_bps=6e6),
        Rendition("audio", height=None, has_video=False),
    )
    assert lowest(renditions).url == "low"
    assert by_quality(renditions, "best").url == "high"
    assert by_quality(renditions, "worst").url == "low"
    assert by_quality(renditions, "720p").url == "mid"
    assert by_quality(renditions, "900").url == "mid"
    assert by_quality(renditions, "100p").url == "low"
    with pytest.raises(InvalidInput, match="quality"):
        by_quality(renditions, "ultra")


def test_cli_kick_offline_prints_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {k: v for k, v in __import__("os").environ.items() if "proxy" not in k.lower()}
    env.update(HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    done = subprocess.run(
        [sys.executable, "-m", "kickclip.cli", "analyze", "https://kick.com/somechannel"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot reach kick.com: ")
    assert list(tmp_path.iterdir()) == []


def test_hls_master_reads_low_rendition_and_only_needed_segments(tmp_path: Path) -> None:
    from kickclip.cut import cut_clip
    from servers import make_hls, make_master

    for name, size in (("low", (160, 96)), ("high", (320, 192))):
        make_media(tmp_path / f"{name}.mp4", duration_s=60, size=size, bursts=[(30, 33)])
        make_hls(tmp_path / f"{name}.mp4", tmp_path / name)
    make_master(tmp_path, {"low": (160, 96, 300_000), "high": (320, 192, 900_000)})
    with Server(tmp_path) as server:
        analysis = pipeline.analyze(
            server.url("master.m3u8"),
            Settings(clip_duration=10, min_gap=20, allow_private_addresses=True),
        )
        analysis_reads = {path for path, _ in server.requests}
        server.requests.clear()
        shout = next(h for h in analysis.highlights if h.clip_type == "audio")
        clip = cut_clip(analysis.media, shout, tmp_path / "clips")
        cut_reads = {path for path, _ in server.requests}
    assert 29 <= shout.peak_s <= 34 and analysis.media.width == 160
    assert not any(path.startswith("/high/") for path in analysis_reads)
    assert all(path.startswith("/high/") for path in cut_reads)
    segments = sorted(int(p[-6:-3]) for p in cut_reads if p.endswith(".ts"))
    needed = set(range(int(shout.start_s // 2) - 1, int(shout.end_s // 2) + 2))
    assert set(segments) - {0} <= needed  # segment 0 is read once to find the streams
    assert len(segments) < 30 / 2
    with av.open(str(clip.filepath)) as played:
        assert played.streams.video[0].codec_context.width == 320


def test_live_playlist_is_recorded_for_the_set_time(tmp_path: Path) -> None:
    from media import decode_duration
    from servers import growing_playlist, make_hls

    make_media(tmp_path / "live.mp4", duration_s=40, bursts=[(3, 5)])
    playlist = make_hls(tmp_path / "live.mp4", tmp_path / "live")
    with Server(tmp_path, dynamic={"stream.m3u8": growing_playlist(playlist)}) as server:
        settings = Settings(out=tmp_path / "out", record_minutes=0.1, allow_private_addresses=True)
        media = open_source(server.url("stream.m3u8"), settings)
    recording = Path(media.analysis_url)
    assert media.is_live and media.cut_url == media.analysis_url
    assert recording.parent == tmp_path / "out" / ".recordings" and recording.suffix == ".ts"
    seconds, frames = decode_duration(recording)
    assert 5 <= seconds <= 8 and frames > 0
    assert not list(recording.parent.glob("*.part"))


def test_two_recordings_of_a_live_source_keep_their_own_clips(tmp_path: Path) -> None:
    """Each recording of a live source has a clock of its own (0: when it began), so a second
    generate of the channel cuts what it recorded instead of "reusing" the first one's clips
    at the same offsets; both stand for the same channel (its face-cam)."""
    from servers import growing_playlist, make_hls

    make_media(tmp_path / "live.mp4", duration_s=40, bursts=[(t, t + 1) for t in range(2, 40, 4)])
    playlist = make_hls(tmp_path / "live.mp4", tmp_path / "live")
    settings = Settings(
        out=tmp_path / "out",
        db=tmp_path / "clips.db",
        models_dir=tmp_path / "models",
        record_minutes=0.1,
        clip_duration=3,
        min_gap=2,
        top=1,
        words=False,
        allow_private_addresses=True,
    )
    with Server(tmp_path, dynamic={"stream.m3u8": growing_playlist(playlist)}) as server:
        url = server.url("stream.m3u8")
        first = pipeline.generate(url, settings)
        second = pipeline.generate(url, settings)
    assert len(first.clips) == len(second.clips) == 1
    assert not second.clips[0].reused and second.clips[0].clip_id != first.clips[0].clip_id
    from kickclip.store.clip_manager import ClipManager

    names = [clip.source_url for clip in ClipManager(settings.db).list_clips()]
    assert len(set(names)) == 2 and all(name.startswith(url + "@") for name in names)
    assert {pipeline.channel_of(name) for name in names} == {url}
    assert pipeline.channel_of("kick:somechannel@2026-12-05T19:46:40Z") == (
        "https://kick.com/somechannel"
    )


@pytest.mark.parametrize(
    ("message", "error", "start"),
    [
        (
            "ERROR: [kick:live] somechannel: somechannel is not currently live",
            "NotLive",
            "kick.com: the channel is not live",
        ),
        (
            "ERROR: [kick:vod] abc: This video is only available for subscribers. Use --cookies",
            "LoginRequired",
            "kick.com requires a login",
        ),
        (
            "ERROR: [kick:vod] abc: Unable to download JSON metadata: HTTP Error 404: Not Found",
            "SourceUnreachable",
            "kick.com: not found (HTTP 404)",
        ),
        (
            "ERROR: [kick:vod] abc: Unable to download JSON metadata: HTTP Error 403: Forbidden",
            "SourceUnreachable",
            "kick.com: access denied (HTTP 403)",
        ),
    ],
)
def test_yt_dlp_errors_become_one_readable_line(message: str, error: str, start: str) -> None:
    from kickclip.ingest.resolve import _error_for

    mapped = _error_for("https://kick.com/somechannel", message + "\n(caused by X) See https://x")
    assert type(mapped).__name__ == error
    assert str(mapped).startswith(start) and "\n" not in str(mapped)
    assert "ERROR:" not in str(mapped)


def test_hls_discontinuity_keeps_time_increasing(tmp_path: Path) -> None:
    from servers import make_hls

    make_media(tmp_path / "one.mp4", duration_s=40, seed=1)
    make_media(tmp_path / "two.mp4", duration_s=40, bursts=[(20, 23)], seed=2)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:3",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
    ]
    for number, name in enumerate(("one", "two")):
        playlist = make_hls(tmp_path / f"{name}.mp4", tmp_path / name).read_text().splitlines()
        if number:
            lines.append("#EXT-X-DISCONTINUITY")  # the second encode restarts its timestamps
        for i, line in enumerate(playlist):
            if line.startswith("#EXTINF"):
                lines += [line, f"{name}/{playlist[i + 1]}"]
    lines.append("#EXT-X-ENDLIST")
    (tmp_path / "vod.m3u8").write_text("\n".join(lines) + "\n")
    with Server(tmp_path) as server:
        analysis = pipeline.analyze(
            server.url("vod.m3u8"),
            Settings(clip_duration=10, min_gap=20, allow_private_addresses=True),
        )
    assert analysis.duration_s == pytest.approx(80, abs=3)
    assert any(59 <= h.peak_s <= 64 for h in analysis.highlights if h.clip_type == "audio")
