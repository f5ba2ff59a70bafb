"""kickclip batch: 8 sources with 1 worker process against 2 (this machine has 2 cores).

Each source is a 6-minute stream (LibriVox talk with planted events, 284×160 at 30 fps, as
Kick's lowest rendition); the batch generates clips (analysis, cuts, registration) into a fresh
store each time, with local worker processes and with Ray (started by the batch, included in
its time). Reported: wall time per worker count, the speed-up, and the peak resident memory of
the largest process (``ru_maxrss`` of the children).

Usage: uv run python benchmarks/bench_batch.py [--sources 8] [--minutes 6]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

import realistic


def make_sources(folder: Path, count: int, minutes: float) -> list[Path]:
    paths = []
    for seed in range(count):
        plan = realistic.plan_events(minutes * 60, seed, per_kind=1, music_s=30, cuts=1)
        audio = realistic.soundtrack(plan, swing_db=3.0, seed=seed)
        path = folder / f"vod{seed}.mp4"
        realistic.write_stream(path, plan, audio, size=(284, 160), fps=30, seed=seed)
        paths.append(path)
    return paths


def run(sources: list[Path], workers: int, folder: Path, engine: str) -> float:
    work = folder / f"run-{engine}-{workers}"
    work.mkdir()
    started = time.perf_counter()
    on_ray = ["--ray-address", "local"] if engine == "ray" else []
    subprocess.run(
        [
            sys.executable,
            "-m",
            "kickclip",
            "batch",
            *map(str, sources),
            "--workers",
            str(workers),
            *on_ray,
            "--clip-duration",
            "20",
            "--top",
            "5",
            "--db",
            str(work / "clips.db"),
            "--out",
            str(work / "clips"),
            "--models-dir",
            str(work / "models"),
            "--json",
        ],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=6.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        sources = make_sources(folder, args.sources, args.minutes)
        for engine in ("processes", "ray"):
            one = run(sources, 1, folder, engine)
            two = run(sources, 2, folder, engine)
            peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(
                f"{engine}: {args.sources} sources of {args.minutes:g} minutes: 1 worker "
                f"{one:.1f} s, 2 workers {two:.1f} s, speed-up ×{one / two:.2f}; the largest "
                f"process so far peaked at {peak_mb:.0f} MB resident",
                flush=True,
            )


if __name__ == "__main__":
    main()
