"""Record a live stream to a local file (stream copy), kept as the clip source."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from kickclip.errors import SourceUnreachable
from kickclip.ingest.live import StreamClock
from kickclip.ingest.probe import demux, open_media, pick_stream
from kickclip.ingest.sources import quoted, shorten
from kickclip.progress import ProgressCallback, no_progress


def record_live(
    url: str,
    dest: Path,
    *,
    minutes: float,
    http_headers: Mapping[str, str] | None = None,
    allow_private: bool = False,
    on_progress: ProgressCallback = no_progress,
) -> Path:
    """Remux ``minutes`` of media time from ``url`` into ``dest`` (``.part`` then rename)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    limit_s = minutes * 60
    import av

    try:
        with (
            open_media(url, http_headers, allow_private=allow_private) as source,
            av.open(str(part), "w", format="mpegts") as out,
        ):
            inputs = [
                s
                for s in (pick_stream(source.streams.video), pick_stream(source.streams.audio))
                if s is not None
            ]
            outputs = {s.index: out.add_stream_from_template(s) for s in inputs}
            rebase = {s.index: StreamClock() for s in inputs}
            first: float | None = None
            for packet in demux(source, *inputs):
                if packet.dts is None or packet.pts is None:
                    continue
                rebase[packet.stream.index].place(packet)
                t = float(packet.pts * packet.time_base)
                first = t if first is None else first
                if t - first >= limit_s:
                    break
                packet.stream = outputs[packet.stream.index]
                out.mux(packet)
                on_progress((t - first) / limit_s, "recording the live stream")
            if first is None:
                raise SourceUnreachable(shorten(f"the live stream at {quoted(url)} sent no media"))
        os.replace(part, dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return dest
