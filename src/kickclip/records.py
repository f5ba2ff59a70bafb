"""Frozen records handed from one pipeline stage to the next.

Times are seconds from the start of the media (the container's start time already removed),
so a highlight's ``start_s`` is what a user sees on the player's clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # numpy is for analysis; stats, clips and rate never load it
    import numpy as np

ClipType = Literal["audio", "video", "chat"]
CLIP_TYPES: tuple[ClipType, ...] = ("audio", "video", "chat")
CHAT_KINDS = ("message", "system")  # system: raids, hosts, subscriptions, pinned notices


def clock(seconds: float, *_: object) -> str:
    """Seconds as the player shows them: ``1:02:03`` (whole seconds; extra arguments are
    ignored, so it serves as a plot's tick formatter)."""
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def ago(iso_time: str | None, now: datetime | None = None) -> str:
    """How long ago an ISO 8601 time was, as people say it: "just now", "12 min ago",
    "3 h ago", "2 days ago" (the time itself when it cannot be read)."""
    if not iso_time:
        return "at an unknown time"
    try:
        then = datetime.fromisoformat(iso_time)
    except ValueError:
        return iso_time
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - then).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def model_status(progress: Mapping[str, Any]) -> str:
    """A trained model in plain words: "trained 12 min ago on 25 ratings, predicts within
    ±0.7★ (cross-validated)"."""
    metrics = progress.get("metrics") or {}
    status = f"trained {ago(progress.get('last_trained_at'))} on {metrics.get('n_samples')} ratings"
    mae = metrics.get("cv_mae_stars")
    if mae is not None:
        status += f", predicts within ±{mae:.1f}★ (cross-validated)"
    return status


@dataclass(frozen=True)
class ChatMessage:
    """One line of chat (see ``kickclip.chat``)."""

    t: float  # seconds from the start of the media
    user: str
    text: str
    kind: str = "message"  # one of CHAT_KINDS


@dataclass(frozen=True)
class Rendition:
    """One variant of a remote source, as yt-dlp or an HLS master lists it."""

    url: str
    height: int | None = None
    width: int | None = None
    bandwidth_bps: float | None = None
    has_audio: bool = True
    has_video: bool = True
    format_id: str = ""
    protocol: str = ""  # "m3u8_native", "https", "file", …


@dataclass(frozen=True)
class MediaInfo:
    """A SOURCE resolved and probed once: what to open for analysis and for cutting."""

    source: str  # what the user gave
    title: str  # human name, slugged into clip filenames
    analysis_url: str  # lowest usable rendition, or the file
    cut_url: str  # the rendition clips are cut from (``--quality``), or the file
    duration_s: float | None
    start_s: float = 0.0  # container start time; subtract from stream timestamps
    has_audio: bool = False
    has_video: bool = False
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    sample_rate_hz: int | None = None
    http_headers: Mapping[str, str] = field(default_factory=dict)
    is_live: bool = False
    renditions: tuple[Rendition, ...] = ()
    chat_channel_id: str | None = None  # a Kick VOD's channel, whose chat can be replayed
    started_at: datetime | None = None  # when the VOD's stream began (UTC)
    stream: str | None = None  # a Kick VOD's stream name: where a watch of it stored clips
    recorded_at: datetime | None = None  # a live source: when its recording began (UTC)
    chat: tuple[ChatMessage, ...] = ()  # a live channel's chat, recorded with the stream
    notes: tuple[str, ...] = ()  # warnings from opening it (no live chat, …)
    allow_private: bool = False  # its addresses may be internal (--allow-private-addresses)


@dataclass(frozen=True)
class FeatureSeries:
    """Equal-length feature arrays sampled every ``hop_s`` seconds from ``start_s``."""

    clip_type: ClipType
    hop_s: float
    values: Mapping[str, np.ndarray]
    start_s: float = 0.0

    def __len__(self) -> int:
        return len(next(iter(self.values.values()))) if self.values else 0

    @property
    def times_s(self) -> np.ndarray:
        import numpy as np

        return self.start_s + self.hop_s * np.arange(len(self))


@dataclass(frozen=True)
class Features:
    """What analysis of one source yields: a series per side it could read."""

    duration_s: float
    audio: FeatureSeries | None = None
    video: FeatureSeries | None = None
    warnings: tuple[str, ...] = ()
    chat: FeatureSeries | None = None  # the audience's reaction, when a chat was read

    def series(self) -> tuple[FeatureSeries, ...]:
        return tuple(s for s in (self.audio, self.video, self.chat) if s is not None and len(s))


@dataclass(frozen=True)
class Highlight:
    """A moment worth a clip: a window around a peak, its score and its feature summary."""

    start_s: float
    end_s: float
    peak_s: float
    score: float  # reported score in [0, 1]; learned taste blended in once a model exists
    clip_type: ClipType
    features: Mapping[str, float]
    heuristic_score: float | None = None  # the detector's own score, before any blending
    reason: str = ""  # why, in a few words: "loudness +13.0 dB, onsets 12.0σ"
    evidence: str = ""  # the reason before the learned taste's verdict joined it (with_score)

    def with_score(self, score: float, reason: str | None = None) -> Highlight:
        heuristic = self.score if self.heuristic_score is None else self.heuristic_score
        return replace(
            self,
            score=score,
            heuristic_score=heuristic,
            reason=reason or self.reason,
            evidence=self.detector_reason,
        )

    @property
    def detector_reason(self) -> str:
        """What the detector (and the chat) saw, without the taste's verdict."""
        return self.evidence or self.reason

    def to_json(self) -> dict[str, Any]:
        return {
            "start": round(self.start_s, 3),
            "end": round(self.end_s, 3),
            "score": round(self.score, 4),
            "clip_type": self.clip_type,
            "reason": self.reason,
            "features": {name: float(value) for name, value in self.features.items()},
        }


@dataclass(frozen=True)
class Word:
    """One spoken word and when it was said, in seconds of the clip's source."""

    word: str
    start: float
    end: float

    def to_json(self) -> dict[str, Any]:
        return {"word": self.word, "start": round(self.start, 3), "end": round(self.end, 3)}


@dataclass(frozen=True)
class Transcript:
    """The words heard in a clip, and the speech model that heard them."""

    model: str
    words: tuple[Word, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(word.word for word in self.words)

    def within(self, start: float, end: float) -> Transcript:
        """The words said (by their middle) inside [start, end]."""
        inside = tuple(w for w in self.words if start <= (w.start + w.end) / 2 <= end)
        return Transcript(self.model, inside)

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "model": self.model,
            "words": [word.to_json() for word in self.words],
        }


@dataclass(frozen=True)
class Timeline:
    """Each side's strength over the stream (in units of its ordinary moments, as detection
    counts it), one value per ``hop_s`` from ``start_s``: the largest in each step."""

    hop_s: float
    start_s: float
    sides: Mapping[str, tuple[float, ...]]

    def to_json(self) -> dict[str, Any]:
        return {
            "hop_s": round(self.hop_s, 3),
            "start": round(self.start_s, 3),
            **{kind: [round(v, 3) for v in self.sides.get(kind, ())] for kind in CLIP_TYPES},
        }


@dataclass(frozen=True)
class Analysis:
    """The result of ``pipeline.analyze``: highlights sorted by score, best first."""

    media: MediaInfo
    duration_s: float
    highlights: tuple[Highlight, ...]
    warnings: tuple[str, ...] = ()
    timeline: Timeline | None = None
    features: Features | None = field(default=None, repr=False)  # for moments chosen by hand

    def to_json(self, *, timeline: bool = False) -> dict[str, Any]:
        out = {
            "source": self.media.source,
            "duration": round(self.duration_s, 3),
            "highlights": [h.to_json() for h in self.highlights],
        }
        if timeline and self.timeline is not None:
            out["timeline"] = self.timeline.to_json()
        return out


@dataclass(frozen=True)
class CutClip:
    """A clip file written by ``cut``: its real (keyframe-aligned) times and thumbnail."""

    filepath: Path
    thumbnail: Path | None
    start_s: float
    end_s: float


@dataclass(frozen=True)
class GeneratedClip:
    """A highlight cut to a file and registered in the store."""

    clip_id: int
    highlight: Highlight
    cut: CutClip
    reused: bool = False  # already stored for this source: not cut again
    transcript: str | None = None  # the words heard in it (None: not heard)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.highlight.to_json(),
            "start": round(self.cut.start_s, 3),
            "end": round(self.cut.end_s, 3),
            "id": self.clip_id,
            "reused": self.reused,
            "filepath": str(self.cut.filepath),
        }


@dataclass(frozen=True)
class Generation:
    """The result of ``pipeline.generate``: the clips written, and the ones that failed."""

    analysis: Analysis
    clips: tuple[GeneratedClip, ...]
    failures: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # the run's own (the analysis keeps its warnings)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.analysis.media.source,
            "duration": round(self.analysis.duration_s, 3),
            "highlights": [clip.to_json() for clip in self.clips],
        }
