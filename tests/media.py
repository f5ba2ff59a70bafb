"""Small synthetic media with known events (see ``kickclip.demo.synthesize_stream``)."""

from __future__ import annotations

from pathlib import Path

import av

from kickclip.demo import synthesize_stream as make_media

__all__ = ["decode_duration", "eventful_stream", "make_media", "truncate"]


def eventful_stream(path: Path | str) -> Path:
    """150 s with five shouts and five bursts of action: ten clips at 6 s / 10 s gap."""
    return make_media(
        path,
        duration_s=150,
        bursts=[(10, 12), (40, 42), (70, 72), (100, 102), (130, 132)],
        action=[(25, 28), (55, 58), (85, 88), (115, 118), (140, 143)],
    )


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
