"""``models/highlight_model.pkl``: saved atomically, loaded tolerantly.

A missing file means "no model"; a corrupt, truncated or incompatible one also means "no
model", with a logged warning, never a crash: the next training replaces it.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from kickclip.errors import ModelError
from kickclip.learn.model import HighlightModel

MODEL_FILENAME = "highlight_model.pkl"
FORMAT_VERSION = 1
log = logging.getLogger(__name__)


def model_path(models_dir: str | Path) -> Path:
    return Path(models_dir) / MODEL_FILENAME


def save_model(
    model: HighlightModel, models_dir: str | Path, training_data: dict[str, Any]
) -> Path:
    """Write the model, its scalers, feature names, training data and metrics atomically."""
    import joblib

    path = model_path(models_dir)
    payload = {
        "format_version": FORMAT_VERSION,
        "model": model,
        "models": model.models_,
        "scalers": model.scalers_,
        "feature_names": model.feature_names_,
        "training_data": training_data,
        "metrics": model.metrics_,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{MODEL_FILENAME}.", suffix=".part")
    except OSError as error:
        raise ModelError(
            f"cannot write the model to {path.parent}: {error.strerror or error}"
        ) from None
    try:
        with os.fdopen(fd, "wb") as out:
            joblib.dump(payload, out)
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ModelError(
                f"cannot write the model to {path}: {error.strerror or error}"
            ) from None
        raise
    return path


def load_payload(models_dir: str | Path) -> dict[str, Any] | None:
    """The saved dict, or None (with a warning when the file exists but cannot be used)."""
    import joblib

    path = model_path(models_dir)
    if not path.is_file():
        return None
    try:
        payload = joblib.load(path)
    except Exception as error:  # any unpickling failure means "no model"
        log.warning(
            "ignoring unreadable model file %s (%s); retrain to replace it",
            path,
            error.__class__.__name__,
        )
        return None
    if (
        not isinstance(payload, dict)
        or payload.get("format_version") != FORMAT_VERSION
        or not isinstance(payload.get("model"), HighlightModel)
    ):
        log.warning("ignoring incompatible model file %s; retrain to replace it", path)
        return None
    return payload


def load_model(models_dir: str | Path) -> HighlightModel | None:
    payload = load_payload(models_dir)
    return None if payload is None else payload["model"]
