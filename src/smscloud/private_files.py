"""Files and directories only the service's own user may read: directories 0700, files 0600.

The data directory holds the SQLite database (API secrets, AppKeys, password hashes), the
console's cookie key, identity documents, outgoing mail, bills and the demo credentials.
Everything there is made through this module, with its mode given at creation and set again
with ``fchmod``/``chmod``: the process umask only ever removes bits from a mode, so files made
with the defaults (0666, 0777; SQLite's 0644) are readable by every local user under the
usual umask 022, and world-writable under umask 0. The umask itself is never changed: it
belongs to the whole process, and other threads create files too.

SQLite creates the ``-wal`` and ``-shm`` files beside a database itself and gives them the
mode of the database file, so a database file made here 0600 keeps its companions 0600.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "create_once", "create_private", "private_dir", "write_private"]

DIR_MODE = 0o700
FILE_MODE = 0o600


def _make_parents(path: Path) -> None:
    """Create the missing directories of ``path`` (itself included), each 0700; directories
    that exist already are left as they are (they may be the operator's, like ``/var/lib``)."""
    missing: list[Path] = []
    here = path
    while not here.exists() and here.parent != here:
        missing.append(here)
        here = here.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.mkdir(directory, DIR_MODE)
        os.chmod(directory, DIR_MODE)


def private_dir(path: Path) -> Path:
    """Make ``path`` a 0700 directory (created with its missing parents, or tightened)."""
    _make_parents(path)
    if stat.S_IMODE(os.stat(path).st_mode) != DIR_MODE:
        os.chmod(path, DIR_MODE)
    return path


def create_private(path: Path) -> bool:
    """Create ``path`` as an empty 0600 file; False (and nothing changed) if it exists."""
    _make_parents(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return True


def _temp_beside(path: Path, data: bytes, durable: bool) -> str:
    """A 0600 temporary file holding ``data`` in ``path``'s directory; its name starts with a
    dot and ends ``.tmp`` so that directory listings skip it."""
    _make_parents(path.parent)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            if durable:
                out.flush()
                os.fsync(out.fileno())
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return temp


def write_private(path: Path, data: bytes, *, durable: bool = False) -> Path:
    """Write ``data`` as the 0600 file ``path``, all at once: a reader sees the old file or
    the new one, never half of it. ``durable`` puts it on disk before it takes the name."""
    temp = _temp_beside(path, data, durable)
    try:
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def create_once(path: Path, data: bytes) -> bool:
    """Create the 0600 file ``path`` holding ``data`` unless it exists (then False).

    The file appears whole (a hard link to a finished temporary file), so another process
    starting at the same moment reads either nothing or all of it, and only one writer wins.
    """
    temp = _temp_beside(path, data, durable=True)
    try:
        os.link(temp, path)
    except FileExistsError:
        return False
    finally:
        Path(temp).unlink(missing_ok=True)
    return True
