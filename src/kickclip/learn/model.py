"""HighlightModel: a ridge trend plus boosted trees on rated clips, one model per clip type.

Few ratings is the normal case (10 to 100), where default gradient boosting memorizes noise.
Each model is a pipeline of median imputation, rank scaling (quantiles: heavy tails and
odd units cannot swamp the linear part) and a :class:`RidgeBoost`: a ridge fit in that rank
space, plus shallow, shrunk histogram-boosted trees on what the ridge misses, the trees' share
growing as n / (n + 30) of the n ratings and the ridge's alpha from 3 (up to 15 ratings) to 10
(from 50). With 10 ratings the prediction is mostly the linear trend, with 100 mostly both.
It reads only the features that carry over to another stream (``dataset.transferable``), and
chooses at each training how much its taste should count against the detector
(``blend_gate``). ``benchmarks/bench_taste.py`` measures the whole loop on the next stream;
``benchmarks/bench_learning.py`` the learners on clips of one simulated distribution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from kickclip.learn.dataset import feature_names_from, targets, to_matrix
from kickclip.learn.said import LIKED, MIN_HEARD, Vocabulary, is_said, said_features
from kickclip.records import CLIP_TYPES

SHARED = "shared"
DETECTOR_SCORE = "detector_score"
BLEND_MARGIN = 0.1
MIN_TASTE_SPEARMAN = 0.2
CHEAPER_CV_RATINGS = 500
TYPE_TRUST_RATINGS = 40
RIDGE_ALPHA_MAX = 10.0


RANK_STEPS = 64


def _steps(x: np.ndarray) -> np.ndarray:
    """Ranks in [0, 1] rounded to 1/64: finer than a few thousand ratings resolve, and few
    enough distinct values that the trees bin them as they are (binning weighted ratings by
    percentiles took 30 s for 1,000 ratings)."""
    return np.round(x * RANK_STEPS) / RANK_STEPS


class RidgeBoost:
    """Ridge in rank space plus boosted trees on what it misses, the trees' share growing with n.

    ``predict = ridge + n / (n + tree_trust) * trees(residual)``: with 10 ratings the linear
    trend carries the ranking (trees fitted to 10 noisy residuals mostly add noise), with 100
    the trees add most of what they learned. Sample weights reach both parts. A plain class
    with scikit-learn's estimator conventions (``get_params``/``set_params``, ``fit``/``predict``,
    tags), picklable.
    """

    def __init__(
        self,
        *,
        alpha: float = 1.0,
        tree_trust: float = 30.0,
        max_depth: int = 2,
        learning_rate: float = 0.05,
        random_state: int = 0,
    ) -> None:
        self.alpha = alpha
        self.tree_trust = tree_trust
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.random_state = random_state

    _PARAMS = ("alpha", "tree_trust", "max_depth", "learning_rate", "random_state")
    _estimator_type = "regressor"

    def __sklearn_tags__(self) -> Any:
        # What BaseEstimator + RegressorMixin would declare; not inherited so that importing
        # this module does not import scikit-learn (seconds at CLI start).
        from sklearn.utils import RegressorTags, Tags, TargetTags

        return Tags(
            estimator_type="regressor",
            target_tags=TargetTags(required=True),
            regressor_tags=RegressorTags(),
        )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params: Any) -> RidgeBoost:
        for name, value in params.items():
            if name not in self._PARAMS:
                raise ValueError(f"unknown parameter {name!r}")
            setattr(self, name, value)
        return self

    def fit(self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None):
        from sklearn.ensemble import HistGradientBoostingRegressor
        from sklearn.linear_model import Ridge
        from threadpoolctl import threadpool_limits

        n = len(y)
        self.ridge_ = Ridge(alpha=self.alpha).fit(x, y, sample_weight=sample_weight)
        residual = y - self.ridge_.predict(x)
        # Histogram trees: the same shallow, shrunk trees as classic gradient boosting at a
        # fraction of the cost (features binned once; a whole training of 10,000 ratings,
        # cross-validation included, takes about 3 CPU-seconds).
        trees = HistGradientBoostingRegressor(
            max_iter=int(min(200, 20 + 2 * n)),
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            max_leaf_nodes=2**self.max_depth,
            min_samples_leaf=max(2, n // 15),
            l2_regularization=1.0,
            early_stopping=False,
            random_state=self.random_state,
        )
        # One OpenMP thread: these trees are tiny, and on a busy 2-core machine OpenMP's
        # waiting threads spin, which made a 50-rating training take 50 CPU-seconds, not 1.
        with threadpool_limits(limits=1, user_api="openmp"):
            self.trees_ = trees.fit(_steps(x), residual, sample_weight=sample_weight)
        self.tree_weight_ = n / (n + self.tree_trust) if self.tree_trust > 0 else 1.0
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="openmp"):
            return self.ridge_.predict(x) + self.tree_weight_ * self.trees_.predict(_steps(x))


class HighlightModel:
    """Predicts a rating in [0, 1] from a clip's features; sklearn conventions.

    ``fit`` learns one model per clip type with at least ``min_type_samples`` ratings and a
    shared model (clip type as a feature) that serves the other types; a type's own model is
    blended with the shared one, trusted as n / (n + 40) of its n ratings.
    """

    def __init__(
        self,
        *,
        min_type_samples: int = 10,
        max_depth: int = 2,
        learning_rate: float = 0.05,
        ridge_alpha: float = 3.0,
        tree_trust: float = 30.0,
        cv_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self.min_type_samples = min_type_samples
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.ridge_alpha = ridge_alpha
        self.tree_trust = tree_trust
        self.cv_folds = cv_folds
        self.random_state = random_state

    # --- building blocks ---------------------------------------------------------------------
    def _estimator(self, n_samples: int) -> Any:
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import QuantileTransformer

        return make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            QuantileTransformer(n_quantiles=max(2, min(100, n_samples))),
            RidgeBoost(
                # More ratings, more trust in the trees, and a stiffer ridge that leaves them
                # the nonlinear part: alpha x max(1, n / 15), at most 10.
                alpha=min(RIDGE_ALPHA_MAX, self.ridge_alpha * max(1.0, n_samples / 15)),
                tree_trust=self.tree_trust,
                max_depth=self.max_depth,
                learning_rate=self.learning_rate,
                random_state=self.random_state,
            ),
        )

    @staticmethod
    def _fit_one(model: Any, x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> Any:
        # Relative confidence: weights scaled to average 1, so that equal weights are no
        # weights and the ridge penalty keeps its meaning whatever the scale.
        last = model.steps[-1][0]
        return model.fit(x, y, **{f"{last}__sample_weight": weight / weight.mean()})

    def _matrix(
        self, features: Sequence[Mapping[str, float]], clip_types: Sequence[str], *, shared: bool
    ) -> np.ndarray:
        matrix = to_matrix(features, self.feature_names_)
        if shared:
            # One 0/1 column per type but audio; models saved before chat clips existed
            # had the video column only.
            kinds = np.asarray(clip_types)
            flags = [(kinds == kind).astype(float) for kind in self._type_columns]
            matrix = np.hstack([matrix, np.column_stack(flags).reshape(len(kinds), -1)])
        return matrix

    # --- sklearn API -------------------------------------------------------------------------
    def fit(
        self,
        features: Sequence[Mapping[str, float]],
        clip_types: Sequence[str],
        ratings: Sequence[int],
        sample_weight: Sequence[float] | None = None,
        texts: Sequence[str | None] | None = None,
    ) -> HighlightModel:
        """Learn from rated clips; ``sample_weight`` is each rating's confidence in (0, 1].

        ``texts``: the words heard in each clip (None: not heard). With MIN_HEARD heard, the
        model also learns from what was said (the ``said_`` features, and ``said_liked``
        from a vocabulary of the words liked clips share, each rated clip scored without its
        own words); without, it ignores them. ``predict`` then wants ``said_liked`` in the
        features: ``with_words`` adds it."""
        if not len(features) == len(clip_types) == len(ratings) or not features:
            raise ValueError("features, clip_types and ratings must be equally long, not empty")
        if texts is not None and len(texts) != len(features):
            raise ValueError("texts must hold one text (or None) per rating")
        weight = self._weights(sample_weight, len(ratings))
        raw = features
        heard = texts is not None and sum(t is not None for t in texts) >= MIN_HEARD
        self.vocabulary_ = Vocabulary(texts, ratings) if heard else None  # type: ignore[arg-type]
        if self.vocabulary_ is not None:
            features = [
                {**f, LIKED: self.vocabulary_.score(text, own_stars=stars)}
                for f, text, stars in zip(features, texts, ratings, strict=True)  # type: ignore[arg-type]
            ]
        else:
            features = [{k: v for k, v in f.items() if not is_said(k)} for f in features]
        self.feature_names_ = feature_names_from(features)
        y = targets(ratings)
        # A candidate unlike anything rated gets no more extreme a prediction than the
        # ratings themselves were (quantile scaling already bounds each feature).
        self.target_range_ = (float(y.min()), float(y.max()))
        kinds = np.asarray(clip_types)
        self.models_: dict[str, Any] = {}
        self.n_samples_ = len(y)
        self.n_samples_by_type_ = {
            kind: int((kinds == kind).sum()) for kind in CLIP_TYPES if (kinds == kind).any()
        }
        self.type_columns_ = ("video", "chat") if (kinds == "chat").any() else ("video",)
        x_shared = self._matrix(features, clip_types, shared=True)
        self.models_[SHARED] = self._fit_one(self._estimator(len(y)), x_shared, y, weight)
        for kind in CLIP_TYPES:
            mask = kinds == kind
            if mask.sum() >= self.min_type_samples:
                x = self._matrix(
                    [f for f, m in zip(features, mask, strict=True) if m],
                    list(kinds[mask]),
                    shared=False,
                )
                model = self._estimator(int(mask.sum()))
                self.models_[kind] = self._fit_one(model, x, y[mask], weight[mask])
        self.metrics_ = self._cross_validate(
            raw, clip_types, ratings, weight, texts if heard else None
        )
        return self

    @property
    def uses_words(self) -> bool:
        return getattr(self, "vocabulary_", None) is not None

    def with_words(
        self, features: Mapping[str, float], text: str | None, duration_s: float | None = None
    ) -> dict[str, float]:
        """A candidate's features with ``said_liked`` for this model's vocabulary, and, given
        the clip's ``duration_s``, the rest of what was said (``said_features``)."""
        out = dict(features)
        if text is not None and duration_s is not None:
            out.update(said_features(text, duration_s))
        vocabulary = getattr(self, "vocabulary_", None)
        if vocabulary is not None:
            out[LIKED] = vocabulary.score(text)
        return out

    @staticmethod
    def _weights(sample_weight: Sequence[float] | None, n: int) -> np.ndarray:
        if sample_weight is None:
            return np.ones(n)
        weight = np.asarray(sample_weight, dtype=float)
        if weight.shape != (n,):
            raise ValueError(f"sample_weight must hold one weight per rating ({n})")
        if not np.all(np.isfinite(weight)) or np.any(weight <= 0) or np.any(weight > 1):
            raise ValueError("sample_weight must be in (0, 1]")
        return weight

    def predict(
        self, features: Sequence[Mapping[str, float]], clip_types: Sequence[str]
    ) -> np.ndarray:
        """Predicted ratings in [0, 1] ((stars - 1) / 4)."""
        kinds = np.asarray(clip_types)
        out = np.empty(len(features))
        for kind in set(kinds.tolist()):
            mask = kinds == kind
            rows = [f for f, m in zip(features, mask, strict=True) if m]
            shared = self.models_[SHARED].predict(
                self._matrix(rows, list(kinds[mask]), shared=True)
            )
            model = self.models_.get(kind)
            if model is None:
                out[mask] = shared
                continue
            # A type's own model earns trust with its own ratings; until then the shared
            # model, which saw every rating, carries part of the prediction.
            n_type = self.n_samples_by_type_.get(kind, 0)
            weight = n_type / (n_type + TYPE_TRUST_RATINGS)
            own = model.predict(self._matrix(rows, list(kinds[mask]), shared=False))
            out[mask] = weight * own + (1 - weight) * shared
        low, high = getattr(self, "target_range_", (0.0, 1.0))
        return np.clip(out, low, high)

    def predict_one(self, features: Mapping[str, float], clip_type: str) -> float:
        return float(self.predict([features], [clip_type])[0])

    @property
    def _type_columns(self) -> tuple[str, ...]:
        return getattr(self, "type_columns_", ("video",))

    @property
    def scalers_(self) -> dict[str, Any]:
        """The fitted scaler of each model (kept in the pipelines)."""
        return {
            name: model.named_steps["quantiletransformer"] for name, model in self.models_.items()
        }

    # --- honest metrics ----------------------------------------------------------------------
    def _cross_validate(self, features, clip_types, ratings, weight, texts) -> dict[str, Any]:
        from scipy.stats import spearmanr
        from sklearn.model_selection import KFold

        n = len(ratings)
        stars = np.asarray(ratings, dtype=float)
        metrics: dict[str, Any] = {
            "n_samples": n,
            "n_samples_by_type": dict(self.n_samples_by_type_),
            "per_type_models": sorted(k for k in self.models_ if k != SHARED),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "cv_mae_stars": None,
            "cv_spearman": None,
        }
        # Past a few hundred ratings three folds estimate the error as well as five, at 60 %
        # of the cost (the training that makes a user wait).
        folds = min(self.cv_folds if n < CHEAPER_CV_RATINGS else 3, self.cv_folds, n)
        if folds < 2:
            return metrics
        predicted = np.empty(n)
        splitter = KFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        for train, test in splitter.split(stars):
            fold = HighlightModel(**self.get_params(), cv_folds=0)
            fold.fit(
                [features[i] for i in train],
                [clip_types[i] for i in train],
                stars[train],
                sample_weight=weight[train],
                texts=None if texts is None else [texts[i] for i in train],
            )
            # The held-out clips' words are scored by the fold's own vocabulary.
            held_out = [
                fold.with_words(features[i], None if texts is None else texts[i]) for i in test
            ]
            predicted[test] = fold.predict(held_out, [clip_types[i] for i in test])
        predicted_stars = 1 + 4 * predicted

        def scored(mask: np.ndarray) -> tuple[float, float | None]:
            truth, guess = stars[mask], predicted_stars[mask]
            mae = round(float(np.mean(np.abs(guess - truth))), 4)
            varied = len(truth) > 2 and np.ptp(truth) > 0 and np.ptp(guess) > 0
            return mae, round(float(spearmanr(guess, truth)[0]), 4) if varied else None

        metrics["cv_mae_stars"], metrics["cv_spearman"] = scored(np.ones(n, dtype=bool))
        metrics["blend_gate"] = self._blend_gate(features, stars, predicted)
        kinds = np.asarray(clip_types)
        metrics["per_type"] = {
            kind: dict(zip(("cv_mae", "spearman"), scored(kinds == kind), strict=True))
            for kind in CLIP_TYPES
            if (kinds == kind).any()
        }
        return metrics

    @staticmethod
    def _blend_gate(features, stars: np.ndarray, predicted: np.ndarray) -> float | None:
        """How much of the trust its ratings earn (``rescore.model_weight``) the taste should
        get against the detector's own score, in [0, 1].

        The gate compares how the taste's out-of-fold predictions rank the rated clips with
        how the detector's score ranks them (Spearman with the stars): as good, 0.5;
        BLEND_MARGIN better, 1; BLEND_MARGIN worse, 0; and 0 while the predictions rank the
        rated clips under MIN_TASTE_SPEARMAN (the first ten ratings are often all alike). So a
        taste that has learned nothing the detector does not already know leaves the
        detector's order alone. None when the clips do not carry the detector's score (stored
        before it was kept); 0 when the ratings are all alike.
        """
        from scipy.stats import spearmanr

        detector = np.array([f.get(DETECTOR_SCORE, np.nan) for f in features], dtype=float)
        if not np.all(np.isfinite(detector)):
            return None
        if np.ptp(stars) == 0 or np.ptp(predicted) == 0:
            return 0.0
        taste_rho = float(spearmanr(predicted, stars)[0])
        if taste_rho < MIN_TASTE_SPEARMAN:  # it has not learned to order even its own ratings
            return 0.0
        detector_rho = float(spearmanr(detector, stars)[0]) if np.ptp(detector) > 0 else 0.0
        gate = 0.5 + (taste_rho - detector_rho) / (2 * BLEND_MARGIN)
        return round(min(max(gate, 0.0), 1.0), 4)

    def get_params(self) -> dict[str, Any]:
        return {
            "min_type_samples": self.min_type_samples,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "ridge_alpha": self.ridge_alpha,
            "tree_trust": self.tree_trust,
            "random_state": self.random_state,
        }
