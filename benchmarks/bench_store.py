"""Clip store latency at 10,000 clips: ``get_statistics()`` and ``list_clips(50)``.

Usage: uv run python benchmarks/bench_store.py [--clips 10000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from kickclip.store.clip_manager import ClipManager, utc_now


def fill(manager: ClipManager, n: int) -> None:
    """Bulk insert in one transaction (registering one by one is what the pipeline does)."""
    import json

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        manager = ClipManager(Path(tmp) / "clips.db")
        fill(manager, args.clips)
        register_ms = timed_ms(
            lambda: manager.register_clip("/clips/new.mp4", 1, 31, 0.5, "audio", {"a": 1.0})
        )
        rate_ms = timed_ms(lambda: manager.rate_clip(1, 4))
        print(f"| operation at {args.clips:,} clips | median ms |")
        print("| --- | ---: |")
        print(f"| get_statistics() | {timed_ms(manager.get_statistics):.2f} |")
        print(f"| list_clips(50) | {timed_ms(lambda: manager.list_clips(50)):.2f} |")
        print(
            f"| get_clips_for_review(50) | "
            f"{timed_ms(lambda: manager.get_clips_for_review(50)):.2f} |"
        )
        print(f"| register_clip() | {register_ms:.2f} |")
        print(f"| rate_clip() | {rate_ms:.2f} |")


if __name__ == "__main__":
    main()
