"""The feature series of a stream that is still going: pieces appended, the distant past let go.

A live stream is analyzed piece by piece (``extract_features`` on each recorded piece). Their
series are laid end to end on the recording's clock, every side at its own step of ``hop_s``;
a step a piece boundary left without a value carries the last one. Only the last ``keep_s``
seconds are kept, so hours of watching hold the same few thousand values per measure.
"""

from __future__ import annotations

import numpy as np

from kickclip.analyze.decode import HOP_S
from kickclip.records import Features, FeatureSeries


class RollingFeatures:
    def __init__(self, keep_s: float, hop_s: float = HOP_S) -> None:
        self.keep = max(1, round(keep_s / hop_s))
        self.hop_s = hop_s
        self.first: dict[str, int] = {}  # per side: the step its first kept value stands at
        self.values: dict[str, dict[str, np.ndarray]] = {}
        self.end_s = 0.0
        self.warnings: list[str] = []

    def add(self, piece: Features, offset_s: float) -> None:
        """Append one piece's series, its time 0 at ``offset_s`` of the recording."""
        for series in (piece.audio, piece.video):
            if series is None or not len(series):
                continue
            self._append(series, round((offset_s + series.start_s) / self.hop_s))
        self.end_s = max(self.end_s, offset_s + piece.duration_s)
        self.warnings.extend(w for w in piece.warnings if w not in self.warnings)
        del self.warnings[:-10]

    def _append(self, series: FeatureSeries, at: int) -> None:
        kind = series.clip_type
        if kind not in self.values:
            self.first[kind] = at
            self.values[kind] = {name: np.asarray(v, float) for name, v in series.values.items()}
            return
        stored = self.values[kind]
        next_step = self.first[kind] + len(next(iter(stored.values())))
        skip = max(next_step - at, 0)  # steps the last piece already holds
        gap = max(at - next_step, 0)  # steps no piece holds: the last value carried on
        for name in stored:
            new = np.asarray(series.values.get(name, np.full(len(series), np.nan)), float)[skip:]
            carried = np.full(gap, stored[name][-1] if len(stored[name]) else 0.0)
            joined = np.concatenate([stored[name], carried, new])
            stored[name] = _carry_forward(joined, len(stored[name]))
        drop = len(next(iter(stored.values()))) - self.keep
        if drop > 0:
            for name in stored:
                stored[name] = stored[name][drop:]
            self.first[kind] += drop

    @property
    def start_s(self) -> float:
        """Where the kept series begin, on the recording's clock."""
        return min((first * self.hop_s for first in self.first.values()), default=0.0)

    def features(self) -> Features:
        """What is kept, as one stream's features on the recording's clock."""
        sides = {
            kind: FeatureSeries(
                kind, self.hop_s, dict(values), start_s=self.first[kind] * self.hop_s
            )
            for kind, values in self.values.items()
        }
        return Features(
            duration_s=self.end_s,
            audio=sides.get("audio"),
            video=sides.get("video"),
            warnings=tuple(self.warnings),
        )


def _carry_forward(values: np.ndarray, known: int) -> np.ndarray:
    """``values`` with each NaN after the first ``known`` replaced by the last value before it."""
    tail = values[known:]
    missing = np.isnan(tail)
    if not missing.any():
        return values
    index = np.where(~missing, np.arange(len(tail)), -1)
    index = np.maximum.accumulate(index)
    before = values[known - 1] if known else 0.0
    filled = np.where(index >= 0, tail[np.maximum(index, 0)], before)
    return np.concatenate([values[:known], filled])
