"""The offline demo: synthesize a sample stream, then run the whole pipeline on it.

The synthesizer also makes the test suite's media: talking-level audio with loud ``bursts``,
an optional ``steady_loud`` stretch that must not count, a calm picture with ``action``
(moving noisy blocks) and calm scene ``cuts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from kickclip.progress import ProgressCallback, no_progress, scaled
from kickclip.records import Generation
from kickclip.settings import DEFAULT_SETTINGS, Settings

Span = tuple[float, float]


def _inside(t: float, spans: Sequence[Span]) -> bool:
    return any(start <= t < end for start, end in spans)


def synthesize_stream(
    path: Path | str,
    *,
    duration_s: float = 20.0,
    fps: int = 15,
    size: tuple[int, int] = (160, 96),
    sample_rate_hz: int = 16_000,
    audio: bool = True,
    video: bool = True,
    bursts: Sequence[Span] = (),
    action: Sequence[Span] = (),
    cuts: Sequence[float] = (),
    steady_loud: Sequence[Span] = (),
    keyframe_interval_s: float = 2.0,
    seed: int = 0,
    codecs: tuple[str, str] = ("libx264", "aac"),
) -> Path:
    """Write a file (container from the suffix: .mp4, .mkv, .ts, .m4a …) and return its path;
    ``codecs``: video and audio encoder (``("libvpx", "libopus")`` for a WebM at 48 kHz)."""
    path = Path(path)
    rng = np.random.default_rng(seed)
    width, height = size
    with av.open(str(path), "w") as container:
        vstream = astream = None
        if video:
            vstream = container.add_stream(codecs[0], rate=fps)
            vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
            vstream.codec_context.gop_size = max(1, round(keyframe_interval_s * fps))
            if codecs[0] == "libx264":
                vstream.options = {"preset": "ultrafast", "sc_threshold": "0", "bf": "0"}
        if audio:
            astream = container.add_stream(codecs[1], rate=sample_rate_hz)
            astream.layout = "mono"
        if vstream is not None:
            _write_video(container, vstream, duration_s, fps, width, height, action, cuts, rng)
        if astream is not None:
            _write_audio(container, astream, duration_s, sample_rate_hz, bursts, steady_loud, rng)
    return path


def _write_video(container, stream, duration_s, fps, width, height, action, cuts, rng) -> None:
    _, x = np.mgrid[0:height, 0:width]
    gradient = (x * 255 // max(width - 1, 1)).astype(np.uint8)
    palette = [(40, 90, 160), (150, 60, 60), (60, 140, 70), (120, 120, 30)]
    for index in range(round(duration_s * fps)):
        t = index / fps
        scene = sum(1 for c in cuts if c <= t)
        base = np.array(palette[scene % len(palette)], dtype=np.uint8)
        img = np.empty((height, width, 3), dtype=np.uint8)
        img[...] = base
        img[..., 0] = (base[0] // 2 + gradient // 2).astype(np.uint8)
        if _inside(t, action):
            block = max(8, width // 8)
            for _ in range(6):
                bx, by = rng.integers(0, width - block), rng.integers(0, height - block)
                img[by : by + block, bx : bx + block] = rng.integers(0, 256, (block, block, 3))
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts, frame.time_base = index, Fraction(1, fps)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def _write_audio(container, stream, duration_s, rate, bursts, steady_loud, rng) -> None:
    n = round(duration_s * rate)
    t = np.arange(n) / rate
    # Talking level: noise with a 3 Hz syllable envelope.
    signal = 0.05 * rng.standard_normal(n) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2)
    for start, end in bursts:
        span = (t >= start) & (t < end)
        signal[span] = (
            0.7
            * rng.standard_normal(span.sum())
            * (0.7 + 0.3 * np.sin(2 * np.pi * 5 * t[span]) ** 2)
        )
    for start, end in steady_loud:
        span = (t >= start) & (t < end)
        signal[span] = 0.5 * np.sin(2 * np.pi * 220 * t[span]) + 0.2 * np.sin(
            2 * np.pi * 330 * t[span]
        )
    samples = np.clip(signal, -1, 1).astype(np.float32)
    block = 1024
    for offset in range(0, n, block):
        chunk = samples[offset : offset + block]
        frame = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
        frame.sample_rate, frame.pts = rate, offset
        frame.time_base = Fraction(1, rate)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


DEMO_EVENTS = {
    "bursts": [(20, 24), (75, 78), (140, 146)],
    "action": [(50, 55), (140, 146)],
    "cuts": [35, 100, 160],
}


def run_demo(
    settings: Settings = DEFAULT_SETTINGS, *, on_progress: ProgressCallback = no_progress
) -> Generation:
    """Write a 3-minute sample stream to ``<out>/demo/`` and generate its clips."""
    from kickclip.pipeline import generate

    path = settings.out / "demo" / "kickclip-demo.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(".kickclip-demo.part.mp4")
    on_progress(0.0, "synthesizing the demo stream")
    synthesize_stream(part, duration_s=180, size=(320, 180), fps=15, **DEMO_EVENTS)
    part.replace(path)
    demo_settings = settings.replace(
        clip_duration=min(settings.clip_duration, 15.0), min_gap=min(settings.min_gap, 20.0)
    )
    return generate(str(path), demo_settings, on_progress=scaled(on_progress, 0.1, 1.0))
