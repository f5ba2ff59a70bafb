"""Kick's own chat: the VOD chat replay (history endpoint) and live chat (Pusher WebSocket).

Both are unofficial, undocumented endpoints of Kick's web client; they change without notice and
Cloudflare may refuse them. So neither ever fails a run: a failure becomes one warning line and
the messages gathered until then (possibly none).

- :func:`fetch_vod_chat` polls ``{base_url}/api/v2/channels/{channel_id}/messages?start_time=…``
  in time windows from the VOD's start to its end, through yt-dlp's networking (its
  impersonation, cookies and proxy settings apply). ``channel_id`` and the start come from
  yt-dlp's Kick VOD extractor (``channel_id`` and ``timestamp`` of the info dict).
- :class:`LiveChat` records the channel's chatroom from Kick's public Pusher WebSocket while a
  live stream is recorded.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from kickclip.chat import ChatMessage
from kickclip.chat.formats import KICK_EMOTE

# Kick's web client connects to Pusher with this public app key on the "us2" cluster (it is in
# the JavaScript kick.com serves to every visitor and in every public Kick chat client; not a
# secret). Kick has changed it before (an older one was eb1d5f283081a78b932c): if live chat stops
# arriving, look at the key the kick.com page uses today.
PUSHER_APP_KEY = "32cbd69e4b950bf97679"
PUSHER_WS_URL = (
    f"wss://ws-us2.pusher.com/app/{PUSHER_APP_KEY}?protocol=7&client=js&version=8.4.0&flash=false"
)
CHAT_EVENT = "App\\Events\\ChatMessageEvent"

DEFAULT_WINDOW_S = 5.0  # how far to move on when a window holds no message
DEFAULT_MAX_REQUESTS = 4000  # ~5.5 h of empty 5 s windows; busy chat advances faster per request
DEFAULT_TIMEOUT_S = 20.0

Opener = Callable[[Any], Any]  # yt_dlp.networking.Request → a response with .read()


# --- one Kick message object → ChatMessage -------------------------------------------------


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):  # fromisoformat of Python 3.11 takes Z, but be explicit
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def kick_message(
    record: Mapping[str, Any], origin: datetime, *, received: datetime | None = None
) -> ChatMessage:
    """A Kick message object as a :class:`ChatMessage`, ``t`` in seconds after ``origin``.

    The time is the message's ``created_at``, else ``received``; neither → ``ValueError``. The
    same reading as ``formats``' Kick records: emotes ``[emote:123:KEKW]`` become ``KEKW``,
    types other than message/reply are ``system``.
    """
    if not isinstance(record, Mapping):
        raise ValueError(f"expected a message object, got {type(record).__name__}")
    sender = record.get("sender") or {}
    if not isinstance(sender, Mapping):
        raise ValueError("sender must be an object")
    content = record.get("content")
    if content is not None and not isinstance(content, str | int | float):
        raise ValueError("content must be text")
    user = sender.get("username") or sender.get("slug") or ""
    if not isinstance(user, str | int):
        raise ValueError("sender.username must be text")
    moment = _moment(record.get("created_at")) or received
    if moment is None:
        raise ValueError("message has no created_at")
    kind = "message" if record.get("type", "message") in ("message", "reply") else "system"
    text = KICK_EMOTE.sub(r"\1", "" if content is None else str(content))
    return ChatMessage((moment - origin).total_seconds(), str(user), text, kind)


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- VOD replay ------------------------------------------------------------------------------


def ydl_opener(ydl: Any) -> Opener:
    """``ydl.urlopen`` asking for browser impersonation when yt-dlp has a target (curl_cffi).

    Kick's API sits behind Cloudflare; yt-dlp's own Kick extractor impersonates a browser for
    the same reason. Without an available target the request goes out plain.
    """
    target = None
    with contextlib.suppress(Exception):  # a private yt-dlp helper: tolerate its absence
        target, _ = ydl._parse_impersonate_targets(True)

    def urlopen(request: Any) -> Any:
        if target is not None:
            request.extensions.setdefault("impersonate", target)
        return ydl.urlopen(request)

    return urlopen


class _Unavailable(Exception):
    """One reason the replay stopped, worded for the warning line."""


def _reason(error: BaseException) -> str:
    status = getattr(error, "status", None)
    if isinstance(status, int):
        return f"HTTP {status}"
    name = type(error).__name__
    if isinstance(error, TimeoutError) or "timeout" in name.lower() or "timed out" in str(error):
        return "timed out"
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if len(text) > 100:
        text = text[:99].rstrip() + "…"
    return f"{name}: {text}" if text else name


def _page(
    urlopen: Opener, url: str, timeout_s: float
) -> tuple[list[Any], Any]:  # (messages, cursor)
    from yt_dlp.networking import Request

    request = Request(
        url, headers={"Accept": "application/json"}, extensions={"timeout": timeout_s}
    )
    try:
        response = urlopen(request)
        try:
            status = getattr(response, "status", 200)
            if isinstance(status, int) and status >= 400:
                raise _Unavailable(f"HTTP {status}")
            body = response.read()
        finally:
            with contextlib.suppress(Exception):
                response.close()
    except _Unavailable:
        raise
    except Exception as error:  # yt-dlp's RequestError family, OSError, anything a fake raises
        raise _Unavailable(_reason(error)) from None
    try:
        page = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _Unavailable("not JSON") from None
    if not isinstance(page, Mapping):
        raise _Unavailable("malformed page")
    status = page.get("status")
    if isinstance(status, Mapping) and status.get("error"):
        raise _Unavailable(f"error {status.get('code', '')} {status.get('message', '')}".strip())
    data = page.get("data")
    messages = data.get("messages") if isinstance(data, Mapping) else None
    if not isinstance(messages, list):
        raise _Unavailable("malformed page")
    return messages, data.get("cursor")


def fetch_vod_chat(
    channel_id: int | str,
    start: datetime,
    duration_s: float,
    *,
    urlopen: Opener | None = None,
    base_url: str = "https://kick.com",
    window_s: float = DEFAULT_WINDOW_S,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    pause_s: float = 0.05,
) -> tuple[list[ChatMessage], list[str]]:
    """A Kick VOD's chat replay: (messages sorted by ``t`` from ``start``, warning lines).

    Walks Kick's chat history from ``start`` to ``start + duration_s``: each request asks for the
    messages from a moment on; the next asks from the latest message it got (ids already seen are
    dropped), or ``window_s`` later when a window is empty. At most ``max_requests`` requests
    (a warning says where it stopped). ``urlopen`` takes a ``yt_dlp.networking.Request``; by
    default a fresh ``YoutubeDL``'s (environment proxies apply). Never raises: an HTTP error,
    timeout or unreadable page ends the walk with one warning and what was gathered.
    """
    warnings: list[str] = []
    try:
        start = _utc(start)
        duration_s = float(duration_s)
        if urlopen is not None:
            return _walk(
                urlopen, channel_id, start, duration_s, base_url, window_s, max_requests,
                timeout_s, pause_s, warnings,
            )  # fmt: skip
        from yt_dlp import YoutubeDL

        with YoutubeDL({"quiet": True, "no_warnings": True, "noprogress": True}) as ydl:
            return _walk(
                ydl_opener(ydl), channel_id, start, duration_s, base_url, window_s,
                max_requests, timeout_s, pause_s, warnings,
            )  # fmt: skip
    except Exception as error:  # a last guard: chat must never fail the run
        warnings.append(f"Kick chat replay unavailable ({_reason(error)}): continuing without chat")
        return [], warnings


def _walk(
    urlopen: Opener,
    channel_id: int | str,
    start: datetime,
    duration_s: float,
    base_url: str,
    window_s: float,
    max_requests: int,
    timeout_s: float,
    pause_s: float,
    warnings: list[str],
) -> tuple[list[ChatMessage], list[str]]:
    end = start + timedelta(seconds=max(0.0, duration_s))
    step = timedelta(seconds=max(0.5, window_s))
    tiny = timedelta(milliseconds=1)  # start_time has millisecond precision
    seen: set[str] = set()
    found: list[ChatMessage] = []
    skipped = 0
    cursor = start
    requests = 0
    base = base_url.rstrip("/")
    while cursor < end:
        if requests >= max_requests:
            warnings.append(
                f"Kick chat replay stopped after {requests} requests at "
                f"{_clock((cursor - start).total_seconds())}: chat after that is missing"
            )
            break
        if requests and pause_s > 0:
            time.sleep(pause_s)
        requests += 1
        url = f"{base}/api/v2/channels/{channel_id}/messages?start_time={_iso(cursor)}"
        try:
            records, _ = _page(urlopen, url, timeout_s)
        except _Unavailable as error:
            at = _clock((cursor - start).total_seconds())
            rest = (
                "continuing without chat"
                if not found
                else f"continuing with the {len(found)} messages before it"
            )
            warnings.append(f"Kick chat replay unavailable ({error} at {at}): {rest}")
            break
        latest = cursor
        for record in records:
            key = record.get("id") if isinstance(record, Mapping) else None
            key = None if key is None else str(key)
            if key is not None and key in seen:  # a window overlaps the one before it
                with contextlib.suppress(ValueError, TypeError, AttributeError):
                    latest = max(latest, start + timedelta(seconds=kick_message(record, start).t))
                continue
            if key is not None:
                seen.add(key)
            try:
                message = kick_message(record, start)
            except (ValueError, TypeError, AttributeError):
                skipped += 1
                continue
            latest = max(latest, start + timedelta(seconds=message.t))
            if 0.0 <= message.t <= duration_s:
                found.append(message)
        # The next window starts at the latest message seen (its instant again: the page may
        # have stopped in the middle of messages sharing it; repeats are dropped by id). A page
        # with nothing newer moves on by a millisecond, an empty one by a whole step.
        if latest > cursor:
            cursor = latest
        else:
            cursor += tiny if records else step
    if skipped:
        warnings.append(f"Kick chat replay: skipped {skipped} unreadable messages")
    found.sort(key=lambda message: message.t)
    return found, warnings


# --- live chat -------------------------------------------------------------------------------


class LiveChat:
    """Kick live chat while recording: ``with LiveChat(chatroom_id) as chat: …``.

    A background thread connects to Kick's public Pusher WebSocket, subscribes to
    ``chatrooms.<id>.v2`` and keeps every chat message, ``t`` in seconds after ``started_at``
    (default: when the block is entered) from the message's ``created_at``, else its arrival.
    ``pusher:ping`` is answered with ``pusher:pong``. A dropped connection is retried a few times;
    a failure leaves a line in :attr:`warnings` and the messages received so far.
    """

    def __init__(
        self,
        chatroom_id: int | str,
        *,
        started_at: datetime | None = None,
        ws_url: str = PUSHER_WS_URL,
        open_timeout_s: float = 10.0,
        max_reconnects: int = 5,
        reconnect_delay_s: float = 2.0,
    ) -> None:
        self.chatroom_id = chatroom_id
        self.channel = f"chatrooms.{chatroom_id}.v2"
        self.started_at = _utc(started_at) if started_at else None
        self.ws_url = ws_url
        self.open_timeout_s = open_timeout_s
        self.max_reconnects = max_reconnects
        self.reconnect_delay_s = reconnect_delay_s
        self.warnings: list[str] = []
        self.subscribed = threading.Event()
        self.pongs = 0
        self._messages: list[ChatMessage] = []
        self._seen: set[str] = set()
        self._skipped = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: Any = None

    @property
    def messages(self) -> list[ChatMessage]:
        """The messages so far, sorted by ``t``."""
        with self._lock:
            return sorted(self._messages, key=lambda message: message.t)

    def start(self) -> LiveChat:
        if self.started_at is None:
            self.started_at = datetime.now(UTC)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kick-live-chat", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        connection = self._connection
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._skipped:
            self._warn(f"Kick live chat: skipped {self._skipped} unreadable events")
            self._skipped = 0

    def __enter__(self) -> LiveChat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _warn(self, line: str) -> None:
        with self._lock:
            if line not in self.warnings:
                self.warnings.append(line)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._session()
                if self._stop.is_set():
                    return
                reason = "connection closed"
            except Exception as error:  # never let the thread die with a traceback
                if self._stop.is_set():
                    return
                reason = _reason(error)
            failures += 1
            if failures > self.max_reconnects:
                with self._lock:
                    have = len(self._messages)
                rest = (
                    "continuing without chat"
                    if not have
                    else f"continuing with the {have} messages before it"
                )
                self._warn(f"Kick live chat unavailable ({reason}): {rest}")
                return
            if self._stop.wait(self.reconnect_delay_s * failures):
                return

    def _session(self) -> None:
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.client import connect

        with connect(
            self.ws_url, open_timeout=self.open_timeout_s, max_size=2**22, compression=None
        ) as connection:
            self._connection = connection
            try:
                while not self._stop.is_set():
                    try:
                        raw = connection.recv(timeout=0.25)
                    except TimeoutError:
                        continue
                    except ConnectionClosed:
                        return
                    self._handle(connection, raw)
            finally:
                self._connection = None

    def _handle(self, connection: Any, raw: str | bytes) -> None:
        try:
            frame = json.loads(raw)
            event = frame.get("event") if isinstance(frame, Mapping) else None
        except (ValueError, UnicodeDecodeError):
            self._skipped += 1
            return
        if event == "pusher:connection_established":
            connection.send(
                json.dumps(
                    {"event": "pusher:subscribe", "data": {"auth": "", "channel": self.channel}}
                )
            )
        elif event == "pusher_internal:subscription_succeeded":
            self.subscribed.set()
        elif event == "pusher:ping":
            connection.send(json.dumps({"event": "pusher:pong", "data": {}}))
            self.pongs += 1
        elif event == "pusher:error":
            data = frame.get("data")
            detail = data.get("message") if isinstance(data, Mapping) else data
            self._warn(f"Kick live chat: Pusher error {detail}")
        elif event == CHAT_EVENT:
            self._keep(frame.get("data"))

    def _keep(self, data: Any) -> None:
        received = datetime.now(UTC)
        try:
            record = json.loads(data) if isinstance(data, str | bytes) else data
            message = kick_message(record, self.started_at or received, received=received)
        except (ValueError, TypeError, AttributeError):
            self._skipped += 1
            return
        key = record.get("id")
        with self._lock:
            if key is not None:
                if str(key) in self._seen:
                    return
                self._seen.add(str(key))
            self._messages.append(message)


# --- live: which chatroom, then the chat while recording -------------------------------------
KICK_BASE_URL = "https://kick.com"  # read at call time, so tests can point it at loopback


def chatroom_of(channel: str, *, urlopen: Opener | None = None) -> tuple[str | None, list[str]]:
    """The chatroom id of a Kick channel (``/api/v2/channels/<channel>``: ``chatroom.id``),
    and warning lines; None when it cannot be had (never raises)."""
    from yt_dlp.networking import Request

    url = f"{KICK_BASE_URL}/api/v2/channels/{channel}"
    try:
        if urlopen is None:
            from yt_dlp import YoutubeDL

            with YoutubeDL({"quiet": True, "no_warnings": True, "noprogress": True}) as ydl:
                response = ydl_opener(ydl)(Request(url, headers={"Accept": "application/json"}))
                data = json.loads(response.read())
        else:
            data = json.loads(urlopen(Request(url, headers={"Accept": "application/json"})).read())
        return str(data["chatroom"]["id"]), []
    except Exception as error:  # chat must never fail the recording
        return None, [f"Kick live chat unavailable ({_reason(error)}): recording without chat"]


@contextlib.contextmanager
def live_chat_while(channel: str) -> Iterator[LiveChat | _NoChat]:
    """The channel's live chat, recorded for the duration of the block: ``.messages`` (``t``
    from when the block began) and ``.warnings`` (why there is none, if so)."""
    chatroom, warnings = chatroom_of(channel)
    if chatroom is None:
        yield _NoChat(warnings)
        return
    with LiveChat(chatroom, ws_url=PUSHER_WS_URL) as chat:
        yield chat


class _NoChat:
    """Stands for a live chat that could not be joined: no messages, one warning."""

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings
        self.messages: list[ChatMessage] = []
