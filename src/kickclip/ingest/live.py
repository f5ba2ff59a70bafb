"""Record a live stream for as long as it is watched, in pieces of a few seconds.

Each piece is an MPEG-TS file of its own (stream copy, starting at a video keyframe), so the
watcher can read and cut what has arrived while the recording goes on, and drop what no clip
needs any more. All pieces share one clock: seconds since the first packet, increasing across
HLS discontinuities and reconnects. A dropped stream is reopened with a growing pause (the URL
asked for anew: a Kick playlist's token can expire); the packets a reopened live playlist sends
again are skipped. An HLS playlist that ends (``#EXT-X-ENDLIST``) ends the recording.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kickclip.errors import SourceError, SourceUnreachable
from kickclip.ingest.probe import demux, open_media, pick_stream
from kickclip.ingest.sources import shorten

log = logging.getLogger(__name__)

PIECE_S = 5.0
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
GIVE_UP_S = 600.0  # a stream silent this long, reconnects and all, is over
REPLAY_S = 120.0  # how far back a reopened stream may start and still be the same clock


@dataclass(frozen=True)
class Piece:
    """One recorded piece: its file and its span on the recording's clock (seconds)."""

    path: Path
    start_s: float
    end_s: float
    arrived: tuple[tuple[float, float], ...] = ()  # (seconds of the recording, wall time)


@dataclass(frozen=True)
class Opened:
    """Where to read the live stream now (``reopen`` is asked again after each drop)."""

    url: str
    http_headers: Mapping[str, str] = field(default_factory=dict)


Notice = Callable[[str], None]


class LiveRecorder:
    """``for piece in LiveRecorder(reopen, folder).pieces(stop)``: pieces as each closes, until
    ``stop`` is set, the stream ends, or it stays unreachable for ``give_up_s``."""

    def __init__(
        self,
        reopen: Callable[[], Opened],
        folder: Path,
        *,
        piece_s: float = PIECE_S,
        allow_private: bool = False,
        on_notice: Notice = log.info,
        give_up_s: float = GIVE_UP_S,
        ended: Callable[[], bool] = lambda: False,
    ) -> None:
        self.reopen = reopen
        self.folder = folder
        self.piece_s = piece_s
        self.allow_private = allow_private
        self.on_notice = on_notice
        self.give_up_s = give_up_s
        self.ended = ended
        self.clock = _Clock()
        self._count = 0

    def pieces(self, stop: threading.Event) -> Iterator[Piece]:
        self.folder.mkdir(parents=True, exist_ok=True)
        writer: _PieceWriter | None = None
        failures, silent_since = 0, time.monotonic()
        try:
            while not stop.is_set():
                reason = None
                try:
                    opened = self.reopen()
                    with open_media(
                        opened.url, opened.http_headers, allow_private=self.allow_private
                    ) as source:
                        inputs = [
                            s
                            for s in (
                                pick_stream(source.streams.video),
                                pick_stream(source.streams.audio),
                            )
                            if s is not None
                        ]
                        self.clock.reopened()
                        for packet in demux(source, *inputs):
                            if stop.is_set():
                                break
                            t = self.clock(packet)
                            if t is None:
                                continue
                            failures, silent_since = 0, time.monotonic()
                            if writer is None or writer.full(packet, t, self.piece_s):
                                if writer is not None:
                                    yield writer.close()
                                writer = self._writer(inputs, t)
                            writer.mux(packet, t)
                    if stop.is_set() or self.ended():
                        break
                    reason = "the stream stopped sending"
                except SourceError as error:
                    reason = str(error)
                except Exception as error:  # FFmpeg's and the network's many ways to drop
                    if not _is_drop(error):
                        raise
                    reason = shorten(getattr(error, "strerror", None) or str(error) or "dropped")
                if self.ended():
                    break
                if time.monotonic() - silent_since > self.give_up_s:
                    raise SourceUnreachable(
                        f"the live stream sent nothing for {self.give_up_s / 60:g} minutes: "
                        f"{reason}"
                    )
                pause = BACKOFF_S[min(failures, len(BACKOFF_S) - 1)]
                failures += 1
                self.on_notice(f"the stream dropped ({reason}); reconnecting in {pause:g} s")
                stop.wait(pause)
            if writer is not None and writer.packets:
                yield writer.close()
                writer = None
        finally:
            if writer is not None:
                writer.discard()

    def _writer(self, inputs: list[Any], start_s: float) -> _PieceWriter:
        self._count += 1
        return _PieceWriter(self.folder / f"piece-{self._count:06d}.ts", inputs, start_s)


def _is_drop(error: Exception) -> bool:
    import av

    return isinstance(error, (av.error.FFmpegError, OSError, EOFError))


class _PieceWriter:
    """One piece being written (``.part`` until it closes)."""

    def __init__(self, path: Path, inputs: list[Any], start_s: float) -> None:
        import av

        self.path = path
        self.part = path.with_name(path.name + ".part")
        self.container = av.open(str(self.part), "w", format="mpegts")
        self.outputs = {s.type: self.container.add_stream_from_template(s) for s in inputs}
        self.has_video = any(s.type == "video" for s in inputs)
        self.start_s = self.end_s = start_s
        self.packets = 0
        self.arrived: list[tuple[float, float]] = []

    def full(self, packet: Any, t: float, piece_s: float) -> bool:
        """Time for a new piece: this one is long enough and ``packet`` can start the next
        (a video keyframe; any packet of a stream with no picture)."""
        if t - self.start_s < piece_s:
            return False
        if self.has_video:
            return packet.stream.type == "video" and bool(packet.is_keyframe)
        return True

    def mux(self, packet: Any, t: float) -> None:
        output = self.outputs.get(packet.stream.type)
        if output is None:
            return
        packet.stream = output
        self.container.mux(packet)
        self.packets += 1
        self.start_s = min(self.start_s, t)  # audio sent just before the keyframe it follows
        if t > self.end_s or not self.arrived:
            self.end_s = max(self.end_s, t)
            if not self.arrived or t - self.arrived[-1][0] >= 1.0:
                self.arrived.append((t, time.time()))

    def close(self) -> Piece:
        self.container.close()
        os.replace(self.part, self.path)
        return Piece(self.path, self.start_s, self.end_s, tuple(self.arrived))

    def discard(self) -> None:
        with suppress(Exception):  # a half-written piece is thrown away either way
            self.container.close()
        self.part.unlink(missing_ok=True)


class _Clock:
    """Seconds of the recording per packet, one clock for every stream, on across
    discontinuities and reconnects; None for a packet a reopened stream sends again."""

    def __init__(self) -> None:
        self.origin: float | None = None
        self.streams: dict[str, StreamClock] = {}

    def reopened(self) -> None:
        """The stream was opened (again): what it sends first may be a replay, and a jump
        ahead up to the time it was away is the stream's own time, not a discontinuity."""
        now = time.monotonic()
        for clock in self.streams.values():
            clock.replaying = True
            clock.away_s = now - clock.seen_at + StreamClock.MAX_GAP_S

    def __call__(self, packet: Any) -> float | None:
        if packet.dts is None or packet.pts is None or packet.size == 0:
            return None
        clock = self.streams.setdefault(packet.stream.type, StreamClock())
        if not clock.place(packet):
            return None
        t = float(packet.pts * packet.time_base)
        if self.origin is None:
            self.origin = t
        return t - self.origin


class StreamClock:
    """One stream's timestamps made to keep increasing: a discontinuity (a live HLS stream's
    restart, a reconnect) jumps them back or far ahead; the recording goes on from the last.
    After a reopen (``replaying``), what the stream sends again is refused."""

    MAX_GAP_S = 5.0

    def __init__(self) -> None:
        self.offset = 0  # added to the source's timestamps (its time base)
        self.last_raw: int | None = None
        self.last_dts: int | None = None
        self.step = 1
        self.replaying = False
        self.away_s = 0.0
        self.seen_at = time.monotonic()

    def place(self, packet: Any) -> bool:
        """Move ``packet``'s timestamps onto the recording's clock; False: already recorded."""
        raw = packet.dts
        allowed_gap_s = self.MAX_GAP_S
        if self.replaying and self.last_raw is not None:
            behind = float((self.last_raw - raw) * packet.time_base)
            if 0 <= behind <= REPLAY_S:  # the playlist's window, sent again after a reopen
                return False
            allowed_gap_s, self.replaying = max(self.away_s, self.MAX_GAP_S), False
        self.last_raw, self.seen_at = raw, time.monotonic()
        dts = raw + self.offset
        if self.last_dts is not None:
            gap = float((dts - self.last_dts) * packet.time_base)
            if gap <= 0 or gap > allowed_gap_s:
                self.offset += self.last_dts + self.step - dts
                dts = self.last_dts + self.step
            elif gap <= self.MAX_GAP_S:
                self.step = dts - self.last_dts
        packet.pts += dts - packet.dts
        packet.dts = dts
        self.last_dts = dts
        return True


def join(pieces: list[Piece], dest: Path) -> Path:
    """The pieces as one MPEG-TS file (they are one stream cut at keyframes: bytes in a row
    make a valid TS), written to ``dest`` through a temporary file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        with part.open("wb") as out:
            for piece in pieces:
                with piece.path.open("rb") as handle:
                    while chunk := handle.read(1 << 20):
                        out.write(chunk)
        os.replace(part, dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return dest
