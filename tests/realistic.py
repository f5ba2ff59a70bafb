"""Streams built from material nobody here made: recorded speech as the talk, real footage.

The talk is LibriVox and other recorded speech from Debian's ``pocketsphinx-testdata``
(``scripts/test`` installs it), concatenated in a random order with natural pauses, its level
moving once a second by up to ``swing_db``. Planted events: shouts (the speech itself, 10-15 dB
louder and saturated), crowd cheers, game sound effects (explosions, gunfire), fast visual
action. Decoys that must not fire: a long music bed and calm hard scene cuts. The picture is
real footage (``footage``: any video file, looped and scaled) or, without one, a slowly
panning texture. The event plan is returned so an evaluation can score what was found.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RATE_HZ = 16_000
SPEECH_DIR = Path("/usr/share/pocketsphinx/test/data")
TALK_DB = -26.0  # the talk's nominal level (RMS of active speech, dBFS)
Span = tuple[float, float]


@dataclass
class Plan:
    """What was planted where, in seconds from the start."""

    duration_s: float
    shout: list[Span] = field(default_factory=list)
    cheer: list[Span] = field(default_factory=list)
    sfx: list[Span] = field(default_factory=list)
    action: list[Span] = field(default_factory=list)
    both: list[Span] = field(default_factory=list)  # a shout together with action
    music: list[Span] = field(default_factory=list)
    cuts: list[float] = field(default_factory=list)

    def audio_events(self) -> list[Span]:
        return self.shout + self.cheer + self.sfx + self.both

    def video_events(self) -> list[Span]:
        return self.action + self.both


def plan_events(
    duration_s: float, seed: int, *, per_kind: int = 3, music_s: float = 90.0, cuts: int = 3
) -> Plan:
    """``per_kind`` events of each kind at least 30 s apart, a music bed, calm cuts."""
    rng = random.Random(seed)
    slot_s = 30.0
    slots = list(range(1, int(duration_s // slot_s) - 1))
    rng.shuffle(slots)
    plan = Plan(duration_s)
    music_slots = int(np.ceil(music_s / slot_s)) + 1
    first = next(s for s in sorted(slots) if all(s + k in slots for k in range(music_slots + 1)))
    music_start = (first + 0.5) * slot_s
    plan.music.append((music_start, music_start + music_s))
    free = [s for s in slots if not first - 1 <= s <= first + music_slots]
    for kind in ("shout", "cheer", "sfx", "action", "both"):
        for _ in range(per_kind):
            start = free.pop() * slot_s + rng.uniform(5, 15)
            length = rng.uniform(2.0, 4.5)
            getattr(plan, kind).append((start, start + length))
    for _ in range(cuts):
        plan.cuts.append(free.pop() * slot_s + rng.uniform(5, 20))
    return plan


# --- sound -----------------------------------------------------------------------------------


def _read_audio(path: Path) -> np.ndarray:
    if path.suffix == ".raw":
        return np.frombuffer(path.read_bytes(), dtype="<i2").astype(np.float32) / 32768
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE_HZ)
        chunks = [
            mono.to_ndarray()[0]
            for frame in container.decode(audio=0)
            for mono in resampler.resample(frame)
        ]
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def _active_rms_db(x: np.ndarray) -> float:
    frames = x[: len(x) // 800 * 800].reshape(-1, 800)
    power = (frames**2).mean(axis=1) + 1e-12
    loud = power[10 * np.log10(power) > 10 * np.log10(power.max()) - 30]
    return float(10 * np.log10(loud.mean()))


def speech_clips(paths: list[Path] | None = None) -> list[np.ndarray]:
    """Recorded speech utterances (Debian's by default), each scaled to the talk's level.

    Recordings are cut at their long pauses, so each utterance is speech.
    """
    if paths is None:
        paths = sorted(SPEECH_DIR.glob("librivox/*.wav")) + sorted(SPEECH_DIR.glob("cards/*.wav"))
        paths += sorted(SPEECH_DIR.glob("*.raw"))
    if not paths:
        raise FileNotFoundError(
            f"no recorded speech in {SPEECH_DIR}: install Debian's pocketsphinx-testdata"
        )
    clips = []
    for path in paths:
        for x in _utterances(_read_audio(path)):
            if len(x) > RATE_HZ:
                clips.append(x * 10 ** ((TALK_DB - _active_rms_db(x)) / 20))
    return clips


def _utterances(x: np.ndarray, *, pause_s: float = 1.0) -> list[np.ndarray]:
    """The recording cut at its pauses longer than ``pause_s`` (40 dB under its loudest)."""
    hop = 800
    frames = x[: len(x) // hop * hop].reshape(-1, hop)
    power = 10 * np.log10((frames**2).mean(axis=1) + 1e-12)
    quiet = np.concatenate([[False], power < power.max() - 40, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(int)))
    runs = [(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    long = [(a, b) for a, b in runs if b - a >= pause_s * RATE_HZ / hop]
    bounds = [0] + [i for run in long for i in run] + [len(frames)]
    return [frames[a:b].ravel() for a, b in zip(bounds[::2], bounds[1::2], strict=True) if b > a]


def talk_track(n: int, clips: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Utterances one after another in a random order, with pauses of 0.15-1.2 s."""
    out = np.zeros(n, np.float32)
    at = 0
    while at < n:
        clip = clips[rng.integers(len(clips))]
        end = min(at + len(clip), n)
        out[at:end] = clip[: end - at]
        at = end + int(rng.uniform(0.15, 1.2) * RATE_HZ)
    return out


def level_walk(n: int, swing_db: float, rng: np.random.Generator) -> np.ndarray:
    """A gain that takes a new level in ±swing_db every second (50 ms ramps)."""
    seconds = n // RATE_HZ + 2
    levels = rng.uniform(-swing_db, swing_db, seconds)
    ramp = int(0.05 * RATE_HZ)
    steps = np.repeat(levels, RATE_HZ)[:n]
    kernel = np.ones(ramp) / ramp
    smooth = np.convolve(np.pad(steps, (ramp, ramp), mode="edge"), kernel, mode="same")
    return (10 ** (smooth[ramp : ramp + n] / 20)).astype(np.float32)


def _envelope(n: int, attack_s: float, release_s: float) -> np.ndarray:
    t = np.arange(n) / RATE_HZ
    return np.minimum(1.0, t / attack_s) * np.minimum(1.0, (n / RATE_HZ - t) / release_s)


def _voiced(x: np.ndarray) -> np.ndarray:
    """The utterance without its pauses (50 ms frames more than 25 dB under its loudest)."""
    frames = x[: len(x) // 800 * 800].reshape(-1, 800)
    power = 10 * np.log10((frames**2).mean(axis=1) + 1e-12)
    return frames[power > power.max() - 25].ravel()


def shout(n: int, clips: list[np.ndarray], level_db: float, rng: np.random.Generator):
    """Speech without pauses at ``level_db`` (10-15 dB above the talk), strained (saturated)."""
    voice = np.concatenate([_voiced(clips[rng.integers(len(clips))]) for _ in range(6)])
    voice = np.tile(voice, n // max(len(voice), 1) + 1)
    start = rng.integers(0, max(1, len(voice) - n))
    piece = voice[start : start + n]
    strained = np.tanh(_at_level(piece, level_db + 4) * 2) / 2
    return (_at_level(strained, level_db) * _envelope(n, 0.05, 0.1)).astype(np.float32)


def _band_noise(n: int, rng: np.random.Generator, low_hz: float, high_hz: float) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / RATE_HZ)
    spectrum[(freqs < low_hz) | (freqs > high_hz)] = 0
    return np.fft.irfft(spectrum, n)


def _at_level(x: np.ndarray, db: float) -> np.ndarray:
    rms = np.sqrt(np.mean(x**2)) + 1e-12
    return x * (10 ** (db / 20) / rms)


def cheer(n: int, level_db: float, rng: np.random.Generator) -> np.ndarray:
    """A crowd: many voices as band noise with their own syllable envelopes, and claps."""
    t = np.arange(n) / RATE_HZ
    crowd = np.zeros(n)
    for _ in range(12):
        rate = rng.uniform(2, 6)
        crowd += _band_noise(n, rng, 300, 3500) * (
            0.5 + 0.5 * np.sin(2 * np.pi * rate * t + rng.uniform(0, 6)) ** 2
        )
    claps = np.zeros(n)
    for at in rng.uniform(0, n, int(12 * n / RATE_HZ)).astype(int):
        length = min(int(0.006 * RATE_HZ), n - at)
        claps[at : at + length] += rng.standard_normal(length) * 4
    mix = _at_level(crowd, 0) + _at_level(claps, -4)
    return (_at_level(mix, level_db) * _envelope(n, 0.3, 0.6)).astype(np.float32)


def sound_effect(n: int, level_db: float, rng: np.random.Generator) -> np.ndarray:
    """Game sound: an explosion (low rumble, long decay) or a burst of gunfire."""
    t = np.arange(n) / RATE_HZ
    if rng.random() < 0.5:
        rumble = _band_noise(n, rng, 20, 900) * np.exp(-t / 0.7)
        crack = _band_noise(n, rng, 900, 6000) * np.exp(-t / 0.08)
        effect = rumble + 0.5 * crack
    else:
        effect = np.zeros(n)
        for at in np.arange(0, n / RATE_HZ - 0.1, rng.uniform(0.08, 0.14)):
            i = int(at * RATE_HZ)
            length = min(int(0.06 * RATE_HZ), n - i)
            effect[i : i + length] += rng.standard_normal(length) * np.exp(
                -np.arange(length) / (0.012 * RATE_HZ)
            )
    return (_at_level(effect, level_db) * _envelope(n, 0.01, 0.2)).astype(np.float32)


def music(n: int, level_db: float, rng: np.random.Generator) -> np.ndarray:
    """A steady music bed: chords, bass, kick and hi-hat on a 120 bpm grid."""
    t = np.arange(n) / RATE_HZ
    roots = [220.0, 174.6, 261.6, 196.0]
    out = np.zeros(n)
    bar = 2.0
    chord_index = (t // bar).astype(int) % len(roots)
    root = np.array(roots)[chord_index]
    for ratio, amp in ((1, 0.3), (1.26, 0.2), (1.5, 0.2), (2, 0.1)):
        out += amp * np.sin(2 * np.pi * root * ratio * t)
    out += 0.4 * np.sin(2 * np.pi * root / 4 * t)
    beat = t % 0.5
    out += 0.8 * np.sin(2 * np.pi * 55 * beat) * np.exp(-beat / 0.08)
    half = t % 0.25
    out += 0.15 * rng.standard_normal(n) * np.exp(-half / 0.02)
    return (_at_level(out, level_db) * _envelope(n, 1.0, 1.0)).astype(np.float32)


def ambience(
    n: int, path: Path | None, rng: np.random.Generator, below_talk_db: float = 22.0
) -> np.ndarray:
    """A quiet room or game bed under everything: a real recording looped, else pink noise."""
    if path is not None and path.exists():
        bed = _read_audio(path)
        bed = np.tile(bed, n // max(len(bed), 1) + 1)[:n]
    else:
        spectrum = np.fft.rfft(rng.standard_normal(n))
        spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(n, 1 / RATE_HZ), 20))
        bed = np.fft.irfft(spectrum, n)
    return _at_level(bed, TALK_DB - below_talk_db).astype(np.float32)


def soundtrack(
    plan: Plan,
    *,
    swing_db: float,
    seed: int,
    clips: list[np.ndarray] | None = None,
    ambience_path: Path | None = None,
    ambience_below_db: float = 22.0,
) -> np.ndarray:
    """The whole stream's mono audio at RATE_HZ."""
    rng = np.random.default_rng(seed)
    clips = clips if clips is not None else speech_clips()
    n = int(plan.duration_s * RATE_HZ)
    talk = talk_track(n, clips, rng) * level_walk(n, swing_db, rng)
    mix = talk + ambience(n, ambience_path, rng, ambience_below_db)

    def span(start: float, end: float) -> slice:
        return slice(int(start * RATE_HZ), min(int(end * RATE_HZ), n))

    def talk_db(start: float, end: float) -> float:
        """The talk's energy level over the 30 s around a span: what "louder" is judged by."""
        around = talk[span(start - 15, end + 15)]
        return float(10 * np.log10(np.mean(around**2) + 1e-12))

    for start, end in plan.shout + plan.both:
        s = span(start, end)
        level = talk_db(start, end) + rng.uniform(10, 15)
        mix[s] = shout(s.stop - s.start, clips, level, rng) + mix[s] * 0.1
    for start, end in plan.cheer:
        s = span(start, end)
        mix[s] += cheer(s.stop - s.start, talk_db(start, end) + rng.uniform(10, 14), rng)
    for start, end in plan.sfx:
        s = span(start, end)
        mix[s] += sound_effect(s.stop - s.start, talk_db(start, end) + rng.uniform(11, 16), rng)
    for start, end in plan.music:
        s = span(start, end)
        mix[s] += music(s.stop - s.start, talk_db(start, end) + rng.uniform(3, 6), rng)
    return np.clip(mix, -1, 1).astype(np.float32)


# --- picture ---------------------------------------------------------------------------------


def footage_frames(path: Path | None, size: tuple[int, int], fps: int) -> np.ndarray | None:
    """Every frame of a real video, scaled to ``size`` at ``fps`` (None without a file)."""
    if path is None or not path.exists():
        return None
    width, height = size
    frames, next_t = [], 0.0
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is None or frame.time + 1e-6 < next_t:
                continue
            next_t += 1 / fps
            frames.append(frame.reformat(width=width, height=height, format="rgb24").to_ndarray())
    return np.stack(frames) if frames else None


def _pan_frame(index: int, fps: int, size: tuple[int, int], texture: np.ndarray) -> np.ndarray:
    width, height = size
    x = int(index * 40 / fps) % (texture.shape[1] - width)
    return texture[:height, x : x + width]


def write_stream(
    path: Path,
    plan: Plan,
    audio: np.ndarray | None,
    *,
    footage: np.ndarray | None = None,
    size: tuple[int, int] = (320, 180),
    fps: int = 15,
    keyframe_interval_s: float = 2.0,
    seed: int = 0,
) -> Path:
    """Encode the planned picture (H.264) and ``audio`` (AAC) into ``path``."""
    rng = np.random.default_rng(seed)
    width, height = size
    texture = (rng.random((height, width * 4, 3)) * 60 + 80).astype(np.uint8)
    texture = np.repeat(np.repeat(texture[::8, ::8], 8, 0), 8, 1)[:height, : width * 4]
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.gop_size = max(1, round(keyframe_interval_s * fps))
        video.options = {"preset": "ultrafast", "bf": "0"}
        astream = None
        if audio is not None:
            astream = container.add_stream("aac", rate=RATE_HZ)
            astream.layout = "mono"
        action = plan.action + plan.both
        offset, tint, sent = 0, np.zeros(3), 0
        cuts = sorted(plan.cuts)
        for index in range(int(plan.duration_s * fps)):
            t = index / fps
            while cuts and cuts[0] <= t:
                cuts.pop(0)
                offset += int(rng.integers(fps * 3, fps * 20))
                tint = rng.uniform(-40, 40, 3)
            if footage is not None:
                img = footage[(index + offset) % len(footage)].astype(np.float32)
            else:
                img = _pan_frame(index + offset, fps, size, texture).astype(np.float32)
            img = img + tint
            if any(start <= t < end for start, end in action):
                img = np.roll(img, (rng.integers(-12, 13), rng.integers(-16, 17)), (0, 1))
                block = width // 6
                for _ in range(8):
                    bx, by = rng.integers(0, width - block), rng.integers(0, height - block)
                    img[by : by + block, bx : bx + block] = rng.integers(0, 256, (block, block, 3))
                if rng.random() < 0.3:
                    img = img * 1.5
            frame = av.VideoFrame.from_ndarray(np.clip(img, 0, 255).astype(np.uint8), "rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(video.encode(frame))
            if astream is not None:
                sent = _send_audio(container, astream, audio, sent, int((t + 1) * RATE_HZ))
        container.mux(video.encode(None))
        if astream is not None:
            _send_audio(container, astream, audio, sent, len(audio))
            container.mux(astream.encode(None))
    return path


def _send_audio(container, stream, audio: np.ndarray, sent: int, until: int) -> int:
    """Encode ``audio[sent:until]`` in 1024-sample frames (interleaved with the picture)."""
    while sent + 1024 <= min(until, len(audio)) or (until >= len(audio) > sent):
        chunk = audio[sent : sent + 1024]
        frame = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
        frame.sample_rate, frame.pts = RATE_HZ, sent
        frame.time_base = Fraction(1, RATE_HZ)
        container.mux(stream.encode(frame))
        sent += len(chunk)
    return sent
