"""Chat: what the audience says, as one stream of messages on the media's clock.

Every chat source (a log file, Kick's VOD chat replay, Kick's live chat while recording)
becomes a list of :class:`ChatMessage` sorted by ``t``, seconds from the start of the media;
``features`` turns it into series on the analysis timeline.
"""

from __future__ import annotations

from kickclip.records import CHAT_KINDS as KINDS
from kickclip.records import ChatMessage

__all__ = ["KINDS", "ChatMessage"]
