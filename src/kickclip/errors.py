"""One error tree. ``str(error)`` is the one line a user sees; the core never prints or exits.

Front-ends catch :class:`KickclipError` once (CLI: ``Error: …`` and exit 1; web UI: a visible
message). Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class KickclipError(Exception):
    """A user-facing failure: bad input, an unreachable source, an unwritable folder."""


# --- store and ratings ----------------------------------------------------------------------
class InvalidInput(KickclipError, ValueError):
    """An argument a user or script passed is not acceptable."""


class InvalidRating(InvalidInput):
    """A rating that is not a whole number from 1 to 5."""


class InvalidClip(InvalidInput):
    """Clip fields that cannot be registered (times, type, features)."""


class InvalidTag(InvalidInput):
    """A tag that is empty, too long or made of other than letters, digits, - and _."""


class ClipNotFound(KickclipError, KeyError):
    """No clip with that id."""

    def __init__(self, clip_id: object) -> None:
        super().__init__(f"no clip with id {clip_id}")
        self.clip_id = clip_id

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class StoreError(KickclipError):
    """The clip database cannot be opened or written."""


class ModelError(KickclipError):
    """Training could not run (too few ratings, unwritable models folder)."""


class ExchangeError(KickclipError):
    """An export or import file is unreadable or of an unknown kind."""


# --- sources and media ----------------------------------------------------------------------
class SourceError(KickclipError):
    """A SOURCE could not be resolved, opened or read."""


class RecordingGone(SourceError):
    """A clip of a live stream cannot be extended: the stream's recording is not kept."""


class SourceNotFound(SourceError):
    """A local path that does not exist."""


class NotAMediaFile(SourceError):
    """The input opens but is not audio/video PyAV can read."""


class NoMediaStreams(SourceError):
    """A media container with neither an audio nor a video stream."""


class SourceUnreachable(SourceError):
    """HTTP errors, refused connections, no network."""


class NotLive(SourceError):
    """A live channel URL whose channel is offline."""


class LoginRequired(SourceError):
    """The site wants a login or a subscription."""


class NothingDecoded(SourceError):
    """A corrupt or truncated input where not one window decoded."""


class ChatError(KickclipError):
    """A chat log that cannot be read: the file, and the line or record that is wrong."""


class Cancelled(KickclipError):
    """The user cancelled a running job; what was complete is kept, nothing is half-written."""


class CutError(KickclipError):
    """A clip could not be cut or written."""


class SpeechUnavailable(KickclipError):
    """Words were asked for but cannot be heard: the speech extra or its model is missing."""
