"""Loudness for posting: -14 LUFS integrated (what TikTok, YouTube and Instagram play at), peaks
held under -1 dBFS by a gentle limiter instead of clipping."""

from __future__ import annotations

import math

import numpy as np

TARGET_LUFS = -14.0
CEILING = 10 ** (-1.0 / 20)  # -1 dBFS
LIMITER_FRAME_S = 0.005


def loudness(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness (LUFS) of ``samples`` (n × channels); -inf for silence or < 0.4 s."""
    import pyloudnorm

    if len(samples) < 0.4 * rate:
        return -math.inf
    return float(pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64)))


def normalise(samples: np.ndarray, rate: int, target: float = TARGET_LUFS) -> np.ndarray:
    """``samples`` (n × channels, float) brought to ``target`` LUFS, peaks limited to CEILING.
    Silence (and a clip too short to measure) is left as it is."""
    from scipy.ndimage import minimum_filter1d

    measured = loudness(samples, rate)
    if not math.isfinite(measured):
        return samples
    out = samples * np.float32(10 ** ((target - measured) / 20))
    frame = max(int(rate * LIMITER_FRAME_S), 1)
    frames = -(-len(out) // frame)
    padded = np.zeros((frames * frame, out.shape[1]), dtype=np.float32)
    padded[: len(out)] = np.abs(out)
    peaks = padded.reshape(frames, frame, -1).max(axis=(1, 2))
    gain = np.minimum(1.0, CEILING / np.maximum(peaks, 1e-9))
    gain = minimum_filter1d(gain, size=5)  # reach down before a peak and recover after it
    centres = (np.arange(frames) + 0.5) * frame
    smooth = np.interp(np.arange(len(out)), centres, gain).astype(np.float32)
    return np.clip(out * smooth[:, None], -CEILING, CEILING)
