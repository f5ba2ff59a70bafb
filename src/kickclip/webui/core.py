"""Shared pieces of the tabs: the store and trainer of a Settings, and safe clip paths."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from kickclip.errors import Cancelled, KickclipError
from kickclip.learn.trainer import RatingBasedTrainer
from kickclip.records import clock
from kickclip.settings import Settings
from kickclip.store.clip_manager import ClipManager, ClipRecord


class UserError(gr.Error):
    """A message for the user (a red toast), and one line in the server's console instead of
    Gradio's traceback: a refused path or a missing file is not the server's fault."""

    def __init__(self, message: str) -> None:
        super().__init__(message, print_exception=False)
        print(f"kickclip: {message}", file=sys.stderr, flush=True)


_stores: dict[tuple[Path | str, Path, str | None], tuple[ClipManager, RatingBasedTrainer]] = {}
_managers: dict[Path | str, ClipManager] = {}
_stores_lock = threading.Lock()


def store(settings: Settings) -> tuple[ClipManager, RatingBasedTrainer]:
    """One store per process (and database), one trainer per user of it: opening a store
    migrates and checks it, which every request need not repeat; the trainer re-reads the
    model file only when it changes."""
    where = settings.db if isinstance(settings.db, str) else settings.db.absolute()
    key = (where, settings.models_dir.absolute(), settings.user)
    with _stores_lock:
        if key not in _stores:
            if where not in _managers:
                try:
                    _managers[where] = ClipManager(settings.db)
                except KickclipError as error:
                    raise UserError(str(error)) from None
            manager = _managers[where]
            trainer = RatingBasedTrainer(manager, settings.models_dir, user=settings.user)
            _stores[key] = (manager, trainer)
        return _stores[key]


def as_login(settings: Settings, request: gr.Request | None, per_user: bool) -> Settings:
    """The settings of whoever is logged in: with several logins (``per_user``), each one
    rates, and sees ratings, as themselves."""
    name = getattr(request, "username", None) if per_user else None
    return settings.replace(user=name) if name else settings


class Jobs:
    """The long job (analyze, generate) of each browser session, so Cancel can stop it.

    Cancelling is cooperative: the job's progress callback raises :class:`Cancelled` at its
    next report (the decoder reports every packet), so a clip being cut is finished or
    removed, never left half-written.
    """

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, session: str) -> threading.Event:
        with self._lock:
            event = self._events[session] = threading.Event()
            return event

    def cancel(self, session: str) -> bool:
        with self._lock:
            event = self._events.get(session)
        if event is None or event.is_set():
            return False
        event.set()
        return True

    def finish(self, session: str, event: threading.Event) -> None:
        with self._lock:
            if self._events.get(session) is event:
                del self._events[session]


JOBS = Jobs()


def session_of(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "local"


def cancellable(
    event: threading.Event, progress: Callable[..., Any]
) -> Callable[[float, str], None]:
    """``on_progress`` that reports to Gradio and stops the job once Cancel is pressed."""

    def report(fraction: float, label: str) -> None:
        if event.is_set():
            raise Cancelled("cancelled: the clips finished before it are kept")
        progress(fraction, desc=label)

    return report


def in_clips_folder(settings: Settings, path: str | Path | None) -> Path | None:
    """``path`` resolved when it is a file inside the clips folder (no traversal, no links
    out), else None: a row imported from elsewhere names any path."""
    if path is None:
        return None
    resolved = Path(path).resolve()
    inside = resolved.is_relative_to(settings.out.resolve()) and resolved.is_file()
    return resolved if inside else None


def inside_clips(settings: Settings, path: str | Path) -> Path:
    """A clip's file, only when it lies inside the clips folder."""
    resolved = in_clips_folder(settings, path)
    if resolved is None:
        raise UserError("that file is not a clip of this library")
    return resolved


def may_delete(request: gr.Request | None, per_user: bool, admins: tuple[str, ...]) -> None:
    """With several logins, only those ``serve --admin`` names delete clips."""
    if not per_user:
        return
    name = getattr(request, "username", None)
    if name not in admins:
        raise UserError(
            "only an admin deletes clips here: start kickclip serve --admin NAME to name one"
            if not admins
            else f"only {', '.join(admins)} can delete clips here"
        )


def source_label(clip: ClipRecord) -> str:
    """A clip's source in a few words: the file's or the channel's name, and the day a live
    stream (or its recording) began."""
    from kickclip.pipeline import RECORDED, channel_of

    name = clip.source_url or clip.filename
    label = Path(channel_of(name) or name).name[:30]
    began = RECORDED.search(name)
    return f"{label} {began.group()[1:11]}" if began else label


def clip_label(clip: ClipRecord) -> str:
    source = source_label(clip)
    return (
        f"#{clip.id} · {source} · {clock(clip.start_time)}–{clock(clip.end_time)} · "
        f"{clip.clip_type} · score {clip.score:.2f}"
    )


def clip_id_of(choice: str | int | None) -> int:
    if choice in (None, ""):
        raise UserError("choose a clip first")
    if isinstance(choice, int):
        return choice
    text = str(choice).lstrip("#").split(" ", 1)[0]
    if not text.isdigit():
        raise UserError("choose a clip first")
    return int(text)


def readable_source(settings: Settings, text: str, upload: str | None) -> str:
    """The source a web user may have read: any URL (ingest decides which), an upload in
    Gradio's upload folder, or a local file inside ``settings.media_dir``; anything else is
    refused, so a browser cannot make the server read its other files."""
    from gradio.utils import get_upload_folder

    from kickclip.ingest.sources import BARE_KICK, url_scheme

    if upload:
        path = Path(upload).resolve()
        if not path.is_relative_to(Path(get_upload_folder()).resolve()):
            raise UserError("that upload is not in the upload folder")
        return str(path)
    text = (text or "").strip()
    if not text:
        raise UserError("enter a kick.com URL, a media URL or a file path, or upload a file")
    if url_scheme(text) is not None or BARE_KICK.match(text):
        return text
    root = settings.media_dir.resolve()
    path = (root / text).resolve()  # an absolute path stays itself; links are followed
    if not path.is_relative_to(root):
        raise UserError(
            f"only files in {root} can be read here; start kickclip serve --media-dir DIR to "
            "choose the folder, or upload the file"
        )
    return str(path)
