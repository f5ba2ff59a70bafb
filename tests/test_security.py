"""What a source may read: local files only in their folder, no internal address unless
asked, no credential shown or stored, and limits with a clear message (issue 20).

Every server here listens on 127.0.0.1. Tests of the refusal run without the opt-in the rest
of the suite has (conftest); tests of what a public playlist may lead to pretend 127.0.0.1 is
public, so only the addresses it names are internal.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kickclip.chat.formats import read_chat
from kickclip.cli import app
from kickclip.errors import ChatError, SourceError
from kickclip.ingest import fetch, open_source
from kickclip.ingest.fetch import Access, PrivateAddress
from kickclip.ingest.resolve import hls_renditions
from kickclip.settings import Settings
from media import make_media
from servers import Server, make_hls

LAN = Settings(allow_private_addresses=True)
PRIVATE_ENV = "KICKCLIP_ALLOW_PRIVATE_ADDRESSES"


@pytest.fixture
def no_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PRIVATE_ENV, raising=False)


@pytest.fixture
def loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test server stands for a public CDN; every other internal address stays one."""
    real = fetch.internal_kind
    monkeypatch.setattr(
        fetch, "internal_kind", lambda address: None if address == "127.0.0.1" else real(address)
    )


@pytest.fixture(scope="module")
def vod(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vod")
    make_media(root / "vod.mp4", duration_s=12, bursts=[(4, 6)])
    make_hls(root / "vod.mp4", root / "hls")
    return root


# --- 1. local files only inside their folder -------------------------------------------------
@pytest.mark.parametrize(
    ("name", "entry"),
    [
        ("list.m3u8", "{outside}"),  # an absolute path elsewhere
        ("list.m3u8", "../elsewhere/secret.ts"),  # up and out
        ("list.m3u8", "file://{outside}"),
        ("upload.mp4", "{outside}"),  # a playlist by its content, whatever its name
    ],
)
def test_a_local_playlist_reads_only_its_own_folder(
    tmp_path: Path, vod: Path, name: str, entry: str
) -> None:
    outside = tmp_path / "elsewhere" / "secret.ts"
    outside.parent.mkdir()
    outside.write_bytes((vod / "hls" / "seg000.ts").read_bytes())
    folder = tmp_path / "upload"
    folder.mkdir()
    lines = (vod / "hls" / "index.m3u8").read_text().splitlines()
    text = "\n".join(
        entry.format(outside=outside) if line.startswith("seg") else line for line in lines
    )
    (folder / name).write_text(text + "\n")
    with pytest.raises(SourceError, match="outside the folder") as raised:
        open_source(str(folder / name))
    assert "\n" not in str(raised.value)


def test_a_local_playlist_with_its_segments_beside_it_opens(vod: Path) -> None:
    media = open_source(str(vod / "hls" / "index.m3u8"))
    assert media.duration_s == pytest.approx(12, abs=1) and not media.is_live


# --- 3. no internal address unless asked -----------------------------------------------------
@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("http://127.0.0.1:{port}/vod.mp4", "127.0.0.1 is a loopback address"),
        ("http://localhost:{port}/hls/index.m3u8", "loopback address"),
        ("http://169.254.169.254/latest/meta-data/x.mp4", "169.254.169.254 is a link-local"),
        ("http://10.0.0.7/vod.mp4", "10.0.0.7 is a private address"),
        ("http://[::1]:{port}/vod.mp4", "::1 is a loopback address"),
        ("http://224.0.0.1/vod.m3u8", "224.0.0.1 is a multicast address"),
    ],
)
def test_internal_addresses_are_refused_without_the_opt_in(vod: Path, url: str, named: str) -> None:
    with Server(vod) as server:
        port = server.url("").rsplit(":", 1)[1].strip("/")
        started = time.monotonic()
        with pytest.raises(PrivateAddress, match=named) as raised:
            open_source(url.format(port=port))
        assert server.requests == []  # refused before connecting
    assert time.monotonic() - started < 5 and "--allow-private-addresses" in str(raised.value)


def test_the_cli_refuses_then_reads_with_the_flag(
    vod: Path, workspace: object, no_opt_in: None
) -> None:
    with Server(vod) as server:
        url = server.url("vod.mp4")
        refused = CliRunner().invoke(app, ["analyze", url, "--json"])
        allowed = CliRunner().invoke(app, ["analyze", url, "--json", "--allow-private-addresses"])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert refused.stderr.strip().splitlines() == [
        "Error: refused: 127.0.0.1 is a loopback address; pass --allow-private-addresses (or "
        f"set {PRIVATE_ENV}=1) to read a server on your own network"
    ]
    assert allowed.exit_code == 0 and json.loads(allowed.stdout)["duration"] > 10


def _redirecting(location: str) -> ThreadingHTTPServer:
    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


@pytest.mark.parametrize(
    "lead",
    ["redirect", "variant", "segment", "key"],
)
def test_what_a_public_source_leads_to_is_checked_too(
    tmp_path: Path, vod: Path, loopback_is_public: None, lead: str
) -> None:
    """A redirect, a master's variant, a segment or an AES key at an internal address."""
    internal = {
        "redirect": "http://169.254.169.254/latest/vod.mp4",
        "variant": "http://10.0.0.7/low/index.m3u8",
        "segment": "http://192.168.1.20/seg001.ts",
        "key": "http://172.16.0.3/key.bin",
    }[lead]
    root = tmp_path / "site"
    root.mkdir()
    lines = (vod / "hls" / "index.m3u8").read_text().splitlines()
    (root / "hls").symlink_to(vod / "hls")
    if lead == "variant":
        (root / "master.m3u8").write_text(
            f"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=160x96\n{internal}\n"
        )
        name = "master.m3u8"
    else:
        body = []
        for line in lines:
            if lead == "segment" and line == "seg001.ts":
                line = internal
            elif line.startswith("seg"):
                line = f"hls/{line}"
            if (
                lead == "key"
                and line.startswith("#EXTINF")
                and not body[-1].startswith("#EXT-X-KEY")
            ):
                body.append(f'#EXT-X-KEY:METHOD=AES-128,URI="{internal}"')
            body.append(line)
        (root / "list.m3u8").write_text("\n".join(body) + "\n")
        name = "list.m3u8"
    settings = Settings(out=tmp_path / "out")
    with Server(root) as server:
        source = server.url(name)
        if lead == "redirect":
            httpd = _redirecting(internal)
            source = f"http://127.0.0.1:{httpd.server_port}/vod.mp4"
        try:
            from kickclip import pipeline

            with pytest.raises(PrivateAddress, match=internal.split("/")[2]):
                pipeline.analyze(source, settings)
        finally:
            if lead == "redirect":
                httpd.shutdown()


def test_credentials_in_a_url_are_used_but_never_shown_or_stored(
    vod: Path, workspace: object
) -> None:
    with Server(vod) as server:
        url = server.url("vod.mp4").replace("http://", "http://ana:s3cret@")
        result = CliRunner().invoke(app, ["generate", url, "--clip-duration", "4", "--json"])
        missing = CliRunner().invoke(app, ["analyze", url.replace("vod.mp4", "gone.mp4")])
    assert result.exit_code == 0 and json.loads(result.stdout)["highlights"]
    assert missing.exit_code == 1 and "gone.mp4" in missing.stderr
    written = [workspace.db, *workspace.out.rglob("*")]  # type: ignore[attr-defined]
    for output in (result.stdout, result.stderr, missing.stdout, missing.stderr):
        assert "s3cret" not in output and "ana:" not in output
    for path in written:
        if path.is_file():
            assert b"s3cret" not in path.read_bytes(), path


# --- 4. limits with a clear message ------------------------------------------------------------
def test_a_playlist_too_large_is_refused_by_name(tmp_path: Path) -> None:
    segments = "".join(f"#EXTINF:2.0,\nseg{n:07d}.ts\n" for n in range(1_000_000))
    (tmp_path / "huge.m3u8").write_text("#EXTM3U\n#EXT-X-TARGETDURATION:2\n" + segments)
    with Server(tmp_path) as server, pytest.raises(SourceError, match="larger than 16 MB"):
        hls_renditions(server.url("huge.m3u8"), Access(allow_private=True))


def test_a_vod_playlist_over_a_megabyte_is_still_a_vod(tmp_path: Path) -> None:
    """Read whole: ``#EXT-X-ENDLIST`` after the first megabyte still makes it a VOD."""
    segments = "".join(f"#EXTINF:2.0,\nsegment-{n:06d}.ts\n" for n in range(40_000))
    text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n" + segments + "#EXT-X-ENDLIST\n"
    assert len(text) > 1_000_000
    (tmp_path / "long.m3u8").write_text(text)
    (tmp_path / "live.m3u8").write_text(text.replace("#EXT-X-ENDLIST\n", ""))
    with Server(tmp_path) as server:
        _, long_is_live = hls_renditions(server.url("long.m3u8"), Access(allow_private=True))
        _, live_is_live = hls_renditions(server.url("live.m3u8"), Access(allow_private=True))
    assert (long_is_live, live_is_live) == (False, True)


def _endless(chunk: bytes) -> ThreadingHTTPServer:
    """An HTTP stream that never ends: the same MPEG-TS bytes again and again, no length."""

    class Endless(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "video/mp2t")
            self.end_headers()
            try:
                while True:
                    self.wfile.write(chunk)
                    time.sleep(0.2)
            except OSError:
                return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Endless)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def test_a_stream_that_never_ends_is_recorded_for_the_set_time(tmp_path: Path, vod: Path) -> None:
    from kickclip import pipeline

    httpd = _endless(
        (vod / "hls" / "seg000.ts").read_bytes() + (vod / "hls" / "seg001.ts").read_bytes()
    )
    try:
        settings = LAN.replace(out=tmp_path / "out", record_minutes=0.1, clip_duration=3)
        started = time.monotonic()
        analysis = pipeline.analyze(f"http://127.0.0.1:{httpd.server_port}/tv.ts", settings)
    finally:
        httpd.shutdown()
    assert time.monotonic() - started < 60
    assert analysis.media.is_live and 3 <= analysis.duration_s <= 12
    assert any("no end" in warning for warning in analysis.warnings)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (
            '{"t": 1, "user": "a", "text": ' + "[" * 50_000 + "]" * 50_000 + "}\n",
            "nested too deeply",
        ),
        ("t,user,text\n1,ana," + "x" * 200_000 + "\n", "not a chat log"),
    ],
    ids=["nested-array", "nested-line", "csv-field-over-128kb"],
)
def test_hostile_chat_files_get_one_line(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "chat.json"
    path.write_text(content)
    with pytest.raises(ChatError, match=words) as raised:
        read_chat(path)
    assert "\n" not in str(raised.value)


def test_a_chat_file_over_the_size_limit_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kickclip.chat import formats

    monkeypatch.setattr(formats, "MAX_CHAT_BYTES", 1000)
    path = tmp_path / "chat.jsonl"
    path.write_text('{"t": 1, "user": "a", "text": "' + "x" * 2000 + '"}\n')
    with pytest.raises(ChatError, match="larger than 0 MB"):
        read_chat(path)


# --- 2 and 3 in the web UI: what it serves, who deletes, what it fetches --------------------
@pytest.fixture
def library(tmp_path: Path, vod: Path) -> Settings:
    from kickclip import pipeline

    settings = Settings(
        db=tmp_path / "clips.db", out=tmp_path / "clips", clip_duration=4, media_dir=vod
    )
    pipeline.generate(str(vod / "vod.mp4"), settings)
    return settings


def test_the_gallery_shows_no_thumbnail_from_outside_the_clips_folder(
    tmp_path: Path, library: Settings
) -> None:
    from kickclip.store.clip_manager import ClipManager
    from kickclip.webui import browse_tab

    victim = tmp_path / "elsewhere" / "victim.jpg"
    victim.parent.mkdir()
    victim.write_bytes(b"\xff\xd8 a private picture")
    linked = library.out / "linked"
    linked.symlink_to(victim.parent)
    manager = ClipManager(library.db)
    for path in (victim.with_suffix(".mp4"), linked / "victim.mp4"):
        path.with_suffix(".mp4").write_bytes(b"not ours")
        manager.register_clip(
            filepath=path, start_time=0, end_time=4, score=0.5, clip_type="audio", features={}
        )
    gallery, _, _ = browse_tab.refresh_gallery(library)
    shown = [Path(image).resolve() for image, _ in gallery]
    assert shown and victim.resolve() not in shown
    assert all(image.is_relative_to(library.out.resolve()) for image in shown)


@pytest.mark.parametrize(
    ("login", "admins", "allowed"),
    [("bo", ("ana",), False), ("bo", (), False), ("ana", ("ana",), True), (None, (), False)],
)
def test_with_several_logins_only_an_admin_deletes(
    library: Settings, login: str | None, admins: tuple[str, ...], allowed: bool
) -> None:
    from types import SimpleNamespace

    import gradio as gr

    from kickclip.webui import app

    with app.build_app(library, per_user=True, admins=admins) as blocks:
        delete = next(
            fn for fn in blocks.fns.values() if getattr(fn, "api_name", None) == "delete"
        ).fn
    from kickclip.store.clip_manager import ClipManager

    manager = ClipManager(library.db)
    first = manager.list_clips(limit=1)[0]
    request = SimpleNamespace(username=login, session_hash="s")
    if allowed:
        *_, status = delete(f"#{first.id}", None, request)
        assert status == f"Deleted clip #{first.id}"
    else:
        with pytest.raises(gr.Error, match=r"admin|can delete"):
            delete(f"#{first.id}", None, request)
        assert manager.get_clip(first.id).filepath == first.filepath


def test_the_web_ui_refuses_internal_addresses_without_the_opt_in(library: Settings) -> None:
    import gradio as gr

    from kickclip.webui import generate_tab

    quiet = {"progress": lambda *a, **k: None}
    for url in ("http://169.254.169.254/latest/x.mp4", "http://10.1.2.3:8080/a.m3u8"):
        with pytest.raises(gr.Error, match=r"refused: .* address"):
            generate_tab.analyze(library, url, None, 8, 10, 5, "best", **quiet)
