"""What was said, as the learner reads it: speech rate, exclamations, laughs, and the words a
user's liked clips share; learned from only when the words rank the ratings better."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from kickclip.learn.said import Vocabulary, said_features
from kickclip.learn.trainer import RatingBasedTrainer
from kickclip.records import Transcript, Word
from kickclip.store.clip_manager import ClipManager

TALK_A = [
    "so I went to the shop today and they were out of bread.",
    "the weather here is pretty grey, I think it will rain later.",
    "thanks for the follow, welcome in everybody.",
    "let me check the settings real quick, my audio was low.",
    "we are going to try the other route this time around.",
]
TALK_B = [  # the next stream: other talk, another day
    "my cat keeps walking over the keyboard while I play.",
    "did you see the patch notes? they changed the map again.",
    "I need some water, give me a second here.",
    "okay chat, what should we name the new character?",
    "the queue is taking forever on this server tonight.",
]
HYPE = [
    "no way, that was a clutch! insane!",
    "hahaha what a clutch, insane!",
    "insane! did you see that? clutch!",
]


def clip_text(rng: np.random.Generator, talk: list[str], hype: bool) -> str:
    said = list(rng.choice(talk, size=2, replace=False))
    if hype:
        said.insert(int(rng.integers(0, 3)), str(rng.choice(HYPE)))
    return " ".join(said)


def as_transcript(text: str, start: float, end: float) -> Transcript:
    words = text.split()
    step = (end - start) / (len(words) + 1)
    return Transcript(
        "test",
        tuple(Word(w, start + i * step, start + (i + 0.8) * step) for i, w in enumerate(words)),
    )


def rated_store(
    tmp_path: Path, n: int, taste: str, seed: int = 0
) -> tuple[ClipManager, RatingBasedTrainer]:
    """``n`` clips heard and rated: by what was said (``"words"``) or by loudness alone."""
    rng = np.random.default_rng(seed)
    manager = ClipManager(tmp_path / "clips.db")
    for i in range(n):
        hype = bool(i % 3 == 0)
        loud = float(rng.normal())
        features = {"audio_z_max": loud, "detector_score": float(rng.random())}
        start = 40.0 * i
        clip_id = manager.register_clip(
            tmp_path / f"c{i}.mp4", start, start + 20, 0.5, "audio", features, "a.mp4"
        )
        text = clip_text(rng, TALK_A, hype)
        manager.set_transcript(clip_id, as_transcript(text, start, start + 20))
        if taste == "words":
            stars = 5 if hype else int(rng.choice([1, 2]))
        else:
            stars = int(np.clip(round(3 + 1.5 * loud), 1, 5))
        manager.rate_clip(clip_id, stars)
    return manager, RatingBasedTrainer(manager, tmp_path / "models")


def test_said_features_read_rate_exclamations_and_laughs() -> None:
    said = said_features("Hahaha no way! That was insane! ok. lol", 10.0)
    assert said["said_rate"] == pytest.approx(0.8)
    assert said["said_exclaimed"] == pytest.approx(2 / 3, abs=1e-4)
    assert said["said_laughs"] == pytest.approx(12.0)  # two laughs in 10 s
    quiet = said_features("", 20.0)
    assert quiet == {"said_rate": 0.0, "said_exclaimed": 0.0, "said_laughs": 0.0}


def test_liked_words_need_two_liked_clips_and_leave_a_clip_out_of_its_own_score() -> None:
    texts = ["clutch insane win", "clutch insane", "boring queue", "boring settings", None]
    stars = [5, 4, 1, 2, 5]
    vocabulary = Vocabulary(texts, stars)
    assert vocabulary.liked_words() == ["clutch", "insane"]
    assert vocabulary.score("what a clutch") == pytest.approx(1 / 1)  # "what" is a stop word
    assert vocabulary.score("boring clutch") == pytest.approx(0.5)
    assert math.isnan(vocabulary.score(None))
    # Scored without itself, the first clip's "clutch" has one liked clip left: not liked.
    assert vocabulary.score(texts[0], own_stars=5) == 0.0
    assert Vocabulary(texts[:1] + texts[2:], [5, 1, 2, 5]).liked_words() == []


def test_a_taste_for_what_is_said_is_learned_and_holds_on_the_next_streams_talk(
    tmp_path: Path,
) -> None:
    _, trainer = rated_store(tmp_path, 36, "words")
    assert trainer.train_from_ratings()
    model = trainer.model
    words = model.metrics_["words"]
    assert words["used"] and words["heard"] == 36
    assert words["cv_spearman_with"] > words["cv_spearman_without"] + 0.03
    assert {"clutch", "insane"} <= set(words["liked_words"])

    rng = np.random.default_rng(7)  # the next stream: other talk, the same taste
    hype = [bool(rng.random() < 0.3) for _ in range(40)]
    candidates = []
    for liked in hype:
        text = clip_text(rng, TALK_B, liked)
        features = {"audio_z_max": float(rng.normal()), "detector_score": float(rng.random())}
        features |= said_features(text, 20.0)
        candidates.append(model.with_words(features, text))
    predicted = model.predict(candidates, ["audio"] * len(candidates))
    assert spearmanr(predicted, hype)[0] > 0.6
    assert min(p for p, h in zip(predicted, hype, strict=True) if h) > max(
        p for p, h in zip(predicted, hype, strict=True) if not h
    )


def test_words_that_do_not_rank_the_ratings_better_are_not_learned_from(tmp_path: Path) -> None:
    _, trainer = rated_store(tmp_path, 36, "loudness")
    assert trainer.train_from_ratings()
    model = trainer.model
    assert not model.metrics_["words"]["used"]
    assert not model.uses_words
    assert not any(name.startswith("said_") for name in model.feature_names_)


LIKED_SAID = [
    "my fellow americans, what a country!",
    "fellow americans, this country is something!",
    "americans! the country is watching, my fellow friends!",
]


def test_a_taste_for_words_ranks_the_next_streams_candidates_by_what_is_heard(
    tmp_path: Path,
) -> None:
    """Rated clips liked for talk of "fellow americans" and "country": on a stream where JFK
    says those words under two louder bursts of noise, the detector alone picks a burst; the
    taste hears every candidate and picks the speech."""
    pytest.importorskip("faster_whisper", reason="the speech extra is installed by .ci/run")
    from typer.testing import CliRunner

    from kickclip.cli import app
    from media import jfk_stream

    rng = np.random.default_rng(1)
    manager = ClipManager(tmp_path / "clips.db")
    for i in range(30):
        liked = i % 3 == 0
        start = 40.0 * i
        features = {"audio_z_max": float(rng.normal()), "detector_score": float(rng.random())}
        clip_id = manager.register_clip(
            tmp_path / f"c{i}.mp4", start, start + 8, 0.5, "audio", features, "a.mp4"
        )
        text = " ".join([str(rng.choice(TALK_A)), LIKED_SAID[i % 3] if liked else ""])
        manager.set_transcript(clip_id, as_transcript(text.strip(), start, start + 8))
        manager.rate_clip(clip_id, 5 if liked else int(rng.choice([1, 2])))
    trainer = RatingBasedTrainer(manager, tmp_path / "models")
    assert trainer.train_from_ratings() and trainer.model.uses_words

    stream = jfk_stream(
        tmp_path / "next.mp4", duration_s=90, speech_at_s=12, noise=[(45, 46.5), (70, 71.5)]
    )

    def top(db: Path) -> dict:
        result = CliRunner().invoke(
            app,
            [
                "analyze",
                str(stream),
                "--clip-duration",
                "8",
                "--top",
                "1",
                "--min-gap",
                "10",
                "--json",
                "--db",
                str(db),
                "--models-dir",
                str(tmp_path / "models"),
            ],
        )
        assert result.exit_code == 0, result.output
        (best,) = json.loads(result.stdout)["highlights"]
        return best

    detector = top(tmp_path / "fresh.db")
    taste = top(tmp_path / "clips.db")
    assert detector["start"] >= 40  # a burst of noise
    assert taste["start"] < 23 and taste["end"] > 12  # JFK speaking
    assert taste["features"]["said_liked"] > 0.3
    assert taste["features"]["said_rate"] > 1.0


def test_stats_says_whether_the_words_are_learned_from(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kickclip.cli import app

    _, trainer = rated_store(tmp_path, 36, "words")
    assert trainer.train_from_ratings()
    args = ["--db", str(tmp_path / "clips.db"), "--models-dir", str(tmp_path / "models")]
    result = CliRunner().invoke(app, ["stats", *args])
    assert result.exit_code == 0, result.output
    assert "Words of 36 heard clips: learned from" in result.stdout
    assert "clutch" in result.stdout
    shown = json.loads(CliRunner().invoke(app, ["stats", "--json", *args]).stdout)
    assert shown["model"]["metrics"]["words"]["used"] is True


def test_explain_shows_what_the_words_did(tmp_path: Path) -> None:
    from kickclip.explain import explain

    manager, trainer = rated_store(tmp_path, 36, "words")
    assert trainer.train_from_ratings()
    liked = manager.list_clips(limit=None)[-1]  # clip 0: its talk has the hype
    assert "clutch" in (liked.transcript or "")
    shown = explain(manager, trainer, liked.id)
    names = [c["feature"] for c in shown.contributions]
    assert "said_liked" in names
    assert shown.predicted_stars > 3.5


def test_model_status_in_plain_words() -> None:
    from datetime import UTC, datetime, timedelta

    from kickclip.records import ago, model_status

    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert ago((now - timedelta(seconds=20)).isoformat(), now) == "just now"
    assert ago((now - timedelta(minutes=12, seconds=5)).isoformat(), now) == "12 min ago"
    assert ago((now - timedelta(hours=3)).isoformat(), now) == "3 h ago"
    assert ago((now - timedelta(days=4)).isoformat(), now) == "4 days ago"
    assert ago("not a time") == "not a time"
    progress = {
        "last_trained_at": datetime.now(UTC).isoformat(),
        "metrics": {"n_samples": 25, "cv_mae_stars": 0.6821},
    }
    assert model_status(progress) == (
        "trained just now on 25 ratings, predicts within ±0.7★ (cross-validated)"
    )
