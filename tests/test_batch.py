"""kickclip batch: many sources in worker processes; a bad one spares the rest; reruns skip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import Workspace
from kickclip.cli import app
from kickclip.store.clip_manager import ClipManager
from media import make_media


@pytest.mark.parametrize("engine", ["ray", "processes"])
def test_batch_of_four_with_one_bad(
    workspace: Workspace, tmp_path: Path, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Ray (started in this process) and with local processes: the same outcomes."""
    from kickclip import batch

    if engine == "ray":
        monkeypatch.setattr(batch, "RAY_STALL_S", 120.0)  # a stuck Ray fails, never hangs
    folder = tmp_path / "vods"
    folder.mkdir()
    good = [
        make_media(folder / f"vod{n}.mp4", duration_s=40, bursts=[(10 + 5 * n, 12 + 5 * n)])
        for n in range(3)
    ]
    listing = tmp_path / "vods.txt"
    listing.write_text(
        "# this week's VODs\n"
        + "".join(f"{path}\n" for path in good[:2])
        + "\n"
        + f"{folder / 'missing.mp4'}\n"
    )
    args = [
        "batch",
        str(listing),
        str(good[2]),
        "--workers",
        "2",
        "--clip-duration",
        "6",
        "--min-gap",
        "10",
        "--top",
        "2",
        "--json",
    ]
    if engine == "ray":
        args += ["--ray-address", "local"]

    first = CliRunner().invoke(app, args)
    assert first.exit_code == 1, first.output
    assert ("Ray tasks on this machine" if engine == "ray" else "local worker") in first.stderr
    outcomes = json.loads(first.stdout)["sources"]
    assert [o["source"] for o in outcomes] == [
        str(good[0]),
        str(good[1]),
        str(folder / "missing.mp4"),
        str(good[2]),
    ]
    assert all(o["clips"] > 0 and o["error"] is None for o in outcomes[:2] + outcomes[3:])
    assert outcomes[2]["clips"] == 0 and "file not found" in outcomes[2]["error"]
    assert set(outcomes[0]) >= {"source", "clips", "error"}
    stored = len(ClipManager(workspace.db).list_clips(limit=-1))
    assert stored == sum(o["clips"] for o in outcomes)

    workspace.mark()
    again = CliRunner().invoke(app, args)  # nothing new to do
    assert again.exit_code == 1
    rerun = json.loads(again.stdout)["sources"]
    assert [o["reused"] for o in rerun] == [o["clips"] for o in outcomes]
    assert workspace.unchanged()


def test_batch_table_and_errors(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kickclip import batch

    monkeypatch.setattr(batch, "ray_available", lambda: False)
    vod = make_media(tmp_path / "vod.mp4", duration_s=30, bursts=[(10, 12)])
    result = CliRunner().invoke(app, ["batch", str(vod), "--clip-duration", "6"])
    assert result.exit_code == 0, result.output
    assert "1 of 1 sources done" in result.stdout
    empty = tmp_path / "none.txt"
    empty.write_text("# nothing yet\n")
    result = CliRunner().invoke(app, ["batch", str(empty)])
    assert result.exit_code == 1 and "no sources given" in result.stderr
    result = CliRunner().invoke(app, ["batch", str(vod), "--ray-address", "127.0.0.1:9"])
    assert result.exit_code == 1 and "needs Ray" in result.stderr
