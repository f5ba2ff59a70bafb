"""Progress is a callback: ``on_progress(fraction, label)``; front-ends adapt it."""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[float, str], None]


def no_progress(fraction: float, label: str) -> None:
    """The default callback: report nothing."""


def scaled(on_progress: ProgressCallback, start: float, end: float) -> ProgressCallback:
    """Map a stage's own 0..1 onto ``start..end`` of the whole run."""

    def report(fraction: float, label: str) -> None:
        on_progress(start + (end - start) * min(max(fraction, 0.0), 1.0), label)

    return report
