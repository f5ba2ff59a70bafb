"""Analysis speed and memory against the decode floor and the peers a user would reach for.

For each generated 720p30 H.264/AAC file (2 s keyframe interval, as Kick and OBS streams
have) it measures, each in a fresh subprocess so peak RSS is its own:

- ``floor``: PyAV decoding every video frame and all audio, doing nothing else;
- ``kickclip``: ``kickclip.pipeline.analyze`` in its default mode (and ``--thorough``);
- ``scenedetect``: PySceneDetect's ``detect-adaptive`` (``AdaptiveDetector``) on the video;
- ``librosa``: RMS + onset strength on the audio (decoded with PyAV: librosa cannot read
  MP4 without a system FFmpeg).

It reports × realtime, CPU seconds, peak RSS and the ratios to the floor. Absolute times on a
shared 2-core machine are noise; the ratios, taken in one run, are the result.

Usage::

    uv sync --group bench
    uv run python benchmarks/bench_performance.py            # 10 and 60 minute files
    uv run python benchmarks/bench_performance.py --minutes 10
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

CACHE = Path(__file__).parent / ".cache"
METHODS = ("floor", "kickclip", "kickclip_thorough", "scenedetect", "librosa")
CUT_METHODS = ("cut_copy", "cut_accurate")


# --- test media ---------------------------------------------------------------------------------
def make_stream(path: Path, minutes: float) -> Path:
    """A 720p30 H.264/AAC stream with 2 s GOPs: panning texture, action bursts, loud bursts.

    Longer files are the 10 minute file remuxed end to end (stream copy, timestamps shifted),
    which costs seconds instead of encoding an hour of 720p.
    """
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    base_minutes = 10.0
    if minutes > base_minutes:
        base = make_stream(CACHE / f"stream_{base_minutes:g}min.mp4", base_minutes)
        _concat(base, path, repeats=round(minutes / base_minutes))
        return path
    _encode(path, minutes * 60)
    return path


def _encode(path: Path, duration_s: float) -> None:
    import av
    import numpy as np

    rng = np.random.default_rng(7)
    fps, width, height, rate = 30, 1280, 720, 48_000
    # A smooth, panning scene (like a game or a face cam) compresses like real streams do.
    yy, xx = np.mgrid[0 : 2 * height, 0 : 2 * width].astype(np.float32)
    texture = np.stack(
        [
            127 + 60 * np.sin(xx / (37 + 20 * c) + c) + 60 * np.cos(yy / (53 + 15 * c))
            for c in range(3)
        ],
        axis=-1,
    ).astype(np.uint8)
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.gop_size = 2 * fps
        video.options = {"preset": "veryfast", "crf": "23", "sc_threshold": "0"}
        audio = out.add_stream("aac", rate=rate)
        audio.layout = "stereo"
        samples_per_frame = rate // fps
        t_audio = 0
        for index in range(round(duration_s * fps)):
            t = index / fps
            action = (t % 90) < 6  # six seconds of action every minute and a half
            shift = int(t * 40) % height
            img = texture[shift : shift + height, (index * 3) % width : (index * 3) % width + width]
            if action:
                img = img.copy()
                for _ in range(12):
                    y, x = rng.integers(0, height - 96), rng.integers(0, width - 96)
                    img[y : y + 96, x : x + 96] = rng.integers(0, 256, (96, 96, 3))
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            out.mux(video.encode(frame))
            loud = (t % 75) < 4
            level = 0.6 if loud else 0.05
            chunk = (level * rng.standard_normal((2, samples_per_frame))).astype(np.float32)
            aframe = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            aframe.sample_rate, aframe.pts = rate, t_audio
            aframe.time_base = Fraction(1, rate)
            t_audio += samples_per_frame
            out.mux(audio.encode(aframe))
        out.mux(video.encode(None))
        out.mux(audio.encode(None))
    tmp.replace(path)


def _concat(base: Path, path: Path, *, repeats: int) -> None:
    import av

    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        streams: dict[int, av.stream.Stream] = {}
        next_start: dict[int, int] = {}  # where each stream's next copy begins, in its time base
        for _ in range(repeats):
            with av.open(str(base)) as src:
                for stream in src.streams:  # every stream before the first packet is muxed
                    if stream.index not in streams:
                        streams[stream.index] = out.add_stream_from_template(stream)
                        next_start[stream.index] = 0
                shift: dict[int, int] = {}
                end: dict[int, int] = {}
                for packet in src.demux():
                    if packet.dts is None:
                        continue
                    index = packet.stream.index
                    # Continue right after the previous copy, priming packets included.
                    shift.setdefault(index, next_start[index] - packet.dts)
                    packet.pts += shift[index]
                    packet.dts += shift[index]
                    end[index] = max(end.get(index, 0), packet.pts + (packet.duration or 0))
                    packet.stream = streams[index]
                    out.mux(packet)
                next_start.update(end)
    tmp.replace(path)


# --- one measured method, run in its own process ------------------------------------------------
def run_floor(path: Path) -> None:
    import av

    with av.open(str(path)) as container:
        container.streams.video[0].thread_type = "AUTO"
        for _ in container.decode(*container.streams.video, *container.streams.audio):
            pass


def run_kickclip(path: Path, *, thorough: bool = False) -> None:
    from kickclip import pipeline
    from kickclip.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            db=Path(tmp) / "clips.db",
            out=Path(tmp) / "out",
            models_dir=Path(tmp) / "models",
            thorough=thorough,
        )
        analysis = pipeline.analyze(str(path), settings)
        print(f"highlights={len(analysis.highlights)}", file=sys.stderr)


def run_scenedetect(path: Path) -> None:
    from scenedetect import AdaptiveDetector, detect

    scenes = detect(str(path), AdaptiveDetector())
    print(f"scenes={len(scenes)}", file=sys.stderr)


def run_librosa(path: Path) -> None:
    import av
    import librosa
    import numpy as np

    rate = 22_050
    chunks = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray()[0])
    y = np.concatenate(chunks)
    rms = librosa.feature.rms(y=y)
    onset = librosa.onset.onset_strength(y=y, sr=rate)
    print(f"rms={rms.shape} onset={onset.shape}", file=sys.stderr)


def run_cuts(path: Path, *, accurate: bool) -> None:
    """Cut 10 clips of 30 s spread over the file, as ``generate`` would."""
    from kickclip.cut import cut_clip
    from kickclip.ingest import open_source
    from kickclip.records import Highlight

    media = open_source(str(path))
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(10):
            start_s = (index + 0.5) * media.duration_s / 10
            highlight = Highlight(
                start_s=start_s,
                end_s=start_s + 30,
                peak_s=start_s + 12,
                score=0.5,
                clip_type="video",
                features={},
            )
            cut_clip(media, highlight, Path(tmp), accurate=accurate)


def measure(method: str, path: Path) -> dict:
    start = time.perf_counter()
    if method == "floor":
        run_floor(path)
    elif method == "kickclip":
        run_kickclip(path)
    elif method == "kickclip_thorough":
        run_kickclip(path, thorough=True)
    elif method == "scenedetect":
        run_scenedetect(path)
    elif method == "librosa":
        run_librosa(path)
    elif method in CUT_METHODS:
        run_cuts(path, accurate=method == "cut_accurate")
    wall_s = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "method": method,
        "wall_s": wall_s,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": _peak_rss_mb(usage),
    }


def _peak_rss_mb(usage: resource.struct_rusage) -> float:
    """This process's own peak RSS. ``ru_maxrss`` survives exec on Linux, so a child started
    by a big parent would report the parent's peak; VmHWM belongs to this process alone."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return usage.ru_maxrss / 1024


# --- the report ---------------------------------------------------------------------------------
def media_duration_s(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return container.duration / av.time_base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[10, 60])
    parser.add_argument(
        "--methods", nargs="+", default=list(METHODS), choices=METHODS + CUT_METHODS
    )
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], Path(args.one[1]))))
        return

    rows = []
    for minutes in args.minutes:
        path = make_stream(CACHE / f"stream_{minutes:g}min.mp4", minutes)
        duration_s = media_duration_s(path)
        results = {}
        for method in args.methods:
            done = subprocess.run(
                [sys.executable, __file__, "--one", method, str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            results[method] = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{minutes:g} min {method}: {results[method]} {done.stderr.strip()}",
                file=sys.stderr,
            )
        floor = results.get("floor")
        for method, r in results.items():
            rows.append(
                (
                    minutes,
                    method,
                    duration_s / r["wall_s"],
                    r["cpu_s"],
                    r["peak_rss_mb"],
                    floor["wall_s"] / r["wall_s"] if floor else float("nan"),
                    floor["cpu_s"] / r["cpu_s"] if floor else float("nan"),
                )
            )

    print(
        "| file | method | × realtime | CPU s | peak RSS MB | speed-up vs floor (wall) "
        "| speed-up vs floor (CPU) |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for minutes, method, xrt, cpu_s, rss, vs_wall, vs_cpu in rows:
        print(
            f"| {minutes:g} min 720p30 | {method} | {xrt:.1f} | {cpu_s:.1f} | {rss:.0f} "
            f"| {vs_wall:.2f} | {vs_cpu:.2f} |"
        )


if __name__ == "__main__":
    main()
