"""Does rating make the next stream better? The whole loop a user sees, end to end.

For each seed, three streams of material nobody here made (``tests/realistic.py``): recorded
LibriVox speech (Debian's ``pocketsphinx-testdata``) over a real rain bed, real footage
(moviepy's Big Buck Bunny, Chaplin and fire clips, looped), and planted moments of five kinds
(shouts, crowd cheers, game sound effects, fast visual action, a shout with action) among
decoys (a 90 s music bed, calm hard cuts). Stream A (30 min, 5 of each kind) is the one the
user rates; streams B and C (15 min, 3 of each kind) are the next streams, each with another
talk level swing, another footage and another seed, so nothing of them was seen in training.

A simulated user with a hidden taste (``TASTES``: stars per kind of moment; a clip is judged by
the best planted moment it shows, else by what it is, talk or music) works as the guide says:
``pipeline.generate`` cuts A's clips into a fresh store, then the user rates, one at a time, the
clip the review queue offers next (``trainer.review_queue``, what ``clips --unrated`` lists),
with ±1 star of noise on 30 % of ratings, through ``rating.rate`` (the guide's automatic
retraining every 5 ratings once 10 exist). Before any rating and after 10, 20 and 50,
``pipeline.analyze`` ranks B and C (``--top 10``) and the ranking is scored by the taste:
NDCG@5 and NDCG@10 (gain = stars − 1 of what each highlight shows; a moment shown twice counts
once; the ideal is the stream's best planted moments), averaged over B and C.

Usage: uv run python benchmarks/bench_taste.py [--seeds 4] [--tastes action loud game]
[--jobs 2] [--label NAME]
Streams are built once into ``benchmarks/.cache/taste/``; results go to
``benchmarks/.cache/taste/results-<label>.json`` and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

import realistic

CACHE = Path(__file__).parent / ".cache"
REAL = CACHE / "real"
STREAMS = CACHE / "taste"
POINTS = (0, 10, 20, 50)
CLIP_S, GAP_S = 20.0, 25.0
TEST_TOP = 10
NOISE_SHARE = 0.3

# Stars a person with this taste gives a clip, by the best kind of moment it shows.
TASTES: dict[str, dict[str, int]] = {
    # likes fast visual action; a shout alone is meh
    "action": {"action": 5, "both": 4, "shout": 2, "cheer": 1, "sfx": 1, "music": 1, "talk": 1},
    # likes loud reactions, not silent action
    "loud": {"shout": 5, "cheer": 5, "both": 4, "sfx": 3, "action": 1, "music": 1, "talk": 1},
    # a gamer: game sounds and action first, dislikes music (less than plain talk)
    "game": {"sfx": 5, "action": 4, "both": 4, "cheer": 3, "shout": 3, "talk": 2, "music": 1},
}
EVENT_KINDS = ("shout", "cheer", "sfx", "action", "both")


@dataclass(frozen=True)
class StreamSpec:
    name: str
    minutes: float
    per_kind: int
    swing_db: float
    footage: str
    seed: int


def specs(seed: int) -> tuple[StreamSpec, StreamSpec, StreamSpec]:
    """The rated stream and the two next streams of one seed."""
    return (
        StreamSpec("A", 30, 5, 3.0, "big_buck_bunny_0_30.webm", 1000 + seed),
        StreamSpec("B", 15, 3, 6.0, "chaplin.mp4", 2000 + seed),
        StreamSpec("C", 15, 3, 0.0, "fire2.mp4", 3000 + seed),
    )


def plan_of(spec: StreamSpec) -> realistic.Plan:
    return realistic.plan_events(spec.minutes * 60, spec.seed, per_kind=spec.per_kind)


def build(spec: StreamSpec) -> Path:
    """The stream's file, built once."""
    path = STREAMS / f"{spec.name}_{spec.seed}.mp4"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    plan = plan_of(spec)
    audio = realistic.soundtrack(
        plan, swing_db=spec.swing_db, seed=spec.seed, ambience_path=REAL / "rain.mp3"
    )
    footage = realistic.footage_frames(REAL / spec.footage, (320, 180), 15)
    part = path.with_name(f".{path.name}")
    realistic.write_stream(part, plan, audio, footage=footage, seed=spec.seed)
    part.replace(path)
    return path


# --- what a clip shows, and what the taste makes of it --------------------------------------


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def moments(plan: realistic.Plan) -> list[tuple[str, tuple[float, float]]]:
    return [(kind, span) for kind in EVENT_KINDS for span in getattr(plan, kind)]


def shows(plan: realistic.Plan, start: float, end: float, taste: dict[str, int]):
    """(stars, the planted moment it is judged by or None) for a clip from start to end."""
    best, which = None, None
    for kind, span in moments(plan):
        seen = _overlap((start, end), span)
        if seen >= min(1.5, 0.5 * (span[1] - span[0])) and (best is None or taste[kind] > best):
            best, which = taste[kind], (kind, span)
    if best is not None:
        return best, which
    music = sum(_overlap((start, end), span) for span in plan.music)
    return (taste["music"] if music >= 5.0 else taste["talk"]), None


def ndcg(plan: realistic.Plan, clips: list[tuple[float, float]], taste: dict[str, int], k: int):
    """NDCG@k of a ranked list of (start, end); a moment shown again gains nothing."""
    counted, gains = set(), []
    for start, end in clips[:k]:
        stars, which = shows(plan, start, end, taste)
        if which is not None and which in counted:
            stars = taste["talk"]
        counted.add(which)
        gains.append(stars - 1)
    ideal = sorted((taste[kind] - 1 for kind, _ in moments(plan)), reverse=True)
    ideal += [taste["talk"] - 1] * k

    def dcg(values):
        return sum(g / math.log2(i + 2) for i, g in enumerate(values[:k]))

    best = dcg(ideal)
    return dcg(gains) / best if best > 0 else 0.0


# --- one simulated user ---------------------------------------------------------------------


def _watched(settings, plan, path, taste) -> dict[str, float]:
    """``kickclip watch`` of the next stream (a file, read at once, judged as live): the
    clips it made, each judged by the taste (a moment clipped twice counts as talk), then
    removed again, so the store and the review queue hold stream A's clips only."""
    import threading

    from kickclip import pipeline
    from kickclip.store.clip_manager import ClipManager
    from kickclip.watch import Watch

    manager = ClipManager(settings.db)
    watched = Watch(str(path), settings, manager).run(threading.Event())
    counted, stars = set(), []
    for live in watched.clips:
        clip = live.clip
        given, which = shows(plan, clip.cut.start_s, clip.cut.end_s, taste)
        stars.append(taste["talk"] if which is not None and which in counted else given)
        counted.add(which)
    liked = {(k, span) for k, span in moments(plan) if taste[k] >= 4}
    pipeline.delete(manager, [live.clip.clip_id for live in watched.clips], settings.out)
    return {
        "clips": len(stars),
        "stars": float(np.mean(stars)) if stars else 0.0,
        "liked": len(liked & counted) / max(len(liked), 1),
    }


def _scores(settings, plan_b, plan_c, paths, taste, via="generate") -> dict[str, float]:
    from kickclip import pipeline

    if via == "watch":
        plans = (plan_b, plan_c)
        runs = [_watched(settings, p, path, taste) for p, path in zip(plans, paths, strict=True)]
        return {key: sum(run[key] for run in runs) / 2 for key in runs[0]}
    out = {"ndcg5": 0.0, "ndcg10": 0.0}
    for path, plan in zip(paths, (plan_b, plan_c), strict=True):
        analysis = pipeline.analyze(str(path), settings)
        ranked = [(h.start_s, h.end_s) for h in analysis.highlights]
        out["ndcg5"] += ndcg(plan, ranked, taste, 5) / 2
        out["ndcg10"] += ndcg(plan, ranked, taste, 10) / 2
    return out


def run_user(seed: int, taste_name: str, via: str = "generate") -> dict:
    """Generate A, rate it as the taste would, score B and C at each point."""
    from kickclip import pipeline
    from kickclip.learn.trainer import RatingBasedTrainer
    from kickclip.pipeline import rate
    from kickclip.settings import Settings
    from kickclip.store.clip_manager import ClipManager

    taste = TASTES[taste_name]
    spec_a, spec_b, spec_c = specs(seed)
    path_a = build(spec_a)
    tests = (build(spec_b), build(spec_c))
    plan_a, plan_b, plan_c = plan_of(spec_a), plan_of(spec_b), plan_of(spec_c)
    rng = random.Random(seed * 7919 + sum(map(ord, taste_name)))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-taste-") as tmp:
        root = Path(tmp)
        settings = Settings(
            db=root / "clips.db",
            out=root / "clips",
            models_dir=root / "models",
            clip_duration=CLIP_S,
            min_gap=GAP_S,
            top=50,
        )
        generation = pipeline.generate(str(path_a), settings)
        ids = [clip.clip_id for clip in generation.clips]
        test_settings = settings.replace(top=TEST_TOP)
        manager = ClipManager(settings.db)
        trainer = RatingBasedTrainer(manager, settings.models_dir)
        if via == "watch":
            test_settings = settings.replace(words=False)
        results = {0: _scores(test_settings, plan_b, plan_c, tests, taste, via)}
        rated = 0
        for point in POINTS[1:]:
            while rated < point:
                queue = trainer.review_queue(limit=1)
                if not queue:
                    break
                clip = queue[0]
                stars, _ = shows(plan_a, clip.start_time, clip.end_time, taste)
                if rng.random() < NOISE_SHARE:
                    stars += rng.choice((-1, 1))
                rate(manager, trainer, clip.id, min(5, max(1, stars)))
                rated += 1
            if rated < point:
                break
            results[point] = _scores(test_settings, plan_b, plan_c, tests, taste, via)
    return {
        "seed": seed,
        "taste": taste_name,
        "highlights": len(ids),
        "distinct_ids": len(set(ids)),
        "scores": results,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _decode_once() -> None:
    """Decoding is deterministic: each worker decodes a stream once and hands the same
    features to every later analysis of it (everything after decoding runs every time)."""
    import kickclip.analyze as analyze

    if getattr(analyze.extract_features, "memo", None) is not None:
        return
    decode = analyze.extract_features
    memo: dict = {}

    def extract_features(media, **options):
        key = (media.analysis_url, options.get("thorough", False))
        if key not in memo:
            memo[key] = decode(media, **options)
        return memo[key]

    extract_features.memo = memo
    analyze.extract_features = extract_features


def _job(args: tuple[int, str, str]) -> dict:
    _decode_once()
    return run_user(*args)


def watch_table(runs: list[dict]) -> str:
    """Per taste and number of ratings: what watching the next streams clipped, as the taste
    judges it (mean over seeds and the two streams)."""
    lines = [
        "| taste | ratings | clips per stream | their stars (mean) | liked moments clipped |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for taste in TASTES:
        mine = [r for r in runs if r["taste"] == taste]
        for point in POINTS:
            have = [r["scores"][str(point)] for r in mine if str(point) in r["scores"]]
            if not have:
                continue
            clips, stars, liked = (
                np.mean([h[k] for h in have]) for k in ("clips", "stars", "liked")
            )
            lines.append(f"| {taste} | {point} | {clips:.1f} | {stars:.2f} | {liked:.0%} |")
    return "\n".join(lines)


def table(runs: list[dict]) -> str:
    lines = [
        "| taste | ratings | NDCG@5 | NDCG@5 − untrained (paired) | worse seeds "
        "| NDCG@10 | NDCG@10 − untrained (paired) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for taste in TASTES:
        mine = [r for r in runs if r["taste"] == taste]
        if not mine:
            continue
        for point in POINTS:
            have = [r for r in mine if str(point) in r["scores"] or point in r["scores"]]

            def values(metric, runs=have, point=point):
                return np.array([r["scores"][str(point)][metric] for r in runs])

            def base(metric, runs=have):
                return np.array([r["scores"]["0"][metric] for r in runs])

            n5, n10 = values("ndcg5"), values("ndcg10")
            d5, d10 = n5 - base("ndcg5"), n10 - base("ndcg10")
            worse = int(np.sum(d5 < -1e-9))
            lines.append(
                f"| {taste} | {point} | {n5.mean():.3f} ± {n5.std():.3f} "
                f"| {d5.mean():+.3f} ± {d5.std():.3f} | {worse} of {len(have)} "
                f"| {n10.mean():.3f} ± {n10.std():.3f} | {d10.mean():+.3f} ± {d10.std():.3f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--tastes", nargs="+", default=list(TASTES), choices=list(TASTES))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--label", default="current")
    parser.add_argument(
        "--via",
        choices=("generate", "watch"),
        default="generate",
        help="how the next streams are judged: generate's top 10, or what watch clips",
    )
    args = parser.parse_args()
    for seed in range(args.seeds):  # build the streams first, in parallel
        with ProcessPoolExecutor(args.jobs) as pool:
            list(pool.map(build, specs(seed)))
    jobs = [(seed, taste, args.via) for seed in range(args.seeds) for taste in args.tastes]
    runs = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for run in pool.map(_job, jobs):
            run["scores"] = {str(k): v for k, v in run["scores"].items()}
            runs.append(run)
            print(
                f"seed {run['seed']} {run['taste']}: {run['highlights']} highlights, "
                f"{run['distinct_ids']} distinct ids, "
                + ", ".join(f"{k}: {next(iter(v.values())):.3f}" for k, v in run["scores"].items())
                + f" ({run['seconds']} s)",
                file=sys.stderr,
                flush=True,
            )
    STREAMS.mkdir(parents=True, exist_ok=True)
    (STREAMS / f"results-{args.label}.json").write_text(json.dumps(runs, indent=1))
    print(watch_table(runs) if args.via == "watch" else table(runs))


if __name__ == "__main__":
    main()
