"""Feature dicts → a matrix aligned by name; ratings → targets in [0, 1]."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from kickclip.learn.said import is_said

# What carries over to the next stream: how a moment rises above its own surroundings (z,
# rise in natural units, each side's calibrated strength) and levels ranked within their own
# stream (_pct). Absolute levels and baselines describe the room, not the moment: a taste
# learned from them fails on the next stream, whose room is another one.
TRANSFERABLE_SUFFIXES = ("_z_max", "_z_mean", "_rise_max", "_strength", "_pct")
NOT_EVIDENCE = frozenset({"peak_strength"})  # the leading side's raw strength: uncalibrated
ALSO_EVIDENCE = frozenset({"detector_score"})  # calibrated on every side and stream
# and what was said (``said_``): rates and shares, whatever the room.


def transferable(name: str) -> bool:
    return (
        name in ALSO_EVIDENCE
        or is_said(name)
        or (name.endswith(TRANSFERABLE_SUFFIXES) and name not in NOT_EVIDENCE)
    )


def feature_names_from(dicts: Sequence[Mapping[str, float]]) -> list[str]:
    """The sorted union of the transferable feature names: every clip's columns line up by
    name. Rows that have none (clips stored before features were described this way) fall
    back to every name they have."""
    names = {name for features in dicts for name in features}
    chosen = sorted(name for name in names if transferable(name))
    return chosen or sorted(names)


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
