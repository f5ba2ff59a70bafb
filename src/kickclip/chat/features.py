"""Chat messages → series on the analysis timeline: how the audience reacted to each moment.

The audience reacts a few seconds after the moment (2-15 s). Each value at moment ``t``
describes the chat in ``[t + lag, t + lag + REACTION_S)``; the lag is searched per stream (the
delay at which the chat's reaction best follows the sound's rises) or ``DEFAULT_LAG_S``.

What counts as a reaction: messages of people. Left out: system notices (raids, hosts,
subscriptions), commands (``!…``), greetings ("hi", "hello", "o/": a raid brings a burst of
them), known bots and accounts posting at a steady period (a timer bot). Series, per window:

- ``chat_users``: how many different people reacted (the primary measure: one person
  flooding the chat is one person);
- ``chat_rate``: how many reaction messages;
- ``chat_laugh``: how many different people laughed (KEKW, LUL, OMEGALUL, lol, xd, 😂…);
- ``chat_flood``: the most people who used one same token (an emote wall);
- ``chat_clip``: how many different people asked to clip it;
- ``chat_caps``: the share of those people who shouted (mostly capitals, or "!!").

Every measure but ``chat_rate`` counts people, so one person flooding moves none of them
much; ``chat_rate`` is kept as a feature for the learner, not as evidence.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from kickclip.chat import ChatMessage
from kickclip.records import Features, FeatureSeries

REACTION_S = 6.0
DEFAULT_HOP_S = 0.5
DEFAULT_LAG_S = 4.0
LAG_RANGE_S = (2.0, 15.0)
MIN_LAG_CORRELATION = 0.15
FLOOD_TOKENS = 64  # tokens followed for floods: those most people used
LAUGHTER = re.compile(
    r"^(kekw|kek|lul|lulw|omegalul|lol+|lmao+|rofl|xd+|haha+|hehe+|icant|😂+|🤣+|kekl|pepelaugh)$",
    re.I,
)
CLIP_IT = re.compile(r"\b(clip(ped|ping)?( (it|that|this))?)\b|^!clip\b", re.I)
GREETINGS = frozenset(
    [
        "hi",
        "hii",
        "hiii",
        "hello",
        "hey",
        "heyy",
        "heya",
        "yo",
        "sup",
        "o/",
        "\\o",
        "gm",
        "gn",
        "welcome",
        "raid",
        "raiders",
        "hola",
    ]
)
KNOWN_BOTS = frozenset(
    [
        "botrix",
        "kickbot",
        "nightbot",
        "streamelements",
        "streamlabs",
        "moobot",
        "fossabot",
        "sery_bot",
        "wizebot",
    ]
)
TOKEN = re.compile(r"[\w']+|[^\w\s]", re.U)


def _tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def _steady_posters(messages: Sequence[ChatMessage]) -> set[str]:
    """Accounts posting at a near-constant period: timers and bots without a known name."""
    times: dict[str, list[float]] = defaultdict(list)
    for message in messages:
        times[message.user].append(message.t)
    steady = set()
    for user, moments in times.items():
        if len(moments) >= 4:
            gaps = np.diff(np.sort(moments))
            if gaps.mean() > 5 and gaps.std() < 0.1 * gaps.mean():
                steady.add(user)
    return steady


def _is_shout(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return "!!" in text or (
        len(letters) >= 3 and sum(c.isupper() for c in letters) / len(letters) > 0.6
    )


class _Window:
    """Counts per moment bin of distinct things (people) seen in the following window."""

    def __init__(self, bins: int, hop_s: float) -> None:
        self.bins, self.hop_s = bins, hop_s
        self.width = max(1, round(REACTION_S / hop_s))

    def distinct(self, events: dict[str, list[int]]) -> np.ndarray:
        """``events``: key → bins where it occurs. Each bin b counts keys occurring in
        [b, b + width): a key's occurrences cover bins (m - width, m], merged per key."""
        diff = np.zeros(self.bins + 1)
        for occurrences in events.values():
            end = -1
            for m in sorted(occurrences):
                first, last = max(m - self.width + 1, end + 1, 0), min(m, self.bins - 1)
                if first <= last:
                    diff[first] += 1
                    diff[last + 1] -= 1
                end = max(end, last)
        return np.cumsum(diff)[: self.bins]

    def total(self, occurrences: list[int]) -> np.ndarray:
        counts = np.zeros(self.bins + self.width)
        np.add.at(counts, np.asarray(occurrences, dtype=int), 1.0)
        # value at b = sum over [b, b + width)
        csum = np.concatenate([[0.0], np.cumsum(counts)])
        b = np.arange(self.bins)
        return csum[b + self.width] - csum[b]


def reactions(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """The messages that are people reacting (see the module's text)."""
    steady = _steady_posters(messages)
    kept = []
    for message in messages:
        user = message.user.strip().lower()
        text = message.text.strip()
        if message.kind != "message" or not user or user in KNOWN_BOTS or message.user in steady:
            continue
        tokens = _tokens(text)
        words = [token for token in tokens if token.isalnum() and len(token) > 1]
        greeting = all(word in GREETINGS for word in words) if words else text in GREETINGS
        if not tokens or greeting:  # "hi hi", "hey o/", "o/"; an emoji alone is a reaction
            continue
        if text.startswith("!") and not CLIP_IT.search(text):
            continue
        kept.append(message)
    return kept


def chat_series(
    messages: Sequence[ChatMessage], duration_s: float, hop_s: float, lag_s: float = 0.0
) -> FeatureSeries:
    """The chat's reaction series (module text); value at ``t`` reads ``[t + lag_s, …)``."""
    bins = max(1, int(np.ceil(duration_s / hop_s)))
    window = _Window(bins, hop_s)
    users: dict[str, list[int]] = defaultdict(list)
    laughers: dict[str, list[int]] = defaultdict(list)
    clippers: dict[str, list[int]] = defaultdict(list)
    by_token: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    token_people: Counter[str] = Counter()
    positions: list[int] = []
    shouters: dict[str, list[int]] = defaultdict(list)
    for message in reactions(messages):
        b = int(np.floor((message.t - lag_s) / hop_s))  # the moment this reacts to
        if b < 0 or b >= bins + window.width:
            continue
        b = min(b, bins + window.width - 1)
        positions.append(b)
        users[message.user].append(b)
        if _is_shout(message.text):
            shouters[message.user].append(b)
        tokens = set(_tokens(message.text))
        if any(LAUGHTER.match(token) for token in tokens):
            laughers[message.user].append(b)
        if CLIP_IT.search(message.text):
            clippers[message.user].append(b)
        for token in tokens:
            if token.isalnum() or not token.isascii():
                if message.user not in by_token[token]:
                    token_people[token] += 1
                by_token[token][message.user].append(b)
    rate = window.total(positions)
    flood = np.zeros(bins)
    for token, _ in token_people.most_common(FLOOD_TOKENS):
        flood = np.maximum(flood, window.distinct(by_token[token]))
    people = window.distinct(users)
    values = {
        "chat_users": people,
        "chat_rate": rate,
        "chat_laugh": window.distinct(laughers),
        "chat_flood": flood,
        "chat_clip": window.distinct(clippers),
        "chat_caps": np.divide(
            window.distinct(shouters), people, out=np.zeros(bins), where=people > 0
        ),
    }
    return FeatureSeries("chat", hop_s, values)


def audience_lag(reacting: np.ndarray, sound: np.ndarray, hop_s: float) -> float:
    """The delay (s) at which the chat's reaction best follows the sound's strength;
    ``DEFAULT_LAG_S`` when they do not go together enough to tell."""
    n = min(len(reacting), len(sound))
    if n < 4 * LAG_RANGE_S[1] / hop_s or np.std(sound[:n]) == 0:
        return DEFAULT_LAG_S
    best, best_r = DEFAULT_LAG_S, MIN_LAG_CORRELATION
    for lag in np.arange(LAG_RANGE_S[0], LAG_RANGE_S[1] + hop_s / 2, hop_s):
        k = round(lag / hop_s)
        a, c = sound[: n - k], reacting[k:n]
        if np.std(c) == 0:
            continue
        r = float(np.corrcoef(a, c)[0, 1])
        if r > best_r:
            best, best_r = float(lag), r
    return best


def _sound_rise(rms_db: np.ndarray, hop_s: float) -> np.ndarray:
    """How far the loudness stands above its last half minute, in dB (never below 0)."""
    from numpy.lib.stride_tricks import sliding_window_view

    width = max(3, round(30.0 / hop_s))
    padded = np.concatenate([np.full(width - 1, rms_db[0]), rms_db])
    typical = np.median(sliding_window_view(padded, width), axis=1)
    return np.maximum(rms_db - typical, 0.0)


def chat_for(messages: Sequence[ChatMessage], features: Features) -> tuple[FeatureSeries, float]:
    """The chat series of a stream, on its sound's timeline, and the audience lag used."""
    hop_s = features.audio.hop_s if features.audio is not None else DEFAULT_HOP_S
    lag_s = DEFAULT_LAG_S
    if features.audio is not None and "rms_db" in features.audio.values:
        start = features.audio.start_s
        moving = [m for m in messages if m.t >= start]
        raw = chat_series(moving, features.duration_s, hop_s)
        sound = _sound_rise(np.asarray(features.audio.values["rms_db"], float), hop_s)
        offset = round(start / hop_s)
        lag_s = audience_lag(raw.values["chat_users"][offset:], sound, hop_s)
    return chat_series(messages, features.duration_s, hop_s, lag_s=lag_s), lag_s
