"""Ratings per user: two people rate the same clips differently, and each one's queue,
statistics and model follow their own ratings, on both store backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import fill_store
from kickclip.cli import app
from kickclip.errors import InvalidInput
from kickclip.learn.trainer import RatingBasedTrainer
from kickclip.store.clip_manager import ClipManager


def _loudness(manager: ClipManager, clip_id: int) -> float:
    return manager.get_clip(clip_id).features["rms_db_z_max"]


def _rate_two_tastes(manager: ClipManager, ids: list[int]) -> None:
    """Alice likes loud clips and rates the first 20; Bob likes quiet ones and rates the
    last 20; the middle 10 both rated, in opposite directions."""
    for clip_id in ids[:20]:
        manager.rate_clip(clip_id, 1 + round(4 * _loudness(manager, clip_id)), user="alice")
    for clip_id in ids[10:]:
        manager.rate_clip(clip_id, 5 - round(4 * _loudness(manager, clip_id)), user="bob")


def test_each_user_has_their_own_ratings_queue_and_statistics(db_location: Path | str) -> None:
    manager, ids = fill_store(db_location, 30)
    _rate_two_tastes(manager, ids)
    unrated = {
        user: {clip.id for clip in manager.list_clips(100, unrated_only=True, user=user)}
        for user in ("alice", "bob", None)
    }
    assert unrated == {"alice": set(ids[20:]), "bob": set(ids[:10]), None: set(ids)}
    both = ids[15]
    alice, bob = (manager.get_clip(both, user=user).rating for user in ("alice", "bob"))
    assert alice + bob == 6  # opposite tastes of the same clip
    assert manager.get_clip(both).rating is None  # the default user rated nothing
    stats = {user: manager.get_statistics(user=user) for user in ("alice", "bob", None)}
    assert [stats[user]["rated_clips"] for user in ("alice", "bob", None)] == [20, 20, 0]
    assert stats["alice"]["total_clips"] == stats["bob"]["total_clips"] == 30
    assert manager.users() == {"alice": 20, "bob": 20}
    assert len(manager.everyones_ratings()) == 40
    # Rating again replaces that user's rating only; deleting a clip removes everyone's.
    manager.rate_clip(both, 3, 0.5, user="alice")
    assert manager.get_clip(both, user="alice").confidence == 0.5
    assert manager.get_clip(both, user="bob").rating == bob
    manager.delete_clips([both])
    assert manager.users() == {"alice": 19, "bob": 19}


def test_each_user_trains_their_own_model_and_a_newcomer_starts_shared(
    tmp_path: Path, db_location: Path | str
) -> None:
    manager, ids = fill_store(db_location, 30)
    _rate_two_tastes(manager, ids)
    models = tmp_path / "models"
    trainers = {user: RatingBasedTrainer(manager, models, user=user) for user in ("alice", "bob")}
    assert all(trainer.train_from_ratings() for trainer in trainers.values())
    assert (models / "users" / "alice").is_dir() and (models / "shared").is_dir()
    loud = {"rms_db_z_max": 0.95, "motion_mean": 0.5, "noise": 0.5}
    quiet = {"rms_db_z_max": 0.05, "motion_mean": 0.5, "noise": 0.5}
    alice, bob = trainers["alice"], trainers["bob"]
    assert alice.predict(loud, "audio") > alice.predict(quiet, "audio") + 0.3
    assert bob.predict(quiet, "audio") > bob.predict(loud, "audio") + 0.3
    assert alice.get_training_progress()["rated_clips"] == 20
    carol = RatingBasedTrainer(manager, models, user="carol")
    progress = carol.get_training_progress()
    assert progress["model_trained"] is False and progress["serving"] == "shared"
    assert carol.predict(loud, "audio") is not None  # the team's taste until carol has her own
    default = RatingBasedTrainer(manager, models)
    assert default.model is None  # the default user rated nothing, and is not served shared


@pytest.mark.parametrize("name", ["", "default", "Default"])
def test_default_user_names(db_location: Path | str, name: str) -> None:
    manager, ids = fill_store(db_location, 2)
    manager.rate_clip(ids[0], 4, user=name)
    assert manager.get_clip(ids[0]).rating == 4 and manager.users() == {}


def test_bad_user_name_changes_nothing(tmp_path: Path) -> None:
    manager, ids = fill_store(tmp_path / "clips.db", 2)
    with pytest.raises(InvalidInput, match="user name"):
        manager.rate_clip(ids[0], 4, user="a b; DROP TABLE clips")
    assert manager.users() == {} and manager.get_clip(ids[0]).rating is None


def test_cli_user_option_and_env(workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    manager, ids = fill_store(workspace.db, 6)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.stdout

    assert "as ana" in run("rate", str(ids[0]), "5", "--user", "ana")
    run("rate", str(ids[1]), "2", "--user", "ana")
    monkeypatch.setenv("KICKCLIP_USER", "bo")
    run("rate", str(ids[0]), "1")  # as bo, from the environment
    monkeypatch.delenv("KICKCLIP_USER")
    queue = {
        who: {c["id"] for c in json.loads(run("clips", "--unrated", "--json", *who))}
        for who in (("--user", "ana"), ("--user", "bo"), ())
    }
    assert queue[("--user", "ana")] == set(ids[2:])
    assert queue[("--user", "bo")] == set(ids[1:])
    assert queue[()] == set(ids)  # the default user rated nothing
    stats = json.loads(run("stats", "--json", "--user", "ana"))
    assert stats["statistics"]["rated_clips"] == 2 and stats["model"]["user"] == "ana"
    assert stats["statistics"]["average_rating"] == 3.5
    assert json.loads(run("stats", "--json"))["statistics"]["rated_clips"] == 0
    workspace.mark()
    result = runner.invoke(app, ["rate", str(ids[0]), "4", "--user", "no spaces please"])
    assert result.exit_code == 1 and result.stderr.startswith("Error: user name")
    assert workspace.unchanged() and manager.users() == {"ana": 2, "bo": 1}


def test_web_ui_logins_rate_as_themselves(tmp_path: Path) -> None:
    from gradio_client import Client

    from kickclip.settings import Settings
    from kickclip.webui import rate_tab
    from kickclip.webui.app import serve
    from test_webui import _free_port

    manager, _ = fill_store(tmp_path / "clips.db", 6)
    from PIL import Image

    for clip in manager.list_clips(10):
        Path(clip.filepath).parent.mkdir(exist_ok=True)
        Path(clip.filepath).write_bytes(b"a clip")
        Image.new("RGB", (16, 9)).save(Path(clip.filepath).with_suffix(".jpg"))
    settings = Settings(
        db=tmp_path / "clips.db", out=tmp_path / "output_clips", models_dir=tmp_path / "models"
    )
    port = _free_port()
    app_ = serve(settings, port=port, auth=[("ana", "a-pass"), ("bo", "b-pass")], block=False)
    try:
        ana = Client(f"http://127.0.0.1:{port}/", auth=("ana", "a-pass"), verbose=False)
        for _ in range(3):
            dropdown, _, _ = ana.predict([], api_name="/load_unrated")
            ana.predict(dropdown["value"], rate_tab.STARS[4], [], False, api_name="/rate")
        summary, _ = ana.predict(api_name="/stats")
        assert "Rating as **ana**" in summary and "**3** rated" in summary
        bo = Client(f"http://127.0.0.1:{port}/", auth=("bo", "b-pass"), verbose=False)
        _, _, status = bo.predict([], api_name="/load_unrated")
        assert "6 clips to rate" in status
        summary, _ = bo.predict(api_name="/stats")
        assert "Rating as **bo**" in summary and "**0** rated" in summary
        galleries = {
            name: " ".join(
                item["caption"] for item in client.predict(None, api_name="/refresh_gallery")[0]
            )
            for name, client in (("ana", ana), ("bo", bo))
        }
        assert galleries["ana"].count("★★★★★") == 3 and "★" not in galleries["bo"]
    finally:
        app_.close()
    assert manager.users() == {"ana": 3}
    assert manager.get_statistics()["rated_clips"] == 0  # not the default user's ratings


def test_auth_takes_several_logins_or_a_file(tmp_path: Path) -> None:
    from kickclip.cli import _logins

    logins = tmp_path / "logins.txt"
    logins.write_text("# the team\nana:a-pass\n\nbo:b:pass\n")
    assert _logins([str(logins)]) == [("ana", "a-pass"), ("bo", "b:pass")]
    assert _logins(["ana:1", "bo:2"]) == [("ana", "1"), ("bo", "2")]
    assert _logins(["default:1"]) == [("default", "1")]  # one login: the default user
    logins.write_text("ana:a-pass\nbo\n")
    result = CliRunner().invoke(app, ["serve", "--auth", str(logins)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {logins}, line 2: takes USER:PASS, e.g. ana:s3cret"
    for bad, message in ((["ana:1", "ana:2"], "named twice"), (["ana:1", "default:2"], "default")):
        with pytest.raises(InvalidInput, match=message):
            _logins(bad)


def test_automatic_training_retrains_the_shared_model_only_when_due(tmp_path: Path) -> None:
    from kickclip.learn.model_file import load_payload
    from kickclip.pipeline import rate

    manager, ids = fill_store(tmp_path / "clips.db", 70)
    _rate_two_tastes(manager, ids[:60])  # 70 ratings: alice 20, bob 50
    models = tmp_path / "models"
    alice = RatingBasedTrainer(manager, models, user="alice")
    alice.train_from_ratings()

    def shared_learned() -> int:
        return len(load_payload(models / "shared", manager.model_key())["training_data"]["ratings"])

    assert shared_learned() == 70
    for clip_id in ids[60:65]:  # alice's 5 new ratings retrain her model, not yet the shared one
        outcome = rate(manager, alice, clip_id, 4)
    assert outcome.trained and alice.get_training_progress()["rated_clips"] == 25
    assert shared_learned() == 70
    bob = RatingBasedTrainer(manager, models, user="bob")
    bob.train_from_ratings(shared=False)  # bob's own model first, so his ratings count from it
    assert shared_learned() == 70
    for clip_id in ids[60:65]:  # 10 new in all: more than a tenth of 70
        outcome = rate(manager, bob, clip_id, 2)
    assert outcome.trained and shared_learned() == 80


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_named_users_ratings_travel_through_export_and_import(
    tmp_path: Path, db_location: Path | str, suffix: str
) -> None:
    from kickclip.errors import ExchangeError
    from kickclip.store.exchange import export_clips, import_clips

    source, ids = fill_store(tmp_path / "source.db", 6)
    source.rate_clip(ids[0], 5, user="ana")
    source.rate_clip(ids[0], 2, 0.5, user="bo")
    source.rate_clip(ids[1], 4, user="bo")
    source.rate_clip(ids[1], 3)  # the default user's, as before
    export_clips(source, tmp_path / f"all{suffix}")
    target = ClipManager(db_location)
    summary = import_clips(target, tmp_path / f"all{suffix}")
    assert (summary.added, summary.user_ratings) == (6, 3)
    assert target.users() == {"ana": 1, "bo": 2}
    by_path = {clip.filepath: clip.id for clip in target.list_clips(10)}
    first, second = (by_path[source.get_clip(i).filepath] for i in ids[:2])
    assert target.get_clip(first, user="bo").rating == 2
    assert target.get_clip(first, user="bo").confidence == 0.5
    assert target.get_clip(second, user="bo").rating == 4
    assert target.get_clip(second).rating == 3 and target.get_clip(first).rating is None
    assert import_clips(target, tmp_path / f"all{suffix}").user_ratings == 0  # merged once
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"clips": [{**source.get_clip(ids[2]).to_json(), "user_ratings": {"cy": 7}}]})
    )
    before = target.user_ratings()
    with pytest.raises(ExchangeError, match="clip 1"):
        import_clips(target, bad)
    assert target.user_ratings() == before
