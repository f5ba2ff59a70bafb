"""Detection quality on streams of another origin: recorded speech, real footage, real files.

Part 1, planted events: 15-minute streams whose talk is recorded LibriVox speech (Debian's
``pocketsphinx-testdata``), its level moving once a second by up to ±0, ±3, ±6 or ±10 dB, over
a quiet real rain recording; the picture is real footage (Big Buck Bunny, the auto-editor
talking-head example) looped. Each stream holds 3 shouts, 3 crowd cheers, 3 game sound effects,
3 visual actions and 3 shouts with action (10-16 dB above the talk's level around them), and
decoys that must not fire: a 90 s music bed and 3 calm hard cuts (see ``tests/realistic.py``).

A highlight *reports* an event when its score is ≥ 0.5 (the calibrated "stands out" point) and
its peak lies inside the event ± 3 s, on a side that can perceive it (audio for shouts, cheers,
sound effects; video for action; either for both). Recall per kind and precision are counted
at that point; "R-prec" ranks each side's top-K against its K planted events. Decoys: how
many highlights (any score, ``--top 20``) sit on the music bed or a calm cut, and how many of
them rank in the top half.

Part 2, real files from public repositories (auto-editor, moviepy), with what a person sees.

Usage: uv run python benchmarks/eval_detection.py [--seeds 3] [--quick]
Real files are read from ``benchmarks/.cache/real/`` (see ``REAL_FILES`` for their origin);
missing ones are skipped with a note.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

import realistic
from kickclip.analyze import extract_features
from kickclip.detect import find_highlights
from kickclip.ingest import open_source

CACHE = Path(__file__).parent / ".cache"
REAL = CACHE / "real"
DURATION_S = 900.0
TOLERANCE_S = 3.0
OTHER_VOICES = ("auto-editor-example.mp4", "new-commentary.mp3")


@dataclass(frozen=True)
class Condition:
    label: str
    swing_db: float  # the talk's level moves once a second by up to this much
    voices: tuple[str, ...] = ()  # real files the talk is cut from; () = Debian's LibriVox
    bed_below_db: float = 22.0  # the rain recording under the talk, this far below it

    @property
    def slug(self) -> str:
        return f"{self.swing_db:g}db_{'other' if self.voices else 'librivox'}_{self.bed_below_db:g}"


CONDITIONS = (
    Condition("steady", 0.0),
    Condition("±3 dB", 3.0),
    Condition("±6 dB", 6.0),
    Condition("±10 dB", 10.0),
    Condition("±6 dB, other voices", 6.0, voices=OTHER_VOICES),
    Condition("±6 dB, loud rain bed (-10 dB)", 6.0, bed_below_db=10.0),
)
REPORT = 0.5
FOOTAGE = ("big_buck_bunny_0_30.webm", "big_buck_bunny_0_30.webm", "auto-editor-example.mp4")

# Regression fixtures: file, origin, what a person sees and hears, and the check.
REAL_FILES = {
    "man-on-green-screen.mp4": "auto-editor resources/only-video/man-on-green-screen.mp4",
    "big_buck_bunny_0_30.webm": "moviepy media/big_buck_bunny_0_30.webm",
    "auto-editor-example.mp4": "auto-editor example.mp4",
    "chaplin.mp4": "moviepy media/chaplin.mp4",
    "fire2.mp4": "moviepy media/fire2.mp4",
    "smpte-2997.mp4": "moviepy media/smpte-2997.mp4",
    "moviepy-long-example.mp4": "moviepy media/doc_medias/long_examples/example.mp4",
}


def stream_path(condition: Condition, seed: int) -> Path:
    """Build (once) the stream of one condition and seed."""
    path = CACHE / "eval" / f"speech_{condition.slug}_{seed}.mp4"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    plan = realistic.plan_events(DURATION_S, seed)
    voices = [REAL / name for name in condition.voices if (REAL / name).exists()]
    audio = realistic.soundtrack(
        plan,
        swing_db=condition.swing_db,
        seed=seed,
        clips=realistic.speech_clips(voices) if condition.voices else None,
        ambience_path=REAL / "rain.mp3",
        ambience_below_db=condition.bed_below_db,
    )
    footage = realistic.footage_frames(REAL / FOOTAGE[seed % len(FOOTAGE)], (320, 180), 15)
    part = path.with_name(f".{path.name}")
    realistic.write_stream(part, plan, audio, footage=footage, seed=seed)
    part.replace(path)
    return path


def _hits(peak_s: float, spans) -> bool:
    return any(start - TOLERANCE_S <= peak_s <= end + TOLERANCE_S for start, end in spans)


def evaluate(condition: Condition, seeds: range, thorough: bool) -> dict:
    kinds = ("shout", "cheer", "sfx", "action", "both")
    found = {k: [0, 0] for k in kinds}
    reported = true_reports = decoys = decoys_top = decoys_reported = 0
    r_hits = r_total = 0
    for seed in seeds:
        plan = realistic.plan_events(DURATION_S, seed)
        features = extract_features(
            open_source(str(stream_path(condition, seed))), thorough=thorough
        )
        highlights = find_highlights(features, clip_duration_s=20, min_gap_s=20, top=20)
        seen = {"audio": plan.audio_events(), "video": plan.video_events()}
        strong = [h for h in highlights if h.score >= REPORT]
        for kind in kinds:
            for span in getattr(plan, kind):
                sides = {"action": ("video",), "both": ("audio", "video")}.get(kind, ("audio",))
                found[kind][1] += 1
                found[kind][0] += any(
                    h.clip_type in sides and _hits(h.peak_s, [span]) for h in strong
                )
        reported += len(strong)
        true_reports += sum(_hits(h.peak_s, seen[h.clip_type]) for h in strong)
        for side, events in seen.items():
            ranked = [h for h in highlights if h.clip_type == side][: len(events)]
            r_hits += sum(_hits(h.peak_s, events) for h in ranked)
            r_total += len(events)
        cuts = [(t, t) for t in plan.cuts]
        for rank, h in enumerate(highlights):
            decoy = not _hits(h.peak_s, seen[h.clip_type]) and (
                _hits(h.peak_s, plan.music) or _hits(h.peak_s, cuts)
            )
            decoys += decoy
            decoys_top += decoy and rank < len(highlights) / 2
            decoys_reported += decoy and h.score >= REPORT
    return {
        "recall": {k: hit / n for k, (hit, n) in found.items()},
        "precision": true_reports / max(reported, 1),
        "r_precision": r_hits / max(r_total, 1),
        "decoys": decoys,
        "decoys_top": decoys_top,
        "decoys_reported": decoys_reported,
    }


def planted(seeds: range, modes: tuple[bool, ...]) -> None:
    print(
        f"{len(seeds)} streams × {DURATION_S / 60:g} min per condition; per stream 3 shouts, "
        "3 cheers, 3 sound effects, 3 actions, 3 shouts with action; decoys: 90 s music bed, "
        "3 calm cuts\n"
    )
    print(
        "| talk level | mode | shout | cheer | sound effect | action | shout + action "
        "| precision | R-prec | decoys in top 20 | in top half | scored ≥ 0.5 |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for condition in CONDITIONS:
        for thorough in modes:
            r = evaluate(condition, seeds, thorough)
            rec = r["recall"]
            mode = "thorough" if thorough else "default"
            print(
                f"| {condition.label} | {mode} | {rec['shout']:.2f} | {rec['cheer']:.2f} "
                f"| {rec['sfx']:.2f} | {rec['action']:.2f} | {rec['both']:.2f} "
                f"| {r['precision']:.2f} | {r['r_precision']:.2f} | {r['decoys']} "
                f"| {r['decoys_top']} | {r['decoys_reported']} |",
                flush=True,
            )


def _describe(path: Path, clip_s: float) -> str:
    features = extract_features(open_source(str(path)))
    highlights = find_highlights(features, clip_duration_s=clip_s, min_gap_s=clip_s, top=5)
    values = [v for h in highlights for v in h.features.values()]
    largest = max((abs(v) for v in values), default=0.0)
    best = {}
    for side in ("audio", "video"):
        side_h = [h for h in highlights if h.clip_type == side]
        best[side] = (
            f"{side_h[0].start_s:.1f}-{side_h[0].end_s:.1f} s ({side_h[0].score:.2f})"
            if side_h
            else "none"
        )
    return f"{best['audio']} | {best['video']} | {largest:.3g}"


def real_files() -> None:
    print(
        "\n| file (origin) | clip s | best audio (score) | best video (score) | largest feature |"
    )
    print("| --- | ---: | --- | --- | ---: |")
    for name, origin in REAL_FILES.items():
        path = REAL / name
        if not path.exists():
            print(f"| {name} ({origin}) | | missing: fetch it into {REAL} | | |")
            continue
        clip_s = 5.0
        print(f"| {name} ({origin}) | {clip_s:g} | {_describe(path, clip_s)} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="default mode only")
    parser.add_argument("--real-only", action="store_true")
    args = parser.parse_args()
    if not args.real_only:
        planted(range(args.seeds), (False,) if args.quick else (False, True))
    real_files()


if __name__ == "__main__":
    main()
