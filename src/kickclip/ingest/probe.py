"""Open a media input once with PyAV and describe it; every later stage trusts this."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kickclip.errors import (
    NoMediaStreams,
    NotAMediaFile,
    SourceNotFound,
    SourceUnreachable,
)

NETWORK_TIMEOUT_US = 15_000_000


def open_options(url: str, http_headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """PyAV (FFmpeg) options for reading ``url``: timeouts and headers for network inputs."""
    if "://" not in url:
        return {}
    options = {
        "rw_timeout": str(NETWORK_TIMEOUT_US),
        "reconnect": "1",
        "reconnect_streamed": "1",
        "reconnect_delay_max": "5",
    }
    if http_headers:
        options["headers"] = "".join(f"{k}: {v}\r\n" for k, v in http_headers.items())
    return options


def open_media(url: str, http_headers: Mapping[str, str] | None = None) -> Any:
    """``av.open`` with the user-facing error for each way it fails."""
    import av

    if "://" not in url and not os.path.exists(url):
        raise SourceNotFound(f"file not found: {url}")
    if "://" not in url and os.path.isdir(url):
        raise NotAMediaFile(f"not a media file: {url} is a folder")
    try:
        return av.open(url, options=open_options(url, http_headers), timeout=15)
    except av.error.HTTPError as error:  # 4xx/5xx
        raise SourceUnreachable(f"cannot read {url}: HTTP error {_status(error)}") from None
    except av.error.InvalidDataError:
        raise NotAMediaFile(f"not a media file: {url}") from None
    except av.error.FFmpegError as error:
        raise SourceUnreachable(f"cannot read {url}: {_reason(error)}") from None
    except OSError as error:
        raise SourceUnreachable(f"cannot read {url}: {error.strerror or error}") from None


def _status(error: Exception) -> str:
    name = type(error).__name__
    for code, label in (
        ("400", "BadRequest"),
        ("401", "Unauthorized"),
        ("403", "Forbidden"),
        ("404", "NotFound"),
    ):
        if label in name:
            return f"{code} ({label.replace('NotFound', 'Not Found')})"
    return getattr(error, "strerror", None) or name


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return " ".join(str(text).split())


@dataclass(frozen=True)
class StreamFacts:
    duration_s: float | None
    start_s: float
    has_audio: bool
    has_video: bool
    width: int | None
    height: int | None
    fps: float | None
    sample_rate_hz: int | None


def probe(url: str, *, http_headers: Mapping[str, str] | None = None) -> StreamFacts:
    """Stream facts of ``url``; raises when it has neither audio nor video."""
    import av

    with open_media(url, http_headers) as container:
        video = pick_stream(container.streams.video)
        audio = pick_stream(container.streams.audio)
        if video is None and audio is None:
            raise NoMediaStreams(f"no audio or video stream in {url}")
        duration_s = container.duration / av.time_base if container.duration else None
        if duration_s is None:
            durations = [
                float(s.duration * s.time_base)
                for s in (video, audio)
                if s is not None and s.duration
            ]
            duration_s = max(durations) if durations else None
        start_s = container.start_time / av.time_base if container.start_time else 0.0
        return StreamFacts(
            duration_s=duration_s,
            start_s=start_s,
            has_audio=audio is not None,
            has_video=video is not None,
            width=video.codec_context.width if video else None,
            height=video.codec_context.height if video else None,
            fps=float(video.average_rate) if video is not None and video.average_rate else None,
            sample_rate_hz=audio.codec_context.sample_rate if audio else None,
        )


def pick_stream(streams: Any) -> Any:
    """The stream to analyze: the lowest-resolution video (fewest bytes), or the first audio."""
    usable = [s for s in streams if s.codec_context is not None and s.codec_context.name]
    if not usable:
        return None
    if usable[0].type == "video":
        return min(
            usable, key=lambda s: (s.codec_context.width or 0) * (s.codec_context.height or 0)
        )
    return usable[0]
