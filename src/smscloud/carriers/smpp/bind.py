"""One SMPP session over asyncio TCP: a thin adapter over the sans-IO ``Session``.

The adapter only moves bytes and time: it feeds received bytes to the session, answers the
peer's requests (enquire_link, unbind, deliver_sm), resolves our requests' futures by
sequence number, and ticks the session's timers. It keeps itself bound: after a lost
connection, a refused bind or the SMSC's unbind it fails its in-flight requests with
``NotBoundError`` and reconnects with capped, jittered exponential backoff.

A deliver_sm is answered when its handler says: at once, or when the future it returned
completes (the report is stored), on the session it arrived on. If that session is gone by
then, the answer is dropped: the SMSC sends the deliver_sm again on a later session.

Errors raised by ``request``: ``NotBoundError`` (not bound, or the connection went while
waiting) and ``TimeoutError`` (no response within ``response_timeout``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable

from smscloud.protocols.smpp import (
    AlertNotification,
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    Pdu,
    PduError,
    Role,
    Session,
    SessionError,
    State,
    Unbind,
    UnbindResp,
)
from smscloud.protocols.smpp.status import CommandStatus

from ..output import Output
from .config import SmppConfig
from .pacing import backoff

__all__ = ["Bind", "DeliverHandler", "NotBoundError", "status_name"]

log = logging.getLogger(__name__)

# The deliver_sm_resp command_status now, or a future: ESME_ROK when it completes,
# ESME_RX_T_APPN if it fails (§5.1.3, "ESME Receiver Temporary App Error": the SMSC retries
# later), no answer at all if it is cancelled (the SMSC resends after its response timer).
DeliverHandler = Callable[[DeliverSm], "int | asyncio.Future[None]"]
_BIND_PDUS: dict[str, type[BindTransceiver] | type[BindTransmitter] | type[BindReceiver]] = {
    "transceiver": BindTransceiver,
    "transmitter": BindTransmitter,
    "receiver": BindReceiver,
}
_INTERFACE_VERSION = 0x34  # §5.2.4


class NotBoundError(Exception):
    """The session is not bound, or its connection went while a request waited."""


class Bind:
    """A self-reconnecting SMPP session of one ``kind``: transceiver, transmitter, receiver."""

    def __init__(
        self, config: SmppConfig, kind: str, name: str, on_deliver: DeliverHandler
    ) -> None:
        self.config, self.kind, self.name = config, kind, name
        self.on_deliver = on_deliver
        self.can_submit = kind != "receiver"
        self.assigned = 0  # parts routed here and not yet answered (the carrier balances on it)
        self.reconnects = 0
        self.ready = asyncio.Event()  # set while bound
        self.on_change: Callable[[], None] = lambda: None  # told when ``ready`` flips
        self._slots = asyncio.Semaphore(config.window)
        self._waiting: dict[int, asyncio.Future[Pdu]] = {}
        self._session: Session | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._out: Output | None = None
        self._answered = asyncio.Event()  # set when a deferred deliver_sm_resp went out
        self._resume_at = 0.0
        self._stopping = False
        self._closing = False  # past the unbind: the session ends even if a cancel is lost
        self._task: asyncio.Task[None] | None = None
        self._reader_task: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"smpp-{self.name}")

    async def close(self) -> None:
        """Unbind politely (§4.2) within ``unbind_timeout``, then close; idempotent."""
        self._stopping = True
        if self.ready.is_set():
            with contextlib.suppress(NotBoundError, TimeoutError, SessionError, OSError):
                async with asyncio.timeout(self.config.unbind_timeout):
                    await self._answers_sent()  # what is being stored is answered first
                    await self._call(Unbind())
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def in_window(self) -> int:
        return len(self._waiting)

    def pause(self, seconds: float) -> None:
        """Hold new submits on this bind for ``seconds`` (the SMSC asked us to slow down)."""
        self._resume_at = max(self._resume_at, time.monotonic() + seconds)

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            try:
                await self._connect()
                attempt = 0
                await self._serve()
            except (OSError, TimeoutError, NotBoundError, PduError, SessionError) as exc:
                level = logging.DEBUG if self._stopping else logging.WARNING
                log.log(level, "%s: %s", self.name, exc or type(exc).__name__)
            finally:
                await self._teardown()
            if self._stopping:
                break
            self.reconnects += 1
            delay = backoff(attempt, self.config.reconnect_min, self.config.reconnect_max)
            attempt += 1
            await asyncio.sleep(delay)

    async def _connect(self) -> None:
        cfg = self.config
        async with asyncio.timeout(cfg.connect_timeout):
            reader, writer = await asyncio.open_connection(cfg.host, cfg.port)
        sock = writer.get_extra_info("socket")
        if sock is not None:  # small PDUs must not wait for Nagle's algorithm
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._writer = writer
        self._out = Output(writer)
        self._session = Session(
            Role.ESME,
            window=cfg.window,
            enquire_interval=cfg.enquire_interval,
            response_timeout=cfg.response_timeout,
            now=time.monotonic(),
        )
        self._reader_task = asyncio.create_task(self._read(reader), name=f"{self.name}-read")
        bind = _BIND_PDUS[self.kind](
            system_id=cfg.system_id,
            password=cfg.password,
            system_type=cfg.system_type,
            interface_version=_INTERFACE_VERSION,
        )
        async with asyncio.timeout(cfg.response_timeout):
            resp = await self._call(bind)
        if resp.command_status != CommandStatus.ESME_ROK:
            raise NotBoundError(f"bind refused: {status_name(resp.command_status)}")
        log.info("%s bound as %s", self.name, self.kind)
        self.ready.set()
        self.on_change()

    async def _serve(self) -> None:
        """Tick timers until the reader ends (EOF, error, or the SMSC's unbind)."""
        assert self._session is not None and self._reader_task is not None
        tick = max(0.01, min(self.config.response_timeout, self.config.enquire_interval) / 5)
        while not self._reader_task.done() and not self._closing:
            await asyncio.wait({self._reader_task}, timeout=tick)
            now = time.monotonic()
            for pdu in self._session.expired(now):
                fut = self._waiting.pop(pdu.sequence_number, None)
                if fut is not None and not fut.done():
                    fut.set_exception(TimeoutError(f"no response to {pdu.name}"))
            if self._session.enquire_link_due(now):
                self._send(EnquireLink())
        if self._reader_task.done() and (exc := self._reader_task.exception()) is not None:
            raise exc

    async def _teardown(self) -> None:
        # Everything synchronous first: a cancel (from close) may land on the await below.
        self.ready.clear()
        self.on_change()
        self._answered.set()  # nothing more will be answered on this session
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(NotBoundError("connection lost"))
        self._waiting.clear()
        if self._session is not None:
            self._session.close()
        if self._writer is not None:
            if self._out is not None:
                self._out.flush()
            self._writer.close()
            self._writer = None
            self._out = None
        task, self._reader_task = self._reader_task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task})
            if not task.cancelled():
                task.exception()  # already logged by _serve, or moot after a failed bind

    # --- requests -----------------------------------------------------------------------

    async def request(self, pdu: Pdu) -> Pdu:
        """Send ``pdu`` within the window and return its response (or generic_nack)."""
        if not self.ready.is_set():
            raise NotBoundError(f"{self.name} not bound")
        async with self._slots:
            if (rest := self._resume_at - time.monotonic()) > 0:  # throttled: rest first
                await asyncio.sleep(rest)
            if not self.ready.is_set():
                raise NotBoundError(f"{self.name} not bound")
            return await self._call(pdu)

    async def _call(self, pdu: Pdu) -> Pdu:
        if self._session is None or self._writer is None:
            raise NotBoundError(f"{self.name} not connected")
        pdu = self._session.assign(pdu)
        fut: asyncio.Future[Pdu] = asyncio.get_running_loop().create_future()
        self._waiting[pdu.sequence_number] = fut
        try:
            self._send(pdu)
            if self._out is not None and self._out.buffered > 65536:
                await self._writer.drain()  # let a slow SMSC push back
            return await fut
        finally:
            self._waiting.pop(pdu.sequence_number, None)

    def _send(self, pdu: Pdu) -> None:
        if self._session is None or self._out is None:
            raise NotBoundError(f"{self.name} not connected")
        self._out.write(self._session.send(pdu, time.monotonic()))

    # --- incoming -----------------------------------------------------------------------

    async def _read(self, reader: asyncio.StreamReader) -> None:
        session, out = self._session, self._out
        assert session is not None and out is not None
        while data := await reader.read(65536):
            session.receive_data(data, time.monotonic())
            while True:
                try:
                    pdu = session.next_event()
                except PduError as exc:  # §3.3.3: nack it; a lost frame boundary ends it
                    out.write(session.reject(exc))
                    if exc.status == CommandStatus.ESME_RINVCMDLEN:
                        raise
                    continue
                except SessionError as exc:
                    if exc.status is not None:
                        out.write(session.reject(exc))
                    else:  # a late response to a request that already timed out
                        log.debug("%s: %s", self.name, exc)
                    continue
                if pdu is None:
                    break
                if self._dispatch(pdu):
                    return
        raise NotBoundError("connection closed by the SMSC")

    def _dispatch(self, pdu: Pdu) -> bool:
        """Handle one PDU; True when the session is over (unbind either way)."""
        assert self._session is not None
        if pdu.is_response:
            fut = self._waiting.pop(pdu.sequence_number, None)
            if fut is not None and not fut.done():
                fut.set_result(pdu)
            return self._session.state is State.UNBOUND
        if isinstance(pdu, DeliverSm):
            try:
                status = self.on_deliver(pdu)
            except Exception:  # a bug of ours: let the SMSC retry later (§5.1.3)
                log.exception("%s: deliver_sm handler failed", self.name)
                status = CommandStatus.ESME_RX_T_APPN
            if isinstance(status, int):
                self._send(
                    DeliverSmResp(sequence_number=pdu.sequence_number, command_status=status)
                )
            else:
                session, seq = self._session, pdu.sequence_number
                status.add_done_callback(lambda stored: self._answer(session, seq, stored))
        elif isinstance(pdu, EnquireLink):
            self._send(EnquireLinkResp(sequence_number=pdu.sequence_number))
        elif isinstance(pdu, Unbind):  # §4.2: the SMSC ends the session; answer, then rebind
            self._send(UnbindResp(sequence_number=pdu.sequence_number))
            log.warning("%s: unbound by the SMSC", self.name)
            return True
        elif isinstance(pdu, AlertNotification):  # §4.12.1: it has no response
            self._session.unanswered.pop(pdu.sequence_number, None)
        else:  # data_sm and the like: not supported here, refuse rather than ignore
            err = SessionError(pdu.name, CommandStatus.ESME_RINVCMDID, pdu)
            if self._out is not None:
                self._out.write(self._session.reject(err))
        return False

    def _answer(self, session: Session, seq: int, stored: asyncio.Future[None]) -> None:
        """Answer deliver_sm ``seq`` of ``session`` now that its report is stored (or not)."""
        if stored.cancelled():
            return  # stopping: unanswered, the SMSC keeps it
        status = CommandStatus.ESME_ROK
        if stored.exception() is not None:
            status = CommandStatus.ESME_RX_T_APPN
            log.warning("%s: deliver_sm %d not stored; the SMSC is to resend it", self.name, seq)
        if session is not self._session or self._out is None:
            return  # the connection it came on is gone: the SMSC resends it on the next
        resp = DeliverSmResp(sequence_number=seq, command_status=status)
        try:
            self._out.write(session.send(resp, time.monotonic()))
        except SessionError:  # closed meanwhile
            return
        self._answered.set()

    async def _answers_sent(self) -> None:
        """Until every deliver_sm received on this session has been answered."""
        while (
            self.ready.is_set()
            and self._session is not None
            and any(isinstance(p, DeliverSm) for p in self._session.unanswered.values())
        ):
            self._answered.clear()
            await self._answered.wait()


def status_name(status: int) -> str:
    try:
        return CommandStatus(status).name
    except ValueError:
        return f"0x{status:08X}"
