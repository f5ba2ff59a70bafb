"""Many sources at once: each analyzed, cut and registered by a worker process of its own.

One source failing never stops the others: its error line is its outcome. Every worker writes
to the same clip store (SQLite in WAL mode takes writers one at a time, each registration one
transaction). Running a batch again does no work twice: ``generate`` reuses the clips already
stored for a source.

A kick.com channel page (``https://kick.com/<channel>/videos``) stands for the channel's VODs,
newest first (:func:`expand_sources`, optionally since a date and at most N per channel); a
channel that cannot be listed is that entry's error line, and the rest of the batch goes on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kickclip.errors import InvalidInput, KickclipError
from kickclip.settings import Settings

LIST_SUFFIXES = (".txt", ".list")
LOCAL_RAY = "local"  # --ray-address local: Ray started in this process
RAY_STALL_S = float(os.environ.get("KICKCLIP_RAY_STALL_S", "900"))  # no task done for this long


@dataclass(frozen=True)
class SourceOutcome:
    source: str
    clips: int = 0
    reused: int = 0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "clips": self.clips,
            "reused": self.reused,
            "error": self.error,
        }


def read_sources(arguments: Iterable[str]) -> list[str]:
    """Sources from the command line; an argument ending in .txt or .list is a file of them,
    one per line (blank lines and lines starting with # are skipped)."""
    sources: list[str] = []
    for argument in arguments:
        if argument.lower().endswith(LIST_SUFFIXES):
            try:
                lines = Path(argument).read_text(encoding="utf-8").splitlines()
            except OSError as error:
                raise InvalidInput(
                    f"cannot read the list of sources {argument}: {error.strerror or error}"
                ) from None
            sources += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        else:
            sources.append(argument)
    if not sources:
        raise InvalidInput("no sources given: pass sources or a .txt file listing them")
    return list(dict.fromkeys(sources))  # each once, in the order given


@dataclass(frozen=True)
class Plan:
    """The batch after expansion, in order: each entry a source to run, or the outcome of a
    channel page that could not be listed."""

    entries: list[str | SourceOutcome] = field(default_factory=list)

    @property
    def sources(self) -> list[str]:
        return [entry for entry in self.entries if isinstance(entry, str)]

    def outcomes(self, ran: Iterable[SourceOutcome]) -> list[SourceOutcome]:
        """Every entry's outcome in the plan's order, ``ran`` being those of :attr:`sources`."""
        by_source = {outcome.source: outcome for outcome in ran}
        return [by_source[e] if isinstance(e, str) else e for e in self.entries]


def expand_sources(
    sources: Iterable[str],
    *,
    since: datetime | None = None,
    limit: int | None = None,
    on_channel: Callable[[str, list[str] | None], None] | None = None,
) -> Plan:
    """Channel pages (``kick.com/<channel>/videos``) replaced by their VODs' addresses, newest
    first: those started at or after ``since``, at most ``limit`` per channel. Other sources
    stay as they are; each source once. ``on_channel(page, urls)`` is told each channel's
    listing (``urls`` None when it failed)."""
    from kickclip.ingest.channel import channel_slug, list_vods
    from kickclip.ingest.sources import shorten

    told = on_channel or (lambda page, urls: None)
    entries: list[str | SourceOutcome] = []
    for source in sources:
        slug = channel_slug(source)
        if slug is None:
            entries.append(source)
            continue
        try:
            urls = [vod.url for vod in list_vods(slug, since=since, limit=limit)]
        except KickclipError as error:
            entries.append(SourceOutcome(source, error=shorten(str(error))))
            told(source, None)
            continue
        entries += urls
        told(source, urls)
    seen: set[str] = set()
    unique = []
    for entry in entries:
        key = entry if isinstance(entry, str) else entry.source
        if key not in seen:
            seen.add(key)
            unique.append(entry)
    return Plan(unique)


def _generate_one(source: str, settings: Settings) -> SourceOutcome:
    """One worker's job: never raises for a bad source, it reports it."""
    from kickclip import pipeline
    from kickclip.ingest.sources import shorten

    try:
        result = pipeline.generate(source, settings)
    except KickclipError as error:
        return SourceOutcome(source, error=shorten(str(error)))
    reused = sum(clip.reused for clip in result.clips)
    return SourceOutcome(source, clips=len(result.clips), reused=reused)


def ray_available() -> bool:
    """Ray is an optional extra (``kickclip[cluster]``); ``KICKCLIP_NO_RAY=1`` hides it."""
    import importlib.util

    if os.environ.get("KICKCLIP_NO_RAY") == "1":
        return False
    return importlib.util.find_spec("ray") is not None


def run_batch(
    sources: list[str],
    settings: Settings,
    *,
    workers: int = 1,
    ray_address: str | None = None,
    on_done: Callable[[SourceOutcome], None] | None = None,
) -> list[SourceOutcome]:
    """Generate clips for every source; outcomes in the order of ``sources``.

    With ``ray_address`` every source is a Ray task: ``"local"`` starts Ray in this process
    with ``workers`` CPUs, anything else joins that cluster. Otherwise ``workers`` local
    processes. Ctrl-C cancels what has not started.
    """
    done = on_done or (lambda outcome: None)
    if ray_address is not None:
        if not ray_available():
            raise InvalidInput(
                "--ray-address needs Ray: install the extra (uv sync --extra cluster, or "
                "pip install 'kickclip[cluster]')"
            )
        outcomes = _on_ray(sources, settings, workers, ray_address, done)
    else:
        outcomes = _on_processes(sources, settings, workers, done)
    return [outcomes[source] for source in sources]


def _on_ray(
    sources: list[str],
    settings: Settings,
    workers: int,
    address: str | None,
    done: Callable[[SourceOutcome], None],
) -> dict[str, SourceOutcome]:
    # Ray otherwise notices `uv run` and starts each worker through uv in a copy of the
    # working folder; here that made workers miss Ray's start-up timeout. The workers need
    # nothing but this interpreter, which has kickclip installed.
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    import ray

    if address == LOCAL_RAY:
        ray.init(
            num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False
        )
    else:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    outcomes: dict[str, SourceOutcome] = {}
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(_generate_one)
        sent = {task.remote(source, settings): source for source in sources}
        pending = list(sent)
        while pending:
            finished, pending = ray.wait(pending, num_returns=1, timeout=RAY_STALL_S)
            if not finished:  # nothing done for that long: Ray's workers did not start
                for ref in pending:
                    ray.cancel(ref, force=True)
                    outcome = SourceOutcome(sent[ref], error=f"no Ray worker in {RAY_STALL_S:g} s")
                    outcomes[outcome.source] = outcome
                    done(outcome)
                break
            try:
                outcome = ray.get(finished[0])
            except Exception as error:  # a worker that died (killed, out of memory)
                outcome = SourceOutcome(sent[finished[0]], error=f"worker failed: {error}")
            outcomes[outcome.source] = outcome
            done(outcome)
    except KeyboardInterrupt:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        ray.shutdown()
    return outcomes


def _on_processes(
    sources: list[str],
    settings: Settings,
    workers: int,
    done: Callable[[SourceOutcome], None],
) -> dict[str, SourceOutcome]:
    """A process per source, ``workers`` at a time: a worker that dies (killed, out of
    memory) fails its own source only, and every worker ends when this process does."""
    import multiprocessing
    from multiprocessing.connection import wait

    # Workers forked from a clean server process that has imported the pipeline once: no
    # threads or locks of this process copied into them, and no import per worker.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["kickclip.pipeline", "kickclip.analyze", "kickclip.cut"])
    # Only this process holds the writing end: when it ends, however, every worker reads EOF.
    alive, alive_writer = context.Pipe(duplex=False)
    outcomes: dict[str, SourceOutcome] = {}
    waiting = list(reversed(sources))
    running: dict[Any, tuple[str, Any]] = {}  # sentinel → (source, result receiver)
    processes: dict[Any, Any] = {}
    try:
        while waiting or running:
            while waiting and len(running) < max(1, workers):
                source = waiting.pop()
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(
                    target=_work, args=(source, settings, sender, alive), daemon=True
                )
                process.start()
                sender.close()
                running[process.sentinel] = (source, receiver)
                processes[process.sentinel] = process
            for sentinel in wait(list(running)):
                source, receiver = running.pop(sentinel)
                process = processes.pop(sentinel)
                process.join()
                outcome = _result(source, receiver, process.exitcode)
                outcomes[source] = outcome
                done(outcome)
    except BaseException:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.join(5)
        raise
    finally:
        alive_writer.close()
        alive.close()
    return outcomes


def _result(source: str, receiver: Any, exitcode: int | None) -> SourceOutcome:
    with receiver:
        if receiver.poll():
            try:
                return receiver.recv()
            except (EOFError, OSError):
                pass
    how = f"killed by signal {-exitcode}" if exitcode and exitcode < 0 else f"exit {exitcode}"
    return SourceOutcome(source, error=f"worker failed: it ended without a result ({how})")


def _work(source: str, settings: Settings, results: Any, alive: Any) -> None:
    """A worker: ``_generate_one``, its outcome sent back; it ends when the batch does."""
    import threading

    threading.Thread(target=_end_with_batch, args=(alive,), daemon=True).start()
    results.send(_generate_one(source, settings))
    results.close()


def _end_with_batch(alive: Any) -> None:
    with suppress(EOFError, OSError):
        alive.recv()  # nothing is ever sent: this returns when the batch's process is gone
    os._exit(1)
