"""Detect: feature series → highlights, each moment judged against its surroundings."""

from __future__ import annotations

import numpy as np

from kickclip.detect.baseline import local_z
from kickclip.detect.peaks import clip_window, pick_peaks
from kickclip.records import Features, FeatureSeries, Highlight

# How much each series' rise above its surroundings counts towards a side's score. Frame
# difference spikes at every calm scene cut, so it informs the learned model, not this score.
WEIGHTS = {
    "audio": {"rms_db": 1.0, "flux": 0.5, "highband_ratio": 0.2},
    "video": {"activity_kbits": 1.0, "colourfulness": 0.1},
}
SMOOTH_S = 1.5
MIN_Z = 6.0  # a peak weaker than this is ordinary variation, not a highlight
SCORE_HALF_Z = 8.0  # the z where the heuristic score reaches 0.5


def score_series(series: FeatureSeries) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The side's combined, smoothed z-score, and each feature's own z-score."""
    zs = {name: local_z(values, series.hop_s) for name, values in series.values.items()}
    weights = WEIGHTS[series.clip_type]
    combined = sum(weights.get(name, 0.0) * z for name, z in zs.items())
    width = max(1, int(SMOOTH_S / series.hop_s))
    smooth = np.convolve(combined, np.ones(width) / width, mode="same")
    return smooth / sum(weights.values()), zs


def summarize(
    series: FeatureSeries, zs: dict[str, np.ndarray], first: int, last: int
) -> dict[str, float]:
    """Per feature: mean, max and spread over the window, and its rise above surroundings."""
    out: dict[str, float] = {}
    for name, values in series.values.items():
        window, z = values[first:last], zs[name][first:last]
        out[f"{name}_mean"] = float(np.mean(window))
        out[f"{name}_max"] = float(np.max(window))
        out[f"{name}_std"] = float(np.std(window))
        out[f"{name}_z_max"] = float(np.max(z))
        out[f"{name}_z_mean"] = float(np.mean(z))
    return out


def find_highlights(
    features: Features, *, clip_duration_s: float, min_gap_s: float, top: int
) -> list[Highlight]:
    """Up to ``top`` highlights per side, best first."""
    highlights = []
    for series in features.series():
        score, zs = score_series(series)
        for index in pick_peaks(score, series.hop_s, min_gap_s=min_gap_s, top=top, min_score=MIN_Z):
            peak_s = series.start_s + (index + 0.5) * series.hop_s
            start_s, end_s = clip_window(
                peak_s, duration_s=clip_duration_s, media_s=features.duration_s
            )
            first = max(int((start_s - series.start_s) / series.hop_s), 0)
            last = max(int(np.ceil((end_s - series.start_s) / series.hop_s)), first + 1)
            summary = summarize(series, zs, first, last)
            summary["peak_z"] = float(score[index])
            highlights.append(
                Highlight(
                    start_s=start_s,
                    end_s=end_s,
                    peak_s=peak_s,
                    score=float(score[index] / (score[index] + SCORE_HALF_Z)),
                    clip_type=series.clip_type,
                    features=summary,
                )
            )
    return sorted(highlights, key=lambda h: h.score, reverse=True)
