"""Cut a TCP byte stream into PDUs by command_length (SMPP 3.4 §3.2)."""

from __future__ import annotations

from collections.abc import Iterator

from .base import Pdu
from .codec import HEADER_LENGTH, MAX_COMMAND_LENGTH, PduError, decode, peek_header
from .status import CommandStatus

__all__ = ["Framer"]


class Framer:
    """``feed()`` bytes as they arrive, then iterate the complete PDUs.

    A command_length below 16 or above ``MAX_COMMAND_LENGTH`` loses the frame boundary for
    good: ``PduError(ESME_RINVCMDLEN)`` is raised and then every later call raises it too
    (the session must answer with generic_nack and close, §3.3.3). A PDU whose length is
    sound but whose body is bad is consumed before its ``PduError`` is raised, so the
    caller can nack it and keep reading.
    """

    def __init__(self, max_length: int = MAX_COMMAND_LENGTH) -> None:
        self._buf = bytearray()
        self._max = max_length
        self._broken: PduError | None = None

    def feed(self, data: bytes) -> None:
        if self._broken is None:
            self._buf += data

    @property
    def buffered(self) -> int:
        """Octets received but not yet part of a returned PDU."""
        return len(self._buf)

    def next_frame(self) -> bytes | None:
        """The raw bytes of the next complete PDU, or None if more data is needed."""
        if self._broken is not None:
            raise self._broken
        if len(self._buf) < HEADER_LENGTH:
            return None
        length, command_id, _, seq = peek_header(self._buf)
        if not HEADER_LENGTH <= length <= self._max:
            self._broken = PduError(
                CommandStatus.ESME_RINVCMDLEN, f"command_length {length}", command_id, seq
            )
            self._buf.clear()
            raise self._broken
        if len(self._buf) < length:
            return None
        frame = bytes(self._buf[:length])
        del self._buf[:length]
        return frame

    def next_pdu(self) -> Pdu | None:
        """The next decoded PDU, or None if more data is needed."""
        frame = self.next_frame()
        return None if frame is None else decode(frame)

    def __iter__(self) -> Iterator[Pdu]:
        while (pdu := self.next_pdu()) is not None:
            yield pdu
