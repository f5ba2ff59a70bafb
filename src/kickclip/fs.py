"""Temporary files that become user files: made beside their final place, with normal rights.

``tempfile.mkstemp`` makes files readable by their owner only (0600); renamed into place, a
clip, an export or a model would keep that, unlike every other file the user makes. These get
what the user's umask gives a new file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_file(folder: str | Path, prefix: str, suffix: str) -> tuple[int, Path]:
    """An open descriptor and the path of a new, empty file in ``folder``."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=suffix)
    os.fchmod(fd, 0o666 & ~_umask())
    return fd, Path(name)
