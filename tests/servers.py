"""Loopback HTTP servers for tests: a folder served with Range support and a request log, and
a fake JSON API (``FakeApi``) whose subclasses answer each path."""

from __future__ import annotations

import contextlib
import io
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Server:
    """``with Server(folder) as server:`` → ``server.url("a.mp4")``, ``server.requests``."""

    def __init__(
        self,
        folder: Path,
        *,
        statuses: dict[str, int] | None = None,
        dynamic: dict[str, Callable[[], bytes]] | None = None,
    ) -> None:
        self.folder = folder
        self.statuses = statuses or {}
        self.dynamic = dynamic or {}  # name → content made at request time (live playlists)
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self._lock = threading.Lock()
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(folder), **kwargs)

            def log_message(self, *args):  # keep test output clean
                pass

            def send_head(self):
                with server._lock:
                    server.requests.append((self.path, self.headers.get("Range")))
                name = self.path.lstrip("/")
                if name in server.statuses:
                    self.send_error(server.statuses[name])
                    return None
                if name in server.dynamic:
                    body = server.dynamic[name]()
                    self.send_response(HTTPStatus.OK)
                    self.send_header("Content-Type", "application/vnd.apple.mpegurl")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self._remaining = len(body)
                    return io.BytesIO(body)
                path = folder / name
                if not path.is_file():
                    self.send_error(HTTPStatus.NOT_FOUND)
                    return None
                size = path.stat().st_size
                start, end = 0, size - 1
                ranged = self.headers.get("Range", "")
                if ranged.startswith("bytes="):
                    first, _, last = ranged[6:].partition("-")
                    start = int(first or 0)
                    end = min(int(last), size - 1) if last else size - 1
                handle = path.open("rb")
                handle.seek(start)
                self.send_response(HTTPStatus.PARTIAL_CONTENT if ranged else HTTPStatus.OK)
                self.send_header("Content-Type", self.guess_type(str(path)))
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(end - start + 1))
                if ranged:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                self.end_headers()
                self._remaining = end - start + 1
                return handle

            def copyfile(self, source, outputfile):
                remaining = self._remaining
                while remaining > 0:
                    chunk = source.read(min(65536, remaining))
                    if not chunk:
                        break
                    try:
                        outputfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        break
                    remaining -= len(chunk)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}/{name}"

    def __enter__(self) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class FakeApi(ABC):
    """``with SomeApi() as api:`` → ``api.base_url``, ``api.requests`` (paths, in order).
    Subclasses answer ``reply(path) -> (status, body)`` or ``(status, body, content_type)``;
    when ``reply`` runs, the request is already in ``requests``."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                fake.requests.append(self.path)
                status, body, *kind = fake.reply(self.path)
                self.send_response(status)
                self.send_header("Content-Type", kind[0] if kind else "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @abstractmethod
    def reply(self, path: str) -> tuple: ...

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def make_hls(source: Path, folder: Path, *, segment_s: float = 2.0) -> Path:
    """Remux ``source`` into ``folder/index.m3u8`` + ``segNNN.ts`` (a VOD media playlist)."""
    import av

    folder.mkdir(parents=True, exist_ok=True)
    options = {
        "hls_time": str(segment_s),
        "hls_list_size": "0",
        "hls_playlist_type": "vod",
        "hls_segment_filename": str(folder / "seg%03d.ts"),
    }
    with (
        av.open(str(source)) as src,
        av.open(str(folder / "index.m3u8"), "w", format="hls", options=options) as out,
    ):
        streams = {s.index: out.add_stream_from_template(s) for s in src.streams}
        for packet in src.demux():
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    return folder / "index.m3u8"


def make_master(root: Path, variants: dict[str, tuple[int, int, int]]) -> Path:
    """``master.m3u8`` listing ``name/index.m3u8`` for each name → (width, height, bandwidth)."""
    lines = ["#EXTM3U"]
    for name, (width, height, bandwidth) in variants.items():
        lines += [
            f"#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},RESOLUTION={width}x{height},"
            f'CODECS="avc1.42c01e,mp4a.40.2"',
            f"{name}/index.m3u8",
        ]
    (root / "master.m3u8").write_text("\n".join(lines) + "\n")
    return root / "master.m3u8"


def growing_playlist(
    media_playlist: Path, *, segment_s: float = 2.0, start_segments: int = 2
) -> Callable[[], bytes]:
    """A live view of a VOD playlist: one more segment every ``segment_s``, no ENDLIST."""
    lines = media_playlist.read_text().splitlines()
    segments = [
        (lines[i], lines[i + 1]) for i, line in enumerate(lines) if line.startswith("#EXTINF")
    ]
    started = time.monotonic()

    def render() -> bytes:
        available = start_segments + int((time.monotonic() - started) / segment_s)
        shown = segments[:available]
        head = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{int(segment_s) + 1}",
            "#EXT-X-MEDIA-SEQUENCE:0",
        ]
        body = [f"{info}\n{media_playlist.parent.name}/{uri}" for info, uri in shown]
        return ("\n".join(head + body) + "\n").encode()

    return render


class LivePlaylist:
    """A VOD playlist shown as a live one: segment i appears once ``(i + 1) * pace_s`` have
    passed since ``start()`` (as a live encoder publishes it), ENDLIST once all are out;
    ``outage(a, b)`` answers 503 to everything from ``a`` to ``b`` seconds."""

    def __init__(self, media_playlist: Path, *, pace_s: float = 10.0) -> None:
        lines = media_playlist.read_text().splitlines()
        self.segments = [
            (lines[i], lines[i + 1]) for i, line in enumerate(lines) if line.startswith("#EXTINF")
        ]
        self.folder = media_playlist.parent.name
        self.pace_s = pace_s
        self.started = time.monotonic()
        self.outages: list[tuple[float, float]] = []

    def start(self, *, ago_s: float = 0.0) -> float:
        """Publish from now on as a stream that began ``ago_s`` ago; its start's wall time."""
        self.started = time.monotonic() - ago_s
        return time.time() - ago_s

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def down(self) -> bool:
        return any(a <= self.elapsed() < b for a, b in self.outages)

    def render(self) -> bytes:
        shown = self.segments[: max(1, int(self.elapsed() / self.pace_s))]
        head = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:10"]
        body = [f"{info}\n{self.folder}/{uri}" for info, uri in shown]
        end = ["#EXT-X-ENDLIST"] if len(shown) == len(self.segments) else []
        return ("\n".join([*head, "#EXT-X-MEDIA-SEQUENCE:0", *body, *end]) + "\n").encode()


class Outage(dict):
    """``Server(statuses=…)`` that answers 503 to every path while the playlist is down."""

    def __init__(self, live: LivePlaylist) -> None:
        super().__init__()
        self.live = live

    def __contains__(self, name: object) -> bool:
        return self.live.down()

    def __getitem__(self, name: str) -> int:
        return 503
