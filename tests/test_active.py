"""The rating queue: newest first without a model; with one, informative and diverse first."""

from __future__ import annotations

import json
import random

from typer.testing import CliRunner

from conftest import Workspace
from kickclip.cli import app
from kickclip.learn.trainer import RatingBasedTrainer
from kickclip.store.clip_manager import ClipManager


def _register(manager: ClipManager, features: dict[str, float], i: int) -> int:
    return manager.register_clip(
        filepath=manager.db_path.parent / "output_clips" / f"clip{i}.mp4",
        start_time=10.0 * i,
        end_time=10.0 * i + 8,
        score=0.5,
        clip_type="audio",
        features=features,
    )


def _unrated_ids() -> list[int]:
    result = CliRunner().invoke(app, ["clips", "--unrated", "--json"])
    assert result.exit_code == 0, result.output
    return [clip["id"] for clip in json.loads(result.stdout)]


def test_queue_puts_the_unknown_first_and_repeats_last(workspace: Workspace) -> None:
    manager = ClipManager(workspace.db)
    rng = random.Random(0)
    rated = []
    for i in range(20):  # the rater has seen quiet-to-medium clips only
        features = {"loud": rng.uniform(0, 0.5), "motion": rng.uniform(0, 0.5)}
        clip_id = _register(manager, features, i)
        manager.rate_clip(clip_id, 1 + round(8 * features["loud"]))
        rated.append(features)
    repeats = [_register(manager, dict(rated[k]), 20 + k) for k in range(4)]
    novel = _register(manager, {"loud": 3.0, "motion": 3.0}, 30)
    twin = _register(manager, {"loud": 3.0, "motion": 3.01}, 31)
    other = _register(manager, {"loud": 3.0, "motion": -2.0}, 32)

    newest_first = _unrated_ids()
    assert newest_first == sorted(newest_first, reverse=True)  # no model yet

    assert RatingBasedTrainer(manager, workspace.models).train_from_ratings()
    queue = _unrated_ids()
    assert sorted(queue) == sorted(newest_first)  # the same clips, another order
    assert set(queue[:2]) & {novel, twin} and other in queue[:2]  # unlike anything rated
    assert set(queue[-4:]) == set(repeats)  # the rater has answered these already
