"""Simulated stream chats: everyday chatter, audience reactions, and spam that is not one.

Everyday chatter: a crowd of regulars posting at random (Poisson) with ordinary words. A
*reaction* to a moment at ``t``: many different people post within a few seconds, starting
``lag`` seconds later (laughter, emotes, "clip it", capitals). Decoys that are not reactions:
one user flooding, a timer bot posting every 60 s, a raid's burst of greetings.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

WORDS = [
    "what",
    "is",
    "this",
    "game",
    "again",
    "nice",
    "play",
    "bro",
    "the",
    "chat",
    "is",
    "slow",
    "today",
    "gg",
    "wp",
    "when",
    "is",
    "the",
    "next",
    "stream",
    "did",
    "you",
    "see",
    "that",
    "earlier",
    "i",
    "think",
    "he",
    "is",
    "right",
    "no",
    "way",
    "that",
    "was",
    "close",
    "lets",
    "go",
]
LAUGH = ("KEKW", "LUL", "OMEGALUL", "lol", "LMAO", "xd", "ICANT", "KEKW KEKW")
HYPE = ("CLIP IT", "clip that", "NO WAY", "WHAT", "POGGERS", "!!!", "LETS GOOO")


def chatter(rng: random.Random, duration_s: float, *, rate: float, crowd: int) -> list[dict]:
    messages, t = [], 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= duration_s:
            return messages
        words = rng.sample(WORDS, rng.randint(2, 7))
        messages.append(
            {"t": round(t, 2), "user": f"viewer{rng.randrange(crowd)}", "text": " ".join(words)}
        )


def reaction(rng: random.Random, t: float, *, lag: float, people: int, kind: str) -> list[dict]:
    pool = LAUGH if kind == "laugh" else HYPE
    return [
        {
            "t": round(t + lag + rng.uniform(0, 4), 2),
            "user": f"fan{rng.randrange(10_000)}",
            "text": rng.choice(pool),
        }
        for _ in range(people)
    ]


def single_user_flood(t: float, *, count: int = 40) -> list[dict]:
    return [
        {"t": round(t + 0.2 * i, 2), "user": "spammer", "text": "KEKW KEKW KEKW"}
        for i in range(count)
    ]


def timer_bot(duration_s: float, *, every_s: float = 60.0) -> list[dict]:
    return [
        {"t": t, "user": "TimerBot", "text": "Follow the socials! Use code KICK for 10%"}
        for t in [every_s * k + 7.0 for k in range(int(duration_s // every_s))]
    ]


def raid(rng: random.Random, t: float, *, people: int = 40) -> list[dict]:
    notice = {"t": t, "user": "kick", "text": "raided with 40 viewers", "kind": "system"}
    hellos = [
        {
            "t": round(t + rng.uniform(0, 5), 2),
            "user": f"raider{i}",
            "text": rng.choice(("hi", "hello", "HELLO", "hey o/", "hi hi")),
        }
        for i in range(people)
    ]
    return [notice, *hellos]


def write_jsonl(path: Path, messages: list[dict]) -> Path:
    ordered = sorted(messages, key=lambda m: m["t"])
    path.write_text("".join(json.dumps(m) + "\n" for m in ordered))
    return path
