"""The front-ends reach the stages only through ``pipeline`` (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "kickclip"
FRONT_ENDS = [PACKAGE / "cli.py", *sorted((PACKAGE / "webui").glob("*.py"))]
# Stages and the actions that chain them; the store's and the trainer's public classes (the
# Python API) and small helpers of ingest (URL forms) stay readable from a front-end.
STAGES = (
    "kickclip.analyze",
    "kickclip.detect",
    "kickclip.rescore",
    "kickclip.cut",
    "kickclip.housekeeping",
    "kickclip.explain",
    "kickclip.store.exchange",
    "kickclip.learn.model",
    "kickclip.learn.model_file",
    "kickclip.learn.dataset",
    "kickclip.learn.active",
)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("front_end", FRONT_ENDS, ids=lambda p: p.name)
def test_front_ends_call_stages_only_through_pipeline(front_end: Path) -> None:
    reached = {
        name
        for name in _imports(front_end)
        if any(name == stage or name.startswith(stage + ".") for stage in STAGES)
    }
    assert not reached, f"{front_end.name} imports {sorted(reached)}: go through kickclip.pipeline"
