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


NOW = 1_765_432_101.234  # 2025-12-11, any clock reading


def test_serials_keep_tencents_shape_and_spread_over_every_random_digit() -> None:
    serials = [new_serial_no(NOW) for _ in range(3000)]
    assert all(re.fullmatch(r"5000:\d{28}", s) for s in serials)
    assert len(set(serials)) == len(serials)
    # The 15 random digits: every value turns up at each of their places.
    for place in range(5 + 13, 5 + 28):
        assert {s[place] for s in serials} == set("0123456789")


def test_a_serial_starts_with_its_acceptance_time_in_milliseconds() -> None:
    assert new_serial_no(NOW)[5:18] == "1765432101234"
    assert {s[5:18] for s in new_serial_nos(50, NOW)} == {"1765432101234"}
    # A clock before the epoch or beyond 13 digits wraps instead of changing the shape.
    assert re.fullmatch(r"5000:\d{28}", new_serial_no(-1.0))
    assert re.fullmatch(r"5000:\d{28}", new_serial_no(1e13))


@given(st.lists(st.floats(0, 9_999_999_999.0), min_size=2, max_size=20))
def test_serials_of_later_messages_sort_after_earlier_ones(times: list[float]) -> None:
    # The unique index on serials is then written at its right edge, not on a random page.
    times.sort()
    serials = [new_serial_no(t) for t in times]
    for i in range(1, len(times)):
        if int(times[i - 1] * 1000) < int(times[i] * 1000):
            assert serials[i - 1] < serials[i]


@pytest.mark.parametrize("count", [0, 1, 200, 400])  # 400 serials: more than a block
def test_serials_drawn_together_are_as_many_as_asked_and_all_different(count: int) -> None:
    serials = new_serial_nos(count, NOW) + new_serial_nos(count, NOW)
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
