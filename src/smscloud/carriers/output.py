"""An SMPP connection's outgoing bytes, written to the transport once per event-loop turn.

Both ends use it: the connector's binds (``smpp/bind.py``) and the SMSC simulator's
connections (``smsc/connection.py``). A send() per PDU was a fifth of the simulator's CPU.
"""

from __future__ import annotations

import asyncio


class Output:
    """Collects PDUs written in one loop turn and hands them to the transport together.

    A window of submits (or of their responses), or a burst of receipts and their
    deliver_sm_resp, then costs one send() system call instead of one each. Order is kept:
    everything goes through here.
    """

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self._chunks: list[bytes] = []
        self._scheduled = False

    def write(self, data: bytes) -> None:
        self._chunks.append(data)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Write what is pending now (also before closing, so nothing queued is lost)."""
        self._scheduled = False
        if self._chunks and not self.writer.is_closing():
            self.writer.write(b"".join(self._chunks))
        self._chunks.clear()

    @property
    def buffered(self) -> int:
        """Bytes waiting in the transport (what has been flushed and not yet sent)."""
        return self.writer.transport.get_write_buffer_size()
