"""View & Rate: unrated clips, a player, 1-5 stars, statistics and the model panel."""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

import gradio as gr

from kickclip.errors import KickclipError
from kickclip.settings import Settings
from kickclip.webui.core import clip_id_of, clip_label, inside_clips, store

STARS = ["1 - Poor", "2 - Below average", "3 - Average", "4 - Good", "5 - Excellent"]
_training = threading.Lock()


def load_unrated(settings: Settings) -> tuple[Any, Any, str]:
    manager, _ = store(settings)
    clips = manager.get_clips_for_review(limit=200)
    choices = [clip_label(c) for c in clips]
    first = choices[0] if choices else None
    video = str(inside_clips(settings, clips[0].filepath)) if clips else None
    status = f"{len(choices)} clips to rate" if choices else "No unrated clips: generate some."
    return gr.update(choices=choices, value=first), video, status


def show_clip(settings: Settings, choice: str | None) -> tuple[str | None, str]:
    """The clip's file for the player, and why it was picked."""
    if not choice:
        return None, ""
    manager, _ = store(settings)
    try:
        path = str(inside_clips(settings, manager.get_clip(clip_id_of(choice)).filepath))
    except KickclipError as error:
        raise gr.Error(str(error)) from None
    return path, why_markdown(settings, choice)


def why_markdown(settings: Settings, choice: str | None) -> str:
    """The "Why this clip" panel: detector evidence, predicted stars, signed contributions."""
    from kickclip.explain import explain

    if not choice:
        return ""
    manager, trainer = store(settings)
    try:
        explanation = explain(manager, trainer, clip_id_of(choice))
    except KickclipError as error:
        return f"**Why this clip**: {error}"
    text = f"**Why this clip**: {explanation.reason}"
    if explanation.contributions:
        rows = "\n".join(
            f"| {c['feature']} | {c['value']:.3g} | {c['effect']:+.2f} |"
            for c in explanation.contributions[:5]
        )
        text += f"\n\n| feature | value | effect (stars) |\n|---|---|---|\n{rows}"
    return text


def _train_in_background(settings: Settings) -> None:
    def work() -> None:
        with _training:
            _, trainer = store(settings)
            if trainer.should_auto_train():
                trainer.train_from_ratings()

    threading.Thread(target=work, daemon=True).start()


def submit_rating(
    settings: Settings, choice: str | None, stars: str | None
) -> tuple[Any, Any, str]:
    """Store the rating, retrain in the background if due, and move to the next clip."""
    from kickclip.rating import rate

    if not stars:
        raise gr.Error("choose 1 to 5 stars first")
    manager, trainer = store(settings)
    try:
        outcome = rate(manager, trainer, clip_id_of(choice), int(stars[0]), auto_train=False)
    except KickclipError as error:
        raise gr.Error(str(error)) from None
    if trainer.should_auto_train():
        _train_in_background(settings)
    dropdown, video, _ = load_unrated(settings)
    return dropdown, video, f"Rated clip #{outcome.record.id}: {'★' * outcome.record.rating}"


def statistics_markdown(settings: Settings) -> tuple[str, str]:
    manager, trainer = store(settings)
    stats = manager.get_statistics()
    progress = trainer.get_training_progress()
    average = stats["average_rating"]
    widest = max(stats["rating_distribution"].values()) or 1
    bars = "\n".join(
        f"| {'★' * stars} | {'█' * round(20 * n / widest)} | {n} |"
        for stars, n in sorted(stats["rating_distribution"].items(), reverse=True)
    )
    summary = (
        f"**{stats['total_clips']}** clips ({stats['audio_clips']} audio, "
        f"{stats['video_clips']} video) · **{stats['rated_clips']}** rated · average "
        f"**{'–' if average is None else f'{average:.2f}'}**\n\n"
        f"| stars | | clips |\n|---|---|---|\n{bars}"
    )
    if progress["model_trained"]:
        metrics = progress["metrics"] or {}
        model = (
            f"**Model trained** {progress['last_trained_at']} on {metrics.get('n_samples')} "
            f"ratings · CV error {metrics.get('cv_mae_stars')} stars · Spearman "
            f"{metrics.get('cv_spearman')} · next retrain in "
            f"{progress['next_auto_train_in']} ratings"
        )
    else:
        model = (
            f"**Model not trained yet**: {progress['needed']} more ratings needed "
            f"({progress['rated_clips']} of {progress['min_samples']})"
        )
    return summary, model


def train_now(settings: Settings) -> tuple[str, str]:
    _, trainer = store(settings)
    with _training:
        try:
            trained = trainer.train_from_ratings()
        except KickclipError as error:
            raise gr.Error(str(error)) from None
    if not trained:
        raise gr.Error(f"need {trainer.get_training_progress()['needed']} more ratings to train")
    return statistics_markdown(settings)


def build(settings: Settings) -> None:
    with gr.Row():
        load = gr.Button("Load Clips for Rating", variant="primary")
        status = gr.Markdown()
    clip = gr.Dropdown(label="Unrated clip", choices=[], interactive=True)
    video = gr.Video(label="Preview", interactive=False)
    why = gr.Markdown(elem_id="why-panel")
    stars = gr.Radio(STARS, label="Your rating")
    submit = gr.Button("Submit Rating", variant="primary")
    with gr.Row():
        stats = gr.Markdown(elem_id="statistics")
        model = gr.Markdown(elem_id="model-panel")
    with gr.Row():
        refresh = gr.Button("Refresh Statistics")
        train = gr.Button("Train Model Now")

    load.click(
        partial(load_unrated, settings), outputs=[clip, video, status], api_name="load_unrated"
    )
    clip.change(partial(show_clip, settings), inputs=clip, outputs=[video, why], api_name=False)
    submit.click(
        partial(submit_rating, settings),
        inputs=[clip, stars],
        outputs=[clip, video, status],
        api_name="rate",
    ).then(partial(statistics_markdown, settings), outputs=[stats, model], api_name=False)
    refresh.click(partial(statistics_markdown, settings), outputs=[stats, model], api_name="stats")
    train.click(partial(train_now, settings), outputs=[stats, model], api_name="train")
