"""The stage order, and the only place that chains stages.

    ingest → analyze → detect → rescore → (cut → store)
    rate → store → (learn)     explain: store + learn     delete, cleanup, export, import: store

``analyze`` writes nothing (a live source's recording aside: it is the clip source). The CLI,
the web UI and batch reach the stages through these functions; they read the store and the
model's status through the public :class:`ClipManager` and :class:`RatingBasedTrainer`.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, replace
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kickclip.errors import CutError, KickclipError, StoreError
from kickclip.progress import ProgressCallback, no_progress, scaled
from kickclip.records import (
    Analysis,
    CutClip,
    GeneratedClip,
    Generation,
    Highlight,
    MediaInfo,
    Transcript,
    Word,
    clock,
)
from kickclip.settings import DEFAULT_SETTINGS, Settings

if TYPE_CHECKING:
    from kickclip.explain import Explanation
    from kickclip.housekeeping import CleanupReport, Deletion
    from kickclip.learn.model import HighlightModel
    from kickclip.learn.span import SpanHabit
    from kickclip.learn.trainer import RatingBasedTrainer
    from kickclip.post.render import PostOptions, Rendered
    from kickclip.store.clip_manager import ClipManager, ClipRecord
    from kickclip.store.exchange import ImportSummary
    from kickclip.words.boundaries import Loudness
    from kickclip.words.speech import Listener

log = logging.getLogger(__name__)


def analyze(
    source: str,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    on_progress: ProgressCallback = no_progress,
) -> Analysis:
    """Find the highlights of ``source``, ranked by the learned taste once a model exists."""
    from kickclip.analyze import extract_features
    from kickclip.detect import find_highlights, timeline
    from kickclip.ingest import open_source
    from kickclip.rescore import blend, choose, pool_size

    messages = None
    if settings.chat is not None:  # read first: a malformed log stops the run before work
        from kickclip.chat.formats import read_chat

        messages = read_chat(settings.chat, offset_s=settings.chat_offset)
    media = open_source(source, settings, on_progress=scaled(on_progress, 0.0, 0.05))
    features = extract_features(
        media, thorough=settings.thorough, on_progress=scaled(on_progress, 0.05, 1.0)
    )
    features = replace(features, warnings=(*media.notes, *features.warnings))
    if messages is None and media.chat:  # a live channel's chat, recorded with the stream
        messages = list(media.chat)
    if messages is None and media.chat_channel_id and media.started_at:
        from kickclip.chat.kick import fetch_vod_chat

        on_progress(1.0, "reading the chat replay")
        messages, chat_warnings = fetch_vod_chat(
            media.chat_channel_id, media.started_at, features.duration_s
        )
        features = replace(features, warnings=(*features.warnings, *chat_warnings))
    chat = None
    if messages:
        from kickclip.chat.features import chat_for

        chat = chat_for(messages, features)
        features = replace(features, chat=chat.series)
    candidates = find_highlights(
        features,
        clip_duration_s=settings.clip_duration,
        min_gap_s=settings.min_gap,
        top=pool_size(settings.top),
    )
    if chat is not None:
        candidates = [chat.annotate(highlight) for highlight in candidates]
    model = taste(settings)
    warnings = features.warnings
    if model is not None and getattr(model, "uses_words", False):
        candidates, note = _hear_candidates(candidates, media, model, settings, on_progress)
        warnings = (*warnings, note) if note else warnings
    if model is not None:
        candidates = blend(
            candidates, model.predict_one, model.n_samples_, model.metrics_.get("blend_gate")
        )
    highlights = choose(candidates, settings.top)
    habit = _span_habit(settings)
    if habit is not None and highlights:
        highlights = [habit.apply(h, features.duration_s) for h in highlights]
        warnings = (*warnings, habit.describe())
    return Analysis(
        media=media,
        duration_s=features.duration_s,
        highlights=tuple(highlights),
        warnings=warnings,
        timeline=timeline(features),
        features=features,
    )


def taste(settings: Settings) -> HighlightModel | None:
    """The user's learned taste (the shared one when they have none yet), or None."""
    from kickclip.learn.model_file import load_model
    from kickclip.learn.trainer import taste_dirs
    from kickclip.store.clip_manager import read_model_key

    key = read_model_key(settings.db)
    models = (load_model(folder, key) for folder in taste_dirs(settings.models_dir, settings.user))
    return next((model for model in models if model is not None), None)


def _hear_candidates(
    candidates: list[Highlight],
    media: MediaInfo,
    model: HighlightModel,
    settings: Settings,
    on_progress: ProgressCallback,
) -> tuple[list[Highlight], str | None]:
    """Each candidate with what was said in it, for a taste that learned from words (about
    2 s a candidate); without the speech extra, as they are, and a line saying so."""
    from kickclip.words.speech import listen

    if not settings.words:  # --no-words: nothing is heard, the candidates neither
        return candidates, None
    ear, missing = ear_for(settings)
    if ear is None:
        return candidates, f"your taste learned from words, ranked without them: {missing}"
    heard = []
    for number, highlight in enumerate(candidates):
        on_progress(1.0, f"hearing candidate {number + 1} of {len(candidates)} (your taste)")
        start, end = highlight.start_s, highlight.end_s
        _, words = _hear(ear, listen(media, start, end), start)
        text = Transcript(ear.name, words).within(start, end).text
        features = model.with_words(highlight.features, text, end - start)
        heard.append(replace(highlight, features=features))
    return heard, None


def _span_habit(settings: Settings) -> SpanHabit | None:
    """How the user's trims say clips should start and end (an existing store only)."""
    from kickclip.learn.span import span_habit
    from kickclip.store.backends import is_postgres_url
    from kickclip.store.clip_manager import ClipManager

    if not (is_postgres_url(settings.db) or Path(settings.db).is_file()):
        return None
    return span_habit(ClipManager(settings.db).span_edits())


def source_keys(source: str) -> tuple[str, ...]:
    """The names a source is stored under: a local file by its absolute path (and, for rows
    from before, the text given); anything else by its text."""
    if os.path.exists(source):
        return (os.path.realpath(source), source)
    return (source,)


def stored_names(media: MediaInfo) -> tuple[str, ...]:
    """Where the clips of ``media`` are stored (the first name) and looked for: a live
    recording under its source and when it began (another recording of the channel has
    another clock); a Kick VOD under its stream's name too (where a watch stored them)."""
    if media.is_live and media.recorded_at is not None:
        return (f"{media.source}@{media.recorded_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",)
    keys = source_keys(media.source)
    return (*keys, media.stream) if media.stream else keys


RECORDED = re.compile(r"@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def channel_of(source_url: str | None) -> str | None:
    """Whose stream a stored source is: a recording's or a Kick stream's name stands for its
    channel (which keeps its face-cam from one stream to the next)."""
    if not source_url:
        return source_url
    name = RECORDED.sub("", source_url)
    return "https://kick.com/" + name.removeprefix("kick:") if name.startswith("kick:") else name


def generate(
    source: str,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    on_progress: ProgressCallback = no_progress,
    manager: ClipManager | None = None,
) -> Generation:
    """Analyze, then cut and register every highlight; one failed clip spares the others.

    A highlight already stored for this source (overlapping a stored clip by more than half)
    is reused, not cut again, unless ``settings.force``: then it is cut again and the stored
    clip (its id, rating and tags) points at the new cut.
    """
    from kickclip.store.clip_manager import ClipManager

    if (
        manager is None
        and isinstance(settings.db, Path)
        and not settings.db.absolute().parent.is_dir()
    ):
        raise StoreError(f"cannot open clip database {settings.db}: its folder does not exist")
    _retrain_outdated(settings, manager)
    ear, words_note = ear_for(settings)  # before the analysis: a bad --speech-model stops here
    analysis = analyze(source, settings, on_progress=scaled(on_progress, 0.0, 0.7))
    manager = manager or ClipManager(settings.db)  # only now: a bad source creates nothing
    generation = cut_and_register(analysis, settings, manager, on_progress=on_progress, ear=ear)
    if words_note and generation.clips:
        generation = replace(generation, warnings=(*generation.warnings, words_note))
    return generation


def ear_for(settings: Settings) -> tuple[Listener | None, str | None]:
    """The speech model when words are wanted; without the speech extra, none and a line
    saying how to get it (a model folder asked for by name must load)."""
    if not settings.words:
        return None, None
    from kickclip.errors import SpeechUnavailable
    from kickclip.words.speech import listener

    try:
        return listener(settings.speech_model), None
    except SpeechUnavailable as error:
        if settings.speech_model is not None:
            raise
        return None, f"clips cut without words: {error}"


def _retrain_outdated(settings: Settings, manager: ClipManager | None) -> None:
    """A model an older kickclip trained is retrained from the ratings before it ranks."""
    from kickclip.learn.model_file import is_outdated
    from kickclip.learn.trainer import RatingBasedTrainer, user_models_dir
    from kickclip.store.clip_manager import ClipManager, read_model_key

    key = read_model_key(settings.db)
    if key is None or not is_outdated(user_models_dir(settings.models_dir, settings.user), key):
        return
    manager = manager or ClipManager(settings.db)
    RatingBasedTrainer(manager, settings.models_dir, user=settings.user).retrain_if_outdated()


def cut_and_register(
    analysis: Analysis,
    settings: Settings,
    manager: ClipManager,
    *,
    on_progress: ProgressCallback = no_progress,
    ear: Listener | None = None,
) -> Generation:
    """Cut the highlights of an analysis (reusing stored ones) and register them, hearing
    their words with ``ear``; then a live source's recording is removed unless
    ``settings.keep_recording``."""
    try:
        return _cut_and_register(analysis, settings, manager, on_progress, ear)
    finally:
        if analysis.media.is_live and not settings.keep_recording:
            Path(analysis.media.cut_url).unlink(missing_ok=True)


def _cut_and_register(
    analysis: Analysis,
    settings: Settings,
    manager: ClipManager,
    on_progress: ProgressCallback,
    ear: Listener | None,
) -> Generation:
    from kickclip.cut import cut_clip
    from kickclip.housekeeping import clip_note, files_of

    keys = stored_names(analysis.media)
    clips, failures = [], []
    total = len(analysis.highlights)
    for number, highlight in enumerate(analysis.highlights):
        on_progress(0.7 + 0.3 * number / max(total, 1), f"cutting clip {number + 1} of {total}")
        # A clip this run already handed out is another moment's: never share one id.
        taken = [clip.clip_id for clip in clips]
        stored = manager.find_overlapping(
            keys, highlight.start_s, highlight.end_s, exclude=taken, peak=highlight.peak_s
        )
        if stored is not None and not settings.force and Path(stored.filepath).is_file():
            clips.append(_reused(stored, highlight))
            continue
        heard = None
        if ear is not None:
            highlight, heard = between_words(analysis.media, highlight, ear)
        note = clip_note(
            keys[0],
            highlight.start_s,
            highlight.end_s,
            highlight.score,
            highlight.clip_type,
            dict(highlight.features),
        )
        try:
            # Boundaries between words hold only if the file starts exactly there.
            exact = settings.accurate or bool(heard and heard.words)
            cut = cut_clip(analysis.media, highlight, settings.out, accurate=exact, note=note)
        except CutError as error:
            failures.append(str(error))
            continue
        if stored is not None:  # --force, or its file was gone: the same clip, cut anew
            record = manager.recut_clip(
                stored.id,
                cut.filepath,
                cut.start_s,
                cut.end_s,
                highlight.score,
                highlight.features,
                reason=highlight.detector_reason,
                transcript=_heard_in(heard, cut),
            )
            _remove_unless(files_of(stored), files_of(record))
            clips.append(GeneratedClip(record.id, highlight, cut, transcript=record.transcript))
            continue
        record, created = manager.register_moment(
            cut.filepath,
            cut.start_s,
            cut.end_s,
            highlight.score,
            highlight.clip_type,
            highlight.features,
            keys[0],
            sources=keys,
            reason=highlight.detector_reason,
            exclude=taken,
            transcript=_heard_in(heard, cut),
        )
        if created:
            clips.append(GeneratedClip(record.id, highlight, cut, transcript=record.transcript))
        else:  # another process stored this moment while this one cut it: theirs stays
            _remove_unless(_files_of_cut(cut), files_of(record))
            clips.append(_reused(record, highlight))
    if total and not clips:
        raise CutError(f"no clip could be cut: {failures[0]}")
    on_progress(1.0, "done")
    return Generation(analysis=analysis, clips=tuple(clips), failures=tuple(failures))


def clip_here(
    analysis: Analysis,
    at_s: float,
    settings: Settings,
    manager: ClipManager,
    *,
    on_progress: ProgressCallback = no_progress,
    ear: Listener | None = None,
) -> GeneratedClip:
    """Cut and register a clip around a moment chosen by hand (``at_s``, seconds of the
    stream): ``settings.clip_duration`` long, with every side's evidence there, of the type
    of the side strongest there. A stored clip of that moment is reused, as ``generate``
    does; a live recording is kept (more may be clipped from it)."""
    from kickclip.detect import moment_at
    from kickclip.errors import InvalidInput

    if analysis.features is None:
        raise InvalidInput("analyze the stream first: a clip by hand needs its timeline")
    if not 0.0 <= at_s <= analysis.duration_s:
        raise InvalidInput(
            f"{clock(at_s)} is outside the stream (0:00:00-{clock(analysis.duration_s)})"
        )
    highlight = moment_at(analysis.features, at_s, clip_duration_s=settings.clip_duration)
    if highlight is None:
        raise InvalidInput("nothing to clip: the stream gave no sound, picture or chat to read")
    highlight = replace(highlight, reason=f"chosen by hand at {clock(at_s)}; {highlight.reason}")
    chosen = replace(analysis, highlights=(highlight,))
    if ear is None:
        ear, _ = ear_for(settings)
    return _cut_and_register(chosen, settings, manager, on_progress, ear).clips[0]


def between_words(
    media: MediaInfo, highlight: Highlight, ear: Listener
) -> tuple[Highlight, Transcript]:
    """Hear the words around a highlight and move its start and end into pauses between them
    (see ``words.boundaries``); the highlight as moved, and what was heard around it."""
    from kickclip.words.boundaries import REACH_S, snap
    from kickclip.words.speech import SAMPLE_RATE_HZ, listen

    margin = REACH_S + 1.0  # a word cut by the span's own edge lies beyond the reach
    span_start = max(highlight.start_s - margin, 0.0)
    samples = listen(media, span_start, highlight.end_s + margin)
    span_end = span_start + len(samples) / SAMPLE_RATE_HZ
    loudness, words = _hear(ear, samples, span_start)
    start, end = snap(
        words,
        loudness,
        (span_start, span_end),
        highlight.start_s,
        highlight.end_s,
        highlight.peak_s,
    )
    start, end = max(start, 0.0), min(end, span_end)
    if end - start < 1.0:  # the media ended first: keep what the detector chose
        start, end = highlight.start_s, highlight.end_s
    return replace(highlight, start_s=start, end_s=end), Transcript(ear.name, words)


def _heard_in(heard: Transcript | None, cut: CutClip) -> Transcript | None:
    return None if heard is None else heard.within(cut.start_s, cut.end_s)


def _reused(record: ClipRecord, highlight: Highlight) -> GeneratedClip:
    cut = CutClip(
        filepath=Path(record.filepath),
        thumbnail=record.thumbnail_path,
        start_s=record.start_time,
        end_s=record.end_time,
    )
    return GeneratedClip(record.id, highlight, cut, reused=True, transcript=record.transcript)


def _files_of_cut(cut: CutClip) -> list[Path]:
    return [path for path in (cut.filepath, cut.thumbnail) if path is not None]


def _remove_unless(paths: list[Path], kept: list[Path]) -> None:
    """Remove the files of a clip replaced or lost to another process, except those in use."""
    for path in paths:
        if path not in kept:
            path.unlink(missing_ok=True)


# --- what a user does with stored clips ---------------------------------------------------------
@dataclass(frozen=True)
class RatingOutcome:
    record: ClipRecord
    trained: bool = False
    training_error: str | None = None


def rate(
    manager: ClipManager,
    trainer: RatingBasedTrainer,
    clip_id: int,
    rating: object,
    *,
    confidence: float | None = None,
    auto_train: bool = True,
) -> RatingOutcome:
    """Store ``rating`` (with how sure the rater is, in (0, 1]) for ``clip_id``, as the
    trainer's user; with ``auto_train``, retrain every 5 new ratings once 10 exist.

    A training failure is reported in the outcome and logged; it never loses the rating.
    """
    record = manager.rate_clip(clip_id, rating, confidence, user=trainer.user)  # type: ignore[arg-type]
    if not auto_train:
        return RatingOutcome(record)
    trained, error = retrain_if_due(trainer)
    return RatingOutcome(record, trained=trained, training_error=error)


def retrain_if_due(trainer: RatingBasedTrainer) -> tuple[bool, str | None]:
    """Retrain when the policy says so; (trained, why training failed). A failure is logged
    and returned, never raised: the ratings it would learn from are stored already."""
    if not trainer.should_auto_train():
        return False, None
    try:
        return trainer.train_from_ratings(shared=False), None  # the shared one when due
    except (KickclipError, ValueError, ArithmeticError, OSError) as error:
        log.warning("retraining after a rating failed: %s", error)
        return False, str(error)


def train(trainer: RatingBasedTrainer, min_samples: int | None = None) -> bool:
    """Train the trainer's user's model now (and the shared one); False when too few rated."""
    return trainer.train_from_ratings(min_samples)


def explain(manager: ClipManager, trainer: RatingBasedTrainer, clip_id: int) -> Explanation:
    """Why this clip: the detector's evidence, the taste's prediction and what moved it."""
    from kickclip.explain import explain as explain_clip

    return explain_clip(manager, trainer, clip_id)


def delete(manager: ClipManager, clip_ids: list[int], clips_dir: Path) -> Deletion:
    """Delete clips: rows, ratings and tags, then their files inside ``clips_dir``."""
    from kickclip.housekeeping import delete as delete_clips

    return delete_clips(manager, clip_ids, clips_dir)


def cleanup(
    manager: ClipManager, out_dir: Path, *, dry_run: bool = False, prune: bool = False
) -> CleanupReport:
    """Repair what an interrupted run left in the store and the clips folder; ``prune``
    also removes the rows whose file is gone."""
    from kickclip.housekeeping import cleanup as clean

    return clean(manager, out_dir, dry_run=dry_run, prune=prune)


def transcribe(
    manager: ClipManager,
    clip_ids: list[int] | None,
    *,
    speech_model: Path | None = None,
    on_progress: ProgressCallback = no_progress,
) -> list[tuple[ClipRecord, Transcript]]:
    """Hear the words of stored clips (``None``: every clip) from their files and store them
    with their times (seconds of the source); each clip's row is written as it is heard."""
    from kickclip.words.speech import listener

    records = (
        manager.list_clips(limit=None)[::-1]
        if clip_ids is None
        else [manager.get_clip(clip_id) for clip_id in dict.fromkeys(clip_ids)]
    )  # every id checked before the model loads or anything is written
    ear = listener(speech_model)
    heard = []
    for number, record in enumerate(records):
        on_progress(number / max(len(records), 1), f"hearing clip {record.id}")
        transcript = hear_file(ear, record.filepath, record.start_time, record.end_time)
        heard.append((manager.set_transcript(record.id, transcript), transcript))
    on_progress(1.0, "done")
    return heard


def hear_file(ear: Listener, path: str | Path, start_s: float, end_s: float) -> Transcript:
    """The words of a clip file whose first moment is ``start_s`` of its source."""
    from kickclip.words.speech import read_audio

    _, words = _hear(ear, read_audio(str(path), 0.0, end_s - start_s), start_s)
    return Transcript(ear.name, words).within(start_s, end_s)


def _hear(ear: Listener, samples: Any, start_s: float) -> tuple[Loudness, tuple[Word, ...]]:
    """The words in ``samples`` (whose first is ``start_s`` of the source), their times
    trimmed to the audible speech (Whisper lets a word swallow the pause beside it), and the
    loudness that trimmed them."""
    from kickclip.words.boundaries import Loudness
    from kickclip.words.speech import SAMPLE_RATE_HZ

    loudness = Loudness(samples, start_s, SAMPLE_RATE_HZ)
    return loudness, loudness.tighten(ear.hear(samples, start_s))


MIN_CLIP_S = 0.5


def trim(
    manager: ClipManager,
    clip_id: int,
    start: str | float | None = None,
    end: str | float | None = None,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    on_progress: ProgressCallback = no_progress,
) -> ClipRecord:
    """Move a clip's start and end: seconds of its source (``12.5``, ``1:02:03``) or, as
    text, ``+2`` / ``-3`` from the current ones. Its id, ratings and tags stay; its file is
    replaced atomically (re-encoded, so it starts and ends exactly there).

    Inside the clip, the new one is cut from the clip's own file. Beyond it, from the source:
    a local file is read again, a remote VOD fetches the segments it needs, and a live
    stream's past is gone (:class:`RecordingGone`)."""
    from kickclip.cut import cut_clip
    from kickclip.errors import InvalidInput, SourceNotFound
    from kickclip.housekeeping import clip_note, files_of
    from kickclip.ingest import open_source

    record = manager.get_clip(clip_id)
    new_start = clip_edge(start, record.start_time, "start")
    new_end = clip_edge(end, record.end_time, "end")
    if new_start < 0:
        raise InvalidInput(f"the start cannot be before the stream's start, got {new_start:g}")
    if new_end <= new_start:
        raise InvalidInput(f"the start ({new_start:g}) must come before the end ({new_end:g})")
    if not MIN_CLIP_S <= new_end - new_start <= MAX_CLIP_S:
        raise InvalidInput(
            f"a clip is {MIN_CLIP_S:g} to {MAX_CLIP_S:g} s long; {new_start:g}-{new_end:g} is "
            f"{new_end - new_start:g} s"
        )
    if abs(new_start - record.start_time) < 1e-3 and abs(new_end - record.end_time) < 1e-3:
        return record
    ear, _ = ear_for(settings)  # a bad --speech-model stops before anything is cut
    on_progress(0.0, "opening the source")
    if new_start >= record.start_time - 1e-3 and new_end <= record.end_time + 1e-3:
        media = open_source(record.filepath, settings, record=False)
        # The clip's own file: its time 0 is the record's start in the source.
        media = replace(
            media,
            start_s=media.start_s - record.start_time,
            title=_source_title(record.filename),
            source=record.source_url or media.source,
        )
    else:
        if not record.source_url:
            raise InvalidInput(f"clip {record.id} does not name its source: it cannot grow")
        try:
            media = open_source(record.source_url, settings, record=False)
        except SourceNotFound as error:
            raise SourceNotFound(f"clip {record.id} cannot grow: {error}") from None
        if media.duration_s is not None and new_end > media.duration_s + 0.05:
            raise InvalidInput(
                f"clip {record.id}'s source ends at {media.duration_s:.2f} s; "
                f"the end {new_end:g} is past it"
            )
    middle = (record.start_time + record.end_time) / 2
    highlight = Highlight(
        new_start,
        new_end,
        min(max(middle, new_start), new_end),
        record.score,
        record.clip_type,  # type: ignore[arg-type]
        record.features,
    )
    note = clip_note(
        record.source_url or "",
        new_start,
        new_end,
        record.score,
        record.clip_type,
        dict(record.features),
    )
    on_progress(0.2, "cutting")
    cut = cut_clip(media, highlight, Path(record.filepath).parent, accurate=True, note=note)
    try:
        if ear is not None:
            on_progress(0.7, "hearing the words")
            transcript = hear_file(ear, cut.filepath, cut.start_s, cut.end_s)
        else:
            before = manager.transcript(record.id)
            transcript = before.within(cut.start_s, cut.end_s) if before else None
        updated = manager.recut_clip(
            record.id,
            cut.filepath,
            cut.start_s,
            cut.end_s,
            record.score,
            record.features,
            reason=manager.reason(record.id),
            transcript=transcript,
            edited=True,
        )
    except BaseException:
        _remove_unless(_files_of_cut(cut), files_of(record))
        raise
    _remove_unless(files_of(record), files_of(updated))
    on_progress(1.0, "done")
    return updated


STRIP_WIDTH = 160


def filmstrip(
    manager: ClipManager, clip_id: int, reach_s: float, settings: Settings = DEFAULT_SETTINGS
) -> tuple[float, float, list[tuple[float, Any]]]:
    """What a trim can reach: the span ``reach_s`` around the clip and the keyframes in it
    ((seconds of the source, small RGB picture)), read from the source; only the clip's own
    when its source is gone (a live stream's past, a file moved away)."""
    from kickclip.errors import SourceError
    from kickclip.ingest import open_source
    from kickclip.ingest.probe import keyframes_between

    record = manager.get_clip(clip_id)
    low, high = max(0.0, record.start_time - reach_s), record.end_time + reach_s
    try:
        if not record.source_url:
            raise SourceError(f"clip {record.id} does not name its source")
        media = open_source(record.source_url, settings, record=False)
        high = min(high, media.duration_s or high)
    except SourceError:
        media = open_source(record.filepath, settings, record=False)
        media = replace(media, start_s=media.start_s - record.start_time)
        low, high = record.start_time, record.end_time
    return low, high, keyframes_between(media, low, high, STRIP_WIDTH)


MAX_CLIP_S = 600.0


def clip_edge(value: str | float | None, current: float, name: str) -> float:
    """A trim's start or end: None keeps ``current``; a number or ``"12.5"`` / ``"1:02:03"``
    is seconds of the source; ``"+2"`` / ``"-3"`` is relative to ``current``."""
    import math

    from kickclip.errors import InvalidInput

    if value is None or (isinstance(value, str) and not value.strip()):
        return current
    text = str(value).strip()
    relative = isinstance(value, str) and text[0] in "+-"
    try:
        parts = [float(part) for part in text.lstrip("+-").split(":")]
        if len(parts) > 3 or any(part < 0 for part in parts):
            raise ValueError
        seconds = sum(part * 60**power for power, part in enumerate(reversed(parts)))
    except ValueError:
        raise InvalidInput(
            f"--{name} takes seconds (12.5), h:mm:ss, or +S / -S from the clip's {name}; "
            f"got {text[:40]!r}"
        ) from None
    if relative and text[0] == "-":
        seconds = -seconds
    result = current + seconds if relative else seconds
    if not math.isfinite(result):
        raise InvalidInput(f"--{name} must be a finite number of seconds, got {text[:40]!r}")
    return result


def _source_title(filename: str) -> str:
    """The source's name at the front of a clip's file name (``<source>_<start>-<end>_…``)."""
    import re

    stem = Path(filename).stem
    return re.split(r"_\d{2}h\d{2}m\d{2}s-", stem, maxsplit=1)[0] or stem


@dataclass(frozen=True)
class Export:
    clip_id: int
    rendered: Rendered

    def to_json(self) -> dict[str, object]:
        r = self.rendered
        return {
            "id": self.clip_id,
            "filepath": str(r.filepath),
            "width": r.width,
            "height": r.height,
            "layout": r.layout,
            "facecam": list(r.facecam) if r.facecam else None,
            "captions": None if r.subtitles is None else str(r.subtitles),
        }


def export_for_posting(
    manager: ClipManager,
    clip_ids: list[int],
    options: PostOptions,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    dest: Path | None = None,
    on_progress: ProgressCallback = no_progress,
) -> list[Export]:
    """Each clip as an MP4 ready to post (``post.render``), into ``dest`` (default: the
    clips folder's ``exports``). Its words, heard now if they never were, become captions; a
    ``facecam`` given is remembered for the clip's source, and used for its later exports."""
    from kickclip.errors import InvalidInput, SourceNotFound
    from kickclip.post.render import render

    options.check()
    records = [manager.get_clip(clip_id) for clip_id in dict.fromkeys(clip_ids)]
    for record in records:
        if not Path(record.filepath).is_file():
            raise SourceNotFound(f"clip {record.id}'s file is gone: {record.filepath}")
    if options.subtitles is not None and len(records) > 1:
        raise InvalidInput("--subtitles belongs to one clip: export one clip with it")
    folder = Path(dest) if dest is not None else Path(settings.out) / "exports"
    done = []
    for number, record in enumerate(records):
        transcript = manager.transcript(record.id)
        if transcript is None and options.captions != "none" and options.subtitles is None:
            ear, _ = ear_for(settings)
            if ear is not None:
                transcript = hear_file(ear, record.filepath, record.start_time, record.end_time)
                manager.set_transcript(record.id, transcript)
        channel = channel_of(record.source_url)
        facecam = options.facecam or manager.facecam(channel)
        name = f"{Path(record.filepath).stem}_{options.aspect.replace(':', 'x')}.mp4"
        rendered = render(
            Path(record.filepath),
            record.duration,
            transcript.words if transcript else (),
            record.start_time,
            replace(options, facecam=facecam),
            folder / name,
            on_progress=scaled(on_progress, number / len(records), (number + 1) / len(records)),
        )
        if options.facecam is not None and channel:
            manager.remember_facecam(channel, options.facecam)
        done.append(Export(record.id, rendered))
    on_progress(1.0, "done")
    return done


def export_clips(manager: ClipManager, path: str | Path) -> int:
    """Write clips, features and ratings to CSV or JSON (by extension); how many."""
    from kickclip.store.exchange import export_clips as export

    return export(manager, path)


def import_clips(manager: ClipManager, path: str | Path) -> ImportSummary:
    """Merge an export into the store; clips already present are not duplicated."""
    from kickclip.store.exchange import import_clips as merge

    return merge(manager, path)
