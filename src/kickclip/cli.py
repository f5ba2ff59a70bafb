"""The ``kickclip`` command line: a thin layer over the store, the trainer and the pipeline.

Every command turns a :class:`KickclipError` into one ``Error: …`` line on stderr and exit
code 1; Typer's own usage errors exit 2; anything else is a bug and keeps its traceback.
Core modules are imported inside the commands so ``kickclip --help`` stays fast.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kickclip.errors import KickclipError
from kickclip.ingest.sources import redact
from kickclip.records import clock, model_status
from kickclip.settings import SETTING_BY_NAME

if TYPE_CHECKING:
    from kickclip.learn.trainer import RatingBasedTrainer
    from kickclip.store.clip_manager import ClipManager

app = typer.Typer(
    name="kickclip",
    help="Turn long stream VODs into rated highlight clips that learn your taste.\n\n"
    "Rate clips 1-5 (kickclip rate ID STARS); every 5 new ratings, once 10 exist, the model "
    "retrains and future detections follow what you liked.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


class _WarningLine(logging.Handler):
    """The learner's warnings (an ignored model file, …) as one ``Warning: …`` line each."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(f"Warning: {record.getMessage()}", markup=False, highlight=False, soft_wrap=True)


@app.callback()
def _setup() -> None:
    learn_log = logging.getLogger("kickclip.learn")
    if not any(isinstance(h, _WarningLine) for h in learn_log.handlers):
        learn_log.addHandler(_WarningLine(logging.WARNING))


def _option(name: str, **extra: Any) -> Any:
    setting = SETTING_BY_NAME[name]
    flag = "--" + name.replace("_", "-")
    return typer.Option(flag, envvar=setting.envvar, help=setting.help, **extra)


DbOption = Annotated[str, _option("db", metavar="PATH|URL")]
UserOption = Annotated[str | None, _option("user", metavar="NAME")]
ModelsOption = Annotated[Path, _option("models_dir")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON only, on stdout.")]
WordsOption = Annotated[
    bool, typer.Option("--words/--no-words", help=SETTING_BY_NAME["words"].help)
]
SpeechModelOption = Annotated[
    Path | None, _option("speech_model", metavar="DIR", file_okay=False, dir_okay=True)
]


@contextmanager
def user_errors() -> Iterator[None]:
    """Catch the core's user-facing errors once: one line on stderr, exit code 1."""
    try:
        yield
    except KickclipError as error:
        from kickclip.ingest.sources import shorten  # a pasted 2,000-character URL: one line

        err.print(f"Error: {shorten(str(error))}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _say(text: str) -> None:
    """One line on stdout, as written (paths and words are not Rich markup)."""
    out.print(text, highlight=False, markup=False, soft_wrap=True)


def _clip_ids(texts: list[str] | None) -> list[int]:
    """Clip ids as typed; one that is not a number is a clip that does not exist."""
    from kickclip.errors import ClipNotFound

    for text in texts or ():
        if not text.isdigit():
            raise ClipNotFound(text)
    return [int(text) for text in texts or ()]


def _store(db: Path | str) -> ClipManager:
    from kickclip.store.clip_manager import ClipManager

    return ClipManager(db)


def _trainer(manager: ClipManager, models_dir: Path, user: str | None = None) -> RatingBasedTrainer:
    from kickclip.learn.trainer import RatingBasedTrainer

    return RatingBasedTrainer(manager, models_dir, user=user)


def _stars(rating: int | None) -> str:
    return "" if rating is None else "★" * rating + "☆" * (5 - rating)


def _print_json(data: Any) -> None:
    from kickclip.jsonout import dumps

    typer.echo(dumps(data, indent=2))


def _print_metrics(metrics: dict[str, Any] | None) -> None:
    if not metrics:
        return
    mae, rho = metrics.get("cv_mae_stars"), metrics.get("cv_spearman")
    by_type = ", ".join(f"{k} {v}" for k, v in metrics.get("n_samples_by_type", {}).items())
    out.print(
        f"Model trained on {metrics['n_samples']} ratings ({by_type}); "
        f"cross-validated error {'n/a' if mae is None else f'{mae:.2f} stars'}, "
        f"Spearman {'n/a' if rho is None else f'{rho:.2f}'}",
        highlight=False,
    )
    words = metrics.get("words")
    if words:
        with_, without = words["cv_spearman_with"], words["cv_spearman_without"]
        liked = ", ".join(words["liked_words"][:8]) or "none yet"
        out.print(
            f"Words of {words['heard']} heard clips: "
            f"{'learned from' if words['used'] else 'not used'} (Spearman "
            f"{'n/a' if with_ is None else f'{with_:.2f}'} with them, {without:.2f} without); "
            f"words your liked clips share: {liked}",
            highlight=False,
        )


# --- the media pipeline ------------------------------------------------------------------------
OutOption = Annotated[Path, _option("out")]
DurationOption = Annotated[float, _option("clip_duration")]
GapOption = Annotated[float, _option("min_gap")]
TopOption = Annotated[int, _option("top")]
ThoroughOption = Annotated[bool, _option("thorough")]
RecordOption = Annotated[float, _option("record_minutes")]
ChatOption = Annotated[Path | None, _option("chat", metavar="FILE")]
ChatOffsetOption = Annotated[float, _option("chat_offset", metavar="S")]
PrivateOption = Annotated[bool, _option("allow_private_addresses")]


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Any]:
    """Adapt the core's ``on_progress(fraction, label)`` to a Rich bar on a terminal."""
    if not (enabled and err.is_terminal):
        yield lambda fraction, label: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=1.0)
        yield lambda fraction, label: progress.update(task, completed=fraction, description=label)


def _settings(values: dict[str, Any]) -> Any:
    """The command's option values (``locals()``) resolved into the one frozen Settings."""
    from kickclip.settings import Settings

    chosen = {name: values[name] for name in SETTING_BY_NAME if name in values}
    if "user" not in chosen:  # detection ranks by KICKCLIP_USER's taste without a --user flag
        chosen["user"] = os.environ.get(SETTING_BY_NAME["user"].envvar or "") or None
    if "out_dir" in values:  # ``out`` is the console
        chosen["out"] = values["out_dir"]
    with user_errors():
        return Settings(**chosen)


# analyze's options that generate takes too, as its hint repeats them
_HINTED = (
    "clip_duration",
    "min_gap",
    "top",
    "thorough",
    "record_minutes",
    "chat",
    "chat_offset",
    "allow_private_addresses",
    "db",
    "out_dir",
    "models_dir",
)


def _same_command(command: str, source: str, values: dict[str, Any]) -> str:
    """``kickclip COMMAND SOURCE`` with the options the user gave that differ from the
    defaults, ready to paste."""
    import shlex

    defaults = analyze.__defaults__ or ()
    names = analyze.__code__.co_varnames[1 : 1 + len(defaults)]
    default_of = dict(zip(names, defaults, strict=True))
    words = ["kickclip", command, source]
    for name in _HINTED:
        value = values.get(name)
        if value is None or str(value) == str(default_of.get(name)):  # a Path, or its text
            continue
        flag = "--out" if name == "out_dir" else "--" + name.replace("_", "-")
        words += (
            [flag]
            if value is True
            else [flag, f"{value:g}" if isinstance(value, float) else str(value)]
        )
    return shlex.join(words)


def _highlight_table(rows: list[dict[str, Any]], *, with_files: bool) -> Table:
    table = Table("#", "type", "time", "score", "evidence", *(("id", "file") if with_files else ()))
    for rank, row in enumerate(rows, start=1):
        table.add_row(
            str(rank),
            row["clip_type"],
            f"{clock(row['start'])}–{clock(row['end'])}",
            f"{row['score']:.2f}",
            row["reason"],
            *((str(row["id"]), Path(row["filepath"]).name) if with_files else ()),
        )
    return table


def _warn(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        err.print(f"Warning: {warning}", markup=False, soft_wrap=True)


@app.command()
def analyze(
    source: Annotated[str, typer.Argument(help="kick.com URL, media/HLS URL or local file.")],
    clip_duration: DurationOption = SETTING_BY_NAME["clip_duration"].default,
    min_gap: GapOption = SETTING_BY_NAME["min_gap"].default,
    top: TopOption = SETTING_BY_NAME["top"].default,
    thorough: ThoroughOption = False,
    record_minutes: RecordOption = SETTING_BY_NAME["record_minutes"].default,
    chat: ChatOption = None,
    chat_offset: ChatOffsetOption = 0.0,
    allow_private_addresses: PrivateOption = False,
    as_json: JsonOption = False,
    db: DbOption = SETTING_BY_NAME["db"].default,
    out_dir: OutOption = SETTING_BY_NAME["out"].default,
    models_dir: ModelsOption = SETTING_BY_NAME["models_dir"].default,
    timeline: Annotated[
        bool,
        typer.Option(
            "--timeline",
            help='With --json: add each side\'s strength over the stream ("timeline": hop_s, '
            "start, audio, video, chat).",
        ),
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.png",
            help="Draw the timeline, with the highlights marked, into this PNG.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Detect highlights and print them (best first); writes nothing (but --plot's PNG).

    With --chat, the audience's reactions count too, and a moment only the chat reacted to
    can be a highlight of its own (type chat).

    Example: kickclip analyze https://kick.com/<channel>/videos/<uuid> --top 10
    """
    from kickclip import pipeline

    options = dict(locals())
    settings = _settings(options)
    with user_errors():
        if plot is not None and plot.suffix.lower() != ".png":  # before the long part
            from kickclip.errors import InvalidInput

            raise InvalidInput(f"--plot writes a PNG: name it FILE.png, got {plot.name!r}")
        with progress_bar(not as_json) as on_progress:
            result = pipeline.analyze(source, settings, on_progress=on_progress)
        if plot is not None:
            from kickclip.plot import write_timeline_png

            write_timeline_png(result, plot)
    _warn(result.warnings)
    if as_json:
        _print_json(result.to_json(timeline=timeline))
        return
    if plot is not None:
        err.print(f"Timeline drawn in {plot}", markup=False, highlight=False)
    rows = result.to_json()["highlights"]
    if not rows:
        out.print(
            f"Nothing stood out in {clock(result.duration_s)} of {redact(source)}.",
            highlight=False,
        )
        return
    out.print(_highlight_table(rows, with_files=False))
    hint = _same_command("generate", redact(source), options)
    out.print(f"Cut them with: {hint}", highlight=False, markup=False, soft_wrap=True)


@app.command()
def generate(
    source: Annotated[str, typer.Argument(help="kick.com URL, media/HLS URL or local file.")],
    clip_duration: DurationOption = SETTING_BY_NAME["clip_duration"].default,
    min_gap: GapOption = SETTING_BY_NAME["min_gap"].default,
    top: TopOption = SETTING_BY_NAME["top"].default,
    thorough: ThoroughOption = False,
    record_minutes: RecordOption = SETTING_BY_NAME["record_minutes"].default,
    chat: ChatOption = None,
    chat_offset: ChatOffsetOption = 0.0,
    quality: Annotated[str, _option("quality")] = "best",
    accurate: Annotated[bool, _option("accurate")] = False,
    force: Annotated[bool, _option("force")] = False,
    keep_recording: Annotated[bool, _option("keep_recording")] = False,
    words: WordsOption = True,
    speech_model: SpeechModelOption = None,
    allow_private_addresses: PrivateOption = False,
    as_json: JsonOption = False,
    db: DbOption = SETTING_BY_NAME["db"].default,
    out_dir: OutOption = SETTING_BY_NAME["out"].default,
    models_dir: ModelsOption = SETTING_BY_NAME["models_dir"].default,
) -> None:
    """Detect highlights, cut each into a clip with a thumbnail, and register it.

    Running it again on the same source reuses the clips already cut (--force cuts again).

    Example: kickclip generate vod.mp4 --clip-duration 20 --top 5
    """
    from kickclip import pipeline

    settings = _settings(locals())
    with user_errors(), progress_bar(not as_json) as on_progress:
        result = pipeline.generate(source, settings, on_progress=on_progress)
    _warn((*result.analysis.warnings, *result.warnings))
    for failure in result.failures:
        err.print(f"Warning: {failure}", markup=False, soft_wrap=True)
    if as_json:
        _print_json(result.to_json())
        return
    rows = result.to_json()["highlights"]
    if not rows:
        out.print(f"Nothing stood out in {redact(source)}; no clips written.", highlight=False)
        return
    out.print(_highlight_table(rows, with_files=True))
    reused = sum(row["reused"] for row in rows)
    again = f" ({reused} already cut before: reused; --force cuts again)" if reused else ""
    out.print(
        f"{len(rows)} clips in {settings.out}{again}. Rate them: kickclip rate ID STARS",
        highlight=False,
    )


@app.command()
def watch(
    source: Annotated[
        str, typer.Argument(help="A live kick.com channel, a live HLS URL or any live URL.")
    ],
    for_: Annotated[
        str | None,
        typer.Option(
            "--for",
            metavar="DURATION",
            help="Stop after this much of the stream: 3h, 90m, 1h30m, 1:30:00 (default: until "
            "the stream ends or Ctrl-C).",
        ),
    ] = None,
    clip_duration: DurationOption = SETTING_BY_NAME["clip_duration"].default,
    min_gap: GapOption = SETTING_BY_NAME["min_gap"].default,
    min_score: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help=(
                "A moment becomes a clip from this score: your taste's blended in once trained;"
                " one the detector alone scores this high is kept unless your taste dislikes it."
            ),
        ),
    ] = 0.6,
    quality: Annotated[str, _option("quality")] = "best",
    keep_recording: Annotated[bool, _option("keep_recording")] = False,
    words: WordsOption = True,
    speech_model: SpeechModelOption = None,
    allow_private_addresses: PrivateOption = False,
    user: UserOption = None,
    as_json: JsonOption = False,
    db: DbOption = SETTING_BY_NAME["db"].default,
    out_dir: OutOption = SETTING_BY_NAME["out"].default,
    models_dir: ModelsOption = SETTING_BY_NAME["models_dir"].default,
) -> None:
    """Clip a live stream while it goes on: each moment that stands out becomes a clip within
    a minute, ranked by your taste as generate ranks.

    A moment is judged once the 24 s after it are in. Only the recording that clips still
    need is kept (--keep-recording keeps it all); a dropped stream is reconnected; Ctrl-C
    stops cleanly after the clip in hand. With --json, one JSON line per clip as it is
    registered.

    Example: kickclip watch https://kick.com/somechannel --for 3h --clip-duration 30
    """
    import signal
    import threading

    from kickclip.watch import Watch, parse_duration

    settings = _settings(locals())
    stop = threading.Event()

    def interrupt(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        err.print("Stopping after the clip in hand (Ctrl-C again to stop at once)…")

    def clip_line(clip: Any) -> None:
        row = clip.to_json()
        if as_json:
            typer.echo(json.dumps(row, ensure_ascii=False), nl=True)
            return
        _say(
            f"clip {row['id']}  {clock(row['start'])}–{clock(row['end'])}  {row['clip_type']}  "
            f"{row['score']:.2f}  {row['reason']}  ({row['delay_s']:.0f} s after the moment)"
        )

    started: list[bool] = []

    def status(watched_s: float, clips: int) -> None:
        if not started:  # the source opened: say what is watched, once
            started.append(True)
            shown = f" for {clock(watch_for)}" if watch_for else ""
            err.print(f"Watching {redact(source)}{shown}; Ctrl-C stops.", highlight=False)

    def notice(text: str) -> None:
        err.print(f"Note: {text}", markup=False, highlight=False, soft_wrap=True)

    with user_errors():
        watch_for = parse_duration(for_)
        watcher = Watch(
            source,
            settings,
            duration_s=watch_for,
            min_score=min_score,
            on_clip=clip_line,
            on_notice=notice,
            on_status=status,
        )
        previous = signal.signal(signal.SIGINT, interrupt)
        try:
            result = watcher.run(stop)
        finally:
            signal.signal(signal.SIGINT, previous)
    why = {"stream end": "the stream ended", "time": "the time was up", "stop": "stopped"}
    kept = f"; the recording is {result.recording}" if result.recording else ""
    err.print(
        f"Watched {clock(result.watched_s)} ({why[result.ended_by]}): {len(result.clips)} clips "
        f"in {settings.out}{kept}.",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@app.command()
def batch(
    sources: Annotated[
        list[str],
        typer.Argument(
            metavar="SOURCES_FILE|SOURCE...",
            help="Sources, or a .txt file listing one per line (# starts a comment). "
            "https://kick.com/<channel>/videos stands for the channel's VODs, newest first.",
        ),
    ],
    since: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="Channel pages: only VODs that started on or after this ISO date or date and "
            "time (UTC unless it gives an offset), e.g. 2026-03-01.",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="Channel pages: at most this many newest VODs per channel."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Sources processed at once.")] = 1,
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="Run each source as a Ray task: 'local' starts Ray in this process with "
            "--workers CPUs; an address (host:port) joins that cluster. Needs the cluster extra."
        ),
    ] = None,
    clip_duration: DurationOption = SETTING_BY_NAME["clip_duration"].default,
    min_gap: GapOption = SETTING_BY_NAME["min_gap"].default,
    top: TopOption = SETTING_BY_NAME["top"].default,
    quality: Annotated[str, _option("quality")] = "best",
    accurate: Annotated[bool, _option("accurate")] = False,
    force: Annotated[bool, _option("force")] = False,
    allow_private_addresses: PrivateOption = False,
    as_json: JsonOption = False,
    db: DbOption = SETTING_BY_NAME["db"].default,
    out_dir: OutOption = SETTING_BY_NAME["out"].default,
    models_dir: ModelsOption = SETTING_BY_NAME["models_dir"].default,
) -> None:
    """Generate clips for many sources, each in a worker process; one failing spares the rest.

    Running it again skips what is done (the clips already cut are reused). Exit code 1 when
    any source failed.

    Example: kickclip batch vods.txt --workers 2
    Example: kickclip batch https://kick.com/xqc/videos --since 2026-03-01 --limit 5
    """
    from kickclip.batch import expand_sources, ray_available, read_sources, run_batch
    from kickclip.ingest.channel import parse_since

    settings = _settings(locals())
    with user_errors():
        after = parse_since(since) if since is not None else None
        plan = expand_sources(
            read_sources(sources), since=after, limit=limit, on_channel=_channel_listed
        )
    listed = plan.sources
    if ray_address == "local":
        engine = f"Ray tasks on this machine ({workers} CPU{'s' if workers > 1 else ''})"
    elif ray_address:
        engine = f"Ray tasks on the cluster at {ray_address}"
    else:
        engine = f"{workers} local worker process{'es' if workers > 1 else ''}"
        if not ray_available():
            engine += " (Ray is not installed)"
    err.print(f"{len(listed)} sources, {engine}", highlight=False)
    with user_errors(), _sources_bar(not as_json, len(listed)) as advance:
        try:
            ran = (
                run_batch(
                    listed, settings, workers=workers, ray_address=ray_address, on_done=advance
                )
                if listed
                else []
            )
        except KeyboardInterrupt:
            err.print("Stopped: the clips finished so far are kept.", highlight=False)
            raise typer.Exit(130) from None
    outcomes = plan.outcomes(ran)
    failed = [o for o in outcomes if o.error]
    if as_json:
        _print_json({"sources": [outcome.to_json() for outcome in outcomes]})
    else:
        table = Table("source", "clips", "reused", "error")
        for outcome in outcomes:
            table.add_row(
                outcome.source, str(outcome.clips), str(outcome.reused), outcome.error or ""
            )
        out.print(table)
        out.print(
            f"{len(outcomes) - len(failed)} of {len(outcomes)} sources done, "
            f"{sum(o.clips for o in outcomes)} clips ({sum(o.reused for o in outcomes)} reused)",
            highlight=False,
        )
    if failed:
        raise typer.Exit(1)


def _channel_listed(page: str, urls: list[str] | None) -> None:
    """One line per channel page of a batch: how many VODs it stands for."""
    if urls is not None:
        count = f"{len(urls)} VOD{'' if len(urls) == 1 else 's'}"
        err.print(f"{page}: {count}", highlight=False, markup=False, soft_wrap=True)


@contextmanager
def _sources_bar(enabled: bool, total: int) -> Iterator[Any]:
    """One overall bar: sources done of the batch."""
    if not (enabled and err.is_terminal):
        yield lambda outcome: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("sources", total=total)
        yield lambda outcome: progress.advance(task)


@app.command()
def demo(
    db: DbOption = SETTING_BY_NAME["db"].default,
    out_dir: OutOption = SETTING_BY_NAME["out"].default,
    models_dir: ModelsOption = SETTING_BY_NAME["models_dir"].default,
) -> None:
    """Synthesize a 3-minute sample stream offline, find its highlights and cut the clips."""
    from kickclip.demo import run_demo

    settings = _settings(locals())
    with user_errors(), progress_bar(True) as on_progress:
        result = run_demo(settings, on_progress=on_progress)
    rows = result.to_json()["highlights"]
    out.print(_highlight_table(rows, with_files=True))
    out.print(
        f"{len(rows)} demo clips are in {settings.db}. Next: kickclip clips, "
        "kickclip rate ID STARS, kickclip stats",
        highlight=False,
    )


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to bind; 0.0.0.0 exposes it to your network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the web UI.")] = 7860,
    auth: Annotated[
        list[str] | None,
        typer.Option(
            metavar="USER:PASS|FILE",
            help="Require a login: USER:PASS, repeated for several users, or a file of "
            "USER:PASS lines. With several users, each rates as themselves (their own "
            "ratings, queue and model); with one, ratings are the default user's.",
        ),
    ] = None,
    admin: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME",
            help="With several logins, the login that may delete clips (repeat for more); "
            "without it, nobody deletes from the web UI.",
        ),
    ] = None,
    media_dir: Annotated[Path, _option("media_dir")] = SETTING_BY_NAME["media_dir"].default,
    allow_private_addresses: PrivateOption = False,
    db: DbOption = SETTING_BY_NAME["db"].default,
    out_dir: OutOption = SETTING_BY_NAME["out"].default,
    models_dir: ModelsOption = SETTING_BY_NAME["models_dir"].default,
) -> None:
    """Start the web UI: Generate Clips, View & Rate, Browse & Download.

    Local files are read only from --media-dir (default: this folder) and uploads; remote
    sources only at public addresses, unless --allow-private-addresses.

    Example: kickclip serve --media-dir ~/vods --auth ana:s3cret --auth bo:hunter2 --admin ana
    """
    from kickclip.errors import InvalidInput

    credentials = None
    with user_errors():
        if auth:
            credentials = _logins(auth)
        if not media_dir.is_dir():
            raise InvalidInput(f"--media-dir {media_dir}: no such folder")
        unknown = sorted(set(admin or ()) - {name for name, _ in credentials or ()})
        if unknown:
            raise InvalidInput(f"--admin {unknown[0]}: not one of the --auth logins")
    settings = _settings(locals())
    from kickclip.webui.app import serve as serve_app

    out.print(f"kickclip web UI on http://{host}:{port} (Ctrl-C to stop)", highlight=False)
    serve_app(settings, host=host, port=port, auth=credentials, admins=tuple(admin or ()))


def _logins(values: list[str]) -> list[tuple[str, str]]:
    """``--auth`` values (USER:PASS pairs, or files of such lines) as Gradio's login list."""
    from kickclip.errors import InvalidInput
    from kickclip.store.clip_manager import validate_user

    lines: list[tuple[str, str]] = []
    for value in values:
        if ":" not in value and Path(value).is_file():
            text = Path(value).read_text(encoding="utf-8")
            numbered = enumerate(text.splitlines(), start=1)
            lines += [(f"{value}, line {n}", line.strip()) for n, line in numbered]
        else:
            lines.append(("--auth", value))
    logins: dict[str, str] = {}
    for where, line in lines:
        if not line or line.startswith("#"):
            continue
        user, colon, password = line.partition(":")
        if not (colon and user and password):
            raise InvalidInput(f"{where}: takes USER:PASS, e.g. ana:s3cret")
        if user in logins:
            raise InvalidInput(f"{where}: user {user!r} is named twice")
        logins[user] = password
    if not logins:
        raise InvalidInput("--auth: no USER:PASS logins given")
    if len(logins) > 1:  # each rates as themselves: a login is a user name
        for user in logins:
            if validate_user(user) is None:
                raise InvalidInput(f"--auth: {user!r} is the default user's name; choose another")
    return list(logins.items())


# --- the clip store ----------------------------------------------------------------------------
@app.command()
def clips(
    unrated: Annotated[bool, typer.Option("--unrated", help="Only clips not rated yet.")] = False,
    tag: Annotated[str | None, typer.Option(help="Only clips with this tag.")] = None,
    search: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Only clips whose words hold TEXT (any case)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many clips to list.")] = 50,
    as_json: JsonOption = False,
    user: UserOption = None,
    db: DbOption = SETTING_BY_NAME["db"].default,
    models_dir: ModelsOption = SETTING_BY_NAME["models_dir"].default,
) -> None:
    """List clips, newest first, with --user's ratings. With --unrated, once a model is
    trained: the clips whose rating would teach it most first (uncertain, and unlike what
    you rated).

    Example: kickclip clips --unrated --limit 10 · kickclip clips --tag funny ·
    kickclip clips --search "no way"
    """
    with user_errors():
        manager = _store(db)
        if unrated and search is None:
            records = _trainer(manager, models_dir, user).review_queue(limit, tag=tag)
        else:
            records = manager.list_clips(
                limit=limit, unrated_only=unrated, tag=tag, user=user, search=search
            )
    if as_json:
        _print_json([record.to_json() for record in records])
        return
    if not records:
        out.print(
            f"No clips whose words hold {search!r}."
            if search
            else f"No clips tagged {tag!r}."
            if tag
            else "No clips yet: run `kickclip generate SOURCE` or `kickclip demo`."
        )
        return
    table = Table("id", "type", "time", "score", "rating", "tags", "file")
    for record in records:
        table.add_row(
            str(record.id),
            record.clip_type,
            f"{clock(record.start_time)}–{clock(record.end_time)}",
            f"{record.score:.2f}",
            _stars(record.rating),
            " ".join(record.tags),
            record.filename,
        )
    out.print(table)


@app.command()
def rate(
    clip_id: Annotated[str, typer.Argument(metavar="ID", help="Clip id (see `kickclip clips`).")],
    stars: Annotated[str, typer.Argument(metavar="STARS", help="1 (poor) to 5 (excellent).")],
    confidence: Annotated[
        float | None,
        typer.Option(
            help="How sure you are, more than 0 up to 1 (the default): a rating at 0.5 "
            "counts half when the model learns."
        ),
    ] = None,
    user: UserOption = None,
    db: DbOption = SETTING_BY_NAME["db"].default,
    models_dir: ModelsOption = SETTING_BY_NAME["models_dir"].default,
) -> None:
    """Rate a clip 1-5 (as --user). Every 5 new ratings, once 10 exist, the model retrains.

    Example: kickclip rate 7 5 · kickclip rate 8 2 --confidence 0.5 · kickclip rate 7 3 --user ana
    """
    from kickclip import pipeline
    from kickclip.errors import ClipNotFound, InvalidRating

    with user_errors():
        try:
            rating: object = int(stars)
        except ValueError:
            raise InvalidRating(
                f"rating must be a whole number from 1 to 5, got {stars!r}"
            ) from None
        if not clip_id.isdigit():
            raise ClipNotFound(clip_id)
        manager = _store(db)
        trainer = _trainer(manager, models_dir, user)
        outcome = pipeline.rate(
            manager, trainer, int(clip_id), rating, confidence=confidence, auto_train=False
        )
    sure = "" if outcome.record.confidence is None else f" (confidence {confidence:g})"
    rater = f" as {trainer.user}" if trainer.user else ""
    out.print(
        f"Rated clip {outcome.record.id}{rater}: {_stars(outcome.record.rating)}{sure}",
        highlight=False,
    )
    # The retrain pipeline.rate would run, but announced first: it takes seconds, and a silent
    # terminal looks hung.
    if not trainer.should_auto_train():
        return
    out.print(
        f"Retraining on {trainer.get_training_progress()['rated_clips']} ratings…",
        highlight=False,
    )
    trained, error = pipeline.retrain_if_due(trainer)
    if error is not None:
        err.print(f"Warning: the rating is saved, but training failed: {error}", markup=False)
        return
    if trained:
        out.print("Retrained the model with the new ratings.")
        _print_metrics(trainer.get_training_progress()["metrics"])


ClipIdArgument = Annotated[str, typer.Argument(metavar="ID", help="Clip id (kickclip clips).")]
TagsArgument = Annotated[list[str], typer.Argument(metavar="TAG...", help="One or more tags.")]


def _tag(clip_id: str, tags: list[str], db: Path, *, remove: bool, as_json: bool) -> None:
    from kickclip.errors import ClipNotFound

    with user_errors():
        if not clip_id.isdigit():
            raise ClipNotFound(clip_id)
        record = _store(db).tag_clip(int(clip_id), tags, remove=remove)
    if as_json:
        _print_json({"id": record.id, "tags": list(record.tags)})
        return
    out.print(
        f"Clip {record.id} tags: {' '.join(record.tags) or '(none)'}",
        highlight=False,
        markup=False,
    )


@app.command()
def tag(
    clip_id: ClipIdArgument,
    tags: TagsArgument,
    as_json: JsonOption = False,
    db: DbOption = SETTING_BY_NAME["db"].default,
) -> None:
    """Tag a clip (lower case; letters, digits, - and _). Filter with `clips --tag`.

    Example: kickclip tag 7 funny clutch
    """
    _tag(clip_id, tags, db, remove=False, as_json=as_json)


@app.command()
def untag(
    clip_id: ClipIdArgument,
    tags: TagsArgument,
    as_json: JsonOption = False,
    db: DbOption = SETTING_BY_NAME["db"].default,
) -> None:
    """Remove tags from a clip.

    Example: kickclip untag 7 clutch
    """
    _tag(clip_id, tags, db, remove=True, as_json=as_json)


@app.command()
def explain(
    clip_id: Annotated[str, typer.Argument(help="The clip's id (see kickclip clips).")],
    as_json: JsonOption = False,
    user: UserOption = None,
    db: DbOption = SETTING_BY_NAME["db"].default,
    models_dir: ModelsOption = SETTING_BY_NAME["models_dir"].default,
) -> None:
    """Why this clip: what rose above its surroundings, and what the model made of it.

    Example: kickclip explain 7
    """
    from kickclip import pipeline
    from kickclip.errors import ClipNotFound

    with user_errors():
        if not clip_id.isdigit():
            raise ClipNotFound(clip_id)
        manager = _store(db)
        explanation = pipeline.explain(manager, _trainer(manager, models_dir, user), int(clip_id))
    if as_json:
        _print_json(explanation.to_json())
        return
    out.print(f"Clip {explanation.clip_id}: {explanation.reason}", highlight=False)
    if explanation.predicted_stars is None:
        return
    out.print(f"Predicted: {explanation.predicted_stars:.1f} stars", highlight=False)
    table = Table("feature", "value", "effect (stars)")
    for item in explanation.contributions:
        table.add_row(item["feature"], f"{item['value']:.3g}", f"{item['effect']:+.2f}")
    out.print(table)


@app.command()
def train(
    min_samples: Annotated[int, typer.Option(min=2, help="Rated clips needed to train.")] = 10,
    user: UserOption = None,
    db: DbOption = SETTING_BY_NAME["db"].default,
    models_dir: ModelsOption = SETTING_BY_NAME["models_dir"].default,
) -> None:
    """Train --user's model on their ratings now and print its cross-validated metrics.

    Once named users rate, the shared model (everyone's ratings; it serves a user until they
    have a model of their own) is retrained too.
    """
    from kickclip import pipeline
    from kickclip.errors import ModelError

    with user_errors():
        manager = _store(db)
        trainer = _trainer(manager, models_dir, user)
        if not pipeline.train(trainer, min_samples):
            rated = manager.count_rated_since(None, user=trainer.user)
            raise ModelError(
                f"need {min_samples - rated} more rated clips to train ({rated} of {min_samples})"
            )
        _print_metrics(trainer.get_training_progress()["metrics"])


@app.command()
def stats(
    as_json: JsonOption = False,
    user: UserOption = None,
    db: DbOption = SETTING_BY_NAME["db"].default,
    models_dir: ModelsOption = SETTING_BY_NAME["models_dir"].default,
) -> None:
    """Totals, average rating, rating distribution, clips per type and model status, of
    --user's ratings."""
    with user_errors():
        manager = _store(db)
        trainer = _trainer(manager, models_dir, user)
        statistics = manager.get_statistics(user=trainer.user)
        progress = trainer.get_training_progress()
    if as_json:
        _print_json({"statistics": statistics, "model": progress})
        return
    average = statistics["average_rating"]
    if trainer.user:
        out.print(f"Ratings of {trainer.user}", highlight=False)
    out.print(
        f"{statistics['total_clips']} clips ({statistics['audio_clips']} audio, "
        f"{statistics['video_clips']} video, {statistics['chat_clips']} chat), "
        f"{statistics['rated_clips']} rated, "
        f"average {'–' if average is None else f'{average:.2f}'}",
        highlight=False,
    )
    distribution = statistics["rating_distribution"]
    widest = max(distribution.values()) or 1
    for stars_ in range(5, 0, -1):
        count = distribution[stars_]
        out.print(
            f"  {_stars(stars_)} {'█' * round(30 * count / widest):<30} {count}", highlight=False
        )
    if progress["model_trained"]:
        out.print(
            f"Model: {model_status(progress)}; next retrain in "
            f"{progress['next_auto_train_in']} ratings",
            highlight=False,
        )
        _print_metrics(progress["metrics"])
    else:
        shared = "; the shared model ranks clips until then" if progress["serving"] else ""
        out.print(
            f"Model: not trained yet; {progress['needed']} more ratings needed{shared}",
            highlight=False,
        )


# --- model versions ------------------------------------------------------------------------------
models_app = typer.Typer(
    help="Model versions: every training is kept with its metrics; choose or compare them.\n\n"
    "Examples: kickclip models · kickclip models use 3 · kickclip models compare 3 5",
    no_args_is_help=False,
    rich_markup_mode=None,
)
app.add_typer(models_app, name="models")


def _metric(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


@models_app.callback(invoke_without_command=True)
def models(
    ctx: typer.Context,
    as_json: JsonOption = False,
    user: UserOption = None,
    db: DbOption = SETTING_BY_NAME["db"].default,
    models_dir: ModelsOption = SETTING_BY_NAME["models_dir"].default,
) -> None:
    """List the model versions, oldest first; the active one is marked."""
    if ctx.invoked_subcommand is not None:
        return
    with user_errors():
        listed = _trainer(_store(db), models_dir, user).versions()
    if as_json:
        _print_json(listed)
        return
    if not listed:
        out.print("No model versions yet: rate 10 clips, then `kickclip train`.")
        return
    table = Table("version", "active", "trained at", "ratings", "CV error (stars)", "Spearman")
    for version in listed:
        table.add_row(
            str(version["version"]) + ("" if version["kept"] else " (pruned)"),
            "●" if version["active"] else "",
            str(version["trained_at"] or "")[:19].replace("T", " "),
            str(version["n_ratings"]),
            _metric(version["cv_mae"]),
            _metric(version["spearman"]),
        )
    out.print(table)


@models_app.command("use")
def models_use(
    version: Annotated[int, typer.Argument(metavar="VERSION", help="See `kickclip models`.")],
    user: UserOption = None,
    db: DbOption = SETTING_BY_NAME["db"].default,
    models_dir: ModelsOption = SETTING_BY_NAME["models_dir"].default,
) -> None:
    """Make a kept version the active model; the next retrain counts ratings from now."""
    with user_errors():
        chosen = _trainer(_store(db), models_dir, user).use(version)
    out.print(
        f"Model version {chosen['version']} is active (trained on {chosen['n_ratings']} ratings)",
        highlight=False,
    )


@models_app.command("compare")
def models_compare(
    version_a: Annotated[int, typer.Argument(metavar="A")],
    version_b: Annotated[int, typer.Argument(metavar="B")],
    as_json: JsonOption = False,
    user: UserOption = None,
    db: DbOption = SETTING_BY_NAME["db"].default,
    models_dir: ModelsOption = SETTING_BY_NAME["models_dir"].default,
) -> None:
    """Score two versions on the ratings neither was trained on.

    Example: kickclip models compare 2 5
    """
    with user_errors():
        result = _trainer(_store(db), models_dir, user).compare(version_a, version_b)
    if as_json:
        _print_json(result)
        return
    table = Table("version", "error (stars)", "Spearman")
    for side in (result["a"], result["b"]):
        table.add_row(str(side["version"]), _metric(side["mae"]), _metric(side["spearman"]))
    out.print(f"On {result['n_ratings']} ratings neither version saw:", highlight=False)
    out.print(table)
    if result["better"] is not None:
        out.print(f"Version {result['better']} is closer to your ratings.", highlight=False)


@app.command(name="export")
def export_(
    file: Annotated[Path, typer.Argument(help="A .csv or .json file to write.")],
    db: DbOption = SETTING_BY_NAME["db"].default,
) -> None:
    """Write clips, features and ratings to CSV or JSON (by the file's extension)."""
    from kickclip import pipeline

    with user_errors():
        count = pipeline.export_clips(_store(db), file)
    out.print(f"Exported {count} clips to {file}", highlight=False)


@app.command(name="import")
def import_(
    file: Annotated[Path, typer.Argument(help="A .csv or .json file from `kickclip export`.")],
    db: DbOption = SETTING_BY_NAME["db"].default,
    models_dir: ModelsOption = SETTING_BY_NAME["models_dir"].default,
) -> None:
    """Merge an export into this database; clips already here are not duplicated. When the
    ratings now there make training due (10 to start, then every 5 new), the model trains."""
    from kickclip import pipeline

    with user_errors():
        manager = _store(db)
        summary = pipeline.import_clips(manager, file)
    others = f", {summary.user_ratings} named users' ratings taken" if summary.user_ratings else ""
    out.print(
        f"Imported {file}: {summary.added} added, {summary.rated} ratings filled in, "
        f"{summary.skipped} already present{others}",
        highlight=False,
    )
    if summary.added or summary.rated or summary.user_ratings:
        trainer = _trainer(manager, models_dir)
        trained, error = pipeline.retrain_if_due(trainer)
        if trained:
            rated = trainer.get_training_progress()["rated_clips"]
            out.print(f"Model trained on {rated} ratings.", highlight=False)
        elif error:
            err.print(f"Warning: training after the import failed: {error}", markup=False)


@app.command()
def transcribe(
    clip_ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="ID...", help="Clip ids to hear (or --all)."),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Hear every clip.")] = False,
    speech_model: SpeechModelOption = None,
    as_json: JsonOption = False,
    db: DbOption = SETTING_BY_NAME["db"].default,
) -> None:
    """Hear the words of clips (the speech extra) and store them with their times, replacing
    any heard before: `kickclip clips --search` finds them, View & Rate shows them.

    Times are seconds of the clip's source. Example: kickclip transcribe 7 8 --json
    """
    from kickclip import pipeline
    from kickclip.errors import InvalidInput

    with user_errors():
        if every == bool(clip_ids):
            raise InvalidInput("name clip ids, or --all (not both)")
        ids = None if every else _clip_ids(clip_ids)
        with progress_bar(not as_json) as on_progress:
            heard = pipeline.transcribe(
                _store(db), ids, speech_model=speech_model, on_progress=on_progress
            )
    if as_json:
        _print_json(
            {
                "clips": [
                    {"id": record.id, **transcript.to_json(), "start": record.start_time}
                    for record, transcript in heard
                ]
            }
        )
        return
    for record, transcript in heard:
        _say(
            f"#{record.id} {clock(record.start_time)}–{clock(record.end_time)}: "
            f"{transcript.text or '(no words heard)'}"
        )


@app.command()
def trim(
    clip_id: Annotated[str, typer.Argument(metavar="ID", help="Clip id (see `kickclip clips`).")],
    start: Annotated[
        str | None,
        typer.Option(
            metavar="S",
            help="New start: seconds of the source (62.5 or 1:02.5), or +S / -S from the "
            "clip's start (-3 opens 3 s earlier).",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            metavar="E",
            help="New end: seconds of the source, or +S / -S from the clip's end "
            "(+5 closes 5 s later).",
        ),
    ] = None,
    words: WordsOption = True,
    speech_model: SpeechModelOption = None,
    allow_private_addresses: PrivateOption = False,
    as_json: JsonOption = False,
    db: DbOption = SETTING_BY_NAME["db"].default,
) -> None:
    """Make a clip shorter or longer; its id, rating and tags stay, and its file is replaced.

    Beyond the clip's ends it is cut again from its source (a local file read again, a
    remote VOD's segments fetched as needed; a live stream's past is gone).

    Example: kickclip trim 7 --start -3 --end +5 · kickclip trim 7 --start 62.5 --end 95
    """
    from kickclip import pipeline

    settings = _settings(locals())
    with user_errors():
        (number,) = _clip_ids([clip_id])
        with progress_bar(not as_json) as on_progress:
            record = pipeline.trim(
                _store(db), number, start, end, settings, on_progress=on_progress
            )
    if as_json:
        _print_json(record.to_json())
        return
    _say(
        f"Clip {record.id}: {clock(record.start_time)}–{clock(record.end_time)} "
        f"({record.duration:.1f} s) in {record.filepath}"
    )


@app.command("export-clip")
def export_clip(
    clip_ids: Annotated[list[str], typer.Argument(metavar="ID...", help="Clip ids to export.")],
    aspect: Annotated[
        str, typer.Option(help="9:16 (1080×1920: TikTok, Shorts, Reels), 1:1 or 16:9.")
    ] = "9:16",
    layout: Annotated[
        str,
        typer.Option(
            help="stack: facecam on top, gameplay below; crop: one window that follows the "
            "face or the action; fit: the whole picture on a blurred copy; auto: stack when a "
            "facecam is found, else crop."
        ),
    ] = "auto",
    facecam: Annotated[
        str | None,
        typer.Option(
            metavar="X,Y,W,H",
            help="The camera overlay's rectangle in the clip's pixels, when the one found is "
            "wrong; remembered for the clip's source.",
        ),
    ] = None,
    captions: Annotated[
        str,
        typer.Option(
            help="burn: words painted in, 1-3 at a time, and SRT + VTT beside the video; "
            "srt: only the SRT + VTT; none."
        ),
    ] = "burn",
    subtitles: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.srt",
            help="Burn these (an SRT or VTT you edited, e.g. the one an earlier export wrote) "
            "instead of the words heard.",
            dir_okay=False,
        ),
    ] = None,
    dest: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Where the exports go (default: <clips folder>/exports)."),
    ] = None,
    speech_model: SpeechModelOption = None,
    as_json: JsonOption = False,
    db: DbOption = SETTING_BY_NAME["db"].default,
    out_dir: OutOption = SETTING_BY_NAME["out"].default,
) -> None:
    """Make clips ready to post: vertical (or square) framing, burned-in captions, sound at
    -14 LUFS, H.264 + AAC MP4 at 30 fps.

    Example: kickclip export-clip 7 · kickclip export-clip 7 --layout stack --facecam
    900,20,360,270 · kickclip export-clip 7 --captions srt (edit the .srt), then
    kickclip export-clip 7 --subtitles output_clips/exports/<name>.srt
    """
    from kickclip import pipeline
    from kickclip.post.framing import rect_from_text
    from kickclip.post.render import PostOptions

    settings = _settings(locals())
    with user_errors():
        ids = _clip_ids(clip_ids)
        options = PostOptions(
            aspect=aspect,
            layout=layout,
            facecam=None if facecam is None else rect_from_text(facecam),
            captions=captions,
            subtitles=subtitles,
        )
        with progress_bar(not as_json) as on_progress:
            exports = pipeline.export_for_posting(
                _store(db),
                ids,
                options,
                settings,
                dest=dest,
                on_progress=on_progress,
            )
    if as_json:
        _print_json({"exports": [export.to_json() for export in exports]})
        return
    for export in exports:
        r = export.rendered
        extra = f", captions {r.subtitles}" if r.subtitles else ""
        _say(f"Clip {export.clip_id}: {r.filepath} ({r.width}×{r.height}, {r.layout}{extra})")


@app.command()
def delete(
    clip_ids: Annotated[list[str], typer.Argument(metavar="ID...", help="Clip ids to delete.")],
    db: DbOption = SETTING_BY_NAME["db"].default,
    out_dir: OutOption = SETTING_BY_NAME["out"].default,
) -> None:
    """Delete clips: their rows, ratings and tags, then their files (clip and thumbnail).

    Only files inside the clips folder (--out) are removed; a row that names a file
    elsewhere loses its row, and the file stays.

    Example: kickclip delete 7 8
    """
    from kickclip import pipeline

    with user_errors():
        deletion = pipeline.delete(_store(db), _clip_ids(clip_ids), out_dir)
    out.print(
        f"Deleted {len(deletion.clips)} clip(s): {', '.join(str(r.id) for r in deletion.clips)}",
        highlight=False,
    )
    for path in deletion.files_left:
        out.print(
            f"Left {path}: outside the clips folder {out_dir}, or not removable",
            highlight=False,
            markup=False,
        )


@app.command()
def cleanup(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List, change nothing.")] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Also remove the rows whose clip file is gone, with their ratings "
            "(without it they are kept and listed).",
        ),
    ] = False,
    as_json: JsonOption = False,
    db: DbOption = SETTING_BY_NAME["db"].default,
    out_dir: OutOption = SETTING_BY_NAME["out"].default,
) -> None:
    """Repair what an interrupted run or a move left: temp files, clip files without a row
    (matched to their moment's row by their own description, else registered), stray
    thumbnails. Rows whose file is gone keep their ratings and are listed; --prune removes
    them.

    Example: kickclip cleanup --dry-run
    """
    from kickclip import pipeline

    with user_errors():
        report = pipeline.cleanup(_store(db), out_dir, dry_run=dry_run, prune=prune)
    if as_json:
        _print_json({"dry_run": dry_run, **report.to_json()})
        return
    if dry_run:
        listed = (
            (report.temp_files, "would remove temporary file"),
            (report.registered, "would register (or match to its moment) clip file without a row"),
            (report.thumbnails, "would remove thumbnail without a clip"),
            (
                report.missing_rows,
                "would remove the row of clip (its file is gone)"
                if prune
                else "would keep the row of clip (its file is gone; --prune removes it)",
            ),
            (report.left_alone, "would leave alone (not written by kickclip)"),
        )
        for items, what in listed:
            for item in items:
                out.print(f"{what}: {item}", highlight=False, markup=False)
        if not any(items for items, _ in listed):
            out.print("Nothing to clean up.")
        return
    done = [
        (len(report.temp_files), "temporary files removed"),
        (len(report.thumbnails), "stray thumbnails removed"),
        (len(report.registered), "clip files without a row registered"),
        (len(report.relinked), "moved clip files found again (ratings kept)"),
        (len(report.duplicates), "second cuts of a stored moment removed"),
    ]
    if report.pruned:
        done.append((len(report.missing_rows), "rows whose file is gone removed"))
    said = [f"{n} {what}" for n, what in done if n]
    out.print(("; ".join(said) or "Nothing to clean up") + ".", highlight=False)
    if report.missing_rows and not report.pruned:
        ids = ", ".join(str(i) for i in report.missing_rows[:20])
        more = "…" if len(report.missing_rows) > 20 else ""
        out.print(
            f"Kept {len(report.missing_rows)} clip(s) whose file is gone, with their ratings "
            f"({ids}{more}): put the files back (cleanup finds them) or run cleanup --prune",
            highlight=False,
        )
    for path in report.left_alone:
        out.print(f"Left alone (not written by kickclip): {path}", highlight=False, markup=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
