"""Watch a live stream: the stages of ``pipeline.generate``, run piece by piece as it goes on.

    ingest.live (pieces of a few seconds) → analyze (each piece) → analyze.rolling (the last
    minutes) → detect → rescore (the user's taste) → pipeline's cut and register

A moment is judged once, as soon as the surroundings after it are in (``SETTLE_S``: the gap
and 20 s of the 30 s that judge it in a whole VOD) and its clip's end is recorded. It becomes a
clip when it clears the bar (``to_clip``: its score reaches ``min_score``, the user's
taste blended in, or the detector's alone does and the taste does not dislike it) and no clip
of this watch lies within the minimum gap. What detection and the clips no longer need is
let go: the features beyond ``KEEP_S``, the pieces before the oldest moment still to judge
(``--keep-recording`` keeps them all and joins them into one recording when the watch ends).

Times are seconds of the recording (0 is the first packet watched). Clips are registered under
the source as given, so a later ``generate`` of the same HLS playlist once it has ended (a VOD
now) reuses them, when the watch saw the stream from its start. A Kick stream says when it
began: its clips are registered under its ``stream_name`` on its own clock (seconds since it
began), where ``generate`` of its VOD, another address, looks for them too. The recording's
second ``r`` was sent no later than it arrived, so it is at most ``arrival - began`` of the
stream; the least of that bound over all arrivals (once the first burst of the playlist is in,
within about a segment) places the recording on the stream's clock.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kickclip.detect.baseline import GAP_S
from kickclip.detect.peaks import LEAD_IN, clip_window
from kickclip.errors import InvalidInput
from kickclip.ingest.live import LiveRecorder, Opened, Piece, join
from kickclip.records import Analysis, GeneratedClip, Highlight, MediaInfo, clock
from kickclip.settings import Settings

if TYPE_CHECKING:
    from kickclip.rescore import Predict
    from kickclip.store.clip_manager import ClipManager

log = logging.getLogger(__name__)

SETTLE_S = GAP_S + 20.0  # after a moment, what must be in before it is judged
KEEP_S = 600.0  # features kept for judging: the ordinary moments of the last 10 minutes
DISLIKED_BELOW_STARS = 2.5  # between 2★ (meh) and 3★ (fine): a clear moment under it is dropped
MIN_SCORE = 0.6  # a planted shout scores 0.63-0.80 on real talk, its ordinary peaks under 0.53
REACH_S = 8.0  # how far past a clip's ends hearing its words and keyframes may read
OFFLINE_S = 120.0  # how long a site must say "not live" before the stream counts as ended


@dataclass(frozen=True)
class LiveClip:
    """A clip registered while the stream went on, ``delay_s`` after its moment arrived."""

    clip: GeneratedClip  # as registered: on the stream's clock when it is known
    delay_s: float
    moment: Highlight  # on the recording's clock

    def to_json(self) -> dict[str, Any]:
        whole = self.clip.to_json()
        keys = ("id", "start", "end", "score", "clip_type", "reason", "filepath")
        return {**{key: whole[key] for key in keys}, "delay_s": round(self.delay_s, 1)}


@dataclass(frozen=True)
class Watched:
    """How a watch went: its clips, the media time seen, why it ended, the recording kept."""

    source: str
    clips: tuple[LiveClip, ...]
    watched_s: float
    ended_by: str  # "stream end", "time" or "stop"
    recording: Path | None = None
    warnings: tuple[str, ...] = ()


def parse_duration(text: str | None) -> float | None:
    """``--for``: ``3h``, ``90m``, ``45s``, ``1h30m``, ``1:30:00`` or seconds; None: no limit."""
    import re

    if text is None or not text.strip():
        return None
    value = text.strip().lower()
    if ":" in value:
        parts = value.split(":")
        if len(parts) <= 3 and all(re.fullmatch(r"\d+(\.\d+)?", p) for p in parts):
            return sum(float(p) * 60**k for k, p in enumerate(reversed(parts))) or None
    else:
        match = re.fullmatch(
            r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?", value
        )
        if match and any(match.groups()):
            hours, minutes, seconds = (float(g or 0) for g in match.groups())
            total = hours * 3600 + minutes * 60 + seconds
            if total > 0:
                return total
    raise InvalidInput(f"--for takes a duration like 3h, 90m, 1h30m or 1:30:00, got {text!r}")


class Watch:
    """``Watch(source, settings, manager).run(stop)``: clips as the stream goes on, until the
    stream ends, ``duration_s`` of it was watched, or ``stop`` is set."""

    def __init__(
        self,
        source: str,
        settings: Settings,
        manager: ClipManager | None = None,
        *,
        duration_s: float | None = None,
        min_score: float = MIN_SCORE,
        on_clip: Callable[[LiveClip], None] = lambda clip: None,
        on_notice: Callable[[str], None] = log.info,
        on_status: Callable[[float, int], None] = lambda watched_s, clips: None,
    ) -> None:
        from kickclip.analyze.rolling import RollingFeatures
        from kickclip.ingest.sources import classify, redact

        self.kind = classify(source)
        self.source = redact(self.kind.text)
        self.settings = settings
        self.manager = manager
        self.duration_s = duration_s
        self.min_score = min_score
        self.on_clip, self.on_notice, self.on_status = on_clip, on_notice, on_status
        self.rolling = RollingFeatures(KEEP_S)
        self.pieces: list[Piece] = []
        self.arrived: deque[tuple[float, float]] = deque(maxlen=round(KEEP_S) + 60)
        self.judged_until = -1.0
        self.clips: list[LiveClip] = []
        self.title = "stream"
        self.stream: str | None = None  # a Kick stream's name, and when it began
        self.began: float | None = None
        self.lag_s = float("inf")  # the least (arrival - second of the recording) seen
        self.warned: set[str] = set()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.folder = settings.out / ".recordings" / f"watch-{stamp}"

    # --- where the stream is read ---------------------------------------------------------
    def _opener(self) -> Callable[[], Opened]:
        """Asks where to read the stream now: each reconnect asks again (a Kick playlist's
        token expires); the first answer is checked here, so a bad source fails at once."""
        from kickclip.ingest import slug
        from kickclip.ingest.fetch import Access
        from kickclip.ingest.probe import probe
        from kickclip.ingest.resolve import by_quality, hls_renditions, resolve
        from kickclip.ingest.sources import SourceKind

        kind, private = self.kind, self.settings.allow_private_addresses

        def ask(*, first: bool = False) -> Opened:
            if kind.kind in (SourceKind.KICK_LIVE, SourceKind.KICK_VOD, SourceKind.SITE):
                resolved = resolve(kind.text, allow_private=private)
                self.title = slug(resolved.title)
                if resolved.stream != self.stream:  # a new stream (restarted): a new clock
                    self.stream, self.lag_s = resolved.stream, float("inf")
                    began = resolved.started_at
                    self.began = began.timestamp() if began and resolved.stream else None
                chosen = by_quality(resolved.renditions, self.settings.quality)
                return Opened(chosen.url, dict(resolved.http_headers))
            if kind.kind is SourceKind.KICK_CLIP:
                raise InvalidInput("a kick.com clip is not live: use kickclip generate")
            self.title = slug(Path(urlsplit(kind.text).path).stem or "stream")
            if kind.kind is SourceKind.FILE or not kind.text.lower().endswith(".m3u8"):
                if first:  # a file that is not there, or no media, is said at once
                    probe(kind.text, allow_private=private)
                return Opened(kind.text)
            renditions, _ = hls_renditions(kind.text, Access(allow_private=private))
            if renditions:
                return Opened(by_quality(renditions, self.settings.quality).url)
            return Opened(kind.text)

        pending = [ask(first=True)]

        def reopen() -> Opened:
            return pending.pop() if pending else ask()

        return reopen

    def _ended(self) -> Callable[[], bool]:
        """Whether the stream is over once it stops sending: an HLS playlist that is a VOD
        now (``#EXT-X-ENDLIST``), or a local file; other sources are reconnected until they
        give up."""
        from kickclip.errors import KickclipError
        from kickclip.ingest.fetch import Access
        from kickclip.ingest.resolve import hls_renditions
        from kickclip.ingest.sources import SourceKind

        if self.kind.kind is SourceKind.FILE:
            return lambda: True
        if self.kind.kind in (SourceKind.KICK_LIVE, SourceKind.SITE):
            return self._offline()
        if not urlsplit(self.kind.text).path.lower().endswith(".m3u8"):
            return lambda: False
        access = Access(allow_private=self.settings.allow_private_addresses)

        def ended() -> bool:
            try:
                _, is_live = hls_renditions(self.kind.text, access)
            except KickclipError:  # unreachable now: a drop, not an end
                return False
            return not is_live

        return ended

    def _offline(self) -> Callable[[], bool]:
        """A site's stream is over once the site has said for ``OFFLINE_S`` that the channel
        is not live (a streamer's short drop is waited through)."""
        from kickclip.errors import KickclipError, NotLive
        from kickclip.ingest.resolve import resolve

        since: list[float] = []

        def ended() -> bool:
            try:
                live = resolve(self.kind.text, allow_private=self.settings.allow_private_addresses)
            except NotLive:
                since[:] = since or [time.monotonic()]
                return time.monotonic() - since[0] >= OFFLINE_S
            except KickclipError:  # unreachable now: a drop, not an end
                return False
            since.clear()
            return not live.is_live

        return ended

    # --- the watch ------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> Watched:
        from kickclip import pipeline
        from kickclip.ingest import chat_while_live
        from kickclip.store.clip_manager import ClipManager

        reopen = self._opener()  # a bad source stops here, before anything is written
        self.manager = self.manager or ClipManager(self.settings.db)
        ear, words_note = pipeline.ear_for(self.settings)
        if words_note:
            self._warn(words_note)
        recorder = LiveRecorder(
            reopen,
            self.folder,
            allow_private=self.settings.allow_private_addresses,
            on_notice=self.on_notice,
            ended=self._ended(),
        )
        ended_by = "stop"
        recording = None
        halt = threading.Event()  # the recorder's own stop: set by ``stop``, time or an error
        try:
            with chat_while_live(self.kind) as chat:  # a Kick channel's, as ingest records it
                for warning in chat.warnings:
                    self._warn(warning)
                for piece in _in_background(recorder.pieces(halt), stop, halt):
                    self._take(piece, chat.messages, ear)
                    if self.duration_s is not None and piece.end_s >= self.duration_s:
                        ended_by = "time"
                        break
                else:
                    ended_by = "stop" if stop.is_set() else "stream end"
                halt.set()
                if ended_by != "stop":  # the last moments have all the stream there is
                    self._judge(chat.messages, ear, final=True)
            if self.settings.keep_recording and self.pieces:
                name = f"{self.title}-{self.folder.name.removeprefix('watch-')}.ts"
                recording = join(self.pieces, self.folder.parent / name)
        finally:
            halt.set()
            shutil.rmtree(self.folder, ignore_errors=True)
        return Watched(
            self.source,
            tuple(self.clips),
            self.rolling.end_s,
            ended_by,
            recording,
            tuple(self.warned),
        )

    def _take(self, piece: Piece, messages: list, ear: Any) -> None:
        """Analyze one piece, judge what it settles, let go of what is no longer needed."""
        from kickclip.analyze import extract_features
        from kickclip.errors import KickclipError

        self.pieces.append(piece)
        self.arrived.extend(piece.arrived)
        self.lag_s = min([self.lag_s, *(wall - at for at, wall in piece.arrived)])
        try:
            features = extract_features(self._media(piece.path, piece.start_s))
        except KickclipError as error:  # a piece that cannot be read is a gap, said once
            self._warn(f"a piece of the stream could not be read: {error}")
        else:
            self.rolling.add(replace(features, warnings=()), piece.start_s)
        self._judge(messages, ear)
        self._let_go()
        self.on_status(self.rolling.end_s, len(self.clips))

    def _media(self, path: Path, start_s: float) -> MediaInfo:
        """A recorded file whose first moment is ``start_s`` of the recording, as a source."""
        from kickclip.ingest.probe import probe

        facts = probe(str(path))
        return facts.as_media(
            source=self.source,
            title=self.title,
            analysis_url=str(path),
            cut_url=str(path),
            start_s=facts.start_s - start_s,
        )

    def _judge(self, messages: list, ear: Any, *, final: bool = False) -> None:
        """Judge the moments whose surroundings are now in; clip those that stand out."""
        from kickclip import pipeline
        from kickclip.detect import LIVE_DETECTOR
        from kickclip.rescore import blend

        features = self.rolling.features()
        end_s = features.duration_s
        settle_s = max(SETTLE_S, (1 - LEAD_IN) * self.settings.clip_duration + 1.0)
        until = end_s if final else end_s - settle_s
        if until <= self.judged_until or not features.series():
            return
        chat = None
        if messages:
            from kickclip.chat.features import chat_for

            kept = [m for m in list(messages) if m.t >= self.rolling.start_s - 60]
            chat = chat_for(kept, features)
            features = replace(features, chat=chat.series)
        pool = int(KEEP_S / max(self.settings.min_gap, 1.0)) + 5
        candidates = LIVE_DETECTOR.find(
            features,
            clip_duration_s=self.settings.clip_duration,
            min_gap_s=self.settings.min_gap,
            top=pool,
        )
        candidates = [h for h in candidates if self.judged_until < h.peak_s <= until]
        if chat is not None:
            candidates = [chat.annotate(h) for h in candidates]
        # Read anew each time there is a moment to rank: it may have been retrained meanwhile.
        model = pipeline.taste(self.settings) if candidates else None
        if model is not None:
            if getattr(model, "uses_words", False):
                self._warn("your taste learned from words; live moments are ranked without them")
            candidates = blend(
                candidates, model.predict_one, model.n_samples_, model.metrics_.get("blend_gate")
            )
        self.judged_until = until
        predict = model.predict_one if model is not None else None
        for highlight in sorted(candidates, key=lambda h: h.score, reverse=True):
            near = any(
                abs(highlight.peak_s - c.moment.peak_s) < self.settings.min_gap for c in self.clips
            )
            clipped = None if near else to_clip(highlight, self.min_score, predict)
            if clipped is not None:
                self._clip(clipped, end_s, ear)

    def _clip(self, highlight: Highlight, end_s: float, ear: Any) -> None:
        from kickclip import pipeline
        from kickclip.errors import CutError

        start_s, stop_s = clip_window(
            highlight.peak_s, duration_s=self.settings.clip_duration, media_s=end_s
        )
        moment = replace(highlight, start_s=start_s, end_s=stop_s)
        needed = [
            p for p in self.pieces if p.end_s >= start_s - REACH_S and p.start_s <= stop_s + REACH_S
        ]
        if not needed:
            return
        shift = self.stream_clock()
        span = join(needed, self.folder / "span.ts")
        try:
            media = self._media(span, needed[0].start_s + shift)
            media = replace(media, source=self.stream or self.source, is_live=False)
            analysis = Analysis(
                media=media, duration_s=end_s + shift, highlights=(_shifted(moment, shift),)
            )
            generation = pipeline.cut_and_register(analysis, self.settings, self.manager, ear=ear)
        except CutError as error:
            self._warn(f"the moment at {clock(moment.peak_s + shift)} could not be cut: {error}")
            return
        finally:
            span.unlink(missing_ok=True)
        delay_s = time.time() - self._arrival(moment.peak_s)
        clip = LiveClip(generation.clips[0], delay_s, moment)
        self.clips.append(clip)
        self.on_clip(clip)

    def stream_clock(self) -> float:
        """Where the recording's second 0 lies on the stream's own clock: 0 unless the
        stream says when it began (see the module's note)."""
        if self.began is None or self.lag_s == float("inf"):
            return 0.0
        return max(0.0, self.lag_s - self.began)

    def _arrival(self, t: float) -> float:
        """The wall time the recording first held second ``t`` of the stream."""
        return next((wall for at, wall in self.arrived if at >= t), time.time())

    def _let_go(self) -> None:
        """Drop the pieces no clip can need any more (unless the recording is kept)."""
        if self.settings.keep_recording:
            return
        oldest = self.judged_until - LEAD_IN * self.settings.clip_duration - REACH_S
        while len(self.pieces) > 1 and self.pieces[0].end_s < oldest:
            self.pieces.pop(0).path.unlink(missing_ok=True)

    def analysis(self) -> Analysis:
        """What the watch has seen so far, as an analysis: the kept minutes' timeline, and
        the clips made in them as its highlights (for ``plot.timeline_picture``)."""
        from kickclip.detect import LIVE_DETECTOR

        features = self.rolling.features()
        shift = self.stream_clock()
        end_s = features.duration_s + shift
        media = MediaInfo(self.source, self.title, "", "", end_s, is_live=True)
        shown = [
            _shifted(c.moment, shift) for c in self.clips if c.moment.end_s >= self.rolling.start_s
        ]
        drawn = LIVE_DETECTOR.timeline(features) if features.series() else None
        return Analysis(
            media=media,
            duration_s=end_s,
            highlights=tuple(shown),
            timeline=replace(drawn, start_s=drawn.start_s + shift) if drawn else None,
        )

    def _warn(self, text: str) -> None:
        if text not in self.warned:
            self.warned.add(text)
            self.on_notice(text)


def to_clip(highlight: Highlight, bar: float, predict: Predict | None = None) -> Highlight | None:
    """The live moment as it is clipped, or None: its score, the taste's blended in, reaches the
    bar; or the detector alone finds it clear and the taste (``predict``: a model's
    ``predict_one``) does not dislike it, and its reason says so. A ranking needs only the
    taste's order, a bar its stars too, and a model's stars for a stream it has never seen are
    drawn to the middle: a clear moment the user would give 5★ can be predicted 3★ and blend
    under the bar (``benchmarks/README.md``)."""
    if highlight.score >= bar:
        return highlight
    detector = highlight.heuristic_score
    if predict is None or detector is None or detector < bar:
        return None
    predicted = predict(highlight.features, highlight.clip_type)
    if predicted is not None and 1 + 4 * predicted < DISLIKED_BELOW_STARS:
        return None
    kept = f"kept: the detector alone scores {detector:.2f}"
    return replace(highlight, reason=f"{highlight.reason}; {kept}")


def _shifted(highlight: Highlight, shift_s: float) -> Highlight:
    return replace(
        highlight,
        start_s=highlight.start_s + shift_s,
        end_s=highlight.end_s + shift_s,
        peak_s=highlight.peak_s + shift_s,
    )


def _in_background(
    pieces: Iterator[Piece], stop: threading.Event, halt: threading.Event
) -> Iterator[Piece]:
    """The recorder's pieces, recorded on a thread of its own (analysis never holds the
    stream back); an error of the recorder is raised here."""
    handoff: queue.Queue[Piece | BaseException | None] = queue.Queue()

    def record() -> None:
        try:
            for piece in pieces:
                handoff.put(piece)
        except BaseException as error:
            handoff.put(error)
        else:
            handoff.put(None)

    thread = threading.Thread(target=record, name="kickclip-recorder", daemon=True)
    thread.start()
    try:
        while True:
            if stop.is_set():
                halt.set()
            try:
                item = handoff.get(timeout=0.5)
            except queue.Empty:
                continue
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        halt.set()
        thread.join(timeout=30)
