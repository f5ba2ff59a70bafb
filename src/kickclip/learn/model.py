"""HighlightModel: gradient boosting on rated clips, one model per clip type.

Few ratings is the normal case (10 to 100), where default gradient boosting memorizes noise.
Each model is a pipeline of median imputation, rank scaling (quantiles: heavy tails and
odd units cannot swamp the linear part), and a shallow, shrunk,
subsampled ``GradientBoostingRegressor`` (Huber loss, so one odd rating does not dominate)
whose boosting starts from a strongly regularized ridge fit instead of the mean: the trees
then only learn what the linear trend misses. ``benchmarks/bench_learning.py`` measures it
against the plain approach.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from kickclip.learn.dataset import feature_names_from, targets, to_matrix
from kickclip.records import CLIP_TYPES

SHARED = "shared"
TYPE_TRUST_RATINGS = 40


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
        subsample: float = 0.8,
        ridge_alpha: float = 10.0,
        cv_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self.min_type_samples = min_type_samples
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.ridge_alpha = ridge_alpha
        self.cv_folds = cv_folds
        self.random_state = random_state

    # --- building blocks ---------------------------------------------------------------------
    def _estimator(self, n_samples: int) -> Any:
        from sklearn.ensemble import GradientBoostingRegressor
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import QuantileTransformer

        return make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            QuantileTransformer(n_quantiles=max(2, min(100, n_samples))),
            GradientBoostingRegressor(
                loss="huber",
                init=Ridge(alpha=self.ridge_alpha),
                n_estimators=int(min(200, 20 + 2 * n_samples)),
                learning_rate=self.learning_rate,
                max_depth=self.max_depth,
                subsample=self.subsample,
                min_samples_leaf=max(2, n_samples // 15),
                random_state=self.random_state,
            ),
        )

    def _matrix(
        self, features: Sequence[Mapping[str, float]], clip_types: Sequence[str], *, shared: bool
    ) -> np.ndarray:
        matrix = to_matrix(features, self.feature_names_)
        if shared:
            is_video = np.array([[1.0 if kind == "video" else 0.0] for kind in clip_types])
            matrix = np.hstack([matrix, is_video.reshape(len(clip_types), 1)])
        return matrix

    # --- sklearn API -------------------------------------------------------------------------
    def fit(
        self,
        features: Sequence[Mapping[str, float]],
        clip_types: Sequence[str],
        ratings: Sequence[int],
    ) -> HighlightModel:
        if not len(features) == len(clip_types) == len(ratings) or not features:
            raise ValueError("features, clip_types and ratings must be equally long, not empty")
        self.feature_names_ = feature_names_from(features)
        y = targets(ratings)
        kinds = np.asarray(clip_types)
        self.models_: dict[str, Any] = {}
        self.n_samples_ = len(y)
        self.n_samples_by_type_ = {kind: int((kinds == kind).sum()) for kind in CLIP_TYPES}
        x_shared = self._matrix(features, clip_types, shared=True)
        self.models_[SHARED] = self._estimator(len(y)).fit(x_shared, y)
        for kind in CLIP_TYPES:
            mask = kinds == kind
            if mask.sum() >= self.min_type_samples:
                x = self._matrix(
                    [f for f, m in zip(features, mask, strict=True) if m],
                    list(kinds[mask]),
                    shared=False,
                )
                self.models_[kind] = self._estimator(int(mask.sum())).fit(x, y[mask])
        self.metrics_ = self._cross_validate(features, clip_types, ratings)
        return self

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
        return np.clip(out, 0.0, 1.0)

    def predict_one(self, features: Mapping[str, float], clip_type: str) -> float:
        return float(self.predict([features], [clip_type])[0])

    @property
    def scalers_(self) -> dict[str, Any]:
        """The fitted scaler of each model (kept in the pipelines)."""
        return {
            name: model.named_steps["quantiletransformer"] for name, model in self.models_.items()
        }

    # --- honest metrics ----------------------------------------------------------------------
    def _cross_validate(self, features, clip_types, ratings) -> dict[str, Any]:
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
        folds = min(self.cv_folds, n)
        if folds < 2:
            return metrics
        predicted = np.empty(n)
        splitter = KFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        for train, test in splitter.split(stars):
            fold = HighlightModel(**self.get_params(), cv_folds=0)
            fold.fit([features[i] for i in train], [clip_types[i] for i in train], stars[train])
            predicted[test] = fold.predict(
                [features[i] for i in test], [clip_types[i] for i in test]
            )
        predicted_stars = 1 + 4 * predicted
        metrics["cv_mae_stars"] = round(float(np.mean(np.abs(predicted_stars - stars))), 4)
        if np.ptp(stars) > 0 and np.ptp(predicted_stars) > 0:
            metrics["cv_spearman"] = round(float(spearmanr(predicted_stars, stars)[0]), 4)
        return metrics

    def get_params(self) -> dict[str, Any]:
        return {
            "min_type_samples": self.min_type_samples,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "subsample": self.subsample,
            "ridge_alpha": self.ridge_alpha,
            "random_state": self.random_state,
        }
