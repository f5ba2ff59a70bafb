"""Model versions: every training is kept, with what it was trained on and how well it did.

``models/versions/v0003.pkl`` is the signed model of training 3 (see ``model_file``) and
``v0003.json`` its description: when, on how many ratings (and which clips), cross-validated
error and Spearman, per clip type. The descriptions are small and kept for ever (they draw the
learning curve); the model files of all but the newest ``KEEP_MODELS`` and the active one are
removed. A description is plain data, read without trusting it to run anything.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kickclip.errors import ModelError

VERSIONS_DIR = "versions"
KEEP_MODELS = 20
_NAME = re.compile(r"^v(\d{4,})\.json$")


def _folder(models_dir: str | Path) -> Path:
    return Path(models_dir) / VERSIONS_DIR


def model_file(models_dir: str | Path, version: int) -> Path:
    return _folder(models_dir) / f"v{int(version):04d}.pkl"


def _description(models_dir: str | Path, version: int) -> Path:
    return _folder(models_dir) / f"v{int(version):04d}.json"


def _numbers(models_dir: str | Path) -> list[int]:
    try:
        names = os.listdir(_folder(models_dir))
    except OSError:
        return []
    return sorted(int(match[1]) for name in names if (match := _NAME.match(name)))


def claim(models_dir: str | Path) -> int:
    """The next version number, reserved by creating its description file exclusively.

    Two trainings at once (the web UI and the CLI) get different numbers.
    """
    version = max(_numbers(models_dir), default=0) + 1
    try:
        _folder(models_dir).mkdir(parents=True, exist_ok=True)
        while True:
            try:
                flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY
                os.close(os.open(_description(models_dir, version), flags, 0o644))
                return version
            except FileExistsError:
                version += 1
    except OSError as error:
        raise ModelError(
            f"cannot write the model to {Path(models_dir)}: {error.strerror or error}"
        ) from None


def describe(
    models_dir: str | Path,
    version: int,
    metrics: Mapping[str, Any],
    training_data: Mapping[str, Any],
) -> None:
    """Write the description of ``version`` (atomically: temp file and rename)."""
    per_type = {
        kind: {
            "n_ratings": int(n),
            "own_model": kind in metrics.get("per_type_models", ()),
            **dict(metrics.get("per_type", {}).get(kind, {})),
        }
        for kind, n in metrics.get("n_samples_by_type", {}).items()
    }
    record = {
        "version": int(version),
        "trained_at": training_data.get("trained_at") or metrics.get("trained_at"),
        "n_ratings": int(metrics.get("n_samples", len(training_data.get("ratings", ())))),
        "cv_mae": metrics.get("cv_mae_stars"),
        "spearman": metrics.get("cv_spearman"),
        "per_type": per_type,
        "clip_ids": [int(i) for i in training_data.get("clip_ids", ())],
    }
    path = _description(models_dir, version)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, path)


def listed(models_dir: str | Path) -> list[dict[str, Any]]:
    """Every described version, oldest first, with ``kept`` (its model file still there)."""
    found = []
    for version in _numbers(models_dir):
        try:
            record = json.loads(_description(models_dir, version).read_text())
        except (OSError, ValueError):
            continue  # being written right now, or damaged: not a version to offer
        if not isinstance(record, dict) or record.get("version") != version:
            continue
        record["kept"] = model_file(models_dir, version).is_file()
        found.append(record)
    return found


def prune(models_dir: str | Path, *, keep: int) -> None:
    """Remove model files beyond the newest ``KEEP_MODELS``, never ``keep`` (the active one)."""
    numbers = [v for v in _numbers(models_dir) if model_file(models_dir, v).is_file()]
    for version in numbers[:-KEEP_MODELS]:
        if version != keep:
            model_file(models_dir, version).unlink(missing_ok=True)
