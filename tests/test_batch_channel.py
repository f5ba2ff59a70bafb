"""kickclip batch with a kick.com channel page: its VODs listed through yt-dlp's Kick extractor
from a fake Kick API on loopback (no packet leaves the machine), --since, --limit, and one
error line per channel that cannot be listed while the rest of the batch goes on."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import Workspace
from kickclip.batch import SourceOutcome, expand_sources
from kickclip.cli import app
from kickclip.errors import InvalidInput, SourceError, SourceUnreachable
from kickclip.ingest import channel
from kickclip.ingest.channel import channel_slug, list_vods, parse_since
from kickclip.ingest.sources import classify
from media import make_media
from servers import FakeApi

CHANNELS = {"somechannel": 4242, "broken": 7, "odd": 8}  # slug → Kick's channel id
OLD, MID, LIVE = (f"0f5c7a4e-1111-2222-3333-44445555666{n}" for n in (1, 2, 3))


def _vod(uuid: str, title: str, start: str, *, live: bool = False) -> dict:
    return {
        "id": uuid,
        "title": title,
        "start_time": start,
        "is_live": live,
        "status": "public",
        "duration": 0 if live else 3600,
        "channel": {"slug": "somechannel", "username": "SomeChannel"},
    }


# Kick lists them in no promised order: the oldest first here
VIDEOS = {
    "data": [
        _vod(OLD, "monday stream", "2026-01-05T18:00:00Z"),
        _vod(LIVE, "live right now", "2026-03-01T18:00:00Z", live=True),
        _vod(MID, "friday stream", "2026-02-06T18:00:00Z"),
    ]
}


class FakeKick(FakeApi):
    """Kick's API as yt-dlp's ``kick:videos`` extractor asks it: ``/api/v2/channels/<slug>``
    (the channel's id) and ``/api/v1/channels/<id>/videos``. ``blocked`` answers 403 (as
    Cloudflare does), ``broken`` lists its videos as HTML, ``odd`` as JSON of another shape;
    any other channel is unknown (404)."""

    def reply(self, path: str) -> tuple:
        if path.startswith("/api/v2/channels/blocked"):
            return 403, b"<html>Just a moment...</html>", "text/html"
        for slug, number in CHANNELS.items():
            if path == f"/api/v2/channels/{slug}":
                info = {"id": number, "slug": slug, "user": {"username": slug.title()}}
                return 200, json.dumps(info).encode()
            if path == f"/api/v1/channels/{number}/videos":
                if slug == "broken":
                    return 200, b"<html>not json</html>", "text/html"
                if slug == "odd":
                    return 200, json.dumps({"data": {"videos": "soon"}}).encode()
                return 200, json.dumps(VIDEOS).encode()
        return 404, b'{"message": "Not found"}'


@pytest.fixture
def kick(monkeypatch: pytest.MonkeyPatch):
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)  # loopback directly
    with FakeKick() as fake:
        monkeypatch.setattr(channel, "KICK_BASE_URL", fake.base_url)
        monkeypatch.setattr(channel, "KICK_WEB_URL", fake.base_url)
        yield fake


def _url(uuid: str) -> str:
    return f"https://kick.com/somechannel/videos/{uuid}"


@pytest.mark.parametrize(
    "page",
    [
        "https://kick.com/SomeChannel/videos",
        "kick.com/somechannel/videos/",
        "HTTPS://WWW.KICK.COM/somechannel/VIDEOS",
        "http://kick.com/somechannel/videos?sort=date",
    ],
)
def test_channel_page_forms(page: str) -> None:
    assert channel_slug(page) == "somechannel"


@pytest.mark.parametrize(
    "other",
    [
        "https://kick.com/somechannel",
        _url(OLD),
        "https://kick.com/somechannel/clips",
        "https://kick.com/video/" + OLD,
        "https://example.com/somechannel/videos",
        "ftp://kick.com/somechannel/videos",
        "somechannel/videos",
    ],
)
def test_other_sources_are_not_channel_pages(other: str) -> None:
    assert channel_slug(other) is None


def test_single_source_commands_still_refuse_the_list_page() -> None:
    with pytest.raises(InvalidInput, match="is a list of videos"):
        classify("kick.com/somechannel/videos")


def test_vods_newest_first_without_the_live_one(kick: FakeKick) -> None:
    vods = list_vods("somechannel")
    assert [vod.url for vod in vods] == [_url(MID), _url(OLD)]
    assert vods[0].started_at == datetime(2026, 2, 6, 18, tzinfo=UTC)
    assert vods[0].title == "friday stream"
    assert kick.requests == ["/api/v2/channels/somechannel", "/api/v1/channels/4242/videos"]


def test_limit_and_since(kick: FakeKick) -> None:
    assert [v.url for v in list_vods("somechannel", limit=1)] == [_url(MID)]
    since = parse_since("2026-02-01")
    assert [v.url for v in list_vods("somechannel", since=since)] == [_url(MID)]
    exactly = parse_since("2026-01-05T18:00:00Z")  # on or after: the VOD that starts then
    assert [v.url for v in list_vods("somechannel", since=exactly)] == [_url(MID), _url(OLD)]
    same = parse_since("2026-01-05T19:00+01:00")  # 18:00 UTC
    assert [v.url for v in list_vods("somechannel", since=same, limit=5)] == [_url(MID), _url(OLD)]
    assert list_vods("somechannel", since=parse_since("2026-03-02")) == []
    with pytest.raises(InvalidInput, match="is not an ISO date"):
        parse_since("last week")


@pytest.mark.parametrize(
    ("slug", "line"),
    [
        ("blocked", "kick.com channel blocked: kick.com refused to list its videos (HTTP 403)"),
        ("broken", "kick.com channel broken: kick.com's reply is not a list of videos"),
        ("odd", "kick.com channel odd: kick.com's reply is not a list of videos"),
        ("nobody", "kick.com channel nobody: no such channel on kick.com (HTTP 404)"),
    ],
)
def test_a_channel_that_cannot_be_listed_is_one_line(kick: FakeKick, slug: str, line: str) -> None:
    with pytest.raises(SourceError) as raised:
        list_vods(slug)
    assert str(raised.value).startswith(line)
    assert "\n" not in str(raised.value) and len(str(raised.value)) <= 200


def test_expansion_keeps_the_order_and_each_source_once(kick: FakeKick, tmp_path: Path) -> None:
    local = str(tmp_path / "vod.mp4")
    told = []
    plan = expand_sources(
        [local, "kick.com/blocked/videos", "https://kick.com/somechannel/videos", _url(OLD)],
        on_channel=lambda page, urls: told.append((page, urls)),
    )
    failed = plan.entries[1]
    assert isinstance(failed, SourceOutcome) and failed.source == "kick.com/blocked/videos"
    assert "HTTP 403" in failed.error
    assert plan.sources == [local, _url(MID), _url(OLD)]  # _url(OLD) given twice: run once
    assert told == [
        ("kick.com/blocked/videos", None),
        ("https://kick.com/somechannel/videos", [_url(MID), _url(OLD)]),
    ]
    ran = [SourceOutcome(source, clips=1) for source in reversed(plan.sources)]
    assert [o.source for o in plan.outcomes(ran)] == [
        local,
        "kick.com/blocked/videos",
        _url(MID),
        _url(OLD),
    ]


def test_offline_real_kick_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real kick.com through a proxy on a closed loopback port: nothing leaves here."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert channel.KICK_BASE_URL == "https://kick.com"
    with pytest.raises(SourceUnreachable) as raised:
        list_vods("somechannel")
    assert str(raised.value).startswith("kick.com channel somechannel: cannot reach kick.com: ")
    assert "\n" not in str(raised.value)
    result = CliRunner().invoke(app, ["batch", "https://kick.com/somechannel/videos", "--json"])
    assert result.exit_code == 1, result.output
    (outcome,) = json.loads(result.stdout)["sources"]
    assert outcome["source"] == "https://kick.com/somechannel/videos" and outcome["clips"] == 0
    assert outcome["error"].startswith("kick.com channel somechannel: cannot reach kick.com: ")


def test_batch_cli_channel_errors_spare_the_rest(
    kick: FakeKick, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kickclip import batch

    monkeypatch.setattr(batch, "ray_available", lambda: False)
    vod = make_media(tmp_path / "vod.mp4", duration_s=30, bursts=[(10, 12)])
    args = ["batch", "kick.com/blocked/videos", "kick.com/broken/videos", str(vod)]
    result = CliRunner().invoke(app, [*args, "--clip-duration", "6", "--json"])
    assert result.exit_code == 1, result.output
    outcomes = json.loads(result.stdout)["sources"]
    assert [o["source"] for o in outcomes] == args[1:]
    assert "HTTP 403" in outcomes[0]["error"] and "not a list" in outcomes[1]["error"]
    assert outcomes[2]["error"] is None and outcomes[2]["clips"] > 0
    assert "1 sources, 1 local worker process" in result.stderr

    bad = CliRunner().invoke(app, ["batch", "kick.com/somechannel/videos", "--since", "soon"])
    assert bad.exit_code == 1 and bad.stderr.strip().startswith("Error: --since")
    assert len(bad.stderr.strip().splitlines()) == 1
    bad = CliRunner().invoke(app, ["batch", "kick.com/somechannel/videos", "--limit", "0"])
    assert bad.exit_code == 2


def test_batch_of_a_channel_end_to_end(
    kick: FakeKick, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The channel's VODs listed by the fake API, each VOD address resolved (yt-dlp's VOD
    extractor faked: Kick's playback API is not pointable at loopback) to HLS served on
    loopback, analyzed and cut by the batch's worker processes; a rerun does no work."""
    import multiprocessing

    from kickclip import batch
    from kickclip.ingest import resolve
    from kickclip.records import Rendition
    from kickclip.store.clip_manager import ClipManager
    from servers import Server, make_hls

    monkeypatch.setattr(batch, "ray_available", lambda: False)
    # forked workers (not a fresh forkserver) so they see this test's fake resolution
    fork = multiprocessing.get_context("fork")
    monkeypatch.setattr(multiprocessing, "get_context", lambda method=None: fork)
    media = tmp_path / "media"
    for n, uuid in enumerate((OLD, MID)):
        source = make_media(
            tmp_path / f"{uuid}.mp4", duration_s=30, bursts=[(8 + 6 * n, 10 + 6 * n)]
        )
        make_hls(source, media / uuid)
    with Server(media) as server:

        def fake_resolve(url: str, **_: object) -> resolve.Resolved:
            uuid = url.rsplit("/", 1)[1]
            rendition = Rendition(server.url(f"{uuid}/index.m3u8"), height=96)
            return resolve.Resolved(f"vod {uuid}", False, (rendition,), {})

        monkeypatch.setattr(resolve, "resolve", fake_resolve)
        args = [
            "batch",
            "https://kick.com/somechannel/videos",
            "--since",
            "2026-01-01",
            "--workers",
            "2",
            "--clip-duration",
            "6",
            "--top",
            "2",
            "--json",
        ]
        first = CliRunner().invoke(app, args)
        assert first.exit_code == 0, first.output
        assert "https://kick.com/somechannel/videos: 2 VODs" in first.stderr
        outcomes = json.loads(first.stdout)["sources"]
        assert [o["source"] for o in outcomes] == [_url(MID), _url(OLD)]
        assert all(o["clips"] > 0 and o["error"] is None for o in outcomes)
        assert any(path.endswith(".ts") for path, _ in server.requests)
        stored = ClipManager(workspace.db).list_clips(limit=-1)
        assert len(stored) == sum(o["clips"] for o in outcomes)

        workspace.mark()
        again = CliRunner().invoke(app, [*args, "--limit", "1"])
        assert again.exit_code == 0, again.output
        (rerun,) = json.loads(again.stdout)["sources"]
        assert rerun["source"] == _url(MID) and rerun["reused"] == outcomes[0]["clips"]
        assert workspace.unchanged()
