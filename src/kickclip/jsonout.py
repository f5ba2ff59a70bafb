"""Strict JSON out: a non-finite number (NaN, ±inf, as other tools may have stored) is null.

Python's ``json`` writes bare ``NaN`` and ``Infinity`` by default, which no strict parser (and
not our own import) accepts.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(data: Any) -> Any:
    """``data`` with every non-finite float replaced by None, recursively."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [finite(value) for value in data]
    return data


def dumps(data: Any, **options: Any) -> str:
    return json.dumps(finite(data), allow_nan=False, default=str, **options)
