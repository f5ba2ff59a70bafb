"""Rating confidence: stored with the rating, exported, and weighting it in training."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conftest import Workspace, fill_store
from kickclip.cli import app
from kickclip.learn import model_file
from kickclip.store.clip_manager import ClipManager
from kickclip.store.exchange import export_clips, import_clips


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def _clip(clip_id: int) -> dict:
    result = _run("clips", "--json", "--limit", "100")
    return next(clip for clip in json.loads(result.stdout) if clip["id"] == clip_id)


def test_confidence_is_stored_replaced_and_validated(workspace: Workspace) -> None:
    _, ids = fill_store(workspace.db, 3)
    result = _run("rate", str(ids[0]), "2", "--confidence", "0.5")
    assert result.exit_code == 0 and "confidence 0.5" in result.stdout
    assert (_clip(ids[0])["rating"], _clip(ids[0])["confidence"]) == (2, 0.5)
    assert _run("rate", str(ids[0]), "4").exit_code == 0  # rated again, fully sure
    assert (_clip(ids[0])["rating"], _clip(ids[0])["confidence"]) == (4, None)

    workspace.mark()
    for bad in ("0", "1.5", "-1", "nan"):
        result = _run("rate", str(ids[1]), "3", "--confidence", bad)
        assert result.exit_code == 1 and "confidence must be" in result.stderr, bad
    assert workspace.unchanged()


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_confidence_round_trips(tmp_path, suffix: str) -> None:
    source, ids = fill_store(tmp_path / "a.db", 4, rated=1)
    source.rate_clip(ids[2], 5, confidence=0.25)
    export_clips(source, tmp_path / f"out{suffix}")
    target = ClipManager(tmp_path / "b.db")
    import_clips(target, tmp_path / f"out{suffix}")
    assert sorted((c.start_time, c.rating, c.confidence) for c in target.list_clips()) == sorted(
        (c.start_time, c.rating, c.confidence) for c in source.list_clips()
    )


def test_training_uses_the_weights(workspace: Workspace) -> None:
    manager, ids = fill_store(workspace.db, 14, rated=12)
    manager.rate_clip(ids[12], 1, confidence=0.2)
    assert _run("train").exit_code == 0
    payload = model_file.load_payload(workspace.models, manager.model_key())
    by_id = dict(
        zip(payload["training_data"]["clip_ids"], payload["training_data"]["weights"], strict=True)
    )
    assert by_id[ids[12]] == 0.2 and by_id[ids[0]] == 1.0
