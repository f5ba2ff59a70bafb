"""trim: a clip made shorter or longer (past its first cut) keeps its id, rating and tags; its
file is replaced and starts and ends where the record says; bad values change nothing."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import Workspace
from kickclip.cli import app
from kickclip.store.clip_manager import ClipManager
from media import decode_duration, make_media
from servers import Server, make_hls

FRAME_S = 1 / 15  # the synthesized streams' frame time


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def stream(workspace: Workspace) -> Path:
    """40 s with one shout at 20 s: one clip of 6 s around it."""
    return make_media(workspace.root / "vod.mp4", duration_s=40, bursts=[(20, 21.5)])


def generate_one(source: str, *extra: str) -> dict:
    result = run(
        "generate", source, "--clip-duration", "6", "--top", "1", "--no-words", "--json", *extra
    )
    assert result.exit_code == 0, result.output
    (clip,) = json.loads(result.stdout)["highlights"]
    return clip


def file_span(path: str) -> float:
    return decode_duration(path)[0]


def test_trim_shorter_then_longer_keeps_the_clip(workspace: Workspace, stream: Path) -> None:
    clip = generate_one(str(stream))
    manager = ClipManager(workspace.db)
    manager.rate_clip(clip["id"], 4)
    manager.tag_clip(clip["id"], ["funny"])
    first = manager.get_clip(clip["id"])

    result = run("trim", str(clip["id"]), "--start", "+1", "--end", "-1.5", "--json")
    assert result.exit_code == 0, result.output
    shorter = manager.get_clip(clip["id"])
    assert json.loads(result.stdout)["id"] == clip["id"]
    assert shorter.start_time == pytest.approx(first.start_time + 1, abs=1e-6)
    assert shorter.end_time == pytest.approx(first.end_time - 1.5, abs=1e-6)
    assert abs(file_span(shorter.filepath) - shorter.duration) <= FRAME_S + 1e-3
    assert not Path(first.filepath).exists()  # replaced, not left beside it

    # Longer than the first cut on both sides: read again from the source.
    result = run("trim", str(clip["id"]), "--start", f"{first.start_time - 4:.2f}", "--end", "+6")
    assert result.exit_code == 0, result.output
    longer = manager.get_clip(clip["id"])
    assert longer.start_time == pytest.approx(first.start_time - 4, abs=0.01)
    assert longer.end_time == pytest.approx(shorter.end_time + 6, abs=1e-6)
    assert abs(file_span(longer.filepath) - longer.duration) <= FRAME_S + 1e-3
    assert (longer.id, longer.rating, longer.tags) == (first.id, 4, ("funny",))
    assert Path(longer.filepath).with_suffix(".jpg").is_file()
    assert not Path(shorter.filepath).exists()
    # The learner's signal: where the detector had put it.
    assert manager.detected_span(clip["id"]) == pytest.approx((first.start_time, first.end_time))
    assert len(manager.list_clips()) == 1
    assert sorted(p.suffix for p in Path(longer.filepath).parent.iterdir()) == [".jpg", ".mp4"]


def test_trim_longer_on_hls_fetches_only_the_segments_it_needs(
    workspace: Workspace, stream: Path
) -> None:
    from kickclip.ingest.fetch import SEGMENTS

    playlist = make_hls(stream, workspace.root / "hls", segment_s=2.0)
    with Server(playlist.parent) as server:
        clip = generate_one(server.url("index.m3u8"), "--allow-private-addresses")
        SEGMENTS.clear()
        server.requests.clear()
        start, end = clip["start"] - 3, clip["end"] + 3
        result = run(
            "trim",
            str(clip["id"]),
            "--start",
            f"{start:.2f}",
            "--end",
            f"{end:.2f}",
            "--allow-private-addresses",
        )
        assert result.exit_code == 0, result.output
        reads = collections.Counter(p for p, _ in server.requests if p.endswith(".ts"))
    record = ClipManager(workspace.db).get_clip(clip["id"])
    assert record.start_time == pytest.approx(start, abs=0.01)
    assert abs(file_span(record.filepath) - record.duration) <= FRAME_S + 1e-3
    # The segments covering the new span (a keyframe earlier at most), and seg000, which
    # FFmpeg's HLS reader probes on open; each once. 20 segments in all.
    covered = {f"/seg{k:03d}.ts" for k in range(int(start // 2) - 1, int(end // 2) + 1)}
    assert max(reads.values()) == 1, reads
    assert set(reads) - covered <= {"/seg000.ts"}, (sorted(reads), sorted(covered))
    assert len(reads) <= len(covered) + 1 < 20


BAD = [
    (["trim", "1", "--start", "abc"], "--start takes"),
    (["trim", "1", "--end", "1:xx"], "--end takes"),
    (["trim", "1", "--start", "30", "--end", "25"], "must come before"),
    (["trim", "1", "--start", "-100"], "before the stream's start"),
    (["trim", "1", "--end", "400"], "ends at"),
    (["trim", "1", "--end", "+900"], "600 s"),
    (["trim", "1", "--start", "nan"], "finite"),
    (["trim", "99", "--end", "+1"], "no clip"),
    (["trim", "x", "--end", "+1"], "no clip"),
]


@pytest.mark.parametrize(("args", "says"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_trims_are_one_line_and_change_nothing(
    args: list[str], says: str, workspace: Workspace, stream: Path
) -> None:
    generate_one(str(stream))
    workspace.mark()
    result = run(*args)
    assert result.exit_code == 1
    assert says in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert workspace.unchanged()


def test_a_live_clip_shrinks_but_cannot_grow(workspace: Workspace, stream: Path) -> None:
    """A clip of a live channel: its file can be cut shorter; the stream's past is gone, and
    asking for more says so without a packet sent anywhere."""
    clip = generate_one(str(stream))
    manager = ClipManager(workspace.db)
    with manager.backend.write() as db:  # as if it had come from a live channel
        db.execute("UPDATE clips SET source_url = 'https://kick.com/somechannel'")
    workspace.mark()
    result = run("trim", str(clip["id"]), "--end", "+2")
    assert result.exit_code == 1
    assert "live channel" in result.stderr and "gone" in result.stderr
    assert workspace.unchanged()
    result = run("trim", str(clip["id"]), "--end", "-2")
    assert result.exit_code == 0, result.output
    assert manager.get_clip(clip["id"]).end_time == pytest.approx(clip["end"] - 2, abs=1e-6)


def test_a_moved_source_says_so_and_shrinking_still_works(
    workspace: Workspace, stream: Path
) -> None:
    clip = generate_one(str(stream))
    stream.rename(stream.with_name("elsewhere.mp4"))
    workspace.mark()
    result = run("trim", str(clip["id"]), "--start", "-2")
    assert result.exit_code == 1
    assert "cannot grow" in result.stderr and "not found" in result.stderr
    assert workspace.unchanged()
    assert run("trim", str(clip["id"]), "--start", "+1").exit_code == 0


def test_clips_follow_the_users_trims_on_the_next_stream(workspace: Workspace) -> None:
    """Three clips made 5 s longer after their end: the next stream's clips (another file, other
    moments) end 5 s later than the detector puts them, and say so; a store without trims
    leaves the detector's windows alone."""
    first = make_media(
        workspace.root / "first.mp4", duration_s=100, bursts=[(20, 21.5), (50, 51.5), (80, 81.5)]
    )
    made = run(
        "generate",
        str(first),
        "--clip-duration",
        "6",
        "--top",
        "3",
        "--min-gap",
        "10",
        "--no-words",
        "--json",
    )
    assert made.exit_code == 0, made.output
    for clip in json.loads(made.stdout)["highlights"]:
        assert run("trim", str(clip["id"]), "--end", "+5").exit_code == 0

    second = make_media(
        workspace.root / "second.mp4", duration_s=90, bursts=[(30, 31), (65, 66.5)], seed=3
    )

    def windows(db: Path) -> tuple[list[tuple[float, float]], str]:
        result = CliRunner().invoke(
            app,
            [
                "analyze",
                str(second),
                "--clip-duration",
                "6",
                "--top",
                "2",
                "--min-gap",
                "10",
                "--json",
                "--db",
                str(db),
            ],
        )
        assert result.exit_code == 0, result.output
        spans = sorted((h["start"], h["end"]) for h in json.loads(result.stdout)["highlights"])
        return spans, result.stderr

    detected, quiet = windows(workspace.root / "fresh.db")
    habit, told = windows(workspace.db)
    assert "trim" not in quiet
    assert "end 5 s later than detected, as you trimmed 3 clips" in told
    assert len(habit) == len(detected) == 2
    for (start, end), (detected_start, detected_end) in zip(habit, detected, strict=True):
        assert start == pytest.approx(detected_start, abs=1e-6)
        assert end == pytest.approx(detected_end + 5, abs=1e-6)


def test_the_strip_shows_what_a_trim_can_reach_and_lights_what_it_keeps(
    workspace: Workspace, stream: Path
) -> None:
    """The keyframes from 30 s before the clip to 30 s after it (as far as the source goes);
    the strip drawn from them is lit inside the chosen span only; a clip whose source moved
    away shows its own span."""
    import numpy as np

    from kickclip import pipeline
    from kickclip.webui.browse_tab import STRIP_TILES, draw_strip

    clip = generate_one(str(stream))
    manager = ClipManager(workspace.db)
    record = manager.get_clip(clip["id"])
    low, high, frames = pipeline.filmstrip(manager, record.id, 30.0)
    assert (low, high) == (pytest.approx(max(0, record.start_time - 30)), pytest.approx(40.0))
    times = [t for t, _ in frames]
    assert times == sorted(times) and times[0] <= low + 2 and times[-1] >= high - 2.5
    assert len(frames) >= 15  # a keyframe every 2 s over 40 s
    assert all(picture.shape[1] == 160 for _, picture in frames)

    picture = draw_strip((low, high, frames), 20.0, 30.0)
    assert picture.shape[1] == STRIP_TILES * 160
    x = picture.shape[1]
    lit, dim = picture[:, int(x * 0.6)], picture[:, int(x * 0.2)]
    full = draw_strip((low, high, frames), low, high)
    assert lit.mean() == pytest.approx(full[:, int(x * 0.6)].mean(), abs=1)
    assert dim.mean() < 0.5 * full[:, int(x * 0.2)].mean() + 1

    stream.rename(stream.with_name("moved.mp4"))
    low, high, frames = pipeline.filmstrip(manager, record.id, 30.0)
    assert (low, high) == (pytest.approx(record.start_time), pytest.approx(record.end_time))
    assert frames and all(low - 2 <= t <= high for t, _ in frames)
    assert isinstance(frames[0][1], np.ndarray)
