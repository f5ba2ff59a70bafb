"""Feature dicts → a matrix aligned by name; ratings → targets in [0, 1]."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np


def feature_names_from(dicts: Sequence[Mapping[str, float]]) -> list[str]:
    """The sorted union of feature names: every clip's columns line up by name."""
    return sorted({name for features in dicts for name in features})


def to_matrix(dicts: Sequence[Mapping[str, float]], feature_names: Sequence[str]) -> np.ndarray:
    """Rows of features in ``feature_names`` order; missing or non-finite values become NaN.

    The model imputes NaN with the training median, so a clip missing a feature gets a neutral
    value instead of a crash, and unknown extra features are ignored.
    """
    matrix = np.full((len(dicts), len(feature_names)), np.nan)
    index = {name: column for column, name in enumerate(feature_names)}
    for row, features in enumerate(dicts):
        for name, value in features.items():
            column = index.get(name)
            if column is None:
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if math.isfinite(number):
                matrix[row, column] = number
    return matrix


def targets(ratings: Sequence[int]) -> np.ndarray:
    """Stars 1-5 → (r - 1) / 4 in [0, 1]."""
    return (np.asarray(ratings, dtype=float) - 1.0) / 4.0
