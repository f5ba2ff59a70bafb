"""What was said in a clip, as the learner reads it.

``said_features`` turns a clip's words into numbers that carry over to another stream: how fast
the talk is, how much of it is exclaimed, how often someone laughs. A ``Vocabulary`` learns the
words a user's liked clips (4-5★) share more than the others do, and scores a clip by the
share of its words that are among them (``said_liked``). The model learns with these only
when enough rated clips were heard and they rank the ratings better than the clips' sound and
picture alone (``HighlightModel``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

PREFIX = "said_"
LIKED = PREFIX + "liked"
LIKED_STARS = 4
MIN_HEARD = 10  # rated clips whose words were heard before the words are learned from
MIN_LIKED_CLIPS = 2  # a word counts as liked when this many liked clips say it …
MIN_LIKED_ODDS = math.log(2.0)  # … and it is at least twice as common in them
_LAUGH = re.compile(r"^(?:(?:ha){2,}h?|(?:he){2,}h?|lol+|lmf?ao+|rofl|laugh\w*)$")
_TOKEN = re.compile(r"[a-z']+")
_STOP = frozenset(
    {
        "the",
        "and",
        "you",
        "that",
        "was",
        "for",
        "are",
        "with",
        "his",
        "her",
        "they",
        "this",
        "have",
        "from",
        "not",
        "but",
        "what",
        "all",
        "were",
        "when",
        "can",
        "said",
        "there",
        "use",
        "each",
        "which",
        "she",
        "how",
        "their",
        "will",
        "other",
        "about",
        "out",
        "many",
        "then",
        "them",
        "these",
        "some",
        "would",
        "make",
        "like",
        "him",
        "into",
        "has",
        "look",
        "two",
        "more",
        "see",
        "way",
        "could",
        "people",
        "than",
        "first",
        "been",
        "who",
        "its",
        "now",
        "find",
        "down",
        "day",
        "did",
        "get",
        "come",
        "made",
        "may",
        "part",
        "i'm",
        "it's",
        "don't",
        "that's",
        "just",
        "yeah",
        "okay",
        "gonna",
        "got",
    }
)


def is_said(name: str) -> bool:
    return name.startswith(PREFIX)


def said_features(text: str, duration_s: float) -> dict[str, float]:
    """Speech rate (words per second), the share of sentences exclaimed, laughs per minute,
    from the words heard in a clip of ``duration_s``."""
    span = max(duration_s, 1.0)
    words = text.lower().split()
    ends = [w for w in words if w.endswith((".", "!", "?"))]
    laughs = sum(bool(_LAUGH.match(re.sub(r"[^a-z]", "", w))) for w in words)
    laughs += sum(w.count("[laugh") + w.count("(laugh") for w in words)
    return {
        PREFIX + "rate": round(len(words) / span, 4),
        PREFIX + "exclaimed": round(sum(t.endswith("!") for t in ends) / max(len(ends), 1), 4),
        PREFIX + "laughs": round(60.0 * laughs / span, 4),
    }


def tokens(text: str) -> frozenset[str]:
    """The distinct content words of a text: lower case, three letters or more."""
    return frozenset(
        t for t in _TOKEN.findall(text.lower()) if len(t.strip("'")) >= 3 and t not in _STOP
    )


class Vocabulary:
    """The words liked clips share: counted once per clip, liked (4-5★) against the rest."""

    def __init__(self, texts: Sequence[str | None], stars: Sequence[float]) -> None:
        # Plain dicts of words → clips saying them: the model file keeps plain data only.
        liked, other = Counter(), Counter()
        heard = [(text, star >= LIKED_STARS) for text, star in zip(texts, stars, strict=True)]
        for text, is_liked in heard:
            if text is not None:
                (liked if is_liked else other).update(tokens(text))
        self._liked: dict[str, int] = dict(liked)
        self._other: dict[str, int] = dict(other)
        self.n_liked = sum(1 for text, is_liked in heard if text is not None and is_liked)
        self.n_other = sum(1 for text, is_liked in heard if text is not None and not is_liked)

    def liked_words(self) -> list[str]:
        return sorted(w for w in self._liked if self._is_liked(w))

    def _is_liked(self, word: str, leave_out: tuple[bool, bool] = (False, False)) -> bool:
        """``leave_out``: (this word is one of the left-out clip's, that clip was liked)."""
        own, liked = leave_out
        n_liked, n_other = self.n_liked - (own and liked), self.n_other - (own and not liked)
        in_liked = self._liked.get(word, 0) - (own and liked)
        in_other = self._other.get(word, 0) - (own and not liked)
        if in_liked < MIN_LIKED_CLIPS:
            return False
        odds = math.log((in_liked + 0.5) / (n_liked + 1)) - math.log(
            (in_other + 0.5) / (n_other + 1)
        )
        return odds >= MIN_LIKED_ODDS

    def score(self, text: str | None, *, own_stars: float | None = None) -> float:
        """The share of the text's words that liked clips share (NaN: nothing heard).
        ``own_stars``: the text is one the vocabulary was counted from, with this rating; it
        is left out, so that a clip's own words do not make it look liked."""
        if text is None:
            return math.nan
        words = tokens(text)
        if not words:
            return 0.0
        leave_out = own_stars is not None
        liked = leave_out and own_stars >= LIKED_STARS  # type: ignore[operator]
        hits = sum(self._is_liked(w, (leave_out, liked)) for w in words)
        return round(hits / len(words), 4)

    def scores(self, texts: Iterable[str | None]) -> list[float]:
        return [self.score(text) for text in texts]
