"""Cutting edge cases: audio-only clips, numbered names, no leftovers after a failure."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import av
import pytest

from kickclip.cut import cut_clip
from kickclip.errors import KickclipError
from kickclip.ingest import open_source
from kickclip.records import Highlight
from media import decode_duration, make_media

WINDOW = Highlight(
    start_s=5.0, end_s=11.0, peak_s=7.0, score=0.5, clip_type="audio", features={"x": 1.0}
)


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return make_media(tmp_path_factory.mktemp("cut") / "talk show.mp4", duration_s=20)


def test_audio_only_gives_m4a_without_thumbnail(tmp_path: Path) -> None:
    path = make_media(tmp_path / "radio.mp4", duration_s=20, video=False)
    clip = cut_clip(open_source(str(path)), WINDOW, tmp_path / "out")
    assert clip.filepath.suffix == ".m4a" and clip.thumbnail is None
    with av.open(str(clip.filepath)) as container:
        assert not container.streams.video and container.streams.audio
    seconds, frames = decode_duration(clip.filepath)
    assert frames > 0 and seconds >= 6.0 - 0.1


def test_same_window_twice_gets_numbered_names(video: Path, tmp_path: Path) -> None:
    media = open_source(str(video))
    first = cut_clip(media, WINDOW, tmp_path)
    second = cut_clip(media, WINDOW, tmp_path)
    assert first.filepath != second.filepath
    assert second.filepath.stem == f"{first.filepath.stem}-2"
    assert first.filepath.name.startswith("talk-show_00h00m05s-00h00m11s_audio")
    assert second.thumbnail == second.filepath.with_suffix(".jpg") and second.thumbnail.exists()


@pytest.mark.parametrize("kind", ["missing", "garbage"])
def test_unreadable_cut_url_leaves_nothing(video: Path, tmp_path: Path, kind: str) -> None:
    bad = tmp_path / "bad.mp4"
    if kind == "garbage":
        bad.write_bytes(b"not a video at all" * 100)
    broken = replace(open_source(str(video)), cut_url=str(bad))
    out = tmp_path / "out"
    with pytest.raises(KickclipError) as raised:
        cut_clip(broken, WINDOW, out)
    assert "\n" not in str(raised.value)
    assert list(out.iterdir()) == []


def test_truncated_cut_source_leaves_nothing(video: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "half.mp4"
    truncated.write_bytes(video.read_bytes()[:4000])
    broken = replace(open_source(str(video)), cut_url=str(truncated))
    out = tmp_path / "out"
    with pytest.raises(KickclipError):
        cut_clip(broken, WINDOW, out)
    assert list(out.iterdir()) == []
