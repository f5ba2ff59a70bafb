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


def _stream(
    path: Path,
    seed: int,
    offset: float,
    *,
    duration_s: float = 300.0,
    first_s: float = 20.0,
    apart_s: float = 32.0,
    moments: int = 8,
) -> tuple[Path, realistic.Plan]:
    """Recorded speech (±3 dB) with shouts and cheers in turn, ``apart_s`` apart (by default 5
    minutes with 4 of each)."""
    starts = [first_s + offset + apart_s * k for k in range(moments)]
    plan = realistic.Plan(
        duration_s,
        shout=[(t, t + 3.0) for t in starts[0::2]],
        cheer=[(t, t + 3.5) for t in starts[1::2]],
    )
    audio = realistic.soundtrack(plan, swing_db=3, seed=seed)
    return realistic.write_stream(path, plan, audio, size=(160, 96), fps=10, seed=seed), plan


def _settings(root: Path, **more) -> Settings:
    """A store of its own; 8 s clips at least 20 s apart."""
    return Settings(
        db=root / "clips.db",
        out=root / "clips",
        models_dir=root / "models",
        clip_duration=8,
        min_gap=20,
        **more,
    )


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
    settings = _settings(tmp_path, top=3)

    def shouts_cut() -> int:
        analysis = pipeline.analyze(str(second), settings)
        assert len(analysis.highlights) == 3
        return sum(_kind(h.peak_s, second_plan) == "shout" for h in analysis.highlights)

    detector_only = shouts_cut()
    # The rater: shouts 5 stars, cheers 1, everything else 2; every candidate of the first stream.
    _rate_the_candidates((first, first_plan), settings, {"shout": 5, "cheer": 1})

    with_taste = shouts_cut()
    assert with_taste > detector_only
    assert with_taste == 3


@pytest.fixture(scope="module")
def live_stream(tmp_path_factory):
    """6 minutes with 2 shouts and 2 cheers 75 s apart, as rare as a live stream's moments (a
    watch judges what is ordinary over the last minutes)."""
    path = tmp_path_factory.mktemp("live-taste") / "live.mp4"
    return _stream(path, 32, 11.0, duration_s=360.0, first_s=40.0, apart_s=75.0, moments=4)


def _rate_the_candidates(stream, settings: Settings, stars: dict[str, int]) -> None:
    """Every candidate of the stream registered and rated by its kind (others 2★), then trained."""
    path, plan = stream
    manager = ClipManager(settings.db)
    for highlight in pipeline.analyze(str(path), settings.replace(top=20)).highlights:
        clip_id = manager.register_clip(
            filepath=settings.out / f"rated{highlight.peak_s:.1f}{highlight.clip_type}.mp4",
            start_time=highlight.start_s,
            end_time=highlight.end_s,
            score=highlight.score,
            clip_type=highlight.clip_type,
            features=highlight.features,
        )
        manager.rate_clip(clip_id, stars.get(_kind(highlight.peak_s, plan), 2))
    assert RatingBasedTrainer(manager, settings.models_dir).train_from_ratings()


@pytest.mark.parametrize("cheer_stars", [3, 1])
def test_a_watch_clips_what_the_taste_likes_and_drops_what_it_dislikes(
    streams, live_stream, tmp_path: Path, cheer_stars: int
) -> None:
    """Live, a clip needs a bar, not a rank: shouts (5★) are clipped; cheers the detector finds
    clear are kept while the taste finds them fine (3★), and dropped once it dislikes them."""
    import threading

    from kickclip.watch import MIN_SCORE, Watch

    rated, (second, second_plan) = streams[0], live_stream
    settings = _settings(tmp_path, words=False)
    _rate_the_candidates(rated, settings, {"shout": 5, "cheer": cheer_stars})
    manager = ClipManager(settings.db)
    watched = Watch(str(second), settings, manager).run(threading.Event())
    kinds = [_kind(live.moment.peak_s, second_plan) for live in watched.clips]
    assert kinds.count("shout") == 2, kinds
    assert kinds.count("cheer") == (2 if cheer_stars == 3 else 0), kinds
    assert all("your taste" in live.moment.reason for live in watched.clips)
    # A clip under the bar says why it was kept.
    assert all(
        live.moment.score >= MIN_SCORE or "kept: the detector alone scores" in live.moment.reason
        for live in watched.clips
    )


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
