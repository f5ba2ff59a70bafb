"""What a pasted SOURCE may be (issue 11, item 1): forms, schemes, FFmpeg's protocol whitelist.

Everything here stays on loopback: kick.com is tried through a closed loopback proxy.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from kickclip.errors import InvalidInput, KickclipError, SourceError, SourceUnreachable
from kickclip.ingest import open_source
from kickclip.ingest.probe import open_media
from kickclip.ingest.sources import SourceKind, classify
from kickclip.settings import Settings
from media import make_media
from servers import Server, make_hls, make_master

LAN = Settings(allow_private_addresses=True)  # the test servers listen on 127.0.0.1

UUID = "0f5c7a4e-1111-2222-3333-444455556666"
CLOSED_PROXY = "http://127.0.0.1:9"  # nothing listens there: nothing leaves the machine


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, CLOSED_PROXY)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)


@contextmanager
def watched_fifo(path: Path) -> Iterator[list[int]]:
    """A named pipe at ``path``; the list gets an entry whenever anything opens it to read."""
    os.mkfifo(path)
    opened: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # succeeds only with a reader
            except OSError:
                time.sleep(0.005)
                continue
            opened.append(1)
            with suppress(OSError):
                os.write(fd, b"secret\n" * 100)
            os.close(fd)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield opened
    finally:
        stop.set()
        thread.join(2)


@contextmanager
def listener() -> Iterator[tuple[int, socket.socket]]:
    """A loopback TCP port that listens but never answers (connections wait in its backlog)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1], sock


def connected(sock: socket.socket) -> bool:
    sock.settimeout(0.2)
    try:
        sock.accept()[0].close()
    except TimeoutError:
        return False
    return True


# --- forms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "url"),
    [
        ("kick.com/xqc", SourceKind.KICK_LIVE, "https://kick.com/xqc"),
        ("www.kick.com/xqc", SourceKind.KICK_LIVE, "https://www.kick.com/xqc"),
        ("Kick.Com/xqc/", SourceKind.KICK_LIVE, "https://kick.com/xqc/"),
        ("HTTPS://KICK.COM/xqc", SourceKind.KICK_LIVE, "https://kick.com/xqc"),
        ("HTTPS://KICK.COM/XQC", SourceKind.KICK_LIVE, "https://kick.com/XQC"),
        ("kick.com/xqc/videos/" + UUID, SourceKind.KICK_VOD, "https://kick.com/xqc/videos/" + UUID),
        (
            "https://kick.com/xqc/videos/" + UUID.upper(),
            SourceKind.KICK_VOD,
            "https://kick.com/xqc/videos/" + UUID,
        ),
        (
            "Https://Kick.com/xqc/clips/clip_01HX0ABCDEF",
            SourceKind.KICK_CLIP,
            "https://kick.com/xqc/clips/clip_01HX0ABCDEF",
        ),
        ("HTTP://127.0.0.1:8000/Vod.MP4", SourceKind.MEDIA_URL, "http://127.0.0.1:8000/Vod.MP4"),
        ("HTTPS://WWW.YOUTUBE.COM/watch?v=dQw4w9WgXcQ", SourceKind.SITE, None),
    ],
)
def test_forms_a_user_pastes(text: str, kind: SourceKind, url: str | None) -> None:
    source = classify(text)
    assert source.kind is kind
    if url is not None:
        assert source.text == url


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("kick.com/xqc/videos/not-a-uuid", ['"not-a-uuid" is not a kick.com video id']),
        ("https://kick.com/xqc/videos/" + UUID[:-1], [f'"{UUID[:-1]}" is not a kick.com video']),
        ("https://kick.com/xqc/videos/" + UUID + "x", ["is not a kick.com video id"]),
        ("https://kick.com/xqc/clips/notaclip", ['"notaclip" is not a kick.com clip id']),
        ("kick.com/xqc/videos", ["is a list of videos", "paste its address"]),
        ("https://kick.com/xqc/videos/", ["is a list of videos"]),
        ("https://kick.com/xqc/clips", ["is a list of clips", "paste its address"]),
        ("https://kick.com/xqc/about", ["not a kick.com stream address"]),
        ("kick.com", ["not a kick.com stream address"]),
        ("https://kick.com/categories", ["not a kick.com stream address"]),
    ],
)
def test_kick_addresses_that_are_not_one_stream_are_refused(text: str, words: list[str]) -> None:
    with pytest.raises(InvalidInput) as raised:
        classify(text)
    for word in words:
        assert word in str(raised.value)
    assert "\n" not in str(raised.value)


def test_kick_without_a_scheme_is_kick_not_a_file(offline: None) -> None:
    with pytest.raises(SourceUnreachable) as raised:
        open_source("kick.com/somechannel")
    assert str(raised.value).startswith("cannot reach kick.com: ")


def test_a_relative_local_path_still_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "rec").mkdir()
    make_media(tmp_path / "rec" / "stream.mkv", duration_s=4)
    monkeypatch.chdir(tmp_path)
    media = open_source("rec/stream.mkv")
    assert media.source == "rec/stream.mkv" and media.duration_s == pytest.approx(4, abs=0.5)
    with pytest.raises(SourceError, match=r"file not found: rec/missing\.mkv"):
        open_source("rec/missing.mkv")


def test_a_local_file_named_like_a_protocol_is_read_as_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_media(tmp_path / "plain.mp4", duration_s=3)
    os.rename(tmp_path / "plain.mp4", tmp_path / "concat:odd name.mp4")
    monkeypatch.chdir(tmp_path)
    media = open_source("concat:odd name.mp4")
    assert media.duration_s == pytest.approx(3, abs=0.5)


# --- schemes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "scheme"),
    [
        ("ftp://127.0.0.1:{port}/xqc", "ftp"),
        ("FTP://127.0.0.1:{port}/xqc", "ftp"),
        ("tcp://127.0.0.1:{port}", "tcp"),
        ("rtmp://127.0.0.1:{port}/live/xqc", "rtmp"),
        ("tls://127.0.0.1:{port}", "tls"),
        ("gopher://127.0.0.1:{port}/x", "gopher"),
    ],
)
def test_other_schemes_are_refused_before_any_connection(template: str, scheme: str) -> None:
    with listener() as (port, sock):
        started = time.monotonic()
        with pytest.raises(InvalidInput) as raised:
            open_source(template.format(port=port))
        assert not connected(sock)
    message = str(raised.value)
    assert message.startswith(f"{scheme}: addresses are not read") and "\n" not in message
    assert time.monotonic() - started < 2


def test_udp_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^udp: addresses are not read"):
        open_source("udp://127.0.0.1:45123")


@pytest.mark.parametrize(
    "template",
    [
        "file://{path}",
        "file:{path}",
        "concat:{path}|{path}",
        "subfile,,start,0,end,100,,:{path}",
        "data:text/plain,hello",
    ],
)
def test_local_file_protocols_are_refused_without_reading(tmp_path: Path, template: str) -> None:
    secret = tmp_path / "secret.ts"
    with watched_fifo(secret) as opened:
        with pytest.raises(InvalidInput) as raised:
            open_source(template.format(path=secret))
        time.sleep(0.05)
    scheme = template.split(":")[0].split(",")[0]
    assert str(raised.value).startswith(f"{scheme}: addresses are not read")
    assert opened == []


def test_the_media_opener_refuses_other_schemes_too(tmp_path: Path) -> None:
    """cut and analyze read through ``open_media``: a stored ``cut_url`` cannot slip through."""
    with pytest.raises(InvalidInput, match=r"^concat: addresses are not read"):
        open_media(f"concat:{tmp_path / 'a.mp4'}")


# --- FFmpeg's protocol whitelist and remote playlists ---------------------------------------


def _playlist_with(folder: Path, entry: str, *, good_first: int) -> str:
    """``evil.m3u8``: a real VOD playlist whose segments after ``good_first`` are ``entry``."""
    make_media(folder / "a.mp4", duration_s=12)
    lines = make_hls(folder / "a.mp4", folder / "hls").read_text().splitlines()
    out, seen = [], 0
    for line in lines:
        if line.startswith("seg"):
            out.append(f"hls/{line}" if seen < good_first else entry)
            seen += 1
        else:
            out.append(line)
    (folder / "evil.m3u8").write_text("\n".join(out) + "\n")
    return "evil.m3u8"


@pytest.mark.parametrize("good_first", [0, 2])
@pytest.mark.parametrize(
    ("template", "scheme"),
    [
        ("file://{path}", "file"),
        ("concat:{path}", "concat"),
        ("subfile,,start,0,end,100,,:{path}", "subfile"),
    ],
)
def test_remote_playlist_cannot_pull_local_files(
    tmp_path: Path, template: str, scheme: str, good_first: int
) -> None:
    secret = tmp_path / "secret.ts"
    name = _playlist_with(tmp_path, template.format(path=secret), good_first=good_first)
    with watched_fifo(secret) as opened, Server(tmp_path) as server:
        with pytest.raises(SourceError) as raised:
            open_source(server.url(name), LAN)
        time.sleep(0.05)
    message = str(raised.value)
    assert f"names a {scheme}: entry" in message and "only http and https" in message
    assert opened == []


def test_variant_playlist_cannot_pull_local_files_either(tmp_path: Path) -> None:
    """The master is checked by kickclip; the variant FFmpeg reads only through the whitelist."""
    secret = tmp_path / "secret.ts"
    _playlist_with(tmp_path, f"file://{secret}", good_first=0)
    (tmp_path / "low").mkdir()
    (tmp_path / "evil.m3u8").rename(tmp_path / "low" / "index.m3u8")
    (tmp_path / "low" / "hls").symlink_to(tmp_path / "hls")
    make_master(tmp_path, {"low": (160, 96, 300_000)})
    with watched_fifo(secret) as opened, Server(tmp_path) as server:
        with pytest.raises(SourceError):
            open_source(server.url("master.m3u8"), LAN)
        time.sleep(0.05)
    assert opened == []


def test_master_playlist_naming_a_local_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.m3u8"
    (tmp_path / "master.m3u8").write_text(
        f"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=160x96\nfile://{secret}\n"
    )
    with watched_fifo(secret) as opened, Server(tmp_path) as server:
        with pytest.raises(SourceError, match=r"names a file: entry"):
            open_source(server.url("master.m3u8"), LAN)
        time.sleep(0.05)
    assert opened == []


def test_remote_sdp_does_not_open_udp_sockets(tmp_path: Path) -> None:
    """Without the whitelist FFmpeg binds the SDP's UDP ports and waits for RTP packets."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "s.sdp").write_text(
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=video {port} RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    )
    with Server(tmp_path) as server:
        started = time.monotonic()
        with pytest.raises(SourceError):
            open_source(server.url("s.sdp"), LAN)
    assert time.monotonic() - started < 3


def test_normal_loopback_hls_still_opens(tmp_path: Path) -> None:
    make_media(tmp_path / "a.mp4", duration_s=12)
    make_hls(tmp_path / "a.mp4", tmp_path / "hls")
    with Server(tmp_path) as server:
        media = open_source(server.url("hls/index.m3u8"), LAN)
    assert media.duration_s == pytest.approx(12, abs=1) and media.has_video


# --- one short line ------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "make",
    [
        lambda: f"http://127.0.0.1:{_closed_port()}/" + "a" * 2000 + ".mp4",
        lambda: "ftp://example.com/" + "b" * 2000,
        lambda: "/no/such/" + "c" * 200 + "/" + "d" * 200 + ".mp4",
        lambda: "kick.com/somechannel/videos/" + "e" * 2000,
        lambda: "https://kick.com/" + "f" * 2000,
        lambda: "https://kick.com/xqc/" + "g" * 2000,
    ],
)
def test_error_lines_are_capped(make, offline: None) -> None:
    with pytest.raises(KickclipError) as raised:
        open_source(make(), LAN)
    message = str(raised.value)
    assert len(message) <= 200 and "…" in message and "\n" not in message


def test_cli_error_line_for_a_2000_character_url_is_short(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(HTTPS_PROXY=CLOSED_PROXY, HTTP_PROXY=CLOSED_PROXY)
    url = f"http://127.0.0.1:{_closed_port()}/" + "x" * 2000 + ".mp4"
    done = subprocess.run(
        [sys.executable, "-m", "kickclip.cli", "analyze", url],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1
    assert lines[0].startswith("Error: cannot read http://127.0.0.1:") and len(lines[0]) <= 210
