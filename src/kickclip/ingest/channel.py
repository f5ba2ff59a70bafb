"""A kick.com channel's VOD list (``https://kick.com/<channel>/videos``) → one address per VOD.

Only ``kickclip batch`` takes this form (``generate`` and ``analyze`` read one source and refuse
a list page). The listing is yt-dlp's own Kick extractor for channel video pages
(``kick:videos``, ``extract_flat``): it looks the channel up on Kick's API
(``{KICK_BASE_URL}/api/v2/channels/<slug>``) and lists its videos
(``{KICK_WEB_URL}/api/v1/channels/<id>/videos``), through yt-dlp's networking (impersonation,
cookies and proxy settings apply). The two API hosts are module constants so that tests can
point them at loopback. A VOD still live is left out: its recording is not finished.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kickclip.errors import InvalidInput, SourceError, SourceUnreachable
from kickclip.ingest.resolve import UNREACHABLE
from kickclip.ingest.sources import (
    BARE_KICK,
    KICK_HOSTS,
    REMOTE_SCHEMES,
    quoted,
    shorten,
    url_scheme,
)

KICK_BASE_URL = "https://kick.com"  # Kick's v2 API (the channel's id)
KICK_WEB_URL = "https://web.kick.com"  # Kick's v1 API (the channel's videos)
VIDEOS_PATH = re.compile(r"^/(?P<channel>[\w-]+)/videos/?$", re.I)
DATE_FORMS = "an ISO date or date and time, like 2026-03-01 or 2026-03-01T18:00"


@dataclass(frozen=True)
class ChannelVod:
    url: str  # https://kick.com/<channel>/videos/<uuid>
    started_at: datetime | None
    title: str = ""


def channel_slug(source: str) -> str | None:
    """The channel of a ``kick.com/<channel>/videos`` page (any case, with or without scheme,
    ``www.`` or a trailing slash), in lower case; None for anything else. Offline."""
    from urllib.parse import urlsplit

    text = (source or "").strip()
    scheme = url_scheme(text)
    if scheme is None:
        if not BARE_KICK.match(text):
            return None
        text = "https://" + text
    elif scheme.lower() not in REMOTE_SCHEMES:
        return None
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if host not in KICK_HOSTS or port is not None:
        return None  # a query (?sort=views) is left aside: the list is always newest first
    found = VIDEOS_PATH.match(parts.path)
    return found["channel"].lower() if found else None


def parse_since(text: str) -> datetime:
    """``--since``: an ISO date (midnight UTC) or date and time (UTC unless it says otherwise)."""
    value = (text or "").strip()
    try:
        if value.endswith(("Z", "z")):
            value = value[:-1] + "+00:00"
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(shorten(f'--since "{quoted(text, 40)}" is not {DATE_FORMS}')) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _extractor_class() -> type:
    """yt-dlp's ``kick:videos`` extractor, its API calls sent to :data:`KICK_BASE_URL` (v2)
    and :data:`KICK_WEB_URL` (v1) as they are when called."""
    from yt_dlp.extractor.kick import KickVideosIE
    from yt_dlp.utils import ExtractorError

    class ChannelVideosIE(KickVideosIE):
        IE_NAME = "kickclip:channel_videos"

        def _call_api(self, path, display_id, note="Downloading API JSON", headers=None, **kw):
            base = {"v1": KICK_WEB_URL, "v2": KICK_BASE_URL}[path.partition("/")[0]]
            reply = self._download_json(
                f"{base.rstrip('/')}/api/{path}",
                display_id,
                note=note,
                headers={**self._api_headers, **(headers or {})},
                impersonate=True,
                **kw,
            )
            # the extractor reads a list under "data" and would take anything else for none
            if path.endswith("/videos") and not (
                isinstance(reply, dict) and isinstance(reply.get("data"), list)
            ):
                raise ExtractorError("malformed reply: no list of videos", expected=True)
            return reply

    return ChannelVideosIE


def _moment(entry: dict[str, Any]) -> datetime | None:
    stamp = entry.get("timestamp")
    if isinstance(stamp, int | float):
        return datetime.fromtimestamp(stamp, UTC)
    return None


def _channel_error(slug: str, message: str) -> SourceError:
    """yt-dlp's message as one line naming the channel."""
    from kickclip.ingest.resolve import _one_line

    text = re.sub(r"^\[[^\]]*\] [\w-]+: ", "", _one_line(message))  # "[extractor] id: "
    lowered = text.lower()
    if any(key in lowered for key in UNREACHABLE):
        return SourceUnreachable(
            shorten(f"kick.com channel {quoted(slug, 40)}: cannot reach kick.com: {text}")
        )
    if "404" in lowered:
        reason = "no such channel on kick.com (HTTP 404)"
    elif "403" in lowered:
        reason = "kick.com refused to list its videos (HTTP 403)"
    elif "parse json" in lowered or "malformed" in lowered:
        reason = "kick.com's reply is not a list of videos (malformed JSON)"
    else:
        reason = text
    return SourceError(shorten(f"kick.com channel {quoted(slug, 40)}: {reason}"))


def list_vods(
    slug: str, *, since: datetime | None = None, limit: int | None = None
) -> list[ChannelVod]:
    """The channel's finished VODs, newest first: those started at or after ``since``, at most
    ``limit``. A failure (unreachable, refused, unknown channel, malformed reply) is one
    :class:`SourceError` line naming the channel."""
    from yt_dlp import YoutubeDL
    from yt_dlp.utils import DownloadError, ExtractorError, unsmuggle_url

    from kickclip.ingest.resolve import _Silent

    options = {
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "skip_download": True,
        "extract_flat": "in_playlist",
        "socket_timeout": 15,
        "retries": 1,
        "extractor_retries": 0,
        "logger": _Silent(),
    }
    extractor = _extractor_class()
    try:
        with YoutubeDL(options, auto_init=False) as ydl:
            ydl.add_info_extractor(extractor())
            info = ydl.extract_info(
                f"https://kick.com/{slug}/videos",
                download=False,
                ie_key=extractor.ie_key(),
            )
    except (DownloadError, ExtractorError) as error:
        raise _channel_error(slug, str(error)) from None
    entries = (info or {}).get("entries")
    if not isinstance(entries, list):
        raise _channel_error(slug, "malformed reply: no list of videos")
    vods: list[ChannelVod] = []
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("url"):
            continue
        if entry.get("is_live") or entry.get("live_status") == "is_live":
            continue  # still streaming: its VOD is not finished
        url, _ = unsmuggle_url(str(entry["url"]), {})
        started = _moment(entry)
        if since is not None and (started is None or started < since):
            continue
        vods.append(ChannelVod(url, started, str(entry.get("title") or "")))
    oldest = datetime.min.replace(tzinfo=UTC)
    vods.sort(key=lambda vod: vod.started_at or oldest, reverse=True)
    return vods[:limit] if limit is not None else vods
