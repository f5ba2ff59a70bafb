"""Rate a clip, then retrain when the policy says so; the rating is stored first, always."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kickclip.errors import KickclipError
from kickclip.learn.trainer import RatingBasedTrainer
from kickclip.store.clip_manager import ClipManager, ClipRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RatingOutcome:
    record: ClipRecord
    trained: bool = False
    training_error: str | None = None


def rate(
    manager: ClipManager,
    trainer: RatingBasedTrainer,
    clip_id: int,
    rating: object,
    *,
    confidence: float | None = None,
    auto_train: bool = True,
) -> RatingOutcome:
    """Store ``rating`` (with how sure the rater is, in (0, 1]) for ``clip_id``, as the
    trainer's user; with ``auto_train``, retrain every 5 new ratings.

    A training failure is reported in the outcome and logged; it never loses the rating.
    """
    record = manager.rate_clip(clip_id, rating, confidence, user=trainer.user)  # type: ignore[arg-type]
    if not (auto_train and trainer.should_auto_train()):
        return RatingOutcome(record)
    try:
        trained = trainer.train_from_ratings(shared=False)  # the shared one when due
    except (KickclipError, ValueError, ArithmeticError, OSError) as error:
        log.warning("auto-training failed after rating clip %s: %s", clip_id, error)
        return RatingOutcome(record, trained=False, training_error=str(error))
    return RatingOutcome(record, trained=trained)
