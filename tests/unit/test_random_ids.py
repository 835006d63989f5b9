"""Random ids: their shapes, no repeats, and a forked child never repeats its parent."""

from __future__ import annotations

import os
import re
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud import random_ids
from smscloud.store.messages import new_serial_no, new_serial_nos


def test_request_ids_are_version_4_uuids_and_never_repeat() -> None:
    ids = [random_ids.request_id() for _ in range(5000)]  # several 4 KiB blocks
    assert len(set(ids)) == len(ids)
    for text in ids[:300]:
        u = uuid.UUID(text)
        assert str(u) == text and u.version == 4 and u.variant == uuid.RFC_4122


@given(st.binary(min_size=16, max_size=16))
def test_uuid4_text_is_the_standard_librarys(raw: bytes) -> None:
    assert random_ids.uuid4_text(raw) == str(uuid.UUID(bytes=raw, version=4))


def test_serials_keep_tencents_shape_and_spread_over_every_digit() -> None:
    serials = [new_serial_no() for _ in range(3000)]
    assert all(re.fullmatch(r"5000:\d{28}", s) for s in serials)
    assert len(set(serials)) == len(serials)
    # 93 random bits modulo 10**28: every leading digit turns up.
    assert {s[5] for s in serials} == set("0123456789")


@pytest.mark.parametrize("count", [0, 1, 200, 400])  # 400 serials: more than a block
def test_serials_drawn_together_are_as_many_as_asked_and_all_different(count: int) -> None:
    serials = new_serial_nos(count) + new_serial_nos(count)
    assert len(serials) == 2 * count
    assert len(set(serials)) == len(serials)
    assert all(re.fullmatch(r"5000:\d{28}", s) for s in serials)


@pytest.mark.parametrize("digits", [0, 29])
def test_serial_digits_out_of_range(digits: int) -> None:
    with pytest.raises(ValueError):
        random_ids.serial_digits(digits)
    with pytest.raises(ValueError):
        random_ids.serial_digits_many(digits, 3)


def test_bytes_are_never_handed_out_twice_across_blocks() -> None:
    chunks = [random_ids.random_bytes(100) for _ in range(200)]  # 20,000 bytes, 5 blocks
    assert len(set(chunks)) == len(chunks)
    assert len(random_ids.random_bytes(10_000)) == 10_000  # more than a block at once


def test_a_forked_child_draws_other_bytes_than_its_parent() -> None:
    random_ids.random_bytes(16)  # the parent holds a partly used block
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id and leave at once
        os.close(read)
        os.write(write, random_ids.request_id().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child != random_ids.request_id()


class _CountingBytes:
    """A stand-in pool handing out 0, 1, ..., 255, 0, 1, ... in order."""

    def __init__(self) -> None:
        self.next = 0

    def take(self, n: int) -> bytes:
        out = bytes((self.next + i) % 256 for i in range(n))
        self.next = (self.next + n) % 256
        return out


def test_serial_digits_are_each_byte_mod_10_with_the_uneven_top_bytes_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Bytes 250-255 would make 0-5 likelier than 6-9: they are skipped, whatever the draw.
    monkeypatch.setattr(random_ids, "_POOL", _CountingBytes())
    serials = random_ids.serial_digits_many(28, 20)  # 560 digits: 2 rounds of 250 and more
    flat = "".join(serials)
    assert flat == ("0123456789" * 25 * 3)[:560]
    assert [len(s) for s in serials] == [28] * 20
