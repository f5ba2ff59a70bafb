"""The everyday commands read the model's JSON description, not the model: ``stats``,
``models``, ``clips --unrated`` and a ``rate`` that does not retrain never import
scikit-learn; a missing, stale or foreign description falls back to the model file."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import Workspace, fill_store
from kickclip.learn import active, model_file
from kickclip.learn.model_file import META_FILENAME, TRAINING_FILENAME
from kickclip.learn.trainer import RatingBasedTrainer


def _described(models: Path) -> tuple[Path, Path]:
    return models / "versions" / META_FILENAME, models / "versions" / TRAINING_FILENAME


def _fresh(trainer: RatingBasedTrainer) -> dict:
    """Progress as a new process sees it (nothing kept from reading the model file before)."""
    model_file._loaded.clear()
    model_file._training.clear()
    return trainer.get_training_progress()


def test_training_writes_the_description_beside_the_model(tmp_path: Path) -> None:
    manager, _ = fill_store(tmp_path / "clips.db", 20, rated=12)
    trainer = RatingBasedTrainer(manager, tmp_path / "models")
    assert trainer.train_from_ratings()
    meta_path, training_path = _described(tmp_path / "models")
    meta = json.loads(meta_path.read_text())
    payload = model_file.load_payload(tmp_path / "models", manager.model_key())
    assert meta["version"] == payload["version"] == 1
    assert meta["n_ratings"] == 12 and meta["activated_at"] is None
    assert meta["trained_at"] == payload["training_data"]["trained_at"]
    assert meta["metrics"] == json.loads(json.dumps(payload["metrics"]))
    assert meta["model_bytes"] == (tmp_path / "models" / model_file.MODEL_FILENAME).stat().st_size
    training = json.loads(training_path.read_text())
    assert training["ratings"] == payload["training_data"]["ratings"]
    assert training["features"] == payload["training_data"]["features"]
    assert training["model_signature"] == meta["model_signature"]


def test_choosing_a_version_rewrites_the_description(tmp_path: Path) -> None:
    manager, ids = fill_store(tmp_path / "clips.db", 20, rated=12)
    trainer = RatingBasedTrainer(manager, tmp_path / "models")
    assert trainer.train_from_ratings()
    for clip_id in ids[12:16]:
        manager.rate_clip(clip_id, 2)
    assert trainer.train_from_ratings()
    meta_path, training_path = _described(tmp_path / "models")
    assert json.loads(meta_path.read_text())["version"] == 2
    trainer.use(1)
    meta = json.loads(meta_path.read_text())
    assert meta["version"] == 1 and meta["n_ratings"] == 12 and meta["activated_at"]
    assert len(json.loads(training_path.read_text())["ratings"]) == 12
    progress = _fresh(trainer)
    assert progress["active_version"] == 1 and progress["ratings_since_training"] == 0
    assert [v["version"] for v in trainer.versions() if v["active"]] == [1]


@pytest.mark.parametrize("spoil", ["missing", "stale", "tampered", "garbage"])
def test_a_description_that_does_not_match_falls_back_to_the_model(
    tmp_path: Path, spoil: str
) -> None:
    manager, ids = fill_store(tmp_path / "clips.db", 20, rated=12)
    trainer = RatingBasedTrainer(manager, tmp_path / "models")
    assert trainer.train_from_ratings()
    meta_path, _ = _described(tmp_path / "models")
    first = meta_path.read_bytes()  # describes version 1
    for clip_id in ids[12:16]:
        manager.rate_clip(clip_id, 2)
    assert trainer.train_from_ratings()
    manager.rate_clip(ids[0], 5)  # one rating since: the count must come out the same
    expected = _fresh(trainer)
    assert expected["active_version"] == 2 and expected["ratings_since_training"] == 1

    if spoil == "missing":
        meta_path.unlink()
    elif spoil == "stale":
        meta_path.write_bytes(first)  # signed by us, but for the file that was replaced
    elif spoil == "tampered":
        meta = json.loads(meta_path.read_text())
        meta["metrics"]["cv_mae_stars"] = 0.01
        meta_path.write_text(json.dumps(meta))
    else:
        meta_path.write_text("{not json")
    assert _fresh(trainer) == expected
    # The fallback wrote the description again: the next process reads it.
    assert json.loads(meta_path.read_text())["version"] == 2
    assert model_file._meta(tmp_path / "models", manager.model_key()) is not None


def test_another_librarys_description_is_not_trusted(tmp_path: Path) -> None:
    """A folder trained by another database, its description included: still "no model"."""
    ours, _ = fill_store(tmp_path / "ours.db", 12, rated=12)
    theirs, _ = fill_store(tmp_path / "theirs.db", 12, rated=12, seed=1)
    assert RatingBasedTrainer(theirs, tmp_path / "models").train_from_ratings()
    assert _described(tmp_path / "models")[0].is_file()
    progress = _fresh(RatingBasedTrainer(ours, tmp_path / "models"))
    assert progress["model_trained"] is False and progress["metrics"] is None
    assert RatingBasedTrainer(ours, tmp_path / "models").versions()[0]["active"] is False


def test_the_queue_is_the_same_from_the_description_and_from_the_model(tmp_path: Path) -> None:
    manager, _ = fill_store(tmp_path / "clips.db", 60, rated=25)
    trainer = RatingBasedTrainer(manager, tmp_path / "models")
    assert trainer.train_from_ratings()
    from_json = [clip.id for clip in trainer.review_queue(20)]
    _, training_path = _described(tmp_path / "models")
    training_path.unlink()
    model_file._training.clear()
    assert [clip.id for clip in trainer.review_queue(20)] == from_json
    assert training_path.is_file()  # written again from the model


def test_the_numpy_queue_space_is_scikit_learns() -> None:
    """``active`` ranks and fits ridges without scikit-learn; the numbers are the same."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import QuantileTransformer

    rng = random.Random(3)

    def rows(n: int) -> list[dict[str, float]]:
        # Ties (0.0, 1.0), missing values and a feature no rated clip has.
        return [
            {
                name: rng.choice([0.0, 1.0, rng.gauss(0, 1)])
                for name in ("a_z_max", "b_pct", "c_rise_max")
                if rng.random() > 0.2
            }
            for _ in range(n)
        ]

    for n in (3, 40, 250):
        train, candidates = rows(n), rows(30)
        train_types = [rng.choice(["audio", "video"]) for _ in train]
        candidate_types = [rng.choice(["audio", "video"]) for _ in candidates]
        candidates[0]["d_z_max"] = 2.0
        rated, scaled = active._space(train, train_types, candidates, candidate_types)

        names = sorted({name for row in train for name in row})
        matrix = np.array([[row.get(k, np.nan) for k in names] for row in train])
        other = np.array([[row.get(k, np.nan) for k in names] for row in candidates])
        video = np.array([[t == "video"] for t in train_types], dtype=float)
        other_video = np.array([[t == "video"] for t in candidate_types], dtype=float)
        reference = make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            QuantileTransformer(n_quantiles=max(2, min(100, n))),
        )
        np.testing.assert_allclose(rated, reference.fit_transform(np.hstack([matrix, video])))
        np.testing.assert_allclose(scaled, reference.transform(np.hstack([other, other_video])))

        y = np.array([rng.random() for _ in train])
        coef, intercept = active._ridge(rated, y, active.COMMITTEE_ALPHA)
        ridge = Ridge(alpha=active.COMMITTEE_ALPHA).fit(rated, y)
        np.testing.assert_allclose(scaled @ coef + intercept, ridge.predict(scaled), atol=1e-12)


_COMMAND = """
import json, sys
from typer.testing import CliRunner
from kickclip.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
print(json.dumps({"exit": result.exit_code, "stdout": result.stdout, "stderr": result.stderr,
                  "sklearn": "sklearn" in sys.modules, "scipy": "scipy" in sys.modules}))
"""


def _in_a_new_process(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _COMMAND, *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_everyday_commands_import_no_scikit_learn(workspace: Workspace) -> None:
    manager, ids = fill_store(workspace.db, 40, rated=15)
    trainer = RatingBasedTrainer(manager, workspace.models)
    assert trainer.train_from_ratings()
    expected_queue = [clip.id for clip in trainer.review_queue(10)]
    assert expected_queue != sorted(expected_queue, reverse=True)  # not merely newest first

    stats = _in_a_new_process("stats", "--json")
    assert stats["exit"] == 0 and not stats["sklearn"], stats
    model = json.loads(stats["stdout"])["model"]
    assert model["model_trained"] and model["active_version"] == 1
    assert model["metrics"]["n_samples"] == 15

    models = _in_a_new_process("models", "--json")
    assert models["exit"] == 0 and not models["sklearn"], models
    assert [v["active"] for v in json.loads(models["stdout"])] == [True]

    queue = _in_a_new_process("clips", "--unrated", "--limit", "10", "--json")
    assert queue["exit"] == 0 and not queue["sklearn"], queue
    assert [clip["id"] for clip in json.loads(queue["stdout"])] == expected_queue

    rated = _in_a_new_process("rate", str(ids[0]), "3")
    assert rated["exit"] == 0 and not rated["sklearn"], rated
    assert "Rated clip" in rated["stdout"] and "Retrain" not in rated["stdout"]
    assert not rated["scipy"]


def test_a_due_retrain_is_announced_before_it_runs(workspace: Workspace) -> None:
    manager, ids = fill_store(workspace.db, 40, rated=14)
    assert RatingBasedTrainer(manager, workspace.models).train_from_ratings()
    for clip_id in ids[14:18]:
        manager.rate_clip(clip_id, 4)
    rated = _in_a_new_process("rate", str(ids[18]), "3")  # the fifth since training
    assert rated["exit"] == 0, rated
    lines = rated["stdout"].splitlines()
    assert lines[0].startswith("Rated clip") and lines[1] == "Retraining on 19 ratings…"
    assert lines[2] == "Retrained the model with the new ratings."
    assert json.loads(_described(workspace.models)[0].read_text())["version"] == 2


def test_an_old_models_folder_still_works_and_gets_a_description(workspace: Workspace) -> None:
    """A folder from before the description existed: read from the model, then described."""
    manager, _ = fill_store(workspace.db, 20, rated=12)
    trainer = RatingBasedTrainer(manager, workspace.models)
    assert trainer.train_from_ratings()
    expected = _fresh(trainer)
    for path in _described(workspace.models):
        path.unlink()
    first = _in_a_new_process("stats", "--json")
    assert first["exit"] == 0 and first["sklearn"]  # this once, the model was unpickled
    assert json.loads(first["stdout"])["model"] == expected
    second = _in_a_new_process("stats", "--json")
    assert second["exit"] == 0 and not second["sklearn"], second
    assert json.loads(second["stdout"])["model"] == expected


def test_a_copied_models_folder_is_read_again(workspace: Workspace) -> None:
    """The description names the model file's size and signature, not its path or time."""
    manager, _ = fill_store(workspace.db, 20, rated=12)
    assert RatingBasedTrainer(manager, workspace.models).train_from_ratings()
    copy = workspace.root / "copied-models"
    shutil.copytree(workspace.models, copy)
    progress = _fresh(RatingBasedTrainer(manager, copy))
    assert progress["model_trained"] and progress["active_version"] == 1
    assert model_file._loaded == {}  # the model file itself was not read
