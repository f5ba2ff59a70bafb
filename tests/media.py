"""Small synthetic media with known events (see ``kickclip.demo.synthesize_stream``)."""

from __future__ import annotations

from pathlib import Path

import av

from kickclip.demo import synthesize_stream as make_media

__all__ = ["decode_duration", "make_media", "truncate"]


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
