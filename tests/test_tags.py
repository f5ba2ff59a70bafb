"""Tags: added and removed from the CLI, filtered on, shown in the gallery, exported, imported."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pytest
from typer.testing import CliRunner

from conftest import Workspace, fill_store
from kickclip.cli import app
from kickclip.errors import InvalidInput
from kickclip.records import clock
from kickclip.store.clip_manager import ClipManager
from kickclip.store.exchange import export_clips, import_clips


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def _json(*args: str):
    result = _run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_tag_untag_and_filter(workspace: Workspace) -> None:
    _, ids = fill_store(workspace.db, 6)
    assert _json("tag", str(ids[0]), "Funny", "clutch") == {
        "id": ids[0],
        "tags": ["clutch", "funny"],
    }
    assert _json("tag", str(ids[2]), "funny", "Big Play") == {
        "id": ids[2],
        "tags": ["big-play", "funny"],
    }
    tagged = _json("clips", "--tag", "funny")
    assert sorted(clip["id"] for clip in tagged) == sorted([ids[0], ids[2]])
    assert all("funny" in clip["tags"] for clip in tagged)
    assert [clip["id"] for clip in _json("clips", "--tag", "clutch")] == [ids[0]]
    assert _json("untag", str(ids[0]), "clutch") == {"id": ids[0], "tags": ["funny"]}
    assert _json("clips", "--tag", "clutch") == []
    untagged = [clip for clip in _json("clips") if clip["id"] == ids[1]]
    assert untagged[0]["tags"] == []
    listing = _run("clips", "--tag", "funny")
    assert listing.exit_code == 0 and "big-play funny" in listing.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tag", "1", "no!"], "only letters, digits"),
        (["tag", "1", "x" * 40], "longer than 32"),
        (["tag", "999", "funny"], "999"),
        (["tag", "abc", "funny"], "abc"),
        (["tag", "1", "  "], "cannot be empty"),
    ],
)
def test_bad_tags_change_nothing(workspace: Workspace, args: list[str], message: str) -> None:
    fill_store(workspace.db, 3)
    workspace.mark()
    result = _run(*args)
    assert result.exit_code == 1 and message in result.stderr
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert workspace.unchanged()
    assert _json("clips", "--tag", "funny") == []


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_tags_round_trip_through_export_and_import(tmp_path: Path, suffix: str) -> None:
    source, ids = fill_store(tmp_path / "a.db", 5, rated=2)
    source.tag_clip(ids[0], ["funny", "clutch"])
    source.tag_clip(ids[3], ["fail"])
    path = tmp_path / f"clips{suffix}"
    export_clips(source, path)

    target = ClipManager(tmp_path / "b.db")
    import_clips(target, path)
    by_span = {(c.start_time, c.tags) for c in target.list_clips(limit=-1)}
    assert by_span == {(c.start_time, c.tags) for c in source.list_clips(limit=-1)}

    # Merging into a clip already there adds the file's tags and keeps its own.
    existing = target.list_clips(limit=-1, tag="fail")[0]
    target.set_tags(existing.id, ["mine"])
    summary = import_clips(target, path)
    assert summary.added == 0
    assert target.get_clip(existing.id).tags == ("fail", "mine")


def test_gallery_shows_and_filters_tags(tmp_path: Path) -> None:
    from kickclip.settings import Settings
    from kickclip.webui import browse_tab

    settings = Settings(db=tmp_path / "clips.db", out=tmp_path / "output_clips")
    manager, ids = fill_store(settings.db, 4)
    settings.out.mkdir()
    for clip in manager.list_clips(limit=-1):  # thumbnails make a clip show in the gallery
        Path(clip.filepath).with_suffix(".jpg").write_bytes(b"\xff\xd8\xff\xd9")
    manager.tag_clip(ids[1], ["funny"])

    gallery, clips, tags = browse_tab.refresh_gallery(settings, "funny")
    funny = manager.get_clip(ids[1])
    assert [caption for _, caption in gallery] == [
        f"#{ids[1]} · {Path(funny.source_url or funny.filename).name} · "
        f"{clock(funny.start_time)}–{clock(funny.end_time)} · {funny.clip_type} · unrated · "
        f"score {funny.score:.2f} · funny"
    ]
    assert len(clips["choices"]) == 1 and tags["choices"] == [browse_tab.ALL_TAGS, "funny"]
    gallery, _, tags = browse_tab.refresh_gallery(settings, browse_tab.ALL_TAGS)
    assert len(gallery) == 4 and tags["value"] == browse_tab.ALL_TAGS

    stored, status = browse_tab.save_tags(settings, f"#{ids[2]} · x", "Clutch  fail")
    assert stored == "clutch fail" and "clutch fail" in status
    assert browse_tab.clip_tags(settings, f"#{ids[2]} · x") == "clutch fail"
    stored, _ = browse_tab.save_tags(settings, f"#{ids[2]} · x", "fail")
    assert manager.get_clip(ids[2]).tags == ("fail",)


def test_gallery_deletes_a_clip(tmp_path: Path) -> None:
    from kickclip.settings import Settings
    from kickclip.webui import browse_tab

    settings = Settings(db=tmp_path / "clips.db", out=tmp_path / "output_clips")
    manager, ids = fill_store(settings.db, 3)
    settings.out.mkdir()
    for clip in manager.list_clips(limit=-1):
        Path(clip.filepath).write_bytes(b"clip")
        Path(clip.filepath).with_suffix(".jpg").write_bytes(b"\xff\xd8\xff\xd9")
    target = manager.get_clip(ids[1])
    gallery, _, _, status = browse_tab.delete_clip(settings, f"#{ids[1]} · x", None)
    assert status == f"Deleted clip #{ids[1]}" and len(gallery) == 2
    assert not Path(target.filepath).exists() and target.thumbnail_path is None
    gallery, _, _, status = browse_tab.delete_clip(settings, browse_tab.DECLINED, None)
    assert status == "Nothing deleted." and len(gallery) == 2
    with pytest.raises(gr.Error, match="Choose a clip to delete first"):  # not silently nothing
        browse_tab.delete_clip(settings, None, None)
    assert len(manager.list_clips()) == 2


def test_a_tag_filter_keeps_the_chosen_clip_so_delete_acts_on_it(tmp_path: Path) -> None:
    from kickclip.settings import Settings
    from kickclip.webui import browse_tab
    from kickclip.webui.core import clip_label

    settings = Settings(db=tmp_path / "clips.db", out=tmp_path / "output_clips")
    manager, ids = fill_store(settings.db, 3)
    manager.tag_clip(ids[0], ["funny"])
    chosen = clip_label(manager.get_clip(ids[0]))
    _, clips, _ = browse_tab.refresh_gallery(settings, "funny", keep=chosen)
    assert clips["value"] == chosen
    _, clips, _ = browse_tab.refresh_gallery(
        settings, "funny", keep=clip_label(manager.get_clip(ids[1]))
    )
    assert clips["value"] is None  # filtered out: no longer chosen
    _, _, _, status = browse_tab.delete_clip(settings, chosen, "funny")
    assert status == f"Deleted clip #{ids[0]}"


def test_the_gallery_sorts_and_pages(tmp_path: Path) -> None:
    from kickclip.settings import Settings
    from kickclip.webui import browse_tab

    settings = Settings(db=tmp_path / "clips.db", out=tmp_path / "output_clips")
    manager, ids = fill_store(settings.db, 60)
    settings.out.mkdir()
    for clip in manager.list_clips(limit=-1):
        Path(clip.filepath).with_suffix(".jpg").write_bytes(b"\xff\xd8\xff\xd9")
    manager.rate_clip(ids[3], 5)
    manager.rate_clip(ids[7], 2)

    def shown(**options) -> list[int]:
        gallery, _, _ = browse_tab.refresh_gallery(settings, **options)
        return [int(caption.split(" ")[0].lstrip("#")) for _, caption in gallery]

    first, second = shown(), shown(page=2)
    assert browse_tab.page_count(settings, page=2)["label"] == "Page 2 of 2 (60 clips, 50 a page)"
    assert browse_tab.page_count(settings, "none-such")["label"].startswith("Page 1 of 1 (0 clips")
    assert len(first) == browse_tab.PAGE_SIZE and len(second) == 60 - browse_tab.PAGE_SIZE
    assert set(first).isdisjoint(second) and set(first) | set(second) == set(ids)
    assert first == sorted(first, reverse=True)  # newest first
    assert shown(sort="best rated first")[:2] == [ids[3], ids[7]]
    scores = {c.id: c.score for c in manager.list_clips(limit=None)}
    by_score = shown(sort="best score first")
    assert [scores[i] for i in by_score] == sorted(scores.values(), reverse=True)[:50]
    assert manager.count_clips() == 60 and manager.count_clips("nope") == 0
    with pytest.raises(InvalidInput, match="sort by one of"):
        manager.list_clips(sort="loudest")


def test_a_caption_names_the_channel_and_the_day_of_a_live_stream(tmp_path: Path) -> None:
    """A Kick stream's name (a watch's clips) and a live recording's read as the channel and
    the day, not as a cut-off stamp; a file reads as its name."""
    from kickclip.store.clip_manager import ClipManager
    from kickclip.webui.browse_tab import gallery_caption

    manager = ClipManager(tmp_path / "clips.db")
    sources = {
        "kick:somechannel@2026-12-05T19:46:40Z": "somechannel 2026-12-05",
        "https://kick.com/xqc@2026-12-03T20:00:00Z": "xqc 2026-12-03",
        str(tmp_path / "my stream.mp4"): "my stream.mp4",
    }
    for n, (source, shown) in enumerate(sources.items()):
        clip = tmp_path / f"clip{n}.mp4"
        clip.write_bytes(b"x")
        record, _ = manager.register_moment(clip, 60.0, 90.0, 0.7, "audio", {}, source)
        assert gallery_caption(record).startswith(f"#{record.id} · {shown} · 0:01:00–0:01:30 ·")
