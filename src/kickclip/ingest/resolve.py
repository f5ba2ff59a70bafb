"""Remote sites (kick.com and every other yt-dlp site) → renditions, with readable errors."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from kickclip.errors import (
    InvalidInput,
    LoginRequired,
    NotAMediaFile,
    NotLive,
    SourceError,
    SourceUnreachable,
)
from kickclip.ingest.sources import REMOTE_SCHEMES, quoted, shorten, url_scheme
from kickclip.records import Rendition

if TYPE_CHECKING:
    from kickclip.ingest.fetch import Access

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Resolved:
    title: str
    is_live: bool
    renditions: tuple[Rendition, ...]
    http_headers: Mapping[str, str]
    chat_channel_id: str | None = None  # a Kick VOD: whose chat history to replay …
    started_at: datetime | None = None  # … from when the stream began (a Kick live's too)
    stream: str | None = None  # a Kick stream's own name, live or VOD (``stream_name``)


def stream_name(channel: str, started_at: datetime) -> str:
    """The name a Kick stream's clips are stored under, whichever address showed it (the
    channel while it was live, its VOD after), their times on its own clock (0: its start):
    ``kick:<channel>@<start, UTC>``. Kick gives the live and the VOD the same start."""
    return f"kick:{channel.lower()}@{started_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def _kick_stream(url: str, info: Mapping[str, Any]) -> tuple[datetime | None, str | None]:
    """When a Kick live or VOD began (its ``start_time``: yt-dlp's ``release_timestamp`` of a
    live, ``timestamp`` of a VOD) and its ``stream_name``; none for anything else."""
    kind = info.get("extractor_key")
    if kind not in ("Kick", "KickVOD"):
        return None, None
    began = (info.get("release_timestamp") if kind == "Kick" else None) or info.get("timestamp")
    if not began:
        return None, None
    started_at = datetime.fromtimestamp(began, UTC)
    channel = info.get("uploader_id") or urlparse(url).path.strip("/").split("/")[0]
    return started_at, stream_name(str(channel), started_at) if channel else None


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


def resolve(url: str, *, allow_private: bool = False) -> Resolved:
    """Ask yt-dlp for the stream's renditions without downloading anything (a site on an
    internal address only with ``allow_private``; what it lists is checked when read)."""
    from yt_dlp import YoutubeDL
    from yt_dlp.utils import DownloadError, ExtractorError

    from kickclip.ingest.fetch import Access, check_host

    host = urlparse(url if "//" in url else "https://" + url).hostname
    if host and not allow_private:
        with suppress(SourceUnreachable):  # no name service (offline, a proxy): yt-dlp says why
            check_host(host, 443, Access())

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
    started_at, stream = _kick_stream(url, info)
    return Resolved(
        title=str(info.get("title") or info.get("id") or "stream"),
        is_live=bool(info.get("is_live")),
        renditions=renditions,
        http_headers=dict(headers),
        chat_channel_id=str(info["channel_id"]) if kick_vod and info.get("channel_id") else None,
        started_at=started_at,
        stream=stream,
    )


MAX_PLAYLIST_BYTES = 16 * 1024**2
MAX_PLAYLIST_ENTRIES = 200_000  # 2-second segments: 4.6 days


def _entries(playlist: Any) -> list[tuple[str, str]]:
    """Every address a parsed playlist names (variants, renditions, segments, keys, maps):
    as written, and joined to the playlist's own."""
    named = [*playlist.playlists, *playlist.iframe_playlists, *playlist.media]
    named += [*playlist.segments, *(key for key in playlist.keys if key)]
    named += [part for part in playlist.segment_map if part]
    return [(item.uri, item.absolute_uri) for item in named if item.uri]


def check_playlist(url: str, playlist: Any) -> None:
    """Refuse a playlist too long, or naming what it may not read: a remote playlist http(s)
    entries only; a local one those and files in its own folder (or below)."""
    from kickclip.ingest.fetch import inside

    entries = _entries(playlist)
    if len(entries) > MAX_PLAYLIST_ENTRIES:
        raise NotAMediaFile(
            shorten(
                f"refused: the playlist {quoted(url, 60)} names {len(entries):,} entries "
                f"(at most {MAX_PLAYLIST_ENTRIES:,} are read)"
            )
        )
    local = url_scheme(url) is None
    for written, joined in entries:
        # As FFmpeg reads it: "subfile,,…:path" names a protocol that no URL parser sees.
        scheme = url_scheme(written) or url_scheme(joined)
        if scheme is not None and scheme.lower() in REMOTE_SCHEMES:
            continue
        if local and scheme in (None, "file"):
            inside(os.path.dirname(os.path.realpath(url)), joined)
            continue
        raise NotAMediaFile(
            shorten(
                f"refused: the playlist {quoted(url, 60)} names a {(scheme or 'local')}: "
                f"entry ({quoted(written, 40)}); only http and https entries are read"
            )
        )


def read_playlist(url: str, access: Access, http_headers: Mapping[str, str] | None = None) -> Any:
    """An HLS playlist (remote, or a local file), parsed whole and checked."""
    import m3u8

    from kickclip.ingest.fetch import read_text

    if url_scheme(url) is None:
        if os.path.getsize(url) > MAX_PLAYLIST_BYTES:
            raise NotAMediaFile(
                shorten(f"refused: the playlist {quoted(url, 60)} is larger than 16 MB")
            )
        with open(url, encoding="utf-8", errors="replace") as handle:
            text, base = handle.read(), os.path.dirname(os.path.realpath(url)) + os.sep
    else:
        text, base = (
            read_text(url, access, http_headers, limit=MAX_PLAYLIST_BYTES, what="playlist"),
            url,
        )
    try:
        playlist = m3u8.loads(text, uri=base)
    except (ValueError, IndexError, KeyError, AttributeError) as error:
        raise NotAMediaFile(shorten(f"not a playlist {quoted(url)}: {error}")) from None
    check_playlist(url, playlist)
    return playlist


def hls_renditions(
    url: str, access: Access, http_headers: Mapping[str, str] | None = None
) -> tuple[tuple[Rendition, ...], bool]:
    """The variants an HLS master playlist lists (empty for a media playlist), and whether
    the stream is live: a media playlist is a VOD when its type says so or it ends with
    ``#EXT-X-ENDLIST``; a master's is judged by its first variant's.

    Opening the master itself with PyAV would download every variant's segments.
    """
    playlist = read_playlist(url, access, http_headers)
    renditions = []
    for variant in playlist.playlists:
        info = variant.stream_info
        codecs = info.codecs
        renditions.append(
            Rendition(
                url=variant.absolute_uri,
                width=info.resolution[0] if info.resolution else None,
                height=info.resolution[1] if info.resolution else None,
                bandwidth_bps=float(info.bandwidth) if info.bandwidth else None,
                has_audio=codecs is None or "mp4a" in codecs or "," in codecs,
                protocol="m3u8",
            )
        )
    if renditions:
        playlist = read_playlist(lowest(tuple(renditions)).url, access, http_headers)
    vod = (playlist.playlist_type or "").lower() == "vod" or playlist.is_endlist
    return tuple(renditions), not vod


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
