"""Seed-compatible shim: ``from clip_manager import ClipManager`` as in the guide."""

from kickclip.store.clip_manager import ClipManager, ClipRecord

__all__ = ["ClipManager", "ClipRecord"]
