"""Model versions: every training kept with its metrics, one chosen, two compared fairly."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conftest import Workspace, fill_store
from kickclip.cli import app
from kickclip.learn import versions

DESIGN_KEYS = {"version", "active", "trained_at", "n_ratings", "cv_mae", "spearman", "per_type"}


def _run(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result


def _json(*args: str):
    result = _run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _rate(manager, ids) -> None:
    for clip_id in ids:
        features = manager.get_clip(clip_id).features
        manager.rate_clip(clip_id, 1 + round(4 * features["rms_db_z_max"]))


def test_versions_listed_chosen_and_compared(workspace: Workspace) -> None:
    manager, ids = fill_store(workspace.db, 40, rated=12)
    assert _run("train").exit_code == 0
    _rate(manager, ids[12:17])
    assert _run("train").exit_code == 0

    listed = _json("models")
    assert [v["version"] for v in listed] == [1, 2]
    assert set(listed[0]) >= DESIGN_KEYS
    assert [v["active"] for v in listed] == [False, True]
    assert [v["n_ratings"] for v in listed] == [12, 17]
    assert all(0 <= v["cv_mae"] <= 4 and -1 <= v["spearman"] <= 1 for v in listed)
    per_type = listed[1]["per_type"]
    assert per_type["audio"]["n_ratings"] + per_type["video"]["n_ratings"] == 17
    assert all(0 <= per_type[kind]["cv_mae"] <= 4 for kind in ("audio", "video"))
    assert -1 <= per_type["audio"]["spearman"] <= 1

    result = _run("models", "use", "1")
    assert result.exit_code == 0 and "version 1 is active" in result.stdout
    assert [v["active"] for v in _json("models")] == [True, False]
    stats = _json("stats")["model"]
    assert stats["active_version"] == 1
    # Counted from the choice, not from version 1's training: no retrain on the next rating.
    assert stats["next_auto_train_in"] == 5

    no_fresh = _run("models", "compare", "1", "2")
    assert no_fresh.exit_code == 1 and "neither version" in no_fresh.stderr
    _rate(manager, ids[17:25])  # ratings neither version was trained on
    compared = _json("models", "compare", "1", "2")
    assert compared["n_ratings"] == 8
    assert {compared["a"]["version"], compared["b"]["version"]} == {1, 2}
    for side in ("a", "b"):
        assert 0 <= compared[side]["mae"] <= 4
    assert compared["better"] in (1, 2, None)
    table = _run("models", "compare", "1", "2")
    assert table.exit_code == 0 and "On 8 ratings neither version saw" in table.stdout


def test_unknown_and_pruned_versions_are_refused(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(versions, "KEEP_MODELS", 2)
    fill_store(workspace.db, 20, rated=12)
    for _ in range(3):
        assert _run("train").exit_code == 0
    listed = _json("models")
    assert [(v["version"], v["kept"]) for v in listed] == [(1, False), (2, True), (3, True)]
    for version, message in (("1", "no model version 1"), ("9", "no model version 9")):
        result = _run("models", "use", version)
        assert result.exit_code == 1 and message in result.stderr
        assert result.stderr.count("\n") == 1
    assert [v["active"] for v in _json("models")] == [False, False, True]


def test_no_versions_yet(workspace: Workspace) -> None:
    assert _json("models") == []
    result = _run("models")
    assert result.exit_code == 0 and "No model versions yet" in result.stdout
