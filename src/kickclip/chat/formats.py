"""Chat log files → messages: JSON lines or array, CSV, yt-dlp's YouTube live_chat.json, Kick.

Records of the simple shape are ``{"t": seconds, "user": …, "text": …}`` or, instead of ``t``,
``"time"``: an ISO 8601 moment. ISO times count from ``media_start`` when the source knows it
(a Kick VOD does), else from the first message; ``offset_s`` (``--chat-offset``) is added to
every time, to align a log whose clock started elsewhere. Kick's own message objects (``content``,
``sender.username``, ``created_at``) and yt-dlp's YouTube replay lines are recognised by shape.

A record that cannot be read stops the whole file with one line naming it (``chat.jsonl, line
12: …``): a half-read chat log would bias every chat feature without anyone noticing.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from itertools import count
from operator import attrgetter
from pathlib import Path
from typing import Any

from kickclip.chat import ChatMessage
from kickclip.errors import ChatError

KICK_EMOTE = re.compile(r"\[emote:\d+:([^\]]+)\]")


MAX_CHAT_BYTES = 256 * 1024**2


def _moment(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"time must be ISO 8601 text, got {value!r}")
    moment = datetime.fromisoformat(value.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _seconds(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"t must be seconds, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"t must be a finite number of seconds, got {value!r}")
    return number


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError(f"{what} must be text, got {type(value).__name__}")


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Clock:
    """Turns a record's time into seconds from the media start. Without a known start, ISO
    times count from the earliest message (``first``: shifted once all are read)."""

    def __init__(self, media_start: datetime | None, offset_s: float) -> None:
        self.origin = media_start or EPOCH
        self.offset_s = offset_s
        self.first: float | None = None if media_start is None else 0.0

    def relative(self, seconds: float) -> float:
        return seconds + self.offset_s

    def absolute(self, moment: datetime) -> float:
        seconds = (moment - self.origin).total_seconds()
        if self.origin is EPOCH:
            self.first = seconds if self.first is None else min(self.first, seconds)
        return seconds + self.offset_s


def _simple(record: Mapping[str, Any], clock: _Clock) -> ChatMessage:
    if "t" in record:
        t = clock.relative(_seconds(record["t"]))
    elif "time" in record:
        t = clock.absolute(_moment(record["time"]))
    else:
        raise ValueError('a message needs "t" (seconds) or "time" (ISO 8601)')
    kind = record.get("kind") or "message"
    return ChatMessage(
        t, _text(record.get("user"), "user"), _text(record.get("text"), "text"), str(kind)
    )


def _kick(record: Mapping[str, Any], clock: _Clock) -> ChatMessage:
    sender = record.get("sender") or {}
    if not isinstance(sender, Mapping):
        raise ValueError("sender must be an object")
    text = KICK_EMOTE.sub(r"\1", _text(record.get("content"), "content"))
    kind = "message" if record.get("type", "message") in ("message", "reply") else "system"
    return ChatMessage(
        clock.absolute(_moment(record.get("created_at"))),
        _text(sender.get("username") or sender.get("slug"), "sender"),
        text,
        kind,
    )


def _youtube(record: Mapping[str, Any], clock: _Clock) -> Iterator[ChatMessage]:
    """yt-dlp's live_chat.json: one replay action per line, offset in milliseconds."""
    replay = record["replayChatItemAction"]
    offset_ms = float(replay.get("videoOffsetTimeMsec", 0))
    for action in replay.get("actions", ()):
        item = action.get("addChatItemAction", {}).get("item", {})
        for name, renderer in item.items():
            if name not in ("liveChatTextMessageRenderer", "liveChatPaidMessageRenderer"):
                continue
            runs = renderer.get("message", {}).get("runs", ())
            parts = []
            for run in runs:
                if "text" in run:
                    parts.append(run["text"])
                elif "emoji" in run:
                    shortcuts = run["emoji"].get("shortcuts") or [""]
                    parts.append(shortcuts[0].strip(":"))
            author = renderer.get("authorName", {}).get("simpleText", "")
            yield ChatMessage(clock.relative(offset_ms / 1000), author, " ".join(parts))


def _from_record(record: Any, clock: _Clock) -> list[ChatMessage]:
    if not isinstance(record, Mapping):
        raise ValueError(f"expected an object, got {type(record).__name__}")
    if "replayChatItemAction" in record:
        return list(_youtube(record, clock))
    if "content" in record and "created_at" in record:
        return [_kick(record, clock)]
    return [_simple(record, clock)]


def _records(text: str, name: str) -> tuple[str, Iterable[int], Iterable[Any]]:
    """(where, numbers, records): where and the numbers name a record in an error ("line 3"
    for JSON lines and CSV, "record 3" for a JSON array). The records are a list when the
    whole text was read at once, else they are read one by one as they are asked for."""
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, list):
            return "record", count(1), whole
        if isinstance(whole, Mapping):
            messages = whole.get("data", whole).get("messages") if "data" in whole else None
            if isinstance(messages, list):  # a page of Kick's chat history
                return "message", count(1), messages
            return "record", count(1), [whole]
        lines = text.rstrip().splitlines()
        records = _json_array(lines)  # JSON lines read at once; line by line only to name a bad one
        if records is not None:
            return "line", count(1), records
        numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
        records = _json_array([line for _, line in numbered])
        numbers = [n for n, _ in numbered]
        if records is not None:
            return "line", numbers, records
        return "line", numbers, (_json_line(line, n, name) for n, line in numbered)
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    if not ({"t", "time"} & columns and {"user", "text"} <= columns):
        raise ChatError(
            f"{name}: not a chat log (JSON lines, a JSON array, or CSV with the columns "
            "t or time, user, text)"
        )
    rows = ({k: v for k, v in row.items() if k and v not in ("", None)} for row in reader)
    return "line", count(2), rows


def _json_array(lines: list[str]) -> list | None:
    """The lines, each one JSON value, read at once; None if they are not that."""
    try:
        records = json.loads("[" + ",".join(lines) + "]")
    except json.JSONDecodeError:
        return None
    return records if len(records) == len(lines) else None


def _json_line(line: str, number: int, name: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        raise ChatError(f"{name}, line {number}: not JSON ({error.msg})") from None


def _simple_log(records: list, offset_s: float) -> list[ChatMessage] | None:
    """The usual log, every record {"t": seconds, "user": text, "text": text} (a "kind" if
    any), read column by column: as ``_simple`` would, but without its calls per record.
    None if any record is not of that shape (each is then read by ``_from_record``)."""
    if set(map(type, records)) != {dict}:
        return None
    keys = set().union(*records)
    if "replayChatItemAction" in keys or {"content", "created_at"} <= keys:
        return None
    times = [record.get("t") for record in records]
    users = [record.get("user") for record in records]
    texts = [record.get("text") for record in records]
    kinds = [record.get("kind") for record in records]
    if not (
        set(map(type, times)) <= {int, float}
        and set(map(type, users)) == {str}
        and set(map(type, texts)) == {str}
        and set(map(type, kinds)) <= {str, type(None)}
    ):
        return None
    seconds = list(map(float, times))
    if not all(map(math.isfinite, seconds)):
        return None
    return list(
        map(
            ChatMessage,
            [t + offset_s for t in seconds],
            users,
            texts,
            [kind or "message" for kind in kinds],
        )
    )


def parse_chat(
    text: str, name: str = "chat", *, offset_s: float = 0.0, media_start: datetime | None = None
) -> list[ChatMessage]:
    """Every message of a chat log, sorted by time."""
    clock = _Clock(media_start, offset_s)
    try:
        where, numbers, records = _records(text, name)
        messages = _simple_log(records, offset_s) if isinstance(records, list) else None
        if messages is None:
            messages = []
            for number, record in zip(numbers, records, strict=False):  # numbers may go on
                try:
                    messages += _from_record(record, clock)
                except (KeyError, TypeError, ValueError, AttributeError) as error:
                    reason = f"missing {error}" if isinstance(error, KeyError) else str(error)
                    raise ChatError(f"{name}, {where} {number}: {reason}") from None
    except RecursionError:
        raise ChatError(f"{name}: nested too deeply to be a chat log") from None
    except csv.Error as error:  # a field over csv's limit (128 KB), a NUL byte
        raise ChatError(f"{name}: not a chat log ({error})") from None
    if clock.first:  # ISO times with no known start: from the earliest message
        messages = [replace(m, t=m.t - clock.first) for m in messages]
    return sorted(messages, key=attrgetter("t"))


def read_chat(
    path: str | Path, *, offset_s: float = 0.0, media_start: datetime | None = None
) -> list[ChatMessage]:
    """Read a chat log file (see the module's text)."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_CHAT_BYTES:
            raise ChatError(
                f"chat file {path} is larger than {MAX_CHAT_BYTES // 1024**2} MB (about two "
                "million messages): split it, or keep the part of this stream"
            )
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ChatError(f"chat file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ChatError(f"cannot read chat file {path}: {error}") from None
    return parse_chat(text, path.name, offset_s=offset_s, media_start=media_start)
