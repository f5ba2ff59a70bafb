"""How fast does kickclip learn a taste? Simulated raters with a hidden preference.

Clips get detector-like features (loudness, onsets, spectrum, motion, cuts, colour; on their
own scales, correlated through a few latent causes, plus irrelevant heavy-tailed ones). Each
rater's hidden utility is a function of the latent causes; ratings are that utility quantized
to 1-5 stars with rater noise. Three raters see the very same clips (same seed):

* ``nonlinear``: loud excitement saturates, action counts more in video clips, a hard scene
  cut is disliked, excitement and action interact (the original rater);
* ``linear``: mostly a weighted sum of excitement, loudness, action and cuts;
* ``threshold``: likes a clip only once excitement or (video) action crosses a threshold.

After 10, 20, 50 and 100 ratings we measure Spearman(predicted, hidden utility) on 500
held-out clips, mean ± sd over seeds, for four learners trained on the same ratings:

* ``plain GBR``: one ``GradientBoostingRegressor()`` with default parameters on the raw
  features plus the clip type as a 0/1 column;
* ``Quantile+Ridge``: ``SimpleImputer(median) → QuantileTransformer → Ridge()`` (default
  alpha), clip type as a 0/1 column;
* ``pairwise``: a RankSVM-style ranker: every pair of clips with different stars gives the
  difference of their quantile-scaled features, labelled by which has more stars; a
  ``LogisticRegression`` without intercept on both orientations; its linear score ranks clips;
* ``HighlightModel``: kickclip's model (``src/kickclip/learn/model.py``).

Usage: uv run python benchmarks/bench_learning.py [--seeds 20] [--raters nonlinear linear
threshold] [--jobs 2]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy.stats import spearmanr

from kickclip.learn.dataset import feature_names_from, targets, to_matrix
from kickclip.learn.model import HighlightModel

POINTS = (10, 20, 50, 100)
HELD_OUT = 500
RATERS = ("nonlinear", "linear", "threshold")
LEARNERS = ("plain GBR", "Quantile+Ridge", "pairwise", "HighlightModel")


def _noise(rng: np.random.Generator, n: int, scale: float = 0.3) -> np.ndarray:
    return scale * rng.standard_normal(n)


def simulate_clips(n: int, rng: np.random.Generator):
    """Clips (features, clip types) and their latent causes."""
    loud, excite, action, cut = rng.standard_normal((4, n))
    kinds = np.where(rng.random(n) < 0.5, "audio", "video")
    columns = {
        "rms_db_mean": -30 + 4 * loud + _noise(rng, n, 2),
        "rms_db_max": -20 + 5 * loud + 3 * excite + _noise(rng, n, 2),
        "rms_db_z_max": 1.5 * excite + 0.5 * loud + _noise(rng, n),
        "flux_mean": np.exp(0.5 * excite + _noise(rng, n)),
        "flux_z_max": excite + _noise(rng, n, 0.5),
        "centroid_hz_mean": 1500 + 300 * excite + _noise(rng, n, 200),
        "highband_ratio_mean": 0.2 + 0.05 * excite + _noise(rng, n, 0.03),
        "zcr_mean": 0.1 + 0.02 * loud + _noise(rng, n, 0.02),
        "motion_mean": np.exp(0.6 * action + _noise(rng, n)),
        "motion_z_max": 1.2 * action + _noise(rng, n, 0.5),
        "motion_max": np.exp(action + _noise(rng, n, 0.5)),
        "scene_cut_max": np.clip(0.3 + 0.25 * cut + _noise(rng, n, 0.1), 0, 1),
        "brightness_delta": np.abs(0.2 * cut + _noise(rng, n, 0.1)),
        "colourfulness_delta": np.abs(0.15 * cut + 0.1 * action + _noise(rng, n, 0.1)),
        "packet_kbits_mean": 400 + 120 * action + _noise(rng, n, 50),
    }
    for k in range(8):  # irrelevant, heavy-tailed
        columns[f"irrelevant_{k}"] = rng.standard_t(2, n) * 10.0 ** rng.integers(-2, 3)
    features = [{name: float(values[i]) for name, values in columns.items()} for i in range(n)]
    latent = {"loud": loud, "excite": excite, "action": action, "cut": cut}
    return features, list(kinds), latent


def utility_of(rater: str, latent: dict[str, np.ndarray], kinds: list[str]) -> np.ndarray:
    loud, excite, action, cut = (latent[k] for k in ("loud", "excite", "action", "cut"))
    is_video = np.asarray(kinds) == "video"
    if rater == "nonlinear":
        return (
            np.tanh(1.2 * excite + 0.4 * loud)
            + np.where(is_video, 0.9, 0.3) * np.tanh(action)
            - 0.8 * (cut > 1.0)
            + 0.3 * excite * action
        )
    if rater == "linear":
        return (
            0.7 * excite
            + 0.3 * loud
            + np.where(is_video, 0.6, 0.3) * action
            - 0.3 * cut
            + 0.1 * excite * action
        )
    if rater == "threshold":
        return (
            1.0 * (excite > 0.8)
            + np.where(is_video, 0.8, 0.2) * (action > 1.0)
            + 0.3 * (loud > 0.0)
            - 0.6 * (cut > 1.0)
        )
    raise ValueError(rater)


def stars_of(utility: np.ndarray, rng: np.random.Generator) -> list[int]:
    # Rater noise: 0.38 sd of the utility (about 0.35, as before, for the nonlinear rater).
    noisy = utility + 0.38 * np.std(utility) * rng.standard_normal(len(utility))
    edges = np.quantile(noisy, [0.2, 0.45, 0.7, 0.9])
    return (1 + np.searchsorted(edges, noisy)).tolist()


# --- learners: (train features, kinds, stars), (test features, kinds) -> scores ---------------
def _with_type(features, kinds, names) -> np.ndarray:
    return np.hstack(
        [to_matrix(features, names), (np.asarray(kinds) == "video").astype(float)[:, None]]
    )


def _quantile_front(n: int):
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import QuantileTransformer

    return [
        SimpleImputer(strategy="median", keep_empty_features=True),
        QuantileTransformer(n_quantiles=max(2, min(100, n))),
    ]


def plain_gbr(train, test) -> np.ndarray:
    from sklearn.ensemble import GradientBoostingRegressor

    features, kinds, stars = train
    names = feature_names_from(features)
    model = GradientBoostingRegressor(random_state=0)
    model.fit(_with_type(features, kinds, names), targets(stars))
    return model.predict(_with_type(test[0], test[1], names))


def quantile_ridge(train, test) -> np.ndarray:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    features, kinds, stars = train
    names = feature_names_from(features)
    model = make_pipeline(*_quantile_front(len(stars)), Ridge())
    model.fit(_with_type(features, kinds, names), targets(stars))
    return model.predict(_with_type(test[0], test[1], names))


def pairwise(train, test) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    features, kinds, stars = train
    names = feature_names_from(features)
    front = make_pipeline(*_quantile_front(len(stars)))
    x = front.fit_transform(_with_type(features, kinds, names))
    y = np.asarray(stars)
    i, j = np.nonzero(y[:, None] > y[None, :])
    if len(i) == 0:
        return np.zeros(len(test[0]))
    diffs = np.vstack([x[i] - x[j], x[j] - x[i]])
    labels = np.r_[np.ones(len(i)), np.zeros(len(i))]
    ranker = LogisticRegression(fit_intercept=False, C=1.0).fit(diffs, labels)
    return front.transform(_with_type(test[0], test[1], names)) @ ranker.coef_[0]


def ours(train, test) -> np.ndarray:
    features, kinds, stars = train
    return HighlightModel(cv_folds=0).fit(features, kinds, stars).predict(test[0], test[1])


PREDICT = {
    "plain GBR": plain_gbr,
    "Quantile+Ridge": quantile_ridge,
    "pairwise": pairwise,
    "HighlightModel": ours,
}


def run_seed(seed: int, raters: tuple[str, ...], learners: tuple[str, ...]):
    """Spearman per (rater, learner, n) for one seed; the clips are the same for every rater."""
    out = {}
    rng = np.random.default_rng(seed)
    pool_features, pool_kinds, pool_latent = simulate_clips(max(POINTS), rng)
    test_features, test_kinds, test_latent = simulate_clips(HELD_OUT, rng)
    noise_state = rng.bit_generator.state
    for rater in raters:
        rater_rng = np.random.default_rng()
        rater_rng.bit_generator.state = noise_state  # same rater noise draws for each rater
        pool_stars = stars_of(utility_of(rater, pool_latent, pool_kinds), rater_rng)
        hidden = utility_of(rater, test_latent, test_kinds)
        for n in POINTS:
            train = (pool_features[:n], pool_kinds[:n], pool_stars[:n])
            for who in learners:
                rho = spearmanr(PREDICT[who](train, (test_features, test_kinds)), hidden)[0]
                out[rater, who, n] = 0.0 if np.isnan(rho) else float(rho)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--raters", nargs="+", choices=RATERS, default=list(RATERS))
    parser.add_argument("--learners", nargs="+", choices=LEARNERS, default=list(LEARNERS))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    raters, learners = tuple(args.raters), tuple(args.learners)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(
            pool.map(run_seed, range(args.seeds), [raters] * args.seeds, [learners] * args.seeds)
        )
    print(
        f"Spearman(predicted, hidden utility) on {HELD_OUT} held-out clips, "
        f"mean ± sd over {args.seeds} seeds\n"
    )
    baselines = [who for who in learners if who != "HighlightModel"]
    lead = "HighlightModel" in learners and baselines
    for rater in raters:
        header = "| rater | ratings | " + " | ".join(learners) + " |"
        if lead:
            header += " HighlightModel − best baseline (paired) |"
        print(header)
        print("| --- | ---: |" + " ---: |" * (len(learners) + bool(lead)))
        for n in POINTS:
            scores = {who: np.array([r[rater, who, n] for r in results]) for who in learners}
            cells = [f"{s.mean():.3f} ± {s.std():.3f}" for s in scores.values()]
            row = f"| {rater} | {n} | " + " | ".join(cells) + " |"
            if lead:
                best = max(baselines, key=lambda who: scores[who].mean())
                gap = scores["HighlightModel"] - scores[best]  # paired: same seeds, same data
                row += f" {gap.mean():+.3f} ± {gap.std():.3f} ({best}) |"
            print(row)
        print()


if __name__ == "__main__":
    main()
