"""Captions: the clip's words in cues of 1-3 words, as SRT and VTT beside the video (edit the
SRT, hand it back), and painted in a band of the picture, the word being said highlighted.

Pillow draws them (PyAV's FFmpeg has no libass or drawtext), in Montserrat ExtraBold (SIL OFL,
the ``fontpkg-montserrat`` package) with a black outline.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kickclip.errors import InvalidInput
from kickclip.fs import temp_file
from kickclip.records import Word

MAX_WORDS = 3
MAX_CUE_S = 1.6
BREAK_S = 0.6  # a pause this long starts a new cue
HOLD_S = 0.3  # a cue stays up this long after its last word, if nothing follows at once
FONT_WEIGHT = 800  # ExtraBold, on Montserrat's weight axis
TEXT, SPOKEN, OUTLINE = (255, 255, 255), (255, 214, 10), (0, 0, 0)
CAPTIONS = ("burn", "srt", "none")


@dataclass(frozen=True)
class Cue:
    """Words shown together, timed in seconds from the clip's first frame."""

    start: float
    end: float
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(word.word for word in self.words)

    def spoken_at(self, t: float) -> int:
        """Which word is being said at ``t`` (the last one begun)."""
        index = 0
        for i, word in enumerate(self.words):
            if word.start <= t:
                index = i
        return index


def cues_from_words(words: Sequence[Word], clip_start: float, duration: float) -> list[Cue]:
    """Group the words (seconds of the source) into cues timed from the clip's start."""
    shifted = [
        Word(w.word, max(w.start - clip_start, 0.0), min(w.end - clip_start, duration))
        for w in words
        if w.end > clip_start and w.start < clip_start + duration
    ]
    groups: list[list[Word]] = []
    for word in shifted:
        last = groups[-1] if groups else None
        if (
            last is None
            or len(last) >= MAX_WORDS
            or word.start - last[-1].end > BREAK_S
            or word.end - last[0].start > MAX_CUE_S
            or last[-1].word.endswith((".", "?", "!", ",", ";", ":"))
        ):
            groups.append([word])
        else:
            last.append(word)
    cues = []
    for i, group in enumerate(groups):
        following = groups[i + 1][0].start if i + 1 < len(groups) else duration
        end = min(max(group[-1].end + HOLD_S, group[-1].end), following, duration)
        cues.append(Cue(group[0].start, max(end, group[0].start + 0.05), tuple(group)))
    return cues


def write_subtitles(cues: Sequence[Cue], video: Path) -> Path:
    """``video``'s SRT and VTT beside it (each written atomically); the SRT's path."""
    import pysubs2

    subs = pysubs2.SSAFile()
    for cue in cues:
        subs.append(
            pysubs2.SSAEvent(
                start=round(cue.start * 1000), end=round(cue.end * 1000), text=cue.text
            )
        )
    for suffix, name in ((".srt", "srt"), (".vtt", "vtt")):
        _write_atomically(video.with_suffix(suffix), subs.to_string(name))
    return video.with_suffix(".srt")


def read_subtitles(path: Path, duration: float) -> list[Cue]:
    """Cues from an SRT or VTT (edited by hand): each cue's words share its time evenly by
    their length, so the highlight still moves through them."""
    import pysubs2

    try:
        subs = pysubs2.load(str(path))
    except FileNotFoundError:
        raise InvalidInput(f"subtitles not found: {path}") from None
    except (pysubs2.exceptions.Pysubs2Error, UnicodeDecodeError, ValueError) as error:
        raise InvalidInput(f"cannot read subtitles {path}: {error}") from None
    cues = []
    for event in subs:
        words = event.plaintext.split()
        start, end = event.start / 1000, min(event.end / 1000, duration)
        if not words or end <= start:
            continue
        weights = np.cumsum([0] + [len(w) + 1 for w in words])
        times = start + (end - start) * weights / weights[-1]
        cues.append(
            Cue(start, end, tuple(Word(w, times[i], times[i + 1]) for i, w in enumerate(words)))
        )
    return cues


def _write_atomically(path: Path, text: str) -> None:
    fd, part = temp_file(path.parent, f".{path.stem}-", ".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def _font_file() -> str:
    import fontpkg_montserrat

    return str(Path(fontpkg_montserrat.__file__).parent / "files" / "Montserrat[wght].ttf")


class CaptionPainter:
    """Paints the cue of the moment into a band of the frame (RGB, in place)."""

    def __init__(self, cues: Sequence[Cue], size: tuple[int, int], band_centre: float) -> None:
        self.cues = list(cues)
        self.width, self.height = size
        self.centre_y = round(band_centre * self.height)
        self.font_px = max(24, round(self.width * 0.075))
        self._cache: dict[tuple[int, int], _Stamp] = {}

    def cue_at(self, t: float) -> int | None:
        for i, cue in enumerate(self.cues):
            if cue.start <= t < cue.end:
                return i
        return None

    def paint(self, frame: np.ndarray, t: float) -> None:
        index = self.cue_at(t)
        if index is None:
            return
        spoken = self.cues[index].spoken_at(t)
        key = (index, spoken)
        if key not in self._cache:
            self._cache = {k: v for k, v in self._cache.items() if k[0] >= index - 1}
            self._cache[key] = self._render(self.cues[index], spoken)
        self._cache[key].onto(frame)

    def _render(self, cue: Cue, spoken: int) -> _Stamp:
        from PIL import Image, ImageDraw

        size = self.font_px
        while True:
            font = _font(size)
            stroke = max(2, size // 9)
            gap = font.getlength(" ")
            lengths = [font.getlength(word.word) for word in cue.words]
            total = sum(lengths) + gap * (len(lengths) - 1) + 2 * stroke
            if total <= 0.92 * self.width or size <= 16:
                break
            size = int(size * 0.9)
        ascent, descent = font.getmetrics()
        box_w, box_h = int(total) + 4, ascent + descent + 2 * stroke + 4
        image = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        x = stroke + 2
        for i, (word, length) in enumerate(zip(cue.words, lengths, strict=True)):
            draw.text(
                (x, stroke + 2),
                word.word,
                font=font,
                fill=SPOKEN if i == spoken else TEXT,
                stroke_width=stroke,
                stroke_fill=OUTLINE,
            )
            x += length + gap
        left = max((self.width - box_w) // 2, 0)
        top = min(max(self.centre_y - box_h // 2, 0), max(self.height - box_h, 0))
        return _Stamp(np.asarray(image)[: self.height - top, : self.width - left], left, top)


class _Stamp:
    """A rendered caption, laid onto frames: its opaque pixels copied, only its soft edges
    blended (most of the box is clear or solid, and a float blend of all of it cost 5 ms a
    frame at 1080×1920)."""

    def __init__(self, rgba: np.ndarray, x: int, y: int) -> None:
        self.x, self.y = x, y
        self.shape = rgba.shape[:2]
        alpha = rgba[..., 3]
        self.solid = alpha == 255
        self.solid_rgb = rgba[self.solid][:, :3]
        self.soft = (alpha > 0) & (alpha < 255)
        self.soft_rgb = rgba[self.soft][:, :3].astype(np.float32)
        self.soft_alpha = (alpha[self.soft].astype(np.float32) / 255.0)[:, None]

    def onto(self, frame: np.ndarray) -> None:
        h, w = self.shape
        region = frame[self.y : self.y + h, self.x : self.x + w]
        under = region[self.soft].astype(np.float32)
        region[self.soft] = (
            self.soft_rgb * self.soft_alpha + under * (1 - self.soft_alpha)
        ).astype(np.uint8)
        region[self.solid] = self.solid_rgb


_FONTS: dict[int, Any] = {}


def _font(size: int) -> Any:
    from PIL import ImageFont

    if size not in _FONTS:
        font = ImageFont.truetype(_font_file(), size)
        font.set_variation_by_axes([FONT_WEIGHT])
        _FONTS[size] = font
    return _FONTS[size]
