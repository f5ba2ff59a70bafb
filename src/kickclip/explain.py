"""Why this clip: the detector's evidence and the learned taste's, for one stored clip.

The detector's part reads the clip's own features: which measure rose, by how much in its
natural unit, above what baseline. The model's part asks the trained model what it predicts and
what each feature did to that prediction: a feature's *effect* is the prediction with the
feature as the clip has it minus the prediction with that feature unknown (the model then uses
the typical value of the clips it was trained on), in stars, signed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kickclip.detect.evidence import describe, feature_in_words, in_plain_words

if TYPE_CHECKING:
    from kickclip.learn.trainer import RatingBasedTrainer
    from kickclip.store.clip_manager import ClipManager

SHOWN_CONTRIBUTIONS = 10


@dataclass(frozen=True)
class Explanation:
    clip_id: int
    reason: str  # the detector's evidence against its baselines, then the taste's verdict
    predicted_stars: float | None
    contributions: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    plain: str = ""  # the detector's evidence as a viewer would say it (first, in the web UI)

    def label(self, feature: str) -> str:
        """A contribution's feature as a person reads it ("loudness: rise")."""
        return feature_in_words(feature)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.clip_id,
            "predicted_stars": self.predicted_stars,
            "reason": self.reason,
            "contributions": list(self.contributions),
        }


def explain(manager: ClipManager, trainer: RatingBasedTrainer, clip_id: int) -> Explanation:
    clip = manager.get_clip(clip_id)
    features = dict(clip.features)
    reason = _evidence(features, clip.clip_type, manager.reason(clip.id)) or (
        "detected before kickclip recorded its evidence"
    )
    plain = in_plain_words(features, clip.clip_type)
    model = trainer.model
    if model is None:
        progress = trainer.get_training_progress()
        wait = f"no model yet: {progress['needed']} more ratings to train"
        return Explanation(clip.id, f"{reason}; {wait}", None, plain=plain)
    if getattr(model, "uses_words", False) and clip.transcript is not None:
        features = model.with_words(features, clip.transcript, clip.duration)
    predicted = model.predict_one(features, clip.clip_type)
    contributions = []
    for name in model.feature_names_:
        if name not in features:
            continue
        without = {k: v for k, v in features.items() if k != name}
        effect = 4 * (predicted - model.predict_one(without, clip.clip_type))
        contributions.append({"feature": name, "value": features[name], "effect": effect})
    contributions.sort(key=lambda c: abs(c["effect"]), reverse=True)
    shown = tuple(
        {**c, "value": round(c["value"], 4), "effect": round(c["effect"], 3)}
        for c in contributions[:SHOWN_CONTRIBUTIONS]
    )
    stars = round(1 + 4 * predicted, 2)
    verdict = f"{reason}; your taste: {stars:.1f}★ predicted"
    return Explanation(clip.id, verdict, stars, shown, plain=plain)


def _evidence(features: dict[str, float], clip_type: str, kept: str | None) -> str:
    """The evidence with its baselines, read from the features, plus what only the analysis
    knew and the words kept when the clip was found carry (the chat's top token: ", KEKW
    ×8"). Without kept words (clips from before they were kept), the features alone."""
    detected = describe(features, clip_type, baselines=True)
    plain = describe(features, clip_type)
    if kept and kept.startswith(plain):
        return detected + kept[len(plain) :]
    return detected or kept or ""
