"""Read a clip, lay it out, caption it, bring its sound to -14 LUFS, write an H.264 + AAC MP4.

Two passes over the clip's own file (local, short): a survey of small frames a few times a
second (faces, motion, cuts), then the render. The output goes to a temporary file renamed
into place when complete, at 30 fps.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from kickclip.errors import CutError, InvalidInput
from kickclip.fs import temp_file
from kickclip.post import captions as captioning
from kickclip.post import framing
from kickclip.post.loudness import normalise
from kickclip.progress import ProgressCallback, no_progress
from kickclip.records import Word

FPS = 30
AUDIO_RATE = 48_000
# What keeps a 1080×1920 export under 1.5× realtime on 2 cores: x264's fastest preset (about
# 5 Mbit/s at this size, twice superfast's; the platforms encode again anyway). superfast with
# zerolatency took 1.6 s per clip second, this 0.9 (benchmarks/bench_export.py).
ENCODER_OPTIONS = {"preset": "ultrafast", "crf": "21"}
CAPTION_BAND = {"stack": 0.62, "crop": 0.72, "fit": 0.80}  # centre of the band, share of height


@dataclass(frozen=True)
class PostOptions:
    aspect: str = "9:16"
    layout: str = "auto"
    facecam: framing.Rect | None = None
    captions: str = "burn"
    subtitles: Path | None = None  # an edited SRT or VTT to burn instead of the heard words

    def size(self) -> tuple[int, int]:
        if self.aspect not in framing.ASPECTS:
            raise InvalidInput(
                f"--aspect is one of {', '.join(framing.ASPECTS)}; got {self.aspect!r}"
            )
        return framing.ASPECTS[self.aspect]

    def check(self) -> None:
        self.size()
        if self.layout not in framing.LAYOUTS:
            raise InvalidInput(
                f"--layout is one of {', '.join(framing.LAYOUTS)}; got {self.layout!r}"
            )
        if self.captions not in captioning.CAPTIONS:
            raise InvalidInput(
                f"--captions is one of {', '.join(captioning.CAPTIONS)}; got {self.captions!r}"
            )


@dataclass(frozen=True)
class Rendered:
    filepath: Path
    width: int
    height: int
    layout: str
    facecam: framing.Rect | None
    subtitles: Path | None


def render(
    clip: Path,
    duration: float,
    words: Sequence[Word],
    clip_start: float,
    options: PostOptions,
    dest: Path,
    *,
    on_progress: ProgressCallback = no_progress,
) -> Rendered:
    """Write ``dest`` from ``clip`` (whose first frame is ``clip_start`` of its source)."""
    import av

    options.check()
    size = options.size()
    with av.open(str(clip)) as source:
        if not source.streams.video:
            raise InvalidInput(f"{clip.name} has no picture: there is nothing to frame")
        video = source.streams.video[0]
        width, height = video.codec_context.width, video.codec_context.height
    facecam = (
        None if options.facecam is None else framing.check_inside(options.facecam, width, height)
    )
    on_progress(0.0, "looking at the clip")
    small = framing.survey_size(width, height)

    def shrunk(frame: Any) -> Any:
        return lambda: frame.reformat(width=small[0], height=small[1], format="rgb24").to_ndarray()

    found = framing.survey(((t, shrunk(f)) for t, f in _frames(clip)), width, height)
    layout, layout_name, facecam = framing.layout_for(options.layout, size, found, facecam)
    cues = (
        captioning.read_subtitles(options.subtitles, duration)
        if options.subtitles is not None
        else captioning.cues_from_words(words, clip_start, duration)
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    subtitles = captioning.write_subtitles(cues, dest) if options.captions != "none" else None
    painter = (
        captioning.CaptionPainter(cues, size, CAPTION_BAND[layout_name])
        if options.captions == "burn" and cues
        else None
    )
    sound = _sound(clip, duration)
    fd, part = temp_file(dest.parent, f".{dest.stem}-", ".part.mp4")
    os.close(fd)
    try:
        _encode(clip, part, size, duration, layout, painter, sound, on_progress)
        os.replace(part, dest)
    except BaseException as error:
        part.unlink(missing_ok=True)
        if isinstance(error, av.error.FFmpegError):
            raise CutError(f"cannot export {clip.name}: {error}") from None
        raise
    return Rendered(dest, size[0], size[1], layout_name, facecam, subtitles)


def _frames(clip: Path) -> Iterator[tuple[float, Any]]:
    """(seconds from the clip's first frame, decoded frame) for every frame of the clip."""
    import av

    with av.open(str(clip)) as source:
        video = source.streams.video[0]
        video.thread_type = "AUTO"
        origin = None
        for frame in source.decode(video):
            if frame.time is None:
                continue
            origin = frame.time if origin is None else origin
            yield float(frame.time - origin), frame


def _sound(clip: Path, duration: float) -> np.ndarray | None:
    """The clip's audio as 48 kHz stereo float, exactly ``duration`` long, at -14 LUFS."""
    import av

    with av.open(str(clip)) as source:
        if not source.streams.audio:
            return None
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=AUDIO_RATE)
        chunks = [
            chunk.to_ndarray().reshape(-1, 2)
            for frame in source.decode(source.streams.audio[0])
            for chunk in resampler.resample(frame)
        ]
    samples = np.concatenate(chunks) if chunks else np.zeros((0, 2), dtype=np.float32)
    wanted = round(duration * AUDIO_RATE)
    if len(samples) < wanted:
        samples = np.concatenate([samples, np.zeros((wanted - len(samples), 2), np.float32)])
    return normalise(samples[:wanted], AUDIO_RATE)


def _encode(
    clip: Path,
    part: Path,
    size: tuple[int, int],
    duration: float,
    layout: framing.Layout,
    painter: captioning.CaptionPainter | None,
    sound: np.ndarray | None,
    on_progress: ProgressCallback,
) -> None:
    import av

    width, height = size
    total = max(1, round(duration * FPS))
    with av.open(str(part), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        vout = out.add_stream("libx264", rate=FPS)
        vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
        vout.options = dict(ENCODER_OPTIONS)
        aout = None
        if sound is not None:
            aout = out.add_stream("aac", rate=AUDIO_RATE)
            aout.layout = "stereo"
            aout.bit_rate = 160_000
        sent_audio = 0
        for n, yuv in _pictures(clip, size, total, layout, painter):
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            frame.pts, frame.time_base = n, Fraction(1, FPS)
            out.mux(vout.encode(frame))
            if aout is not None:  # keep the sound interleaved with the picture
                due = min(round(((n + 1) / FPS + 0.2) * AUDIO_RATE), len(sound))
                sent_audio = _send_audio(out, aout, sound, sent_audio, due)
            if n % 15 == 0:
                on_progress(0.1 + 0.9 * n / total, f"frame {n} of {total}")
        out.mux(vout.encode(None))
        if aout is not None:
            _send_audio(out, aout, sound, sent_audio, len(sound))
            out.mux(aout.encode(None))


def _pictures(
    clip: Path,
    size: tuple[int, int],
    total: int,
    layout: framing.Layout,
    painter: captioning.CaptionPainter | None,
) -> Iterator[tuple[int, np.ndarray]]:
    """The ``total`` output frames as YUV 4:2:0 arrays, made on a thread of their own while
    the encoder works on the ones before (decoding, OpenCV and NumPy release the GIL)."""
    import queue
    import threading

    import cv2

    ready: queue.Queue = queue.Queue(maxsize=8)
    stop = threading.Event()
    done = object()

    def put(item: object) -> None:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def make() -> None:
        try:
            n, base = 0, None

            def emit(upto_t: float | None) -> None:
                nonlocal n
                while n < total and (upto_t is None or n / FPS < upto_t) and not stop.is_set():
                    picture = base if painter is None else base.copy()
                    if painter is not None:
                        painter.paint(picture, n / FPS)
                    put((n, cv2.cvtColor(picture, cv2.COLOR_RGB2YUV_I420)))
                    n += 1

            for t, frame in _frames(clip):
                if base is not None:
                    emit(t)
                if n >= total or stop.is_set():
                    break
                base = layout.draw(frame.to_ndarray(format="rgb24"), t)
            if base is None:
                raise InvalidInput(f"{clip.name} has no frame to export")
            emit(None)
            put(done)
        except BaseException as error:  # handed to the encoding thread, raised there
            put(error)

    worker = threading.Thread(target=make, name="kickclip-export", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _send_audio(out: Any, stream: Any, sound: np.ndarray, sent: int, due: int) -> int:
    import av

    step = 1024
    while sent + step <= due or (due == len(sound) and sent < due):
        chunk = sound[sent : min(sent + step, due)]
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(chunk.reshape(1, -1)), format="flt", layout="stereo"
        )
        frame.sample_rate, frame.pts, frame.time_base = AUDIO_RATE, sent, Fraction(1, AUDIO_RATE)
        out.mux(stream.encode(frame))
        sent += len(chunk)
    return sent
