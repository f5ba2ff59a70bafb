"""Cutting edge cases: audio-only clips, numbered names, no leftovers after a failure, and
stream copies that start at the keyframe at or before the window in MP4, MKV and MPEG-TS."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest

from kickclip.cut import cut_clip
from kickclip.errors import KickclipError
from kickclip.ingest import open_source
from kickclip.records import Highlight
from media import decode_duration, make_media, remux

WINDOW = Highlight(
    start_s=5.0, end_s=11.0, peak_s=7.0, score=0.5, clip_type="audio", features={"x": 1.0}
)


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return make_media(tmp_path_factory.mktemp("cut") / "talk show.mp4", duration_s=20)


def test_audio_only_gives_m4a_with_a_waveform_poster(tmp_path: Path) -> None:
    path = make_media(tmp_path / "radio.mp4", duration_s=20, video=False, bursts=[(8, 9)])
    clip = cut_clip(open_source(str(path)), WINDOW, tmp_path / "out")
    assert clip.filepath.suffix == ".m4a" and clip.thumbnail == clip.filepath.with_suffix(".jpg")
    with av.open(str(clip.filepath)) as container:
        assert not container.streams.video and container.streams.audio
    with av.open(str(clip.thumbnail)) as poster:
        picture = next(poster.decode(video=0)).to_ndarray(format="gray")
    assert picture.shape == (96, 320)
    # The burst shows as a taller column than the quiet talk around it.
    lit = (picture > 90).sum(axis=0)
    assert lit.max() > 3 * max(1, int(np.median(lit)))
    seconds, frames = decode_duration(clip.filepath)
    assert frames > 0 and seconds >= 6.0 - 0.1


def test_same_window_twice_gets_numbered_names(video: Path, tmp_path: Path) -> None:
    media = open_source(str(video))
    first = cut_clip(media, WINDOW, tmp_path)
    second = cut_clip(media, WINDOW, tmp_path)
    assert first.filepath != second.filepath
    assert second.filepath.stem == f"{first.filepath.stem}-2"
    # Keyframes every 2 s: the copy starts at 4 s, and the name says so.
    assert first.start_s == pytest.approx(4.0)
    assert first.filepath.name.startswith("talk-show_00h00m04s-00h00m11s_audio")
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


KEYFRAME_S = 4.0  # not a divisor of the starts below
COPY_STARTS = [3.3, 61.0, 125.25, 199.9, 250.5]
TS_WRAP_S = 2**33 / 90_000 - 60  # the 33-bit MPEG-TS clock wraps one minute in


@pytest.fixture(scope="module")
def five_minutes(tmp_path_factory) -> dict[str, Path]:
    """One 5-minute stream as MP4, MKV, MPEG-TS (starting at 1.4 s) and wrapping MPEG-TS."""
    folder = tmp_path_factory.mktemp("containers")
    mp4 = make_media(
        folder / "long.mp4", duration_s=300, size=(160, 96), fps=15, keyframe_interval_s=KEYFRAME_S
    )
    return {
        "mp4": mp4,
        "mkv": remux(mp4, folder / "long.mkv"),
        "ts": remux(mp4, folder / "long.ts", offset_s=1.4),
        "ts-wrap": remux(mp4, folder / "wrap.ts", offset_s=TS_WRAP_S),
    }


def _clock(seconds: float) -> str:
    whole = int(round(seconds, 3))
    return f"{whole // 3600:02d}h{whole // 60 % 60:02d}m{whole % 60:02d}s"


@pytest.mark.parametrize("container", ["mp4", "mkv", "ts", "ts-wrap"])
def test_copy_starts_at_keyframe_at_or_before_start(
    five_minutes: dict[str, Path], tmp_path: Path, container: str
) -> None:
    media = open_source(str(five_minutes[container]))
    for asked in COPY_STARTS:
        window = replace(WINDOW, start_s=asked, end_s=asked + 30, peak_s=asked + 5)
        clip = cut_clip(media, window, tmp_path)
        assert asked - KEYFRAME_S - 0.1 < clip.start_s <= asked, (asked, clip.start_s)
        assert clip.end_s == pytest.approx(asked + 30)
        seconds, _ = decode_duration(clip.filepath)
        assert seconds >= 29.5, (asked, clip.start_s, seconds)
        assert seconds >= clip.end_s - clip.start_s - 0.1
        stem = f"long_{_clock(clip.start_s)}-{_clock(asked + 30)}_audio"
        if container == "ts-wrap":
            stem = stem.replace("long", "wrap", 1)
        assert clip.filepath.name == f"{stem}.mp4"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_accurate_cut_of_ts_is_exact(five_minutes: dict[str, Path], tmp_path: Path) -> None:
    media = open_source(str(five_minutes["ts"]))
    window = replace(WINDOW, start_s=125.25, end_s=135.25, peak_s=130.0)
    clip = cut_clip(media, window, tmp_path, accurate=True)
    assert (clip.start_s, clip.end_s) == (125.25, 135.25)
    assert clip.filepath.name.startswith("long_00h02m05s-00h02m15s_audio")
    seconds, _ = decode_duration(clip.filepath)
    assert seconds == pytest.approx(10.0, abs=0.1)


def test_a_remote_vod_fetches_each_segment_once_and_a_clip_only_what_it_covers(
    tmp_path: Path,
) -> None:
    """In one run (analysis, every clip, thumbnails) no segment is fetched twice; a clip alone
    fetches the segments it covers, plus the first, which FFmpeg's HLS reader probes."""
    import collections

    from kickclip import pipeline
    from kickclip.ingest.fetch import SEGMENTS
    from kickclip.settings import Settings
    from media import make_media
    from servers import Server, make_hls

    source = make_media(tmp_path / "src.mp4", duration_s=60, bursts=[(20, 22), (44, 46)])
    playlist = make_hls(source, tmp_path / "hls", segment_s=2.0)
    settings = Settings(
        out=tmp_path / "out",
        db=tmp_path / "clips.db",
        models_dir=tmp_path / "models",
        clip_duration=10,
        min_gap=15,
        top=2,
        allow_private_addresses=True,
    )

    def segment_reads(server: Server) -> collections.Counter:
        return collections.Counter(p for p, _ in server.requests if p.endswith(".ts"))

    with Server(playlist.parent) as server:
        SEGMENTS.clear()
        generation = pipeline.generate(server.url("index.m3u8"), settings)
        assert len(generation.clips) == 2
        assert max(segment_reads(server).values()) == 1, segment_reads(server)
        for highlight in generation.analysis.highlights:
            SEGMENTS.clear()
            server.requests.clear()
            cut = cut_clip(generation.analysis.media, highlight, tmp_path / "again")
            reads = segment_reads(server)
            first, last = int(cut.start_s // 2), int(cut.end_s // 2)
            covered = {f"/seg{k:03d}.ts" for k in range(first, last + 1)}
            assert max(reads.values()) == 1, reads
            assert set(reads) - covered <= {"/seg000.ts"}, (sorted(reads), sorted(covered))
            assert cut.thumbnail is not None and cut.thumbnail.stat().st_size > 0
