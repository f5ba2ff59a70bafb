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


# --- a worker killed, the batch killed ------------------------------------------------------
def _pid_of_client(port: int) -> int | None:
    """The process holding the TCP connection whose local (client) port is ``port``."""
    import os

    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        if any(link in {f"socket:[{inode}]" for inode in inodes} for link in links):
            return int(pid)
    return None


class _Stall:
    """An HTTP server that answers nothing; ``on_client(pid)`` runs for each client process."""

    def __init__(self, on_client) -> None:
        import socket
        import threading

        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held: list = []

        def serve() -> None:
            while True:
                try:
                    client, (_, peer_port) = self.listener.accept()
                except OSError:
                    return
                self.held.append(client)
                on_client(_pid_of_client(peer_port))

        threading.Thread(target=serve, daemon=True).start()

    def close(self) -> None:
        self.listener.close()
        for client in self.held:
            client.close()


def test_a_killed_worker_fails_only_its_source(workspace: Workspace, tmp_path: Path) -> None:
    import os
    import signal

    good = [make_media(tmp_path / f"vod{n}.mp4", duration_s=20, bursts=[(8, 10)]) for n in range(2)]
    killed: list[int] = []

    def kill(pid: int | None) -> None:
        if pid is not None and pid != os.getpid():
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    stall = _Stall(kill)
    try:
        hanging = f"http://127.0.0.1:{stall.port}/live.mp4"
        result = CliRunner().invoke(
            app,
            ["batch", hanging, *map(str, good), "--workers", "2", "--clip-duration", "4", "--json"],
        )
    finally:
        stall.close()
    assert killed and result.exit_code == 1, result.output
    outcomes = {o["source"]: o for o in json.loads(result.stdout)["sources"]}
    assert "killed by signal 9" in outcomes[hanging]["error"]
    assert all(outcomes[str(path)]["error"] is None for path in good)
    assert all(outcomes[str(path)]["clips"] >= 1 for path in good)


def test_workers_end_with_the_batch(workspace: Workspace, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import threading
    import time

    workers: list[int] = []
    connected = threading.Event()

    def note(pid: int | None) -> None:
        if pid is not None:
            workers.append(pid)
            connected.set()

    stall = _Stall(note)
    try:
        batch = subprocess.Popen(
            [sys.executable, "-m", "kickclip.cli", "batch", f"http://127.0.0.1:{stall.port}/a.mp4"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert connected.wait(60), "the worker never connected"
        os.kill(batch.pid, signal.SIGKILL)
        batch.wait()
        deadline = time.monotonic() + 5  # well before the 15 s a stalled read takes

        def alive(pid: int) -> bool:
            try:
                with open(f"/proc/{pid}/status") as status:
                    return "\nState:\tZ" not in status.read()
            except OSError:
                return False

        while alive(workers[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert workers[0] != batch.pid and not alive(workers[0])
    finally:
        stall.close()
