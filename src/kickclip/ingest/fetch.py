"""Every byte kickclip reads from a source comes through here.

- Remote: http(s) only, to public addresses unless :attr:`Access.allow_private` (checked when
  each connection is made, so a redirect, a playlist variant, a segment or a key cannot reach
  ``169.254.169.254`` or ``10.x`` either), within a byte budget, failing after ``stall_s``
  without a byte. Credentials in a URL become an ``Authorization`` header and are never
  shown (:func:`kickclip.ingest.sources.redact`).
- Local: the input itself, and what it names (a playlist's entries) only inside the input's
  own folder, after links are resolved.

:func:`io_opener` hands FFmpeg (PyAV's ``io_open``) these rules for every file it opens.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import os
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPResponse, HTTPSConnection
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit
from urllib.request import (
    BaseHandler,
    HTTPDefaultErrorHandler,
    HTTPErrorProcessor,
    HTTPHandler,
    HTTPRedirectHandler,
    HTTPSHandler,
    OpenerDirector,
    ProxyHandler,
    Request,
    UnknownHandler,
)

from kickclip.errors import InvalidInput, NotAMediaFile, SourceUnreachable
from kickclip.ingest.sources import REMOTE_SCHEMES, quoted, redact, refuse_scheme, url_scheme

ALLOW_PRIVATE_ENV = "KICKCLIP_ALLOW_PRIVATE_ADDRESSES"
ALLOW_PRIVATE_HINT = (
    f"pass --allow-private-addresses (or set {ALLOW_PRIVATE_ENV}=1) to read a server on "
    "your own network"
)
MAX_SOURCE_BYTES = 64 * 1024**3  # a 24-hour 1080p60 VOD is about 50 GB
STALL_S = 15.0


class PrivateAddress(InvalidInput):
    """A remote source (or anything it leads to) at a loopback, private or other internal
    address, without the opt-in."""


@dataclass
class Access:
    """What one run may read; ``read_bytes`` counts the remote bytes it read so far."""

    allow_private: bool = False
    max_bytes: int = MAX_SOURCE_BYTES
    stall_s: float = STALL_S
    read_bytes: int = field(default=0, compare=False)

    def count(self, size: int, url: str) -> None:
        self.read_bytes += size
        if self.read_bytes > self.max_bytes:
            raise SourceUnreachable(
                f"stopped reading {quoted(redact(url))}: more than "
                f"{self.max_bytes / 1024**3:g} GB read from this source"
            )


def internal_kind(address: str) -> str | None:
    """What makes ``address`` internal ("loopback", "private", …), or None for a public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "multicast", "private", "reserved", "unspecified"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if ip.is_global else "non-public"


def check_host(host: str, port: int, access: Access) -> list[tuple[Any, ...]]:
    """The addresses ``host`` resolves to, refused when any is internal (without the opt-in)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise SourceUnreachable(f"cannot resolve {host}: {error}") from None
    if not access.allow_private:
        for info in infos:
            kind = internal_kind(str(info[4][0]))
            if kind is not None:
                shown = host if host == info[4][0] else f"{host} ({info[4][0]})"
                raise PrivateAddress(f"refused: {shown} is a {kind} address; {ALLOW_PRIVATE_HINT}")
    return infos


def _connector(access: Access) -> Callable[..., socket.socket]:
    """``socket.create_connection`` that connects only to the addresses it checked, so a
    name cannot resolve to a public address for the check and an internal one for the
    connection."""

    def connect(
        address: tuple[str, int], timeout: Any = None, source_address: Any = None
    ) -> socket.socket:
        host, port = address
        last: OSError | None = None
        for family, kind, proto, _, where in check_host(host, port, access):
            sock = socket.socket(family, kind, proto)
            try:
                if isinstance(timeout, int | float):
                    sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(where)
                return sock
            except OSError as error:
                sock.close()
                last = error
        raise last or OSError(f"cannot connect to {host}")

    return connect


def _handlers(access: Access) -> list[BaseHandler]:
    connect = _connector(access)

    class CheckedHTTP(HTTPConnection):
        _create_connection = staticmethod(connect)

    class CheckedHTTPS(HTTPSConnection):
        _create_connection = staticmethod(connect)

    class Guard(BaseHandler):
        """Through a proxy the connection is the proxy's: check the target by its name."""

        handler_order = 50  # before the proxy handler rewrites the request

        def http_request(self, request: Request) -> Request:
            parts = urlsplit(request.full_url)
            check_host(parts.hostname or "", parts.port or 80, access)
            return request

        https_request = http_request

    class Direct(HTTPHandler):
        def http_open(self, request: Request) -> HTTPResponse:
            proxied = request.has_proxy()
            return self.do_open(HTTPConnection if proxied else CheckedHTTP, request)

    class DirectTLS(HTTPSHandler):
        def https_open(self, request: Request) -> HTTPResponse:
            proxied = request._tunnel_host is not None  # type: ignore[attr-defined]
            return self.do_open(
                HTTPSConnection if proxied else CheckedHTTPS,  # type: ignore[arg-type]
                request,
                context=self._context,  # type: ignore[attr-defined]
            )

    class HttpOnlyRedirects(HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
            http_only(newurl)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return [
        Guard(),
        ProxyHandler(),
        UnknownHandler(),
        Direct(),
        DirectTLS(),
        HTTPDefaultErrorHandler(),
        HttpOnlyRedirects(),
        HTTPErrorProcessor(),
    ]


def http_only(url: str) -> None:
    scheme = url_scheme(url)
    if scheme is None or scheme.lower() not in REMOTE_SCHEMES:
        raise refuse_scheme(scheme or "file", url)


def _request(url: str, headers: Mapping[str, str] | None, offset: int = 0) -> Request:
    """A request without the URL's credentials (they go into a Basic header)."""
    parts = urlsplit(url)
    extra = dict(headers or {})
    if parts.username is not None or parts.password is not None:
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        extra["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
        url = urlunsplit(parts._replace(netloc=netloc))
    if offset:
        extra["Range"] = f"bytes={offset}-"
    return Request(url, headers=extra)


def urlopen(
    url: str, access: Access, headers: Mapping[str, str] | None = None, *, offset: int = 0
) -> HTTPResponse:
    """GET ``url`` under ``access``'s rules; user-facing errors only."""
    from urllib.error import HTTPError, URLError

    http_only(url)
    opener = OpenerDirector()
    for handler in _handlers(access):
        opener.add_handler(handler)
    try:
        return opener.open(_request(url, headers, offset), timeout=access.stall_s)
    except InvalidInput:
        raise
    except HTTPError as error:
        raise SourceUnreachable(f"cannot read {quoted(redact(url))}: HTTP {error.code}") from None
    except URLError as error:
        if isinstance(error.reason, InvalidInput):
            raise error.reason from None
        raise SourceUnreachable(f"cannot read {quoted(redact(url))}: {error.reason}") from None
    except (OSError, ValueError) as error:
        raise SourceUnreachable(f"cannot read {quoted(redact(url))}: {error}") from None


def read_text(
    url: str, access: Access, headers: Mapping[str, str] | None = None, *, limit: int, what: str
) -> str:
    """A small remote document (a playlist) whole, refused by name when over ``limit`` bytes."""
    with urlopen(url, access, headers) as response:
        body = _read(response, limit + 1, url, access)
    if len(body) > limit:
        raise NotAMediaFile(
            f"refused: the {what} {quoted(redact(url), 60)} is larger than {limit / 1024**2:g} MB"
        )
    return body.decode("utf-8", "replace")


def _read(response: HTTPResponse, size: int, url: str, access: Access) -> bytes:
    try:
        data = response.read(size)
    except TimeoutError:
        raise SourceUnreachable(
            f"stopped reading {quoted(redact(url))}: no data for {access.stall_s:g} s"
        ) from None
    except OSError as error:
        raise SourceUnreachable(f"cannot read {quoted(redact(url))}: {error}") from None
    access.count(len(data), url)
    return data


class RemoteFile(io.RawIOBase):
    """A remote file FFmpeg reads: sequential, and seekable by Range requests when the
    server offers them (an MP4 whose index is at its end)."""

    def __init__(self, url: str, access: Access, headers: Mapping[str, str] | None) -> None:
        self.url, self.access, self.headers = url, access, dict(headers or {})
        self.response = urlopen(url, access, self.headers)
        length = self.response.headers.get("Content-Length")
        self.size = int(length) if length and length.isdigit() else None
        ranges = self.response.headers.get("Accept-Ranges", "").lower() == "bytes"
        self._seekable = ranges and self.size is not None
        self.position = self.stream_position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size or 0}[whence]
        self.position = max(0, base + offset)
        return self.position

    def read(self, size: int = -1) -> bytes:
        if self.position != self.stream_position:
            self.response.close()
            self.response = urlopen(self.url, self.access, self.headers, offset=self.position)
            self.stream_position = self.position
        data = _read(self.response, size if size >= 0 else 1 << 20, self.url, self.access)
        self.position += len(data)
        self.stream_position = self.position
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.response.close()
        super().close()


class SegmentCache:
    """The segments of a playlist read in this process, so that each is fetched once a run:
    FFmpeg's HLS reader opens the first segment on every open (probe, analysis, each clip),
    and clips near each other share segments. Least recently used go first past
    ``max_bytes``; a segment over ``max_segment_bytes`` (or of unknown size) is streamed."""

    def __init__(self, max_bytes: int = 64 * 1024**2, max_segment_bytes: int = 16 * 1024**2):
        self.max_bytes, self.max_segment_bytes = max_bytes, max_segment_bytes
        self._data: OrderedDict[tuple, bytes] = OrderedDict()
        self._bytes = 0  # held in _data
        self._lock = threading.Lock()

    def open(self, url: str, access: Access, headers: Mapping[str, str] | None) -> Any:
        key = (url, tuple(sorted((headers or {}).items())))
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return io.BytesIO(self._data[key])
        remote = RemoteFile(url, access, headers)
        if remote.size is None or remote.size > self.max_segment_bytes:
            return remote
        with remote:
            data = b"".join(iter(lambda: remote.read(1 << 20), b""))
        with self._lock:
            if key not in self._data:  # another thread may have read it meanwhile
                self._data[key] = data
                self._bytes += len(data)
            while self._bytes > self.max_bytes:
                self._bytes -= len(self._data.popitem(last=False)[1])
        return io.BytesIO(data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0


SEGMENTS = SegmentCache()


def inside(folder: str, target: str) -> str:
    """``target`` (a path or ``file:`` URL) resolved, refused when outside ``folder``."""
    path = target[5:] if target.startswith("file:") else target
    resolved = os.path.realpath(os.path.join(folder, unquote(path) if "%" in path else path))
    if os.path.commonpath([resolved, folder]) != folder:
        raise NotAMediaFile(
            f"refused: {quoted(target, 60)} lies outside the folder of the file that names it "
            f"({quoted(folder, 60)}); a playlist's entries must lie in its own folder"
        )
    return resolved


def io_opener(
    source: str, access: Access, headers: Mapping[str, str] | None = None
) -> Callable[[str, int, dict[str, str]], Any]:
    """PyAV's ``io_open`` for ``source``: every file FFmpeg opens for it (the source, a
    playlist's variants, segments and keys) is opened by these rules. A local source's
    entries must lie in its folder; a remote one's entries must be remote."""
    remote = url_scheme(source) is not None
    folder = None if remote else os.path.dirname(os.path.realpath(source))

    def open_for_ffmpeg(url: str, flags: int, options: dict[str, str]) -> Any:
        if flags & 2:  # AVIO_FLAG_WRITE: reading a source never writes
            raise NotAMediaFile(f"refused: {quoted(redact(source))} asked to write {url}")
        scheme = url_scheme(url)
        if scheme is not None and scheme.lower() != "file":
            http_only(url)
            if url == source or urlsplit(url).path.lower().endswith(".m3u8"):
                return RemoteFile(url, access, headers)  # a live playlist changes: read anew
            return SEGMENTS.open(url, access, headers)
        if remote:
            raise NotAMediaFile(
                f"refused: the remote playlist {quoted(redact(source), 60)} names a local "
                f"file ({quoted(url, 40)}); only http and https entries are read"
            )
        return open(inside(folder, url), "rb")  # FFmpeg closes it

    return open_for_ffmpeg
