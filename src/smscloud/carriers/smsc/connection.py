"""One TCP connection of the simulator: bytes to and from ``Session(Role.SMSC)``.

A thin adapter in the h11/Hypercorn shape: it reads bytes, feeds the sans-IO session, and
hands each PDU to the simulator, which decides what to answer. It owns no SMSC logic; the
only timer it runs is the response timeout of its own requests (deliver_sm, unbind).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from smscloud.carriers.output import Output
from smscloud.protocols.smpp import DeliverSm, Pdu, PduError, Role, Session, SessionError, State

if TYPE_CHECKING:
    from .simulator import SmscSimulator

__all__ = ["SmscConnection"]

_READ_SIZE = 65536


class SmscConnection:
    """The SMSC end of one ESME connection. ``system_id`` is set once bound."""

    def __init__(
        self, sim: SmscSimulator, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.sim = sim
        self.reader, self.writer = reader, writer
        config = sim.config
        self.session = Session(
            Role.SMSC,
            window=config.window,
            response_timeout=config.response_timeout,
            now=self.now(),
        )
        self.system_id: str | None = None
        # deliver_sm sent and not yet answered, with their bytes, by sequence number: the
        # session forgets a request when its response arrives, and the simulator wants to
        # know what was answered.
        self.delivering: dict[int, tuple[DeliverSm, bytes]] = {}
        self.recent: deque[float] = deque()  # times of accepted submits, for the cap
        self.submits = 0  # submit_sm received on this connection
        self.closed = False
        self.writing = True  # False once ``stop_writing`` sent our end's FIN
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._last_error: PduError | None = None
        self._out = Output(writer)  # what one loop turn writes leaves in one send()
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @staticmethod
    def now() -> float:
        return asyncio.get_running_loop().time()

    @property
    def receives(self) -> bool:
        """Bound as receiver or transceiver: may be sent deliver_sm (§2.2)."""
        bound = self.session.state in (State.BOUND_RX, State.BOUND_TRX)
        return not self.closed and self.writing and bound

    @property
    def has_room(self) -> bool:
        return self.session.in_window < self.session.window

    # --- output -----------------------------------------------------------------------

    def send(self, pdu: Pdu) -> Pdu:
        """Write ``pdu`` (a request gets the next sequence number) and return it as sent;
        nothing is written once ``stop_writing`` was called."""
        if not self.writing:
            return pdu
        pdu = self.session.assign(pdu)
        data = self.session.send(pdu, self.now())
        self._out.write(data)
        if not pdu.is_response:
            self._wake.set()  # a new response deadline
            if isinstance(pdu, DeliverSm):
                self.delivering[pdu.sequence_number] = (pdu, data)
        return pdu

    def write_raw(self, data: bytes) -> None:
        """Bytes past the session, for misbehaviours that break the protocol on purpose."""
        self._out.write(data)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` for as long as the connection lives."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stop_writing(self) -> None:
        """Send our FIN after what is written, write nothing more, and read on until the
        peer closes. Closing with unread input would send a RST instead (RFC 1122
        §4.2.2.13), and a RST can destroy answers the peer has not read yet."""
        self.writing = False
        self._out.flush()
        if self.writer.can_write_eof():
            self.writer.write_eof()

    def shutdown(self, *, abort: bool = False) -> None:
        """Close the socket (``abort``: without flushing the transport's buffer); ``run`` then
        cleans up. What was written before is handed to the socket first, as it was when
        every write went straight to it."""
        self._out.flush()
        if abort:
            self.writer.transport.abort()
        else:
            self.writer.close()

    # --- the connection's life ----------------------------------------------------------

    async def run(self) -> None:
        self.spawn(self._watch())
        try:
            while True:
                data = await self.reader.read(_READ_SIZE)
                if not data:
                    break
                self.session.receive_data(data, self.now())
                if not self._handle_events():
                    break
        except ConnectionError:
            pass
        finally:
            await self._close()

    def _handle_events(self) -> bool:
        """Dispatch every complete PDU; False once the byte stream cannot be framed."""
        while not self.closed:
            try:
                pdu = self.session.next_event()
            except PduError as err:
                if err is self._last_error:
                    return False  # the framer lost the PDU boundaries for good (§3.3.3)
                self._last_error = err
                self._out.write(self.session.reject(err))  # generic_nack or *_resp
                continue
            except SessionError as err:
                if err.status is not None:  # a request in the wrong state (§2.4)
                    self._out.write(self.session.reject(err))
                continue
            if pdu is None:
                return True
            self.sim.dispatch(self, pdu)
        return False

    async def _watch(self) -> None:
        """Give back requests whose response never came (§2.7: the sender's timer)."""
        while True:
            times = [t for _, t in self.session.outstanding.values()]
            timeout = None
            if times:
                timeout = max(0.0, min(times) + self.session.response_timeout - self.now())
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            for pdu in self.session.expired(self.now()):
                self.sim.on_expired(self, pdu)

    async def _close(self) -> None:
        self.closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.sim.on_closed(self)
        self.session.close()
        self._out.flush()
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()
