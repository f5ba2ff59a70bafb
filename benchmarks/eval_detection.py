"""Detection quality on synthetic streams with known events and decoys.

Each stream (10 minutes, 320x180, 2 s keyframes) holds known events — loud bursts with
action, audio-only bursts, visual-only action — and decoys that must not fire: a long steady
loud stretch (music, a fan) and calm scene cuts. A highlight "hits" an event when its peak
lies within the event (up to 6 s long) ± 3 s and its type can see it (audio for bursts,
video for action). Reports recall per event kind, precision, and how many decoys fire and
where they rank, for the default and the ``--thorough`` mode.

Usage: uv run python benchmarks/eval_detection.py
"""

from __future__ import annotations

import random
from pathlib import Path

from kickclip.analyze import extract_features
from kickclip.demo import synthesize_stream
from kickclip.detect import find_highlights
from kickclip.ingest import open_source

CACHE = Path(__file__).parent / ".cache" / "eval"
DURATION_S = 600.0
TOLERANCE_S = 3.0


def plan(seed: int) -> dict:
    """Events spread over the stream, at least 40 s apart, plus the decoys."""
    rng = random.Random(seed)
    slots = list(range(20, int(DURATION_S) - 20, 40))
    rng.shuffle(slots)
    steady = (slots.pop(), 0)
    steady = (steady[0], steady[0] + 150)
    free = [s for s in slots if not steady[0] - 25 <= s <= steady[1] + 25]
    both, audio_only, video_only, cuts = free[:3], free[3:6], free[6:9], free[9:12]
    return {
        "both": both,
        "audio": audio_only,
        "video": video_only,
        "cuts": cuts,
        "steady": steady,
        "media": {
            "bursts": [(t, t + rng.uniform(2, 5)) for t in both + audio_only],
            "action": [(t, t + rng.uniform(3, 6)) for t in both + video_only],
            "cuts": cuts,
            "steady_loud": [steady],
        },
    }


def evaluate(thorough: bool, seeds: range) -> dict:
    totals = {"both": [0, 0], "audio": [0, 0], "video": [0, 0]}
    true_positive = highlights_total = decoys_fired = decoys_top_half = 0
    for seed in seeds:
        events = plan(seed)
        path = CACHE / f"stream_{seed}.mp4"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            synthesize_stream(
                path, duration_s=DURATION_S, size=(320, 180), fps=15, seed=seed, **events["media"]
            )
        features = extract_features(open_source(str(path)), thorough=thorough)
        highlights = find_highlights(features, clip_duration_s=20, min_gap_s=20, top=20)
        highlights_total += len(highlights)

        def near(h, times):
            return any(t - TOLERANCE_S <= h.peak_s <= t + 6 + TOLERANCE_S for t in times)

        for kind, times in (
            ("both", events["both"]),
            ("audio", events["audio"]),
            ("video", events["video"]),
        ):
            for t in times:
                totals[kind][1] += 1
                totals[kind][0] += any(
                    near(h, [t]) and kind in ("both", h.clip_type) for h in highlights
                )
        events_all = events["both"] + events["audio"] + events["video"]
        for rank, h in enumerate(highlights):
            if near(h, events_all):
                true_positive += 1
                continue
            steady_start, steady_end = events["steady"]
            decoy = steady_start - TOLERANCE_S <= h.peak_s <= steady_end + TOLERANCE_S or any(
                abs(h.peak_s - c) <= TOLERANCE_S for c in events["cuts"]
            )
            decoys_fired += decoy
            decoys_top_half += decoy and rank < len(highlights) / 2
    recall = {kind: hit / n for kind, (hit, n) in totals.items()}
    events_found = sum(hit for hit, _ in totals.values())
    events_n = sum(n for _, n in totals.values())
    precision = true_positive / max(highlights_total, 1)
    overall = events_found / events_n
    return {
        "recall": recall,
        "overall_recall": overall,
        "precision": precision,
        "f1": 2 * precision * overall / max(precision + overall, 1e-9),
        "decoys_fired": decoys_fired,
        "decoys_top_half": decoys_top_half,
        "highlights": highlights_total,
    }


def main() -> None:
    seeds = range(3)
    print(
        f"{len(seeds)} synthetic streams × {DURATION_S / 60:g} min; each: 3 loud bursts with "
        "action, 3 audio-only bursts, 3 visual-only actions, a 150 s steady loud stretch, "
        "3 calm cuts\n"
    )
    print(
        "| mode | recall burst+action | recall audio-only | recall visual-only | precision "
        "| F1 | decoys fired | decoys in top half |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for thorough in (False, True):
        r = evaluate(thorough, seeds)
        print(
            f"| {'thorough' if thorough else 'default'} | {r['recall']['both']:.2f} | "
            f"{r['recall']['audio']:.2f} | {r['recall']['video']:.2f} | {r['precision']:.2f} "
            f"| {r['f1']:.2f} | {r['decoys_fired']} | {r['decoys_top_half']} |"
        )


if __name__ == "__main__":
    main()
