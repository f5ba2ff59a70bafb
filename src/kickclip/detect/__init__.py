"""Detect: feature series → moments, ranked by how far each rises above its surroundings.

Each side (sound, picture, chat) is judged on its own (:class:`SideDetector`): per moment, a
*strength* counted in steps of its primary measure and local spreads of the others (see
``evidence.py`` for what each side measures, ``baseline.py`` for how a moment is judged
against its surroundings). The sides then meet on one timeline (:class:`MomentDetector`):

* each side's strength is divided by how strong that side's ordinary moments are in this
  stream (its ``ordinary_quantile``, never under ``ordinary_floor``), so a side whose
  measures run higher by construction does not win by construction;
* a moment is a peak of the strongest side there; what every side saw around it goes into
  one :class:`~kickclip.records.Highlight`, whose ``clip_type`` is the side that leads it.

Every candidate is ranked; nothing is thrown away for being merely ordinary, so a stream of
steady talk still yields its best moments. Only what is flat is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from kickclip.detect.baseline import local_rise
from kickclip.detect.evidence import EVIDENCE, Evidence, describe
from kickclip.detect.peaks import clip_window, pick_peaks
from kickclip.records import Features, FeatureSeries, Highlight, Timeline

Detail = dict[str, dict[str, np.ndarray]]
Z_CAP = 12.0  # no single measure can outvote the rest by more than this
TIMELINE_POINTS = 2000  # steps a stream's timeline is shown in, at most


@dataclass(frozen=True)
class SideDetector:
    """The strength of one side per moment, from its measures' rises.

    ``z_cap``: no single measure can outvote the rest by more than this; ``one_sided``: what a
    moment judged by one side of its surroundings only (near an end) counts.
    """

    evidence: tuple[Evidence, ...]
    z_cap: float = Z_CAP
    one_sided: float = 0.5

    def judge(self, series: FeatureSeries) -> tuple[np.ndarray, Detail]:
        """The side's strength per moment, and each measure's level, baseline, rise and z."""
        evidence = [e for e in self.evidence if e.name in series.values]
        levels = {e.name: e.level(series.values[e.name], series.hop_s) for e in evidence}
        n = len(series)
        absent = np.zeros(n, dtype=bool)  # silent moments: no measure's surroundings hold them
        for item in evidence:
            if item.absent_at is not None:
                absent |= levels[item.name] <= item.absent_at
        primary, support = np.zeros(n), np.zeros(n)
        louder, counts, one_sided = np.ones(n), np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
        detail: Detail = {}
        for item in evidence:
            level = levels[item.name]
            judged = local_rise(level, series.hop_s, floor=item.floor, absent=absent)
            if item.step is not None:
                steps = judged.rise / item.step
                primary += item.weight * np.clip(steps, 0.0, self.z_cap)
                louder = np.clip(steps, 0.0, 1.0)
                one_sided = judged.one_sided
            else:
                support += item.weight * np.clip(judged.z, 0.0, self.z_cap)
            if item.gate is not None:
                counts &= level > item.gate
            detail[item.name] = {
                "level": level,
                "baseline": judged.baseline,
                "rise": judged.rise,
                "z": judged.z,
            }
        strength = (primary + louder * support) * np.where(one_sided, self.one_sided, 1.0)
        return np.where(counts, strength, 0.0), detail


SIDE_DETECTORS: dict[str, SideDetector] = {
    kind: SideDetector(evidence) for kind, evidence in EVIDENCE.items()
}


def judge(series: FeatureSeries) -> tuple[np.ndarray, Detail]:
    """The default detector's strength per moment of one side (see :class:`SideDetector`)."""
    return SIDE_DETECTORS[series.clip_type].judge(series)


@dataclass(frozen=True)
class Side:
    """One side of a stream, judged: its series, per-moment strength and calibrated strength."""

    series: FeatureSeries
    strength: np.ndarray
    calibrated: np.ndarray
    detail: Detail
    ordered: Mapping[str, np.ndarray]  # each raw series sorted: where a window's level ranks

    def at(self, times_s: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``values`` (one per moment of this side) at each time; 0 outside the series."""
        index = np.floor((times_s - self.series.start_s) / self.series.hop_s).astype(int)
        inside = (index >= 0) & (index < len(values))
        return np.where(inside, values[np.clip(index, 0, len(values) - 1)], 0.0)

    def window(self, start_s: float, end_s: float) -> tuple[int, int]:
        first = max(int((start_s - self.series.start_s) / self.series.hop_s), 0)
        last = max(int(np.ceil((end_s - self.series.start_s) / self.series.hop_s)), first + 1)
        return first, last


@dataclass(frozen=True)
class _View:
    """Every side judged and laid on one clock (the sound's when there is sound)."""

    sides: Mapping[str, Side]
    times: np.ndarray
    hop_s: float
    along: Mapping[str, np.ndarray]  # calibrated strength per side
    raw_along: Mapping[str, np.ndarray]
    strongest: np.ndarray  # the strongest side's calibrated strength; 0 where all are flat


@dataclass(frozen=True)
class MomentDetector:
    """Moments of a stream where any side rises, one highlight per moment, best first.

    ``ordinary_quantile`` / ``ordinary_floor``: a side's strengths are counted in units of the
    strength its ordinary moments reach in this stream (that quantile, at least the floor);
    ``ordinary_over_s``: what is ordinary is judged over at least this much of the stream, a
    shorter one filled out at the floor (else, in a watch's first minute, one shout would be
    a tenth of what counts as ordinary and score itself down);
    ``strength_half``: the calibrated strength that scores 0.5; ``min_strength``: under this a
    moment is flat; ``near_s``: how far from the peak another side's rise still belongs to the
    same moment.
    """

    sides: Mapping[str, SideDetector] = field(default_factory=lambda: dict(SIDE_DETECTORS))
    ordinary_quantile: float = 0.9
    ordinary_floor: float = 1.5
    ordinary_over_s: float = 0.0
    strength_half: float = 2.0
    min_strength: float = 0.25
    near_s: float = 3.0

    def judge(self, series: FeatureSeries) -> Side:
        strength, detail = self.sides[series.clip_type].judge(series)
        missing = max(round(self.ordinary_over_s / series.hop_s) - len(strength), 0)
        sample = np.concatenate([strength, np.full(missing, self.ordinary_floor)])
        ordinary = max(float(np.quantile(sample, self.ordinary_quantile)), self.ordinary_floor)
        ordered = {
            name: np.sort(values[np.isfinite(values)]) for name, values in series.values.items()
        }
        return Side(series, strength, strength / ordinary, detail, ordered)

    def score_of(self, calibrated: float) -> float:
        """Calibrated strength → [0, 1): 0.5 at ``strength_half``, the same on every side."""
        return float(calibrated / (calibrated + self.strength_half))

    def find(
        self, features: Features, *, clip_duration_s: float, min_gap_s: float, top: int
    ) -> list[Highlight]:
        view = self._view(features)
        if view is None:
            return []
        highlights = [
            self._moment(view, index, features, clip_duration_s)
            for index in pick_peaks(
                view.strongest,
                view.hop_s,
                min_gap_s=min_gap_s,
                top=top,
                min_score=np.finfo(float).tiny,
            )
        ]
        return sorted(highlights, key=lambda h: h.score, reverse=True)

    def moment_at(
        self, features: Features, peak_s: float, *, clip_duration_s: float
    ) -> Highlight | None:
        """The highlight a moment chosen by hand makes: the window around ``peak_s`` with
        every side's evidence, of the type of the side strongest there (None: nothing to
        read)."""
        view = self._view(features)
        if view is None:
            return None
        index = int(np.clip(np.searchsorted(view.times, peak_s) - 1, 0, len(view.times) - 1))
        start_s, end_s = clip_window(
            peak_s, duration_s=clip_duration_s, media_s=features.duration_s
        )
        moment = self._moment(view, index, features, clip_duration_s)
        return replace(moment, start_s=start_s, end_s=end_s, peak_s=peak_s)

    def _view(self, features: Features) -> _View | None:
        sides = {s.clip_type: self.judge(s) for s in features.series() if s.clip_type in self.sides}
        if not sides:
            return None
        clock = next(iter(sides.values())).series  # the sound's clock when there is sound
        times = clock.times_s + 0.5 * clock.hop_s
        along = {kind: side.at(times, side.calibrated) for kind, side in sides.items()}
        strongest = np.max(np.vstack(list(along.values())), axis=0)
        raw_along = {kind: side.at(times, side.strength) for kind, side in sides.items()}
        raw = np.max(np.vstack(list(raw_along.values())), axis=0)
        strongest = np.where(raw >= self.min_strength, strongest, 0.0)  # flat on every side
        return _View(sides, times, clock.hop_s, along, raw_along, strongest)

    def _moment(
        self, view: _View, index: int, features: Features, clip_duration_s: float
    ) -> Highlight:
        peak_s = float(view.times[index])
        start_s, end_s = clip_window(
            peak_s, duration_s=clip_duration_s, media_s=features.duration_s
        )
        near = max(0, round(self.near_s / view.hop_s))
        around = slice(max(index - near, 0), index + near + 1)
        strengths = {kind: float(np.max(values[around])) for kind, values in view.along.items()}
        lead = max(strengths, key=lambda kind: strengths[kind])
        summary: dict[str, float] = {}
        for kind, side in view.sides.items():
            summary.update(summarize(side, *side.window(start_s, end_s)))
            summary[f"{kind}_strength"] = strengths[kind]
        summary["peak_strength"] = float(np.max(view.raw_along[lead][around]))
        score = self.score_of(strengths[lead])
        summary["detector_score"] = score  # the learner weighs its taste against this
        return Highlight(
            start_s=start_s,
            end_s=end_s,
            peak_s=peak_s,
            score=score,
            clip_type=lead,
            features=summary,
            reason=self.reason(summary, lead, strengths),
        )

    def timeline(self, features: Features, *, points: int = TIMELINE_POINTS) -> Timeline | None:
        """Each side's calibrated strength over the stream, at most ``points`` steps of at
        least a second (the largest value in each, so no rise is smoothed away)."""
        sides = {s.clip_type: self.judge(s) for s in features.series() if s.clip_type in self.sides}
        if not sides:
            return None
        clock = next(iter(sides.values())).series
        hop = max(1.0, features.duration_s / points)
        hop = float(np.ceil(hop / clock.hop_s) * clock.hop_s)
        per = max(1, round(hop / clock.hop_s))
        times = clock.times_s + 0.5 * clock.hop_s
        steps = -(-len(times) // per)
        out = {}
        for kind, side in sides.items():
            values = side.at(times, side.calibrated)
            padded = np.zeros(steps * per)
            padded[: len(values)] = values
            out[kind] = tuple(float(v) for v in padded.reshape(steps, per).max(axis=1))
        return Timeline(hop_s=hop, start_s=float(clock.start_s), sides=out)

    def reason(self, summary: Mapping[str, float], lead: str, strengths: Mapping[str, float]):
        """The leading side's evidence, then any other side that rose with it."""
        parts = [describe(summary, lead)]
        for kind, strength in strengths.items():
            if kind != lead and strength >= self.ordinary_floor:
                parts.append(describe(summary, kind))
        return "; ".join(part for part in parts if part)


def summarize(side: Side, first: int, last: int) -> dict[str, float]:
    """What one side shows from window ``first`` to ``last``.

    Per raw series: mean, max and spread over the window, and ``_pct``, where the window's
    mean ranks among all of this stream's moments (0 to 1: a level normalised within the
    stream). Per evidence measure: its z (peak and mean), rise at its peak in natural units,
    and the baseline it rose above.
    """
    out: dict[str, float] = {}
    for name, values in side.series.values.items():
        window = values[first:last]
        if window.size == 0:
            continue
        out[f"{name}_mean"] = float(np.mean(window))
        out[f"{name}_max"] = float(np.max(window))
        out[f"{name}_std"] = float(np.std(window))
        ordered = side.ordered[name]
        if ordered.size and np.isfinite(out[f"{name}_mean"]):
            rank = np.searchsorted(ordered, out[f"{name}_mean"], side="right")
            out[f"{name}_pct"] = float(rank / ordered.size)
    cap = Z_CAP
    for name, judged in side.detail.items():
        z = judged["z"][first:last]
        if z.size == 0:
            continue
        peak = first + int(np.argmax(judged["rise"][first:last]))
        out[f"{name}_z_max"] = float(np.clip(np.max(z), -cap, cap))
        out[f"{name}_z_mean"] = float(np.clip(np.mean(z), -cap, cap))
        out[f"{name}_rise_max"] = float(judged["rise"][peak])
        out[f"{name}_baseline"] = float(judged["baseline"][peak])
    return out


DEFAULT_DETECTOR = MomentDetector()
# A watch judges each moment with the minutes watched so far, a few at first.
LIVE_DETECTOR = MomentDetector(ordinary_over_s=180.0)


def timeline(features: Features) -> Timeline | None:
    """The default detector's view of the whole stream, side by side (see
    :meth:`MomentDetector.timeline`)."""
    return DEFAULT_DETECTOR.timeline(features)


def moment_at(features: Features, peak_s: float, *, clip_duration_s: float) -> Highlight | None:
    """The default detector's highlight around a moment chosen by hand."""
    return DEFAULT_DETECTOR.moment_at(features, peak_s, clip_duration_s=clip_duration_s)


def find_highlights(
    features: Features, *, clip_duration_s: float, min_gap_s: float, top: int
) -> list[Highlight]:
    """Up to ``top`` moments, best first, each carrying every side's evidence (see
    :class:`MomentDetector`)."""
    return DEFAULT_DETECTOR.find(
        features, clip_duration_s=clip_duration_s, min_gap_s=min_gap_s, top=top
    )
