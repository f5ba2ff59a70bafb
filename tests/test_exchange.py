"""Export and import: CSV and JSON round trips, merging without duplicates, bad files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import Workspace, fill_store
from kickclip.errors import ExchangeError
from kickclip.store.clip_manager import ClipManager
from kickclip.store.exchange import export_clips, import_clips


def _essence(manager: ClipManager) -> list[tuple]:
    return sorted(
        (
            c.filepath,
            c.start_time,
            c.end_time,
            c.score,
            c.clip_type,
            tuple(sorted(c.features.items())),
            c.rating,
            c.source_url,
        )
        for c in manager.list_clips(limit=-1)
    )


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_round_trip_and_no_duplicates(tmp_path: Path, suffix: str) -> None:
    source, _ = fill_store(tmp_path / "a.db", 12, rated=7)
    path = tmp_path / f"export{suffix}"
    assert export_clips(source, path) == 12
    assert not list(tmp_path.glob("*.part"))
    target = ClipManager(tmp_path / "b.db")
    assert import_clips(target, path).added == 12
    assert _essence(target) == _essence(source)
    again = import_clips(target, path)
    assert (again.added, again.rated, again.skipped) == (0, 0, 12)
    assert len(target.list_clips(limit=-1)) == 12


def test_csv_has_metadata_features_and_ratings(tmp_path: Path) -> None:
    manager, _ = fill_store(tmp_path / "a.db", 3, rated=3)
    export_clips(manager, tmp_path / "out.csv")
    rows = list(csv.DictReader((tmp_path / "out.csv").open()))
    assert len(rows) == 3
    assert {"filepath", "start_time", "clip_type", "rating", "feature:motion_mean"} <= set(rows[0])
    assert all(1 <= int(row["rating"]) <= 5 for row in rows)


def test_import_fills_in_missing_ratings(tmp_path: Path) -> None:
    rated, _ = fill_store(tmp_path / "a.db", 5, rated=5)
    export_clips(rated, tmp_path / "ratings.json")
    unrated, _ = fill_store(tmp_path / "b.db", 5, rated=0)
    summary = import_clips(unrated, tmp_path / "ratings.json")
    assert (summary.added, summary.rated) == (0, 5)
    assert unrated.get_training_data()[1] == rated.get_training_data()[1]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", "{not json", "not valid JSON"),
        (
            "bad.json",
            json.dumps(
                {
                    "clips": [
                        {
                            "filepath": "/a",
                            "start_time": 0,
                            "end_time": 5,
                            "score": 0.5,
                            "clip_type": "audio",
                            "features": {},
                            "rating": 9,
                        }
                    ]
                }
            ),
            "clip 1",
        ),
        ("bad.csv", "filepath,start_time\n/a,0\n", "missing column"),
        ("bad.txt", "", "use a .csv or .json file"),
    ],
)
def test_bad_import_changes_nothing(
    workspace: Workspace, name: str, content: str, message: str
) -> None:
    manager, _ = fill_store(workspace.db, 3, rated=1)
    (workspace.root / name).write_text(content)
    workspace.mark()
    with pytest.raises(ExchangeError, match=message):
        import_clips(manager, workspace.root / name)
    assert workspace.unchanged()


def test_one_bad_row_rolls_back_the_good_ones(workspace: Workspace) -> None:
    manager = ClipManager(workspace.db)
    good = {
        "filepath": "/ok.mp4",
        "start_time": 0,
        "end_time": 5,
        "score": 0.5,
        "clip_type": "audio",
        "features": {"a": 1},
    }
    bad = {**good, "filepath": "/bad.mp4", "clip_type": "gif"}
    (workspace.root / "mixed.json").write_text(json.dumps({"clips": [good, bad]}))
    workspace.mark()
    with pytest.raises(ExchangeError, match="clip 2"):
        import_clips(manager, workspace.root / "mixed.json")
    assert workspace.unchanged()
