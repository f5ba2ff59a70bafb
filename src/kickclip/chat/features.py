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
from dataclasses import dataclass, replace
from itertools import repeat
from operator import itemgetter

import numpy as np

from kickclip.chat import ChatMessage
from kickclip.records import Features, FeatureSeries, Highlight

REACTION_S = 6.0
DEFAULT_HOP_S = 0.5
DEFAULT_LAG_S = 4.0
LAG_RANGE_S = (2.0, 15.0)
MIN_LAG_CORRELATION = 0.15
MIN_TOKEN_PEOPLE = 3
FLOOD_TOKENS = 64  # tokens followed for floods: those most people used
LAUGHTER = re.compile(  # a whole word anywhere in the message
    r"(?<!\w)(kekw|kek|lul|lulw|omegalul|lol+|lmao+|rofl|xd+|haha+|hehe+|icant|kekl|pepelaugh)"
    r"(?!\w)|😂|🤣",
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
# Everyday words: many people write them at any time, so they make no flood.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "you",
        "he",
        "she",
        "it",
        "we",
        "they",
        "me",
        "him",
        "her",
        "us",
        "them",
        "my",
        "your",
        "his",
        "its",
        "our",
        "their",
        "is",
        "am",
        "are",
        "was",
        "were",
        "be",
        "been",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "by",
        "and",
        "or",
        "but",
        "not",
        "no",
        "yes",
        "so",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "what",
        "when",
        "where",
        "who",
        "why",
        "how",
        "just",
        "like",
        "its",
        "it's",
        "im",
        "i'm",
        "u",
        "ur",
        "ok",
        "okay",
        "oh",
        "ah",
        "ya",
    ]
)
PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")  # not tokens of a flood


def _tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def _steady_posters(messages: Sequence[ChatMessage]) -> set[str]:
    """Accounts posting at a near-constant period (4+ messages, gaps over 5 s varying under
    10 %): timers and bots without a known name."""
    names: dict[str, int] = {}
    who = np.array([names.setdefault(m.user, len(names)) for m in messages], dtype=int)
    if not len(who):
        return set()
    t = np.array([m.t for m in messages], dtype=float)
    order = np.lexsort((t, who))
    who, t = who[order], t[order]
    same = who[1:] == who[:-1]
    gaps, owner = np.diff(t)[same], who[1:][same]
    count = np.bincount(owner, minlength=len(names))
    mean = np.bincount(owner, gaps, minlength=len(names)) / np.maximum(count, 1)
    spread = np.sqrt(
        np.maximum(
            np.bincount(owner, gaps**2, minlength=len(names)) / np.maximum(count, 1) - mean**2, 0
        )
    )
    steady = (count >= 3) & (mean > 5) & (spread < 0.1 * mean)
    by_index = {index: name for name, index in names.items()}
    return {by_index[int(i)] for i in np.flatnonzero(steady)}


_NO_UPPER = str.maketrans("", "", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NO_LOWER = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyz")


def _is_shout(text: str) -> bool:
    upper = len(text) - len(text.translate(_NO_UPPER))
    lower = len(text) - len(text.translate(_NO_LOWER))
    return "!!" in text or (upper + lower >= 3 and upper > 0.6 * (upper + lower))


def _is_greeting(text: str, tokens: list[str]) -> bool:
    """ "hi hi", "hey o/", "o/": every word a greeting (an emoji alone is a reaction)."""
    words = [token for token in tokens if token.isalnum() and len(token) > 1]
    return all(word in GREETINGS for word in words) if words else text in GREETINGS


def reactions(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """The messages that are people reacting (see the module's text)."""
    return [message for message, _ in _reacting(messages)]


def _reacting(messages: Sequence[ChatMessage]) -> list[tuple[ChatMessage, list[str]]]:
    """The reactions, each with its tokens (read once)."""
    steady = _steady_posters(messages)
    kept = []
    for message in messages:
        user = message.user.strip().lower()
        text = message.text.strip()
        if message.kind != "message" or not user or user in KNOWN_BOTS or message.user in steady:
            continue
        tokens = TOKEN.findall(text.lower())
        if not tokens or (len(tokens) <= 6 and _is_greeting(text, tokens)):
            continue
        if text.startswith("!") and not CLIP_IT.search(text):
            continue
        kept.append((message, tokens))
    return kept


class Reactions:
    """The reactions of a chat, read once: per message its time and person, and which kinds of
    reaction it is; ``series`` then bins them for any lag (the lag search reads them twice)."""

    def __init__(self, messages: Sequence[ChatMessage]) -> None:
        people: dict[str, int] = {}
        times, persons, laugh, clip, shout = [], [], [], [], []
        used: set[tuple[str, int]] = set()  # (token, person): who used which token
        token_sets: list[set[str]] = []
        for message, tokens in _reacting(messages):
            person = people.setdefault(message.user, len(people))
            times.append(message.t)
            persons.append(person)
            text = message.text
            laugh.append(LAUGHTER.search(text) is not None)
            clip.append(CLIP_IT.search(text) is not None)
            shout.append(_is_shout(text))
            words = set(tokens) - PUNCTUATION - STOPWORDS
            token_sets.append(words)
            used.update(zip(words, repeat(person)))
        self.t = np.array(times, dtype=float)
        self.person = np.array(persons, dtype=int)
        self.people = len(people)
        self.laugh, self.clip = np.array(laugh, dtype=bool), np.array(clip, dtype=bool)
        self.shout = np.array(shout, dtype=bool)
        # Floods: the tokens most people used, each with the messages that hold it.
        most = Counter(map(itemgetter(0), used)).most_common(FLOOD_TOKENS)
        self.flood_tokens = [token for token, _ in most]
        followed = set(self.flood_tokens)
        messages_with: dict[str, list[int]] = defaultdict(list)
        for index, words in enumerate(token_sets):
            for token in words & followed:
                messages_with[token].append(index)
        self.flood_messages = [np.array(messages_with[t], dtype=int) for t in self.flood_tokens]

    def top_token(self, start_s: float, end_s: float) -> tuple[str, int] | None:
        """The token most different people used in [start_s, end_s), and how many (at least
        MIN_TOKEN_PEOPLE), or None."""
        best: tuple[str, int] | None = None
        for token, messages in zip(self.flood_tokens, self.flood_messages, strict=True):
            times = self.t[messages]
            people = len(np.unique(self.person[messages][(times >= start_s) & (times < end_s)]))
            if people >= MIN_TOKEN_PEOPLE and (best is None or people > best[1]):
                best = (token, people)
        return best

    def series(self, duration_s: float, hop_s: float, lag_s: float = 0.0) -> FeatureSeries:
        """The chat's reaction series (module text); value at ``t`` reads ``[t + lag_s, …)``."""
        bins = max(1, int(np.ceil(duration_s / hop_s)))
        width = max(1, round(REACTION_S / hop_s))
        at = np.floor((self.t - lag_s) / hop_s).astype(int)  # the moment each reacts to
        inside = (at >= 0) & (at < bins + width)

        def distinct(keys: np.ndarray, where: np.ndarray) -> np.ndarray:
            """Per bin b: how many different keys occur in [b, b + width)."""
            return _distinct(keys[where & inside], at[where & inside], bins, width)

        everyone = np.ones(len(at), dtype=bool)
        people = distinct(self.person, everyone)
        counts = np.bincount(at[inside], minlength=bins + width).astype(float)
        csum = np.concatenate([[0.0], np.cumsum(counts)])
        rate = csum[np.arange(bins) + width] - csum[np.arange(bins)]
        flood = np.zeros(bins)
        for messages in self.flood_messages:
            where = np.zeros(len(at), dtype=bool)
            where[messages] = True
            flood = np.maximum(flood, distinct(self.person, where))
        values = {
            "chat_users": people,
            "chat_rate": rate,
            "chat_laugh": distinct(self.person, self.laugh),
            "chat_flood": flood,
            "chat_clip": distinct(self.person, self.clip),
            "chat_caps": np.divide(
                distinct(self.person, self.shout), people, out=np.zeros(bins), where=people > 0
            ),
        }
        return FeatureSeries("chat", hop_s, values)


def _distinct(keys: np.ndarray, at: np.ndarray, bins: int, width: int) -> np.ndarray:
    """Per bin b, the number of different keys with an occurrence in [b, b + width).

    An occurrence at m covers the bins (m - width, m]; a key's covers are merged by starting
    each after the previous occurrence of the same key, so a key counts once per bin.
    """
    if not len(keys):
        return np.zeros(bins)
    order = np.lexsort((at, keys))
    keys, at = keys[order], at[order]
    previous = np.concatenate([[-1], at[:-1]])
    previous[np.concatenate([[True], keys[1:] != keys[:-1]])] = -1  # a key's first occurrence
    first = np.maximum(np.maximum(at - width + 1, previous + 1), 0)
    last = np.minimum(at, bins - 1)
    keep = first <= last
    diff = np.zeros(bins + 1)
    np.add.at(diff, first[keep], 1.0)
    np.add.at(diff, last[keep] + 1, -1.0)
    return np.cumsum(diff)[:bins]


def chat_series(
    messages: Sequence[ChatMessage], duration_s: float, hop_s: float, lag_s: float = 0.0
) -> FeatureSeries:
    """The chat's reaction series (see :class:`Reactions`)."""
    return Reactions(messages).series(duration_s, hop_s, lag_s)


def audience_lag(reacting: np.ndarray, sound: np.ndarray, hop_s: float) -> float:
    """The delay (s) at which the chat's reaction best follows the sound's rises;
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


@dataclass(frozen=True)
class Chat:
    """A stream's chat read for detection: its series, the audience lag, and its reactions."""

    series: FeatureSeries
    lag_s: float
    reactions: Reactions

    def annotate(self, highlight: Highlight) -> Highlight:
        """A chat highlight's reason, with the token most people used: "…, KEKW ×23"."""
        if highlight.clip_type != "chat":
            return highlight
        top = self.reactions.top_token(highlight.start_s + self.lag_s, highlight.end_s + self.lag_s)
        if top is None:
            return highlight
        token, people = top
        return replace(highlight, reason=f"{highlight.reason}, {token.upper()} ×{people}")


def chat_for(messages: Sequence[ChatMessage], features: Features) -> Chat:
    """The chat of a stream, on its sound's timeline, with the audience lag searched."""
    hop_s = features.audio.hop_s if features.audio is not None else DEFAULT_HOP_S
    lag_s = DEFAULT_LAG_S
    chat = Reactions(messages)
    if features.audio is not None and "rms_db" in features.audio.values:
        raw = chat.series(features.duration_s, hop_s)
        sound = _sound_rise(np.asarray(features.audio.values["rms_db"], float), hop_s)
        offset = round(features.audio.start_s / hop_s)
        lag_s = audience_lag(raw.values["chat_users"][offset:], sound, hop_s)
    return Chat(chat.series(features.duration_s, hop_s, lag_s=lag_s), lag_s, chat)
