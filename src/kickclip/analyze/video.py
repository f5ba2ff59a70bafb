"""Video features per 0.5 s window: compressed activity, picture change, brightness, colour.

``activity_kbits`` is a bit *rate* in kbit/s (the name is historical): the bits the encoder
spent on the window's inter frames divided by the time those frames are on screen. The
demuxer hands packet sizes over for free, and an encoder spends bits where the picture moves.
Dividing by screen time, not by frame count, keeps a variable-frame-rate stream from looking
busier where its frame rate drops. Keyframes are left out (their size says how detailed a
picture is, not how it moves), and so is the one inter frame of a window that dwarfs the
others: the scene cut an encoder codes as a big P frame when it places no keyframe there.

The other three are measured on decoded frames shrunk to 64x36: the default mode decodes
keyframes only, ``thorough`` also about ``SAMPLED_FPS`` frames a second in between. Each
window reports one decoded frame, its keyframe when it has one, so both modes give the same
values wherever they decoded the same keyframe:

* ``brightness``: mean of the RGB thumbnail in [0, 1];
* ``colourfulness``: Hasler and Süsstrunk's measure on the thumbnail;
* ``frame_diff``: how much the picture changed over the last keyframe interval, the mean
  absolute thumbnail difference to the frame one keyframe interval earlier. At a keyframe that
  is the previous keyframe, in both modes; ``thorough`` measures it at its samples in between
  against the nearest sample that much earlier (the interval capped at ``MAX_LOOKBACK_S``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

THUMB_WIDTH = 64
THUMB_HEIGHT = 36
SAMPLED_FPS = 4.0
DEFAULT_LOOKBACK_S = 2.0  # until two keyframes have shown the keyframe interval (Kick: 2 s)
MAX_LOOKBACK_S = 10.0  # bounds the thumbnails thorough keeps: 10 s x 4 fps x 28 kB
OUTLIER_RATIO = 8.0  # an inter frame this many times the window's others is a scene cut

VIDEO_FEATURES = ("activity_kbits", "frame_diff", "brightness", "colourfulness")


def small_rgb(frame) -> np.ndarray:
    """A decoded frame shrunk to 64x36 RGB floats in [0, 1]."""
    image = frame.reformat(width=THUMB_WIDTH, height=THUMB_HEIGHT, format="rgb24").to_ndarray()
    return image.astype(np.float32) / 255.0


def brightness(image: np.ndarray) -> float:
    return float(image.mean())


def colourfulness(image: np.ndarray) -> float:
    """Hasler and Süsstrunk's colourfulness on the small frame."""
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def frame_diff(image: np.ndarray, previous: np.ndarray | None) -> float:
    return 0.0 if previous is None else float(np.abs(image - previous).mean())


@dataclass(frozen=True)
class WindowRow:
    is_key: bool
    frame_diff: float
    brightness: float
    colourfulness: float


class FrameSampler:
    """Turns decoded frames, in presentation order, into one ``WindowRow`` per window."""

    def __init__(self, *, thorough: bool, hop_s: float) -> None:
        self.thorough = thorough
        self.hop_s = hop_s
        self.rows: dict[int, WindowRow] = {}
        self._next_sample_s = -np.inf
        self._key: tuple[float, np.ndarray] | None = None  # the last keyframe seen
        self._lookback_s = DEFAULT_LOOKBACK_S
        self._recent: deque[tuple[float, np.ndarray]] = deque()

    def add(self, frame, t: float, *, is_key: bool) -> None:
        """Take a decoded frame shown at ``t`` s (media time), if it is one to sample.

        ``is_key``: its packet was a keyframe, the ones the default mode decodes.
        """
        if not is_key and (not self.thorough or t < self._next_sample_s):
            return
        self._next_sample_s = t + 1 / SAMPLED_FPS
        image = small_rgb(frame)
        if is_key:
            previous = None if self._key is None else self._key[1]
            if self._key is not None and t > self._key[0]:
                self._lookback_s = min(t - self._key[0], MAX_LOOKBACK_S)
            self._key = (t, image)
        else:
            previous = self._earlier(t - self._lookback_s)
        self._recent.append((t, image))
        while len(self._recent) > 1 and self._recent[0][0] < t - MAX_LOOKBACK_S:
            self._recent.popleft()  # memory stays flat in the stream's length
        window = max(int(t // self.hop_s), 0)
        held = self.rows.get(window)
        if held is None or is_key or not held.is_key:
            self.rows[window] = WindowRow(
                is_key, frame_diff(image, previous), brightness(image), colourfulness(image)
            )

    def _earlier(self, target_s: float) -> np.ndarray | None:
        """The kept sample nearest at or before ``target_s`` (else the oldest kept)."""
        while len(self._recent) > 1 and self._recent[1][0] <= target_s:
            self._recent.popleft()
        return self._recent[0][1] if self._recent else None

    def columns(self, windows: int) -> dict[str, np.ndarray]:
        """``frame_diff``, ``brightness``, ``colourfulness`` per window; NaN where none."""
        out = {name: np.full(windows, np.nan) for name in VIDEO_FEATURES[1:]}
        for window, row in self.rows.items():
            out["frame_diff"][window] = row.frame_diff
            out["brightness"][window] = row.brightness
            out["colourfulness"][window] = row.colourfulness
        return out


def activity_kbps(
    times_s: np.ndarray, sizes: np.ndarray, keys: np.ndarray, hop_s: float
) -> dict[int, float]:
    """Per window, kbit/s of its inter frames: their bits over their time on screen.

    A frame is on screen until the next one starts (the last one: the median frame time).
    A window's largest inter frame is left out when it exceeds ``OUTLIER_RATIO`` times the
    median of the others. An intra-only stream (MJPEG, x264 ``-g 1``, a single frame) has no
    inter frames: its key frames stand in, their bits following detail more than motion.
    """
    if len(times_s) == 0:
        return {}
    order = np.argsort(times_s, kind="stable")
    t, size, key = times_s[order], sizes[order].astype(float), keys[order].astype(bool)
    on_screen = np.diff(t, append=np.nan)
    steps = on_screen[on_screen > 0]
    on_screen[-1] = np.median(steps) if steps.size else 0.0
    inter = ~key if not key.all() else key
    t, size, on_screen = t[inter], size[inter], on_screen[inter]
    window = np.maximum((t // hop_s).astype(np.int64), 0)
    rates: dict[int, float] = {}
    starts = np.flatnonzero(np.diff(window, prepend=-1))
    for first, last in zip(starts, [*starts[1:], len(window)], strict=True):
        bits, seconds = size[first:last], on_screen[first:last]
        if len(bits) >= 2:
            largest = int(np.argmax(bits))
            if bits[largest] > OUTLIER_RATIO * np.median(np.delete(bits, largest)):
                bits, seconds = np.delete(bits, largest), np.delete(seconds, largest)
        if seconds.sum() > 0:
            rates[int(window[first])] = float(bits.sum() * 8 / 1000 / seconds.sum())
    return rates
