"""Does the rating queue's order teach the model faster? Newest first against kickclip's order.

The simulated clips and raters of ``bench_learning.py``. A pool of 600 unrated clips; the rater
first rates 10 of them (the same 10 for both orders), then rates 5 at a time in the order the
queue offers: ``newest first`` (the pool's own, random order; what the queue did before) or
``informative first`` (``kickclip.learn.active.order``: committee disagreement × distance to
what was rated). After 20, 30 and 50 ratings, ``HighlightModel`` is trained on what was rated
and scored by Spearman(predicted, hidden utility) on 500 held-out clips, mean ± sd over seeds;
the last column is the paired difference (same seed, same clips).

Usage: uv run python benchmarks/bench_active.py [--seeds 20] [--jobs 2]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from bench_learning import RATERS, simulate_clips, stars_of, utility_of
from scipy.stats import spearmanr

from kickclip.learn import active
from kickclip.learn.model import HighlightModel

POOL = 600
HELD_OUT = 500
START = 10
BATCH = 5
POINTS = (20, 30, 50)
ORDERS = ("newest first", "informative first")


def _next(order: str, rated: list[int], pool, stars) -> list[int]:
    features, kinds = pool
    left = [i for i in range(len(features)) if i not in set(rated)]
    if order == "newest first":
        return left[:BATCH]
    training = {
        "features": [features[i] for i in rated],
        "clip_types": [kinds[i] for i in rated],
        "ratings": [stars[i] for i in rated],
    }
    picks = active.order(training, [features[i] for i in left], [kinds[i] for i in left], BATCH)
    return [left[p] for p in picks]


def run_seed(seed: int) -> dict:
    out = {}
    rng = np.random.default_rng(seed)
    pool_features, pool_kinds, pool_latent = simulate_clips(POOL, rng)
    test_features, test_kinds, test_latent = simulate_clips(HELD_OUT, rng)
    for rater in RATERS:
        stars = stars_of(utility_of(rater, pool_latent, pool_kinds), np.random.default_rng(seed))
        hidden = utility_of(rater, test_latent, test_kinds)
        for order in ORDERS:
            rated = list(range(START))
            while len(rated) < max(POINTS):
                rated += _next(order, rated, (pool_features, pool_kinds), stars)
                if len(rated) in POINTS:
                    model = HighlightModel(cv_folds=0).fit(
                        [pool_features[i] for i in rated],
                        [pool_kinds[i] for i in rated],
                        [stars[i] for i in rated],
                    )
                    rho = spearmanr(model.predict(test_features, test_kinds), hidden)[0]
                    out[rater, order, len(rated)] = 0.0 if np.isnan(rho) else float(rho)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run_seed, range(args.seeds)))
    print(
        f"Spearman(predicted, hidden utility) on {HELD_OUT} held-out clips after rating in each "
        f"order, mean ± sd over {args.seeds} seeds\n"
    )
    print("| rater | ratings | newest first | informative first | difference (paired) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for rater in RATERS:
        for n in POINTS:
            plain, ours = (np.array([r[rater, o, n] for r in results]) for o in ORDERS)
            gap = ours - plain
            print(
                f"| {rater} | {n} | {plain.mean():.3f} ± {plain.std():.3f} | "
                f"{ours.mean():.3f} ± {ours.std():.3f} | {gap.mean():+.3f} ± {gap.std():.3f} |"
            )


if __name__ == "__main__":
    main()
