"""What each side measures, in natural units, and how much each measure counts.

Every series is first turned into a *level* over a short span (``SMOOTH_S``): loudness as the
energy mean in dB, so the pauses between words do not pull a sentence down; video activity as
log2 of the bit rate, so "twice the usual motion" is one unit whatever the resolution. Each
level has a floor below which everything counts as the same (near silence, a still picture)
and a spread floor in its own units (1 dB of loudness), so a flat stretch never divides by
zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

SMOOTH_S = 3.0
SILENCE_DB = -60.0  # quieter than this is silence: every silent window reads the same
AUDIBLE_DB = -45.0  # a moment quieter than this is never an audio highlight
STILL_KBPS = 16.0  # inter-frame bit rate under this is a still picture

Level = Callable[[np.ndarray, float], np.ndarray]


def _mean(values: np.ndarray, hop_s: float) -> np.ndarray:
    """Centred mean over SMOOTH_S; at the ends, over the values there are."""
    width = max(1, round(SMOOTH_S / hop_s))
    kernel = np.ones(width)
    first = (width - 1) // 2
    total = np.convolve(values.astype(float), kernel)[first : first + len(values)]
    count = np.convolve(np.ones(len(values)), kernel)[first : first + len(values)]
    return total / count


def loudness_db(rms_db: np.ndarray, hop_s: float) -> np.ndarray:
    """Energy mean over SMOOTH_S in dB, floored at SILENCE_DB."""
    power = _mean(10 ** (np.maximum(rms_db, SILENCE_DB) / 10), hop_s)
    return 10 * np.log10(power)


def activity_octaves(kbps: np.ndarray, hop_s: float) -> np.ndarray:
    """log2 of the mean inter-frame bit rate over SMOOTH_S, still pictures floored."""
    return np.log2(_mean(np.maximum(kbps, 0.0), hop_s) + STILL_KBPS)


def people_octaves(people: np.ndarray, hop_s: float) -> np.ndarray:
    """log2(1 + people reacting in the window): "twice the usual crowd" is one unit."""
    return np.log2(1.0 + np.maximum(people, 0.0))


def _as_is(values: np.ndarray, hop_s: float) -> np.ndarray:
    return values.astype(float)


MIN_REACTING = 3  # fewer people than this reacting is not an audience reaction


@dataclass(frozen=True)
class Evidence:
    """One measure of a side. The *primary* one counts its rise in natural ``step``s (3 dB of
    loudness: twice the power); the others count in local spreads, and only insofar as the
    primary one rises too (a change of timbre in a quieter moment is not a highlight)."""

    name: str  # the feature series it reads
    unit: str
    floor: float  # the smallest spread, in the level's units
    weight: float = 1.0
    step: float | None = None  # set on the primary measure only
    level: Level = _mean
    gate: float | None = None  # a moment whose level is at or under this is flat
    absent_at: float | None = None  # where the level is at or under this, the side is silent


EVIDENCE: dict[str, tuple[Evidence, ...]] = {
    "audio": (
        Evidence(
            "rms_db",
            "dB",
            floor=1.0,
            step=3.0,
            level=loudness_db,
            gate=AUDIBLE_DB,
            absent_at=SILENCE_DB + 1.0,
        ),
        Evidence("flux", "onsets", floor=1.0, weight=0.5),
        Evidence("highband_ratio", "treble", floor=0.02, weight=0.25),
        Evidence("flatness", "noisiness", floor=0.01, weight=0.25),
    ),
    "video": (
        Evidence(
            "activity_kbits",
            "octaves of bit rate",
            floor=0.25,
            step=0.5,
            level=activity_octaves,
            gate=None,
        ),
    ),
    # Chat series already count over a reaction window (chat/features.py): no smoothing.
    "chat": (
        Evidence(
            "chat_users",
            "octaves of chatters",
            floor=0.25,
            step=1.0,
            level=people_octaves,
            gate=float(np.log2(MIN_REACTING)),
        ),
        Evidence("chat_laugh", "laughter", floor=1.0, weight=0.5, level=_as_is),
        Evidence("chat_flood", "emote flood", floor=1.0, weight=0.5, level=_as_is),
        Evidence("chat_clip", "clip it", floor=1.0, weight=0.5, level=_as_is),
        Evidence("chat_caps", "shouting", floor=0.1, weight=0.25, level=_as_is),
    ),
}


def describe(features: Mapping[str, float], clip_type: str, *, baselines: bool = False) -> str:
    """The evidence behind a highlight in a few words: "loudness +12.9 dB, onsets 4.1σ".

    ``baselines`` adds what each primary measure rose above: "… dB over -27.1 dBFS".
    """
    parts = []
    for item in EVIDENCE.get(clip_type, ()):
        rise = features.get(f"{item.name}_rise_max")
        z = features.get(f"{item.name}_z_max")
        base = features.get(f"{item.name}_baseline") if baselines else None
        if item.name == "rms_db" and rise is not None:
            over = "" if base is None else f" over the {base:.1f} dBFS around it"
            parts.append(f"loudness {rise:+.1f} dB{over}")
        elif item.level is people_octaves and item.step is not None and rise is not None:
            people = features.get(f"{item.name}_max")
            many = "" if people is None else f", {people:.0f} people"
            over = "" if base is None else f" over {2**base - 1:.1f} usually"
            parts.append(f"chat ×{2**rise:.1f} its usual crowd{many}{over}")
        elif item.level is activity_octaves and rise is not None:
            over = "" if base is None else f" over {2**base - STILL_KBPS:.0f} kbit/s around it"
            parts.append(f"motion ×{2**rise:.1f}{over}")
        elif z is not None and z >= 1.0:
            parts.append(f"{item.unit} {z:.1f}σ")
    return ", ".join(parts)


def in_plain_words(features: Mapping[str, float], clip_type: str) -> str:
    """The evidence as a viewer would say it, strongest side first: "much louder than the
    talk around it, the picture changes fast, 38 people reacted in chat" ("" without any)."""
    said = []
    rise = features.get("rms_db_rise_max")
    if rise is not None and rise >= 3.0:
        how = "much louder" if rise >= 12 else "clearly louder" if rise >= 6 else "louder"
        said.append(f"{how} than the talk around it")
    if (features.get("flux_z_max") or 0.0) >= 3.0:
        said.append("many sudden sounds (cheers, hits, shouts)")
    motion = features.get("activity_kbits_rise_max")
    if motion is not None and 2**motion >= 1.5:
        said.append("the picture changes fast" if 2**motion >= 3 else "more motion than usual")
    people = features.get("chat_users_max")
    if (
        people is not None
        and people >= MIN_REACTING
        and (features.get("chat_users_rise_max") or 0) > 0
    ):
        said.append(f"{people:.0f} people reacted in chat")
    for name, words in (("chat_laugh", "chat laughed"), ("chat_clip", 'chat said "clip it"')):
        if (features.get(f"{name}_z_max") or 0.0) >= 2.0:
            said.append(words)
    order = {"audio": 0, "video": 2, "chat": 3}.get(clip_type, 0)
    if order and said:  # the side that made the clip speaks first
        lead = [s for s in said if _side_of(s) == clip_type]
        said = lead + [s for s in said if s not in lead]
    return ", ".join(said)


def _side_of(words: str) -> str:
    if "chat" in words:
        return "chat"
    if "picture" in words or "motion" in words:
        return "video"
    return "audio"


_MEASURES = {
    "rms_db": "loudness",
    "flux": "sudden sounds",
    "highband_ratio": "treble",
    "flatness": "noisiness",
    "activity_kbits": "motion",
    "chat_users": "chatters",
    "chat_laugh": "chat laughter",
    "chat_flood": "emote flood",
    "chat_clip": '"clip it" in chat',
    "chat_caps": "shouting in chat",
    "said_rate": "words a second",
    "said_exclaimed": "exclaimed sentences",
    "said_laughs": "laughs said",
    "said_liked": "words your liked clips share",
    "detector_score": "the detector's score",
}
_ASPECTS = {
    "_rise_max": "rise",
    "_z_max": "peak against usual",
    "_z_mean": "average against usual",
    "_pct": "rank in its stream",
    "_strength": "strength",
}


def feature_in_words(name: str) -> str:
    """A learner's feature as a person reads it: "loudness: rise" for ``rms_db_rise_max``."""
    if name in _MEASURES:
        return _MEASURES[name]
    for suffix, aspect in _ASPECTS.items():
        if name.endswith(suffix):
            measure = name[: -len(suffix)]
            side = {"audio": "sound", "video": "picture", "chat": "chat"}.get(measure)
            return f"{side or _MEASURES.get(measure, measure)}: {aspect}"
    return name
