"""Classify a SOURCE offline: a local file, a direct media URL, kick.com, or another site."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlparse

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
OLD_KICK_VIDEO = re.compile(r"^https?://(www\.)?kick\.com/video/[0-9a-f-]+", re.I)


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


def classify(source: str) -> Source:
    """What kind of SOURCE this is, decided without touching the network."""
    text = (source or "").strip()
    if not text:
        raise InvalidInput("no source given: pass a kick.com URL, a media URL or a local file")
    scheme = urlparse(text).scheme.lower()
    if scheme not in ("http", "https"):
        return Source(text, SourceKind.FILE)
    if OLD_KICK_VIDEO.match(text):
        raise InvalidInput(
            "kick.com/video/<uuid> links are not supported: open the VOD on kick.com and use "
            "its https://kick.com/<channel>/videos/<uuid> address"
        )
    host = urlparse(text).hostname or ""
    if host == "kick.com" or host.endswith(".kick.com"):
        kind = _kick_kind(text)
        if kind is None:
            raise InvalidInput(
                "not a kick.com stream address: use https://kick.com/<channel>, "
                "https://kick.com/<channel>/videos/<uuid> or https://kick.com/<channel>/clips/<id>"
            )
        return Source(text, kind)
    if urlparse(text).path.lower().endswith(MEDIA_EXTENSIONS):
        return Source(text, SourceKind.MEDIA_URL)
    if _has_site_extractor(text):
        return Source(text, SourceKind.SITE)
    return Source(text, SourceKind.MEDIA_URL)
