"""Shared pieces of the tabs: the store and trainer of a Settings, and safe clip paths."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from kickclip.errors import KickclipError
from kickclip.learn.trainer import RatingBasedTrainer
from kickclip.settings import Settings
from kickclip.store.clip_manager import ClipManager, ClipRecord


def store(settings: Settings) -> tuple[ClipManager, RatingBasedTrainer]:
    try:
        manager = ClipManager(settings.db)
    except KickclipError as error:
        raise gr.Error(str(error)) from None
    return manager, RatingBasedTrainer(manager, settings.models_dir)


def inside_clips(settings: Settings, path: str | Path) -> Path:
    """A clip's file, only when it lies inside the clips folder (no traversal, no links out)."""
    root = settings.out.resolve()
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(root) or not resolved.is_file():
        raise gr.Error("that file is not a clip of this library")
    return resolved


def clip_label(clip: ClipRecord) -> str:
    source = Path(clip.source_url or clip.filename).name[:30]
    return (
        f"#{clip.id} · {source} · {clip.start_time:.0f}-{clip.end_time:.0f} s · "
        f"{clip.clip_type} · score {clip.score:.2f}"
    )


def clip_id_of(choice: str | int | None) -> int:
    if choice in (None, ""):
        raise gr.Error("choose a clip first")
    if isinstance(choice, int):
        return choice
    text = str(choice).lstrip("#").split(" ", 1)[0]
    if not text.isdigit():
        raise gr.Error("choose a clip first")
    return int(text)
