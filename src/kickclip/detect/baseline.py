"""Judge each moment against its surroundings, not against a fixed threshold.

A moment counts when it stands above what comes before it AND what comes after it: the
local baseline is the larger of the median over the ``side_s`` seconds before and the
``side_s`` seconds after (skipping ``gap_s`` around the moment itself). A burst of shouting
stands above both; the start of a long steady loud stretch (music, a fan) does not stand above
what follows it, and its middle does not stand above either side.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SIDE_S = 30.0
GAP_S = 4.0


def _side_medians(x: np.ndarray, side: int, gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Median of x[i-gap-side : i-gap] and of x[i+gap+1 : i+gap+1+side] for every i."""
    n = len(x)
    padded = np.concatenate([np.full(side + gap, np.nan), x, np.full(side + gap + 1, np.nan)])
    windows = sliding_window_view(padded, side)
    before = windows[np.arange(n)]
    after = windows[np.arange(n) + 2 * gap + side + 1]
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(before, axis=1), np.nanmedian(after, axis=1)


def local_z(
    x: np.ndarray, hop_s: float, *, side_s: float = SIDE_S, gap_s: float = GAP_S
) -> np.ndarray:
    """Robust z-score of each value above the higher of its two surroundings (≥ 0)."""
    if len(x) == 0:
        return np.zeros(0)
    side = max(2, int(side_s / hop_s))
    gap = max(1, int(gap_s / hop_s))
    before, after = _side_medians(x.astype(float), side, gap)
    baseline = np.fmax(before, after)
    baseline = np.where(np.isnan(baseline), np.nanmedian(x), baseline)
    spread = 1.4826 * np.median(np.abs(x - np.median(x)))
    floor = 0.05 * (np.percentile(x, 95) - np.percentile(x, 5)) + 1e-6
    return np.maximum(x - baseline, 0.0) / max(spread, floor)
