"""Detect: feature series → highlights, ranked by how far each moment rises above its surroundings.

Every candidate moment is ranked; nothing is thrown away for being merely ordinary, so a stream
of steady talk still yields its best moments. Only what is flat is dropped: near silence, a still
picture, a moment that rises above neither side. See ``evidence.py`` for what each side
measures and ``baseline.py`` for how a moment is judged against its surroundings.
"""

from __future__ import annotations

import numpy as np

from kickclip.detect.baseline import local_rise
from kickclip.detect.evidence import EVIDENCE, describe
from kickclip.detect.peaks import clip_window, pick_peaks
from kickclip.records import Features, FeatureSeries, Highlight

Z_CAP = 12.0  # no single measure can outvote the rest by more than this
MIN_STRENGTH = 0.25  # under a quarter step of rise a moment is flat
STRENGTH_HALF = 4.0  # the strength that scores 0.5 (loudness alone: 12 dB above the talk)
ONE_SIDED = 0.5  # a moment with only one side to judge it by counts half


def judge(series: FeatureSeries) -> tuple[np.ndarray, dict[str, dict[str, np.ndarray]]]:
    """The side's strength per moment, and each measure's level, baseline, rise and z."""
    evidence = [e for e in EVIDENCE[series.clip_type] if e.name in series.values]
    levels = {e.name: e.level(series.values[e.name], series.hop_s) for e in evidence}
    n = len(series)
    absent = np.zeros(n, dtype=bool)  # silent moments: no measure's surroundings include them
    for item in evidence:
        if item.absent_at is not None:
            absent |= levels[item.name] <= item.absent_at
    primary, support = np.zeros(n), np.zeros(n)
    louder, counts, one_sided = np.ones(n), np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
    detail: dict[str, dict[str, np.ndarray]] = {}
    for item in evidence:
        level = levels[item.name]
        judged = local_rise(level, series.hop_s, floor=item.floor, absent=absent)
        if item.step is not None:
            steps = judged.rise / item.step
            primary += item.weight * np.clip(steps, 0.0, Z_CAP)
            louder = np.clip(steps, 0.0, 1.0)
            one_sided = judged.one_sided
        else:
            support += item.weight * np.clip(judged.z, 0.0, Z_CAP)
        if item.gate is not None:
            counts &= level > item.gate
        detail[item.name] = {
            "level": level,
            "baseline": judged.baseline,
            "rise": judged.rise,
            "z": judged.z,
        }
    strength = (primary + louder * support) * np.where(one_sided, ONE_SIDED, 1.0)
    return np.where(counts, strength, 0.0), detail


def score_of(strength: float) -> float:
    """Strength in local spreads → [0, 1): 0.5 at STRENGTH_HALF, the same on every stream."""
    return float(strength / (strength + STRENGTH_HALF))


def summarize(
    series: FeatureSeries, detail: dict[str, dict[str, np.ndarray]], first: int, last: int
) -> dict[str, float]:
    """Per feature: mean, max and spread over the window; per evidence series: its rise."""
    out: dict[str, float] = {}
    for name, values in series.values.items():
        window = values[first:last]
        out[f"{name}_mean"] = float(np.mean(window))
        out[f"{name}_max"] = float(np.max(window))
        out[f"{name}_std"] = float(np.std(window))
    for name, judged in detail.items():
        z = judged["z"][first:last]
        peak = first + int(np.argmax(judged["rise"][first:last]))
        out[f"{name}_z_max"] = float(np.clip(np.max(z), -Z_CAP, Z_CAP))
        out[f"{name}_z_mean"] = float(np.clip(np.mean(z), -Z_CAP, Z_CAP))
        out[f"{name}_rise_max"] = float(judged["rise"][peak])
        out[f"{name}_baseline"] = float(judged["baseline"][peak])
    return out


def _window(series: FeatureSeries, start_s: float, end_s: float) -> tuple[int, int]:
    first = max(int((start_s - series.start_s) / series.hop_s), 0)
    last = max(int(np.ceil((end_s - series.start_s) / series.hop_s)), first + 1)
    return first, last


def find_highlights(
    features: Features, *, clip_duration_s: float, min_gap_s: float, top: int
) -> list[Highlight]:
    """Up to ``top`` highlights per side, best first.

    With a chat, every highlight also carries the other sides' summaries across the chat
    (an audio highlight the chat's reaction to it, a chat highlight the sound and picture),
    so the learned taste can weigh them together.
    """
    judged = {series.clip_type: (series, *judge(series)) for series in features.series()}
    highlights = []
    for kind, (series, strength, detail) in judged.items():
        for index in pick_peaks(
            strength, series.hop_s, min_gap_s=min_gap_s, top=top, min_score=MIN_STRENGTH
        ):
            peak_s = series.start_s + (index + 0.5) * series.hop_s
            start_s, end_s = clip_window(
                peak_s, duration_s=clip_duration_s, media_s=features.duration_s
            )
            summary = summarize(series, detail, *_window(series, start_s, end_s))
            summary["peak_strength"] = float(strength[index])
            for other_kind, (other, _, other_detail) in judged.items():
                if other_kind != kind and "chat" in (kind, other_kind):
                    summary.update(summarize(other, other_detail, *_window(other, start_s, end_s)))
            highlights.append(
                Highlight(
                    start_s=start_s,
                    end_s=end_s,
                    peak_s=peak_s,
                    score=score_of(strength[index]),
                    clip_type=series.clip_type,
                    features=summary,
                    reason=describe(summary, series.clip_type),
                )
            )
    return sorted(highlights, key=lambda h: h.score, reverse=True)
