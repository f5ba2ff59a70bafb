"""Generate Clips: a source, the detection options, Analyze Stream and Generate Clips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from kickclip.errors import Cancelled, KickclipError
from kickclip.progress import scaled
from kickclip.records import clock
from kickclip.settings import SETTING_BY_NAME, Settings
from kickclip.webui.core import JOBS, UserError, cancellable, readable_source, session_of, store

COLUMNS = ["start", "end", "score", "evidence"]


JOB_CONCURRENCY = 2  # media jobs at once, across all users (the decoder uses about one core)


def _chosen(
    settings: Settings,
    text: str,
    upload: str | None,
    duration: float,
    gap: float,
    top: float,
    quality: str,
    chat_file: str | None = None,
    chat_offset: float | None = 0.0,
) -> tuple[str, Settings]:
    source = readable_source(settings, text, upload)
    chat = None if not chat_file else Path(readable_source(settings, "", chat_file))
    try:
        return source, settings.replace(
            clip_duration=float(duration),
            min_gap=float(gap),
            top=int(top),
            quality=quality or "best",
            chat=chat,
            chat_offset=float(chat_offset or 0.0),
        )
    except KickclipError as error:
        raise UserError(str(error)) from None


def _job(request: gr.Request | None, progress: Any, work: Any) -> Any:
    """Run ``work(on_progress)`` as this session's cancellable job; errors become messages.
    A cancelled job is an outcome, not an error: None."""
    session = session_of(request)
    event = JOBS.start(session)
    try:
        return work(cancellable(event, progress))
    except Cancelled:
        return None
    except KickclipError as error:
        raise UserError(str(error)) from None
    finally:
        JOBS.finish(session, event)


def _rows(highlights: list[dict[str, Any]], kind: str) -> list[list[Any]]:
    return [
        [clock(h["start"]), clock(h["end"]), round(h["score"], 2), h["reason"]]
        for h in highlights
        if h["clip_type"] == kind
    ]


def analyze(
    settings: Settings,
    text: str,
    upload: str | None,
    duration: float,
    gap: float,
    top: float,
    quality: str,
    progress: gr.Progress = gr.Progress(),
    request: gr.Request = None,  # type: ignore[assignment]
    *,
    chat_file: str | None = None,
    chat_offset: float | None = 0.0,
) -> tuple:
    """The highlight tables (sound, picture, chat), a status, and the analysis kept for a
    Generate that follows."""
    from kickclip import pipeline

    source, chosen = _chosen(
        settings, text, upload, duration, gap, top, quality, chat_file, chat_offset
    )
    result = _job(
        request, progress, lambda report: pipeline.analyze(source, chosen, on_progress=report)
    )
    if result is None:  # the tables and the analysis before stay as they were
        return (gr.skip(), gr.skip(), gr.skip(), "Cancelled: nothing was analyzed.", gr.skip())
    highlights = result.to_json()["highlights"]
    if not highlights:
        raise UserError("nothing stood out in this stream: no highlights detected")
    status = f"{len(highlights)} highlights in {result.duration_s / 60:.1f} minutes"
    kept = (source, chosen, result)
    tables = (_rows(highlights, kind) for kind in ("audio", "video", "chat"))
    return (*tables, status, kept)


def generate(
    settings: Settings,
    text: str,
    upload: str | None,
    duration: float,
    gap: float,
    top: float,
    quality: str,
    analyzed: Any = None,
    progress: gr.Progress = gr.Progress(),
    request: gr.Request = None,  # type: ignore[assignment]
    *,
    chat_file: str | None = None,
    chat_offset: float | None = 0.0,
) -> tuple:
    """Cut and register the clips; reuses the Analyze just run with the same form values."""
    from kickclip import pipeline

    source, chosen = _chosen(
        settings, text, upload, duration, gap, top, quality, chat_file, chat_offset
    )
    reuse = analyzed is not None and analyzed[:2] == (source, chosen)

    def work(report: Any) -> Any:
        if reuse:
            analysis = analyzed[2]
        else:
            analysis = pipeline.analyze(source, chosen, on_progress=scaled(report, 0.0, 0.7))
        manager, _ = store(settings)  # only now: a bad source creates nothing
        return pipeline.cut_and_register(analysis, chosen, manager, on_progress=report)

    result = _job(request, progress, work)
    if result is None:
        return gr.skip(), "Cancelled: the clips finished before it are kept."
    if not result.clips:
        raise UserError("nothing stood out in this stream: no clips written")
    gallery = [
        (
            str(c.cut.thumbnail),
            f"#{c.clip_id} · {clock(c.cut.start_s)}–{clock(c.cut.end_s)} · "
            f"{c.highlight.clip_type} · score {c.highlight.score:.2f}",
        )
        for c in result.clips
        if c.cut.thumbnail is not None
    ]
    reused = sum(c.reused for c in result.clips)
    status = f"{len(result.clips)} clips registered; rate them in View & Rate."
    if reused:
        status += f" {reused} were already cut before and are reused."
    if result.failures:
        status += f" {len(result.failures)} failed: {result.failures[0]}"
    return gallery, status


def draw_timeline(kept: Any) -> tuple[Any, Any]:
    """The analysis just run, as a picture to click on: each side's strength, the highlights
    marked; and the picture kept, to tell the time under a click."""
    from kickclip.plot import timeline_picture

    picture = None if not kept else timeline_picture(kept[2])
    return (None if picture is None else picture.pixels), picture


def pick_moment(kept: Any, picture: Any, x_px: float) -> tuple[float, str, Any]:
    """The moment under a click on the timeline: its second, what each side showed there,
    and its picture."""
    import numpy as np

    from kickclip.ingest.probe import keyframes_between

    if not kept or picture is None:
        raise UserError("Analyze a stream first, then click its timeline.")
    analysis = kept[2]
    at = picture.time_at(float(x_px))
    timeline = analysis.timeline
    step = int((at - timeline.start_s) // timeline.hop_s)
    there = {
        kind: values[min(max(step, 0), len(values) - 1)]
        for kind, values in timeline.sides.items()
        if values
    }
    strongest = max(there, key=lambda kind: there[kind])
    sides = ", ".join(f"{kind} {value:.1f}× ordinary" for kind, value in there.items())
    try:
        frames = keyframes_between(analysis.media, max(at - 4.0, 0.0), at + 0.5, 480)
    except KickclipError:
        frames = []
    view = None
    if frames:
        times = np.array([t for t, _ in frames])
        view = frames[int(np.argmin(np.abs(times - at)))][1]
    duration = kept[1].clip_duration
    return (
        at,
        (
            f"**{clock(at)}**: {sides}; the strongest is the {strongest}. "
            f"Clip here cuts {duration:g} s around it."
        ),
        view,
    )


def clip_here(
    settings: Settings,
    kept: Any,
    at: float | None,
    progress: gr.Progress = gr.Progress(),
    request: gr.Request = None,  # type: ignore[assignment]
) -> tuple[list[tuple[str, str]], str]:
    """Cut and register a clip around the moment clicked on the timeline."""
    from kickclip import pipeline

    if not kept or at is None:
        raise UserError("Click the timeline where you want a clip first.")
    _, chosen, analysis = kept

    def work(report: Any) -> Any:
        manager, _ = store(settings)
        return pipeline.clip_here(analysis, float(at), chosen, manager, on_progress=report)

    made = _job(request, progress, work)
    if made is None:
        return gr.skip(), "Cancelled: no clip was cut."
    shown = (
        [
            (
                str(made.cut.thumbnail),
                f"#{made.clip_id} · {clock(made.cut.start_s)}–{clock(made.cut.end_s)} · "
                f"{made.highlight.clip_type} · by hand",
            )
        ]
        if made.cut.thumbnail is not None
        else []
    )
    already = " (already a clip: reused)" if made.reused else ""
    return shown, (
        f"Clip #{made.clip_id}{already}: {clock(made.cut.start_s)}-{clock(made.cut.end_s)}, "
        f"{made.highlight.clip_type}; rate it in View & Rate."
    )


def cancel(request: gr.Request = None) -> str:  # type: ignore[assignment]
    if JOBS.cancel(session_of(request)):
        return "Cancelling…"
    return "Nothing is running."


def build(settings: Settings) -> None:
    with gr.Row():
        text = gr.Textbox(
            label="Stream URL or file path",
            scale=3,
            placeholder="https://kick.com/<channel>/videos/<uuid>",
        )
        upload = gr.File(label="…or upload a video", type="filepath", scale=1)
        with gr.Column(scale=1):
            chat_file = gr.File(
                label="Chat log (optional): JSON lines, JSON, CSV, live_chat.json",
                type="filepath",
            )
            chat_offset = gr.Number(value=0.0, label="Chat offset (s)")
    with gr.Row():
        duration = gr.Slider(
            5,
            120,
            value=settings.clip_duration,
            step=1,
            label="Clip duration (s)",
            info=SETTING_BY_NAME["clip_duration"].help,
        )
        gap = gr.Slider(0, 600, value=settings.min_gap, step=5, label="Minimum gap (s)")
        top = gr.Slider(1, 50, value=settings.top, step=1, label="Top N per type")
        quality = gr.Dropdown(
            ["best", "1080p", "720p", "480p", "worst"],
            value=settings.quality,
            label="Quality",
            allow_custom_value=True,
        )
    analyzed = gr.State(None)
    with gr.Row():
        analyze_button = gr.Button("Analyze Stream", variant="primary")
        generate_button = gr.Button("Generate Clips", variant="primary")
        cancel_button = gr.Button("Cancel", variant="stop", elem_id="cancel-job")
    status = gr.Markdown(elem_id="generate-status")
    with gr.Row():
        audio = gr.Dataframe(headers=COLUMNS, label="Audio highlights", interactive=False)
        video = gr.Dataframe(headers=COLUMNS, label="Video highlights", interactive=False)
        chat = gr.Dataframe(headers=COLUMNS, label="Chat highlights", interactive=False)
    timeline = gr.Image(
        label="The stream, side by side: click a moment to see it and clip it there",
        interactive=False,
        elem_id="timeline",
    )
    timeline_kept = gr.State(None)
    moment = gr.State(None)
    with gr.Row():
        moment_view = gr.Image(label="That moment", interactive=False, elem_id="moment-view")
        with gr.Column():
            moment_text = gr.Markdown(elem_id="moment-status")
            clip_here_button = gr.Button("Clip here", elem_id="clip-here")
    clips = gr.Gallery(label="New clips", columns=5, height="auto")
    inputs = [text, upload, duration, gap, top, quality, chat_file, chat_offset]

    # Plain functions, not partials: Gradio hands a handler the request (whose session Cancel
    # needs) only when it can read the handler's annotations.
    def on_analyze(
        text,
        upload,
        duration,
        gap,
        top,
        quality,
        chat_file,
        chat_offset,
        progress: gr.Progress = gr.Progress(),
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple:
        return analyze(
            settings,
            text,
            upload,
            duration,
            gap,
            top,
            quality,
            progress,
            request,
            chat_file=chat_file,
            chat_offset=chat_offset,
        )

    def on_generate(
        text,
        upload,
        duration,
        gap,
        top,
        quality,
        chat_file,
        chat_offset,
        kept,
        progress: gr.Progress = gr.Progress(),
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple:
        return generate(
            settings,
            text,
            upload,
            duration,
            gap,
            top,
            quality,
            kept,
            progress,
            request,
            chat_file=chat_file,
            chat_offset=chat_offset,
        )

    # One progress bar, over the status line (not one on each of the tables as well).
    media_job = {
        "concurrency_limit": JOB_CONCURRENCY,
        "concurrency_id": "media",
        "show_progress_on": [status],
    }
    analyze_button.click(
        on_analyze,
        inputs=inputs,
        outputs=[audio, video, chat, status, analyzed],
        api_name="analyze",
        **media_job,
    ).success(draw_timeline, inputs=analyzed, outputs=[timeline, timeline_kept], api_name=False)

    def on_pick(kept, picture, event: gr.SelectData) -> tuple:  # SelectData by annotation
        return pick_moment(kept, picture, event.index[0])

    timeline.select(
        on_pick,
        inputs=[analyzed, timeline_kept],
        outputs=[moment, moment_text, moment_view],
        api_name=False,
    )

    def on_clip_here(
        kept,
        at,
        progress: gr.Progress = gr.Progress(),
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple:
        return clip_here(settings, kept, at, progress, request)

    clip_here_button.click(
        on_clip_here,
        inputs=[analyzed, moment],
        outputs=[clips, status],
        api_name="clip_here",
        **media_job,
    )
    generate_button.click(
        on_generate,
        inputs=[*inputs, analyzed],
        outputs=[clips, status],
        api_name="generate",
        **media_job,
    )

    # A toast, not the status line: the job's own "Cancelled: …" may arrive first, and would
    # then be overwritten by "Cancelling…".
    def on_cancel(request: gr.Request = None) -> None:  # type: ignore[assignment]
        gr.Info(cancel(request))

    cancel_button.click(on_cancel, api_name="cancel", concurrency_limit=None)
