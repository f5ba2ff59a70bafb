"""The taste chooses: once a model is trained, the blended score picks what is cut."""

from __future__ import annotations

from pathlib import Path

import pytest

import realistic
from kickclip import pipeline
from kickclip.learn.trainer import RatingBasedTrainer
from kickclip.rescore import choose, pool_size
from kickclip.settings import Settings
from kickclip.store.clip_manager import ClipManager


def _stream(path: Path, seed: int, offset: float) -> tuple[Path, realistic.Plan]:
    """5 minutes of recorded speech (±3 dB) with 4 shouts and 4 cheers, 30 s apart."""
    starts = [20.0 + offset + 32.0 * k for k in range(8)]
    plan = realistic.Plan(
        300.0,
        shout=[(t, t + 3.0) for t in starts[0::2]],
        cheer=[(t, t + 3.5) for t in starts[1::2]],
    )
    audio = realistic.soundtrack(plan, swing_db=3, seed=seed)
    return realistic.write_stream(path, plan, audio, size=(160, 96), fps=10, seed=seed), plan


def _kind(peak_s: float, plan: realistic.Plan) -> str:
    for kind in ("shout", "cheer"):
        if any(start - 3 <= peak_s <= end + 3 for start, end in getattr(plan, kind)):
            return kind
    return "other"


@pytest.fixture(scope="module")
def streams(tmp_path_factory):
    folder = tmp_path_factory.mktemp("taste")
    return _stream(folder / "first.mp4", 21, 0.0), _stream(folder / "second.mp4", 22, 7.0)


def test_a_rater_who_likes_shouts_gets_more_shouts_cut(streams, tmp_path: Path) -> None:
    (first, first_plan), (second, second_plan) = streams
    settings = Settings(
        db=tmp_path / "clips.db",
        out=tmp_path / "clips",
        models_dir=tmp_path / "models",
        clip_duration=8,
        min_gap=20,
        top=3,
    )

    def shouts_cut() -> int:
        analysis = pipeline.analyze(str(second), settings)
        assert len(analysis.highlights) == 3
        return sum(_kind(h.peak_s, second_plan) == "shout" for h in analysis.highlights)

    detector_only = shouts_cut()
    # The rater: shouts 5 stars, cheers 1, everything else 2; every candidate of the first stream.
    manager = ClipManager(settings.db)
    rated = pipeline.analyze(str(first), settings.replace(top=20))
    for highlight in rated.highlights:
        kind = _kind(highlight.peak_s, first_plan)
        clip_id = manager.register_clip(
            filepath=tmp_path / f"clip{highlight.peak_s:.1f}{highlight.clip_type}.mp4",
            start_time=highlight.start_s,
            end_time=highlight.end_s,
            score=highlight.score,
            clip_type=highlight.clip_type,
            features=highlight.features,
        )
        manager.rate_clip(clip_id, {"shout": 5, "cheer": 1}.get(kind, 2))
    assert RatingBasedTrainer(manager, settings.models_dir).train_from_ratings()

    with_taste = shouts_cut()
    assert with_taste > detector_only
    assert with_taste == 3


def test_the_pool_is_larger_than_what_is_cut() -> None:
    assert pool_size(1) == 30 and pool_size(20) == 60


def test_choose_keeps_the_best_moments(sample_video: Path) -> None:
    from kickclip.analyze import extract_features
    from kickclip.detect import find_highlights
    from kickclip.ingest import open_source

    features = extract_features(open_source(str(sample_video)))
    pool = find_highlights(features, clip_duration_s=4, min_gap_s=2, top=30)
    assert {h.clip_type for h in pool} == {"audio", "video"}
    chosen = choose(list(reversed(pool)), 2)
    assert len(chosen) == 2
    assert [h.score for h in chosen] == sorted((h.score for h in pool), reverse=True)[:2]
