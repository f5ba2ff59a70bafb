"""How fast does kickclip learn a taste? A simulated rater with a hidden preference.

Clips get detector-like features (loudness, onsets, spectrum, motion, cuts, colour; on their
own scales, correlated through a few latent causes, plus irrelevant heavy-tailed ones). The
rater's hidden utility is nonlinear in them (loud excitement saturates, action counts more in
video clips, a hard scene cut is disliked); ratings are that utility quantized to 1-5 stars
with rater noise. After 10, 20, 50 and 100 ratings we measure Spearman(predicted, hidden
utility) on 500 held-out clips, averaged over seeds, for kickclip's ``HighlightModel`` and for
the plain approach (one ``GradientBoostingRegressor()`` with default parameters on the raw
features plus the clip type).

Usage: uv run python benchmarks/bench_learning.py [--seeds 20]
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.stats import spearmanr

from kickclip.learn.dataset import feature_names_from, targets, to_matrix
from kickclip.learn.model import HighlightModel

POINTS = (10, 20, 50, 100)
HELD_OUT = 500


def simulate(n: int, rng: np.random.Generator):
    """Clips (features, clip types) and the rater's hidden utility and star ratings."""
    loud, excite, action, cut = rng.standard_normal((4, n))
    kinds = np.where(rng.random(n) < 0.5, "audio", "video")
    is_video = kinds == "video"
    noise = lambda scale=0.3: scale * rng.standard_normal(n)  # noqa: E731
    columns = {
        "rms_db_mean": -30 + 4 * loud + noise(2),
        "rms_db_max": -20 + 5 * loud + 3 * excite + noise(2),
        "rms_db_z_max": 1.5 * excite + 0.5 * loud + noise(),
        "flux_mean": np.exp(0.5 * excite + noise()),
        "flux_z_max": excite + noise(0.5),
        "centroid_hz_mean": 1500 + 300 * excite + noise(200),
        "highband_ratio_mean": 0.2 + 0.05 * excite + noise(0.03),
        "zcr_mean": 0.1 + 0.02 * loud + noise(0.02),
        "motion_mean": np.exp(0.6 * action + noise()),
        "motion_z_max": 1.2 * action + noise(0.5),
        "motion_max": np.exp(action + noise(0.5)),
        "scene_cut_max": np.clip(0.3 + 0.25 * cut + noise(0.1), 0, 1),
        "brightness_delta": np.abs(0.2 * cut + noise(0.1)),
        "colourfulness_delta": np.abs(0.15 * cut + 0.1 * action + noise(0.1)),
        "packet_kbits_mean": 400 + 120 * action + noise(50),
    }
    for k in range(8):  # irrelevant, heavy-tailed
        columns[f"irrelevant_{k}"] = rng.standard_t(2, n) * 10.0 ** rng.integers(-2, 3)
    utility = (
        np.tanh(1.2 * excite + 0.4 * loud)
        + np.where(is_video, 0.9, 0.3) * np.tanh(action)
        - 0.8 * (cut > 1.0)
        + 0.3 * excite * action
    )
    noisy = utility + 0.35 * rng.standard_normal(n)
    edges = np.quantile(noisy, [0.2, 0.45, 0.7, 0.9])
    stars = 1 + np.searchsorted(edges, noisy)
    features = [{name: float(values[i]) for name, values in columns.items()} for i in range(n)]
    return features, list(kinds), utility, stars.tolist()


def plain_predictions(train, test) -> np.ndarray:
    from sklearn.ensemble import GradientBoostingRegressor

    features, kinds, _, stars = train
    names = feature_names_from(features)

    def matrix(feats, types):
        return np.hstack(
            [to_matrix(feats, names), (np.asarray(types) == "video").astype(float)[:, None]]
        )

    model = GradientBoostingRegressor(random_state=0).fit(matrix(features, kinds), targets(stars))
    return model.predict(matrix(test[0], test[1]))


def ours_predictions(train, test) -> np.ndarray:
    features, kinds, _, stars = train
    model = HighlightModel(cv_folds=0).fit(features, kinds, stars)
    return model.predict(test[0], test[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    scores = {(who, n): [] for who in ("kickclip", "plain") for n in POINTS}
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        pool = simulate(max(POINTS), rng)
        test = simulate(HELD_OUT, rng)
        for n in POINTS:
            train = tuple(part[:n] for part in pool)
            for who, predict in (("kickclip", ours_predictions), ("plain", plain_predictions)):
                rho = spearmanr(predict(train, test), test[2])[0]
                scores[who, n].append(0.0 if np.isnan(rho) else rho)
    print(
        f"Spearman(predicted, hidden utility) on {HELD_OUT} held-out clips, "
        f"mean ± sd over {args.seeds} seeds\n"
    )
    print("| ratings | kickclip HighlightModel | plain GradientBoostingRegressor | lead |")
    print("| ---: | ---: | ---: | ---: |")
    for n in POINTS:
        ours, plain = np.array(scores["kickclip", n]), np.array(scores["plain", n])
        print(
            f"| {n} | {ours.mean():.3f} ± {ours.std():.3f} | {plain.mean():.3f} ± "
            f"{plain.std():.3f} | {ours.mean() - plain.mean():+.3f} |"
        )


if __name__ == "__main__":
    main()
