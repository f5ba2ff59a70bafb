"""Why this clip: `kickclip explain` and the View & Rate panel."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from conftest import Workspace, fill_store
from kickclip.cli import app
from kickclip.settings import Settings

runner = CliRunner()


def test_explain_names_the_signed_contributions(workspace: Workspace) -> None:
    manager, ids = fill_store(workspace.db, 30, rated=25)
    assert runner.invoke(app, ["train"]).exit_code == 0
    result = runner.invoke(app, ["explain", str(ids[-1]), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"id", "predicted_stars", "reason", "contributions"}
    assert data["id"] == ids[-1] and 1 <= data["predicted_stars"] <= 5
    contributions = data["contributions"]
    assert len(contributions) >= 3
    assert {"feature", "value", "effect"} == set(contributions[0])
    effects = [abs(c["effect"]) for c in contributions]
    assert effects == sorted(effects, reverse=True)
    # The ratings followed rms_db_z_max, so it moves the prediction most, in its direction.
    top = contributions[0]
    assert top["feature"] == "rms_db_z_max"
    loud = manager.get_clip(ids[-1]).features["rms_db_z_max"]
    assert (top["effect"] > 0) == (loud > 0.5)
    assert "your taste" in data["reason"]

    text = runner.invoke(app, ["explain", str(ids[-1])])
    assert text.exit_code == 0 and "rms_db_z_max" in text.stdout and "Predicted" in text.stdout


def test_explain_without_a_model_gives_the_detector_and_what_is_missing(
    workspace: Workspace,
) -> None:
    from kickclip.store.clip_manager import ClipManager

    manager = ClipManager(workspace.db)
    clip_id = manager.register_clip(
        filepath=workspace.out / "a.mp4",
        start_time=10,
        end_time=20,
        score=0.7,
        clip_type="audio",
        features={"rms_db_rise_max": 13.2, "rms_db_baseline": -27.4, "flux_z_max": 4.0},
    )
    data = json.loads(runner.invoke(app, ["explain", str(clip_id), "--json"]).stdout)
    assert data["predicted_stars"] is None and data["contributions"] == []
    assert "loudness +13.2 dB over the -27.4 dBFS around it" in data["reason"]
    assert "onsets 4.0σ" in data["reason"] and "10 more ratings" in data["reason"]


def test_explain_unknown_clip_is_one_line(workspace: Workspace) -> None:
    fill_store(workspace.db, 3)
    for bad in ("999", "seven"):
        result = runner.invoke(app, ["explain", bad])
        assert result.exit_code == 1
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error:")


def test_why_panel_in_view_and_rate(workspace: Workspace) -> None:
    from kickclip.webui.rate_tab import why_markdown

    _, ids = fill_store(workspace.db, 30, rated=25)
    assert runner.invoke(app, ["train"]).exit_code == 0
    settings = Settings(db=workspace.db, out=workspace.out, models_dir=workspace.models)
    panel = why_markdown(settings, f"#{ids[-1]} · something")
    assert panel.startswith("**Why this clip**") and "loudness: peak against usual" in panel
    assert "rms_db_z_max" not in panel  # the learner's names are put in words
    assert "effect (stars)" in panel


def test_evidence_in_plain_words_first() -> None:
    from kickclip.detect.evidence import feature_in_words, in_plain_words

    loud = {"rms_db_rise_max": 13.2, "flux_z_max": 4.0, "activity_kbits_rise_max": 0.1}
    assert in_plain_words(loud, "audio") == (
        "much louder than the talk around it, many sudden sounds (cheers, hits, shouts)"
    )
    crowd = {
        "chat_users_max": 38,
        "chat_users_rise_max": 2.0,
        "chat_laugh_z_max": 3.1,
        "rms_db_rise_max": 4.0,
        "activity_kbits_rise_max": 1.7,
    }
    assert in_plain_words(crowd, "chat") == (
        "38 people reacted in chat, chat laughed, louder than the talk around it, "
        "the picture changes fast"
    )
    assert in_plain_words({"rms_db_rise_max": 1.0}, "audio") == ""
    assert feature_in_words("chat_users_pct") == "chatters: rank in its stream"
    assert feature_in_words("video_strength") == "picture: strength"
    assert feature_in_words("said_liked") == "words your liked clips share"


def test_explain_names_the_chat_token_the_analysis_saw(tmp_path) -> None:
    import random
    import re

    import chatlog
    from kickclip import pipeline
    from kickclip.explain import explain
    from kickclip.learn.trainer import RatingBasedTrainer
    from kickclip.store.clip_manager import ClipManager
    from media import make_media

    source = make_media(tmp_path / "s.mp4", duration_s=240, bursts=[(60, 62)])
    rng = random.Random(0)
    raw = chatlog.chatter(rng, 240, rate=1.0, crowd=60)
    raw += chatlog.reaction(rng, 150, lag=5, people=25, kind="laugh")  # a joke: chat only
    chat = chatlog.write_jsonl(tmp_path / "chat.jsonl", raw)
    settings = Settings(
        db=tmp_path / "clips.db", out=tmp_path / "clips", models_dir=tmp_path / "models"
    )
    result = pipeline.generate(str(source), settings.replace(clip_duration=10, top=3, chat=chat))
    made = next(c for c in result.clips if c.highlight.clip_type == "chat")
    token = re.search(r", ([A-Z!]+ ×\d+)$", made.highlight.reason).group(1)
    manager = ClipManager(settings.db)
    explanation = explain(manager, RatingBasedTrainer(manager, settings.models_dir), made.clip_id)
    assert token in explanation.reason and "usually" in explanation.reason  # and its baseline
