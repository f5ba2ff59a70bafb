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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import chain

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
LAUGH_WORDS = r"kekw|kek|lul|lulw|omegalul|lol+|lmao+|rofl|xd+|haha+|hehe+|icant|kekl|pepelaugh"
LAUGHTER = re.compile(rf"(?<!\w)({LAUGH_WORDS})(?!\w)|😂|🤣", re.I)  # a whole word anywhere
CLIP_IT = re.compile(r"\b(clip(ped|ping)?( (it|that|this))?)\b|^!clip\b", re.I)
# In ASCII text, LAUGHTER and CLIP_IT match exactly where a part of a token between apostrophes
# (a whole run of word characters), lowercase, is one of these: so they are read once per
# distinct chunk of text (see _Read); texts out of ASCII are searched with the expressions.
_LAUGH_WORD = re.compile(LAUGH_WORDS)
_CLIP_WORDS = frozenset(["clip", "clipped", "clipping"])
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


def _steady(who: np.ndarray, t: np.ndarray, names: int) -> np.ndarray:
    """Per account (index into ``names``): does it post at a near-constant period?"""
    if not len(who):
        return np.zeros(names, dtype=bool)
    order = np.lexsort((t, who))
    who, t = who[order], t[order]
    same = who[1:] == who[:-1]
    gaps, owner = np.diff(t)[same], who[1:][same]
    count = np.bincount(owner, minlength=names)
    mean = np.bincount(owner, gaps, minlength=names) / np.maximum(count, 1)
    spread = np.sqrt(
        np.maximum(np.bincount(owner, gaps**2, minlength=names) / np.maximum(count, 1) - mean**2, 0)
    )
    return (count >= 3) & (mean > 5) & (spread < 0.1 * mean)


def reactions(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """The messages that are people reacting (see the module's text)."""
    return [messages[int(i)] for i in _Read(messages).kept]


# The texts are read joined: between two texts, a character that no text holds (not a space).
_SEPARATORS = "\x00\x01\x02\x03\x04\x05\x06\x07\x08"


def _separator(texts: list[str]) -> str:
    whole = "".join(texts)
    for sep in _SEPARATORS:
        if sep not in whole:
            return sep
    code = 0xE000  # the private use area
    while chr(code) in whole:
        code += 1
    return chr(code)


def _flags(items: list, test) -> np.ndarray:
    return np.fromiter(map(test, items), dtype=bool, count=len(items))


class _Read:
    """A chat read with no Python work per message but gathering its fields, and per distinct
    name and per distinct chunk of text between spaces: which messages are reactions, and per
    reaction its person, kinds and the tokens of floods it holds (the rules: see the module's
    text)."""

    def __init__(self, messages: Sequence[ChatMessage]) -> None:
        n = len(messages)
        t = np.array([message.t for message in messages], dtype=float)
        users = [message.user for message in messages]
        index = {name: i for i, name in enumerate(dict.fromkeys(users))}
        who = np.fromiter(map(index.__getitem__, users), dtype=np.int64, count=n)
        names = list(index)
        unwanted = _flags(  # no name, a known bot, or posting at a steady period
            names, lambda name: not (u := name.strip().lower()) or u in KNOWN_BOTS
        ) | _steady(who, t, len(names))
        said = np.array([message.kind == "message" for message in messages], dtype=bool)
        candidate = np.flatnonzero(said & ~unwanted[who])
        texts = [message.text for message in messages]
        if len(candidate) < n:
            texts = [texts[i] for i in candidate.tolist()]
        m = len(texts)

        # The texts cut at spaces into chunks, each read once however often it occurs; a
        # chunk's tokens are those of the text (TOKEN.findall(text.lower())) in it, since no
        # token and no lowercasing spans a space. The separator is a chunk of its own.
        sep = _separator(texts)
        chunks = f" {sep} ".join(texts).split()
        distinct = list(dict.fromkeys(chunks))
        chunk_id = {chunk: i for i, chunk in enumerate(distinct)}
        where = np.fromiter(map(chunk_id.__getitem__, chunks), dtype=np.int64, count=len(chunks))
        vocabulary: dict[str, int] = {}  # the tokens of floods, in the order the chat used them
        table = [_chunk(chunk, vocabulary) if chunk != sep else _APART for chunk in distinct]
        (sizes, words, others, bang, laughs, clips, upper, lower, shouts, flood_tokens) = (
            (list(column) for column in zip(*table, strict=True)) if table else ([],) * 10
        )
        separators = np.array([chunk == sep for chunk in distinct], dtype=bool)[where]
        of = np.cumsum(separators)[~separators]  # each chunk's text
        where = where[~separators]

        def total(values: list) -> np.ndarray:
            """Per text, the sum of its chunks' values."""
            return np.bincount(of, np.asarray(values, dtype=float)[where], minlength=m)

        count = total(sizes)
        greeting = (count <= 6) & (total(words) > 0) & (total(others) == 0)
        for i in np.flatnonzero((count > 0) & (count <= 6) & (total(words) == 0)).tolist():
            greeting[i] = texts[i].strip() in GREETINGS  # "o/": the whole text
        # A command: the text starts with "!", that is its first chunk's first token is "!".
        first = np.minimum(np.searchsorted(of, np.arange(m)), max(len(of) - 1, 0))
        command = (count > 0) & np.asarray(bang, dtype=bool)[where[first]] if len(of) else count > 0
        laugh, clip = total(laughs) > 0, total(clips) > 0
        for i in np.flatnonzero(~_flags(texts, str.isascii)).tolist():
            # Out of ASCII, where per token is not exactly the expression: the expression.
            laugh[i] = LAUGHTER.search(texts[i]) is not None
            clip[i] = CLIP_IT.search(texts[i]) is not None
        keep = (count > 0) & ~greeting & ~(command & ~clip)
        up, low = total(upper), total(lower)
        shout = (total(shouts) > 0) | ((up + low >= 3) & (up > 0.6 * (up + low)))

        self.kept = candidate[keep]  # indices into messages
        self.t = t[self.kept]
        self.person = who[self.kept]
        self.laugh, self.clip, self.shout = laugh[keep], clip[keep], shout[keep]
        # Each occurrence of a flood's token in a reaction: its token and its reaction.
        inside = keep[of]
        held = np.fromiter(map(len, flood_tokens), dtype=np.int64, count=len(flood_tokens))
        flat = np.fromiter(chain.from_iterable(flood_tokens), dtype=np.int64)
        chunk, size = where[inside], held[where[inside]]
        ends = np.cumsum(size)
        offsets = (np.cumsum(held) - held)[chunk]
        self.token = flat[
            np.repeat(offsets - ends + size, size) + np.arange(ends[-1] if len(ends) else 0)
        ]
        self.reaction = np.repeat((np.cumsum(keep) - 1)[of[inside]], size)
        self.vocabulary = list(vocabulary)
        self.names = len(names)


_NO_UPPER = str.maketrans("", "", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NO_LOWER = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyz")


_APART = (0, 0, 0, False, False, False, 0, 0, False, [])  # the separator's row: nothing


def _chunk(chunk: str, vocabulary: dict[str, int]) -> tuple:
    """What a chunk of text between spaces adds to its text: its tokens, words (and not
    greetings), whether its first token is "!", laughter, clip-it, ASCII capitals and small
    letters, "!!", and the tokens of floods in it (numbered in ``vocabulary``)."""
    tokens = TOKEN.findall(chunk.lower())
    words = [token for token in tokens if token.isalnum() and len(token) > 1]
    parts = [part for token in tokens for part in token.split("'")]  # whole runs of \w, ASCII
    return (
        len(tokens),
        len(words),
        sum(word not in GREETINGS for word in words),
        tokens[0] == "!",
        any(map(_LAUGH_WORD.fullmatch, parts)),
        any(map(_CLIP_WORDS.__contains__, parts)),
        len(chunk) - len(chunk.translate(_NO_UPPER)),
        len(chunk) - len(chunk.translate(_NO_LOWER)),
        "!!" in chunk,
        [
            vocabulary.setdefault(token, len(vocabulary))
            for token in dict.fromkeys(tokens)
            if token not in PUNCTUATION and token not in STOPWORDS
        ],
    )


class Reactions:
    """The reactions of a chat, read once: per message its time and person, and which kinds of
    reaction it is; ``series`` then bins them for any lag (the lag search reads them twice)."""

    def __init__(self, messages: Sequence[ChatMessage]) -> None:
        read = _Read(messages)
        self.t, self.person = read.t, read.person
        self.people = int(np.count_nonzero(np.bincount(self.person)))
        self.laugh, self.clip, self.shout = read.laugh, read.clip, read.shout
        # Floods: the tokens most people used (of as many, the one the chat used first), each
        # with the reactions that hold it.
        token, reaction = read.token, read.reaction
        persons = self._persons = np.int64(max(read.names, 1))  # person ids: below this
        pairs = np.sort(token * persons + self.person[reaction])  # who used which token
        pairs = pairs[np.append(True, pairs[1:] != pairs[:-1])] if len(pairs) else pairs
        users = np.bincount(pairs // persons, minlength=len(read.vocabulary))
        used = np.flatnonzero(users)
        followed = used[np.argsort(-users[used], kind="stable")][:FLOOD_TOKENS]
        self.flood_tokens = [read.vocabulary[i] for i in followed.tolist()]
        small = np.int16 if len(followed) < 2**15 else np.int64  # int16: a quicker sort
        rank = np.full(len(read.vocabulary), -1, dtype=small)
        rank[followed] = np.arange(len(followed))
        holds = rank[token] >= 0
        ranks, reaction = rank[token[holds]], reaction[holds]
        order = np.argsort(ranks, kind="stable")  # by token, then reaction (already in order)
        ranks, reaction = ranks[order], reaction[order]
        once = np.ones(len(ranks), dtype=bool)
        once[1:] = (ranks[1:] != ranks[:-1]) | (reaction[1:] != reaction[:-1])
        self._flood_rank, self._flood_reaction = ranks[once].astype(np.int64), reaction[once]
        bounds = np.searchsorted(self._flood_rank, np.arange(len(followed) + 1))
        self.flood_messages = [
            self._flood_reaction[bounds[k] : bounds[k + 1]] for k in range(len(followed))
        ]

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

    def _binned(self, duration_s: float, hop_s: float, lag_s: float):
        bins = max(1, int(np.ceil(duration_s / hop_s)))
        width = max(1, round(REACTION_S / hop_s))
        at = np.floor((self.t - lag_s) / hop_s).astype(int)  # the moment each reacts to
        inside = (at >= 0) & (at < bins + width)
        return bins, width, at, inside

    def users(self, duration_s: float, hop_s: float, lag_s: float = 0.0) -> np.ndarray:
        """``chat_users`` alone (the lag search reads only it)."""
        bins, width, at, inside = self._binned(duration_s, hop_s, lag_s)
        return _distinct(self.person[inside], at[inside], bins, width)

    def series(self, duration_s: float, hop_s: float, lag_s: float = 0.0) -> FeatureSeries:
        """The chat's reaction series (module text); value at ``t`` reads ``[t + lag_s, …)``."""
        bins, width, at, inside = self._binned(duration_s, hop_s, lag_s)

        def distinct(where: np.ndarray) -> np.ndarray:
            """Per bin b: how many different people of ``where`` occur in [b, b + width)."""
            return _distinct(self.person[where & inside], at[where & inside], bins, width)

        people = _distinct(self.person[inside], at[inside], bins, width)
        counts = np.bincount(at[inside], minlength=bins + width).astype(float)
        csum = np.concatenate([[0.0], np.cumsum(counts)])
        rate = csum[np.arange(bins) + width] - csum[np.arange(bins)]
        # Floods: per token, how many people used it; the most of any token.
        rows, reaction = self._flood_rank, self._flood_reaction
        inner = inside[reaction]
        flood = _distinct(
            rows[inner] * np.int64(self._persons) + self.person[reaction[inner]],
            at[reaction[inner]],
            bins,
            width,
            rows=(rows[inner], len(self.flood_tokens)),
        )
        values = {
            "chat_users": people,
            "chat_rate": rate,
            "chat_laugh": distinct(self.laugh),
            "chat_flood": flood,
            "chat_clip": distinct(self.clip),
            "chat_caps": np.divide(
                distinct(self.shout), people, out=np.zeros(bins), where=people > 0
            ),
        }
        return FeatureSeries("chat", hop_s, values)


ROW_CELLS = 1 << 22  # per block of rows of _distinct: bins x rows, at most


def _distinct(
    keys: np.ndarray,
    at: np.ndarray,
    bins: int,
    width: int,
    rows: tuple[np.ndarray, int] | None = None,
) -> np.ndarray:
    """Per bin b, the number of different keys with an occurrence in [b, b + width).

    An occurrence at m covers the bins (m - width, m]; a key's covers are merged by starting
    each after the previous occurrence of the same key, so a key counts once per bin.
    With ``rows`` (each occurrence's row, and how many rows): per bin, the most of any row's
    count (each key in one row only).
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
    first, last = first[keep], last[keep] + 1
    if rows is None:
        diff = np.bincount(first, minlength=bins + 1) - np.bincount(last, minlength=bins + 1)
        return np.cumsum(diff)[:bins].astype(float)
    row, count = rows[0][order][keep], rows[1]
    most = np.zeros(bins)
    block = max(1, ROW_CELLS // (bins + 1))
    for low in range(0, count, block):
        high = min(low + block, count)
        mine = (row >= low) & (row < high)
        cells = (high - low) * (bins + 1)
        offset = (row[mine] - low) * (bins + 1)
        diff = np.bincount(offset + first[mine], minlength=cells) - np.bincount(
            offset + last[mine], minlength=cells
        )
        counts = np.cumsum(diff.reshape(high - low, bins + 1), axis=1)[:, :bins]
        most = np.maximum(most, counts.max(axis=0))
    return most


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
        users = chat.users(features.duration_s, hop_s)
        sound = _sound_rise(np.asarray(features.audio.values["rms_db"], float), hop_s)
        offset = round(features.audio.start_s / hop_s)
        lag_s = audience_lag(users[offset:], sound, hop_s)
    return Chat(chat.series(features.duration_s, hop_s, lag_s=lag_s), lag_s, chat)
