"""The stream's timeline as a picture: each side's strength over time, the highlights chosen
marked (those the learned taste moved up apart from the detector's own picks)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kickclip.errors import InvalidInput, KickclipError
from kickclip.fs import temp_file
from kickclip.records import Analysis, clock

COLOURS = {"audio": "#f97316", "video": "#2563eb", "chat": "#16a34a"}


def timeline_figure(analysis: Analysis, *, width_in: float = 12.0):
    """A matplotlib Figure of the analysis's timeline (None without one)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    timeline = analysis.timeline
    if timeline is None:
        return None
    figure = Figure(figsize=(width_in, 3.2), dpi=110, layout="constrained")
    axes = figure.add_subplot()
    for kind, values in timeline.sides.items():
        times = [timeline.start_s + (i + 0.5) * timeline.hop_s for i in range(len(values))]
        axes.plot(times, values, color=COLOURS.get(kind, "#6b7280"), linewidth=1.1, label=kind)
    by_detector = sorted(
        analysis.highlights,
        key=lambda h: h.score if h.heuristic_score is None else h.heuristic_score,
        reverse=True,
    )[: len(analysis.highlights)]
    for rank, highlight in enumerate(analysis.highlights, start=1):
        taste = highlight.heuristic_score is not None and highlight not in by_detector[:rank]
        axes.axvspan(
            highlight.start_s,
            highlight.end_s,
            color="#a855f7" if taste else "#facc15",
            alpha=0.35,
            linewidth=0,
        )
        axes.annotate(
            str(rank),
            (highlight.peak_s, 1.0),
            xycoords=("data", "axes fraction"),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    first = timeline.start_s if analysis.media.is_live else 0.0  # live: the minutes kept
    axes.set_xlim(first, max(analysis.duration_s, first + 1.0))
    axes.set_ylim(bottom=0)
    axes.xaxis.set_major_formatter(FuncFormatter(clock))
    axes.xaxis.set_major_locator(MaxNLocator(nbins=12, steps=[1, 2, 3, 5, 6, 10]))
    axes.set_ylabel("strength (× ordinary)")
    axes.set_title(
        f"{analysis.media.title}: highlights (yellow; purple where your taste moved one up)",
        fontsize=10,
        loc="right",  # the left corner is the web UI's label
        pad=16,
    )
    axes.legend(loc="upper right", fontsize=8, frameon=False, ncols=3)
    axes.grid(axis="y", alpha=0.25)
    return figure


@dataclass(frozen=True)
class TimelinePicture:
    """The timeline drawn as RGB pixels, and where its time axis lies in them."""

    pixels: Any  # numpy array, height × width × 3
    left_px: float
    right_px: float
    start_s: float
    end_s: float

    def time_at(self, x_px: float) -> float:
        """The stream's second under pixel column ``x_px`` (clamped to the axis)."""
        share = (x_px - self.left_px) / max(self.right_px - self.left_px, 1.0)
        return self.start_s + min(max(share, 0.0), 1.0) * (self.end_s - self.start_s)


def timeline_picture(analysis: Analysis) -> TimelinePicture | None:
    """The timeline as a picture to click on (None without one)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = timeline_figure(analysis)
    if figure is None:
        return None
    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # lays the figure out: the axes' place is known only now
    pixels = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    (axes,) = figure.axes
    box = axes.get_window_extent()
    start_s, end_s = axes.get_xlim()
    return TimelinePicture(pixels, float(box.x0), float(box.x1), float(start_s), float(end_s))


def write_timeline_png(analysis: Analysis, path: Path) -> Path:
    """Draw the timeline into ``path`` (a .png), written atomically."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InvalidInput(f"--plot writes a PNG: give a name ending in .png, got {path.name!r}")
    figure = timeline_figure(analysis)
    if figure is None:
        raise InvalidInput("nothing to plot: the source gave no sound, picture or chat to read")
    folder = path.absolute().parent
    try:
        fd, part = temp_file(folder, f".{path.stem}-", ".part.png")
    except OSError as error:
        raise KickclipError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            figure.savefig(handle, format="png")
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return path
