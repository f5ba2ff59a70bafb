"""Seed-compatible shim: ``from model_trainer import RatingBasedTrainer`` as in the guide."""

from kickclip.learn.trainer import RatingBasedTrainer

__all__ = ["RatingBasedTrainer"]
