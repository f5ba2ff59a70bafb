"""One streaming pass over the media: audio windows and per-window video statistics.

Memory stays constant in the stream's length apart from a few floats per 0.5 s window and
a time, a size and a keyframe flag per video packet (60 minutes at 30 fps: about 2 MB).
"""

from __future__ import annotations

import logging
from array import array
from contextlib import suppress
from typing import Any

import numpy as np

from kickclip.analyze import audio as audio_features
from kickclip.analyze import video as video_features
from kickclip.errors import NothingDecoded
from kickclip.ingest.probe import demux, open_media, pick_stream
from kickclip.progress import ProgressCallback, no_progress
from kickclip.records import Features, FeatureSeries, MediaInfo

HOP_S = 0.5
MAX_JUMP_S = 5.0
log = logging.getLogger(__name__)


class Timeline:
    """Seconds from media start that keep increasing across HLS discontinuities.

    A timestamp that jumps back, or ahead by more than MAX_JUMP_S, is rebased to continue
    from the last one: Kick's HLS restarts timestamps after ``#EXT-X-DISCONTINUITY``.
    """

    def __init__(self, start_s: float) -> None:
        self.offset_s = -start_s
        self.last_s: float | None = None

    def __call__(self, t: float, step_s: float) -> float:
        s = t + self.offset_s
        if self.last_s is None and not -1.0 <= s <= MAX_JUMP_S:
            # MPEG-TS timestamps are 33-bit: a stream's first (priming) packet can wrap around.
            self.offset_s -= s
            s = 0.0
        elif self.last_s is not None and (s < self.last_s - 1.0 or s > self.last_s + MAX_JUMP_S):
            self.offset_s += self.last_s + step_s - s
            s = self.last_s + step_s
        self.last_s = s if self.last_s is None else max(self.last_s, s)
        return s


def _mono_resampler() -> Any:
    import av

    return av.AudioResampler(format="flt", layout="mono", rate=audio_features.SAMPLE_RATE_HZ)


def extract_features(
    media: MediaInfo, *, thorough: bool = False, on_progress: ProgressCallback = no_progress
) -> Features:
    """Stream ``media.analysis_url`` once into audio and video feature series."""
    import av

    window_samples = int(audio_features.SAMPLE_RATE_HZ * HOP_S)
    audio_rows: list[dict[str, float]] = []
    pending = np.zeros(0, dtype=np.float32)
    audio_start_s: float | None = None
    packet_s, packet_bytes, packet_key = array("d"), array("q"), array("b")
    frames = video_features.FrameSampler(thorough=thorough, hop_s=HOP_S)
    sent: dict[int, tuple[float, bool]] = {}  # pts handed to the decoder: (time, keyframe)
    warnings: list[str] = []
    last_s = 0.0

    with open_media(
        media.analysis_url, media.http_headers, allow_private=media.allow_private
    ) as container:
        video = pick_stream(container.streams.video)
        audio = pick_stream(container.streams.audio)
        streams = [s for s in (video, audio) if s is not None]
        if video is not None:
            # Frame threading holds a few frames back: the decoder is flushed at the end.
            video.thread_type = "AUTO"
        resampler = _mono_resampler()
        clocks = {s.index: Timeline(media.start_s) for s in streams}
        frame_s = (
            1 / float(video.average_rate) if video is not None and video.average_rate else 0.04
        )
        duration_s = media.duration_s or 0.0

        def take(frame) -> None:
            if frame.pts is None:
                return
            # Flushed frames carry no time base: use the time their packet was given.
            t, is_key = sent.pop(frame.pts, (None, bool(frame.key_frame)))
            if t is None:
                t = float(frame.pts * video.time_base) + clocks[video.index].offset_s
            frames.add(frame, t, is_key=is_key)
            if len(sent) > 256:  # pts of packets the decoder dropped
                for pts in sorted(sent)[:-64]:
                    del sent[pts]

        try:
            for packet in demux(container, *streams):
                if packet.pts is None or packet.size == 0:
                    continue
                t = clocks[packet.stream.index](float(packet.pts * packet.time_base), frame_s)
                if packet.stream is audio:
                    for frame in packet.decode():
                        if audio_start_s is None:
                            audio_start_s = max(t, 0.0)
                        try:
                            resampled = resampler.resample(frame)
                        except ValueError:  # rate or layout changed mid-stream: start anew
                            resampler = _mono_resampler()
                            resampled = resampler.resample(frame)
                        for mono in resampled:
                            pending = np.concatenate([pending, mono.to_ndarray()[0]])
                        while len(pending) >= window_samples:
                            audio_rows.append(
                                audio_features.window_features(pending[:window_samples])
                            )
                            pending = pending[window_samples:]
                    continue
                packet_s.append(t)
                packet_bytes.append(packet.size)
                packet_key.append(packet.is_keyframe)
                last_s = max(last_s, t)
                if duration_s:
                    on_progress(min(t / duration_s, 1.0), "analyzing audio and video")
                if not (packet.is_keyframe or thorough):
                    continue
                sent[packet.pts] = (t, packet.is_keyframe)
                for frame in packet.decode():
                    take(frame)
        except av.error.FFmpegError as error:
            reason = getattr(error, "strerror", None) or type(error).__name__
            warnings.append(f"decoding stopped at {last_s:.1f} s of {duration_s:.1f} s: {reason}")
        if video is not None and sent:
            with suppress(av.error.FFmpegError):
                for frame in video.decode(None):
                    take(frame)

    audio_series = _audio_series(audio_rows, audio_start_s or 0.0)
    video_series = _video_series(
        np.frombuffer(packet_s, dtype=np.float64),
        np.frombuffer(packet_bytes, dtype=np.int64),
        np.frombuffer(packet_key, dtype=np.int8),
        frames,
    )
    if audio_series is None and video_series is None:
        raise NothingDecoded(f"nothing could be decoded from {media.source}")
    decoded_s = max(
        len(audio_series) * HOP_S if audio_series else 0.0,
        len(video_series) * HOP_S if video_series else 0.0,
    )
    if duration_s and decoded_s < duration_s - 2.0 and not warnings:
        warnings.append(f"only {decoded_s:.1f} s of {duration_s:.1f} s could be decoded")
    for warning in warnings:
        log.warning(warning)
    on_progress(1.0, "analysis done")
    return Features(
        duration_s=max(decoded_s, 0.0) if warnings else (duration_s or decoded_s),
        audio=audio_series,
        video=video_series,
        warnings=tuple(warnings),
    )


def _audio_series(rows: list[dict[str, float]], start_s: float) -> FeatureSeries | None:
    if not rows:
        return None
    values = {name: np.array([row[name] for row in rows]) for name in rows[0]}
    return FeatureSeries("audio", HOP_S, values, start_s=round(start_s / HOP_S) * HOP_S)


def _video_series(
    times_s: np.ndarray,
    sizes: np.ndarray,
    keys: np.ndarray,
    frames: video_features.FrameSampler,
) -> FeatureSeries | None:
    rates = video_features.activity_kbps(times_s, sizes, keys, HOP_S)
    if not (rates or frames.rows):
        return None
    windows = max([*rates, *frames.rows]) + 1
    activity = np.full(windows, np.nan)
    for window, rate in rates.items():
        activity[window] = rate
    values = {"activity_kbits": _fill(activity)}
    for name, column in frames.columns(windows).items():
        values[name] = _fill(column)
    return FeatureSeries("video", HOP_S, values)


def _fill(series: np.ndarray) -> np.ndarray:
    """Carry the last known value forward (the first known one backward); 0 when none."""
    known = np.flatnonzero(~np.isnan(series))
    if known.size == 0:
        return np.zeros_like(series)
    index = np.maximum.accumulate(np.where(~np.isnan(series), np.arange(len(series)), 0))
    filled = series[index]
    filled[: known[0]] = series[known[0]]
    return filled
