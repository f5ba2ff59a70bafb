"""A throwaway PostgreSQL server on a loopback port, for the store tests.

Debian's server binaries (``apt install postgresql``, which ``scripts/test`` does) run a fresh
cluster in a temporary folder with trust authentication, listening on 127.0.0.1 only. The
server refuses to run as root, so as root the cluster belongs to the ``postgres`` account.
``KICKCLIP_TEST_POSTGRES=postgresql://…`` points the tests at a server of your own instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SUPERUSER = "kickclip"
_RUNNING: dict[str, list] = {}  # server URL -> the pg_ctl command line that restarts it


def _server_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if not found:
        raise RuntimeError(
            "PostgreSQL's server is not installed: `apt install postgresql` (scripts/test does), "
            "or set KICKCLIP_TEST_POSTGRES to a server of your own"
        )
    return Path(found[-1]).parent


def _version(path: str) -> int:
    return int(Path(path).parent.parent.name.split(".")[0])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def postgres_server() -> Iterator[str]:
    """The URL of a running server's maintenance database; the server stops afterwards."""
    if os.environ.get("KICKCLIP_TEST_POSTGRES"):
        yield os.environ["KICKCLIP_TEST_POSTGRES"]
        return
    server = _server_bin()
    home = Path(tempfile.mkdtemp(prefix="kickclip-pg-"))
    as_owner: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(home, owner.pw_uid, owner.pw_gid)
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, port = home / "data", _free_port()
    run = {"check": True, "capture_output": True, "text": True}
    try:
        subprocess.run(
            [*as_owner, server / "initdb", "-D", data, "-U", SUPERUSER, "--auth=trust", "-E",
             "UTF8", "--no-sync"],
            **run,
        )  # fmt: skip
        options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [*as_owner, server / "pg_ctl", "-D", data, "-o", options, "-l", home / "log", "-w",
             "start"],
            **run,
        )  # fmt: skip
    except subprocess.CalledProcessError as error:
        log = home / "log"
        detail = log.read_text() if log.exists() else error.stderr
        shutil.rmtree(home, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {detail.strip()[-500:]}") from None
    url = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"
    _RUNNING[url] = [*as_owner, server / "pg_ctl", "-D", data, "-o", options, "-l",
                     home / "log", "-w", "-m", "immediate", "restart"]  # fmt: skip
    try:
        yield url
    finally:
        _RUNNING.pop(url, None)
        subprocess.run(
            [*as_owner, server / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(home, ignore_errors=True)


def restart(server_url: str) -> None:
    """Stop the server at once (every connection dropped, as in a crash) and start it again."""
    subprocess.run(_RUNNING[server_url], check=True, capture_output=True)


def fresh_database(server_url: str) -> str:
    """A new, empty database on the server; its URL."""
    import psycopg

    name = f"kickclip_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"
