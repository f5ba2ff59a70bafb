"""Generate Clips: a source, the detection options, Analyze Stream and Generate Clips."""

from __future__ import annotations

from functools import partial
from typing import Any

import gradio as gr

from kickclip.detect.evidence import describe
from kickclip.errors import KickclipError
from kickclip.settings import SETTING_BY_NAME, Settings

COLUMNS = ["start", "end", "score", "evidence"]


def _run(
    stage: str,
    settings: Settings,
    text: str,
    upload: str | None,
    duration: float,
    gap: float,
    top: float,
    quality: str,
    progress: Any,
) -> Any:
    """Run ``pipeline.<stage>`` on the form's values; core errors become visible messages."""
    from kickclip import pipeline

    source = (upload or text or "").strip()
    if not source:
        raise gr.Error("enter a kick.com URL, a media URL or a file path, or upload a file")
    try:
        chosen = settings.replace(
            clip_duration=float(duration),
            min_gap=float(gap),
            top=int(top),
            quality=quality or "best",
        )
        return getattr(pipeline, stage)(
            source, chosen, on_progress=lambda fraction, label: progress(fraction, desc=label)
        )
    except KickclipError as error:
        raise gr.Error(str(error)) from None


def _rows(highlights: list[dict[str, Any]], kind: str) -> list[list[Any]]:
    return [
        [
            h["start"],
            h["end"],
            h["score"],
            describe(h["features"], h["clip_type"]),
        ]
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
) -> tuple:
    result = _run("analyze", settings, text, upload, duration, gap, top, quality, progress)
    highlights = result.to_json()["highlights"]
    if not highlights:
        raise gr.Error("nothing stood out in this stream: no highlights detected")
    status = f"{len(highlights)} highlights in {result.duration_s / 60:.1f} minutes"
    return _rows(highlights, "audio"), _rows(highlights, "video"), status


def generate(
    settings: Settings,
    text: str,
    upload: str | None,
    duration: float,
    gap: float,
    top: float,
    quality: str,
    progress: gr.Progress = gr.Progress(),
) -> tuple:
    result = _run("generate", settings, text, upload, duration, gap, top, quality, progress)
    if not result.clips:
        raise gr.Error("nothing stood out in this stream: no clips written")
    gallery = [
        (
            str(c.cut.thumbnail),
            f"#{c.clip_id} · {c.highlight.clip_type} · score {c.highlight.score:.2f}",
        )
        for c in result.clips
        if c.cut.thumbnail is not None
    ]
    status = f"{len(result.clips)} clips registered; rate them in View & Rate."
    if result.failures:
        status += f" {len(result.failures)} failed: {result.failures[0]}"
    return gallery, status


def build(settings: Settings) -> None:
    with gr.Row():
        text = gr.Textbox(
            label="Stream URL or file path",
            scale=3,
            placeholder="https://kick.com/<channel>/videos/<uuid>",
        )
        upload = gr.File(label="…or upload a video", type="filepath", scale=1)
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
    with gr.Row():
        analyze_button = gr.Button("Analyze Stream", variant="primary")
        generate_button = gr.Button("Generate Clips", variant="primary")
    status = gr.Markdown(elem_id="generate-status")
    with gr.Row():
        audio = gr.Dataframe(headers=COLUMNS, label="Audio highlights", interactive=False)
        video = gr.Dataframe(headers=COLUMNS, label="Video highlights", interactive=False)
    clips = gr.Gallery(label="New clips", columns=5, height="auto")
    inputs = [text, upload, duration, gap, top, quality]
    analyze_button.click(
        partial(analyze, settings),
        inputs=inputs,
        outputs=[audio, video, status],
        api_name="analyze",
    )
    generate_button.click(
        partial(generate, settings), inputs=inputs, outputs=[clips, status], api_name="generate"
    )
