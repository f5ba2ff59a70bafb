"""Audio features of fixed 0.5 s windows of mono samples, registered by name."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SAMPLE_RATE_HZ = 16_000
FFT_SIZE = 512
HIGH_BAND_HZ = 3_000
EPS = 1e-10

AudioFeature = Callable[[np.ndarray, np.ndarray], float]
AUDIO_FEATURES: dict[str, AudioFeature] = {}


def audio_feature(name: str) -> Callable[[AudioFeature], AudioFeature]:
    """Declare a feature once; series names, JSON keys and model columns all read this."""

    def register(function: AudioFeature) -> AudioFeature:
        AUDIO_FEATURES[name] = function
        return function

    return register


def spectra(samples: np.ndarray) -> np.ndarray:
    """Magnitude spectra of consecutive FFT_SIZE frames of one window (frames × bins)."""
    usable = len(samples) // FFT_SIZE * FFT_SIZE
    if usable == 0:
        return np.zeros((1, FFT_SIZE // 2 + 1))
    frames = samples[:usable].reshape(-1, FFT_SIZE) * np.hanning(FFT_SIZE)
    return np.abs(np.fft.rfft(frames, axis=1))


@audio_feature("rms_db")
def rms_db(samples: np.ndarray, spectrum: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(samples**2) + EPS))


@audio_feature("flux")
def spectral_flux(samples: np.ndarray, spectrum: np.ndarray) -> float:
    """Onset strength: how much the spectrum rises from frame to frame (log magnitudes)."""
    if len(spectrum) < 2:
        return 0.0
    rise = np.diff(np.log1p(spectrum), axis=0)
    return float(np.mean(np.maximum(rise, 0).sum(axis=1)))


@audio_feature("centroid_hz")
def spectral_centroid(samples: np.ndarray, spectrum: np.ndarray) -> float:
    freqs = np.fft.rfftfreq(FFT_SIZE, 1 / SAMPLE_RATE_HZ)
    power = spectrum.sum(axis=0)
    return float((freqs * power).sum() / (power.sum() + EPS))


@audio_feature("highband_ratio")
def high_band_ratio(samples: np.ndarray, spectrum: np.ndarray) -> float:
    freqs = np.fft.rfftfreq(FFT_SIZE, 1 / SAMPLE_RATE_HZ)
    power = (spectrum**2).sum(axis=0)
    return float(power[freqs >= HIGH_BAND_HZ].sum() / (power.sum() + EPS))


@audio_feature("flatness")
def spectral_flatness(samples: np.ndarray, spectrum: np.ndarray) -> float:
    """Near 0 for tones and voiced speech, near 1 for noise: a voicing-like measure."""
    power = spectrum**2 + EPS
    return float(np.mean(np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)))


@audio_feature("zcr")
def zero_crossing_rate(samples: np.ndarray, spectrum: np.ndarray) -> float:
    if len(samples) < 2:
        return 0.0
    return float(np.mean(np.abs(np.diff(np.signbit(samples).astype(np.int8)))))


def window_features(samples: np.ndarray) -> dict[str, float]:
    spectrum = spectra(samples)
    return {name: feature(samples, spectrum) for name, feature in AUDIO_FEATURES.items()}
