"""Shared fixtures: a throw-away workspace and synthetic media (see ``tests/media.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from media import make_media


@pytest.fixture
def sample_video(tmp_path: Path) -> Path:
    """20 s, 160x96 at 15 fps with audio: a loud burst at 5-7 s, action at 12-14 s."""
    return make_media(
        tmp_path / "sample.mp4", duration_s=20, bursts=[(5, 7)], action=[(12, 14)], cuts=[9]
    )
