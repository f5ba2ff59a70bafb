"""Chat as a signal: are the moments only the audience reacted to found, and spam left alone?

Streams of 15 minutes whose talk is recorded LibriVox speech (as ``eval_detection.py``) with 2
shouts, 2 cheers, 2 game sound effects and 2 shouts with action planted; the chat is simulated
(``tests/chatlog.py``): everyday chatter, a reaction of many people a few seconds after each
planted sound event, and 3 *jokes*: moments with no change in the sound that only the chat
reacts to. Decoys: two single-user floods, a timer bot posting every minute, a raid's burst of
greetings.

Per condition, over seeds: recall of the jokes among the chat highlights (``--top 20``), and
without the chat among all highlights; precision of the chat highlights that score ≥ 0.5 (a
true one reacts to a joke or a planted event); how many decoys a chat highlight in the top half
covers. Then the cost: analysis time of a 10-minute stream with and without 50,000 messages an
hour (8,368 messages), same run; ``--timing-only`` measures only that.

Usage: uv run python benchmarks/eval_chat.py [--seeds 3] [--quick] [--timing-only] [--repeats 5]
"""

from __future__ import annotations

import argparse
import importlib
import random
import statistics
import sys
import tempfile
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

import chatlog
import realistic
from kickclip import pipeline
from kickclip.settings import Settings

DURATION_S = 900.0
SETTINGS = Settings(clip_duration=12, min_gap=20, top=20)


@dataclass(frozen=True)
class Condition:
    name: str
    rate: float  # everyday messages per second
    crowd: int  # regulars who post them
    people: int  # people reacting to a moment
    lag: tuple[float, float]  # the audience's delay, drawn per stream within this range
    jitter: float = 1.0  # each reaction's own delay varies by this much


CONDITIONS = (
    Condition("busy chat (3 msg/s), 30 react, lag 3-6 s", 3.0, 400, 30, (3, 6)),
    Condition("slow chat (0.3 msg/s), 8 react, lag 3-6 s", 0.3, 30, 8, (3, 6)),
    Condition("busy chat, long lag 10-13 s", 3.0, 400, 30, (10, 13)),
    Condition("busy chat, lag jitter ±3 s", 3.0, 400, 30, (4, 7), jitter=3.0),
    Condition("busy chat, weak reactions (12 of 400)", 3.0, 400, 12, (3, 6)),
)


def _free_times(
    plan: realistic.Plan, count: int, rng: random.Random, taken: list[float]
) -> list[float]:
    """``count`` moments at least 25 s from every planted event, the music and each other."""
    busy = [t for span in plan.audio_events() + plan.action + plan.music for t in span]
    found: list[float] = []
    for _ in range(100_000):
        t = rng.uniform(40, plan.duration_s - 60)
        if all(abs(t - other) > 25 for other in busy + plan.cuts + taken + found):
            found.append(t)
            if len(found) == count:
                return found
    raise RuntimeError("no room left in the plan for the chat-only moments")


def make_case(folder: Path, seed: int, condition: Condition):
    plan = realistic.plan_events(DURATION_S, seed, per_kind=2)
    stream = folder / f"stream{seed}.mp4"
    if not stream.exists():
        audio = realistic.soundtrack(plan, swing_db=3.0, seed=seed)
        realistic.write_stream(stream, plan, audio, seed=seed)
    rng = random.Random(seed * 101 + zlib.crc32(condition.name.encode()))
    lag = rng.uniform(*condition.lag)
    jokes = _free_times(plan, 3, rng, [])
    decoys = _free_times(plan, 3, rng, jokes)
    raw = chatlog.chatter(rng, DURATION_S, rate=condition.rate, crowd=condition.crowd)
    reacted = [start for start, _ in plan.audio_events()] + jokes
    for t in reacted:
        delay = lag + rng.uniform(-condition.jitter, condition.jitter)
        raw += chatlog.reaction(
            rng, t, lag=delay, people=condition.people, kind=rng.choice(("laugh", "hype"))
        )
    raw += chatlog.single_user_flood(decoys[0]) + chatlog.single_user_flood(decoys[1])
    raw += chatlog.raid(rng, decoys[2]) + chatlog.timer_bot(DURATION_S)
    chat = chatlog.write_jsonl(
        folder / f"chat{seed}-{zlib.crc32(condition.name.encode())}.jsonl", raw
    )
    return stream, chat, jokes, decoys, reacted


def _covers(highlight, t: float, margin: float = 3.0) -> bool:
    return highlight.start_s - margin <= t <= highlight.end_s + margin


def evaluate(condition: Condition, seeds: int, folder: Path) -> dict[str, float]:
    found = without = jokes_total = true_hi = all_hi = decoy_hits = 0
    for seed in range(seeds):
        stream, chat, jokes, decoys, reacted = make_case(folder, seed, condition)
        plain = pipeline.analyze(str(stream), SETTINGS)
        with_chat = pipeline.analyze(str(stream), SETTINGS.replace(chat=chat))
        chat_hl = sorted(
            (h for h in with_chat.highlights if h.clip_type == "chat"),
            key=lambda h: h.score,
            reverse=True,
        )
        jokes_total += len(jokes)
        found += sum(any(_covers(h, j) for h in chat_hl) for j in jokes)
        without += sum(any(_covers(h, j) for h in plain.highlights) for j in jokes)
        confident = [h for h in chat_hl if h.score >= 0.5]
        all_hi += len(confident)
        true_hi += sum(any(_covers(h, t) for t in reacted) for h in confident)
        top_half = chat_hl[: max(1, len(chat_hl) // 2)]
        decoy_hits += sum(any(_covers(h, d, margin=0.0) for h in top_half) for d in decoys)
    return {
        "recall_with": found / jokes_total,
        "recall_without": without / jokes_total,
        "precision": true_hi / all_hi if all_hi else float("nan"),
        "confident": all_hi / seeds,
        "decoys": decoy_hits,
        "decoy_total": 3 * seeds,
    }


STAGES = (  # the chat's own stages, and detection (it judges the chat's series too)
    ("kickclip.chat.formats", "read_chat"),
    ("kickclip.chat.features", "chat_for"),
    ("kickclip.detect", "find_highlights"),
)


@contextmanager
def stage_clock(spent: dict[str, float]):
    """Adds the seconds spent in each of STAGES to ``spent`` while inside."""
    originals = []
    for module_name, name in STAGES:
        module = importlib.import_module(module_name)
        original = getattr(module, name)
        originals.append((module, name, original))

        def timed(*args, __original=original, __name=name, **kwargs):
            started = time.perf_counter()
            try:
                return __original(*args, **kwargs)
            finally:
                spent[__name] = spent.get(__name, 0.0) + time.perf_counter() - started

        setattr(module, name, timed)
    try:
        yield spent
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


def cost(folder: Path, repeats: int = 5) -> dict[str, float]:
    """Seconds to analyze a 10-minute stream without and with 50,000 messages an hour (best
    of ``repeats`` each); what the chat adds, the median over the repeats of the difference
    within each back-to-back pair (the best times of the two can fall in different spells of
    load on a shared machine; a pair shares its spell); and the chat's own stages, timed
    inside the runs (median): reading the log, its features, and what detection spends more."""
    duration = 600.0
    plan = realistic.plan_events(duration, 99, per_kind=2)
    stream = folder / "cost.mp4"
    if not stream.exists():
        audio = realistic.soundtrack(plan, swing_db=3.0, seed=99)
        # Kick's lowest rendition, the one analyzed: 160p at 30 frames a second.
        realistic.write_stream(stream, plan, audio, size=(284, 160), fps=30)
    rng = random.Random(5)
    raw = chatlog.chatter(rng, duration, rate=50_000 / 3600, crowd=2000)
    chat = chatlog.write_jsonl(folder / "cost.jsonl", raw)
    pipeline.analyze(str(stream), SETTINGS.replace(chat=chat))  # warm: imports, caches
    timings: dict[bool, list[float]] = {False: [], True: []}
    stages: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    for repeat in range(repeats):
        for use_chat in (False, True) if repeat % 2 == 0 else (True, False):
            with stage_clock({}) as spent:
                started = time.perf_counter()
                pipeline.analyze(str(stream), SETTINGS.replace(chat=chat if use_chat else None))
                timings[use_chat].append(time.perf_counter() - started)
            stages[use_chat].append(spent)
    pairs = list(zip(stages[False], stages[True], strict=True))
    return {
        "without": min(timings[False]),
        "with": min(timings[True]),
        "added": statistics.median(b - a for a, b in zip(*timings.values(), strict=True)),
        "read": statistics.median(b["read_chat"] for _, b in pairs),
        "features": statistics.median(b["chat_for"] for _, b in pairs),
        "detect": statistics.median(b["find_highlights"] - a["find_highlights"] for a, b in pairs),
        "own": statistics.median(
            b["read_chat"] + b["chat_for"] + b["find_highlights"] - a["find_highlights"]
            for a, b in pairs
        ),
        "messages": len(raw),
    }


def detection(conditions: tuple[Condition, ...], seeds: int, folder: Path) -> None:
    print(f"{seeds} seeds × 3 jokes per condition; 15-minute streams, LibriVox talk\n")
    print(
        "| condition | jokes found with chat | without chat | precision (score ≥ 0.5) "
        "| chat highlights ≥ 0.5 per stream | decoys in the top half |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for condition in conditions:
        r = evaluate(condition, seeds, folder)
        print(
            f"| {condition.name} | {r['recall_with']:.2f} | {r['recall_without']:.2f} | "
            f"{r['precision']:.2f} | {r['confident']:.1f} | "
            f"{r['decoys']} of {r['decoy_total']} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one seed, two conditions")
    parser.add_argument("--timing-only", action="store_true", help="only the cost, no detection")
    parser.add_argument("--repeats", type=int, default=5, help="cost: best of this many runs")
    args = parser.parse_args()
    conditions = CONDITIONS[:2] if args.quick else CONDITIONS
    seeds = 1 if args.quick else args.seeds
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if not args.timing_only:
            detection(conditions, seeds, folder)
        c = cost(folder, args.repeats)
        n, plain = c["messages"], c["without"]
        print(
            f"\nCost: 10-minute stream, {n} messages (50,000 an hour): analysis "
            f"{plain:.2f} s without chat, {c['with']:.2f} s with it (best of {args.repeats}); "
            f"the chat adds {1000 * c['added']:.0f} ms, +{100 * c['added'] / plain:.1f} %, "
            f"{1e6 * c['added'] / n:.1f} µs a message (median of {args.repeats} back-to-back "
            f"pairs).\nThe chat's own stages, timed inside the runs (median): reading the log "
            f"{1000 * c['read']:.0f} ms, its features {1000 * c['features']:.0f} ms, detection "
            f"{1000 * c['detect']:+.0f} ms: {1000 * c['own']:.0f} ms, "
            f"+{100 * c['own'] / plain:.1f} % of the best analysis without chat, "
            f"{1e6 * c['own'] / n:.1f} µs a message."
        )


if __name__ == "__main__":
    main()
