"""A model file from elsewhere never runs code: not through stats, analyze, train or the web UI."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

from typer.testing import CliRunner

from conftest import Workspace, fill_store
from kickclip.cli import app
from kickclip.learn import model_file
from kickclip.learn.model_file import MODEL_FILENAME
from kickclip.settings import Settings


class _Payload:
    """Unpickling this creates ``marker``: what a hostile model file could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def _plant(models: Path, marker: Path) -> Path:
    models.mkdir(parents=True, exist_ok=True)
    path = models / MODEL_FILENAME
    path.write_bytes(pickle.dumps(_Payload(marker)))
    return path


def test_crafted_model_file_runs_nothing(workspace: Workspace, sample_video: Path) -> None:
    fill_store(workspace.db, 12, rated=12)
    marker = workspace.root / "pwned"
    crafted = _plant(workspace.models, marker)
    runner = CliRunner()

    for args in (["stats"], ["analyze", str(sample_video), "--clip-duration", "4"]):
        model_file._loaded.clear()  # each command is a process of its own, warning once
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert not marker.exists(), args
        assert "not written by this clip library" in result.stderr, args

    from kickclip.webui.rate_tab import statistics_markdown

    statistics_markdown(Settings(db=workspace.db, out=workspace.out, models_dir=workspace.models))
    assert not marker.exists()

    result = runner.invoke(app, ["train"])
    assert result.exit_code == 0, result.output
    assert not marker.exists()
    # The stranger's file is kept aside, never silently replaced; ours now stands in its place.
    aside = crafted.with_name(MODEL_FILENAME + ".foreign")
    assert aside.read_bytes() == pickle.dumps(_Payload(marker))
    assert crafted.read_bytes().startswith(model_file.MAGIC)
    stats = runner.invoke(app, ["stats", "--json"])
    assert stats.exit_code == 0
    assert json.loads(stats.stdout)["model"]["model_trained"] is True
    assert not marker.exists()


def test_crafted_model_file_runs_nothing_through_serve(workspace: Workspace) -> None:
    """The real `kickclip serve` process: statistics, the queue and the curve load nothing."""
    import socket
    import subprocess
    import sys
    import time

    from gradio_client import Client

    fill_store(workspace.db, 12, rated=12)
    marker = workspace.root / "pwned"
    _plant(workspace.models, marker)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "kickclip", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=workspace.root,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.communicate()[1]
                time.sleep(0.3)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        summary, model = client.predict(api_name="/stats")
        assert "Model not trained yet" in model and "12** rated" in summary
        client.predict(None, api_name="/load_unrated")
        client.predict(api_name="/learning_curve")
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert not marker.exists()
    warnings = [line for line in stderr.splitlines() if "not written by this clip library" in line]
    assert len(warnings) == 1 and warnings[0].startswith("Warning: "), stderr


class _Evil:
    """A type of nobody's list: building it would create ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __setstate__(self, state: dict) -> None:
        os.mkdir(state["marker"])


def test_a_file_signed_with_the_database_key_still_runs_nothing(workspace: Workspace) -> None:
    """Whoever reads clips.db can sign a file: a pickle inside, or a skops file naming a type
    outside the trusted list, is still never built; the ratings retrain a model instead."""
    import hmac

    import skops.io

    from kickclip.learn.trainer import RatingBasedTrainer
    from kickclip.store.clip_manager import ClipManager

    fill_store(workspace.db, 12, rated=12)
    manager = ClipManager(workspace.db)
    key = manager.model_key()
    marker = workspace.root / "pwned"
    path = workspace.models / MODEL_FILENAME
    workspace.models.mkdir(parents=True, exist_ok=True)

    def sign(magic: bytes, body: bytes) -> bytes:
        return magic + hmac.new(key, body, "sha256").digest() + body

    pickled = sign(model_file.PICKLED_MAGIC, pickle.dumps(_Payload(marker)))
    foreign_type = sign(
        model_file.MAGIC,
        skops.io.dumps({"format_version": model_file.FORMAT_VERSION, "model": _Evil(str(marker))}),
    )
    for crafted in (pickled, foreign_type):
        path.write_bytes(crafted)
        model_file._loaded.clear()
        assert model_file.load_model(workspace.models, key) is None
        assert not marker.exists()
    path.write_bytes(pickled)
    assert RatingBasedTrainer(manager, workspace.models).retrain_if_outdated()
    assert not marker.exists()
    assert model_file.load_model(workspace.models, key) is not None
