"""The clip management guide's own snippets, run essentially verbatim in a fresh folder."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from conftest import fill_store


@pytest.fixture
def guide_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    fill_store(tmp_path / "clips.db", 24, rated=11)  # clips a user generated earlier
    return tmp_path


def test_guide_snippets(guide_folder: Path, capsys: pytest.CaptureFixture) -> None:
    # --- Programmatic Access ---
    from clip_manager import ClipManager
    from model_trainer import RatingBasedTrainer

    # Initialize
    manager = ClipManager()

    # Get statistics
    stats = manager.get_statistics()
    print(f"Total clips: {stats['total_clips']}")
    print(f"Average rating: {stats['average_rating']}")

    # Rate a clip
    manager.rate_clip(clip_id=1, rating=5)

    # Train model
    trainer = RatingBasedTrainer(manager)
    success = trainer.train_from_ratings(min_samples=10)

    assert "Total clips: 24" in capsys.readouterr().out
    assert success is True and (guide_folder / "models" / "highlight_model.pkl").is_file()
    assert manager.get_clip(1).rating == 5

    # --- Register Clips Manually ---
    clip_id = manager.register_clip(
        filepath="/path/to/clip.mp4",
        start_time=120.5,
        end_time=150.5,
        score=0.85,
        clip_type="audio",
        features={"rms_mean": 0.5, "tempo": 120},
        source_url="https://example.com/stream",
    )
    assert manager.get_clip(clip_id).duration == pytest.approx(30.0)

    # --- Custom Training Parameters ---
    # Adjust minimum samples required
    trainer.train_from_ratings(min_samples=20)

    # Get training progress
    progress = trainer.get_training_progress()
    print(f"Ready for training: {progress['ready_for_training']}")
    assert "Ready for training: True" in capsys.readouterr().out

    # --- Export Training Data ---
    # Get features and ratings for external analysis
    features, ratings = manager.get_training_data()

    # Export to CSV or other formats
    import pandas as pd

    df = pd.DataFrame(features)
    df["rating"] = ratings
    df.to_csv("training_data.csv", index=False)

    rows = list(csv.DictReader((guide_folder / "training_data.csv").open()))
    assert len(rows) == 11 and {"rms_db_z_max", "motion_mean", "rating"} <= set(rows[0])

    # --- Batch Rating ---
    def determine_rating(clip):
        return 5 if clip.features.get("rms_db_z_max", 0) > 0.5 else 2

    # Rate multiple clips at once
    clips = manager.get_clips_for_review(limit=50)
    for clip in clips:
        # Your rating logic here
        rating = determine_rating(clip)
        manager.rate_clip(clip.id, rating)

    assert len(clips) == 14
    assert manager.get_statistics()["unrated_clips"] == 0
    assert manager.get_clip(clip_id).rating == 2


def test_package_exports_the_same_classes() -> None:
    import clip_manager
    import kickclip
    import model_trainer

    assert kickclip.ClipManager is clip_manager.ClipManager
    assert kickclip.RatingBasedTrainer is model_trainer.RatingBasedTrainer
