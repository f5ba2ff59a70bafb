"""Open a media input once with PyAV and describe it; every later stage trusts this."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kickclip.errors import (
    NoMediaStreams,
    NotAMediaFile,
    SourceNotFound,
    SourceUnreachable,
)
from kickclip.ingest.sources import (
    REMOTE_SCHEMES,
    is_local_path,
    quoted,
    refuse_scheme,
    shorten,
    url_scheme,
)

# What FFmpeg may open, the input and everything it pulls in (playlist entries, keys):
# a local file reads files only; a remote input reads over HTTP(S) only (httpproxy: the
# tunnel FFmpeg uses for https behind an http_proxy), so no playlist can reach a local file
# (file:, concat:, subfile:) or open other sockets (udp, rtp from an SDP).
LOCAL_PROTOCOLS = "file"
REMOTE_PROTOCOLS = "http,https,tls,tcp,crypto,httpproxy"


if TYPE_CHECKING:
    from kickclip.records import MediaInfo


def is_remote(url: str) -> bool:
    """An http(s) address (not an existing local path); other schemes are refused."""
    if is_local_path(url):
        return False
    scheme = url_scheme(url)
    if scheme is None:
        return False
    if scheme.lower() not in REMOTE_SCHEMES:
        raise refuse_scheme(scheme, url)
    return True


def open_options(url: str) -> dict[str, str]:
    """PyAV (FFmpeg) options for reading ``url``: the protocol whitelist (what FFmpeg may
    open besides through ``io_open``); for HLS no persistent connection, whose reuse
    ``io_open`` cannot offer."""
    if not is_remote(url):
        return {"protocol_whitelist": LOCAL_PROTOCOLS}
    return {"protocol_whitelist": REMOTE_PROTOCOLS, "http_persistent": "0"}


def open_media(
    url: str, http_headers: Mapping[str, str] | None = None, *, allow_private: bool = False
) -> Any:
    """``av.open`` for reading, every file it pulls in opened by ``ingest.fetch``'s rules
    (public addresses unless ``allow_private``; a local input's entries in its own folder),
    with the user-facing error for each way it fails. The one place kickclip opens an input."""
    import av

    from kickclip.ingest.fetch import Access, io_opener

    shown = quoted(url)
    remote = is_remote(url)  # refuses other schemes before anything connects
    if not remote and not is_local_path(url):
        raise SourceNotFound(shorten(f"file not found: {shown}"))
    if not remote and os.path.isdir(url):
        raise NotAMediaFile(shorten(f"not a media file: {shown} is a folder"))
    # A local path goes to FFmpeg absolute, so no name in it ("concat:…") reads as a protocol.
    target = url if remote else os.path.abspath(url)
    access = Access(allow_private=allow_private)
    try:
        return av.open(
            target,
            options=open_options(url),
            timeout=15,
            io_open=io_opener(target, access, http_headers),
            metadata_errors="replace",  # a title in another encoding is not a broken file
        )
    except av.error.HTTPError as error:  # 4xx/5xx
        raise SourceUnreachable(
            shorten(f"cannot read {shown}: HTTP error {_status(error)}")
        ) from None
    except av.error.InvalidDataError:
        raise NotAMediaFile(shorten(f"not a media file: {shown}")) from None
    except av.error.FFmpegError as error:
        if not remote:  # a file that opens but FFmpeg cannot read (empty, say)
            raise NotAMediaFile(shorten(f"not a media file: {shown}")) from None
        raise SourceUnreachable(shorten(f"cannot read {shown}: {_reason(error)}")) from None
    except OSError as error:
        if not remote and error.errno not in (errno.EACCES, errno.EPERM):
            raise NotAMediaFile(shorten(f"not a media file: {shown}")) from None
        raise SourceUnreachable(
            shorten(f"cannot read {shown}: {error.strerror or error}")
        ) from None


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

    def as_media(self, **fields: Any) -> MediaInfo:
        """A ``MediaInfo`` with these facts and ``fields`` (the source, its URLs, …)."""
        from dataclasses import asdict

        from kickclip.records import MediaInfo

        return MediaInfo(**{**asdict(self), **fields})


def probe(
    url: str, *, http_headers: Mapping[str, str] | None = None, allow_private: bool = False
) -> StreamFacts:
    """Stream facts of ``url``; raises when it has neither audio nor video."""
    import av

    with open_media(url, http_headers, allow_private=allow_private) as container:
        video = pick_stream(container.streams.video)
        audio = pick_stream(container.streams.audio)
        if video is None and audio is None:
            raise NoMediaStreams(shorten(f"no audio or video stream in {quoted(url)}"))
        if video is not None:
            _check_frame_size(url, video.codec_context.width, video.codec_context.height)
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


MAX_FRAME_PIXELS = 8192 * 8192  # 8K and then some: one decoded frame stays near 100 MB


def _check_frame_size(url: str, width: int | None, height: int | None) -> None:
    if (width or 0) * (height or 0) > MAX_FRAME_PIXELS:
        raise NotAMediaFile(
            shorten(
                f"{quoted(url)}: video frames of {width}×{height} are larger than kickclip "
                f"analyses (at most {MAX_FRAME_PIXELS:,} pixels, 8192×8192)"
            )
        )


def demux(container: Any, *streams: Any) -> Iterator[Any]:
    """``container.demux(*streams)``; a stream that appears in the middle of the file (as a
    damaged MPEG-TS can announce) ends it as a read error, which PyAV reports as IndexError."""
    import av

    packets = container.demux(*streams)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except IndexError:
            raise av.error.InvalidDataError(
                errno.EINVAL, "a stream appeared in the middle of the file"
            ) from None
        yield packet


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


def keyframes_between(
    media: MediaInfo, start_s: float, end_s: float, width: int
) -> list[tuple[float, Any]]:
    """(seconds of the source, RGB picture ``width`` wide) of each keyframe in [start_s,
    end_s] of ``media``'s cut rendition: a strip of the stream for the eye, for the price of
    decoding one frame in a GOP (a remote VOD fetches the segments of the span only)."""
    import av

    pictures: list[tuple[float, Any]] = []
    with open_media(media.cut_url, media.http_headers, allow_private=media.allow_private) as src:
        video = pick_stream(src.streams.video)
        if video is None:
            return pictures
        video.codec_context.skip_frame = "NONKEY"
        at = media.start_s + max(start_s, 0.0)
        if at > (src.start_time or 0) / av.time_base:
            src.seek(int(at / video.time_base), stream=video, backward=True)
        try:
            for packet in demux(src, video):
                for frame in packet.decode():
                    if frame.time is None:
                        continue
                    t = float(frame.time) - media.start_s
                    if t > end_s:
                        return pictures
                    if t >= start_s - 2.0:  # the keyframe just before the span shows its start
                        height = max(2, round(frame.height * width / frame.width / 2) * 2)
                        picture = frame.reformat(width=width, height=height, format="rgb24")
                        pictures.append((max(t, start_s), picture.to_ndarray()))
        except (av.error.FFmpegError, ValueError):
            pass  # damaged from here on: the strip shows what came before
    return pictures
