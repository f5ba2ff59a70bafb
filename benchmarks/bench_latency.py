"""Wall time of the everyday commands with a trained model: ``stats``, ``clips --unrated``,
``models`` and a ``rate`` that does not retrain, each a whole ``kickclip`` process.

A store of 1,000 rated clips (plus unrated ones for the queue) with detector-like feature
dicts is built once and one model trained on it (not timed: training is measured elsewhere);
then each command runs ``--runs`` times after one warm-up, and the table gives min, median
and max; ``kickclip --help`` is the floor, what any command pays to start. The rating always
re-rates the same clip, so ratings since training stay at one and no run retrains.

Usage: uv run python benchmarks/bench_latency.py [--rated 1000] [--unrated 300] [--runs 5]
       [--keep DIR  (build the store there once and reuse it on later runs)]
       [--compile-every-run  (keep PYTHONDONTWRITEBYTECODE: no bytecode cache, as in a sandbox)]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kickclip.learn.trainer import RatingBasedTrainer
from kickclip.store.clip_manager import ClipManager

SIDES = ("rms_db", "activity_kbits", "motion", "spectral_flux", "chat_rate")


def features(rng: random.Random, excitement: float) -> dict[str, float]:
    """Feature names as the detectors write them; values that rise with ``excitement``."""
    row: dict[str, float] = {}
    for side in SIDES:
        z = 1.5 + 4 * excitement + rng.gauss(0, 1)
        row[f"{side}_z_max"] = z
        row[f"{side}_z_mean"] = z / 2 + rng.gauss(0, 0.3)
        row[f"{side}_rise_max"] = 3 * z + rng.gauss(0, 2)
        row[f"{side}_pct"] = min(1.0, max(0.0, 0.5 + excitement / 2 + rng.gauss(0, 0.1)))
        row[f"{side}_mean"] = rng.gauss(-30, 5)  # an absolute level: not used for learning
    row["audio_strength"] = excitement + rng.gauss(0, 0.2)
    row["video_strength"] = excitement / 2 + rng.gauss(0, 0.2)
    row["peak_strength"] = rng.random()
    return row


def build(root: Path, rated: int, unrated: int) -> tuple[Path, Path, int]:
    """The database, the models folder and the id of a rated clip."""
    db, models_dir = root / "clips.db", root / "models"
    manager = ClipManager(db)
    rng = random.Random(0)
    first = None
    for i in range(rated + unrated):
        excitement = rng.random()
        clip_id = manager.register_clip(
            root / f"clip{i}.mp4",
            30.0 * i,
            30.0 * i + 30,
            excitement,
            rng.choice(["audio", "video"]),
            features(rng, excitement),
            source_url="https://kick.com/streamer/videos/1",
        )
        if i < rated:
            stars = min(5, max(1, round(1 + 4 * excitement + rng.gauss(0, 0.7))))
            manager.rate_clip(clip_id, stars)
            first = first or clip_id
    RatingBasedTrainer(manager, models_dir).train_from_ratings()
    return db, models_dir, int(first)


def timed(command: list[str], env: dict[str, str], runs: int) -> list[float]:
    """Wall seconds of each run, after one warm-up; a failing command stops the benchmark."""
    samples = []
    for run in range(runs + 1):
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
        if "Retrain" in done.stdout:
            sys.exit(f"{' '.join(command)} retrained; the benchmark times what does not")
        if run:
            samples.append(elapsed)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rated", type=int, default=1000)
    parser.add_argument("--unrated", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the store here, or reuse it")
    parser.add_argument(
        "--compile-every-run",
        action="store_true",
        help="leave PYTHONDONTWRITEBYTECODE as it is (no bytecode cache of our own)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        if args.keep and (root / "clips.db").exists():
            db, models_dir = root / "clips.db", root / "models"
            clip_id = ClipManager(db).rated_clips()[0].id
        else:
            root.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            db, models_dir, clip_id = build(root, args.rated, args.unrated)
            print(f"built and trained in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        env = {**os.environ, "KICKCLIP_DB": str(db), "KICKCLIP_MODELS": str(models_dir)}
        if not args.compile_every_run:
            # An installed kickclip starts from cached bytecode; with PYTHONDONTWRITEBYTECODE
            # (some sandboxes set it) each process compiles ~300 modules again, about a
            # second. The cache goes beside the store, not into the checkout or the venv.
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
        kickclip = [sys.executable, "-m", "kickclip"]
        commands = {
            "kickclip --help": ["--help"],  # the floor: Python, Typer, Rich, the store's imports
            "kickclip stats": ["stats"],
            "kickclip clips --unrated": ["clips", "--unrated"],
            "kickclip models": ["models"],
            f"kickclip rate {clip_id} 3": ["rate", str(clip_id), "3"],
        }
        counts = ClipManager(db).get_statistics()
        rated = counts["rated_clips"]
        print(f"{rated} rated clips, {counts['total_clips'] - rated} unrated, a trained model")
        cache = "compiled every run" if args.compile_every_run else "cached bytecode"
        print(f"{args.runs} runs after one warm-up, {cache}, wall seconds of the whole process\n")
        print("| command | min | median | max |")
        print("| --- | ---: | ---: | ---: |")
        for label, command in commands.items():
            samples = timed([*kickclip, *command], env, args.runs)
            print(
                f"| `{label}` | {min(samples):.2f} | {statistics.median(samples):.2f} "
                f"| {max(samples):.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
