"""Remote sites (kick.com and every other yt-dlp site) → renditions, with readable errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from kickclip.errors import (
    InvalidInput,
    LoginRequired,
    NotAMediaFile,
    NotLive,
    SourceError,
    SourceUnreachable,
)
from kickclip.ingest.sources import REMOTE_SCHEMES, quoted, refuse_scheme, shorten, url_scheme
from kickclip.records import Rendition

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Resolved:
    title: str
    is_live: bool
    renditions: tuple[Rendition, ...]
    http_headers: Mapping[str, str]
    chat_channel_id: str | None = None  # a Kick VOD: whose chat history to replay …
    started_at: datetime | None = None  # … from when the stream began


class _Silent:
    """yt-dlp logs errors itself even when quiet; the CLI prints our one line instead."""

    def debug(self, message: str) -> None: ...

    def info(self, message: str) -> None: ...

    def warning(self, message: str) -> None: ...

    def error(self, message: str) -> None: ...


def _one_line(message: str) -> str:
    text = ANSI.sub("", message).replace("ERROR: ", "")
    text = re.split(r" \(caused by | See https?://", text)[0]
    return " ".join(text.split())


def _error_for(url: str, message: str) -> SourceError:
    error = _error_line(url, message)
    return type(error)(shorten(str(error)))


# Words of yt-dlp's (and the OS's) messages that mean the network, not the source, failed.
UNREACHABLE = (
    "unable to connect",
    "connection",
    "timed out",
    "proxy",
    "name or service",
    "resolve",
    "network is unreachable",
)


def _error_line(url: str, message: str) -> SourceError:
    text = _one_line(message)
    lowered = text.lower()
    host = urlparse(url).hostname or quoted(url)
    if "not currently live" in lowered or "is offline" in lowered or "not live" in lowered:
        return NotLive(f"{host}: the channel is not live right now ({text})")
    if any(k in lowered for k in ("login", "log in", "sign in", "subscriber", "members-only")):
        return LoginRequired(f"{host} requires a login for this stream: {text}")
    if any(k in lowered for k in UNREACHABLE):
        return SourceUnreachable(f"cannot reach {host}: {text}")
    if "404" in lowered or "not found" in lowered:
        return SourceUnreachable(f"{host}: not found (HTTP 404): {text}")
    if "403" in lowered or "forbidden" in lowered:
        return SourceUnreachable(f"{host}: access denied (HTTP 403): {text}")
    return SourceUnreachable(f"cannot read {quoted(url)}: {text}")


def resolve(url: str) -> Resolved:
    """Ask yt-dlp for the stream's renditions without downloading anything."""
    from yt_dlp import YoutubeDL
    from yt_dlp.utils import DownloadError, ExtractorError

    options = {
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "skip_download": True,
        "socket_timeout": 15,
        "retries": 1,
        "extractor_retries": 0,
        "logger": _Silent(),
    }
    try:
        with YoutubeDL(options) as ydl:
            info: dict[str, Any] = ydl.extract_info(url, download=False)
    except (DownloadError, ExtractorError) as error:
        raise _error_for(url, str(error)) from None
    formats = info.get("formats") or [info]
    renditions = tuple(
        Rendition(
            url=f["url"],
            height=f.get("height"),
            width=f.get("width"),
            bandwidth_bps=(f.get("tbr") or 0) * 1000 or None,
            has_audio=f.get("acodec") not in ("none", None) or f.get("vcodec") in (None, ""),
            has_video=f.get("vcodec") not in ("none",),
            format_id=str(f.get("format_id", "")),
            protocol=str(f.get("protocol", "")),
        )
        for f in formats
        if f.get("url")
    )
    if not renditions:
        raise SourceUnreachable(shorten(f"{quoted(url)}: the site lists no playable stream"))
    headers = (formats[-1].get("http_headers") if formats else None) or {}
    kick_vod = info.get("extractor_key") == "KickVOD" and info.get("timestamp")
    return Resolved(
        title=str(info.get("title") or info.get("id") or "stream"),
        is_live=bool(info.get("is_live")),
        renditions=renditions,
        http_headers=dict(headers),
        chat_channel_id=str(info["channel_id"]) if kick_vod and info.get("channel_id") else None,
        started_at=datetime.fromtimestamp(info["timestamp"], UTC) if kick_vod else None,
    )


STREAM_INF = re.compile(r"#EXT-X-STREAM-INF:(?P<attrs>.*)\n(?P<uri>[^#\s][^\n]*)")
URI_ATTRIBUTE = re.compile(r'URI="([^"]*)"')


def _http_only(url: str) -> None:
    scheme = url_scheme(url)
    if scheme is None or scheme.lower() not in REMOTE_SCHEMES:
        raise refuse_scheme(scheme or "file", url)


def _playlist_entries(text: str) -> list[str]:
    """Every address a playlist names: segment and variant lines, ``URI="…"`` attributes."""
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            entries += URI_ATTRIBUTE.findall(line)
        else:
            entries.append(line)
    return entries


def check_playlist(url: str, text: str) -> None:
    """Refuse a remote playlist that names anything but http(s) entries (file:, concat:, …)."""
    from urllib.parse import urljoin

    for entry in _playlist_entries(text):
        scheme = url_scheme(entry)
        if scheme is None:  # relative to the playlist: what it is joined to decides
            scheme = url_scheme(urljoin(url, entry))
        if scheme is None or scheme.lower() not in REMOTE_SCHEMES:
            raise NotAMediaFile(
                shorten(
                    f"refused: the playlist {quoted(url, 60)} names a {(scheme or 'local')}: "
                    f"entry ({quoted(entry, 40)}); only http and https entries are read"
                )
            )


def _opener() -> Any:
    """urllib without its file:/ftp:/data: handlers and with redirects to http(s) only."""
    from urllib.request import (
        HTTPDefaultErrorHandler,
        HTTPErrorProcessor,
        HTTPHandler,
        HTTPRedirectHandler,
        HTTPSHandler,
        OpenerDirector,
        ProxyHandler,
        UnknownHandler,
    )

    class HttpOnlyRedirects(HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            _http_only(newurl)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    opener = OpenerDirector()
    for handler in (
        ProxyHandler(),
        UnknownHandler(),
        HTTPHandler(),
        HTTPSHandler(),
        HTTPDefaultErrorHandler(),
        HttpOnlyRedirects(),
        HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def hls_renditions(
    url: str, http_headers: Mapping[str, str] | None = None
) -> tuple[tuple[Rendition, ...], bool]:
    """The variants an HLS master playlist lists (empty for a media playlist), and whether a
    media playlist is live. A playlist naming other than http(s) entries is refused.

    Opening the master itself with PyAV would download every variant's segments.
    """
    from urllib.error import URLError
    from urllib.parse import urljoin
    from urllib.request import Request

    _http_only(url)
    try:
        with _opener().open(Request(url, headers=dict(http_headers or {})), timeout=15) as response:
            text = response.read(1_000_000).decode("utf-8", "replace")
    except (URLError, OSError, ValueError) as error:
        if isinstance(error, InvalidInput):
            raise
        reason = getattr(error, "reason", None) or getattr(error, "code", None) or error
        raise SourceUnreachable(shorten(f"cannot read {quoted(url)}: {reason}")) from None
    check_playlist(url, text)
    renditions = []
    for match in STREAM_INF.finditer(text.replace("\r\n", "\n")):
        attrs = match.group("attrs")
        bandwidth = re.search(r"(?:^|,)BANDWIDTH=(\d+)", attrs)
        resolution = re.search(r"RESOLUTION=(\d+)x(\d+)", attrs)
        codecs = re.search(r'CODECS="([^"]*)"', attrs)
        renditions.append(
            Rendition(
                url=urljoin(url, match.group("uri").strip()),
                width=int(resolution.group(1)) if resolution else None,
                height=int(resolution.group(2)) if resolution else None,
                bandwidth_bps=float(bandwidth.group(1)) if bandwidth else None,
                has_audio=codecs is None or "mp4a" in codecs.group(1) or "," in codecs.group(1),
                protocol="m3u8",
            )
        )
    is_live = not renditions and "#EXT-X-ENDLIST" not in text
    return tuple(renditions), is_live


def _size_key(rendition: Rendition) -> tuple[float, float]:
    return (rendition.height or 0, rendition.bandwidth_bps or 0)


def lowest(renditions: tuple[Rendition, ...]) -> Rendition:
    """The cheapest rendition that still has video (and audio, where any rendition has)."""
    want_audio = any(r.has_audio and r.has_video for r in renditions)
    usable = [r for r in renditions if r.has_video and (r.has_audio or not want_audio)]
    return min(usable or list(renditions), key=_size_key)


def by_quality(renditions: tuple[Rendition, ...], quality: str) -> Rendition:
    """``best``, ``worst`` or a height like ``720p``: closest at or below, else the lowest above."""
    want_audio = any(r.has_audio and r.has_video for r in renditions)
    usable = [r for r in renditions if r.has_video and (r.has_audio or not want_audio)]
    usable = usable or list(renditions)
    text = quality.strip().lower()
    if text == "best":
        return max(usable, key=_size_key)
    if text == "worst":
        return min(usable, key=_size_key)
    match = re.fullmatch(r"(\d{3,4})p?", text)
    if not match:
        raise InvalidInput(f"quality must be best, worst or a height like 720p, got {quality!r}")
    height = int(match.group(1))
    below = [r for r in usable if (r.height or 0) <= height]
    return max(below, key=_size_key) if below else min(usable, key=_size_key)
