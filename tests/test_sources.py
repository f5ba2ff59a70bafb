"""Sources over the network (loopback only) and the kick.com path up to yt-dlp's extractor."""

from __future__ import annotations

import socket
from pathlib import Path

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
        analysis = pipeline.analyze(server.url("vod.mp4"), Settings(clip_duration=10, min_gap=20))
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
        open_source(server.url("vod.mp4"))


def test_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(SourceUnreachable, match="cannot read"):
            open_source(f"http://127.0.0.1:{port}/vod.mp4")


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
