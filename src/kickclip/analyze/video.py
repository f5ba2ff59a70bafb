"""Video features per 0.5 s window: compressed activity, frame change, brightness, colour.

The default mode decodes only keyframes; motion comes from the compressed size of every
inter frame, which the demuxer hands over for free: an encoder spends bits where the picture
moves. The median frame size of a window ignores the one big frame a calm scene cut makes.
``thorough`` decodes frames at ``SAMPLED_FPS`` and measures frame difference directly.
"""

from __future__ import annotations

import numpy as np

THUMB_WIDTH = 64
THUMB_HEIGHT = 36
SAMPLED_FPS = 4.0

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
