"""Kick chat replay and live chat against loopback fakes (no packet leaves the machine)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from yt_dlp import YoutubeDL

from kickclip.chat import ChatMessage
from kickclip.chat.kick import CHAT_EVENT, LiveChat, fetch_vod_chat, ydl_opener
from servers import FakeApi

START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def _iso(t: float) -> str:
    return (START + timedelta(seconds=t)).isoformat().replace("+00:00", "Z")


def _record(n: int, t: float, user: str, content: str, kind: str = "message") -> dict:
    return {
        "id": f"msg-{n}",
        "chat_id": 42,
        "content": content,
        "type": kind,
        "created_at": _iso(t),
        "sender": {"id": n, "slug": user.lower(), "username": user},
    }


# t = -1 is before the VOD, 61 after it (duration 60 s); two messages share t = 2
HISTORY = [
    _record(0, -1.0, "early", "before"),
    _record(1, 1.0, "Ann", "hello"),
    _record(2, 2.0, "Bob", "[emote:37226:KEKW] [emote:37226:KEKW]"),
    _record(3, 2.0, "Cid", "lol"),
    _record(4, 3.5, "Ann", "clip it"),
    _record(5, 4.0, "Dee", "xd"),
    _record(6, 20.0, "Eve", "hi", kind="celebration"),
    _record(7, 30.0, "Bob", "W"),
    _record(8, 55.0, "Cid", "gg"),
    _record(9, 59.5, "Ann", "bye"),
    _record(10, 61.0, "late", "after"),
]
EXPECTED_T = [1.0, 2.0, 2.0, 3.5, 4.0, 20.0, 30.0, 55.0, 59.5]


class History(FakeApi):
    """A fake of ``/api/v2/channels/{id}/messages?start_time=…``.

    A page holds up to ``page_size`` messages from ``start_time`` (inclusive: the walk gets the
    last message of the previous page again) to ``start_time + span_s``. ``faults`` maps a
    request number (1-based) to an HTTP status, ``"html"``, ``"shape"`` or ``"slow"``.
    """

    def __init__(self, *, page_size: int = 3, span_s: float = 5.0, faults=None) -> None:
        self.page_size = page_size
        self.span_s = span_s
        self.faults = faults or {}
        super().__init__()

    def reply(self, path: str) -> tuple:
        fault = self.faults.get(len(self.requests))
        if isinstance(fault, int):
            return fault, b'{"message": "Forbidden"}'
        if fault == "html":
            return 200, b"<html>Just a moment...</html>", "text/html"
        if fault == "shape":
            return 200, json.dumps({"data": {"messages": "nope"}}).encode()
        if fault == "slow":
            time.sleep(3)
        return 200, self.page(path)

    def page(self, path: str) -> bytes:
        parts = urlsplit(path)
        assert parts.path == "/api/v2/channels/668/messages"
        since = datetime.fromisoformat(parse_qs(parts.query)["start_time"][0])
        until = since + timedelta(seconds=self.span_s)
        chosen = [r for r in HISTORY if since <= datetime.fromisoformat(r["created_at"]) < until][
            : self.page_size
        ]
        body = {
            "status": {"error": False, "code": 200, "message": "SUCCESS"},
            "data": {"messages": list(reversed(chosen)), "cursor": "1767268800000"},
        }
        return json.dumps(body).encode()


def _fetch(history: History, **kwargs):
    with YoutubeDL({"proxy": "", "quiet": True, "no_warnings": True}) as ydl:
        return fetch_vod_chat(
            668,
            START,
            60.0,
            urlopen=ydl_opener(ydl),
            base_url=history.base_url,
            pause_s=0,
            **kwargs,
        )


def test_vod_chat_walks_the_windows_and_drops_repeats():
    with History() as history:
        messages, warnings = _fetch(history)
    assert warnings == []
    assert [m.t for m in messages] == EXPECTED_T  # sorted, no repeats, none outside the VOD
    assert messages[0] == ChatMessage(1.0, "Ann", "hello", "message")
    assert {(m.user, m.text) for m in messages[1:3]} == {("Bob", "KEKW KEKW"), ("Cid", "lol")}
    assert {m.kind for m in messages if m.t == 20.0} == {"system"}
    starts = [parse_qs(urlsplit(p).query)["start_time"][0] for p in history.requests]
    assert starts[0] == "2026-01-01T12:00:00.000Z"
    moments = [datetime.fromisoformat(s) for s in starts]
    assert moments == sorted(moments) and len(set(moments)) == len(moments)
    assert moments[-1] < START + timedelta(seconds=60)
    assert len(history.requests) < 25  # windows move by the last message or by 5 s


def test_vod_chat_403_midway_keeps_what_came_before():
    with History(faults={3: 403}) as history:
        messages, warnings = _fetch(history)
    assert [m.t for m in messages] == [1.0, 2.0, 2.0, 3.5]
    assert warnings == [
        "Kick chat replay unavailable (HTTP 403 at 00:00:03): "
        "continuing with the 4 messages before it"
    ]
    assert len(history.requests) == 3


def test_vod_chat_403_at_once_gives_no_chat():
    with History(faults={1: 403}) as history:
        messages, warnings = _fetch(history)
    assert messages == []
    assert warnings == [
        "Kick chat replay unavailable (HTTP 403 at 00:00:00): continuing without chat"
    ]


@pytest.mark.parametrize(("fault", "reason"), [("html", "not JSON"), ("shape", "malformed page")])
def test_vod_chat_malformed_page_degrades(fault, reason):
    with History(faults={2: fault}) as history:
        messages, warnings = _fetch(history)
    assert [m.t for m in messages] == [1.0, 2.0, 2.0]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"Kick chat replay unavailable ({reason} at 00:00:02)")


def test_vod_chat_timeout_and_5xx_degrade():
    with History(faults={1: "slow"}) as history:
        started = time.monotonic()
        messages, warnings = _fetch(history, timeout_s=0.5)
    assert time.monotonic() - started < 3
    assert messages == []
    assert warnings[0].startswith("Kick chat replay unavailable (")
    assert "at 00:00:00): continuing without chat" in warnings[0]
    with History(faults={2: 503}) as history:
        messages, warnings = _fetch(history)
    assert len(messages) == 3
    assert "HTTP 503" in warnings[0]


def test_vod_chat_caps_the_requests():
    with History(page_size=1) as history:
        messages, warnings = _fetch(history, max_requests=3)
    assert len(history.requests) == 3
    # pages of one: t=1, t=1 again (nothing newer: +1 ms), t=2
    assert [m.t for m in messages] == [1.0, 2.0]
    assert warnings == [
        "Kick chat replay stopped after 3 requests at 00:00:02: chat after that is missing"
    ]


def test_vod_chat_small_pages_lose_nothing():
    # (a page must hold all the messages of one millisecond: start_time is all there is)
    with History(page_size=2) as history:
        messages, warnings = _fetch(history)
    assert warnings == []
    assert [m.t for m in messages] == EXPECTED_T


def test_vod_chat_skips_unreadable_messages_and_never_raises():
    def urlopen(request):
        raise RuntimeError("boom")

    messages, warnings = fetch_vod_chat(668, START, 60.0, urlopen=urlopen, pause_s=0)
    assert messages == []
    assert warnings == [
        "Kick chat replay unavailable (RuntimeError: boom at 00:00:00): continuing without chat"
    ]

    class Page:
        status = 200
        served = 0

        def read(self):
            Page.served += 1
            bad = [{"id": "x", "content": "no time", "sender": {"username": "a"}}, "text"]
            good = [_record(1, 1.0, "Ann", "hello")]
            messages = bad + good if Page.served == 1 else []
            return json.dumps({"data": {"messages": messages}}).encode()

    messages, warnings = fetch_vod_chat(668, START, 3.0, urlopen=lambda request: Page(), pause_s=0)
    assert messages == [ChatMessage(1.0, "Ann", "hello")]
    assert warnings == ["Kick chat replay: skipped 2 unreadable messages"]
    # nonsense arguments still give a warning, not an exception
    messages, warnings = fetch_vod_chat(668, "not a date", 60.0, urlopen=urlopen)  # type: ignore[arg-type]
    assert messages == [] and len(warnings) == 1


def test_vod_chat_default_network_goes_through_the_proxy(monkeypatch):
    """The default opener is yt-dlp's: with a proxy on a closed loopback port, nothing leaves."""
    for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    started = time.monotonic()
    messages, warnings = fetch_vod_chat(668, START, 3600.0, timeout_s=5)
    assert time.monotonic() - started < 10
    assert messages == []
    assert len(warnings) == 1
    assert warnings[0].startswith("Kick chat replay unavailable (")
    assert warnings[0].endswith("at 00:00:00): continuing without chat")


# --- live chat --------------------------------------------------------------------------------


class Pusher:
    """A fake of Kick's Pusher socket: handshake, subscribe, a ping, chat events, junk."""

    def __init__(self, frames: list[str]) -> None:
        from websockets.sync.server import serve

        self.frames = frames
        self.received: list[dict] = []
        self.done = threading.Event()
        self._server = serve(self._handle, "127.0.0.1", 0, compression=None)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _handle(self, connection) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            connection.send(
                json.dumps(
                    {
                        "event": "pusher:connection_established",
                        "data": json.dumps({"socket_id": "1.2", "activity_timeout": 120}),
                    }
                )
            )
            subscribe = json.loads(connection.recv(timeout=5))
            self.received.append(subscribe)
            channel = subscribe["data"]["channel"]
            connection.send(
                json.dumps(
                    {
                        "event": "pusher_internal:subscription_succeeded",
                        "data": "{}",
                        "channel": channel,
                    }
                )
            )
            connection.send(json.dumps({"event": "pusher:ping", "data": {}}))
            self.received.append(json.loads(connection.recv(timeout=5)))
            for frame in self.frames:
                connection.send(frame)
            self.done.set()
            while True:
                self.received.append(json.loads(connection.recv()))
        except (ConnectionClosed, TimeoutError):
            pass

    @property
    def url(self) -> str:
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/app/testkey?protocol=7&client=js&version=8.4.0"

    def __enter__(self) -> Pusher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._thread.join(5)


def _event(record) -> str:
    data = record if isinstance(record, str) else json.dumps(record)
    return json.dumps({"event": CHAT_EVENT, "data": data, "channel": "chatrooms.42.v2"})


def test_live_chat_records_messages_and_answers_pings():
    no_time = _record(4, 0, "Dee", "no time")
    del no_time["created_at"]
    frames = [
        _event(_record(1, 2.5, "Ann", "hello [emote:1:LUL]")),
        _event(_record(2, 4.0, "Bob", "lol")),
        _event(_record(2, 4.0, "Bob", "lol")),  # the same id again
        _event("{not json"),
        "not a frame at all",
        json.dumps({"event": "App\\Events\\FollowersUpdated", "data": "{}"}),
        _event(no_time),
    ]
    started_at = datetime.now(UTC) - timedelta(seconds=10)
    with Pusher(frames) as pusher:
        with LiveChat(42, started_at=started_at, ws_url=pusher.url) as chat:
            assert pusher.done.wait(5)
            deadline = time.monotonic() + 5
            while len(chat.messages) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert chat.subscribed.is_set()
        stopped = time.monotonic()
    assert time.monotonic() - stopped < 6
    assert pusher.received[0] == {
        "event": "pusher:subscribe",
        "data": {"auth": "", "channel": "chatrooms.42.v2"},
    }
    assert pusher.received[1]["event"] == "pusher:pong"
    assert chat.pongs == 1
    messages = chat.messages
    assert [(m.user, m.text) for m in messages] == [
        ("Ann", "hello LUL"),
        ("Bob", "lol"),
        ("Dee", "no time"),
    ]
    # created_at counts from the recording start; the message without it, from its arrival
    first, second, third = messages
    assert (first.t, second.t) == (
        (START + timedelta(seconds=2.5) - started_at).total_seconds(),
        (START + timedelta(seconds=4) - started_at).total_seconds(),
    )
    assert 9.5 < third.t < 30
    assert chat.warnings == ["Kick live chat: skipped 2 unreadable events"]
    assert not chat._thread.is_alive()


def test_live_chat_unreachable_degrades_to_a_warning():
    import socket

    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    chat = LiveChat(42, ws_url=f"ws://127.0.0.1:{port}/app/x", max_reconnects=1,
                    reconnect_delay_s=0.05)  # fmt: skip
    with chat:
        chat._thread.join(5)
    assert chat.messages == []
    assert len(chat.warnings) == 1
    assert chat.warnings[0].startswith("Kick live chat unavailable (")
    assert chat.warnings[0].endswith("): continuing without chat")


def test_live_chat_server_closing_keeps_what_arrived():
    frames = [_event(_record(1, 1.0, "Ann", "hi"))]

    class Closing(Pusher):
        def _handle(self, connection):
            connection.send(json.dumps({"event": "pusher:connection_established", "data": "{}"}))
            connection.recv(timeout=5)
            for frame in self.frames:
                connection.send(frame)
            self.done.set()
            connection.close()

    with Closing(frames) as pusher:
        chat = LiveChat(42, started_at=START, ws_url=pusher.url, max_reconnects=0)
        with chat:
            chat._thread.join(5)
    assert chat.messages == [ChatMessage(1.0, "Ann", "hi")]
    assert chat.warnings == [
        "Kick live chat unavailable (connection closed): continuing with the 1 messages before it"
    ]


def test_a_live_kick_channel_records_its_chat_with_the_stream(tmp_path, monkeypatch):
    """kick.com/<channel> live: the chatroom looked up, the chat recorded while the stream is,
    on the recording's clock; all on loopback (yt-dlp's info faked)."""
    from kickclip.chat import kick
    from kickclip.ingest import open_source, resolve
    from kickclip.records import Rendition
    from kickclip.settings import Settings
    from media import make_media
    from servers import Server, growing_playlist, make_hls

    make_media(tmp_path / "live.mp4", duration_s=40, bursts=[(3, 5)])
    playlist = make_hls(tmp_path / "live.mp4", tmp_path / "live")
    api = tmp_path / "api" / "v2" / "channels"
    api.mkdir(parents=True)
    (api / "somechannel").write_text(json.dumps({"slug": "somechannel", "chatroom": {"id": 42}}))
    frames = [
        json.dumps(
            {
                "event": CHAT_EVENT,
                "data": json.dumps(
                    {
                        "id": f"live-{n}",
                        "content": text,
                        "type": "message",
                        "sender": {"username": user},
                    }
                ),
                "channel": "chatrooms.42.v2",
            }
        )
        for n, (user, text) in enumerate([("Ann", "KEKW"), ("Bob", "clip it")])
    ]
    with (
        Server(tmp_path, dynamic={"stream.m3u8": growing_playlist(playlist)}) as server,
        Pusher(frames) as pusher,
    ):
        monkeypatch.setattr(kick, "KICK_BASE_URL", server.url("").rstrip("/"))
        monkeypatch.setattr(kick, "PUSHER_WS_URL", pusher.url)

        def live(url, **_):
            rendition = Rendition(server.url("stream.m3u8"), height=240)
            return resolve.Resolved("somechannel live", True, (rendition,), {})

        monkeypatch.setattr(resolve, "resolve", live)
        media = open_source(
            "https://kick.com/somechannel",
            Settings(out=tmp_path / "out", record_minutes=0.1, allow_private_addresses=True),
        )
    assert media.is_live and pusher.received[0]["data"]["channel"] == "chatrooms.42.v2"
    assert [(m.user, m.text) for m in media.chat] == [("Ann", "KEKW"), ("Bob", "clip it")]
    assert all(0 <= m.t < 10 for m in media.chat) and media.notes == ()


def test_no_chatroom_means_a_warning_not_a_failure(monkeypatch):
    from kickclip.chat import kick

    monkeypatch.setattr(kick, "KICK_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    with kick.live_chat_while("somechannel") as chat:
        pass
    assert chat.messages == []
    assert chat.warnings[0].startswith("Kick live chat unavailable (")
