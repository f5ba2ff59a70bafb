"""Chat: what the audience says, as one stream of messages on the media's clock.

Every chat source (a log file, Kick's VOD chat replay, Kick's live chat while recording)
becomes a list of :class:`ChatMessage` sorted by ``t``, seconds from the start of the media;
``features`` turns it into series on the analysis timeline.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("message", "system")  # system: raids, hosts, subscriptions, pinned notices


@dataclass(frozen=True)
class ChatMessage:
    t: float  # seconds from the start of the media
    user: str
    text: str
    kind: str = "message"
