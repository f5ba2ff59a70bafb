"""Cut a highlight into a clip file and a JPEG thumbnail, atomically.

Default: stream copy from the keyframe at or before the window start (never cutting into the
moment; the real start is stored and named). ``accurate``: decode and re-encode exactly the
window as H.264 + AAC. Files are written under a temporary name and renamed when complete, so
an interrupted run leaves no half-written clip: temporary names carry the process id
(``.kickclip-<pid>-….part.mp4``), so ``cleanup`` can tell a dead run's leftovers from a running
one's. A clip file also carries its own description (``note``, the MP4 ``comment`` tag), so a
file that lost its database row (a kill between rename and registration) can be registered
again.

Seeking is never trusted to land before the wanted time: MPEG-TS (how HLS and Kick arrive)
seeks by bytes and timestamps and often lands a keyframe or two late. Every cut seeks a margin
earlier, goes further back while the first keyframe it sees is still late, and then reads
forward to the right packet.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from kickclip.errors import CutError, KickclipError
from kickclip.fs import temp_file
from kickclip.ingest.probe import demux, open_media, pick_stream
from kickclip.records import CutClip, Highlight, MediaInfo

THUMBNAIL_WIDTH = 320
SEEK_MARGIN_S = 1.0  # first seek this far before the wanted time; doubled on every retry
_EPS_S = 1e-6


def _clock(seconds: float) -> str:
    whole = int(round(seconds, 3))
    return f"{whole // 3600:02d}h{whole // 60 % 60:02d}m{whole % 60:02d}s"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:40].strip("-") or "stream"


def clip_path(media: MediaInfo, highlight: Highlight, out_dir: Path, suffix: str) -> Path:
    """``<source>_<start>-<end>_<type>.mp4``, numbered when the name is taken.

    ``cut_clip`` passes the highlight with the clip's real start and end, so the name tells
    where the clip really begins (a stream copy starts at the keyframe before the window).
    """
    stem = (
        f"{_slug(media.title)}_{_clock(highlight.start_s)}-{_clock(highlight.end_s)}_"
        f"{highlight.clip_type}"
    )
    path, number = out_dir / f"{stem}{suffix}", 2
    while path.exists():
        path, number = out_dir / f"{stem}-{number}{suffix}", number + 1
    return path


def cut_clip(
    media: MediaInfo,
    highlight: Highlight,
    out_dir: Path,
    *,
    accurate: bool = False,
    note: str | None = None,
) -> CutClip:
    """Write the clip and its thumbnail into ``out_dir``; return the real times.

    ``note`` is written into the clip's ``comment`` tag.
    """
    import av

    suffix = ".mp4" if media.has_video else ".m4a"
    part = None
    # The name needs the real start, known only after cutting: write under temporary names.
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        part = _temp_path(out_dir, f".part{suffix}")
        thumb_part = _temp_path(out_dir, ".part.jpg")
    except OSError as error:  # read-only, no inodes left, not a folder
        if part is not None:
            part.unlink(missing_ok=True)
        raise CutError(f"cannot write clips into {out_dir}: {error.strerror or error}") from None
    dest: Path | None = None
    try:
        try:
            if accurate:
                raise _NotCopied
            start_s, end_s = _copy(media, highlight, part, note)
        except _NotCopied:
            start_s, end_s = _reencode(media, highlight, part, note)
        if media.has_video:
            _thumbnail(part, highlight.peak_s - start_s, thumb_part)
        else:  # a poster for galleries: the clip's waveform
            _waveform(part, thumb_part)
        dest = clip_path(media, replace(highlight, start_s=start_s, end_s=end_s), out_dir, suffix)
        thumbnail = dest.with_suffix(".jpg")
        os.replace(thumb_part, thumbnail)
        os.replace(part, dest)
        thumb_part.unlink(missing_ok=True)
    except BaseException as error:
        part.unlink(missing_ok=True)
        thumb_part.unlink(missing_ok=True)
        if dest is not None and not dest.exists():  # the thumbnail goes first; never alone
            dest.with_suffix(".jpg").unlink(missing_ok=True)
        if isinstance(error, av.error.FFmpegError | OSError) and not isinstance(
            error, KickclipError
        ):
            reason = getattr(error, "strerror", None) or str(error)
            raise CutError(
                f"cannot cut {highlight.start_s:.1f}-{highlight.end_s:.1f} s from "
                f"{media.source}: {reason}"
            ) from None
        raise
    return CutClip(filepath=dest, thumbnail=thumbnail, start_s=start_s, end_s=end_s)


TEMP_PREFIX = ".kickclip-"


def _temp_path(out_dir: Path, suffix: str) -> Path:
    fd, path = temp_file(out_dir, f"{TEMP_PREFIX}{os.getpid()}-", suffix)
    os.close(fd)
    return path


def _seconds(packet: Any) -> float:
    return float(packet.pts * packet.time_base)


def _packets_from(
    source: Any, inputs: list[Any], anchor: Any, at: float, floor: float
) -> Iterator[Any]:
    """Demux ``inputs`` from a point whose first ``anchor`` keyframe is at or before ``at``.

    Times are stream times in seconds; ``floor`` is the container's start. Seeks
    SEEK_MARGIN_S before ``at`` and twice as far back each time the first keyframe read is
    still after ``at``; from the start of the file it takes what is there. Anchor packets
    before that first keyframe are dropped (they cannot be decoded); the end-of-file flush
    packets (``pts`` None) are passed on.
    """
    margin = SEEK_MARGIN_S
    while True:
        target = at - margin
        from_start = target <= floor
        source.seek(
            int(max(target, floor) / anchor.time_base),
            stream=anchor,
            backward=True,
            any_frame=False,
        )
        packets = demux(source, *inputs)
        held: list[Any] = []  # packets of the other streams read before the first keyframe
        first = None
        for packet in packets:
            if packet.stream is not anchor:
                if packet.pts is not None:
                    held.append(packet)
                continue
            if packet.pts is not None and packet.is_keyframe:
                first = packet
                break
        if first is not None and (_seconds(first) <= at + _EPS_S or from_start):
            yield from held
            yield first
            yield from packets
            return
        if first is None and from_start:
            yield from held
            return
        margin *= 2


def _decoded(packets: Iterator[Any]) -> Iterator[Any]:
    for packet in packets:
        yield from packet.decode()


def _output(part: Path, note: str | None) -> Any:
    import av

    out = av.open(str(part), "w", format="mp4", options={"movflags": "+faststart"})
    if note is not None:
        out.metadata["comment"] = note
    return out


# What every player and upload form takes inside an MP4; other codecs (VP8/VP9, Opus, MP3,
# MJPEG, PNG …) are encoded to H.264 + AAC instead of copied.
COPYABLE_CODECS = {"video": ("h264",), "audio": ("aac",)}


class _NotCopied(Exception):
    """The clip is encoded instead: asked for (``--accurate``) or a codec MP4 does not take."""


def _copy(
    media: MediaInfo, highlight: Highlight, part: Path, note: str | None
) -> tuple[float, float]:
    """Remux packets from the keyframe at or before the start until the end is covered.

    Reads forward from a seek point before the start and keeps the packets from the LAST
    keyframe at or before the start (only those since the latest such keyframe are held),
    so the clip never begins after the requested start, whatever the container's seek did.
    """

    with open_media(media.cut_url, media.http_headers, allow_private=media.allow_private) as source:
        video = _best(source.streams.video)
        audio = pick_stream(source.streams.audio)
        inputs = [s for s in (video, audio) if s is not None]
        if any(s.codec_context.name not in COPYABLE_CODECS[s.type] for s in inputs):
            raise _NotCopied
        anchor = video or audio
        want_start = highlight.start_s + media.start_s
        want_end = highlight.end_s + media.start_s
        with _output(part, note) as out:
            outputs = {s.index: out.add_stream_from_template(s) for s in inputs}
            origin: float | None = None  # time of the chosen keyframe
            chosen = False  # no later keyframe can be at or before the start any more
            held: list[Any] = []  # packets since the latest candidate keyframe
            last_end = 0.0

            def emit(packet: Any) -> None:
                nonlocal last_end
                t = _seconds(packet)
                if t < origin or t >= want_end:
                    return
                shift = round(origin / packet.time_base)
                packet.pts -= shift
                packet.dts -= shift
                packet.stream = outputs[packet.stream.index]
                out.mux(packet)
                duration = float((packet.duration or 0) * packet.time_base)
                last_end = max(last_end, t + duration)

            for packet in _packets_from(source, inputs, anchor, want_start, media.start_s):
                if packet.pts is None or packet.dts is None:
                    continue
                t = _seconds(packet)
                if not chosen and packet.stream is anchor:
                    if packet.is_keyframe and (origin is None or t <= want_start + _EPS_S):
                        # A later keyframe still at or before the start: begin there instead.
                        origin = t
                        held = [p for p in held if p.stream is not anchor and _seconds(p) >= t]
                    # pts >= dts, so once the decode time passes the start (or the only
                    # keyframe there is comes after it) no better keyframe can follow.
                    if float(packet.dts * packet.time_base) > want_start + _EPS_S or (
                        origin is not None and origin > want_start + _EPS_S
                    ):
                        chosen = True
                        held.append(packet)
                        for waiting in held:
                            emit(waiting)
                        held = []
                        continue
                if not chosen:
                    held.append(packet)
                    continue
                if t >= want_end and packet.stream is anchor:
                    break
                emit(packet)
            if origin is None:
                raise CutError(f"nothing to cut at {highlight.start_s:.1f} s in {media.source}")
            for waiting in held:  # the source ended before the start was passed
                emit(waiting)
    end = highlight.end_s if last_end >= want_end - 1e-3 else last_end - media.start_s
    return origin - media.start_s, end


def _best(streams):
    usable = [s for s in streams if s.codec_context is not None]
    return max(usable, key=lambda s: s.codec_context.width * s.codec_context.height, default=None)


def _reencode(
    media: MediaInfo, highlight: Highlight, part: Path, note: str | None
) -> tuple[float, float]:
    """Decode from the keyframe before the start; encode exactly [start, end)."""
    import av

    start_s, end_s = highlight.start_s, highlight.end_s
    with open_media(media.cut_url, media.http_headers, allow_private=media.allow_private) as source:
        video = _best(source.streams.video)
        audio = pick_stream(source.streams.audio)
        inputs = [s for s in (video, audio) if s is not None]
        anchor = video or audio
        packets = _packets_from(source, inputs, anchor, start_s + media.start_s, media.start_s)
        with _output(part, note) as out:
            vout = aout = None
            if video is not None:
                fps = video.average_rate or Fraction(30)
                vout = out.add_stream("libx264", rate=fps)
                # 4:2:0 needs even sides: an odd-sized source loses its last row or column.
                vout.width = video.codec_context.width // 2 * 2
                vout.height = video.codec_context.height // 2 * 2
                vout.pix_fmt = "yuv420p"
                vout.options = {"preset": "veryfast", "crf": "20"}
                vframes = 0
            if audio is not None:
                rate = audio.codec_context.sample_rate or 48_000
                aout = out.add_stream("aac", rate=rate)
                aout.layout = "stereo" if audio.codec_context.channels > 1 else "mono"
                audio_out = _ExactAudio(aout, rate, round((end_s - start_s) * rate))
            done = {s.index: False for s in inputs}
            for frame in _decoded(packets):
                if frame.time is None:
                    continue
                t = float(frame.time) - media.start_s
                is_video = isinstance(frame, av.VideoFrame)
                if t >= end_s:
                    done[video.index if is_video else audio.index] = True
                    if all(done.values()):
                        break
                    continue
                if is_video:
                    if t < start_s:
                        continue
                    frame.pts, frame.time_base = vframes, 1 / Fraction(fps)
                    vframes += 1
                    picture = frame.reformat(width=vout.width, height=vout.height, format="yuv420p")
                    out.mux(vout.encode(picture))
                elif t + frame.samples / frame.sample_rate > start_s:
                    out.mux(audio_out.encode(frame, start_s - t))
            if vout is not None:
                out.mux(vout.encode(None))
            if aout is not None:
                out.mux(audio_out.flush())
    return start_s, end_s


class _ExactAudio:
    """Encode audio that starts on the sample at the clip's start and holds exactly
    ``total`` samples: a word the boundary avoided is not let in by a whole AAC frame."""

    FRAME = 1024  # samples per AAC frame

    def __init__(self, stream: Any, rate: int, total: int) -> None:
        import av

        self.stream, self.rate, self.total = stream, rate, total
        self.resampler = av.AudioResampler(format="fltp", layout=stream.layout, rate=rate)
        self.fifo = av.AudioFifo()
        self.taken = 0  # samples let into the fifo
        self.written = 0  # samples encoded
        self.started = False

    def encode(self, frame: Any, lead_s: float) -> list[Any]:
        """Encode ``frame``, which begins ``lead_s`` seconds before the clip's start (the
        first one only: later frames follow on)."""
        frame.pts = None
        for chunk in self.resampler.resample(frame):
            samples = chunk.to_ndarray()
            if not self.started:  # drop what precedes the start
                samples = samples[:, max(round(lead_s * self.rate), 0) :]
                self.started = True
            samples = samples[:, : max(self.total - self.taken, 0)]
            if samples.shape[1]:
                self._write(samples)
        return self._drain(final=False)

    def flush(self) -> list[Any]:
        return [*self._drain(final=True), *self.stream.encode(None)]

    def _write(self, samples: Any) -> None:
        import av
        import numpy as np

        part = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples), format="fltp", layout=self.stream.layout
        )
        part.sample_rate = self.rate
        part.pts = self.taken
        part.time_base = Fraction(1, self.rate)
        self.fifo.write(part)
        self.taken += samples.shape[1]

    def _drain(self, *, final: bool) -> list[Any]:
        packets = []
        while self.fifo.samples >= self.FRAME or (final and self.fifo.samples):
            chunk = self.fifo.read(min(self.FRAME, self.fifo.samples))
            chunk.pts, chunk.time_base = self.written, Fraction(1, self.rate)
            self.written += chunk.samples
            packets += self.stream.encode(chunk)
        return packets


def _thumbnail(clip: Path, at_s: float, dest: Path) -> None:
    """A JPEG of the clip's first frame at or after ``at_s`` (seconds into the clip),
    THUMBNAIL_WIDTH wide. Read from the clip just written, not the source: a remote source's
    segments are fetched once."""
    import av

    with av.open(str(clip)) as source:
        video = source.streams.video[0]
        start = video.start_time or 0
        source.seek(start + int(max(at_s, 0) / video.time_base), stream=video, backward=True)
        chosen = None
        for frame in source.decode(video):
            chosen = frame
            if frame.time is not None and frame.time - start * video.time_base >= at_s:
                break
        if chosen is None:
            raise CutError(f"no picture for a thumbnail at {at_s:.1f} s of {clip.name}")
        height = max(2, round(chosen.height * THUMBNAIL_WIDTH / chosen.width / 2) * 2)
        _save_jpeg(chosen.reformat(width=THUMBNAIL_WIDTH, height=height, format="yuvj420p"), dest)


WAVEFORM_HEIGHT = 96
WAVEFORM_RATE = 8000
BACKGROUND, WAVE = (31, 41, 55), (249, 115, 22)


def _waveform(clip: Path, dest: Path) -> None:
    """A JPEG of the clip's waveform (peak per column), THUMBNAIL_WIDTH wide."""
    import av
    import numpy as np

    chunks = []
    with av.open(str(clip)) as source:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=WAVEFORM_RATE)
        for frame in source.decode(audio=0):
            chunks += [chunk.to_ndarray()[0] for chunk in resampler.resample(frame)]
    samples = np.abs(np.concatenate(chunks)) if chunks else np.zeros(THUMBNAIL_WIDTH)
    columns = np.array_split(samples, THUMBNAIL_WIDTH)
    peaks = np.array([column.max() if len(column) else 0.0 for column in columns])
    peaks = peaks / peaks.max() if peaks.max() > 0 else peaks
    half = WAVEFORM_HEIGHT // 2
    rows = np.abs(np.arange(WAVEFORM_HEIGHT) - half + 0.5)[:, None]
    lit = rows <= np.maximum(peaks * (half - 2), 1.0)[None, :]
    image = np.where(lit[..., None], np.array(WAVE), np.array(BACKGROUND)).astype(np.uint8)
    frame = av.VideoFrame.from_ndarray(image, format="rgb24")
    _save_jpeg(frame.reformat(format="yuvj420p"), dest)


def _save_jpeg(image: Any, dest: Path) -> None:
    import av

    with av.open(str(dest), "w", format="image2") as out:
        stream = out.add_stream("mjpeg", rate=1)
        stream.width, stream.height, stream.pix_fmt = image.width, image.height, "yuvj420p"
        image.pts = 0
        out.mux(stream.encode(image))
        out.mux(stream.encode(None))
