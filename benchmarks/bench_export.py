"""Export for posting against a plain transcode of the same 30 s, timed in the same run.

The clip: 30 s of 1280×720 at 30 fps, real footage (moviepy's Chaplin clip, looped) with a
streamer's camera overlay in the top right corner (scikit-image's astronaut, NASA, public
domain) and real meeting speech (AMI, CC BY 4.0, pyannote-audio's ``tests/data/dev00.wav``).

Each round times, in turn:
- **export**: ``pipeline.export_for_posting``: 9:16 auto layout (stack: the facecam is found),
  captions burned from the clip's words, SRT + VTT, -14 LUFS, H.264 + AAC 1080×1920 30 fps;
- **plain**: the same clip decoded, scaled into 1080×1920 (letterboxed) and encoded with the same
  H.264 options and AAC, nothing else.

Before the rounds, the words are heard once (transcription speed, × realtime).

    uv run python benchmarks/bench_export.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from kickclip import pipeline
from kickclip.post.render import AUDIO_RATE, ENCODER_OPTIONS, FPS, PostOptions
from kickclip.settings import Settings
from kickclip.store.clip_manager import ClipManager
from kickclip.words.speech import read_audio

CACHE = Path(__file__).parent / ".cache"
FOOTAGE = CACHE / "real" / "chaplin.mp4"
SPEECH = CACHE / "real" / "speech" / "dev00.wav"
FACE = Path(__file__).parents[1] / "tests" / "data" / "astronaut-face.jpg"
CLIP = CACHE / "export" / "clip.mp4"
DURATION_S = 30.0
SIZE = (1280, 720)
CAM = (1000, 20, 260, 260)


def build() -> Path:
    if CLIP.exists():
        return CLIP
    for needed in (FOOTAGE, SPEECH):
        if not needed.exists():
            sys.exit(f"missing {needed} (see benchmarks/README.md)")
    CLIP.parent.mkdir(parents=True, exist_ok=True)
    face = cv2.cvtColor(cv2.imread(str(FACE)), cv2.COLOR_BGR2RGB)
    x, y, w, h = CAM
    overlay = np.full((h, w, 3), 235, np.uint8)
    overlay[5:-5, 5:-5] = cv2.resize(face, (w - 10, h - 10))
    footage = []
    with av.open(str(FOOTAGE)) as source:
        for frame in source.decode(video=0):
            footage.append(cv2.resize(frame.to_ndarray(format="rgb24"), SIZE))
    voice = read_audio(str(SPEECH), 0.0, DURATION_S)
    voice = np.repeat(voice, 3)  # 16 kHz → 48 kHz, enough for a benchmark's sound
    with av.open(str(CLIP), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = *SIZE, "yuv420p"
        video.options = {"preset": "veryfast", "crf": "20"}
        sound = out.add_stream("aac", rate=AUDIO_RATE)
        sound.layout = "mono"
        for n in range(int(DURATION_S * FPS)):
            picture = footage[n % len(footage)].copy()
            picture[y : y + h, x : x + w] = overlay
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = n
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        for first in range(0, len(voice) - 1024, 1024):
            frame = av.AudioFrame.from_ndarray(
                voice[first : first + 1024].reshape(1, -1).astype(np.float32),
                format="flt",
                layout="mono",
            )
            frame.sample_rate, frame.pts, frame.time_base = (
                AUDIO_RATE,
                first,
                Fraction(1, AUDIO_RATE),
            )
            out.mux(sound.encode(frame))
        out.mux(sound.encode(None))
    return CLIP


def plain_transcode(clip: Path, dest: Path) -> None:
    """Decode, scale into 1080×1920, encode with the export's H.264 options, and AAC."""
    width, height = 1080, 1920
    with av.open(str(clip)) as source, av.open(str(dest), "w") as out:
        vout = out.add_stream("libx264", rate=FPS)
        vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
        vout.options = dict(ENCODER_OPTIONS)
        aout = out.add_stream("aac", rate=AUDIO_RATE)
        aout.layout = "stereo"
        resampler = av.AudioResampler(
            format="fltp", layout="stereo", rate=AUDIO_RATE, frame_size=1024
        )
        canvas = np.zeros((height, width, 3), np.uint8)
        fh = round(width * SIZE[1] / SIZE[0])
        top = (height - fh) // 2
        n = samples = 0
        for frame in source.decode(source.streams.video[0], source.streams.audio[0]):
            if isinstance(frame, av.VideoFrame):
                canvas[top : top + fh] = cv2.resize(frame.to_ndarray(format="rgb24"), (width, fh))
                yuv = cv2.cvtColor(canvas, cv2.COLOR_RGB2YUV_I420)
                picture = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
                picture.pts, picture.time_base = n, Fraction(1, FPS)
                n += 1
                out.mux(vout.encode(picture))
            else:
                frame.pts = None
                for chunk in resampler.resample(frame):
                    chunk.pts, chunk.time_base = samples, Fraction(1, AUDIO_RATE)
                    samples += chunk.samples
                    out.mux(aout.encode(chunk))
        out.mux(vout.encode(None))
        out.mux(aout.encode(None))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    clip = build()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(db=folder / "clips.db", out=folder / "clips", models_dir=folder / "m")
        manager = ClipManager(settings.db)
        clip_id = manager.register_clip(clip, 0.0, DURATION_S, 0.5, "audio", {}, "bench.mp4")
        pipeline.transcribe(manager, [clip_id])  # loads the model outside the timing
        began = time.perf_counter()
        ((_, words),) = pipeline.transcribe(manager, [clip_id])
        heard_s = time.perf_counter() - began
        print(
            f"heard {len(words.words)} words in {heard_s:.1f} s: "
            f"{DURATION_S / heard_s:.1f}× realtime"
        )
        exports, plains = [], []
        for round_ in range(args.rounds):
            began = time.perf_counter()
            (made,) = pipeline.export_for_posting(manager, [clip_id], PostOptions(), settings)
            exports.append(time.perf_counter() - began)
            began = time.perf_counter()
            plain_transcode(clip, folder / "plain.mp4")
            plains.append(time.perf_counter() - began)
            print(
                f"round {round_ + 1}: export {exports[-1]:.1f} s ({made.rendered.layout}), "
                f"plain {plains[-1]:.1f} s, ratio {exports[-1] / plains[-1]:.2f}"
            )
    export_s, plain_s = statistics.median(exports), statistics.median(plains)
    ratios = sorted(e / p for e, p in zip(exports, plains, strict=True))
    print(
        f"\nmedian export {export_s:.1f} s = {export_s / DURATION_S:.2f} s per clip second; "
        f"plain {plain_s:.1f} s = {plain_s / DURATION_S:.2f}; "
        f"export / plain {statistics.median(ratios):.2f} (pairs {ratios[0]:.2f}-{ratios[-1]:.2f})"
    )


if __name__ == "__main__":
    main()
