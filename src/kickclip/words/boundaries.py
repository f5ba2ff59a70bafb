"""Clip boundaries between words: a clip opens and closes in a pause, at a sentence's edge
when one is near, never inside a word, and keeps the moment that made it.

Whisper's word times are approximate (a word often swallows the pause after it), so a cut
is placed at the quietest point of the gap between two words, read from the audio itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from kickclip.records import Word

REACH_S = 3.0  # how far a boundary may move from where the detector put it
KEEP_S = 2.0  # the clip keeps at least this much on each side of the peak (inside the window)
EDGE_S = 0.12  # a gap is searched this far into the words on each side
FRAME_S = 0.02  # loudness is judged per 20 ms
QUIET_DB = 15.0  # a pause is this much quieter than the speech around it
MIN_PAUSE_S = 0.1  # and lasts this long (a dip between two words of a phrase is no pause)
EDGE_PAD_S = 0.15  # a cut stays this far from the speech when the pause allows
SENTENCE_END = (".", "?", "!", "…")
PHRASE_END = (",", ";", ":", "—")


@dataclass(frozen=True)
class Gap:
    """Where a cut can go: between ``before`` (None: the span's start) and ``after``."""

    start: float
    end: float
    before: Word | None
    after: Word | None

    @property
    def break_cost(self) -> float:
        """0 at a sentence's edge, more inside a phrase."""
        if self.before is None or self.before.word.endswith(SENTENCE_END):
            return 0.0
        return 0.4 if self.before.word.endswith(PHRASE_END) else 0.8


def gaps(words: Sequence[Word], span_start: float, span_end: float) -> list[Gap]:
    """The gaps between consecutive words, and the silence before the first and after the
    last (a word touching the span's edge may be cut by the span, so no gap is kept there)."""
    found = []
    if words and words[0].start - span_start > 2 * EDGE_S:
        found.append(Gap(span_start + EDGE_S, words[0].start, None, words[0]))
    for before, after in pairwise(words):
        found.append(Gap(before.end, max(after.start, before.end), before, after))
    if words and span_end - words[-1].end > 2 * EDGE_S:
        found.append(Gap(words[-1].end, span_end - EDGE_S, words[-1], None))
    return found


class Loudness:
    """Loudness in dB per FRAME_S of the span's audio, to find the quiet point of a gap."""

    def __init__(self, samples: np.ndarray, start_s: float, rate_hz: int) -> None:
        step = max(int(rate_hz * FRAME_S), 1)
        frames = len(samples) // step
        power = np.square(samples[: frames * step].astype(np.float64)).reshape(frames, step)
        self.db = 10 * np.log10(power.mean(axis=1) + 1e-10) if frames else np.zeros(0)
        self.start_s = start_s
        self.speech_db = float(np.percentile(self.db, 90)) if frames else 0.0

    def pause(self, start: float, end: float, *, opening: bool) -> tuple[float, bool]:
        """Where to cut in [start, end]: inside its last (opening) or first (closing) pause
        of at least MIN_PAUSE_S, QUIET_DB below the speech, EDGE_PAD_S clear of the speech on
        the side the clip takes; ``(point, True)``. Without such a pause, its quietest
        moment and False."""
        first = max(int((start - self.start_s) / FRAME_S), 0)
        last = min(int((end - self.start_s) / FRAME_S) + 1, len(self.db))
        if last <= first:
            return (start + end) / 2, False
        quiet = self.db[first:last] <= self.speech_db - QUIET_DB
        edges = np.flatnonzero(np.diff(np.concatenate(([0], quiet.astype(np.int8), [0]))))
        runs = [
            (a, b)
            for a, b in zip(edges[::2], edges[1::2], strict=True)
            if (b - a) * FRAME_S >= MIN_PAUSE_S
        ]
        if not runs:
            window = self.db[first:last]
            return self.start_s + (first + int(np.argmin(window)) + 0.5) * FRAME_S, False
        a, b = runs[-1] if opening else runs[0]
        low, high = self.start_s + (first + a) * FRAME_S, self.start_s + (first + b) * FRAME_S
        pad = min(EDGE_PAD_S, (high - low) / 2)
        return (high - pad if opening else low + pad), True

    def tighten(self, words: Sequence[Word]) -> tuple[Word, ...]:
        """Each word's time without the silence Whisper lets it swallow (the pause before or
        after it): trimmed to where the audio is within QUIET_DB of the speech."""
        loud = self.db > self.speech_db - QUIET_DB
        tight = []
        for word in words:
            first = max(int((word.start - self.start_s) / FRAME_S), 0)
            last = min(int(np.ceil((word.end - self.start_s) / FRAME_S)), len(loud))
            voiced = np.flatnonzero(loud[first:last])
            if len(voiced) == 0:
                tight.append(word)
                continue
            start = max(word.start, self.start_s + (first + voiced[0]) * FRAME_S)
            end = min(word.end, self.start_s + (first + voiced[-1] + 1) * FRAME_S)
            tight.append(Word(word.word, round(start, 3), round(max(end, start), 3)))
        return tuple(tight)


def snap(
    words: Sequence[Word],
    loudness: Loudness,
    span: tuple[float, float],
    start: float,
    end: float,
    peak: float,
    *,
    reach: float = REACH_S,
) -> tuple[float, float]:
    """Move ``start`` and ``end`` (at most ``reach`` seconds each) into pauses between words;
    unchanged where no words were heard."""
    if not words:
        return start, end
    keep_from = max(start, peak - KEEP_S)
    keep_to = min(end, peak + KEEP_S)
    found = gaps(words, *span)
    return (
        _best(found, loudness, start, start - reach, min(start + reach, keep_from), opening=True)
        or _word_edge(words, start, opening=True),
        _best(found, loudness, end, max(end - reach, keep_to), end + reach, opening=False)
        or _word_edge(words, end, opening=False),
    )


def _best(
    found: list[Gap], loudness: Loudness, wanted: float, low: float, high: float, *, opening: bool
) -> float | None:
    best, best_cost = None, float("inf")
    for gap in found:
        if gap.end + EDGE_S < low or gap.start - EDGE_S > high:
            continue
        lo, hi = max(gap.start - EDGE_S, low), min(gap.end + EDGE_S, high)
        if lo > hi:
            continue
        if (opening and gap.after is None) or (not opening and gap.before is None):
            continue  # a clip opens before words and closes after them
        # Open just before the speech resumes, close just after it stops.
        at, paused = loudness.pause(lo, hi, opening=opening)
        cost = abs(at - wanted) / REACH_S + gap.break_cost + (0 if paused else 2)
        if cost < best_cost:
            best, best_cost = at, cost
    return best


def _word_edge(words: Sequence[Word], at: float, *, opening: bool) -> float:
    """No pause in reach: the edge of the word ``at`` falls in (its start when opening, its
    end when closing), so no word is cut."""
    for word in words:
        if word.start < at < word.end:
            return word.start if opening else word.end
    return at
