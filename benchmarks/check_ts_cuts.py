"""Check stream-copy cuts on a 5-minute MPEG-TS made from real footage (issue 9, item 4).

Builds ``benchmarks/.cache/ts_cuts.ts`` once (kept and reused): the real clips in
``benchmarks/.cache/real/`` (chaplin.mp4, fire2.mp4 and the moviepy example, whichever are
there) decoded and looped to 5 minutes, scaled to 640x360 at 30 fps, encoded as H.264
(x264 veryfast with its B-frames and scene-cut keyframes, keyframe interval 2 s as Kick asks)
+ AAC, and muxed interleaved into MPEG-TS with timestamps starting at 1.4 s, as FFmpeg and HLS
recordings have them (``--offset`` moves them, e.g. near 2**33 / 90 kHz to make the clock wrap).

Then it cuts 30 s stream-copy clips at odd start times and prints, per clip, the asked start,
the real start, the keyframe at or before the asked start (read from the file), and the decoded
length. PASS when every clip decodes to >= 29.5 s, starts at or before the asked start, and
starts at exactly that keyframe.

Usage::

    uv run python benchmarks/check_ts_cuts.py
    uv run python benchmarks/check_ts_cuts.py --offset 95383.6 --rebuild   # 33-bit wrap
"""

from __future__ import annotations

import argparse
import heapq
import shutil
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from kickclip.cut import cut_clip
from kickclip.ingest import open_source
from kickclip.records import Highlight

HERE = Path(__file__).parent
CACHE = HERE / ".cache"
REAL = CACHE / "real"
SOURCES = ("chaplin.mp4", "fire2.mp4", "example.mp4", "moviepy-long-example.mp4")
SIZE = (640, 360)
FPS = 30
RATE = 48_000
DURATION_S = 300.0
STARTS = (7.3, 33.9, 61.0, 88.45, 125.25, 151.7, 177.1, 203.35, 229.9, 256.6)
CLIP_S = 30.0


def _sources() -> list[Path]:
    found = [REAL / name for name in SOURCES if (REAL / name).exists()]
    if not found:
        sys.exit(f"no footage in {REAL}: expected some of {', '.join(SOURCES)}")
    return found


def _video_pass(sources: list[Path], dest: Path) -> list[int]:
    """Encode the looped footage's pictures; return the frames each piece took."""
    pieces: list[int] = []
    with av.open(str(dest), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = *SIZE, "yuv420p"
        stream.codec_context.gop_size = 2 * FPS
        stream.options = {"preset": "veryfast", "crf": "26"}
        written = 0
        while written < DURATION_S * FPS:
            for path in sources:
                start = written
                with av.open(str(path)) as source:
                    video = source.streams.video[0]
                    prev, t0 = None, None
                    for frame in source.decode(video):
                        if frame.time is None:
                            continue
                        t0 = frame.time if t0 is None else t0
                        local = frame.time - t0
                        while prev is not None and (written - start) / FPS < local:
                            written = _put(out, stream, prev, written)
                        prev = frame.reformat(width=SIZE[0], height=SIZE[1], format="yuv420p")
                    if prev is not None:  # hold the last picture one frame of the source
                        written = _put(out, stream, prev, written)
                pieces.append(written - start)
                if written >= DURATION_S * FPS:
                    break
        out.mux(stream.encode(None))
    return pieces


def _put(out, stream, frame, index: int) -> int:
    frame.pts, frame.time_base = index, Fraction(1, FPS)
    out.mux(stream.encode(frame))
    return index + 1


def _audio_pass(sources: list[Path], pieces: list[int], dest: Path) -> None:
    """Encode the matching sound: each piece exactly as long as its pictures (silence pads)."""
    with av.open(str(dest), "w") as out:
        stream = out.add_stream("aac", rate=RATE)
        stream.layout = "stereo"
        done = 0
        for number, frames in enumerate(pieces):
            path = sources[number % len(sources)]
            want = frames * RATE // FPS
            chunks: list[np.ndarray] = []
            with av.open(str(path)) as source:
                if source.streams.audio:
                    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
                    for frame in source.decode(source.streams.audio[0]):
                        for chunk in resampler.resample(frame):
                            chunks.append(chunk.to_ndarray())
            samples = np.concatenate(chunks, axis=1) if chunks else np.zeros((2, 0), np.float32)
            samples = samples[:, :want]
            samples = np.pad(samples, ((0, 0), (0, want - samples.shape[1])))
            for offset in range(0, want, 1024):
                block = np.ascontiguousarray(samples[:, offset : offset + 1024], np.float32)
                frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
                frame.sample_rate, frame.pts = RATE, done + offset
                out.mux(stream.encode(frame))
            done += want
        out.mux(stream.encode(None))


def _interleave(parts: list[Path], dest: Path, offset_s: float) -> None:
    """Stream-copy the parts into one MPEG-TS, packets in time order, times + ``offset_s``."""
    inputs = [av.open(str(part)) for part in parts]
    try:
        with av.open(str(dest), "w", format="mpegts") as out:
            outputs = [out.add_stream_from_template(i.streams[0]) for i in inputs]

            def timed(number: int):
                for packet in inputs[number].demux(inputs[number].streams[0]):
                    if packet.dts is not None:
                        yield float(packet.dts * packet.time_base), number, packet

            for _, number, packet in heapq.merge(*(timed(n) for n in range(len(inputs)))):
                shift = round(offset_s / packet.time_base)
                packet.pts += shift
                packet.dts += shift
                packet.stream = outputs[number]
                out.mux(packet)
    finally:
        for container in inputs:
            container.close()


def build(dest: Path, offset_s: float) -> Path:
    sources = _sources()
    print(f"building {dest.name} from {', '.join(p.name for p in sources)} …", flush=True)
    video, audio = dest.with_suffix(".video.mp4"), dest.with_suffix(".audio.m4a")
    pieces = _video_pass(sources, video)
    _audio_pass(sources, pieces, audio)
    part = dest.with_suffix(".part.ts")
    _interleave([video, audio], part, offset_s)
    part.replace(dest)
    video.unlink()
    audio.unlink()
    return dest


def keyframes(path: Path) -> list[float]:
    """Every video keyframe's time in the file, in the container's clock (start subtracted)."""
    with av.open(str(path)) as container:
        start = container.start_time / av.time_base if container.start_time else 0.0
        video = container.streams.video[0]
        return sorted(
            float(p.pts * p.time_base) - start
            for p in container.demux(video)
            if p.pts is not None and p.is_keyframe
        )


def decoded_length(path: Path) -> float:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        times = [float(f.time) for f in container.decode(video) if f.time is not None]
        start = float(video.start_time * video.time_base) if video.start_time else 0.0
    return max(times) + 1 / float(video.average_rate) - start if times else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rebuild", action="store_true", help="remake the test stream")
    parser.add_argument("--offset", type=float, default=1.4, help="TS timestamps start here (s)")
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    name = "ts_cuts.ts" if args.offset == 1.4 else f"ts_cuts_{args.offset:g}.ts"
    path = CACHE / name
    if args.rebuild or not path.exists():
        build(path, args.offset)
    media = open_source(str(path))
    keys = keyframes(path)
    gaps = np.diff(keys)
    print(
        f"{path.name}: {media.duration_s:.1f} s, container start {media.start_s:.3f} s, "
        f"{len(keys)} keyframes, gaps {gaps.min():.2f}-{gaps.max():.2f} s"
    )
    out_dir = CACHE / "ts_cuts_out"
    shutil.rmtree(out_dir, ignore_errors=True)
    ok = True
    print(f"{'asked':>8} {'real':>8} {'keyframe<=':>10} {'length':>7}  file")
    for asked in STARTS:
        highlight = Highlight(
            start_s=asked,
            end_s=asked + CLIP_S,
            peak_s=asked + 5,
            score=0.5,
            clip_type="audio",
            features={},
        )
        clip = cut_clip(media, highlight, out_dir)
        length = decoded_length(clip.filepath)
        before = max(k for k in keys if k <= asked + 1e-6)
        good = length >= 29.5 and clip.start_s <= asked and abs(clip.start_s - before) < 1e-3
        ok &= good
        print(
            f"{asked:8.2f} {clip.start_s:8.3f} {before:10.3f} {length:7.3f}  "
            f"{clip.filepath.name}{'' if good else '  <-- FAIL'}"
        )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
