"""Two processes rating at the same moment: every rating lands, nothing is ever locked out."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from conftest import fill_store

WORKER = """
import sys, time
from kickclip.store.clip_manager import ClipManager
db, first, last, start_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
manager = ClipManager(db)
while time.time() < start_at:
    time.sleep(0.001)
for clip_id in range(first, last + 1):
    manager.rate_clip(clip_id, 1 + clip_id % 5)
print("done")
"""


def test_two_processes_rate_400_clips_at_once(db_location: Path | str) -> None:
    manager, ids = fill_store(db_location, 400)
    assert ids == list(range(1, 401))
    start_at = time.time() + 2.0  # both workers are up and waiting by then
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                str(manager.db_path),
                str(first),
                str(last),
                str(start_at),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for first, last in ((1, 200), (201, 400))
    ]
    results = [worker.communicate(timeout=120) for worker in workers]
    for worker, (stdout, stderr) in zip(workers, results, strict=True):
        assert worker.returncode == 0, stderr
        assert "locked" not in stderr and stdout.strip() == "done"
    stored = {clip.id: clip.rating for clip in manager.rated_clips()}
    assert stored == {clip_id: 1 + clip_id % 5 for clip_id in range(1, 401)}
