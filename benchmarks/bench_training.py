"""How long a training takes: ``HighlightModel().fit`` (final models and 5-fold cross-validation,
shared and per type) at 1,000 and 10,000 ratings, wall and CPU seconds, scikit-learn imported
before the clock starts (an automatic retraining runs in a process that has it already).

Clips are those of ``bench_learning.py`` (detector-like features through four latent causes,
irrelevant heavy-tailed ones) with transferable names added, rated by its nonlinear rater.

Usage: uv run python benchmarks/bench_training.py [--sizes 1000 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bench_learning import simulate_clips, utility_of

from kickclip.learn.model import HighlightModel


def rated(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    features, kinds, latent = simulate_clips(n, rng)
    for row, loud, action in zip(features, latent["loud"], latent["action"], strict=True):
        row["audio_strength"] = float(loud + 0.3 * rng.standard_normal())
        row["video_strength"] = float(action + 0.3 * rng.standard_normal())
        row["detector_score"] = float(1 / (1 + np.exp(-loud)))
    utility = utility_of("nonlinear", latent, kinds)
    stars = 1 + np.digitize(utility, np.quantile(utility, [0.2, 0.4, 0.6, 0.8]))
    return features, kinds, stars.astype(int)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import sklearn.ensemble  # noqa: F401  (import cost is not training cost)

    HighlightModel().fit(*rated(50))  # first fit: lazy imports inside scikit-learn
    print("| ratings | wall s (min / median / max) | CPU s (median) | CV MAE stars | CV Spearman |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for n in args.sizes:
        data = rated(n)
        walls, cpus = [], []
        for _ in range(args.repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            model = HighlightModel().fit(*data)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        m = model.metrics_
        print(
            f"| {n:,} | {min(walls):.2f} / {np.median(walls):.2f} / {max(walls):.2f} "
            f"| {np.median(cpus):.2f} | {m['cv_mae_stars']:.3f} | {m['cv_spearman']:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
