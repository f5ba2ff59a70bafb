"""Small synthetic media with known events (see ``kickclip.demo.synthesize_stream``)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from kickclip.demo import synthesize_stream as make_media

__all__ = [
    "JFK",
    "decode_duration",
    "eventful_stream",
    "jfk_stream",
    "make_media",
    "remux",
    "truncate",
]
# President Kennedy's inaugural address, 1961 (a work of the US government, public domain),
# 11 s, as faster-whisper's own tests ship it (``tests/data/jfk.flac``), 16 kHz mono AAC.
JFK = Path(__file__).parent / "data" / "jfk.m4a"
SPEECH_RATE = 16_000


def eventful_stream(path: Path | str) -> Path:
    """150 s with five shouts and five bursts of action: ten clips at 6 s / 10 s gap."""
    return make_media(
        path,
        duration_s=150,
        bursts=[(10, 12), (40, 42), (70, 72), (100, 102), (130, 132)],
        action=[(25, 28), (55, 58), (85, 88), (115, 118), (140, 143)],
    )


def remux(src: Path | str, dest: Path | str, *, offset_s: float = 0.0) -> Path:
    """Stream-copy ``src`` into ``dest`` (container from the suffix), timestamps + ``offset_s``.

    Into ``.ts`` this gives interleaved MPEG-TS as an HLS recording is (the synthesizer writes
    all video before all audio, which a TS reader cannot probe); ``offset_s=1.4`` is FFmpeg's
    usual TS start and an offset just under 2**33 / 90 kHz makes the 33-bit clock wrap.
    """
    dest = Path(dest)
    with av.open(str(src)) as source, av.open(str(dest), "w") as out:
        streams = [s for s in source.streams if s.type in ("video", "audio")]
        outputs = {s.index: out.add_stream_from_template(s) for s in streams}
        for packet in source.demux(*streams):
            if packet.dts is None:
                continue
            shift = round(offset_s / packet.time_base)
            packet.pts += shift
            packet.dts += shift
            packet.stream = outputs[packet.stream.index]
            out.mux(packet)
    return dest


def truncate(path: Path | str, keep_fraction: float = 0.5) -> Path:
    """Cut a file's bytes short, as an interrupted download would."""
    path = Path(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep_fraction)])
    return path


def decode_duration(path: Path | str) -> tuple[float, int]:
    """Decode every packet of a file; return (seconds of video or audio, frames decoded)."""
    with av.open(str(path)) as container:
        stream = (container.streams.video or container.streams.audio)[0]
        last, frames = 0.0, 0
        for frame in container.decode(stream):
            frames += 1
            end = float(frame.time) + (
                1 / float(stream.average_rate)
                if stream.type == "video"
                else frame.samples / frame.sample_rate
            )
            last = max(last, end)
        start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    return last - start, frames


def jfk_stream(
    path: Path,
    *,
    duration_s: float = 36.0,
    speech_at_s: float = 12.0,
    noise: Sequence[tuple[float, float]] = (),
) -> Path:
    """Pictures that change slowly, a quiet room, and JFK's speech at ``speech_at_s`` (the
    loudest thing in it unless ``noise`` bursts, louder, are planted), 15 fps with a keyframe
    every 2 s."""
    from kickclip.words.speech import read_audio

    rate = SPEECH_RATE
    rng = np.random.default_rng(3)
    voice = read_audio(str(JFK), 0.0, 10_000.0)
    audio = (rng.standard_normal(int(duration_s * rate)) * 0.002).astype(np.float32)
    at = int(speech_at_s * rate)
    audio[at : at + len(voice)] += voice
    for start, end in noise:
        burst = slice(int(start * rate), int(end * rate))
        audio[burst] += (rng.standard_normal(burst.stop - burst.start) * 0.5).astype(np.float32)
    fps = 15
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 160, 96, "yuv420p"
        video.codec_context.gop_size = 2 * fps
        video.options = {"preset": "ultrafast", "bf": "0", "sc_threshold": "0"}
        sound = out.add_stream("aac", rate=rate)
        sound.layout = "mono"
        for n in range(int(duration_s * fps)):
            picture = np.full((96, 160, 3), 40 + (n // 30) % 4 * 20, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = n
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        for n, first in enumerate(range(0, len(audio), 1024)):
            chunk = audio[first : first + 1024].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, n * 1024, Fraction(1, rate)
            out.mux(sound.encode(frame))
        out.mux(sound.encode(None))
    return path
