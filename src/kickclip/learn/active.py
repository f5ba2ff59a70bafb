"""The rating queue: once a model exists, the clips whose rating would teach it most come first.

Two things make a rating informative. *Uncertainty*: the ratings so far do not pin the clip
down; measured as the disagreement (standard deviation) of a committee of ridge fits, each on a
bootstrap resample of the ratings, in rank-scaled feature space. *Diversity*: the clip is unlike
what was already rated, or already queued; measured as the distance to the nearest of those.
The queue is built greedily, each next clip maximizing uncertainty × distance (an
uncertainty-weighted core set), so five near-identical uncertain clips do not fill the top.
Before any model exists the queue is the newest clips first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kickclip.learn.dataset import feature_names_from, targets, to_matrix

COMMITTEE = 12
COMMITTEE_ALPHA = 30.0  # strong: with few ratings, weak ridges disagree about noise
CANDIDATES = 2000  # newest unrated clips considered; the rest follow, newest first


def _imputed(train: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Missing values as the rated clips' median (0 where no rated clip has the feature)."""
    known = ~np.isnan(train)
    median = np.zeros(train.shape[1])
    some = known.any(axis=0)
    median[some] = np.nanmedian(train[:, some], axis=0)
    return np.where(known, train, median), np.where(np.isnan(rows), median, rows)


def _ranked(train: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each feature as its rank among the rated clips, in [0, 1], interpolated between at most
    100 quantiles: scikit-learn's ``QuantileTransformer`` (uniform output), without its
    subsampling above 10,000 rows."""
    references = np.linspace(0, 1, max(2, min(100, len(train))))
    quantiles = np.maximum.accumulate(np.percentile(train, 100 * references, axis=0), axis=0)

    def scale(x: np.ndarray) -> np.ndarray:
        out = np.empty_like(x)
        for column in range(x.shape[1]):
            q, values = quantiles[:, column], x[:, column]
            # Both directions, averaged: a value repeated across quantiles gets the middle
            # of its run, not one end of it.
            ranked = 0.5 * (
                np.interp(values, q, references) - np.interp(-values, -q[::-1], -references[::-1])
            )
            ranked[values == q[-1]] = 1.0
            ranked[values == q[0]] = 0.0
            out[:, column] = ranked
        return out

    return scale(train), scale(rows)


def _space(
    train: Sequence[Mapping[str, float]],
    train_types: Sequence[str],
    rows: Sequence[Mapping[str, float]],
    row_types: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Rated and candidate clips in one rank-scaled space (plus the clip type), both fitted
    on the rated clips only. Plain numpy: the queue is shown by ``kickclip clips --unrated``,
    which should not wait seconds for scikit-learn to import."""
    names = feature_names_from(train)

    def matrix(dicts, types):
        is_video = (np.asarray(types) == "video").astype(float).reshape(len(types), 1)
        return np.hstack([to_matrix(dicts, names), is_video])

    return _ranked(*_imputed(matrix(train, train_types), matrix(rows, row_types)))


def _ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """Ridge regression with an unpenalized intercept: coefficients and intercept."""
    x_mean, y_mean = x.mean(axis=0), y.mean()
    centered = x - x_mean
    gram = centered.T @ centered + alpha * np.eye(x.shape[1])
    coef = np.linalg.solve(gram, centered.T @ (y - y_mean))
    return coef, float(y_mean - x_mean @ coef)


def uncertainty(rated: np.ndarray, stars: Sequence[int], candidates: np.ndarray) -> np.ndarray:
    """Committee disagreement, in the [0, 1] rating scale, for every candidate."""
    rng = np.random.default_rng(0)
    y = targets(stars)
    votes = np.empty((COMMITTEE, len(candidates)))
    for member in range(COMMITTEE):
        sample = rng.integers(0, len(y), len(y))
        coef, intercept = _ridge(rated[sample], y[sample], COMMITTEE_ALPHA)
        votes[member] = candidates @ coef + intercept
    return votes.std(axis=0)


def order(
    training: Mapping[str, Any],
    features: Sequence[Mapping[str, float]],
    clip_types: Sequence[str],
    limit: int,
) -> list[int]:
    """Indexes into ``features``: the ``limit`` most informative first, greedily.

    ``training`` is the model's training data: ``features``, ``clip_types``, ``ratings``.
    """
    if not features:
        return []
    rated, candidates = _space(training["features"], training["clip_types"], features, clip_types)
    spread = uncertainty(rated, training["ratings"], candidates)
    spread = spread / spread.max() if spread.max() > 0 else np.ones(len(candidates))
    scale = np.sqrt(rated.shape[1])
    nearest = np.full(len(candidates), np.inf)
    for start in range(0, len(rated), 256):  # blocks: memory stays small for many ratings
        block = rated[start : start + 256]
        distances = np.linalg.norm(candidates[:, None, :] - block[None, :, :], axis=2)
        nearest = np.minimum(nearest, distances.min(axis=1) / scale)
    chosen: list[int] = []
    available = np.ones(len(candidates), dtype=bool)
    for _ in range(min(limit, len(candidates))):
        gain = np.where(available, spread * (nearest + 1e-9), -np.inf)
        pick = int(np.argmax(gain))
        chosen.append(pick)
        available[pick] = False
        nearest = np.minimum(nearest, np.linalg.norm(candidates - candidates[pick], axis=1) / scale)
    return chosen


def spread(scores: Sequence[float]) -> list[int]:
    """Before any model: the detector's surest and least sure picks in turn (best, worst,
    second best, …), so the first ratings span the range instead of being all alike. Clips
    the detector cannot tell apart stay newest first."""
    if len(set(scores)) <= 1:
        return list(range(len(scores)))
    ranked = sorted(range(len(scores)), key=lambda i: scores[i], reverse=True)
    order = []
    while ranked:
        order.append(ranked.pop(0))
        if ranked:
            order.append(ranked.pop())
    return order
