"""The CLI over the store and the trainer: outputs, exit codes, one error line, no changes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import Workspace, fill_store
from kickclip.cli import app


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


BAD = [
    ["rate", "1", "0"],
    ["rate", "1", "6"],
    ["rate", "1", "five"],
    ["rate", "1", "3.5"],
    ["rate", "999", "3"],
    ["rate", "abc", "3"],
    ["import", "missing.json"],
    ["import", "bad.json"],
    ["export", "clips.txt"],
    ["train", "--min-samples", "50"],
]


@pytest.mark.parametrize("args", BAD, ids=[" ".join(a) for a in BAD])
def test_bad_input(args: list[str], workspace: Workspace) -> None:
    fill_store(workspace.db, 3, rated=2)
    (workspace.root / "bad.json").write_text("{oops")
    workspace.mark()
    result = run(*args)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    assert workspace.unchanged()


def test_usage_error_exits_2(workspace: Workspace) -> None:
    assert run("rate", "1").exit_code == 2
    assert run("clips", "--limit", "0").exit_code == 2


def test_clips_json_and_table(workspace: Workspace) -> None:
    fill_store(workspace.db, 5, rated=2)
    listed = json.loads(run("clips", "--json").stdout)
    assert [c["id"] for c in listed] == [5, 4, 3, 2, 1]
    assert {"filepath", "start_time", "features", "rating", "clip_type"} <= set(listed[0])
    unrated = json.loads(run("clips", "--unrated", "--json").stdout)
    # No model yet: the detector's best unrated clip, then its worst, then the next best.
    by_score = sorted((c for c in listed if c["rating"] is None), key=lambda c: -c["score"])
    expected = [by_score[0]["id"], by_score[-1]["id"], by_score[1]["id"]]
    assert [c["id"] for c in unrated] == expected
    assert "clip4.mp4" in run("clips").stdout


def test_rating_ten_clips_trains_the_model(workspace: Workspace) -> None:
    fill_store(workspace.db, 12)
    outputs = [run("rate", str(i), str(1 + i % 5)) for i in range(1, 11)]
    assert all(r.exit_code == 0 for r in outputs)
    assert "Rated clip 3: ★★★★☆" in outputs[2].stdout
    assert "Retrained" not in outputs[8].stdout and "Retrained" in outputs[9].stdout
    assert (workspace.models / "highlight_model.pkl").is_file()
    stats = json.loads(run("stats", "--json").stdout)
    assert stats["statistics"]["rated_clips"] == 10
    assert stats["statistics"]["rating_distribution"] == {"1": 2, "2": 2, "3": 2, "4": 2, "5": 2}
    assert stats["model"]["model_trained"] is True and stats["model"]["next_auto_train_in"] == 5
    trained = run("train")
    assert trained.exit_code == 0 and "Spearman" in trained.stdout
    assert "10 rated" in run("stats").stdout


def test_export_import_cleanup(workspace: Workspace, tmp_path_factory) -> None:
    fill_store(workspace.db, 4, rated=4)
    assert "Exported 4 clips" in run("export", "all.csv").stdout
    other = tmp_path_factory.mktemp("other") / "other.db"
    result = run("import", "all.csv", "--db", str(other))
    assert "4 added" in result.stdout
    assert "0 added" in run("import", "all.csv", "--db", str(other)).stdout
    # None of the clip files exist: their rated rows are kept until --prune.
    assert "Kept 4 clip(s)" in run("cleanup").stdout
    assert len(json.loads(run("clips", "--json").stdout)) == 4
    assert "4 rows whose file is gone removed" in run("cleanup", "--prune").stdout
    assert json.loads(run("clips", "--json").stdout) == []


def test_an_import_that_makes_training_due_trains(workspace: Workspace, tmp_path_factory) -> None:
    """Ratings brought in by import count like ratings given: 12 of them start the model
    (before, stats said "0 more ratings needed" and nothing trained)."""
    fill_store(workspace.db, 12, rated=12)
    assert "Exported 12 clips" in run("export", "all.json").stdout
    other = tmp_path_factory.mktemp("fresh")
    result = run(
        "import", "all.json", "--db", str(other / "clips.db"), "--models-dir", str(other / "m")
    )
    assert result.exit_code == 0, result.output
    assert "Model trained on 12 ratings" in result.stdout
    stats = run("stats", "--db", str(other / "clips.db"), "--models-dir", str(other / "m"))
    assert "not trained yet" not in stats.stdout
    again = run(
        "import", "all.json", "--db", str(other / "clips.db"), "--models-dir", str(other / "m")
    )
    assert "0 added" in again.stdout and "Model trained" not in again.stdout


def test_flag_beats_env_var(workspace: Workspace, tmp_path_factory) -> None:
    fill_store(workspace.db, 2)
    other = tmp_path_factory.mktemp("flag") / "flag.db"
    fill_store(other, 5)
    assert len(json.loads(run("clips", "--json").stdout)) == 2
    assert len(json.loads(run("clips", "--json", "--db", str(other)).stdout)) == 5


def test_real_process_prints_one_line_and_stays_light(workspace: Workspace) -> None:
    fill_store(workspace.db, 1)
    done = subprocess.run(
        [sys.executable, "-m", "kickclip.cli", "rate", "1", "9"], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: rating must be from 1 to 5, got 9"
    probe = (
        "import sys, kickclip.cli; heavy = [m for m in ('gradio', 'sklearn', 'yt_dlp', 'av')"
        " if m in sys.modules]; print(heavy)"
    )
    imported = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert imported.stdout.strip() == "[]"


def test_serve_refuses_a_missing_media_dir(workspace: Workspace) -> None:
    result = CliRunner().invoke(app, ["serve", "--media-dir", "no-such-folder"])
    assert result.exit_code == 1
    assert result.stderr == "Error: --media-dir no-such-folder: no such folder\n"


def test_analyze_hints_the_generate_command_with_the_options_given(
    workspace: Workspace, sample_video: Path
) -> None:
    result = run(
        "analyze", str(sample_video), "--clip-duration", "4", "--min-gap", "5", "--thorough"
    )
    assert result.exit_code == 0, result.output
    hint = f"kickclip generate {sample_video} --clip-duration 4 --min-gap 5 --thorough"
    assert f"Cut them with: {hint}" in result.stdout
