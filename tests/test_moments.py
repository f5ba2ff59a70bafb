"""One moment, one highlight, one clip; and a taste that carries over to the next stream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import realistic
from kickclip import pipeline
from kickclip.cli import app
from kickclip.learn.trainer import RatingBasedTrainer
from kickclip.settings import Settings
from kickclip.store.clip_manager import ClipManager
from media import make_media


def _covers(highlight, t: float) -> bool:
    return highlight.start_s <= t <= highlight.end_s


def test_sound_and_picture_at_one_moment_make_one_highlight_and_one_clip(tmp_path: Path) -> None:
    stream = make_media(
        tmp_path / "together.mp4", duration_s=90, bursts=[(40, 42)], action=[(40, 42)]
    )
    settings = Settings(
        db=tmp_path / "clips.db", out=tmp_path / "clips", clip_duration=10, min_gap=5, top=8
    )
    generation = pipeline.generate(str(stream), settings)
    at_moment = [c for c in generation.clips if _covers(c.highlight, 41.0)]
    assert len(at_moment) == 1
    moment = at_moment[0].highlight
    # Every side's evidence, whichever leads it.
    assert {"rms_db_z_max", "activity_kbits_z_max", "audio_strength", "video_strength"} <= set(
        moment.features
    )
    assert moment.features["audio_strength"] > 1 and moment.features["video_strength"] > 1
    stored = [c for c in ClipManager(settings.db).list_clips(limit=100) if c.start_time <= 41.0]
    assert len([c for c in stored if c.end_time >= 41.0]) == 1


def test_generate_json_never_repeats_an_id(tmp_path: Path) -> None:
    from media import eventful_stream

    stream = eventful_stream(tmp_path / "events.mp4")
    # A gap far under the clip's length: neighbouring moments overlap by more than half.
    args = ["generate", str(stream), "--clip-duration", "12", "--min-gap", "3", "--top", "30"]
    args += ["--db", str(tmp_path / "clips.db"), "--out", str(tmp_path / "clips"), "--json"]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    ids = [h["id"] for h in json.loads(result.stdout)["highlights"]]
    assert len(ids) > 10
    assert len(ids) == len(set(ids))
    again = CliRunner().invoke(app, args, catch_exceptions=False)  # reused, still distinct
    ids_again = [h["id"] for h in json.loads(again.stdout)["highlights"]]
    assert len(ids_again) == len(set(ids_again))


def _stream(path: Path, seed: int, *, swing_db: float) -> tuple[Path, realistic.Plan]:
    """6 minutes of recorded speech with 3 visual actions, 3 shouts and a music bed."""
    slots = [25.0 + 35.0 * k for k in range(6)]
    plan = realistic.Plan(
        360.0,
        action=[(t, t + 3.0) for t in slots[0::2]],
        shout=[(t, t + 3.0) for t in slots[1::2]],
        music=[(250.0, 330.0)],
    )
    audio = realistic.soundtrack(plan, swing_db=swing_db, seed=seed)
    return realistic.write_stream(path, plan, audio, size=(160, 96), fps=10, seed=seed), plan


def _kind(highlight, plan: realistic.Plan) -> str:
    for kind in ("action", "shout", "music"):
        if any(
            min(end, highlight.end_s) - max(start, highlight.start_s) >= 1.5
            for start, end in getattr(plan, kind)
        ):
            return kind
    return "talk"


@pytest.fixture(scope="module")
def two_streams(tmp_path_factory):
    folder = tmp_path_factory.mktemp("moments")
    return (
        _stream(folder / "first.mp4", 31, swing_db=3.0),
        _stream(folder / "second.mp4", 32, swing_db=6.0),
    )


def test_a_taste_for_visual_moments_carries_over_to_the_next_stream(
    two_streams, tmp_path: Path
) -> None:
    (first, first_plan), (second, second_plan) = two_streams
    settings = Settings(
        db=tmp_path / "clips.db",
        out=tmp_path / "clips",
        models_dir=tmp_path / "models",
        clip_duration=10,
        min_gap=15,
        top=3,
    )

    def kinds() -> list[str]:
        return [_kind(h, second_plan) for h in pipeline.analyze(str(second), settings).highlights]

    before = kinds()
    assert "shout" in before[:3]  # the detector alone: the loudest moments come first
    manager = ClipManager(settings.db)
    for highlight in pipeline.analyze(str(first), settings.replace(top=20)).highlights:
        clip_id = manager.register_clip(
            filepath=tmp_path / f"clip{highlight.start_s:.1f}.mp4",
            start_time=highlight.start_s,
            end_time=highlight.end_s,
            score=highlight.score,
            clip_type=highlight.clip_type,
            features=highlight.features,
        )
        manager.rate_clip(clip_id, 5 if _kind(highlight, first_plan) == "action" else 1)
    assert RatingBasedTrainer(manager, settings.models_dir).train_from_ratings()
    after = kinds()
    assert after == ["action"] * 3, (before, after)


def test_a_model_from_before_is_retrained_from_the_ratings_once(tmp_path: Path) -> None:
    import hmac
    import pickle

    from conftest import fill_store
    from kickclip.learn import model_file

    db, models = tmp_path / "clips.db", tmp_path / "models"
    manager, _ = fill_store(db, 20, rated=15)
    trainer = RatingBasedTrainer(manager, models)
    assert trainer.train_from_ratings()
    # What an older kickclip left: a signed pickle of format 3, no description beside it.
    key = manager.model_key()
    path = model_file.model_path(models)
    payload = model_file._loads(model_file._signed_body(path.read_bytes(), key))
    body = pickle.dumps({**payload, "format_version": 3})
    path.write_bytes(model_file.PICKLED_MAGIC + hmac.new(key, body, "sha256").digest() + body)
    for described in (models / "versions").glob("active*.json"):
        described.unlink()
    assert model_file.load_model(models, manager.model_key()) is None  # never used to rank
    assert model_file.is_outdated(models, manager.model_key())
    assert RatingBasedTrainer(manager, models).retrain_if_outdated()
    fresh = model_file.load_payload(models, manager.model_key())
    assert fresh is not None and fresh["format_version"] == model_file.FORMAT_VERSION
    assert not RatingBasedTrainer(manager, models).retrain_if_outdated()  # once
