"""Private files and directories: exactly 0600 and 0700 whatever the process umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from smscloud.private_files import (
    DIR_MODE,
    FILE_MODE,
    create_once,
    create_private,
    private_dir,
    write_private,
)


@pytest.fixture(params=[0o000, 0o022, 0o277], ids=["umask000", "umask022", "umask277"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Runs the test under a permissive, the usual and an over-strict umask, then restores."""
    old = os.umask(request.param)
    try:
        yield int(request.param)
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_dir_makes_every_missing_level_0700(tmp_path: Path, umask: int) -> None:
    leaf = tmp_path / "a" / "b" / "c"
    assert private_dir(leaf) == leaf
    for level in (tmp_path / "a", tmp_path / "a" / "b", leaf):
        assert mode(level) == DIR_MODE


def test_private_dir_tightens_an_existing_directory(tmp_path: Path, umask: int) -> None:
    loose = tmp_path / "data"
    loose.mkdir()
    loose.chmod(0o755)
    private_dir(loose)
    assert mode(loose) == DIR_MODE


def test_existing_parents_are_left_alone(tmp_path: Path, umask: int) -> None:
    tmp_path.chmod(0o755)
    create_private(tmp_path / "new" / "smscloud.db")
    assert mode(tmp_path) == 0o755  # somebody else's directory, e.g. /var/lib
    assert mode(tmp_path / "new") == DIR_MODE


def test_create_private_makes_an_empty_0600_file_once(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "smscloud.db"
    assert create_private(path)
    assert mode(path) == FILE_MODE and path.read_bytes() == b""
    path.write_bytes(b"kept")
    path.chmod(0o640)  # an operator's own choice for a file that exists is not undone
    assert not create_private(path)
    assert path.read_bytes() == b"kept" and mode(path) == 0o640


def test_write_private_replaces_whole_files_as_0600(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "out" / "bill.csv"
    write_private(path, b"first")
    assert path.read_bytes() == b"first" and mode(path) == FILE_MODE
    path.chmod(0o644)
    write_private(path, b"second", durable=True)
    assert path.read_bytes() == b"second" and mode(path) == FILE_MODE
    assert sorted(p.name for p in path.parent.iterdir()) == ["bill.csv"]  # no temporary left


def test_create_once_keeps_the_first_content(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "console-secret"
    assert create_once(path, b"one\n")
    assert not create_once(path, b"two\n")
    assert path.read_bytes() == b"one\n" and mode(path) == FILE_MODE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["console-secret"]
