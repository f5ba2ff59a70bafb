"""Do clips open and close mid-word or mid-sentence? Before (``--no-words``) and after.

Real speech that is not LibriVox, in ``benchmarks/.cache/real/speech/``:

- *meeting*: 14 excerpts of the AMI Meeting Corpus (CC BY 4.0), 30 s each, 2-4 speakers, as
  pyannote-audio's ``tests/data/*.wav`` ship them, played one after another (7 minutes);
- *debate*: VoxConverse's ``aepyx`` (CC BY 4.0, research use), 169 s of a broadcast debate with
  four speakers, as silero-vad's ``examples/c++/aepyx_8k.wav`` ships it (8 kHz).

Crowd cheers and game sounds are planted over the talk every 30-40 s (at random offsets), so
the detector's windows fall wherever the talk happens to be, as on a stream. Each stream goes
through ``pipeline.generate`` twice, words off and on (15 s clips, 10 s apart), and every
clip's start and end as stored (where its file begins and ends) is judged:

- *mid-word* by the talk's own loudness (no model): the talk track, without the planted
  sounds, is within 15 dB of its speech level in the 60 ms around the boundary. (Whisper's
  word times on the whole track were tried as the judge and are too loose for it: tiny.en put
  "what" over 0.3 s of digital silence.)
- *mid-sentence* by a reference transcript of the whole talk track (Whisper tiny.en, its own
  punctuation): mid-word, or words on both sides under 1.5 s away and the one before the
  boundary not ending a sentence.

    uv run python benchmarks/bench_boundaries.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

import realistic
from kickclip import pipeline
from kickclip.records import Word
from kickclip.settings import Settings
from kickclip.words.boundaries import SENTENCE_END, Loudness
from kickclip.words.speech import SAMPLE_RATE_HZ, listener, read_audio

SPEECH = Path(__file__).parent / ".cache" / "real" / "speech"
RATE = SAMPLE_RATE_HZ
CLIP_S, GAP_S = 15.0, 10.0
NEAR_S = 1.5
IN_SPEECH_DB = 15.0


@dataclass
class Material:
    name: str
    files: list[Path]


def materials() -> list[Material]:
    meeting = sorted(SPEECH.glob("[dt]*.wav"))
    debate = sorted(SPEECH.glob("aepyx*.wav"))
    found = [Material("meeting (AMI)", meeting), Material("debate (VoxConverse)", debate)]
    missing = [m.name for m in found if not m.files]
    if missing:
        sys.exit(f"missing speech in {SPEECH}: {', '.join(missing)} (see this file's docstring)")
    return found


def talk_track(files: list[Path]) -> np.ndarray:
    parts = [read_audio(str(path), 0.0, 10_000.0) for path in files]
    pause = np.zeros(int(0.4 * RATE), dtype=np.float32)
    return np.concatenate([x for part in parts for x in (part, pause)])


def build(material: Material, folder: Path, seed: int) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(seed)
    talk = talk_track(material.files)
    talk = talk / (np.sqrt(np.mean(talk**2)) + 1e-9) * 10 ** (-26 / 20)
    duration_s = len(talk) / RATE
    mix = talk.copy()
    at = 15.0
    while at < duration_s - 10:
        n = int(rng.uniform(2.0, 4.0) * RATE)
        sound = (realistic.cheer if rng.random() < 0.5 else realistic.sound_effect)(n, -12, rng)
        first = int(at * RATE)
        mix[first : first + n] += sound[: len(mix) - first]
        at += rng.uniform(30, 40)
    plan = realistic.Plan(duration_s)
    path = folder / f"{material.name.split()[0]}.mp4"
    realistic.write_stream(path, plan, np.clip(mix, -1, 1).astype(np.float32), seed=seed)
    return path, talk.astype(np.float32)


def reference(talk: np.ndarray) -> tuple[list[Word], Loudness]:
    loudness = Loudness(talk, 0.0, RATE)
    return list(loudness.tighten(listener().hear(talk, 0.0))), loudness


def judge(edge: float, words: list[Word], loudness: Loudness, talk: np.ndarray) -> dict:
    part = talk[max(int((edge - 0.03) * RATE), 0) : int((edge + 0.03) * RATE)]
    level = 10 * np.log10(np.mean(np.square(part.astype(np.float64))) + 1e-10)
    mid_word = bool(level > loudness.speech_db - IN_SPEECH_DB)
    middle = [w for w in words if w.start < edge < w.end]
    before = [w for w in words if w.end <= edge] or middle
    after = [w for w in words if w.start >= edge] or middle
    near = bool(before and after) and (
        edge - before[-1].end < NEAR_S and after[0].start - edge < NEAR_S
    )
    ends = bool(before) and before[-1].word.endswith(SENTENCE_END) and not middle
    return {"word": mid_word, "sentence": mid_word or (near and not ends)}


def run(source: Path, folder: Path, words: bool) -> tuple[list[tuple[float, float]], float]:
    settings = Settings(
        db=folder / f"clips-{words}.db",
        out=folder / f"out-{words}",
        models_dir=folder / "models",
        clip_duration=CLIP_S,
        min_gap=GAP_S,
        top=40,
        words=words,
    )
    began = time.perf_counter()
    result = pipeline.generate(str(source), settings)
    spent = time.perf_counter() - began
    return [(c.cut.start_s, c.cut.end_s) for c in result.clips], spent


def main() -> None:
    rows = []
    listener()  # loaded once, outside the timings
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for seed, material in enumerate(materials()):
            source, talk = build(material, folder, seed)
            began = time.perf_counter()
            words, loudness = reference(talk)
            heard_s = time.perf_counter() - began
            duration = len(talk) / RATE
            print(
                f"{material.name}: {duration:.0f} s, {len(words)} reference words, "
                f"heard at {duration / heard_s:.1f}× realtime"
            )
            for with_words in (False, True):
                spans, spent = run(source, folder, with_words)
                judged = [judge(edge, words, loudness, talk) for span in spans for edge in span]
                share = {k: np.mean([j[k] for j in judged]) for k in ("word", "sentence")}
                rows.append(
                    (
                        material.name,
                        "words" if with_words else "--no-words",
                        len(spans),
                        share,
                        spent,
                    )
                )
                print(
                    f"  {rows[-1][1]:>10}: {len(spans)} clips, mid-word {share['word']:.0%}, "
                    f"mid-word or mid-sentence {share['sentence']:.0%} "
                    f"({spent:.1f} s)"
                )
    print("\n| material | run | clips | mid-word | mid-word or mid-sentence | generate |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, mode, clips, share, spent in rows:
        print(
            f"| {name} | {mode} | {clips} | {share['word']:.0%} | {share['sentence']:.0%} | "
            f"{spent:.1f} s |"
        )


if __name__ == "__main__":
    main()
