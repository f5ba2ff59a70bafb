"""RatingBasedTrainer: learn the user's taste from the clip store's ratings.

Training needs ``min_samples`` rated clips (10 by default); after that, ``should_auto_train``
asks for a retrain every ``auto_train_every`` (5) new ratings. The model file is signed with
the store's key and re-read only when it changes on disk, so the web UI sees a model the CLI
trained (see ``model_file``). Progress, versions and the rating queue read the model's JSON
description, not the model: they answer without importing scikit-learn.

Each user has a taste of their own. The default user's model lives in ``models/`` (as before
users existed); a named user's in ``models/users/<name>/``; and once named users rate, a
shared model trained on everyone's ratings lives in ``models/shared/``: a user without a model
of their own yet is served that one, so a newcomer starts from the team's taste.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kickclip.errors import ModelError
from kickclip.learn import versions
from kickclip.learn.model_file import (
    activate,
    is_outdated,
    load_metadata,
    load_payload,
    load_training,
    load_version,
    save_model,
)
from kickclip.learn.said import MIN_HEARD, said_features
from kickclip.store.clip_manager import ClipManager, ClipRecord, utc_now, validate_user

if TYPE_CHECKING:
    from kickclip.learn.model import HighlightModel

log = logging.getLogger(__name__)
WORDS_MARGIN = 0.03  # how much better (Spearman) the words must rank the ratings to be used


SHARED = "shared"


def user_models_dir(models_dir: str | Path, user: str | None) -> Path:
    """Where ``user``'s own model lives (None: the default user)."""
    name = validate_user(user)
    return Path(models_dir) if name is None else Path(models_dir) / "users" / name


def taste_dirs(models_dir: str | Path, user: str | None) -> list[Path]:
    """The model folders that serve ``user``, first choice first: their own, then (for a
    named user) the shared one."""
    own = user_models_dir(models_dir, user)
    return [own] if validate_user(user) is None else [own, Path(models_dir) / SHARED]


class RatingBasedTrainer:
    """Trains, saves and serves the :class:`HighlightModel` of one clip store and one user."""

    def __init__(
        self,
        manager: ClipManager,
        models_dir: str | Path = "models",
        *,
        auto_train_every: int = 5,
        min_samples: int = 10,
        user: str | None = None,
    ) -> None:
        self.manager = manager
        self.user = validate_user(user)
        self.root_dir = Path(models_dir)
        self.models_dir = user_models_dir(models_dir, self.user)
        self.auto_train_every = auto_train_every
        self.min_samples = min_samples
        self._key: bytes | None = None

    # --- the saved model, re-read when the file changes ----------------------------------------
    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = self.manager.model_key()
        return self._key

    def _metadata(self) -> dict[str, Any] | None:
        """What this user's own model is (version, when, metrics), without loading it."""
        return load_metadata(self.models_dir, self.key)

    def retrain_if_outdated(self) -> bool:
        """A model an older kickclip trained (on features that do not carry over) is
        retrained from the ratings, once; True when it was."""
        if self._metadata() is not None or not is_outdated(self.models_dir, self.key):
            return False
        return self.train_from_ratings()

    def _taste_dir(self) -> Path | None:
        """The folder of the model that serves this user: their own, else the shared one."""
        for directory in taste_dirs(self.root_dir, self.user):
            if load_metadata(directory, self.key) is not None:
                return directory
        return None

    def _taste(self) -> dict[str, Any] | None:
        """The model that serves this user, loaded (for predicting)."""
        for directory in taste_dirs(self.root_dir, self.user):
            payload = load_payload(directory, self.key)
            if payload is not None:
                return payload
        return None

    @property
    def model(self) -> HighlightModel | None:
        payload = self._taste()
        return None if payload is None else payload["model"]

    # --- training ----------------------------------------------------------------------------
    def train_from_ratings(self, min_samples: int | None = None, *, shared: bool = True) -> bool:
        """Train on every clip this user rated; False (nothing written) when there are too
        few. Once named users rate, the shared model is retrained from everyone's ratings too:
        always when ``shared``, else only when enough new ratings came in (see
        ``_shared_is_due``), since it is the largest training there is.
        """
        needed = self.min_samples if min_samples is None else int(min_samples)
        trained = self._train(self.manager.rated_clips(user=self.user), self.models_dir, needed)
        users = self.manager.users()
        if users and (shared or self._shared_is_due(sum(users.values()))):
            self._train(self.manager.everyones_ratings(), self.root_dir / SHARED, needed)
        return trained

    def _shared_is_due(self, named_ratings: int) -> bool:
        """A tenth more ratings than the shared model learned from (at least
        ``auto_train_every``): at 10,000 ratings a training takes over a minute, and retraining
        it on every user's fifth rating would keep a core busy all day."""
        shared = load_metadata(self.root_dir / SHARED, self.key)
        if shared is None:
            return True
        learned = shared["n_ratings"]
        everyone = self.manager.count_rated_since(None) + named_ratings
        return everyone - learned >= max(self.auto_train_every, learned // 10)

    def _train(self, clips: list[ClipRecord], models_dir: Path, needed: int) -> bool:
        from kickclip.learn.model import HighlightModel  # numpy, and scikit-learn to fit

        started_at = utc_now()  # ratings after this count towards the next retrain
        if len(clips) < max(needed, 2):
            log.info("not training: %d rated clips, %d needed", len(clips), needed)
            return False
        features = [_with_said(clip) for clip in clips]
        clip_types = [clip.clip_type for clip in clips]
        ratings = [int(clip.rating) for clip in clips]
        weights = [clip.weight for clip in clips]  # a rating given "not sure" counts less
        model = HighlightModel().fit(features, clip_types, ratings, sample_weight=weights)
        texts = [clip.transcript for clip in clips]
        if (
            model.metrics_.get("cv_spearman") is not None
            and sum(text is not None for text in texts) >= MIN_HEARD
        ):
            model = _better_with_words(model, features, clip_types, ratings, weights, texts)
        save_model(
            model,
            models_dir,
            key=self.key,
            training_data={
                "features": features,
                "clip_types": clip_types,
                "ratings": ratings,
                "weights": weights,
                "clip_ids": [clip.id for clip in clips],
                "trained_at": started_at,
            },
        )
        return True

    def predict(self, features: Mapping[str, float], clip_type: str) -> float | None:
        """Predicted rating in [0, 1], or None while no model is trained."""
        model = self.model
        return None if model is None else model.predict_one(features, clip_type)

    # --- progress and the auto-train policy ----------------------------------------------------
    def get_training_progress(self) -> dict[str, Any]:
        own = self._metadata()
        rated = self.manager.count_rated_since(None, user=self.user)
        trained_at = own["trained_at"] if own else None
        # A version chosen with `models use` counts from when it was chosen, so the user's
        # choice is not replaced by the very next rating.
        counted_from = max(filter(None, (trained_at, own["activated_at"]))) if own else None
        since = self.manager.count_rated_since(counted_from, user=self.user) if own else rated
        if own is None:
            next_in = max(self.min_samples - rated, 0)
        else:
            next_in = max(self.auto_train_every - since, 0)
        return {
            "user": self.user,
            "model_trained": own is not None,
            "serving": self._serving(own),
            "ready_for_training": rated >= self.min_samples,
            "rated_clips": rated,
            "min_samples": self.min_samples,
            "needed": max(self.min_samples - rated, 0),
            "ratings_since_training": since,
            "next_auto_train_in": next_in,
            "last_trained_at": trained_at,
            "active_version": own["version"] if own else None,
            "metrics": own["metrics"] if own else None,
        }

    def _serving(self, own: dict[str, Any] | None) -> str | None:
        """Whose model scores this user's clips: "own", "shared" or None (no model yet)."""
        if own is not None:
            return "own"
        return None if self._taste_dir() is None else SHARED

    def should_auto_train(self) -> bool:
        progress = self.get_training_progress()
        return progress["ready_for_training"] and progress["next_auto_train_in"] == 0

    # --- the rating queue ------------------------------------------------------------------------
    def review_queue(self, limit: int = 50, *, tag: str | None = None) -> list[ClipRecord]:
        """Unrated clips to rate next: most informative first once a model exists (see
        ``active``); before, the newest clips, the detector's best and worst in turn."""
        from kickclip.learn import active  # numpy: only the queue needs it

        directory = self._taste_dir()
        training = None if directory is None else load_training(directory, self.key)
        unrated = self.manager.list_clips(
            limit=max(limit, active.CANDIDATES), unrated_only=True, tag=tag, user=self.user
        )
        considered = unrated[: active.CANDIDATES]
        if training is None:
            order = active.spread([clip.score for clip in considered])
            return ([considered[i] for i in order] + unrated[len(considered) :])[:limit]
        picks = active.order(
            training,
            [clip.features for clip in considered],
            [clip.clip_type for clip in considered],
            limit,
        )
        picked = set(picks)
        rest = [clip for i, clip in enumerate(unrated) if i not in picked]
        return ([considered[i] for i in picks] + rest)[:limit]

    # --- versions: list, choose, compare ------------------------------------------------------
    def versions(self) -> list[dict[str, Any]]:
        """Every training, oldest first, in the shape ``kickclip models --json`` prints."""
        own = self._metadata()
        active = own["version"] if own else None
        return [
            {
                "version": record["version"],
                "active": record["version"] == active,
                "trained_at": record.get("trained_at"),
                "n_ratings": record.get("n_ratings"),
                "cv_mae": record.get("cv_mae"),
                "spearman": record.get("spearman"),
                "per_type": record.get("per_type", {}),
                "kept": record["kept"],
            }
            for record in versions.listed(self.models_dir)
        ]

    def use(self, version: int) -> dict[str, Any]:
        """Make a kept version the active model; later ratings count from now."""
        activate(self.models_dir, version, key=self.key)
        return next(v for v in self.versions() if v["version"] == version)

    def compare(self, version_a: int, version_b: int) -> dict[str, Any]:
        """Score two versions on the ratings neither was trained on (MAE in stars, Spearman)."""
        import numpy as np
        from scipy.stats import spearmanr

        payloads = {v: load_version(self.models_dir, v, self.key) for v in (version_a, version_b)}
        seen = set()
        for payload in payloads.values():
            seen.update(payload["training_data"].get("clip_ids", ()))
        fresh = [clip for clip in self.manager.rated_clips(user=self.user) if clip.id not in seen]
        if not fresh:
            raise ModelError(
                f"no ratings that neither version {version_a} nor {version_b} was trained on; "
                "rate more clips, then compare"
            )
        stars = np.array([clip.rating for clip in fresh], dtype=float)
        scored = {}
        for version, payload in payloads.items():
            predicted = 1 + 4 * payload["model"].predict(
                [clip.features for clip in fresh], [clip.clip_type for clip in fresh]
            )
            rho = None
            if len(fresh) > 2 and np.ptp(stars) > 0 and np.ptp(predicted) > 0:
                rho = round(float(spearmanr(predicted, stars)[0]), 4)
            scored[version] = {
                "version": version,
                "mae": round(float(np.mean(np.abs(predicted - stars))), 4),
                "spearman": rho,
            }
        a, b = scored[version_a], scored[version_b]
        better = None if a["mae"] == b["mae"] else (version_a if a["mae"] < b["mae"] else version_b)
        return {"n_ratings": len(fresh), "a": a, "b": b, "better": better}


def _with_said(clip: ClipRecord) -> dict[str, float]:
    """A rated clip's features, with what was said in it when its words were heard."""
    if clip.transcript is None:
        return dict(clip.features)
    return {**clip.features, **said_features(clip.transcript, clip.duration)}


def _better_with_words(
    plain: HighlightModel,
    features: list[dict[str, float]],
    clip_types: list[str],
    ratings: list[int],
    weights: list[float],
    texts: list[str | None],
) -> HighlightModel:
    """The model that also learns from the words when, cross-validated, it ranks the ratings
    WORDS_MARGIN better than the one without: ranking by words means hearing every candidate
    of the next stream first (about 2 s each), a cost worth paying only for a taste in them."""
    from kickclip.learn.model import HighlightModel

    worded = HighlightModel().fit(features, clip_types, ratings, sample_weight=weights, texts=texts)
    with_words = worded.metrics_.get("cv_spearman")
    without = plain.metrics_["cv_spearman"]
    chosen = worded if with_words is not None and with_words >= without + WORDS_MARGIN else plain
    chosen.metrics_["words"] = {
        "heard": sum(text is not None for text in texts),
        "used": chosen is worded,
        "cv_spearman_with": with_words,
        "cv_spearman_without": without,
        "liked_words": worded.vocabulary_.liked_words()[:20] if worded.vocabulary_ else [],
    }
    return chosen
