"""Ingest: a SOURCE (file, media URL, kick.com, any yt-dlp site) → a probed ``MediaInfo``."""

from __future__ import annotations

import os
import re
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from kickclip.errors import RecordingGone
from kickclip.ingest.probe import probe
from kickclip.ingest.sources import Source, SourceKind, classify, redact
from kickclip.progress import ProgressCallback, no_progress
from kickclip.records import MediaInfo
from kickclip.settings import DEFAULT_SETTINGS, Settings


def slug(text: str, *, limit: int = 40) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return cleaned[:limit].strip("-") or "stream"


def open_source(
    source: str,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    on_progress: ProgressCallback = no_progress,
    record: bool = True,
) -> MediaInfo:
    """Resolve, (for live sources) record, and probe ``source`` once. Without ``record``, a
    live source is refused (:class:`RecordingGone`): what it showed before is not there."""
    kind = classify(source)
    if kind.kind is SourceKind.KICK_LIVE and not record:
        raise RecordingGone(f"{redact(kind.text)} is a live channel: what it showed is gone")
    on_progress(0.0, "opening the source")
    title, analysis_url, cut_url, headers, is_live, renditions = (
        Path(kind.text).stem,
        kind.text,
        kind.text,
        {},
        False,
        (),
    )
    chat_channel_id, started_at, stream, recorded_at = None, None, None, None
    live_chat: tuple = ()
    notes: tuple[str, ...] = ()
    private = settings.allow_private_addresses
    if kind.kind in (
        SourceKind.KICK_LIVE,
        SourceKind.KICK_VOD,
        SourceKind.KICK_CLIP,
        SourceKind.SITE,
    ):
        from kickclip.ingest.resolve import by_quality, lowest, resolve

        resolved = resolve(kind.text, allow_private=private)
        renditions = resolved.renditions
        title, headers, is_live = resolved.title, dict(resolved.http_headers), resolved.is_live
        chat_channel_id, started_at = resolved.chat_channel_id, resolved.started_at
        stream = None if is_live else resolved.stream  # a recording has its own clock
        analysis_url = lowest(renditions).url
        cut_url = by_quality(renditions, settings.quality).url
    if _is_playlist(kind):
        from kickclip.ingest.fetch import Access
        from kickclip.ingest.resolve import by_quality, hls_renditions, lowest

        renditions, is_live = hls_renditions(kind.text, Access(allow_private=private))
        if renditions:
            analysis_url = lowest(renditions).url
            cut_url = by_quality(renditions, settings.quality).url
    elif kind.kind is SourceKind.MEDIA_URL:
        facts = probe(analysis_url, http_headers=headers, allow_private=private)
        if facts.duration_s is None:  # a stream with no end: recorded like a live one
            is_live = True
            notes += (
                f"the stream has no end: recording {settings.record_minutes:g} minutes of it "
                "(--record-minutes)",
            )
    if is_live and not record:
        raise RecordingGone(f"{redact(kind.text)} is live: what it showed earlier is gone")
    if is_live:
        from kickclip.ingest.record import record_live

        recorded_at = datetime.now(UTC)
        stamp = recorded_at.strftime("%Y%m%dT%H%M%SZ")
        recording = settings.out / ".recordings" / f"{slug(title)}-{stamp}.ts"
        with chat_while_live(kind) as chat:  # the audience, on the recording's clock
            record_live(
                cut_url,
                recording,
                minutes=settings.record_minutes,
                http_headers=headers,
                allow_private=private,
                on_progress=on_progress,
            )
        live_chat, notes = tuple(chat.messages), (*notes, *chat.warnings)
        analysis_url = cut_url = str(recording)
        headers = {}
    facts = probe(analysis_url, http_headers=headers, allow_private=private)
    return facts.as_media(
        source=redact(kind.text),
        title=title,
        analysis_url=analysis_url,
        cut_url=cut_url,
        http_headers=headers,
        is_live=is_live,
        renditions=renditions,
        chat_channel_id=chat_channel_id,
        started_at=started_at,
        stream=stream,
        recorded_at=recorded_at,
        chat=live_chat,
        notes=notes,
        allow_private=private,
    )


def _is_playlist(kind: Source) -> bool:
    """An HLS playlist by its name, or a local file by its first bytes (FFmpeg would read
    one as a playlist whatever its name)."""
    if kind.kind is SourceKind.MEDIA_URL:
        return urlsplit(kind.text).path.lower().endswith(".m3u8")
    if kind.kind is not SourceKind.FILE or not os.path.isfile(kind.text):
        return False
    with open(kind.text, "rb") as handle:
        return handle.read(7) == b"#EXTM3U"


def chat_while_live(kind: Source) -> Any:
    """A Kick channel's live chat while it is recorded; any other live source has none here."""
    if kind.kind is SourceKind.KICK_LIVE:
        from kickclip.chat.kick import live_chat_while

        return live_chat_while(urlsplit(kind.text).path.strip("/").split("/")[0])
    return nullcontext(SimpleNamespace(messages=[], warnings=[]))
