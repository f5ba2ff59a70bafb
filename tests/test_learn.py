"""Learning from ratings: alignment, per-type models, the model file, the auto-train policy."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from conftest import fill_store
from kickclip.errors import ModelError
from kickclip.learn.model import HighlightModel
from kickclip.learn.model_file import MODEL_FILENAME, load_model
from kickclip.learn.trainer import RatingBasedTrainer
from kickclip.pipeline import rate
from kickclip.records import Highlight
from kickclip.rescore import blend, model_weight


def _data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    features = [
        {"loud": float(a), "motion": float(b), "noise": float(c)} for a, b, c in rng.random((n, 3))
    ]
    kinds = ["audio" if i % 2 else "video" for i in range(n)]
    ratings = [1 + round(4 * f["loud"]) for f in features]
    return features, kinds, ratings


def test_model_learns_the_preference_and_stays_in_range() -> None:
    features, kinds, ratings = _data(60)
    model = HighlightModel().fit(features, kinds, ratings)
    assert set(model.models_) == {"shared", "audio", "video"}
    test_features, test_kinds, test_ratings = _data(200, seed=1)
    predicted = model.predict(test_features, test_kinds)
    assert predicted.min() >= 0 and predicted.max() <= 1
    assert np.corrcoef(predicted, test_ratings)[0, 1] > 0.8
    assert model.metrics_["cv_spearman"] > 0.6 and model.metrics_["cv_mae_stars"] < 1.0
    assert model.n_samples_ == 60 and model.n_samples_by_type_ == {"audio": 30, "video": 30}


def test_rare_type_falls_back_to_the_shared_model() -> None:
    features, _, ratings = _data(20)
    kinds = ["audio"] * 17 + ["video"] * 3
    model = HighlightModel().fit(features, kinds, ratings)
    assert set(model.models_) == {"shared", "audio"}
    assert 0 <= model.predict_one(features[0], "video") <= 1


def test_missing_and_extra_features_get_neutral_values() -> None:
    features, kinds, ratings = _data(30)
    model = HighlightModel().fit(features, kinds, ratings)
    for odd in ({}, {"loud": 0.9}, {"loud": float("nan")}, {"unknown": 5.0, "motion": "x"}):
        assert 0 <= model.predict_one(odd, "audio") <= 1


def test_trainer_saves_loads_and_predicts(tmp_path: Path) -> None:
    manager, _ = fill_store(tmp_path / "clips.db", 20, rated=9)
    trainer = RatingBasedTrainer(manager, tmp_path / "models")
    assert trainer.predict({"rms_db_z_max": 0.5}, "audio") is None
    assert trainer.train_from_ratings(min_samples=10) is False
    assert not (tmp_path / "models").exists()
    progress = trainer.get_training_progress()
    assert (progress["ready_for_training"], progress["needed"]) == (False, 1)
    manager.rate_clip(10, 3)
    assert trainer.train_from_ratings(min_samples=10) is True
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [MODEL_FILENAME, "versions"]
    high = trainer.predict({"rms_db_z_max": 0.95, "motion_mean": 0.5, "noise": 0.5}, "audio")
    low = trainer.predict({"rms_db_z_max": 0.05, "motion_mean": 0.5, "noise": 0.5}, "audio")
    assert 0 <= low < high <= 1
    progress = trainer.get_training_progress()
    assert progress["model_trained"] and progress["ratings_since_training"] == 0
    assert progress["metrics"]["n_samples"] == 10 and progress["last_trained_at"]
    # Another process's trainer (the web UI) sees the same model.
    assert RatingBasedTrainer(manager, tmp_path / "models").model is not None


@pytest.mark.parametrize(
    "content",
    [b"", b"not a pickle at all", b"\x80\x04\x95garbage", None],
    ids=["empty", "text", "truncated", "old-unsigned"],
)
def test_corrupt_model_file_means_no_model(tmp_path: Path, caplog, content) -> None:
    import joblib

    manager, _ = fill_store(tmp_path / "clips.db", 12, rated=12)
    path = tmp_path / "models" / MODEL_FILENAME
    path.parent.mkdir()
    if content is None:
        joblib.dump({"format_version": 1, "models": {}}, path)
    else:
        path.write_bytes(content)
    trainer = RatingBasedTrainer(manager, tmp_path / "models")
    with caplog.at_level(logging.WARNING):
        assert trainer.predict({"rms_db_z_max": 0.5}, "audio") is None
        assert load_model(tmp_path / "models", manager.model_key()) is None
    assert "model file" in caplog.text
    assert trainer.train_from_ratings() is True  # and a retrain replaces it
    assert trainer.predict({"rms_db_z_max": 0.5}, "audio") is not None
    aside = path.with_name(MODEL_FILENAME + ".foreign")
    assert aside.read_bytes() == (content if content is not None else aside.read_bytes())


def test_a_model_signed_by_another_library_is_not_loaded(tmp_path: Path) -> None:
    """Same folder, another database: its key does not match, so the file is not trusted."""
    ours, _ = fill_store(tmp_path / "ours.db", 12, rated=12)
    theirs, _ = fill_store(tmp_path / "theirs.db", 12, rated=12, seed=1)
    assert RatingBasedTrainer(theirs, tmp_path / "models").train_from_ratings()
    assert RatingBasedTrainer(theirs, tmp_path / "models").model is not None
    assert RatingBasedTrainer(ours, tmp_path / "models").model is None


def test_unwritable_models_dir_keeps_the_old_model(tmp_path: Path) -> None:
    manager, _ = fill_store(tmp_path / "clips.db", 12, rated=12)
    blocker = tmp_path / "models"
    blocker.write_text("a file, not a folder")
    with pytest.raises(ModelError, match="cannot write the model"):
        RatingBasedTrainer(manager, blocker).train_from_ratings()
    assert blocker.read_text() == "a file, not a folder"


def test_auto_train_at_ten_then_every_five(tmp_path: Path) -> None:
    manager, ids = fill_store(tmp_path / "clips.db", 24)
    trainer = RatingBasedTrainer(manager, tmp_path / "models")
    trained_after = []
    for count, clip_id in enumerate(ids, start=1):
        if rate(manager, trainer, clip_id, 1 + clip_id % 5).trained:
            trained_after.append(count)
    assert trained_after == [10, 15, 20]
    assert trainer.get_training_progress()["next_auto_train_in"] == 1


def test_failed_training_keeps_the_rating(tmp_path: Path, monkeypatch) -> None:
    manager, ids = fill_store(tmp_path / "clips.db", 12, rated=9)
    trainer = RatingBasedTrainer(manager, tmp_path / "models")

    def broken_fit(self, *args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(HighlightModel, "fit", broken_fit)
    outcome = rate(manager, trainer, ids[9], 5)
    assert outcome.trained is False and outcome.training_error == "boom"
    assert manager.get_clip(ids[9]).rating == 5


def _highlight(score: float, loud: float) -> Highlight:
    return Highlight(
        start_s=0, end_s=10, peak_s=4, score=score, clip_type="audio", features={"loud": loud}
    )


def test_blend_trusts_the_model_more_as_ratings_grow() -> None:
    assert model_weight(0) == 0 and model_weight(10) < model_weight(40) <= 0.8
    highlights = [_highlight(0.9, 0.0), _highlight(0.5, 1.0)]
    taste = lambda features, kind: features["loud"]  # noqa: E731
    few = blend(highlights, taste, 2)
    many = blend(highlights, taste, 200)
    assert [h.features["loud"] for h in few] == [0.0, 1.0]  # heuristic still leads
    assert [h.features["loud"] for h in many] == [1.0, 0.0]  # learned taste leads
    assert many[0].heuristic_score == 0.5 and many[0].score == pytest.approx(0.2 * 0.5 + 0.8)
    unchanged = blend(highlights, lambda f, k: None, 50)
    assert [h.score for h in unchanged] == [0.9, 0.5]


def test_sample_weight_is_a_ratings_confidence() -> None:
    features, kinds, ratings = _data(40)
    loud = {"loud": 0.95, "motion": 0.5, "noise": 0.5}
    # Five loud clips rated 1 star contradict the taste (loud = many stars).
    odd = [dict(loud, noise=0.1 * k) for k in range(5)]
    plain = HighlightModel(cv_folds=0).fit(features, kinds, ratings).predict_one(loud, "audio")

    def with_odd(weight: float) -> float:
        model = HighlightModel(cv_folds=0).fit(
            features + odd,
            kinds + ["audio"] * 5,
            ratings + [1] * 5,
            sample_weight=[1.0] * 40 + [weight] * 5,
        )
        return model.predict_one(loud, "audio")

    full, light = with_odd(1.0), with_odd(0.05)
    assert full < light <= plain + 1e-9
    assert plain - light < 0.5 * (plain - full)
    # All-equal weights are no weights; the cross-validation takes them too.
    same = HighlightModel().fit(features, kinds, ratings, sample_weight=[0.5] * 40)
    assert same.predict_one(loud, "audio") == pytest.approx(plain, abs=1e-6)
    assert same.metrics_["cv_spearman"] > 0.6


@pytest.mark.parametrize("weight", [[1.0] * 39, [1.0] * 41, [0.0] + [1.0] * 39, [-1.0] * 40])
def test_sample_weight_is_validated(weight) -> None:
    features, kinds, ratings = _data(40)
    with pytest.raises(ValueError, match="sample_weight"):
        HighlightModel().fit(features, kinds, ratings, sample_weight=weight)


def test_model_pickles_and_keeps_its_scalers() -> None:
    import pickle

    features, kinds, ratings = _data(30)
    model = HighlightModel(cv_folds=0).fit(features, kinds, ratings)
    again = pickle.loads(pickle.dumps(model))
    assert np.allclose(again.predict(features, kinds), model.predict(features, kinds))
    assert set(again.scalers_) == set(model.models_)
