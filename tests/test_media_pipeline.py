"""The media pipeline on synthetic media: detection, bad inputs, discontinuities, cutting."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
from typer.testing import CliRunner

from conftest import Workspace
from kickclip import pipeline
from kickclip.analyze import extract_features
from kickclip.cli import app
from kickclip.cut import cut_clip
from kickclip.detect import find_highlights
from kickclip.errors import NoMediaStreams, NotAMediaFile, NothingDecoded, SourceNotFound
from kickclip.ingest import open_source
from kickclip.settings import Settings
from media import decode_duration, make_media, truncate

EVENTS = {
    "bursts": [(40, 43)],
    "action": [(100, 104)],
    "cuts": [70, 150],
    "steady_loud": [(160, 230)],
}


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> Path:
    """4 minutes: a shout at 40 s, action at 100 s, calm cuts, 70 s of steady loud music."""
    return make_media(tmp_path_factory.mktemp("media") / "stream.mp4", duration_s=240, **EVENTS)


def _peaks(highlights, kind):
    return sorted(h.peak_s for h in highlights if h.clip_type == kind)


@pytest.mark.parametrize("thorough", [False, True])
def test_finds_bursts_and_action_not_decoys(stream: Path, thorough: bool) -> None:
    media = open_source(str(stream))
    features = extract_features(media, thorough=thorough)
    assert features.duration_s == pytest.approx(240, abs=1)
    highlights = find_highlights(features, clip_duration_s=20, min_gap_s=30, top=5)
    audio, video = _peaks(highlights, "audio"), _peaks(highlights, "video")
    assert any(40 <= p <= 44 for p in audio)
    assert any(100 <= p <= 105 for p in video)
    assert not any(165 <= p <= 229 for p in audio), "steady loud stretch counted"
    assert not any(abs(p - 150) < 3 for p in video), "calm scene cut counted"
    for h in highlights:
        assert h.end_s - h.start_s == pytest.approx(20) and h.start_s <= h.peak_s <= h.end_s
        assert 0 <= h.score <= 1
    keys = {
        kind: {tuple(sorted(h.features)) for h in highlights if h.clip_type == kind}
        for kind in ("audio", "video")
    }
    assert all(len(k) == 1 for k in keys.values())  # stable feature keys per type


def test_min_gap_and_top(stream: Path) -> None:
    features = extract_features(open_source(str(stream)))
    highlights = find_highlights(features, clip_duration_s=10, min_gap_s=500, top=3)
    assert len(_peaks(highlights, "audio")) <= 1 and len(_peaks(highlights, "video")) <= 1
    assert [h.score for h in highlights] == sorted((h.score for h in highlights), reverse=True)


def test_audio_only_and_video_only(tmp_path: Path) -> None:
    sound = make_media(tmp_path / "a.m4a", duration_s=90, video=False, bursts=[(40, 43)])
    picture = make_media(tmp_path / "v.mkv", duration_s=90, audio=False, action=[(40, 44)])
    a = pipeline.analyze(str(sound), Settings(clip_duration=10, min_gap=20))
    v = pipeline.analyze(str(picture), Settings(clip_duration=10, min_gap=20))
    assert {h.clip_type for h in a.highlights} == {"audio"}
    assert {h.clip_type for h in v.highlights} == {"video"}


def test_discontinuity_keeps_time_increasing(tmp_path: Path) -> None:
    first = make_media(tmp_path / "one.ts", duration_s=60, seed=1)
    second = make_media(tmp_path / "two.ts", duration_s=60, bursts=[(30, 33)], seed=2)
    joined = tmp_path / "joined.ts"  # MPEG-TS concatenates; the second part restarts at 0
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    features = extract_features(open_source(str(joined)))
    assert len(features.audio) * 0.5 == pytest.approx(120, abs=2)
    highlights = find_highlights(features, clip_duration_s=10, min_gap_s=20, top=3)
    assert any(89 <= p <= 94 for p in _peaks(highlights, "audio"))


def test_truncated_file_warns_and_still_analyzes(tmp_path: Path) -> None:
    path = truncate(make_media(tmp_path / "cut.ts", duration_s=60, bursts=[(10, 12)]), 0.6)
    analysis = pipeline.analyze(str(path), Settings(clip_duration=8, min_gap=10))
    assert 20 < analysis.duration_s < 59  # the synthesizer writes all video, then all audio
    assert analysis.warnings and "of" in analysis.warnings[0]


@pytest.mark.parametrize(
    "kind", ["missing", "text", "empty", "folder", "truncated to nothing", "no streams"]
)
def test_bad_media(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "bad.mp4"
    expected: type[Exception] = NotAMediaFile
    if kind == "missing":
        expected = SourceNotFound
    elif kind == "text":
        path.write_text("hello, not a video")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "folder":
        path.mkdir()
    elif kind == "truncated to nothing":
        truncate(make_media(path, duration_s=5), 0.02)
        expected = (NotAMediaFile, NothingDecoded)
    elif kind == "no streams":
        path = tmp_path / "data.ts"
        with av.open(str(path), "w") as out:
            stream = out.add_data_stream()  # a data stream only: neither audio nor video
            packet = av.Packet(b"telemetry")
            packet.stream, packet.pts, packet.dts = stream, 0, 0
            out.mux(packet)
        expected = NoMediaStreams
    with pytest.raises(expected) as raised:
        pipeline.analyze(str(path))
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("accurate", [False, True])
def test_cut_duration_start_and_thumbnail(stream: Path, tmp_path: Path, accurate: bool) -> None:
    media = open_source(str(stream))
    highlight = find_highlights(extract_features(media), clip_duration_s=12, min_gap_s=30, top=1)[0]
    clip = cut_clip(media, highlight, tmp_path, accurate=accurate)
    seconds, frames = decode_duration(clip.filepath)
    assert frames > 0
    if accurate:
        assert clip.start_s == pytest.approx(highlight.start_s)
        assert seconds == pytest.approx(12, abs=1 / 15 + 1e-3)
    else:
        assert highlight.start_s - 2.0 <= clip.start_s <= highlight.start_s  # keyframe before
        assert clip.start_s % 2.0 == pytest.approx(0, abs=1e-3)
        assert 12 - 1e-3 <= seconds <= 12 + 2.0 + 1e-3
    with av.open(str(clip.thumbnail)) as thumb:
        assert next(thumb.decode(video=0)).width == 320
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [clip.filepath.name, clip.thumbnail.name]
    )


def test_generate_json_matches_the_contract(stream: Path, workspace: Workspace) -> None:
    result = CliRunner().invoke(
        app,
        ["generate", str(stream), "--clip-duration", "15", "--min-gap", "30", "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"source", "duration", "highlights"} and data["highlights"]
    scores = [h["score"] for h in data["highlights"]]
    assert scores == sorted(scores, reverse=True)
    from kickclip.store.clip_manager import ClipManager

    manager = ClipManager(workspace.db)
    for h in data["highlights"]:
        assert set(h) == {
            *("start", "end", "score", "clip_type", "reason", "features", "id", "filepath"),
            "reused",
        }
        assert h["reason"] and isinstance(h["reason"], str)
        assert Path(h["filepath"]).is_file() and decode_duration(h["filepath"])[1] > 0
        assert manager.get_clip(h["id"]).filepath == h["filepath"]


def test_analyze_json_writes_nothing(stream: Path, workspace: Workspace) -> None:
    result = CliRunner().invoke(app, ["analyze", str(stream), "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["highlights"]
    assert sorted(p.name for p in workspace.root.iterdir()) == []


def test_one_failing_clip_spares_the_others(
    stream: Path, workspace: Workspace, monkeypatch
) -> None:
    from kickclip import cut as cut_module
    from kickclip.errors import CutError

    real, calls = cut_module.cut_clip, []

    def flaky(media, highlight, out_dir, **kwargs):
        calls.append(highlight)
        if len(calls) == 1:
            raise CutError("disk hiccup")
        return real(media, highlight, out_dir, **kwargs)

    monkeypatch.setattr(cut_module, "cut_clip", flaky)
    settings = Settings(db=workspace.db, out=workspace.out, clip_duration=10, min_gap=30)
    result = pipeline.generate(str(stream), settings)
    assert result.failures == ("disk hiccup",)
    assert len(result.clips) == len(calls) - 1 >= 1
    assert len(list(workspace.out.glob("*.mp4"))) == len(result.clips)


def test_trained_model_blends_the_score(stream: Path, workspace: Workspace) -> None:
    from conftest import fill_store
    from kickclip.learn.trainer import RatingBasedTrainer

    manager, _ = fill_store(workspace.db, 20, rated=20)
    RatingBasedTrainer(manager, workspace.models).train_from_ratings()
    analysis = pipeline.analyze(str(stream), Settings(models_dir=workspace.models))
    assert all(h.heuristic_score is not None for h in analysis.highlights)
    assert any(h.score != h.heuristic_score for h in analysis.highlights)


def test_demo_runs_offline(workspace: Workspace) -> None:
    result = CliRunner().invoke(app, ["demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "kickclip rate" in result.stdout
    from kickclip.store.clip_manager import ClipManager

    assert ClipManager(workspace.db).get_statistics()["total_clips"] >= 4


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "nope.mp4"],
        ["generate", "notes.txt"],
        ["analyze", ""],
        ["generate", "x.mp4", "--clip-duration", "1"],
        ["analyze", "https://kick.com/video/0f5c7a4e-aaaa"],
    ],
)
def test_cli_bad_sources(args: list[str], workspace: Workspace) -> None:
    (workspace.root / "notes.txt").write_text("not media")
    workspace.mark()
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("Error: ")
    assert workspace.unchanged() and not workspace.db.exists()
