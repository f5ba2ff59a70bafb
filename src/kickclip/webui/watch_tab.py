"""Watch Live: clip a live stream while it goes on; clips arrive with their reason, over the
timeline of the last minutes. One watch per browser session; Stop ends it cleanly."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from kickclip.errors import KickclipError
from kickclip.records import clock
from kickclip.settings import Settings
from kickclip.webui.core import UserError, readable_source, session_of, store

COLUMNS = ["id", "time", "type", "score", "why", "after (s)"]
REFRESH_S = 2.0


@dataclass
class _Running:
    """One session's watch, run on a thread of its own."""

    watch: Any
    stop: threading.Event = field(default_factory=threading.Event)
    notes: list[str] = field(default_factory=list)
    outcome: Any = None
    error: str | None = None
    thread: threading.Thread | None = None

    def start(self) -> None:
        def run() -> None:
            try:
                self.outcome = self.watch.run(self.stop)
            except KickclipError as error:
                self.error = str(error)

        self.thread = threading.Thread(target=run, name="kickclip-watch", daemon=True)
        self.thread.start()

    @property
    def going(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


WATCHES: dict[str, _Running] = {}
_lock = threading.Lock()


def _rows(running: _Running) -> list[list[Any]]:
    rows = []
    for live in reversed(running.watch.clips):  # newest first
        row = live.to_json()
        rows.append(
            [
                row["id"],
                f"{clock(row['start'])}-{clock(row['end'])}",
                row["clip_type"],
                round(row["score"], 2),
                row["reason"],
                round(row["delay_s"]),
            ]
        )
    return rows


def _picture(running: _Running) -> Any:
    from kickclip.plot import timeline_picture

    picture = timeline_picture(running.watch.analysis())
    return None if picture is None else picture.pixels


def _status(running: _Running) -> str:
    watch = running.watch
    seen = f"{clock(watch.rolling.end_s)} of the stream, {len(watch.clips)} clips"
    notes = "".join(f"\n\n{note}" for note in running.notes[-3:])
    if running.error is not None:
        return f"**Stopped:** {running.error}"
    if running.going:
        stopping = " (stopping…)" if running.stop.is_set() else ""
        return f"**Watching** {watch.source}{stopping}: {seen}.{notes}"
    why = {"stream end": "the stream ended", "time": "the time was up", "stop": "stopped"}
    ended = why.get(getattr(running.outcome, "ended_by", ""), "stopped")
    return f"**Done** ({ended}): {seen}. Rate them in View & Rate.{notes}"


def start(
    settings: Settings,
    text: str,
    duration: float,
    gap: float,
    request: gr.Request = None,  # type: ignore[assignment]
) -> Any:
    """Start watching; then, every few seconds, the clips so far, the timeline and a status
    line, until the watch ends."""
    from kickclip.watch import Watch

    source = readable_source(settings, text, None)
    session = session_of(request)
    with _lock:
        if session in WATCHES and WATCHES[session].going:
            raise UserError("A watch is running already: stop it first.")
        try:
            chosen = settings.replace(clip_duration=float(duration), min_gap=float(gap))
        except KickclipError as error:
            raise UserError(str(error)) from None
        manager, _ = store(chosen)
        running = _Running(Watch(source, chosen, manager))
        running.watch.on_notice = running.notes.append
        WATCHES[session] = running
        running.start()
    while running.going:
        yield _status(running), _rows(running), _picture(running)
        time.sleep(REFRESH_S)
    if running.error is not None and not running.watch.clips:
        raise UserError(running.error)
    yield _status(running), _rows(running), _picture(running)


def stop(request: gr.Request = None) -> str:  # type: ignore[assignment]
    running = WATCHES.get(session_of(request))
    if running is None or not running.going:
        return "Nothing is being watched."
    running.stop.set()
    return "Stopping after the clip in hand…"


def page_closed(request: gr.Request = None) -> None:  # type: ignore[assignment]
    """A watch started from a page that is closed (or reloaded) stops: nothing could reach
    it any more, and it would record on for hours. Its clips are kept."""
    with _lock:
        running = WATCHES.pop(session_of(request), None)
    if running is not None:
        running.stop.set()


def build(settings: Settings) -> None:
    gr.Markdown(
        "Clips a live stream while it goes on: a moment that stands out becomes a clip within "
        "a minute (once the 24 s after it are in), ranked by your taste. Only the recording "
        "that clips still need is kept. Closing this page stops the watch; its clips stay."
    )
    with gr.Row():
        text = gr.Textbox(
            label="Live stream",
            scale=3,
            placeholder="https://kick.com/<channel> or a live .m3u8 URL",
            elem_id="watch-source",
        )
        duration = gr.Slider(
            5, 120, value=settings.clip_duration, step=1, label="Clip duration (s)"
        )
        gap = gr.Slider(0, 600, value=settings.min_gap, step=5, label="Minimum gap (s)")
    with gr.Row():
        start_button = gr.Button("Start watching", variant="primary", elem_id="watch-start")
        stop_button = gr.Button("Stop", variant="stop", elem_id="watch-stop")
    status = gr.Markdown(elem_id="watch-status")
    clips = gr.Dataframe(
        headers=COLUMNS,
        label="Clips so far (newest first)",
        interactive=False,
        elem_id="watch-clips",
    )
    timeline = gr.Image(
        label="The last minutes, side by side (clips marked)",
        interactive=False,
        elem_id="watch-timeline",
    )

    def on_start(text, duration, gap, request: gr.Request):
        yield from start(settings, text, duration, gap, request)

    start_button.click(
        on_start,
        inputs=[text, duration, gap],
        outputs=[status, clips, timeline],
        api_name="watch",
        show_progress="hidden",
        concurrency_limit=None,
    )

    def on_stop(request: gr.Request) -> str:
        return stop(request)

    stop_button.click(on_stop, outputs=status, api_name="stop_watch", concurrency_limit=None)
