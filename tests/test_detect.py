"""Detection on recorded speech and on hand-made feature series: ranking, baselines, edges."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import realistic
from conftest import Workspace
from kickclip.analyze import extract_features
from kickclip.cli import app
from kickclip.detect import find_highlights, judge
from kickclip.detect.baseline import local_rise
from kickclip.ingest import open_source
from kickclip.records import Features, FeatureSeries

HOP_S = 0.5


def _audio(rms_db: np.ndarray, seed: int = 0) -> Features:
    """An audio side whose timbre stays that of speech; only the loudness is given."""
    rng = np.random.default_rng(seed)
    n = len(rms_db)
    values = {
        "rms_db": rms_db,
        "flux": 20 + rng.normal(0, 2, n),
        "highband_ratio": 0.1 + rng.normal(0, 0.01, n),
        "flatness": 0.05 + rng.normal(0, 0.005, n),
    }
    return Features(duration_s=n * HOP_S, audio=FeatureSeries("audio", HOP_S, values))


def _talk_db(seconds: float, swing_db: float, seed: int = 0) -> np.ndarray:
    """Talk loudness per 0.5 s: syllables, pauses down to silence, a level moving each second."""
    rng = np.random.default_rng(seed)
    n = int(seconds / HOP_S)
    level = np.repeat(rng.uniform(-swing_db, swing_db, n // 2 + 1), 2)[:n]
    db = -26 + level + rng.normal(0, 2, n)
    pauses = rng.random(n) < 0.2
    db[pauses] = rng.uniform(-90, -50, pauses.sum())
    return db


@pytest.fixture(scope="module")
def speech_stream(tmp_path_factory) -> tuple[Path, realistic.Plan]:
    """4 minutes of recorded speech moving ±6 dB each second; 3 shouts, a cheer, a music bed."""
    plan = realistic.Plan(
        240.0,
        shout=[(40.0, 43.0), (125.0, 128.5), (200.0, 202.5)],
        cheer=[(160.0, 164.0)],
        music=[(60.0, 95.0)],
        cuts=[140.0],
    )
    audio = realistic.soundtrack(plan, swing_db=6, seed=3)
    path = tmp_path_factory.mktemp("speech") / "talk.mp4"
    return realistic.write_stream(path, plan, audio, size=(160, 96), fps=10), plan


def test_recorded_speech_stream_yields_its_shouts_first(speech_stream) -> None:
    path, plan = speech_stream
    features = extract_features(open_source(str(path)))
    highlights = find_highlights(features, clip_duration_s=10, min_gap_s=15, top=8)
    audio = [h for h in highlights if h.clip_type == "audio"]
    assert len(audio) == 8, "a stream of ordinary talk must still yield --top moments"
    events = plan.shout + plan.cheer
    best = audio[: len(events)]
    for start, end in events:
        assert any(start - 3 <= h.peak_s <= end + 3 for h in best), (
            start,
            [h.peak_s for h in best],
        )
    assert all(h.score >= 0.5 for h in best)
    rest = audio[len(events) :]
    assert all(h.score < 0.5 for h in rest), "ordinary talk must not score as standing out"
    music_start, music_end = plan.music[0]
    assert not any(music_start - 3 <= h.peak_s <= music_end + 3 for h in best)


def test_cli_generate_on_recorded_speech_cuts_clips(speech_stream, workspace: Workspace) -> None:
    path, _ = speech_stream
    result = CliRunner().invoke(
        app, ["generate", str(path), "--clip-duration", "8", "--top", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    clips = json.loads(result.stdout)["highlights"]
    assert len([c for c in clips if c["clip_type"] == "audio"]) == 3
    assert all(Path(c["filepath"]).exists() for c in clips)


def test_ordinary_talk_ranks_without_a_cliff() -> None:
    """No planted event at all: still the top N distinct moments, all scored below 0.5."""
    for swing in (0, 3, 6, 10):
        highlights = find_highlights(
            _audio(_talk_db(600, swing, seed=swing)), clip_duration_s=20, min_gap_s=30, top=10
        )
        assert len(highlights) == 10
        assert max(h.score for h in highlights) < 0.5, swing
        peaks = sorted(h.peak_s for h in highlights)
        assert min(np.diff(peaks)) >= 30


@pytest.mark.parametrize("swing", [0, 3, 6, 10])
def test_a_shout_over_moving_talk_is_found_and_calibrated(swing: float) -> None:
    db = _talk_db(600, swing, seed=7)
    talk_energy_db = 10 * np.log10(np.mean(10 ** (db / 10)))
    shouts = [(100, 103), (250, 253), (420, 424)]
    for start, end in shouts:
        span = slice(int(start / HOP_S), int(end / HOP_S))
        db[span] = (
            talk_energy_db + 14 + np.random.default_rng(1).normal(0, 1, span.stop - span.start)
        )
    highlights = find_highlights(_audio(db), clip_duration_s=20, min_gap_s=30, top=10)
    top = highlights[: len(shouts)]
    for start, end in shouts:
        assert any(start - 2 <= h.peak_s <= end + 2 for h in top), swing
    assert all(h.score >= 0.5 for h in top)
    # Loudness is reported in natural units: dB above the talk around it.
    assert all(10 <= h.features["rms_db_rise_max"] <= 22 for h in top)


def test_digital_silence_and_near_silence_never_explode() -> None:
    """A -65 dB file of mostly digital silence (zero spread): no audio highlight, sane values."""
    rng = np.random.default_rng(0)
    db = np.full(100, -100.0)
    db[:4] = -65 + rng.normal(0, 1, 4)
    db[50:52] = -70
    highlights = find_highlights(_audio(db), clip_duration_s=5, min_gap_s=5, top=5)
    assert highlights == []
    strength, detail = judge(_audio(db).audio)
    assert np.all(np.isfinite(strength)) and strength.max() == 0
    for measures in detail.values():
        for values in measures.values():
            assert np.all(np.abs(values[np.isfinite(values)]) < 1e4)


def test_zero_spread_divides_by_the_floor() -> None:
    flat = np.full(200, -30.0)
    flat[100] = -29.0
    judged = local_rise(flat, HOP_S, floor=1.0)
    assert judged.spread.min() == 1.0
    assert judged.z[100] == pytest.approx(1.0)


def test_loud_stretch_in_a_short_clip_is_the_best_moment() -> None:
    """Like moviepy's big_buck_bunny_0_30: 8-22 s about 20 dB louder than the rest."""
    rng = np.random.default_rng(2)
    db = -45 + rng.normal(0, 2, 60)
    db[16:44] = -25 + rng.normal(0, 2, 28)
    highlights = find_highlights(_audio(db), clip_duration_s=5, min_gap_s=5, top=3)
    best = highlights[0]
    assert best.clip_type == "audio" and best.start_s < 22 and best.end_s > 8


def test_edges_are_judged_by_the_side_they_have() -> None:
    """Talk that happens to be a little louder right after the start must not beat a shout."""
    db = _talk_db(300, 3, seed=11)
    db[: int(6 / HOP_S)] += 6  # the first seconds a bit louder than what follows
    db[int(150 / HOP_S) : int(153 / HOP_S)] = -14
    highlights = find_highlights(_audio(db), clip_duration_s=20, min_gap_s=30, top=5)
    assert 148 <= highlights[0].peak_s <= 155
    edge = [h for h in highlights if h.peak_s < 10]
    assert all(h.score < 0.5 for h in edge)
    judged = local_rise(db, HOP_S, floor=1.0)
    assert judged.one_sided[0] and judged.one_sided[-1] and not judged.one_sided[300]


def test_music_bed_and_pauses_are_not_events() -> None:
    """A long steady loud stretch and long pauses (silence) rise above neither side."""
    db = _talk_db(400, 3, seed=5)
    db[int(100 / HOP_S) : int(190 / HOP_S)] = -20 + np.random.default_rng(0).normal(0, 1, 180)
    db[int(250 / HOP_S) : int(262 / HOP_S)] = -95  # a long pause, then talk resumes
    highlights = find_highlights(_audio(db), clip_duration_s=10, min_gap_s=20, top=20)
    assert not [h for h in highlights if h.score >= 0.5]
    resumed = [h for h in highlights if 258 <= h.peak_s <= 268]
    assert all(h.score < 0.3 for h in resumed)


@pytest.mark.parametrize("windows", [1, 2, 4, 7])
def test_media_shorter_than_the_smoothing_span(windows: int) -> None:
    """A 2 s file (moviepy's fire2.mp4 is 2.4 s) is judged without a shape error."""
    db = np.linspace(-40, -20, windows)
    strength, detail = judge(_audio(db).audio)
    assert strength.shape == (windows,)
    assert all(v.shape == (windows,) for measures in detail.values() for v in measures.values())


def test_talk_next_to_a_long_silence_is_not_a_highlight() -> None:
    """Like auto-editor's example.mp4: 18 s of talk, 22 s of digital silence, a short word."""
    db = _talk_db(42, 0, seed=4)
    db[int(18 / HOP_S) :] = -100.0
    db[int(40 / HOP_S) : int(41 / HOP_S)] = -24.0
    highlights = find_highlights(_audio(db), clip_duration_s=5, min_gap_s=5, top=5)
    assert highlights and all(h.score < 0.5 for h in highlights)
