"""An SMPP 3.4 SMSC simulator on 127.0.0.1, for tests and demos.

Bind with one of ``SmscConfig.accounts`` as transmitter, receiver or transceiver, then
submit_sm. Each accepted part gets its own hex message id and, after ``receipt_delay``,
one delivery receipt decided by the documented magic numbers (``carriers.magic``, last
seven digits of destination_addr): 0000001 UNDELIV, 0000002 EXPIRED, 0000003 refused with
ESME_RINVDSTADR, 0000004 no receipt ever, 0000005 REJECTD, 0000007 DELIVRD and then the
handset replies "收到"; anything else DELIVRD.

Replies appear in two ways only: the 0000007 magic number, and ``inject_mo(source,
destination, text)``, which makes a handset message arrive as deliver_sm (UDH parts if
long). Receipts and replies go round robin to the receiver/transceiver sessions of the
system_id; while none is bound they wait, as a real SMSC keeps them. A deliver_sm answered
with a temporary error (§5.1.3, e.g. ESME_RX_T_APPN) is sent again ``retry_delay`` later;
any other answer ends it. Given a ``Journal``, the simulator keeps every deliver_sm it owes
on disk before promising it (the submit_sm_resp waits for the write), so not even its own
kill -9 loses a receipt it acknowledged.

Behaviour is split into hooks (``bind_status``, ``after_bind``, ``submit_status``,
``handle_submit``, ``answer_submit``) that the misbehaving subclasses override.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType

from smscloud.protocols.smpp import (
    BindReceiverResp,
    BindTransceiverResp,
    BindTransmitterResp,
    CommandStatus,
    DeliverSm,
    DeliverSmResp,
    EnquireLinkResp,
    GenericNack,
    Pdu,
    State,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    is_temporary,
)
from smscloud.protocols.smpp.udh import parse_udh

from .config import SmscConfig
from .connection import SmscConnection
from .delivery import DeliveryQueue, unsent
from .journal import Journal, JournalError
from .outcomes import mo_pdus, outcome_for, receipt_pdu, wants_receipt

__all__ = ["SmscSimulator", "Submitted"]

S = CommandStatus
log = logging.getLogger(__name__)
_BIND_RESPS: dict[str, type[BindTransmitterResp | BindReceiverResp | BindTransceiverResp]] = {
    "bind_transmitter": BindTransmitterResp,
    "bind_receiver": BindReceiverResp,
    "bind_transceiver": BindTransceiverResp,
}
_BOUND = frozenset({State.BOUND_TX, State.BOUND_RX, State.BOUND_TRX})
_ID_BLOCK = 10_000  # message ids reserved per write to the journal


@dataclass(slots=True, eq=False)
class Submitted:
    """A submit_sm as received, with the connection it came on and what it was answered."""

    pdu: SubmitSm
    connection: SmscConnection
    system_id: str
    received: datetime
    status: int | None = None  # command_status of the submit_sm_resp, once sent
    message_id: str | None = None


class SmscSimulator:
    """The SMSC server. ``await start()``, read ``port``, ``await stop()``."""

    def __init__(self, config: SmscConfig | None = None, *, journal: Journal | None = None) -> None:
        self.config = config or SmscConfig()
        self.journal = journal
        self.port = 0
        self.answered: Counter[int] = Counter()  # deliver_sm_resp command_status -> count
        self.submitted: deque[Submitted] = deque(maxlen=self.config.keep_submitted)
        self.connections: dict[SmscConnection, None] = {}  # ordered: fair round robin
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        # Scheduled deliveries, kept with their PDUs so ``pending`` can list them.
        self._timers: dict[asyncio.TimerHandle, tuple[str, list[DeliverSm]]] = {}
        self.queue = DeliveryQueue()
        self._next_id = self.config.first_message_id
        self._id_limit: int | None = None  # with a journal: the end of the ids reserved
        self._mo_ref = itertools.count(1)

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self, sock: socket.socket | None = None) -> None:
        """Listen on ``config.host``/``config.port``, or on ``sock``, a listening socket
        handed over by whoever bound it (``serve`` does, so no one takes the port between)."""
        if sock is not None:
            self._server = await asyncio.start_server(self._accept, sock=sock)
        else:
            host, port = self.config.host, self.config.port
            self._server = await asyncio.start_server(self._accept, host, port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listener and every connection; cancel pending receipts."""
        if self._server is not None:
            self._server.close()
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        for conn in list(self.connections):
            conn.shutdown(abort=True)
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> SmscSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        conn = SmscConnection(self, reader, writer)
        self.connections[conn] = None
        try:
            await conn.run()
        finally:
            self._handlers.discard(task)

    # --- dispatch (called by connections) -------------------------------------------------

    def dispatch(self, conn: SmscConnection, pdu: Pdu) -> None:
        """Act on one PDU the session accepted."""
        name, seq = pdu.name, pdu.sequence_number
        if name in _BIND_RESPS:
            self.handle_bind(conn, pdu)
        elif name == "submit_sm":
            assert isinstance(pdu, SubmitSm) and conn.system_id is not None
            record = Submitted(pdu, conn, conn.system_id, datetime.now(UTC))
            self.submitted.append(record)
            conn.submits += 1
            self.handle_submit(conn, record)
        elif name == "enquire_link":
            conn.send(EnquireLinkResp(sequence_number=seq))
        elif name == "unbind":  # §4.2: answer, then the ESME closes; we close too
            conn.send(UnbindResp(sequence_number=seq))
            conn.shutdown()
        elif name == "unbind_resp":  # the answer to our own unbind (§2.3)
            conn.shutdown()
        elif name in ("deliver_sm_resp", "generic_nack"):
            # Either way the deliver_sm left the window.
            self.answered[pdu.command_status] += 1
            request = conn.delivering.pop(seq, None)
            if conn.system_id is not None:
                if request is not None:
                    self.on_answered(conn.system_id, *request, pdu)
                self._pump(conn.system_id)
        elif not pdu.is_response:  # query_sm, cancel_sm, data_sm...: not simulated
            conn.send(GenericNack(sequence_number=seq, command_status=S.ESME_RINVCMDID))

    # --- hooks --------------------------------------------------------------------------

    def bind_status(self, conn: SmscConnection, pdu: Pdu) -> int:
        """command_status for a bind: accounts, then the per-system_id bind limit."""
        system_id, password = getattr(pdu, "system_id", ""), getattr(pdu, "password", "")
        if system_id not in self.config.accounts:
            return S.ESME_RINVSYSID
        if self.config.accounts[system_id] != password:
            return S.ESME_RBINDFAIL
        bound = sum(1 for c in self.connections if c.system_id == system_id and not c.closed)
        return S.ESME_RBINDFAIL if bound >= self.config.max_binds else S.ESME_ROK

    def handle_bind(self, conn: SmscConnection, pdu: Pdu) -> None:
        status = self.bind_status(conn, pdu)
        resp = _BIND_RESPS[pdu.name]
        # §4.1.2: the body (our system_id) is left out of a refusal.
        name = self.config.system_id if status == S.ESME_ROK else ""
        conn.send(resp(sequence_number=pdu.sequence_number, command_status=status, system_id=name))
        if status == S.ESME_ROK:
            conn.system_id = getattr(pdu, "system_id", "")
            self.after_bind(conn)

    def after_bind(self, conn: SmscConnection) -> None:
        """Hand kept receipts and replies to the new session (and its siblings)."""
        assert conn.system_id is not None
        self.queue.release(conn.system_id)
        self._pump(conn.system_id)

    def submit_status(self, conn: SmscConnection, record: Submitted) -> int:
        """command_status for a submit_sm, decided on arrival: throughput cap, magic."""
        cap = self.config.throughput
        if cap is not None:  # a sliding one-second window per bind
            now, recent = conn.now(), conn.recent
            while recent and now - recent[0] >= 1.0:
                recent.popleft()
            if len(recent) >= cap:
                return S.ESME_RTHROTTLED
            recent.append(now)
        return outcome_for(record.pdu.destination_addr).refuse

    def handle_submit(self, conn: SmscConnection, record: Submitted) -> None:
        """Decide now, answer after ``submit_latency`` (others keep flowing meanwhile)."""
        status = self.submit_status(conn, record)
        if self.config.submit_latency <= 0:
            self.answer_submit(conn, record, status)
        else:
            conn.spawn(self._answer_later(conn, record, status))

    async def _answer_later(self, conn: SmscConnection, record: Submitted, status: int) -> None:
        await asyncio.sleep(self.config.submit_latency)
        self.answer_submit(conn, record, status)

    def answer_submit(self, conn: SmscConnection, record: Submitted, status: int) -> None:
        """Send submit_sm_resp; if accepted, schedule what the network does next, kept on
        disk first when there is a journal (the resp is the promise of the receipt)."""
        seq = record.pdu.sequence_number
        record.status = status
        if status != S.ESME_ROK:
            conn.send(SubmitSmResp(sequence_number=seq, command_status=status))
            return
        try:
            message_id = record.message_id = self.new_message_id()
        except JournalError:
            log.exception("submit_sm refused for now")
            message_id = ""
        pdus = self.consequences(record) if message_id else []

        def kept(ok: bool) -> None:
            if conn.closed:  # the ESME never hears of it, and submits again
                return
            if not ok or not message_id:  # §5.1.3: a system error, worth retrying
                record.status, record.message_id = S.ESME_RSYSERR, None
                conn.send(SubmitSmResp(sequence_number=seq, command_status=S.ESME_RSYSERR))
                return
            conn.send(SubmitSmResp(sequence_number=seq, message_id=message_id))
            self._after(self.config.receipt_delay, record.system_id, pdus)

        if self.journal is None or not pdus:
            kept(True)
        else:
            self.journal.add(record.system_id, pdus, kept)

    # --- what the network sends back ------------------------------------------------------

    def new_message_id(self) -> str:
        """The next message id, in hex. With a journal, ids are reserved on disk in blocks,
        so that none is given twice across restarts: a receipt names its message by id."""
        if self.journal is not None and (self._id_limit is None or self._next_id >= self._id_limit):
            self._next_id, self._id_limit = self.journal.reserve_ids(self._next_id, _ID_BLOCK)
        message_id, self._next_id = self._next_id, self._next_id + 1
        return format(message_id, "x")

    def consequences(self, record: Submitted) -> list[DeliverSm]:
        """The receipt and handset reply (if any) that follow an accepted submit."""
        pdu, outcome = record.pdu, outcome_for(record.pdu.destination_addr)
        out: list[DeliverSm] = []
        if outcome.stat is not None and wants_receipt(pdu, outcome.stat):
            assert record.message_id is not None
            done = datetime.now(UTC)
            out.append(receipt_pdu(pdu, record.message_id, outcome.stat, record.received, done))
        if outcome.reply is not None and _last_part(pdu):
            # A handset answers the message it reads, not each part it arrived in.
            out += mo_pdus(
                pdu.destination_addr,
                pdu.source_addr,
                outcome.reply,
                next(self._mo_ref),
                dest_ton=pdu.source_addr_ton,
                dest_npi=pdu.source_addr_npi,
            )
        return out

    def inject_mo(
        self,
        source: str,
        destination: str,
        text: str,
        *,
        system_id: str | None = None,
        source_ton: int = 1,
        source_npi: int = 1,
    ) -> list[DeliverSm]:
        """Make handset ``source`` send ``text`` to ``destination`` now; returns the parts.

        It goes to ``system_id`` (default: the first account) like any deliver_sm; the
        handset's address has type ``source_ton`` in plan ``source_npi`` (§5.2.5-6).
        """
        target = system_id if system_id is not None else next(iter(self.config.accounts))
        ref = next(self._mo_ref)
        pdus = mo_pdus(source, destination, text, ref, source_ton=source_ton, source_npi=source_npi)
        self.deliver(target, pdus)
        return pdus

    def schedule(self, delay: float, system_id: str, pdus: list[DeliverSm]) -> None:
        """Deliver ``pdus`` to ``system_id`` after ``delay`` seconds (kept from now on)."""
        self._keep(system_id, pdus)
        self._after(delay, system_id, pdus)

    def deliver(self, system_id: str, pdus: list[DeliverSm]) -> None:
        """Queue deliver_sm for ``system_id`` and send what the receivers have room for."""
        self._keep(system_id, pdus)
        self._send(system_id, pdus)

    def _keep(self, system_id: str, pdus: list[DeliverSm]) -> None:
        if self.journal is not None and pdus:
            self.journal.add(system_id, pdus)

    def _after(self, delay: float, system_id: str, pdus: list[DeliverSm]) -> None:
        """Send already kept ``pdus`` after ``delay`` seconds."""
        if not pdus:
            return
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def fire() -> None:
            self._timers.pop(handle, None)
            self._send(system_id, pdus)

        handle = loop.call_later(delay, fire)
        self._timers[handle] = (system_id, pdus)

    def _send(self, system_id: str, pdus: list[DeliverSm]) -> None:
        self.queue.add(system_id, pdus)
        self._pump(system_id)

    def on_answered(self, system_id: str, request: DeliverSm, sent: bytes, resp: Pdu) -> None:
        """A deliver_sm (``sent`` as these bytes) was answered: done with, or (a temporary
        error) sent again later."""
        status = resp.command_status
        if isinstance(resp, DeliverSmResp) and status != S.ESME_ROK and is_temporary(status):
            self._after(self.config.retry_delay, system_id, [unsent(request)])
        elif self.journal is not None:
            self.journal.remove(system_id, sent)

    def unbind(self, system_id: str | None = None) -> None:
        """SMSC-initiated unbind (§4.2) of every bound session (of ``system_id``)."""
        for conn in list(self.connections):
            mine = conn.system_id is not None and system_id in (None, conn.system_id)
            if mine and not conn.closed and conn.session.state in _BOUND:
                conn.send(Unbind())

    def pending(self) -> list[tuple[str, DeliverSm]]:
        """Every deliver_sm not yet acknowledged, with its system_id: scheduled, queued,
        parked, or sent and unanswered. What ``smsc-sim`` keeps across a restart."""
        out = [(sid, pdu) for sid, pdus in self._timers.values() for pdu in pdus]
        out += self.queue.contents()
        for conn in self.connections:
            if conn.system_id is not None:
                out += [
                    (conn.system_id, p)
                    for p, _ in conn.session.outstanding.values()
                    if isinstance(p, DeliverSm)
                ]
        return out

    def restore(self, pending: list[tuple[str, DeliverSm]]) -> None:
        """Queue deliver_sm kept from an earlier run; they go out when their system_id binds."""
        for system_id, pdu in pending:
            self.queue.park(system_id, pdu)

    def _pump(self, system_id: str) -> None:
        mine = [c for c in self.connections if c.system_id == system_id]
        self.queue.pump(system_id, mine)

    # --- bookkeeping (called by connections) ----------------------------------------------

    def on_expired(self, conn: SmscConnection, pdu: Pdu) -> None:
        """A request of ours went unanswered: keep a deliver_sm for the next bind."""
        conn.delivering.pop(pdu.sequence_number, None)
        if isinstance(pdu, DeliverSm) and conn.system_id is not None:
            self.queue.park(conn.system_id, pdu)
        elif pdu.name == "unbind":
            conn.shutdown(abort=True)

    def on_closed(self, conn: SmscConnection) -> None:
        """Requeue the deliver_sm the closed session never acknowledged."""
        self.connections.pop(conn, None)
        if conn.system_id is None:
            return
        requests = [p for _, (p, _) in sorted(conn.session.outstanding.items())]
        self.queue.requeue(conn.system_id, requests)
        self._pump(conn.system_id)


def _last_part(pdu: SubmitSm) -> bool:
    """Whether a submit is a whole message or the last part of a concatenated one."""
    sar = pdu.sar
    if sar is not None:
        return sar[2] == sar[1]
    if pdu.esm_class & 0x40 and pdu.short_message:
        try:
            ies, _ = parse_udh(pdu.short_message)
        except ValueError:
            return True
        for iei, value in ies:
            if iei == 0x00 and len(value) == 3:  # 8-bit reference (GSM 03.40 §9.2.3.24.1)
                return value[2] == value[1]
            if iei == 0x08 and len(value) == 4:  # 16-bit reference
                return value[3] == value[2]
    return True
