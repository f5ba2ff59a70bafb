"""View & Rate: unrated clips, a player, 1-5 stars, statistics and the model panel."""

from __future__ import annotations

import re
import threading
from typing import Any

import gradio as gr

from kickclip.errors import KickclipError
from kickclip.records import model_status
from kickclip.settings import Settings
from kickclip.webui.core import (
    UserError,
    as_login,
    clip_id_of,
    clip_label,
    in_clips_folder,
    inside_clips,
    store,
)

STARS = ["1 - Poor", "2 - Below average", "3 - Average", "4 - Good", "5 - Excellent"]
_training = threading.Lock()


QUEUE_LENGTH = 200
# Keys 1-5 rate the clip on screen and S skips it, unless the user is typing in a text box.
KEYS_JS = """
<script>
document.addEventListener("keydown", (event) => {
  const target = event.target;
  const typing = target && (target.isContentEditable || target.tagName === "TEXTAREA" ||
    (target.tagName === "INPUT" && !["radio", "checkbox", "button"].includes(target.type)));
  const panel = document.getElementById("rate-panel");
  if (typing || event.ctrlKey || event.metaKey || event.altKey || !panel ||
      panel.offsetParent === null) return;
  const key = event.key.toLowerCase();
  const id = "12345".includes(key) && key.length === 1 ? "rate-key-" + key
    : key === "s" ? "skip-key" : null;
  const button = id && document.getElementById(id);
  if (button) { event.preventDefault(); button.click(); }
});
</script>
"""


def _playable(settings: Settings, clip: Any) -> bool:
    return in_clips_folder(settings, clip.filepath) is not None


def load_unrated(settings: Settings, skipped: list[int] | None = None) -> tuple[Any, Any, str]:
    """The rating queue (most informative first once a model exists), minus skipped clips and
    clips whose file is gone (named in the status, never an error); the first one shown."""
    _, trainer = store(settings)
    passed = set(skipped or ())
    queue, missing = [], []
    for clip in trainer.review_queue(QUEUE_LENGTH):
        if clip.id in passed:
            continue
        (queue if _playable(settings, clip) else missing).append(clip)
    choices = [clip_label(c) for c in queue]
    video = str(inside_clips(settings, queue[0].filepath)) if queue else None
    status = f"{len(choices)} clips to rate" if choices else "No unrated clips: generate some."
    if missing:
        ids = ", ".join(f"#{c.id}" for c in missing[:5]) + ("…" if len(missing) > 5 else "")
        status += f" · skipped {len(missing)} whose file is missing ({ids})"
    return gr.update(choices=choices, value=choices[0] if choices else None), video, status


def show_clip(settings: Settings, choice: str | None) -> tuple[str | None, str]:
    """The clip's file for the player, and why it was picked."""
    if not choice:
        return None, ""
    manager, _ = store(settings)
    try:
        path = str(inside_clips(settings, manager.get_clip(clip_id_of(choice)).filepath))
    except KickclipError as error:
        raise UserError(str(error)) from None
    return path, why_markdown(settings, choice)


def why_markdown(settings: Settings, choice: str | None) -> str:
    """The "Why this clip" panel: detector evidence, predicted stars, signed contributions."""
    from kickclip import pipeline

    if not choice:
        return ""
    manager, trainer = store(settings)
    try:
        explanation = pipeline.explain(manager, trainer, clip_id_of(choice))
    except KickclipError as error:
        return f"**Why this clip**: {error}"
    clip = manager.get_clip(clip_id_of(choice))
    plain = explanation.plain
    # Plain words first, the numbers after.
    text = (
        f"**Why this clip**: {plain}. ({explanation.reason})"
        if plain
        else f"**Why this clip**: {explanation.reason}"
    )
    if clip.transcript:
        text += f"\n\n**Said**: “{_plain(clip.transcript)}”"
    if explanation.contributions:
        rows = "\n".join(
            f"| {explanation.label(c['feature'])} | {c['value']:.3g} | {c['effect']:+.2f} |"
            for c in explanation.contributions[:5]
        )
        text += f"\n\n| feature | value | effect (stars) |\n|---|---|---|\n{rows}"
    return text


def _plain(text: str) -> str:
    """Words shown as they were said, not read as Markdown."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~-])", r"\\\1", text)


def _train_in_background(settings: Settings) -> bool:
    """Retrain on a thread of its own, so the next clip shows while the model learns; False
    (nothing started) while a training runs: the ratings it missed count towards the next."""
    if not _training.acquire(blocking=False):
        return False

    from kickclip import pipeline

    def work() -> None:
        try:
            pipeline.retrain_if_due(store(settings)[1])  # a failure is logged there
        finally:
            _training.release()

    threading.Thread(target=work, name="kickclip-retrain", daemon=True).start()
    return True


UNSURE_CONFIDENCE = 0.5


def submit_rating(
    settings: Settings,
    choice: str | None,
    stars: str | int | None,
    skipped: list[int] | None = None,
    unsure: bool = False,
) -> tuple[Any, Any, str]:
    """Store the rating (counting half when ``unsure``), retrain in the background if due, and
    move to the next clip."""
    from kickclip import pipeline

    if not stars:
        raise UserError("choose 1 to 5 stars first")
    manager, trainer = store(settings)
    try:
        outcome = pipeline.rate(
            manager,
            trainer,
            clip_id_of(choice),
            int(str(stars)[0]),
            confidence=UNSURE_CONFIDENCE if unsure else None,
            auto_train=False,
        )
    except KickclipError as error:
        raise UserError(str(error)) from None
    retraining = trainer.should_auto_train() and _train_in_background(settings)
    dropdown, video, queue_status = load_unrated(settings, skipped)
    status = f"Rated clip #{outcome.record.id}: {'★' * outcome.record.rating}"
    if outcome.record.confidence is not None:
        status += " (not sure: counts half)"
    if retraining:
        status += " · retraining the model in the background"
    if " · skipped" in queue_status:
        status += " · " + queue_status.split(" · ", 1)[1]
    return dropdown, video, status


def rate_key(
    settings: Settings, stars: int, choice: str | None, skipped: list[int] | None, unsure: bool
) -> tuple[Any, Any, str]:
    """A key (or its button) 1-5: rate the clip on screen and show the next."""
    return submit_rating(settings, choice, stars, skipped, unsure)


def skip(
    settings: Settings, choice: str | None, skipped: list[int] | None
) -> tuple[Any, Any, str, list[int]]:
    """Leave the clip unrated for this session and show the next one."""
    passed = [*(skipped or ()), clip_id_of(choice)]
    dropdown, video, status = load_unrated(settings, passed)
    return dropdown, video, f"Skipped clip #{passed[-1]} · {status}", passed


def learning_curve(settings: Settings) -> Any:
    """Cross-validated error and Spearman of every model version, against its ratings."""
    import pandas as pd

    _, trainer = store(settings)
    rows = [
        {"ratings": v["n_ratings"], "metric": name, "value": v[key]}
        for v in trainer.versions()
        for name, key in (("CV error (stars)", "cv_mae"), ("Spearman", "spearman"))
        if v[key] is not None
    ]
    frame = pd.DataFrame(rows, columns=["ratings", "metric", "value"])
    # Numbers as numbers: an empty or object column would be drawn as categories.
    return frame.astype({"ratings": "int64", "value": "float64", "metric": "object"})


def curve_figure(settings: Settings) -> Any:
    """The learning curve as a picture: each metric against the ratings each model version
    was trained on, a point per version (one version is one point, not an empty box)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    frame = learning_curve(settings)
    figure = Figure(figsize=(9, 2.8), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    if frame.empty:
        axes.text(
            0.5, 0.5, "No model yet: it trains once 10 clips are rated", ha="center", va="center"
        )
        axes.set_axis_off()
        return figure
    colours = {"CV error (stars)": "#f97316", "Spearman": "#2563eb"}
    for metric, rows in frame.groupby("metric"):
        rows = rows.sort_values("ratings")
        axes.plot(
            rows["ratings"], rows["value"], marker="o", color=colours.get(metric), label=metric
        )
    counts = sorted(set(frame["ratings"]))
    if len(counts) <= 12:  # a tick at each version: one version is one tick, not "10.000000"
        axes.set_xticks(counts)
    else:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlim(counts[0] - 2.5, counts[-1] + 2.5)
    axes.set_xlabel("ratings trained on")
    axes.set_ylabel("cross-validated")
    axes.set_title("Learning curve: every model version", fontsize=10, loc="left")
    axes.legend(fontsize=8, frameon=False)
    axes.grid(alpha=0.25)
    return figure


def statistics_markdown(settings: Settings) -> tuple[str, str]:
    manager, trainer = store(settings)
    stats = manager.get_statistics(user=settings.user)
    progress = trainer.get_training_progress()
    average = stats["average_rating"]
    widest = max(stats["rating_distribution"].values()) or 1
    bars = "\n".join(
        f"| {'★' * stars} | {'█' * round(20 * n / widest)} | {n} |"
        for stars, n in sorted(stats["rating_distribution"].items(), reverse=True)
    )
    summary = (
        (f"Rating as **{settings.user}**\n\n" if settings.user else "")
        + f"**{stats['total_clips']}** clips ({stats['audio_clips']} audio, "
        f"{stats['video_clips']} video, {stats['chat_clips']} chat) · "
        f"**{stats['rated_clips']}** rated · average "
        f"**{'–' if average is None else f'{average:.2f}'}**\n\n"
        f"| stars | | clips |\n|---|---|---|\n{bars}"
    )
    if progress["model_trained"]:
        metrics = progress["metrics"] or {}
        rho = metrics.get("cv_spearman")
        order = (
            "" if rho is None else f" · orders your ratings at Spearman {rho:.2f} (1 is perfect)"
        )
        model = (
            f"**Model {model_status(progress)}**{order} · next retrain in "
            f"{progress['next_auto_train_in']} ratings"
        )
    else:
        model = (
            f"**Model not trained yet**: {progress['needed']} more ratings needed "
            f"({progress['rated_clips']} of {progress['min_samples']})"
        )
        if progress["serving"] == "shared":
            model += "; until then the team's shared model ranks your clips"
    return summary, model


def train_now(settings: Settings) -> tuple[str, str]:
    from kickclip import pipeline

    _, trainer = store(settings)
    with _training:
        try:
            trained = pipeline.train(trainer)
        except KickclipError as error:
            raise UserError(str(error)) from None
    if not trained:
        raise UserError(f"need {trainer.get_training_progress()['needed']} more ratings to train")
    return statistics_markdown(settings)


def build(settings: Settings, *, per_user: bool = False) -> list[tuple[Any, list[Any]]]:
    """The tab; with ``per_user`` (several logins), whoever is logged in rates as themselves.
    Returns what the page fills when it opens: (handler, outputs) pairs."""
    skipped = gr.State([])
    with gr.Column(elem_id="rate-panel"):
        with gr.Row():
            load = gr.Button("Load Clips for Rating", variant="primary")
            status = gr.Markdown(elem_id="rate-status")
        clip = gr.Dropdown(label="Unrated clip", choices=[], interactive=True, elem_id="rate-clip")
        video = gr.Video(label="Preview", interactive=False, autoplay=True)
        why = gr.Markdown(elem_id="why-panel")
        gr.Markdown("Keys **1**-**5** rate the clip on screen and show the next; **S** skips.")
        with gr.Row():
            keys = [
                gr.Button(f"{n} {'★' * n}", elem_id=f"rate-key-{n}", size="sm") for n in range(1, 6)
            ]
            skip_button = gr.Button("Skip (S)", elem_id="skip-key", size="sm")
        unsure = gr.Checkbox(
            label="Not sure about this one (the rating counts half)", elem_id="unsure"
        )
        stars = gr.Radio(STARS, label="Your rating")
        submit = gr.Button("Submit Rating", variant="primary")
    with gr.Row():
        stats = gr.Markdown(elem_id="statistics")
        model = gr.Markdown(elem_id="model-panel")
    curve = gr.Plot(label="Learning curve", elem_id="learning-curve")
    with gr.Row():
        refresh = gr.Button("Refresh Statistics")
        train = gr.Button("Train Model Now")

    # Plain functions, not partials: Gradio hands a handler the request (whose login says who
    # is rating) only when it can read the handler's annotations.
    def mine(request: gr.Request | None) -> Settings:
        return as_login(settings, request, per_user)

    def on_load(skipped, request: gr.Request = None):  # type: ignore[assignment]
        return load_unrated(mine(request), skipped)

    def on_show(choice, request: gr.Request = None):  # type: ignore[assignment]
        return show_clip(mine(request), choice)

    def on_submit(choice, stars, skipped, unsure, request: gr.Request = None):  # type: ignore[assignment]
        return submit_rating(mine(request), choice, stars, skipped, unsure)

    def on_key(number: int) -> Any:
        def handler(choice, skipped, unsure, request: gr.Request = None):  # type: ignore[assignment]
            return rate_key(mine(request), number, choice, skipped, unsure)

        return handler

    def on_skip(choice, skipped, request: gr.Request = None):  # type: ignore[assignment]
        return skip(mine(request), choice, skipped)

    def on_stats(request: gr.Request = None):  # type: ignore[assignment]
        return statistics_markdown(mine(request))

    def on_curve(request: gr.Request = None):  # type: ignore[assignment]
        return curve_figure(mine(request))

    def on_train(request: gr.Request = None):  # type: ignore[assignment]
        return train_now(mine(request))

    def then_panels(event: Any) -> None:
        event.then(lambda: False, outputs=unsure, api_name=False).then(
            on_stats, outputs=[stats, model], api_name=False
        ).then(on_curve, outputs=curve, api_name=False)

    load.click(on_load, inputs=skipped, outputs=[clip, video, status], api_name="load_unrated")
    clip.change(on_show, inputs=clip, outputs=[video, why], api_name=False)
    then_panels(
        submit.click(
            on_submit,
            inputs=[clip, stars, skipped, unsure],
            outputs=[clip, video, status],
            api_name="rate",
        )
    )
    for number, key in enumerate(keys, start=1):
        then_panels(
            key.click(
                on_key(number),
                inputs=[clip, skipped, unsure],
                outputs=[clip, video, status],
                api_name=False,
            )
        )
    skip_button.click(
        on_skip, inputs=[clip, skipped], outputs=[clip, video, status, skipped], api_name=False
    )
    refresh.click(on_stats, outputs=[stats, model], api_name="stats").then(
        on_curve, outputs=curve, api_name="learning_curve"
    )
    train.click(on_train, outputs=[stats, model], api_name="train").then(
        on_curve, outputs=curve, api_name=False
    )
    # Filled when the page opens, not at the first click.
    return [(on_stats, [stats, model]), (on_curve, [curve])]
