"""Where the picture goes in a vertical (or square) frame: the facecam, the action, the layout.

A first, cheap pass (``survey``) samples the clip a few times a second at low resolution: faces
(OpenCV's Haar cascade), where the picture moves, and scene cuts. From it, ``find_facecam``
finds a streamer's camera overlay (a face in the same place most of the time, small in the
frame, grown to the overlay's edges), and ``Track`` follows the face or the motion, smoothed,
starting afresh at every cut. The layouts draw one output frame from one source frame.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kickclip.errors import InvalidInput

Rect = tuple[int, int, int, int]  # x, y, width, height in source pixels
SAMPLE_EVERY_S = 0.5
FACES_EVERY = 4  # samples: faces are looked for every 2 s
SURVEY_WIDTH = 480
MOTION_WIDTH = 96
CUT_DIFF = 28.0  # mean grey-level change (0-255) between samples that marks a scene cut
FOLLOW_S = 0.8  # how quickly a crop follows what it tracks (time constant)
FACECAM_SHARE = 0.35  # a facecam's face is found in this share of the samples, at least
FACECAM_MAX_WIDTH = 0.22  # and is narrower than this share of the frame (else: the camera is it)
LAYOUTS = ("auto", "stack", "crop", "fit")
ASPECTS = {"9:16": (1080, 1920), "1:1": (1080, 1080), "16:9": (1920, 1080)}


@dataclass
class Survey:
    """What the sampled frames showed, at SURVEY_WIDTH (``scale``: source pixels per pixel)."""

    width: int
    height: int
    scale: float
    times: list[float] = field(default_factory=list)
    faces: list[list[Rect]] = field(default_factory=list)  # per sample, in source pixels
    face_boxes: list[Rect] = field(default_factory=list)  # every face found, once
    face_samples: int = 0  # how many samples were searched for faces
    motion: list[np.ndarray] = field(default_factory=list)  # MOTION_WIDTH-wide change maps
    cuts: list[bool] = field(default_factory=list)
    stills: list[np.ndarray] = field(default_factory=list)  # a few grey frames, for edges


def _cascade() -> Any:
    import cv2

    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    if cascade.empty():  # OpenCV 5 no longer ships the cascades
        raise InvalidInput("OpenCV's face cascade is missing: install opencv-python-headless<5")
    return cascade


def survey_size(width: int, height: int) -> tuple[int, int]:
    """The size frames are surveyed at: SURVEY_WIDTH wide at most, even sides."""
    scale = max(width / SURVEY_WIDTH, 1.0)
    return max(2, round(width / scale / 2) * 2), max(2, round(height / scale / 2) * 2)


def survey(frames: Any, width: int, height: int) -> Survey:
    """Sample ``frames`` every SAMPLE_EVERY_S: ``(time, picture)`` pairs in order, where
    ``picture()`` gives the frame as RGB at ``survey_size`` (made only for the samples)."""
    import cv2

    cascade = _cascade()
    scale = width / survey_size(width, height)[0]
    result = Survey(width, height, scale)
    previous = None
    faces: list[Rect] = []
    next_t = -1.0
    for t, picture in frames:
        if t < next_t:
            continue
        next_t = t + SAMPLE_EVERY_S
        grey = cv2.cvtColor(picture(), cv2.COLOR_RGB2GRAY)
        if len(result.times) % FACES_EVERY == 0:  # faces move slowly: held in between
            found = cascade.detectMultiScale(
                grey, scaleFactor=1.1, minNeighbors=5, minSize=(20, 20)
            )
            faces = [tuple(round(v * scale) for v in box) for box in found]
            result.face_samples += 1
            result.face_boxes += faces
        result.times.append(t)
        result.faces.append(faces)
        tiny = cv2.resize(grey, (MOTION_WIDTH, max(1, round(MOTION_WIDTH * height / width))))
        tiny = tiny.astype(np.float32)
        change = np.zeros_like(tiny) if previous is None else np.abs(tiny - previous)
        result.cuts.append(previous is not None and float(change.mean()) > CUT_DIFF)
        result.motion.append(change)
        previous = tiny
        if len(result.stills) < 12 and len(result.times) % 4 == 1:
            result.stills.append(grey)
    return result


def find_facecam(found: Survey) -> Rect | None:
    """A camera overlay: one face in about the same place in FACECAM_SHARE of the samples,
    small in the frame; grown to the overlay's edges. None when there is no such face."""
    boxes = found.face_boxes
    if not boxes or not found.face_samples:
        return None
    near = 0.06 * found.width
    best: list[Rect] = []
    for box in boxes:  # the largest group of faces whose centres lie close together
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        group = [
            b
            for b in boxes
            if abs(b[0] + b[2] / 2 - cx) < near and abs(b[1] + b[3] / 2 - cy) < near
        ]
        if len(group) > len(best):
            best = group
    if len(best) < max(2, FACECAM_SHARE * found.face_samples):
        return None
    face = tuple(int(np.median([b[i] for b in best])) for i in range(4))
    if face[2] > FACECAM_MAX_WIDTH * found.width:
        return None
    return overlay_around(found, face)  # type: ignore[arg-type]


def overlay_around(found: Survey, face: Rect) -> Rect:
    """Grow a face box to the overlay that holds it: each side moves to the straightest,
    strongest edge (the overlay's border: a line along the whole side) within three face
    sizes; where no line stands out, one face size out. Twice, as each side's line spans the
    others' new extent."""
    import cv2

    x, y, w, h = (v / found.scale for v in face)
    # left, top, right, bottom edges of the box, in survey pixels
    box = [x - w, y - h, x + 2 * w, y + 2 * h]
    if found.stills:
        still = np.median(np.stack(found.stills), axis=0).astype(np.float32)
        across = np.abs(cv2.Sobel(still, cv2.CV_32F, 1, 0, ksize=3))  # vertical lines
        down = np.abs(cv2.Sobel(still, cv2.CV_32F, 0, 1, ksize=3))  # horizontal lines
        threshold = 4.0 * float(np.median(np.maximum(across, down))) + 8.0
        for _ in range(2):
            for side in range(4):
                line = _strongest_line(across if side in (0, 2) else down, box, side, (x, y, w, h))
                if line is not None and line[1] > threshold:
                    box[side] = line[0]
    x0, y0 = max(0.0, box[0]), max(0.0, box[1])
    x1 = min(found.width / found.scale, box[2])
    y1 = min(found.height / found.scale, box[3])
    s = found.scale
    return (round(x0 * s), round(y0 * s), round((x1 - x0) * s), round((y1 - y0) * s))


def _strongest_line(
    gradient: np.ndarray, box: list[float], side: int, face: tuple[float, float, float, float]
) -> tuple[float, float] | None:
    """The position (survey pixels) and mean strength of the strongest straight line on
    ``side`` (0 left, 1 top, 2 right, 3 bottom) of the face, 0.3 to 3 face sizes out, along
    the box's extent on that side."""
    x, y, w, h = face
    rows, cols = gradient.shape
    size = w if side in (0, 2) else h
    best: tuple[float, float] | None = None
    for step in range(max(1, int(0.3 * size)), int(3 * size) + 1):
        if side in (0, 2):
            at = int(x - step) if side == 0 else int(x + w + step)
            if not 0 <= at < cols:
                break
            line = gradient[max(int(box[1]), 0) : min(int(box[3]), rows), at]
        else:
            at = int(y - step) if side == 1 else int(y + h + step)
            if not 0 <= at < rows:
                break
            line = gradient[at, max(int(box[0]), 0) : min(int(box[2]), cols)]
        if line.size:
            strength = float(np.mean(line))
            if best is None or strength > best[1]:
                best = (float(at if side in (0, 1) else at + 1), strength)
    return best


class Track:
    """The point a crop follows over time: the biggest face, else the centre of the motion
    (outside ``exclude``, a facecam), smoothed both ways with FOLLOW_S, afresh at each cut."""

    def __init__(self, found: Survey, exclude: Rect | None = None) -> None:
        self.times = np.array(found.times or [0.0])
        raw = [self._target(found, i, exclude) for i in range(len(found.times))] or [
            (found.width / 2, found.height / 2)
        ]
        points = np.array(raw, dtype=np.float64)
        cuts = [i for i, cut in enumerate(found.cuts) if cut]
        self.points = np.empty_like(points)
        for a, b in zip([0, *cuts], [*cuts, len(points)], strict=True):
            self.points[a:b] = _smooth(points[a:b])

    @staticmethod
    def _target(found: Survey, i: int, exclude: Rect | None) -> tuple[float, float]:
        faces = [f for f in found.faces[i] if exclude is None or not _inside(f, exclude)]
        if faces:
            x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
            return x + w / 2, y + h / 2
        change = found.motion[i].copy()
        rows, cols = change.shape
        if exclude is not None:
            k = cols / found.width
            ex, ey, ew, eh = (round(v * k) for v in exclude)
            change[ey : ey + eh, ex : ex + ew] = 0
        total = float(change.sum())
        if total < 1e-3 * change.size:  # nothing moves: hold the middle
            return found.width / 2, found.height / 2
        xs = (np.arange(cols) + 0.5) * found.width / cols
        ys = (np.arange(rows) + 0.5) * found.height / rows
        return float((change.sum(axis=0) * xs).sum() / total), float(
            (change.sum(axis=1) * ys).sum() / total
        )

    def at(self, t: float) -> tuple[float, float]:
        x = float(np.interp(t, self.times, self.points[:, 0]))
        y = float(np.interp(t, self.times, self.points[:, 1]))
        return x, y


def _inside(face: Rect, area: Rect) -> bool:
    cx, cy = face[0] + face[2] / 2, face[1] + face[3] / 2
    return area[0] <= cx <= area[0] + area[2] and area[1] <= cy <= area[1] + area[3]


def _smooth(points: np.ndarray) -> np.ndarray:
    """Forward then backward exponential smoothing: no lag, no jitter."""
    if len(points) < 2:
        return points.copy()
    alpha = 1 - np.exp(-SAMPLE_EVERY_S / FOLLOW_S)
    out = points.copy()
    for order in (range(1, len(out)), range(len(out) - 2, -1, -1)):
        step = 1 if order.step == 1 else -1
        for i in order:
            out[i] = out[i - step] + alpha * (out[i] - out[i - step])
    return out


def window(centre: tuple[float, float], size: tuple[int, int], aspect: float, area: Rect) -> Rect:
    """The largest window of ``aspect`` (width / height) inside ``area``, centred as near
    ``centre`` as it can be."""
    ax, ay, aw, ah = area
    h = ah
    w = h * aspect
    if w > aw:
        w, h = aw, aw / aspect
    x = min(max(centre[0] - w / 2, ax), ax + aw - w)
    y = min(max(centre[1] - h / 2, ay), ay + ah - h)
    return round(x), round(y), max(2, round(w)), max(2, round(h))


def rect_from_text(text: str) -> Rect:
    """``x,y,w,h`` (pixels of the clip's picture) as a rectangle."""
    try:
        x, y, w, h = (round(float(v)) for v in str(text).split(","))
    except ValueError:
        raise InvalidInput(f"--facecam takes x,y,w,h in pixels, got {str(text)[:40]!r}") from None
    return x, y, w, h


def check_inside(rect: Rect, width: int, height: int) -> Rect:
    x, y, w, h = rect
    if w < 8 or h < 8 or x < 0 or y < 0 or x + w > width or y + h > height:
        raise InvalidInput(
            f"--facecam {x},{y},{w},{h} is not a rectangle inside the {width}×{height} picture"
        )
    return rect


class Layout(ABC):
    """Draws one output frame (``size``, RGB) from one source frame at time ``t``."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size

    @abstractmethod
    def draw(self, rgb: np.ndarray, t: float) -> np.ndarray:
        """The output frame for source frame ``rgb`` shown at ``t`` s into the clip."""


class Fit(Layout):
    """The whole picture, as wide as the frame, on a blurred, darkened copy of itself."""

    def draw(self, rgb: np.ndarray, t: float) -> np.ndarray:
        import cv2

        width, height = self.size
        h, w = rgb.shape[:2]
        cover = window((w / 2, h / 2), (w, h), width / height, (0, 0, w, h))
        x, y, cw, ch = cover
        small = cv2.resize(
            rgb[y : y + ch, x : x + cw],
            (max(width // 16, 2), max(height // 16, 2)),
            interpolation=cv2.INTER_AREA,
        )
        small = cv2.GaussianBlur(small, (0, 0), 3)
        out = cv2.resize((small * 0.55).astype(np.uint8), (width, height))
        fw = width
        fh = min(height, round(width * h / w))
        if fh == height:
            fw = round(height * w / h)
        fg = cv2.resize(rgb, (fw, fh), interpolation=cv2.INTER_AREA)
        top, left = (height - fh) // 2, (width - fw) // 2
        out[top : top + fh, left : left + fw] = fg
        return out


class Crop(Layout):
    """One window that follows the face or the motion."""

    def __init__(self, size: tuple[int, int], track: Track, area: Rect) -> None:
        super().__init__(size)
        self.track, self.area = track, area

    def draw(self, rgb: np.ndarray, t: float, into: np.ndarray | None = None) -> np.ndarray:
        import cv2

        width, height = self.size
        x, y, w, h = window(self.track.at(t), rgb.shape[1::-1], width / height, self.area)
        if into is not None:
            return cv2.resize(rgb[y : y + h, x : x + w], (width, height), dst=into)
        return cv2.resize(
            rgb[y : y + h, x : x + w], (width, height), interpolation=cv2.INTER_LINEAR
        )


class Stack(Layout):
    """The facecam on top, the gameplay below, cropped to the action."""

    def __init__(self, size: tuple[int, int], facecam: Rect, track: Track, frame: Rect) -> None:
        super().__init__(size)
        width, height = size
        fx, fy, fw, fh = facecam
        self.top_height = self.top_height_for(size, facecam)
        centre = (fx + fw / 2, fy + fh / 2)
        self.cam = window(centre, (fw, fh), width / self.top_height, facecam)
        self.game = Crop((width, height - self.top_height), track, frame)

    @staticmethod
    def top_height_for(size: tuple[int, int], facecam: Rect) -> int:
        """The facecam's share of the height: its own shape, between 30% and 45%."""
        width, height = size
        return int(min(max(round(width * facecam[3] / facecam[2]), 0.3 * height), 0.45 * height))

    def draw(self, rgb: np.ndarray, t: float) -> np.ndarray:
        import cv2

        width, height = self.size
        x, y, w, h = self.cam
        out = np.empty((height, width, 3), np.uint8)
        cv2.resize(rgb[y : y + h, x : x + w], (width, self.top_height), dst=out[: self.top_height])
        self.game.draw(rgb, t, into=out[self.top_height :])
        return out


def _beside(facecam: Rect, width: int, height: int, size: tuple[int, int]) -> Rect:
    """Where the gameplay below a stacked facecam is cropped from: the side of the frame the
    facecam leaves free, when it is wide enough for the window; else the whole frame."""
    out_w, out_h = size
    game_aspect = out_w / (out_h - Stack.top_height_for(size, facecam))
    needed = height * game_aspect
    x, _, w, _ = facecam
    left, right = x, width - (x + w)
    if max(left, right) >= needed:
        return (0, 0, left, height) if left >= right else (x + w, 0, right, height)
    return (0, 0, width, height)


def layout_for(
    name: str, size: tuple[int, int], found: Survey, facecam: Rect | None
) -> tuple[Layout, str, Rect | None]:
    """The layout to draw with, its name once ``auto`` is decided, and the facecam used."""
    if name not in LAYOUTS:
        raise InvalidInput(f"--layout is one of {', '.join(LAYOUTS)}; got {name!r}")
    frame = (0, 0, found.width, found.height)
    if name in ("auto", "stack"):
        facecam = facecam or find_facecam(found)
        if facecam is not None:
            game = _beside(facecam, found.width, found.height, size)
            return Stack(size, facecam, Track(found, exclude=facecam), game), "stack", facecam
        if name == "stack":
            raise InvalidInput(
                "no facecam found in this clip: give its rectangle with --facecam x,y,w,h, "
                "or use --layout crop or fit"
            )
        name = "crop"
    if name == "fit":
        return Fit(size), "fit", facecam
    return Crop(size, Track(found), frame), "crop", facecam
