"""Peaks with non-maximum suppression by a minimum gap, and the clip window around each."""

from __future__ import annotations

import numpy as np

LEAD_IN = 0.4  # the share of a clip before its peak


def pick_peaks(
    score: np.ndarray, hop_s: float, *, min_gap_s: float, top: int, min_score: float
) -> list[int]:
    """Indices of the highest scores, best first, no two closer than ``min_gap_s``."""
    gap = max(1, round(min_gap_s / hop_s))
    picked: list[int] = []
    for index in np.argsort(score)[::-1]:
        if score[index] < min_score or len(picked) >= top:
            break
        if all(abs(int(index) - other) >= gap for other in picked):
            picked.append(int(index))
    return picked


def clip_window(
    peak_s: float, *, duration_s: float, media_s: float, lead_in: float = LEAD_IN
) -> tuple[float, float]:
    """A ``duration_s`` window with ``lead_in`` of it before the peak, kept inside the media."""
    if media_s <= duration_s:
        return 0.0, media_s
    start = min(max(peak_s - lead_in * duration_s, 0.0), media_s - duration_s)
    return start, start + duration_s
