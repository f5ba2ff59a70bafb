"""The stream's timeline: ``analyze --json --timeline`` carries each side's strength over the
stream, rising where the planted moments are; ``--plot`` draws it into a PNG."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import Workspace
from kickclip.cli import app
from media import eventful_stream

SHOUTS = [(10, 12), (40, 42), (70, 72), (100, 102), (130, 132)]
ACTION = [(25, 28), (55, 58), (85, 88), (115, 118), (140, 143)]


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return eventful_stream(tmp_path_factory.mktemp("timeline") / "stream.mp4")


def test_the_timeline_carries_each_side_over_the_stream(workspace: Workspace, stream) -> None:
    result = run("analyze", str(stream), "--clip-duration", "6", "--min-gap", "10", "--json")
    assert "timeline" not in json.loads(result.stdout)  # only when asked
    result = run(
        "analyze", str(stream), "--clip-duration", "6", "--min-gap", "10", "--json", "--timeline"
    )
    assert result.exit_code == 0, result.output
    timeline = json.loads(result.stdout)["timeline"]
    assert set(timeline) == {"hop_s", "start", "audio", "video", "chat"}
    assert timeline["chat"] == [] and timeline["start"] == 0.0
    hop = timeline["hop_s"]
    assert len(timeline["audio"]) == len(timeline["video"]) == pytest.approx(150 / hop, abs=2)

    def peak(series: list[float], span: tuple[float, float]) -> float:
        return max(series[int(span[0] / hop) : int(span[1] / hop) + 2])

    quiet = [t for t in range(0, 150, 5) if all(not a - 3 < t < b + 6 for a, b in SHOUTS + ACTION)]
    for span in SHOUTS:
        assert peak(timeline["audio"], span) > 0.5, span
    for span in ACTION:
        assert peak(timeline["video"], span) > 0.5, span
    for t in quiet:
        assert timeline["audio"][int(t / hop)] < 0.2 and timeline["video"][int(t / hop)] < 0.2, t


def test_plot_writes_the_picture(workspace: Workspace, stream) -> None:
    from PIL import Image

    result = run("analyze", str(stream), "--clip-duration", "6", "--plot", "stream.png")
    assert result.exit_code == 0, result.output
    with Image.open("stream.png") as picture:
        assert picture.format == "PNG" and picture.width > 800 and picture.height > 200
        colours = {
            picture.convert("RGB").getpixel((x, picture.height // 2))
            for x in range(0, picture.width, 3)
        }
    assert len(colours) > 3  # drawn, not blank
    assert not list(Path().glob(".stream-*"))  # no temporary file left


def test_a_plot_that_is_not_a_png_is_one_line(workspace: Workspace, stream) -> None:
    workspace.mark()
    result = run("analyze", str(stream), "--plot", "stream.jpg")
    assert result.exit_code == 1
    assert "PNG" in result.stderr and result.stderr.strip().count("\n") == 0
    assert workspace.unchanged()


def test_a_clip_by_hand_is_registered_where_it_was_chosen(workspace: Workspace, stream) -> None:
    """A moment the detector passed over (--top 2 picks two shouts), chosen on the timeline:
    cut around it, of the strongest side's type there, with its evidence; chosen again, the
    same clip; a time outside the stream is one error and changes nothing."""
    from kickclip import pipeline
    from kickclip.errors import InvalidInput
    from kickclip.plot import timeline_picture
    from kickclip.records import clock
    from kickclip.settings import Settings
    from kickclip.store.clip_manager import ClipManager

    settings = Settings(
        db=workspace.db,
        out=workspace.out,
        models_dir=workspace.models,
        clip_duration=6,
        min_gap=10,
        top=2,
        words=False,
    )
    analysis = pipeline.analyze(str(stream), settings)
    passed_over = [
        (a + b) / 2
        for a, b in ACTION
        if all(not a - 3 < h.peak_s < b + 3 for h in analysis.highlights)
    ]
    at = passed_over[0]  # action the detector did not pick
    picture = timeline_picture(analysis)
    x = picture.left_px + (at / 150) * (picture.right_px - picture.left_px)
    assert picture.time_at(x) == pytest.approx(at, abs=0.5)
    manager = ClipManager(settings.db)

    made = pipeline.clip_here(analysis, picture.time_at(x), settings, manager)
    record = manager.get_clip(made.clip_id)
    assert record.clip_type == "video"  # the action there
    # 40 % of the window before the moment; a stream copy opens at the keyframe before (2 s).
    assert at - 2.4 - 2.1 <= record.start_time <= at - 2.4 + 0.1
    assert record.end_time == pytest.approx(at + 3.6, abs=0.2)
    assert Path(record.filepath).is_file()
    assert f"chosen by hand at {clock(picture.time_at(x))}" in (manager.reason(record.id) or "")
    assert record.features["detector_score"] > 0.3

    again = pipeline.clip_here(analysis, at + 0.5, settings, manager)
    assert (again.clip_id, again.reused) == (made.clip_id, True)

    workspace.mark()
    with pytest.raises(InvalidInput, match="outside the stream"):
        pipeline.clip_here(analysis, 151.0, settings, manager)
    assert workspace.unchanged()
    assert len(manager.list_clips()) == 1
