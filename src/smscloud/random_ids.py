"""Random identifiers (request ids, serial numbers, call ids) from the kernel's CSPRNG.

Every API request and every accepted message gets a random id. ``uuid.uuid4()`` and
``secrets`` read ``os.urandom`` once per id: a system call that releases the GIL, so under
load the event loop handed the interpreter to the store's writer thread for every request and
waited to get it back. Here the kernel's random bytes are read 4 KiB at a time and handed out
in slices: as unpredictable as ``os.urandom`` (they are its bytes, each used once), one system
call per 256 request ids. A forked child starts with a fresh block, so parent and child never
hand out the same bytes.
"""

from __future__ import annotations

import os
import threading

__all__ = ["random_bytes", "request_id", "serial_digits", "uuid4_text"]

_BLOCK = 4096


class _Pool:
    __slots__ = ("buf", "lock", "pos")

    def __init__(self) -> None:
        self.lock = threading.Lock()  # the writer thread and the read pool draw too
        self.buf = b""
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n > _BLOCK:
            return os.urandom(n)
        with self.lock:
            if self.pos + n > len(self.buf):
                self.buf, self.pos = os.urandom(_BLOCK), 0
            chunk = self.buf[self.pos : self.pos + n]
            self.pos += n
            return chunk

    def forget(self) -> None:
        self.lock = threading.Lock()
        self.buf, self.pos = b"", 0


_POOL = _Pool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_POOL.forget)


def random_bytes(n: int) -> bytes:
    """``n`` bytes from the kernel's CSPRNG, never handed out twice."""
    return _POOL.take(n)


def request_id() -> str:
    """A random (version 4) UUID as text: Tencent's ``RequestId`` shape."""
    return uuid4_text(_POOL.take(16))


def uuid4_text(raw: bytes) -> str:
    """``str(uuid.UUID(bytes=raw, version=4))``, at a third of its cost (one per request)."""
    b = bytearray(raw)
    b[6] = (b[6] & 0x0F) | 0x40  # version 4 (RFC 9562 §5.4)
    b[8] = (b[8] & 0x3F) | 0x80  # variant 10
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def serial_digits(digits: int) -> str:
    """``digits`` random decimal digits (at most 28: 93 random bits, as Tencent's serials)."""
    return serial_digits_many(digits, 1)[0]


# A byte below 250 gives the digit byte % 10; 250 to 255 are dropped, so that every digit is
# equally likely. One translate of the drawn bytes makes every digit of a batch at once.
_DIGIT_OF_BYTE = bytes(0x30 + b % 10 for b in range(256))
_UNEVEN = bytes(range(250, 256))


def serial_digits_many(digits: int, count: int) -> list[str]:
    """``count`` strings of ``digits`` random decimal digits, from one draw of the pool."""
    if not 0 < digits <= 28:
        raise ValueError("1 to 28 digits")
    need = digits * count
    text = b""
    while len(text) < need:
        short = need - len(text)
        # 6 bytes in 256 are dropped: draw about 3% more than is short, so one draw suffices.
        text += _POOL.take(short + short // 32 + 8).translate(_DIGIT_OF_BYTE, _UNEVEN)
    flat = text[:need].decode("ascii")
    return [flat[i : i + digits] for i in range(0, need, digits)]
