"""Small synthetic media with known events (see ``kickclip.demo.synthesize_stream``)."""

from __future__ import annotations

from pathlib import Path

import av

from kickclip.demo import synthesize_stream as make_media

__all__ = ["decode_duration", "eventful_stream", "make_media", "remux", "truncate"]


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
