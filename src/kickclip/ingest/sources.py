"""Classify a SOURCE offline: a local file, a direct media URL, kick.com, or another site.

Only ``http``/``https`` addresses and existing local paths are accepted; any other scheme
(``ftp:``, ``rtmp:``, ``concat:``, ``file:`` …) is refused here, before anything connects.
Scheme and host are case-insensitive; ``kick.com/…`` without a scheme is kick.com.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import SplitResult, urlsplit

from kickclip.errors import InvalidInput

MEDIA_EXTENSIONS = (
    ".mp4",
    ".m4v",
    ".mkv",
    ".mov",
    ".webm",
    ".flv",
    ".ts",
    ".m3u8",
    ".m4a",
    ".mp3",
    ".aac",
    ".wav",
    ".ogg",
    ".opus",
)
REMOTE_SCHEMES = ("http", "https")
ERROR_LIMIT = 200  # characters in one error line
QUOTE_LIMIT = 80  # characters of a source quoted inside an error line
URL_SCHEME_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-."
)  # what FFmpeg reads as a protocol name before ':'
BARE_KICK = re.compile(r"^(?:www\.)?kick\.com(?=[/?#]|$)", re.I)
KICK_HOSTS = ("kick.com", "www.kick.com")
CHANNEL = re.compile(r"^[\w-]+$")
VIDEO_ID = re.compile(r"^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$", re.I)
CLIP_ID = re.compile(r"^clip_[\w-]+$")
KICK_FORMS = (
    "use https://kick.com/<channel>, https://kick.com/<channel>/videos/<uuid> "
    "or https://kick.com/<channel>/clips/<id>"
)


class SourceKind(Enum):
    FILE = "file"
    MEDIA_URL = "media_url"  # PyAV reads it directly (progressive file or HLS playlist)
    KICK_LIVE = "kick_live"
    KICK_VOD = "kick_vod"
    KICK_CLIP = "kick_clip"
    SITE = "site"  # any other site yt-dlp has an extractor for


@dataclass(frozen=True)
class Source:
    text: str
    kind: SourceKind

    @property
    def remote(self) -> bool:
        return self.kind is not SourceKind.FILE


CREDENTIALS = re.compile(r"(?<=//)[^/?#@\s]*@")


def redact(text: str) -> str:
    """``text`` with the credentials of every URL in it left out (``//user:pass@host``)."""
    return CREDENTIALS.sub("", str(text))


def shorten(text: str, limit: int = ERROR_LIMIT) -> str:
    """``text`` on one line of at most ``limit`` characters, the rest elided with "…"; no
    URL's credentials."""
    line = " ".join(redact(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def quoted(source: str, limit: int = QUOTE_LIMIT) -> str:
    """A source as an error line quotes it: its start and its end, the middle elided; no
    credentials."""
    line = " ".join(redact(source).split())
    if len(line) <= limit:
        return line
    tail = min(20, limit // 4)
    return line[: limit - tail - 1] + "…" + line[-tail:]


def url_scheme(text: str) -> str | None:
    """The scheme (protocol) ``text`` names, as FFmpeg would read it; None for a plain path.

    ``subfile,,start,…,:path`` counts as ``subfile``; a single letter (``C:``) is a drive.
    """
    run = 0
    while run < len(text) and text[run] in URL_SCHEME_CHARS:
        run += 1
    if run < len(text) and text[run] == ":" and run > 1:
        return text[:run]
    if text[:run].lower() == "subfile" and text[run : run + 1] == "," and ":" in text[run:]:
        return text[:run]
    return None


def is_local_path(text: str) -> bool:
    """An existing file or folder (whatever characters its name has)."""
    try:
        return os.path.exists(text)
    except (OSError, ValueError):
        return False


def refuse_scheme(scheme: str, text: str) -> InvalidInput:
    return InvalidInput(
        shorten(
            f"{scheme.lower()}: addresses are not read ({quoted(text)}): "
            "use an http:// or https:// address or a local file"
        )
    )


def _kick_kind(url: str) -> SourceKind | None:
    from yt_dlp.extractor.kick import KickClipIE, KickIE, KickVODIE

    for extractor, kind in (
        (KickVODIE, SourceKind.KICK_VOD),
        (KickClipIE, SourceKind.KICK_CLIP),
        (KickIE, SourceKind.KICK_LIVE),
    ):
        if extractor.suitable(url):
            return kind
    return None


def _has_site_extractor(url: str) -> bool:
    from yt_dlp.extractor import gen_extractor_classes

    return any(
        ie.suitable(url)
        for ie in gen_extractor_classes()
        if ie.ie_key() != "Generic" and ie.working()
    )


def _normalized(text: str) -> SplitResult:
    """``text`` split, scheme and host in lower case (path, query and fragment kept)."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidInput(shorten(f"not a valid address: {quoted(text)}")) from None
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InvalidInput(shorten(f"no host name in {quoted(text)}"))
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    if "@" in parts.netloc:
        netloc = parts.netloc.rpartition("@")[0] + "@" + netloc
    return parts._replace(scheme=parts.scheme.lower(), netloc=netloc)


def _kick(parts: SplitResult) -> Source:
    """A kick.com address: live channel, one VOD or one clip; anything else refused."""
    segments = [s for s in parts.path.split("/") if s]
    shown = quoted(parts.geturl())
    if segments and segments[0].lower() == "video":
        raise InvalidInput(
            "kick.com/video/<uuid> links are not supported: open the VOD on kick.com and use "
            "its https://kick.com/<channel>/videos/<uuid> address"
        )
    if not segments or not CHANNEL.match(segments[0]):
        raise InvalidInput(shorten(f"not a kick.com stream address ({shown}): {KICK_FORMS}"))
    channel, rest = segments[0], segments[1:]
    expected = SourceKind.KICK_LIVE
    if rest and rest[0].lower() in ("videos", "clips"):
        what = rest[0].lower()
        if len(rest) == 1:
            one = "video" if what == "videos" else "clip"
            raise InvalidInput(
                shorten(
                    f"{shown} is a list of {what}, not one {one}: open one {one} on kick.com "
                    f"and paste its address (https://kick.com/{quoted(channel, 40)}/{what}/"
                    f"{'<uuid>' if what == 'videos' else '<id>'})"
                )
            )
        item = rest[1]
        if what == "videos":
            if not VIDEO_ID.match(item):
                raise InvalidInput(
                    shorten(
                        f'"{quoted(item, 60)}" is not a kick.com video id (a uuid like '
                        "0f5c7a4e-1111-2222-3333-444455556666): copy the video's address again"
                    )
                )
            item, expected = item.lower(), SourceKind.KICK_VOD  # uuids: any case, same id
        else:
            if not CLIP_ID.match(item):
                raise InvalidInput(
                    shorten(
                        f'"{quoted(item, 60)}" is not a kick.com clip id (clip_…): '
                        "copy the clip's address again"
                    )
                )
            expected = SourceKind.KICK_CLIP
        if len(rest) > 2:
            raise InvalidInput(shorten(f"not a kick.com stream address ({shown}): {KICK_FORMS}"))
        parts = parts._replace(path=f"/{channel}/{what}/{item}")
    elif rest:
        raise InvalidInput(shorten(f"not a kick.com stream address ({shown}): {KICK_FORMS}"))
    url = parts.geturl()
    kind = _kick_kind(url)
    if kind is None or (expected is not SourceKind.KICK_LIVE and kind is not expected):
        raise InvalidInput(shorten(f"not a kick.com stream address ({shown}): {KICK_FORMS}"))
    return Source(url, kind)


def classify(source: str) -> Source:
    """What kind of SOURCE this is, decided without touching the network."""
    text = (source or "").strip()
    if not text:
        raise InvalidInput("no source given: pass a kick.com URL, a media URL or a local file")
    if is_local_path(text):
        return Source(text, SourceKind.FILE)
    scheme = url_scheme(text)
    if scheme is None:
        if not BARE_KICK.match(text):
            return Source(text, SourceKind.FILE)  # a path; opening it says "file not found"
        text = "https://" + text
    elif scheme.lower() not in REMOTE_SCHEMES:
        raise refuse_scheme(scheme, text)
    parts = _normalized(text)
    if parts.hostname in KICK_HOSTS:
        return _kick(parts)
    url = parts.geturl()
    if parts.path.lower().endswith(MEDIA_EXTENSIONS):
        return Source(url, SourceKind.MEDIA_URL)
    if _has_site_extractor(url):
        return Source(url, SourceKind.SITE)
    return Source(url, SourceKind.MEDIA_URL)
