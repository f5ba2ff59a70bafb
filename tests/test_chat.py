"""Chat as a signal: every log format, clear errors, the audience's reactions found, spam not."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import chatlog
from conftest import Workspace
from kickclip import pipeline
from kickclip.chat import ChatMessage
from kickclip.chat.features import (
    DEFAULT_LAG_S,
    Reactions,
    audience_lag,
    chat_series,
    reactions,
)
from kickclip.chat.formats import parse_chat, read_chat
from kickclip.cli import app
from kickclip.errors import ChatError
from kickclip.settings import Settings
from media import make_media

SIMPLE = [
    {"t": 1.5, "user": "ann", "text": "hello"},
    {"t": 3.0, "user": "bob", "text": "KEKW"},
]


def _youtube_line(offset_ms: int, author: str, text: str, emoji: str | None = None) -> str:
    runs = [{"text": text}] + ([{"emoji": {"shortcuts": [f":{emoji}:"]}}] if emoji else [])
    item = {
        "liveChatTextMessageRenderer": {
            "message": {"runs": runs},
            "authorName": {"simpleText": author},
        }
    }
    action = {"addChatItemAction": {"item": item}}
    return json.dumps(
        {"replayChatItemAction": {"actions": [action], "videoOffsetTimeMsec": str(offset_ms)}}
    )


def _kick(created_at: str, user: str, content: str) -> dict:
    return {
        "id": user + created_at,
        "content": content,
        "type": "message",
        "created_at": created_at,
        "sender": {"username": user},
    }


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("chat.jsonl", "".join(json.dumps(m) + "\n" for m in SIMPLE)),
        ("chat.json", json.dumps(SIMPLE)),
        ("chat.csv", "t,user,text\n1.5,ann,hello\n3,bob,KEKW\n"),
        (
            "iso.json",
            json.dumps(
                [
                    {"time": "2026-05-01T20:00:00Z", "user": "ann", "text": "hello"},
                    {"time": "2026-05-01T20:00:01.5Z", "user": "bob", "text": "KEKW"},
                ]
            ),
        ),
        (
            "live_chat.json",
            _youtube_line(0, "ann", "hello")
            + "\n"
            + _youtube_line(1500, "bob", "", emoji="KEKW")
            + "\n"
            + json.dumps(
                {"replayChatItemAction": {"actions": [{"addLiveChatTickerItemAction": {}}]}}
            )
            + "\n",
        ),
        (
            "kick.json",
            json.dumps(
                [
                    _kick("2026-05-01T20:00:00Z", "ann", "hello"),
                    _kick("2026-05-01T20:00:01.5Z", "bob", "[emote:37226:KEKW]"),
                ]
            ),
        ),
        (
            "page.json",
            json.dumps(
                {
                    "data": {
                        "messages": [
                            _kick("2026-05-01T20:00:01.5Z", "bob", "[emote:37226:KEKW]"),
                            _kick("2026-05-01T20:00:00Z", "ann", "hello"),
                        ]
                    }
                }
            ),
        ),
    ],
)
def test_every_format_reads_the_same_two_messages(tmp_path: Path, name: str, content: str):
    path = tmp_path / name
    path.write_text(content)
    messages = read_chat(path, offset_s=10)
    assert [(m.user, m.text.strip()) for m in messages] == [("ann", "hello"), ("bob", "KEKW")]
    # Seconds are taken as they are; ISO times count from the first message. Then the offset.
    first = 11.5 if name in ("chat.jsonl", "chat.json", "chat.csv") else 10.0
    assert [m.t for m in messages] == pytest.approx([first, first + 1.5])


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ('{"t": 1, "user": "a", "text": "x"}\n{"t": 2, "user": "b", "text": \n', "line 2"),
        ('{"t": 1, "user": "a", "text": "x"}\n{"user": "b", "text": "y"}\n', "line 2"),
        ('[{"t": 1, "user": "a", "text": "x"}, {"t": "soon", "user": "b"}]', "record 2"),
        ("t,user,text\n1,a,x\nlater,b,y\n", "line 3"),
        ('[{"time": "yesterday", "user": "a", "text": "x"}]', "record 1"),
        ("just some words\n", "not a chat log"),
    ],
)
def test_a_malformed_log_is_one_error_line_and_writes_nothing(
    workspace: Workspace, tmp_path: Path, content: str, where: str
) -> None:
    source = make_media(tmp_path / "s.mp4", duration_s=20, bursts=[(8, 9)])
    chat = tmp_path / "bad.jsonl"
    chat.write_text(content)
    workspace.mark()
    result = CliRunner().invoke(app, ["generate", str(source), "--chat", str(chat)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: bad.jsonl") and where in result.stderr
    assert result.stderr.count("\n") == 1
    assert workspace.unchanged() and not workspace.db.exists()


def test_spam_is_not_a_reaction() -> None:
    rng = random.Random(1)
    raw = chatlog.single_user_flood(10) + chatlog.timer_bot(600) + chatlog.raid(rng, 100)
    raw += [
        {"t": 50.0, "user": "Nightbot", "text": "!discord"},
        {"t": 51.0, "user": "ann", "text": "!uptime"},
        {"t": 52.0, "user": "bob", "text": "!clip"},
        {"t": 53.0, "user": "cy", "text": "😂"},
    ]
    messages = parse_chat(json.dumps(raw))
    kept = reactions(messages)
    assert {m.user for m in kept} == {"spammer", "bob", "cy"}
    series = chat_series(messages, 600, 0.5)
    assert series.values["chat_users"].max() <= 2  # the flood is one person


def test_each_message_is_read_by_the_rules_though_all_are_read_at_once() -> None:
    """Texts are read joined and per distinct chunk: tricky texts still get the per-text rules
    (commands, greetings, laughter as a whole word, clip-it, shouting; out of ASCII too)."""
    cases = [  # text, kept, laughs, clip it, shouts
        ("KEKW", True, True, False, True),
        ("don't lol", True, True, False, False),
        ("naïve KEKW", True, True, False, False),  # 4 capitals of 8 ASCII letters
        ("Σ lol", True, True, False, False),
        ("lolipop", True, False, False, False),
        ("eclipse", True, False, False, False),
        ("clip's good", True, False, True, False),
        ("!clip", True, False, True, False),
        ("  !uptime", False, False, False, False),
        ("o/", False, False, False, False),
        ("hi hi 😂", False, False, False, False),
        ("😂", True, True, False, False),
        ("NO WAY!!", True, False, False, True),
        ("lol\x00 again", True, True, False, False),
        ("   ", False, False, False, False),
    ]
    messages = [ChatMessage(float(i), f"user{i}", text) for i, (text, *_) in enumerate(cases)]
    kept = [case for case in cases if case[1]]
    assert [m.text for m in reactions(messages)] == [case[0] for case in kept]
    read = Reactions(messages)
    assert read.laugh.tolist() == [case[2] for case in kept]
    assert read.clip.tolist() == [case[3] for case in kept]
    assert read.shout.tolist() == [case[4] for case in kept]


def test_audience_lag_is_found_from_the_sound() -> None:
    hop, n = 0.5, 1200
    sound = np.zeros(n)
    events = [100, 300, 520, 760, 1000]
    for e in events:
        sound[e : e + 4] = 12.0
    rng = random.Random(2)
    raw = chatlog.chatter(rng, n * hop, rate=0.5, crowd=40)
    for e in events:
        raw += chatlog.reaction(rng, e * hop, lag=7.0, people=20, kind="laugh")
    series = chat_series(parse_chat(json.dumps(raw)), n * hop, hop)
    assert audience_lag(series.values["chat_users"], sound, hop) == pytest.approx(7.0, abs=1.5)
    assert audience_lag(series.values["chat_users"], np.zeros(n), hop) == DEFAULT_LAG_S


def test_chat_only_moments_become_highlights_and_spam_does_not(tmp_path: Path) -> None:
    source = make_media(tmp_path / "s.mp4", duration_s=420, bursts=[(60, 62), (250, 252)])
    rng = random.Random(0)
    raw = chatlog.chatter(rng, 420, rate=1.0, crowd=60)
    for t in (60, 250):  # sound and chat
        raw += chatlog.reaction(rng, t, lag=5, people=25, kind="hype")
    jokes = (150, 340)  # chat only: no change in the sound
    for t in jokes:
        raw += chatlog.reaction(rng, t, lag=5, people=25, kind="laugh")
    raw += chatlog.single_user_flood(200) + chatlog.timer_bot(420) + chatlog.raid(rng, 300)
    chat = chatlog.write_jsonl(tmp_path / "chat.jsonl", raw)
    settings = Settings(clip_duration=10, min_gap=20, top=5)

    without = pipeline.analyze(str(source), settings)
    found = pipeline.analyze(str(source), settings.replace(chat=chat))
    assert not any(h.clip_type == "chat" for h in without.highlights)
    sides = [h for h in found.highlights if h.clip_type != "chat"]
    # Without chat, results unchanged; with it, the same sound highlights, plus chat features.
    assert [(h.peak_s, h.score) for h in sides] == [(h.peak_s, h.score) for h in without.highlights]
    assert all(h.features["chat_users_max"] >= 0 for h in sides)
    chat_ones = sorted(
        (h for h in found.highlights if h.clip_type == "chat"), key=lambda h: h.score, reverse=True
    )
    for joke in jokes:
        assert any(h.start_s <= joke <= h.end_s for h in chat_ones), joke
    top_half = chat_ones[: max(1, len(chat_ones) // 2)]
    for decoy in (200, 300):  # one user's flood, the raid; the bot posts all along
        assert not any(h.start_s - 5 <= decoy <= h.end_s for h in top_half), decoy
    assert "people" in chat_ones[0].reason and "laughter" in " ".join(h.reason for h in top_half)
    assert re.search(r", [A-Z!]+ ×\d+$", chat_ones[0].reason), chat_ones[0].reason
    assert chat_ones[0].features["rms_db_rise_max"] is not None  # the sound, for the learner


def test_chat_message_record() -> None:
    assert ChatMessage(1.0, "a", "b").kind == "message"
    with pytest.raises(ChatError, match="chat file not found"):
        read_chat("/nonexistent/chat.jsonl")


def test_a_kick_vod_replays_its_own_chat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """yt-dlp's Kick VOD info (channel id, start) leads to the chat replay; no network here."""
    from datetime import UTC, datetime

    from kickclip.chat import kick
    from kickclip.ingest import resolve
    from kickclip.records import Rendition

    local = make_media(tmp_path / "vod.mp4", duration_s=240, bursts=[(60, 62)])
    began = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)

    def fake_resolve(url: str, **_: object) -> resolve.Resolved:
        rendition = Rendition(str(local), height=240, has_audio=True, has_video=True)
        return resolve.Resolved("a vod", False, (rendition,), {}, "4242", began)

    rng = random.Random(4)
    raw = chatlog.chatter(rng, 240, rate=1.0, crowd=50)
    raw += chatlog.reaction(rng, 150, lag=5, people=25, kind="laugh")
    calls = []

    def fake_fetch(channel_id, start, duration_s, **options):
        calls.append((channel_id, start, round(duration_s)))
        return parse_chat(json.dumps(raw)), ["Kick chat replay unavailable after 00:03:50"]

    monkeypatch.setattr(resolve, "resolve", fake_resolve)
    monkeypatch.setattr(kick, "fetch_vod_chat", fake_fetch)
    url = "https://kick.com/somechannel/videos/0b5c7a8e-1d2f-4a3b-9c8d-7e6f5a4b3c2d"
    found = pipeline.analyze(url, Settings(clip_duration=10, min_gap=20, top=5))
    assert calls == [("4242", began, 240)]
    assert "Kick chat replay unavailable after 00:03:50" in found.warnings
    assert any(h.clip_type == "chat" and h.start_s <= 150 <= h.end_s for h in found.highlights)
