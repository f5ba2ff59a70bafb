"""Watching a live 720p30 stream for an hour: memory, delay, CPU share.

The stream: 6 minutes of 1280×720 at 30 fps (the talk is recorded speech, Debian's LibriVox
test data, with shouts, cheers and sound effects planted by ``tests/realistic.py``; the
picture is a panning texture with bursts of action), cut into 10 s HLS segments as Kick's, and
played 10 times over with ``#EXT-X-DISCONTINUITY`` between the rounds: an hour. A loopback
server publishes it ``--speed`` times faster than real time as a live playlist, and
``kickclip watch --json`` (a process of its own, the whole command a user runs) watches it.

Reported: the watcher's RSS over the hour (sampled every second: first, median, last and
peak after the first 10 minutes), each planted moment's delay from when it happened to its
clip's registration, in seconds of the stream (wall seconds × speed: conservative, as the
watcher's own work is counted ``speed`` times over; each segment is declared as long as it
lasts in wall time, so FFmpeg reloads the playlist every 10 s of the stream's time), and the
CPU the watch took per second of stream, as a share of one core and of the machine's 2.

    uv run python benchmarks/bench_watch.py [--speed 12] [--rounds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

import psutil

import realistic
from servers import Server, make_hls

CACHE = Path(__file__).parent / ".cache"
ROUND_S = 360.0
SEGMENT_S = 10.0


def stream(folder: Path) -> tuple[Path, list[float]]:
    """The 6-minute 720p30 round as HLS (made once, cached) and its planted moments."""
    plan = realistic.plan_events(ROUND_S, seed=7, per_kind=1, music_s=30.0, cuts=1)
    hls = CACHE / "watch720" / "index.m3u8"
    if not hls.exists():
        audio = realistic.soundtrack(plan, swing_db=6.0, seed=7)
        source = CACHE / "watch720.mp4"
        realistic.write_stream(source, plan, audio, size=(1280, 720), fps=30, seed=7)
        make_hls(source, hls.parent, segment_s=SEGMENT_S)
    moments = sorted({start for start, _ in plan.audio_events() + plan.video_events()})
    return hls, moments


class LoopedLive:
    """The round ``rounds`` times over, one segment out every ``10 / speed`` wall seconds."""

    def __init__(self, playlist: Path, rounds: int, speed: float) -> None:
        lines = playlist.read_text().splitlines()
        one = [
            (lines[i], lines[i + 1]) for i, line in enumerate(lines) if line.startswith("#EXTINF")
        ]
        self.segments = [
            (info, uri, r > 0 and k == 0)
            for r in range(rounds)
            for k, (info, uri) in enumerate(one)
        ]
        self.per_round = len(one)
        self.pace_s = SEGMENT_S / speed
        self.started = time.monotonic()

    def render(self) -> bytes:
        shown = self.segments[: max(1, int((time.monotonic() - self.started) / self.pace_s))]
        # Each segment is declared as long as it lasts in wall time: FFmpeg reloads a live
        # playlist every segment's declared length, so it reloads every 10 s of the stream's
        # time, as at real time (the packets' own timestamps keep the media's clock).
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:1"]
        lines.append("#EXT-X-MEDIA-SEQUENCE:0")
        for _, uri, new_round in shown:
            info = f"#EXTINF:{self.pace_s:.3f},"
            lines += [*(["#EXT-X-DISCONTINUITY"] if new_round else []), info, f"watch720/{uri}"]
        if len(shown) == len(self.segments):
            lines.append("#EXT-X-ENDLIST")
        return ("\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=12.0)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    playlist, moments = stream(CACHE)
    live = LoopedLive(playlist, args.rounds, args.speed)
    planted = [r * ROUND_S + m for r in range(args.rounds) for m in moments]
    work = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    env = {**os.environ, "KICKCLIP_ALLOW_PRIVATE_ADDRESSES": "1", "PYTHONUNBUFFERED": "1"}
    clips: list[tuple[float, dict]] = []
    rss: list[tuple[float, int]] = []
    with Server(CACHE, dynamic={"live.m3u8": live.render}) as server:
        live.started = time.monotonic()
        wall0 = time.time()
        command = [sys.executable, "-m", "kickclip.cli", "watch", server.url("live.m3u8")]
        command += [
            "--json",
            "--no-words",
            "--db",
            str(work / "clips.db"),
            "--out",
            str(work / "out"),
        ]
        command += ["--models-dir", str(work / "models")]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )

        def read() -> None:
            for line in process.stdout:
                clips.append((time.time(), json.loads(line)))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        watched = psutil.Process(process.pid)
        cpu = 0.0
        while process.poll() is None:
            try:
                rss.append((time.time() - wall0, watched.memory_info().rss))
                times = watched.cpu_times()
                cpu = times.user + times.system
            except psutil.NoSuchProcess:
                break
            time.sleep(1.0)
        reader.join(timeout=10)
        errors = process.stderr.read()
    media_s = args.rounds * ROUND_S
    if process.returncode != 0:
        raise SystemExit(f"watch failed ({process.returncode}): {errors}")
    delays, covered = [], 0
    for moment in planted:
        found = [wall for wall, c in clips if c["start"] - 1 <= moment <= c["end"]]
        if found:
            covered += 1
            delays.append((found[0] - (wall0 + moment / args.speed)) * args.speed)
    settled = [mb for t, mb in rss if t * args.speed >= min(600, media_s / 2)]
    mib = 1024**2
    print(
        f"stream: {media_s / 60:g} min of 1280x720 at 30 fps, played {args.speed:g}x, "
        f"{len(planted)} planted moments, {len(clips)} clips"
    )
    print(f"planted moments in a clip: {covered} of {len(planted)} (--min-gap 60 keeps some apart)")
    if delays:
        scale = (
            "wall seconds" if args.speed == 1 else f"stream seconds: wall seconds x {args.speed:g}"
        )
        print(
            f"delay (moment to registration, {scale}): median "
            f"{statistics.median(delays):.1f}, worst {max(delays):.1f} "
            f"(each: {', '.join(f'{d:.0f}' for d in delays)})"
        )
    print(
        f"RSS MiB: first {rss[0][1] / mib:.0f}; after the first 10 min (or half): median "
        f"{statistics.median(settled) / mib:.0f}, "
        f"peak {max(settled) / mib:.0f}, last {settled[-1] / mib:.0f}"
    )
    quarter = len(settled) // 4
    if quarter:
        early = statistics.median(settled[:quarter]) / mib
        late = statistics.median(settled[-quarter:]) / mib
        print(
            f"RSS MiB: median of the first quarter after 10 min {early:.0f}, of the last {late:.0f}"
        )
    print(
        f"CPU: {cpu:.0f} s for {media_s:.0f} s of stream = {100 * cpu / media_s:.1f}% of one core, "
        f"{50 * cpu / media_s:.1f}% of 2 cores, at real time"
    )
    print(f"pieces left: {len(list((work / 'out').rglob('piece-*')))}")


if __name__ == "__main__":
    main()
