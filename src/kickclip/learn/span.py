"""Where a user's clips should start and end, learned from the clips they trimmed.

A user who makes clip after clip longer after its end liked what followed the moment (the
reaction, the replay); one who cuts the first seconds off did not need the build-up. Once
MIN_EDITS clips were trimmed, the median change of each end moves the next clips' windows the
same way, at most MAX_SHIFT_S, always keeping KEEP_S around the moment's peak.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

from kickclip.records import Highlight

MIN_EDITS = 3
MAX_SHIFT_S = 15.0
MIN_SHIFT_S = 0.5  # a median change smaller than this is noise, not a habit
KEEP_S = 2.0

Edit = tuple[float, float, float, float]  # detected start, detected end, start, end


@dataclass(frozen=True)
class SpanHabit:
    """How many seconds more than detected a user keeps before and after a moment
    (negative: fewer), from ``edits`` trimmed clips."""

    before_s: float
    after_s: float
    edits: int

    def apply(self, highlight: Highlight, duration_s: float | None) -> Highlight:
        end_limit = duration_s if duration_s is not None else float("inf")
        start = min(max(highlight.start_s - self.before_s, 0.0), highlight.peak_s - KEEP_S)
        end = max(min(highlight.end_s + self.after_s, end_limit), highlight.peak_s + KEEP_S)
        start, end = max(start, 0.0), min(end, end_limit)
        if end - start < 1.0:
            return highlight
        return replace(highlight, start_s=start, end_s=end)

    def describe(self) -> str:
        def side(seconds: float, earlier: str, later: str) -> str:
            return f"{abs(seconds):g} s {earlier if seconds > 0 else later}"

        changes = []
        if self.before_s:
            changes.append("start " + side(self.before_s, "earlier", "later"))
        if self.after_s:
            changes.append("end " + side(self.after_s, "later", "earlier"))
        return (
            f"clips {' and '.join(changes)} than detected, as you trimmed "
            f"{self.edits} clips (kickclip trim)"
        )


def span_habit(edits: Sequence[Edit]) -> SpanHabit | None:
    """The habit the trims show; None below MIN_EDITS trims or when they show none."""
    if len(edits) < MIN_EDITS:
        return None

    def shift(changes: list[float]) -> float:
        middle = statistics.median(changes)
        if abs(middle) < MIN_SHIFT_S:
            return 0.0
        return round(min(max(middle, -MAX_SHIFT_S), MAX_SHIFT_S), 1)

    before = shift([detected_start - start for detected_start, _, start, _ in edits])
    after = shift([end - detected_end for _, detected_end, _, end in edits])
    if not before and not after:
        return None
    return SpanHabit(before, after, len(edits))
