"""Video features that mean what they say: every keyframe counted, activity as a bit rate,
and the default (keyframes only) and thorough modes agreeing on what they both decoded."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from kickclip.analyze import extract_features
from kickclip.analyze import video as video_features
from kickclip.ingest import open_source
from media import make_media

HOP_S = 0.5


def _keyframe_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(
            float(p.pts * p.time_base)
            for p in container.demux(stream)
            if p.pts is not None and p.size and p.is_keyframe
        )


def _thumb_stats(path: Path, at_s: float) -> tuple[float, float]:
    """Brightness and colourfulness of the frame shown at ``at_s``, fully decoded."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if abs(float(frame.time) - at_s) < 1e-3:
                image = video_features.small_rgb(frame)
                return video_features.brightness(image), video_features.colourfulness(image)
    raise AssertionError(f"no frame at {at_s} s")


@pytest.fixture(scope="module")
def three_keyframes(tmp_path_factory) -> Path:
    """6 s at 4 fps, keyframes at 0, 2 and 4 s, a new calm scene at each and at 5.5 s."""
    path = make_media(
        tmp_path_factory.mktemp("media") / "three.mp4",
        duration_s=6,
        fps=4,
        keyframe_interval_s=2.0,
        cuts=[2, 4, 5.5],
        audio=False,
    )
    assert _keyframe_times(path) == [0.0, 2.0, 4.0]
    return path


@pytest.mark.parametrize("thorough", [False, True])
def test_every_keyframe_and_the_last_frames_are_decoded(
    three_keyframes: Path, thorough: bool
) -> None:
    video = extract_features(open_source(str(three_keyframes)), thorough=thorough).video
    assert video is not None and len(video) == 12
    scenes = [_thumb_stats(three_keyframes, t) for t in (0.0, 2.0, 4.0, 5.5)]
    # Each window shows the scene of the frame it decoded: keyframes only by default; thorough
    # also samples the last window, whose frames the decoder hands back only when flushed.
    shown = [0] * 4 + [1] * 4 + [2] * 3 + [3 if thorough else 2]
    for index, name in enumerate(("brightness", "colourfulness")):
        values = video.values[name]
        assert np.all(values > 0), name
        expected = [scenes[scene][index] for scene in shown]
        np.testing.assert_allclose(values, expected, atol=0.005, err_msg=name)


def _write_vfr(path: Path, spans: list[tuple[float, float, int]], action, cuts) -> Path:
    """Calm picture at a frame rate that changes per span; the calm has a steady trickle of
    small changes (60 4x4 blocks recoloured a second), ``action`` moving noise blocks.

    A constant quantizer keeps x264's rate control out of the measurement: in CRF mode it
    spends somewhat more bits a second at a lower frame rate (here 1.2x), and after a scene cut
    it refines the new picture over the next ten frames or so.
    """
    rng = np.random.default_rng(7)
    width, height = 320, 180
    _, x = np.mgrid[0:height, 0:width]
    base = np.zeros((height, width, 3), np.uint8)
    base[..., 0], base[..., 1], base[..., 2] = x * 255 // (width - 1), 90, 150
    tick = Fraction(1, 90_000)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = tick
        stream.codec_context.gop_size = 60
        stream.options = {"preset": "ultrafast", "sc_threshold": "0", "bf": "0", "qp": "23"}
        picture, sparkles_due = base.copy(), 0.0
        for start, end, fps in spans:
            for index in range(round((end - start) * fps)):
                t = start + index / fps
                sparkles_due += 60 / fps  # 60 recoloured blocks a second at any frame rate
                while sparkles_due >= 1:
                    sparkles_due -= 1
                    bx, by = rng.integers(0, width - 4), rng.integers(0, height - 4)
                    picture[by : by + 4, bx : bx + 4] = rng.integers(0, 256, 3)
                img = picture.copy()
                if sum(1 for c in cuts if c <= t) % 2:
                    img = 255 - img
                if any(a <= t < b for a, b in action):
                    for _ in range(6):
                        bx, by = rng.integers(0, width - 40), rng.integers(0, height - 40)
                        img[by : by + 40, bx : bx + 40] = rng.integers(0, 256, (40, 40, 3))
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                frame.pts, frame.time_base = round(t / tick), tick
                container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def test_activity_is_a_rate_a_lower_frame_rate_does_not_look_busier(tmp_path: Path) -> None:
    path = _write_vfr(
        tmp_path / "vfr.mp4",
        spans=[(0, 20, 30), (20, 40, 10)],
        action=[(8, 11), (28, 31)],
        cuts=[15.1, 35.1],
    )
    video = extract_features(open_source(str(path))).video
    assert video is not None
    activity = video.values["activity_kbits"]
    times = video.times_s

    def median(start: float, end: float) -> float:
        return float(np.median(activity[(times >= start) & (times < end)]))

    calm_30, calm_10 = median(2, 7), median(22, 27)
    assert calm_10 <= 1.1 * calm_30, (calm_30, calm_10)
    assert activity[(times >= 20) & (times < 27)].max() <= 1.5 * calm_30
    assert median(8.5, 10.5) > 5 * calm_30
    assert median(28.5, 30.5) > 5 * calm_10
    # A calm scene cut coded as one big P frame (no keyframe there) is no burst of activity.
    for cut in (15.1, 35.1):
        calm = calm_30 if cut < 20 else calm_10
        assert activity[(times >= cut - 0.5) & (times < cut + 1.0)].max() <= 1.5 * calm, cut


def test_default_and_thorough_agree_where_both_decoded_the_keyframe(tmp_path: Path) -> None:
    path = make_media(
        tmp_path / "agree.mp4",
        duration_s=20,
        action=[(6, 13)],
        cuts=[3.3, 11.1],
        keyframe_interval_s=2.0,
        audio=False,
    )
    fast = extract_features(open_source(str(path))).video
    slow = extract_features(open_source(str(path)), thorough=True).video
    assert fast is not None and slow is not None and len(fast) == len(slow)
    windows = sorted({int(t // HOP_S) for t in _keyframe_times(path)})
    assert len(windows) == 10
    for name in ("brightness", "colourfulness", "frame_diff"):
        np.testing.assert_allclose(
            fast.values[name][windows], slow.values[name][windows], atol=1e-6, err_msg=name
        )
    # frame_diff means picture change over a keyframe interval in both: action reads high.
    action, calm = slice(16, 24), slice(34, 40)
    for video in (fast, slow):
        assert video.values["frame_diff"][action].min() > 5 * video.values["frame_diff"][calm].max()
    np.testing.assert_array_equal(fast.values["activity_kbits"], slow.values["activity_kbits"])


@pytest.mark.parametrize("thorough", [False, True])
def test_sampler_holds_a_bounded_number_of_thumbnails(thorough: bool) -> None:
    """An hour of 2 s keyframes: the pictures kept for frame_diff stay within MAX_LOOKBACK_S."""
    sampler = video_features.FrameSampler(thorough=thorough, hop_s=HOP_S)
    frame = av.VideoFrame.from_ndarray(np.zeros((36, 64, 3), dtype=np.uint8), format="rgb24")
    for index in range(3600 * 4):
        t = index * 0.25
        sampler.add(frame, t, is_key=index % 8 == 0)
    held = len(sampler._recent)
    assert held <= video_features.MAX_LOOKBACK_S * video_features.SAMPLED_FPS + 2
