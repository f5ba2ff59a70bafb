"""kickclip: long stream VODs in, rated highlight clips out, learning your taste from ratings.

The public API, imported lazily so ``import kickclip`` stays light::

    from kickclip import ClipManager, RatingBasedTrainer, analyze, generate
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "ClipManager": "kickclip.store.clip_manager",
    "ClipRecord": "kickclip.store.clip_manager",
    "RatingBasedTrainer": "kickclip.learn.trainer",
    "analyze": "kickclip.pipeline",
    "generate": "kickclip.pipeline",
    "Settings": "kickclip.settings",
    "KickclipError": "kickclip.errors",
}

__all__ = [
    "ClipManager",
    "ClipRecord",
    "KickclipError",
    "RatingBasedTrainer",
    "Settings",
    "analyze",
    "generate",
]

if TYPE_CHECKING:
    from kickclip.errors import KickclipError
    from kickclip.learn.trainer import RatingBasedTrainer
    from kickclip.pipeline import analyze, generate
    from kickclip.settings import Settings
    from kickclip.store.clip_manager import ClipManager, ClipRecord


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'kickclip' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
