"""Browse & Download: the 50 newest clips (of a tag, if chosen) as a gallery; preview, tag,
download, trim and export one for posting."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import gradio as gr

from kickclip.errors import KickclipError
from kickclip.records import clock
from kickclip.settings import Settings
from kickclip.webui.core import (
    UserError,
    as_login,
    clip_id_of,
    clip_label,
    in_clips_folder,
    inside_clips,
    may_delete,
    source_label,
    store,
)

if TYPE_CHECKING:
    from kickclip.store.clip_manager import ClipRecord

ALL_TAGS = "(all clips)"
DECLINED = "(declined)"


PAGE_SIZE = 50
SORTS = {"newest first": "newest", "best score first": "score", "best rated first": "rating"}


def refresh_gallery(
    settings: Settings,
    tag: str | None = None,
    search: str | None = None,
    keep: str | None = None,
    sort: str | None = None,
    page: float | None = 1,
) -> tuple[list[tuple[str, str]], Any, Any]:
    """A page of PAGE_SIZE clips (with ``tag``, whose words hold ``search``), newest first
    or as ``sort`` says, as gallery items; the clip chosen (``keep``) stays chosen while it
    is among them."""
    manager, _ = store(settings)
    chosen = None if tag in (None, "", ALL_TAGS) else tag
    first = (max(int(page or 1), 1) - 1) * PAGE_SIZE
    try:
        clips = manager.list_clips(
            limit=PAGE_SIZE,
            tag=chosen,
            user=settings.user,
            search=(search or "").strip() or None,
            sort=SORTS.get(sort or "", "newest"),
            offset=first,
        )
    except KickclipError as error:
        raise UserError(str(error)) from None
    gallery = [
        (str(thumbnail), gallery_caption(c))
        for c in clips
        if (thumbnail := in_clips_folder(settings, c.thumbnail_path)) is not None
    ]
    tags = [ALL_TAGS, *manager.tag_counts()]
    labels = [clip_label(c) for c in clips]
    return (
        gallery,
        gr.update(choices=labels, value=keep if keep in labels else None),
        gr.update(choices=tags, value=chosen if chosen in tags else ALL_TAGS),
    )


def page_count(
    settings: Settings, tag: str | None = None, search: str | None = None, page: float | None = 1
) -> Any:
    """The page control, saying which page of how many the gallery shows."""
    manager, _ = store(settings)
    chosen = None if tag in (None, "", ALL_TAGS) else tag
    total = manager.count_clips(chosen, user=settings.user, search=(search or "").strip() or None)
    pages = max(-(-total // PAGE_SIZE), 1)
    return gr.update(
        label=f"Page {max(int(page or 1), 1)} of {pages} ({total} clips, {PAGE_SIZE} a page)",
        maximum=pages,
    )


def gallery_caption(clip: ClipRecord) -> str:
    """What tells one clip from the next: its source, span, type, stars, tags and words."""
    return (
        f"#{clip.id} · {source_label(clip)} · {clock(clip.start_time)}–{clock(clip.end_time)} · "
        f"{clip.clip_type} · {'★' * (clip.rating or 0) or 'unrated'} · score {clip.score:.2f}"
        + (f" · {' '.join(clip.tags)}" if clip.tags else "")
        + (f" · “{said}”" if (said := _opening_words(clip.transcript)) else "")
    )


def _opening_words(transcript: str | None, count: int = 8) -> str:
    words = (transcript or "").split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")


def clip_tags(settings: Settings, choice: str | None) -> str:
    if not choice:
        return ""
    manager, _ = store(settings)
    try:
        return " ".join(manager.get_clip(clip_id_of(choice)).tags)
    except KickclipError as error:
        raise UserError(str(error)) from None


def save_tags(settings: Settings, choice: str | None, text: str) -> tuple[str, str]:
    """Make the box's space-separated tags the clip's tags; the stored tags and a status."""
    manager, _ = store(settings)
    try:
        record = manager.set_tags(clip_id_of(choice), (text or "").split())
    except KickclipError as error:
        raise UserError(str(error)) from None
    return " ".join(record.tags), f"Clip #{record.id} tags: {' '.join(record.tags) or '(none)'}"


def select_clip(settings: Settings, choice: str | None) -> tuple[str | None, str | None]:
    """The clip's file for the preview and the download, checked to lie in the clips folder."""
    if not choice:
        return None, None
    manager, _ = store(settings)
    try:
        path = str(inside_clips(settings, manager.get_clip(clip_id_of(choice)).filepath))
    except KickclipError as error:
        raise UserError(str(error)) from None
    return path, path


def pick_from_gallery(settings: Settings, event: gr.SelectData) -> Any:
    caption = str(event.value.get("caption", "")) if isinstance(event.value, dict) else ""
    clip_id = clip_id_of(caption)
    manager, _ = store(settings)
    return clip_label(manager.get_clip(clip_id))


def delete_clip(settings: Settings, choice: str | None, tag: str | None) -> tuple[Any, ...]:
    """Delete the chosen clip (files, row, rating, tags); the refreshed gallery and a status."""
    from kickclip import pipeline

    if choice == DECLINED:  # the browser's "Delete this clip?" was answered Cancel
        return (*refresh_gallery(settings, tag), "Nothing deleted.")
    if not choice:
        raise UserError("Choose a clip to delete first (in the gallery or the Clip list).")
    manager, _ = store(settings)
    try:
        deletion = pipeline.delete(manager, [clip_id_of(choice)], settings.out)
    except KickclipError as error:
        raise UserError(str(error)) from None
    status = f"Deleted clip #{deletion.clips[0].id}"
    if deletion.files_left:
        status += f"; left {len(deletion.files_left)} file(s) outside the clips folder"
    return (*refresh_gallery(settings, tag), status)


STRIP_S = 30.0  # the trim sliders reach this far beyond the clip on each side


STRIP_TILES = 12


def trim_range(settings: Settings, choice: str | None) -> tuple[Any, Any, str, Any, Any]:
    """The trim sliders for the chosen clip (its start and end, as far as STRIP_S around
    them as its source reaches), the strip of the stream under them, and that strip's frames
    (kept for redrawing as the sliders move)."""
    from kickclip import pipeline

    if not choice:
        return gr.update(), gr.update(), "", None, None
    manager, _ = store(settings)
    try:
        clip = manager.get_clip(clip_id_of(choice))
        low, high, frames = pipeline.filmstrip(manager, clip.id, STRIP_S, settings)
    except KickclipError as error:
        raise UserError(str(error)) from None
    strip = (low, high, frames)
    return (
        gr.update(minimum=low, maximum=clip.end_time, value=clip.start_time),
        gr.update(minimum=clip.start_time, maximum=high, value=clip.end_time),
        f"Clip #{clip.id}: {clip.start_time:.2f}-{clip.end_time:.2f} s of its source",
        draw_strip(strip, clip.start_time, clip.end_time),
        strip,
    )


def draw_strip(strip: Any, start: float, end: float) -> Any:
    """The stream from ``low`` to ``high`` as STRIP_TILES pictures side by side, each its
    share of the time; outside [start, end] dimmed, the two ends marked."""
    import numpy as np

    if not strip or not strip[2]:
        return None
    low, high, frames = strip
    times = np.array([t for t, _ in frames])
    tile_h, tile_w = frames[0][1].shape[:2]
    tiles = []
    for n in range(STRIP_TILES):
        middle = low + (n + 0.5) * (high - low) / STRIP_TILES
        nearest = frames[int(np.argmin(np.abs(times - middle)))][1]
        if nearest.shape[:2] != (tile_h, tile_w):  # the stream changed resolution
            from PIL import Image

            nearest = np.asarray(Image.fromarray(nearest).resize((tile_w, tile_h)))
        tiles.append(nearest)
    picture = np.concatenate(tiles, axis=1).astype(np.float32)
    width = picture.shape[1]

    def x_of(t: float) -> int:
        return round((min(max(t, low), high) - low) / max(high - low, 1e-6) * (width - 1))

    left, right = x_of(start), x_of(end)
    picture[:, :left] *= 0.35
    picture[:, right + 1 :] *= 0.35
    for x in (left, right):
        picture[:, max(x - 2, 0) : x + 2] = (249, 115, 22)
    return picture.astype(np.uint8)


def trim_clip(
    settings: Settings, choice: str | None, start: float, end: float
) -> tuple[str | None, str]:
    """Trim (or extend) the chosen clip; its new file for the preview, and a status."""
    from kickclip import pipeline

    if not choice:
        raise UserError("Choose a clip first.")
    manager, _ = store(settings)
    try:
        record = pipeline.trim(manager, clip_id_of(choice), float(start), float(end), settings)
        path = str(inside_clips(settings, record.filepath))
    except KickclipError as error:
        raise UserError(str(error)) from None
    return path, (
        f"Clip #{record.id} is now {record.start_time:.2f}-{record.end_time:.2f} s "
        f"({record.duration:.1f} s)"
    )


def export_for_posting(
    settings: Settings,
    choice: str | None,
    aspect: str,
    layout: str,
    facecam: str,
    captions: str,
) -> tuple[str | None, str | None, str]:
    """Export the chosen clip for posting; the export for the preview and the download, and a
    status."""
    from kickclip import pipeline
    from kickclip.post.framing import rect_from_text
    from kickclip.post.render import PostOptions

    if not choice:
        raise UserError("Choose a clip first.")
    manager, _ = store(settings)
    try:
        options = PostOptions(
            aspect=aspect,
            layout=layout,
            facecam=rect_from_text(facecam) if (facecam or "").strip() else None,
            captions=captions,
        )
        (export,) = pipeline.export_for_posting(manager, [clip_id_of(choice)], options, settings)
        path = str(inside_clips(settings, export.rendered.filepath))
    except KickclipError as error:
        raise UserError(str(error)) from None
    r = export.rendered
    cam = f", facecam {','.join(map(str, r.facecam))}" if r.facecam else ""
    return path, path, f"Exported clip #{export.clip_id}: {r.width}×{r.height}, {r.layout}{cam}"


def build(settings: Settings, *, per_user: bool = False, admins: tuple[str, ...] = ()) -> None:
    """The tab; with ``per_user`` (several logins), the ratings shown are the viewer's, and
    only ``admins`` delete."""
    with gr.Row():
        refresh = gr.Button("Refresh Gallery", variant="primary")
        tag = gr.Dropdown(
            label="Tag", choices=[ALL_TAGS], value=ALL_TAGS, interactive=True, elem_id="tag-filter"
        )
        said = gr.Textbox(
            label="Words said (Enter to search)",
            placeholder="no way",
            elem_id="words-search",
        )
    with gr.Row():
        sort = gr.Dropdown(list(SORTS), value="newest first", label="Order", elem_id="gallery-sort")
        page = gr.Number(
            value=1,
            minimum=1,
            precision=0,
            label=f"Page ({PAGE_SIZE} clips a page)",
            elem_id="gallery-page",
        )
    gallery = gr.Gallery(
        label="Clips",
        columns=5,
        height="auto",
        object_fit="contain",  # thumbnails at their own aspect, not cropped to squares
        elem_id="browse-gallery",
    )
    clip = gr.Dropdown(label="Clip", choices=[], interactive=True, elem_id="browse-clip")
    with gr.Row():
        video = gr.Video(label="Preview", interactive=False)
        download = gr.File(label="Download", interactive=False, elem_id="browse-download")
    with gr.Row():
        tags = gr.Textbox(label="Tags (separated by spaces)", elem_id="clip-tags")
        save = gr.Button("Save Tags")
        remove = gr.Button("Delete Clip", variant="stop", elem_id="delete-clip")
        saved = gr.Markdown(elem_id="browse-status")
    with gr.Accordion("Trim", open=False, elem_id="trim-panel"):
        with gr.Row():
            start = gr.Slider(label="Start (s of the source)", step=0.1, elem_id="trim-start")
            end = gr.Slider(label="End (s of the source)", step=0.1, elem_id="trim-end")
        strip = gr.Image(
            label="The stream around the clip (what the trim keeps is lit)",
            interactive=False,
            elem_id="trim-strip",
        )
        strip_frames = gr.State()
        with gr.Row():
            trim = gr.Button("Apply Trim", elem_id="apply-trim")
            trimmed = gr.Markdown(elem_id="trim-status")
    with gr.Accordion("Export for posting", open=False, elem_id="export-panel"):
        with gr.Row():
            aspect = gr.Dropdown(["9:16", "1:1", "16:9"], value="9:16", label="Aspect")
            layout = gr.Dropdown(
                ["auto", "stack", "crop", "fit"], value="auto", label="Layout", elem_id="layout"
            )
            facecam = gr.Textbox(
                label="Facecam x,y,w,h (empty: found)", placeholder="900,20,360,270"
            )
            captions = gr.Radio(["burn", "srt", "none"], value="burn", label="Captions")
        export = gr.Button("Export", variant="primary", elem_id="export-clip")
        with gr.Row():
            exported = gr.Video(label="For posting", interactive=False, elem_id="export-video")
            export_file = gr.File(label="Download", interactive=False, elem_id="export-file")
        export_status = gr.Markdown(elem_id="export-status")

    # Plain functions where the viewer matters: Gradio hands over the request (whose login
    # says whose ratings to show) only when it can read the handler's annotations.
    def on_refresh(chosen, order, number, current=None, request: gr.Request = None):  # type: ignore[assignment]
        viewer = as_login(settings, request, per_user)
        return refresh_gallery(viewer, chosen, keep=current, sort=order, page=number)

    def on_delete(choice, chosen, request: gr.Request = None):  # type: ignore[assignment]
        if choice:  # the browser's confirm is not a check: the server asks who deletes
            may_delete(request, per_user, admins)
        return delete_clip(as_login(settings, request, per_user), choice, chosen)

    def on_search(chosen, text, order, number, request: gr.Request = None):  # type: ignore[assignment]
        viewer = as_login(settings, request, per_user)
        return refresh_gallery(viewer, chosen, text, sort=order, page=number)

    def on_count(chosen, text, number, request: gr.Request = None):  # type: ignore[assignment]
        return page_count(as_login(settings, request, per_user), chosen, text, number)

    shown = [gallery, clip, tag]
    counted = {"fn": on_count, "inputs": [tag, said, page], "outputs": page, "api_name": False}
    refresh.click(
        on_refresh, inputs=[tag, sort, page], outputs=shown, api_name="refresh_gallery"
    ).then(**counted)
    said.submit(
        on_search, inputs=[tag, said, sort, page], outputs=shown, api_name="search_clips"
    ).then(**counted)
    for control in (tag, sort, page):  # a new filter, order or page keeps the chosen clip
        control.input(
            on_refresh, inputs=[tag, sort, page, clip], outputs=shown, api_name=False
        ).then(**counted)
    clip.change(partial(clip_tags, settings), inputs=clip, outputs=tags, api_name=False)
    save.click(
        partial(save_tags, settings), inputs=[clip, tags], outputs=[tags, saved], api_name="tag"
    )
    remove.click(
        on_delete,
        inputs=[clip, tag],
        outputs=[gallery, clip, tag, saved],
        js=(
            "(clip, tag) => [clip ? (confirm('Delete this clip and its files?') ? clip : "
            f"'{DECLINED}') : null, tag]"
        ),
        api_name="delete",
    )

    def on_select(event: gr.SelectData) -> Any:  # Gradio injects SelectData by annotation
        return pick_from_gallery(settings, event)

    gallery.select(on_select, outputs=clip, api_name=False)
    clip.change(
        partial(select_clip, settings), inputs=clip, outputs=[video, download], api_name="download"
    )
    clip.change(
        partial(trim_range, settings),
        inputs=clip,
        outputs=[start, end, trimmed, strip, strip_frames],
        api_name=False,
    )
    for slider in (start, end):  # the strip follows the sliders before the trim is applied
        slider.input(draw_strip, inputs=[strip_frames, start, end], outputs=strip, api_name=False)
    trim.click(
        partial(trim_clip, settings),
        inputs=[clip, start, end],
        outputs=[video, trimmed],
        api_name="trim",
    )
    export.click(
        partial(export_for_posting, settings),
        inputs=[clip, aspect, layout, facecam, captions],
        outputs=[exported, export_file, export_status],
        api_name="export_clip",
    )
