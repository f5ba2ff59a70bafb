"""Judge each moment against its surroundings: the level before it AND the level after it.

For every moment the baseline is the median of the ``side_s`` seconds before it and of the
``side_s`` seconds after it (skipping ``gap_s`` around the moment itself), and the moment must
rise above the higher of the two. A burst of shouting stands above both sides; the start of a
long steady loud stretch (music, a fan) does not stand above what follows it, and its middle
does not stand above either side. The spread (how much the surroundings move on their own) is
the median absolute deviation of those same windows, never less than a floor in the feature's
own units, so a still or silent stretch cannot make a tiny wiggle look enormous.

Silence is not a surrounding: moments marked ``absent`` (near silence) are left out of every
side, so talk next to a long pause is judged against the talk, not against the pause.

Edges are explicit: a side with less than ``min_side_s`` of media (of sound, for audio) is not a
side; the moment is judged by the other one alone (``one_sided``: the caller counts it less),
and a moment with neither (a very short file) by the whole file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SIDE_S = 30.0
GAP_S = 4.0
MIN_SIDE_S = 3.0
MAD_TO_SD = 1.4826
CHUNK = 1024  # moments judged at once


@dataclass(frozen=True)
class Rise:
    """Per moment: the baseline it is judged by, how far it rises, and the local spread."""

    baseline: np.ndarray
    rise: np.ndarray  # value − baseline, in the feature's units (negative: below)
    spread: np.ndarray  # ≥ the floor, in the feature's units
    one_sided: np.ndarray  # judged by one side only (near the start or the end)

    @property
    def z(self) -> np.ndarray:
        return self.rise / self.spread


def _side_stats(
    x: np.ndarray, side: int, gap: int, min_count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Median and MAD of x[i-gap-side : i-gap] and of x[i+gap+1 : i+gap+1+side] (NaN: too short).

    Computed CHUNK moments at a time, so memory stays flat however long the stream is.
    """
    n = len(x)
    padded = np.concatenate([np.full(side + gap, np.nan), x, np.full(side + gap + 1, np.nan)])
    windows = sliding_window_view(padded, side)  # a view: no copy
    out = [np.full(n, np.nan) for _ in range(4)]
    for first in range(0, n, CHUNK):
        last = min(first + CHUNK, n)
        offset = 2 * gap + side + 1
        for k, rows in enumerate((windows[first:last], windows[first + offset : last + offset])):
            count = np.sum(~np.isnan(rows), axis=1)
            median = _row_medians(rows, count)
            mad = _row_medians(np.abs(rows - median[:, None]), count)
            long_enough = count >= min_count
            out[2 * k][first:last] = np.where(long_enough, median, np.nan)
            out[2 * k + 1][first:last] = np.where(long_enough, mad, np.nan)
    return out[0], out[1], out[2], out[3]


def _row_medians(rows: np.ndarray, count: np.ndarray) -> np.ndarray:
    """``np.nanmedian(rows, axis=1)`` (``count``: the values per row that are not NaN), by one
    sort: NaN sorts last, so a row's median sits in the middle of its first ``count`` values.
    nanmedian takes a masked-array path for short rows, several times slower."""
    ordered = np.sort(rows, axis=1)
    at = np.arange(len(rows))
    low = ordered[at, np.maximum(count - 1, 0) // 2]
    high = ordered[at, np.maximum(count, 1) // 2 - (count == 0)]
    with np.errstate(invalid="ignore"):
        return np.where(count > 0, (low + high) / 2, np.nan)


def local_rise(
    x: np.ndarray,
    hop_s: float,
    *,
    floor: float,
    side_s: float = SIDE_S,
    gap_s: float = GAP_S,
    min_side_s: float = MIN_SIDE_S,
    absent: np.ndarray | None = None,
) -> Rise:
    """How far each value of ``x`` rises above the higher of its two surroundings."""
    x = np.asarray(x, dtype=float)
    present = x if absent is None else np.where(absent, np.nan, x)
    if len(x) == 0:
        empty = np.zeros(0)
        return Rise(empty, empty, empty, np.zeros(0, dtype=bool))
    side = max(2, round(side_s / hop_s))
    gap = max(1, round(gap_s / hop_s))
    min_count = min(side, max(2, round(min_side_s / hop_s)))
    before, before_mad, after, after_mad = _side_stats(present, side, gap, min_count)
    one_sided = np.isnan(before) != np.isnan(after)
    baseline = np.fmax(before, after)  # a missing side (NaN) leaves the other one to judge
    mad = np.fmax(before_mad, after_mad)
    whole = np.isnan(baseline)
    if whole.any():  # neither side long enough: the whole file is the surroundings
        known = present[~np.isnan(present)]
        known = known if known.size else x
        median = float(np.median(known))
        baseline[whole] = median
        mad[whole] = float(np.median(np.abs(known - median)))
    spread = np.maximum(MAD_TO_SD * mad, floor)
    return Rise(baseline=baseline, rise=x - baseline, spread=spread, one_sided=one_sided)
