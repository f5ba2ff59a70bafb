"""Browse & Download: the 50 newest clips as a gallery; preview and download one."""

from functools import partial
from typing import Any

import gradio as gr

from kickclip.errors import KickclipError
from kickclip.settings import Settings
from kickclip.webui.core import clip_id_of, clip_label, inside_clips, store


def refresh_gallery(settings: Settings) -> tuple[list[tuple[str, str]], Any]:
    manager, _ = store(settings)
    clips = manager.list_clips(limit=50)
    gallery = [
        (
            str(c.thumbnail_path),
            f"#{c.id} · {'★' * (c.rating or 0) or 'unrated'} · score {c.score:.2f}",
        )
        for c in clips
        if c.thumbnail_path is not None
    ]
    return gallery, gr.update(choices=[clip_label(c) for c in clips], value=None)


def select_clip(settings: Settings, choice: str | None) -> tuple[str | None, str | None]:
    """The clip's file for the preview and the download, checked to lie in the clips folder."""
    if not choice:
        return None, None
    manager, _ = store(settings)
    try:
        path = str(inside_clips(settings, manager.get_clip(clip_id_of(choice)).filepath))
    except KickclipError as error:
        raise gr.Error(str(error)) from None
    return path, path


def pick_from_gallery(settings: Settings, event: gr.SelectData) -> Any:
    caption = str(event.value.get("caption", "")) if isinstance(event.value, dict) else ""
    clip_id = clip_id_of(caption)
    manager, _ = store(settings)
    return clip_label(manager.get_clip(clip_id))


def build(settings: Settings) -> None:
    refresh = gr.Button("Refresh Gallery", variant="primary")
    gallery = gr.Gallery(label="Newest clips", columns=5, height="auto", elem_id="browse-gallery")
    clip = gr.Dropdown(label="Clip", choices=[], interactive=True, elem_id="browse-clip")
    with gr.Row():
        video = gr.Video(label="Preview", interactive=False)
        download = gr.File(label="Download", interactive=False, elem_id="browse-download")
    refresh.click(
        partial(refresh_gallery, settings), outputs=[gallery, clip], api_name="refresh_gallery"
    )

    def on_select(event: gr.SelectData) -> Any:  # Gradio injects SelectData by annotation
        return pick_from_gallery(settings, event)

    gallery.select(on_select, outputs=clip, api_name=False)
    clip.change(
        partial(select_clip, settings), inputs=clip, outputs=[video, download], api_name="download"
    )
