"""Blend the detector's heuristic score with the learned taste, and choose what is cut.

The detector proposes a pool larger than what is cut (``pool_size``); once a model is trained
the blended score, not the detector alone, picks the ``--top`` moments.

reported = (1 - w) · heuristic + w · predicted, with w = gate · n / (n + 20), the trust capped
at 0.8, where n is the number of ratings the model was trained on and the gate in [0, 1] is
what the model chose when it was trained (``HighlightModel._blend_gate``: whether its
cross-validated ranking of the rated clips beats the detector's; 1 for a model whose clips do
not carry the detector's score). The cap keeps the detector's view of "something happened here"
in every score, since the model only ever saw clips the detector had already picked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from kickclip.records import Highlight

HALF_TRUST_RATINGS = 20
MAX_MODEL_WEIGHT = 0.8
POOL_FACTOR = 3  # candidate moments: this many times --top …
MIN_POOL = 30  # … and never fewer than this


def pool_size(top: int) -> int:
    return max(POOL_FACTOR * top, MIN_POOL)


Predict = Callable[[Mapping[str, float], str], float | None]


def model_weight(n_ratings: int) -> float:
    if n_ratings <= 0:
        return 0.0
    return min(MAX_MODEL_WEIGHT, n_ratings / (n_ratings + HALF_TRUST_RATINGS))


def blend(
    highlights: Sequence[Highlight],
    predict: Predict,
    n_ratings: int,
    gate: float | None = None,
) -> list[Highlight]:
    """Rescore and re-sort best first; a None prediction leaves a highlight as it was.

    ``gate``: the share of its trust the model chose on its ratings (``blend_gate``); None:
    all of it (models whose clips did not carry the detector's score).
    """
    weight = model_weight(n_ratings) * (1.0 if gate is None else min(max(gate, 0.0), 1.0))
    rescored = []
    for highlight in highlights:
        predicted = predict(highlight.features, highlight.clip_type) if weight else None
        if predicted is None:
            rescored.append(highlight)
            continue
        heuristic = (
            highlight.score if highlight.heuristic_score is None else highlight.heuristic_score
        )
        taste = min(max(float(predicted), 0.0), 1.0)
        score = (1 - weight) * heuristic + weight * taste
        reason = f"{highlight.reason}; your taste: {1 + 4 * taste:.1f}★ predicted"
        rescored.append(highlight.with_score(score, reason.lstrip("; ")))
    return sorted(rescored, key=lambda h: h.score, reverse=True)


def choose(highlights: Sequence[Highlight], top: int) -> list[Highlight]:
    """The ``top`` best moments, best first (each candidate is one moment, whatever side
    leads it)."""
    return sorted(highlights, key=lambda h: h.score, reverse=True)[:top]
