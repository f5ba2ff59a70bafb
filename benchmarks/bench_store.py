"""Clip store latency at 10,000 clips, and ratings per second from several processes at once,
on SQLite and on PostgreSQL (a throwaway local cluster, as the tests start one).

Usage: uv run python benchmarks/bench_store.py [--clips 10000] [--processes 4]
       [--postgres postgresql://…  (a server of your own instead of a local cluster)]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from kickclip.store.clip_manager import ClipManager, utc_now

RATER = """
import sys, time
from kickclip.store.clip_manager import ClipManager
db, user, first, count, start_at = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:6])
manager = ClipManager(db)
while time.time() < start_at:
    time.sleep(0.001)
for clip_id in range(int(first), int(first + count)):
    manager.rate_clip(clip_id, 1 + clip_id % 5, user=user)
print(time.time() - start_at)
"""


def fill(manager: ClipManager, n: int) -> None:
    """Bulk insert in one transaction (registering one by one is what the pipeline does)."""
    rng = random.Random(0)
    rows = []
    for i in range(n):
        features = {f"feature_{k}": rng.random() for k in range(25)}
        rated = rng.random() < 0.5
        rows.append(
            (
                f"clip{i}.mp4",
                f"/clips/clip{i}.mp4",
                30.0 * i,
                30.0 * i + 30,
                30.0,
                rng.random(),
                rng.choice(["audio", "video"]),
                json.dumps(features),
                rng.randint(1, 5) if rated else None,
                utc_now(),
                utc_now() if rated else None,
                "https://kick.com/x/videos/y",
            )
        )
    with manager._write() as db:
        db.executemany(
            "INSERT INTO clips (filename, filepath, start_time, end_time, duration, score, "
            "clip_type, features, rating, created_at, rated_at, source_url) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def timed_ms(call, repeats: int = 20) -> float:
    call()  # warm-up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def latencies(location: Path | str, clips: int) -> dict[str, float]:
    manager = ClipManager(location)
    fill(manager, clips)
    for clip_id in range(1, clips // 2):  # a named user who rated half the clips
        if clip_id % 2:
            manager.rate_clip(clip_id, 1 + clip_id % 5, user="ana")
    return {
        "get_statistics()": timed_ms(manager.get_statistics),
        "list_clips(50)": timed_ms(lambda: manager.list_clips(50)),
        "get_clips_for_review(50)": timed_ms(lambda: manager.get_clips_for_review(50)),
        "get_clips_for_review(50, user=…)": timed_ms(
            lambda: manager.get_clips_for_review(50, user="ana")
        ),
        "get_statistics(user=…)": timed_ms(lambda: manager.get_statistics(user="ana")),
        "register_clip()": timed_ms(
            lambda: manager.register_clip("/clips/new.mp4", 1, 31, 0.5, "audio", {"a": 1.0})
        ),
        "rate_clip()": timed_ms(lambda: manager.rate_clip(1, 4)),
        "rate_clip(user=…)": timed_ms(lambda: manager.rate_clip(2, 4, user="bo")),
    }


def ratings_per_second(location: Path | str, clips: int, processes: int, each: int) -> float:
    """``processes`` raters (one user each) rate ``each`` clips at once; all ratings / wall s."""
    fill(ClipManager(location), clips)  # migrated and filled before the clock starts
    start_at = time.time() + 3.0  # every process is up and waiting by then
    rater = [sys.executable, "-c", RATER, str(location)]
    workers = [
        subprocess.Popen(
            [*rater, f"user{i}", str(1 + i * each % clips), str(each), str(start_at)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    took = [float(worker.communicate(timeout=600)[0]) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    return processes * each / max(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--ratings", type=int, default=500, help="per process")
    parser.add_argument("--postgres", help="a PostgreSQL server URL (default: a local cluster)")
    args = parser.parse_args()
    from postgres import fresh_database, postgres_server

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, postgres_server() as server:
        server = args.postgres or server
        for name, new_store in (
            ("SQLite", lambda i: Path(tmp) / f"clips{i}.db"),
            ("PostgreSQL", lambda i: fresh_database(server)),
        ):
            results[name] = latencies(new_store(0), args.clips)
            rate = ratings_per_second(new_store(1), args.clips, args.processes, args.ratings)
            results[name][f"ratings/s, {args.processes} processes at once"] = rate
    print(f"| at {args.clips:,} clips (median ms) | SQLite | PostgreSQL |")
    print("| --- | ---: | ---: |")
    for operation in results["SQLite"]:
        cells = [f"{results[name][operation]:.2f}" for name in ("SQLite", "PostgreSQL")]
        if operation.startswith("ratings/s"):
            cells = [f"{results[name][operation]:,.0f}" for name in ("SQLite", "PostgreSQL")]
        print(f"| {operation} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
