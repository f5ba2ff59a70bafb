"""``models/highlight_model.pkl``: signed, saved atomically, loaded once, never trusted blindly.

The file is a pickle (the fitted models, their scalers, the training data and the metrics),
and unpickling a file from elsewhere could run any code. So the file starts with an
HMAC-SHA256 of the pickle, keyed by a secret kept in the clip database (the ratings are the
truth; the file is a cache of what they taught). A file whose signature does not match this
database's key is never unpickled: it means "no model", with one warning line, and the next
training moves it aside to ``highlight_model.pkl.foreign`` instead of silently replacing it.

A missing, corrupt, truncated or incompatible file also means "no model", never a crash. A
loaded file is kept for the process and read again only when it changes on disk.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import os
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kickclip.errors import ModelError
from kickclip.fs import temp_file
from kickclip.learn import versions
from kickclip.learn.model import HighlightModel

MODEL_FILENAME = "highlight_model.pkl"
FOREIGN_SUFFIX = ".foreign"
FORMAT_VERSION = 2
MAGIC = b"kickclip-model/2\n"
DIGEST_BYTES = hashlib.sha256().digest_size
log = logging.getLogger(__name__)

_loaded: dict[Path, tuple[tuple[int, int, bytes], dict[str, Any] | None]] = {}


def model_path(models_dir: str | Path) -> Path:
    return Path(models_dir) / MODEL_FILENAME


def _signature(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()


def _signed_body(data: bytes, key: bytes) -> bytes | None:
    """The pickle inside ``data`` when its signature matches ``key``, else None."""
    head = len(MAGIC)
    if not data.startswith(MAGIC) or len(data) < head + DIGEST_BYTES:
        return None
    signature, body = data[head : head + DIGEST_BYTES], data[head + DIGEST_BYTES :]
    return body if hmac.compare_digest(signature, _signature(key, body)) else None


def is_ours(path: Path, key: bytes) -> bool:
    try:
        return _signed_body(path.read_bytes(), key) is not None
    except OSError:
        return False


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = temp_file(path.parent, f".{path.name}.", ".part")
    except OSError as error:
        raise ModelError(
            f"cannot write the model to {path.parent}: {error.strerror or error}"
        ) from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ModelError(
                f"cannot write the model to {path}: {error.strerror or error}"
            ) from None
        raise


def _signed(payload: dict[str, Any], key: bytes) -> bytes:
    body = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    return MAGIC + _signature(key, body) + body


def _make_active(models_dir: str | Path, data: bytes, key: bytes) -> Path:
    """Put signed ``data`` in the active place; a file this database did not sign is kept."""
    path = model_path(models_dir)
    if path.exists() and not is_ours(path, key):
        aside = path.with_name(MODEL_FILENAME + FOREIGN_SUFFIX)
        try:
            os.replace(path, aside)
        except OSError as error:
            raise ModelError(f"cannot move {path} aside: {error.strerror or error}") from None
        log.warning("kept the model file this library did not write as %s", aside)
    _write_atomically(path, data)
    return path


def save_model(
    model: HighlightModel, models_dir: str | Path, training_data: dict[str, Any], *, key: bytes
) -> Path:
    """Keep the model as a new version and make it the active one; return the active path.

    The version (``versions/vNNNN.pkl`` with its metrics in ``vNNNN.json``) is written
    first, then the active file, each atomically. A file already in the active place that
    this database did not sign is kept as ``….pkl.foreign``.
    """
    version = versions.claim(models_dir)
    payload = {
        "format_version": FORMAT_VERSION,
        "version": version,
        "model": model,
        "models": model.models_,
        "scalers": model.scalers_,
        "feature_names": model.feature_names_,
        "training_data": training_data,
        "metrics": model.metrics_,
    }
    data = _signed(payload, key)
    _write_atomically(versions.model_file(models_dir, version), data)
    versions.describe(models_dir, version, model.metrics_, training_data)
    path = _make_active(models_dir, data, key)
    versions.prune(models_dir, keep=version)
    return path


def activate(models_dir: str | Path, version: int, *, key: bytes) -> dict[str, Any]:
    """Make a kept version the active model; its payload, marked with when it was chosen."""
    payload = load_version(models_dir, version, key)
    payload["activated_at"] = datetime.now(UTC).isoformat(timespec="microseconds")
    _make_active(models_dir, _signed(payload, key), key)
    return payload


def load_version(models_dir: str | Path, version: int, key: bytes) -> dict[str, Any]:
    """A kept version's payload; ModelError when it is unknown, pruned or not ours."""
    path = versions.model_file(models_dir, version)
    if not path.is_file():
        known = [v["version"] for v in versions.listed(models_dir) if v["kept"]]
        raise ModelError(
            f"no model version {version} in {Path(models_dir)}"
            + (f" (kept: {', '.join(map(str, known))})" if known else " (train one first)")
        )
    payload = _read(path, key)
    if payload is None:
        raise ModelError(f"model version {version} ({path}) cannot be used; see the warning")
    return payload


def load_payload(models_dir: str | Path, key: bytes | None) -> dict[str, Any] | None:
    """The saved dict, or None (with one warning when a file is there but cannot be used).

    Kept per process; read again only when the file's size or modification time changes.
    """
    path = model_path(models_dir).absolute()
    try:
        stat = path.stat()
    except OSError:
        _loaded.pop(path, None)
        return None
    stamp = (stat.st_mtime_ns, stat.st_size, key or b"")
    cached = _loaded.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    payload = _read(path, key)
    _loaded[path] = (stamp, payload)
    return payload


def _read(path: Path, key: bytes | None) -> dict[str, Any] | None:
    try:
        data = path.read_bytes()
    except OSError as error:
        log.warning("ignoring unreadable model file %s (%s)", path, error.strerror or error)
        return None
    body = None if key is None else _signed_body(data, key)
    if body is None:
        log.warning(
            "ignoring model file %s: it was not written by this clip library "
            "(never loaded: a model file can run code); train to replace it",
            path,
        )
        return None
    try:
        payload = pickle.load(io.BytesIO(body))
    except Exception as error:  # signed but unreadable: a library upgrade, a disk fault
        log.warning("ignoring unreadable model file %s (%s)", path, error.__class__.__name__)
        return None
    if (
        not isinstance(payload, dict)
        or payload.get("format_version") != FORMAT_VERSION
        or not isinstance(payload.get("model"), HighlightModel)
    ):
        log.warning("ignoring incompatible model file %s; train to replace it", path)
        return None
    return payload


def load_model(models_dir: str | Path, key: bytes | None) -> HighlightModel | None:
    payload = load_payload(models_dir, key)
    return None if payload is None else payload["model"]
