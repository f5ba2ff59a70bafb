"""``models/highlight_model.pkl``: saved atomically, loaded once, never able to run code.

The file holds the fitted models, the training data and the metrics in ``skops.io``'s format:
plain data (JSON and numpy arrays) read back into objects of an explicit list of trusted
types (``TRUSTED_TYPES``: our two model classes, the vocabulary of liked words, scikit-learn's
tree predictor and what skops trusts of numpy and scikit-learn by default). A file naming any
other type is refused, so whoever can write the file, or read the clip database, still cannot
make it run code.
Older files were pickles: they are never unpickled, and retrained from the ratings once.

The file starts with an HMAC-SHA256 of its body, keyed by a secret kept in the clip database
(the ratings are the truth; the file is a cache of what they taught). It tells this library's
files from others: a file this database did not sign means "no model", with one warning
line, and the next training moves it aside to ``highlight_model.pkl.foreign`` instead of
silently replacing it.

A missing, corrupt, truncated or incompatible file also means "no model", never a crash. A
loaded file is kept for the process and read again only when it changes on disk.

Loading the file imports scikit-learn, seconds at every CLI start, and ``stats``,
``models`` and ``rate`` only need what the model is (version, when, metrics) and ``clips
--unrated`` what it was trained on. So two plain JSON files describe the active file, in
``versions/`` with the other descriptions: ``active.json`` (what it is, signed with the same
key) and ``active.training.json`` (the rated features, types and stars). Both name the
active file's size and signature; one that does not match the file there now (an older
library, a crash between two renames, a copied folder) is ignored, the model file is read
instead, and the JSON files are written again from it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kickclip.errors import ModelError
from kickclip.fs import temp_file
from kickclip.learn import versions

if TYPE_CHECKING:
    from kickclip.learn.model import HighlightModel

MODEL_FILENAME = "highlight_model.pkl"
META_FILENAME = "active.json"  # in versions/, beside the descriptions of every version
TRAINING_FILENAME = "active.training.json"
META_VERSION = 1
FOREIGN_SUFFIX = ".foreign"
FORMAT_VERSION = 4  # 4: skops instead of pickle; 3: the taste reads rises, not levels
MAGIC = b"kickclip-model/3\n"
PICKLED_MAGIC = b"kickclip-model/2\n"  # a pickle (formats 2 and 3): retrained, never loaded
TRUSTED_TYPES = [
    "kickclip.learn.model.HighlightModel",
    "kickclip.learn.model.RidgeBoost",
    "kickclip.learn.said.Vocabulary",
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
]
DIGEST_BYTES = hashlib.sha256().digest_size
log = logging.getLogger(__name__)

_loaded: dict[Path, tuple[tuple[int, int, bytes], dict[str, Any] | None]] = {}
_training: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}


def model_path(models_dir: str | Path) -> Path:
    return Path(models_dir) / MODEL_FILENAME


def _signature(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()


def _signed_body(data: bytes, key: bytes, magic: bytes = MAGIC) -> bytes | None:
    """The body inside ``data`` when its signature matches ``key``, else None."""
    head = len(magic)
    if not data.startswith(magic) or len(data) < head + DIGEST_BYTES:
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
    import skops.io

    body = skops.io.dumps(payload, compression=zipfile.ZIP_DEFLATED)
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
        "feature_names": model.feature_names_,
        "training_data": training_data,
        "metrics": model.metrics_,
    }
    data = _signed(payload, key)
    _write_atomically(versions.model_file(models_dir, version), data)
    versions.describe(models_dir, version, model.metrics_, training_data)
    path = _make_active(models_dir, data, key)
    _describe_active(models_dir, data, payload, key, quiet=False)
    versions.prune(models_dir, keep=version)
    return path


def activate(models_dir: str | Path, version: int, *, key: bytes) -> dict[str, Any]:
    """Make a kept version the active model; its payload, marked with when it was chosen."""
    payload = load_version(models_dir, version, key)
    payload["activated_at"] = datetime.now(UTC).isoformat(timespec="microseconds")
    data = _signed(payload, key)
    _make_active(models_dir, data, key)
    _describe_active(models_dir, data, payload, key, quiet=False)
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
    data = _bytes(path)
    payload = None if data is None else _parse(path, data, key)
    _loaded[path] = (stamp, payload)
    if payload is not None and key is not None and _described_training(path.parent, key) is None:
        _describe_active(path.parent, data, payload, key, quiet=True)  # for the next process
    return payload


def _read(path: Path, key: bytes | None) -> dict[str, Any] | None:
    data = _bytes(path)
    return None if data is None else _parse(path, data, key)


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as error:
        log.warning("ignoring unreadable model file %s (%s)", path, error.strerror or error)
        return None


def _parse(path: Path, data: bytes, key: bytes | None) -> dict[str, Any] | None:
    from kickclip.learn.model import HighlightModel  # numpy: only loading needs it

    if _is_pickled(data, key):
        log.warning(
            "the model in %s was saved by an older kickclip in a format that could run code; "
            "it is never loaded, and retrained from your ratings at the next rating, "
            "generate or train",
            path,
        )
        return None
    body = None if key is None else _signed_body(data, key)
    if body is None:
        log.warning(
            "ignoring model file %s: it was not written by this clip library; train to replace it",
            path,
        )
        return None
    try:
        payload = _loads(body)
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


def _loads(body: bytes) -> Any:
    """The payload, built only from ``TRUSTED_TYPES`` (skops refuses a file naming others)."""
    import skops.io

    return skops.io.loads(body, trusted=TRUSTED_TYPES)


def _is_pickled(data: bytes, key: bytes | None) -> bool:
    """A file this store signed in the pickle format of before (read by its head only)."""
    return key is not None and _signed_body(data, key, PICKLED_MAGIC) is not None


def is_outdated(models_dir: str | Path, key: bytes | None) -> bool:
    """The active file is one this store signed in an older format: to retrain."""
    data = _bytes(model_path(models_dir)) if model_path(models_dir).exists() else None
    return data is not None and _is_pickled(data, key)


def load_model(models_dir: str | Path, key: bytes | None) -> HighlightModel | None:
    payload = load_payload(models_dir, key)
    return None if payload is None else payload["model"]


# --- the active file's JSON description: what it is and what it learned from, not loading it
def _plain(data: Any) -> Any:
    """``data`` as JSON gives it back (tuples as lists, numpy numbers as numbers), so the
    description read from JSON and the one made from a payload are equal."""
    return json.loads(json.dumps(data, default=lambda value: value.item()))


METADATA_FIELDS = ("version", "trained_at", "activated_at", "n_ratings", "metrics")


def _metadata(payload: dict[str, Any]) -> dict[str, Any]:
    training_data = payload.get("training_data") or {}
    return _plain(
        {
            "version": payload.get("version"),
            "trained_at": training_data.get("trained_at"),
            "activated_at": payload.get("activated_at"),
            "n_ratings": len(training_data.get("ratings", ())),
            "metrics": payload.get("metrics"),
        }
    )


def _described(models_dir: str | Path, name: str) -> Path:
    return Path(models_dir) / versions.VERSIONS_DIR / name


def _stamp(path: Path) -> dict[str, Any] | None:
    """The active file's size and signature (the HMAC of its body, read from its head): what
    a description must name to describe it."""
    try:
        with path.open("rb") as file:
            head = file.read(len(MAGIC) + DIGEST_BYTES)
            size = os.fstat(file.fileno()).st_size
    except OSError:
        return None
    if len(head) < len(MAGIC) + DIGEST_BYTES or not head.startswith(MAGIC):
        return None
    return {"model_bytes": size, "model_signature": head[len(MAGIC) :].hex()}


def _stamp_of(data: bytes) -> dict[str, Any]:
    signature = data[len(MAGIC) : len(MAGIC) + DIGEST_BYTES]
    return {"model_bytes": len(data), "model_signature": signature.hex()}


def _sealed(record: dict[str, Any], key: bytes) -> str:
    body = json.dumps(record, sort_keys=True, allow_nan=False)
    return _signature(key, body.encode()).hex()


def _describe_active(
    models_dir: str | Path, data: bytes, payload: dict[str, Any], key: bytes, *, quiet: bool
) -> None:
    """Write both JSON files for the active file ``data``. They are a cache: when they cannot
    be written the model file is read instead, so a failure is a warning (or, ``quiet``, when a
    read-only command found them missing, nothing)."""
    try:
        stamp = _stamp_of(data)
        training_data = payload.get("training_data") or {}
        training = {
            **stamp,
            **{name: list(training_data.get(name, ())) for name in ("features", "clip_types")},
            "ratings": [int(stars) for stars in training_data.get("ratings", ())],
        }
        meta = {"meta_version": META_VERSION, **stamp, **_metadata(payload)}
        meta["signature"] = _sealed(meta, key)
        # The training file first: by the time the description names this model, the
        # training file it vouches for is in place.
        for name, record in ((TRAINING_FILENAME, training), (META_FILENAME, meta)):
            _write_atomically(_described(models_dir, name), json.dumps(record).encode())
    except (ModelError, TypeError, ValueError, AttributeError) as error:
        (log.debug if quiet else log.warning)("could not describe the model file: %s", error)


def _meta(models_dir: str | Path, key: bytes) -> dict[str, Any] | None:
    """The signed description of the active file, when it describes the file there now."""
    try:
        meta = json.loads(_described(models_dir, META_FILENAME).read_text())
        signature = meta.pop("signature")
        if not hmac.compare_digest(signature, _sealed(meta, key)):
            return None
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return None
    stamp = _stamp(model_path(models_dir))
    if meta.get("meta_version") != META_VERSION or stamp is None:
        return None
    if any(meta.get(name) != value for name, value in stamp.items()):
        return None
    return meta


def load_metadata(models_dir: str | Path, key: bytes | None) -> dict[str, Any] | None:
    """What the active model is, without loading it: ``version``, ``trained_at`` (when its
    training began), ``activated_at`` (when ``models use`` chose it), ``n_ratings`` and
    ``metrics``; None when there is no usable model. Read from the JSON description when it
    matches the file, else from the file itself (with its warnings), as ``load_payload``."""
    meta = None if key is None else _meta(models_dir, key)
    if meta is not None:
        return {name: meta.get(name) for name in METADATA_FIELDS}
    payload = load_payload(models_dir, key)
    return None if payload is None else _metadata(payload)


def load_training(models_dir: str | Path, key: bytes | None) -> dict[str, Any] | None:
    """What the active model was trained on (``features``, ``clip_types``, ``ratings``),
    without loading it; None when there is no usable model."""
    training = None if key is None else _described_training(models_dir, key)
    if training is not None:
        return training
    payload = load_payload(models_dir, key)
    return None if payload is None else payload["training_data"]


def _described_training(models_dir: str | Path, key: bytes) -> dict[str, Any] | None:
    """The training file, when the signed description of the active file vouches for it."""
    meta = _meta(models_dir, key)
    if meta is None:
        return None
    training = _read_training(_described(models_dir, TRAINING_FILENAME).absolute())
    if training is None or training.get("model_signature") != meta["model_signature"]:
        return None
    return training


def _read_training(path: Path) -> dict[str, Any] | None:
    """The training file, kept per process until it changes (the web UI asks per rating)."""
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = _training.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        training = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(training, dict):
        return None
    _training[path] = (stamp, training)
    return training
