"""Test SMSCs: the independent smpp34 ``Server``, and a tiny one on the sans-IO core.

smpp34 1.5.0 cannot drop a connection (``Server.stop()`` leaves bound sessions up), never
completes ``deliver_sm`` to a bind_receiver, and accepts any bind; ``TinySmsc`` covers those
scenarios. Both run on 127.0.0.1 and must be left through ``async with``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import smpp34

from smscloud.protocols.smpp import (
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    DeliverSm,
    EnquireLink,
    EnquireLinkResp,
    Pdu,
    Role,
    Session,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
)
from tests.support.live import free_port


@dataclass(frozen=True)
class Seen:
    """What an SMSC saw of one submit_sm."""

    source_addr: str
    source_addr_ton: int
    source_addr_npi: int
    destination_addr: str
    dest_addr_ton: int
    dest_addr_npi: int
    esm_class: int
    data_coding: int
    registered_delivery: int
    short_message: bytes


# A policy answers a submit: a message id (accept), an int status (reject), or None (hold).
Policy = Callable[[Seen], "str | int | None"]


class Smpp34Smsc:
    """smpp34's server with a pump task; ``policy`` decides each submit."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.port = free_port()
        self.policy = policy
        self.esmes: list[smpp34.Esme] = []
        self.seen: list[Seen] = []
        self.held: list[smpp34.SubmitSmEvent] = []
        self.unbound = 0
        self._ids = itertools.count(1)
        self._srv = smpp34.Server("127.0.0.1", self.port, system_id="SIM")
        self._pump: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Smpp34Smsc:
        await self._srv.start()
        self._pump = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._pump is not None
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump
        self.held.clear()
        await self._srv.stop()
        # smpp34's tokio runtime, stopped and dropped at once, has crashed the interpreter at exit.
        await asyncio.sleep(0.05)  # let the tokio side settle

    async def _run(self) -> None:
        while True:
            ev = await self._srv.next()
            if isinstance(ev, smpp34.Esme):
                self.esmes.append(ev)
            elif isinstance(ev, smpp34.SubmitSmEvent):
                seen = Seen(
                    ev.source_addr, ev.source_addr_ton, ev.source_addr_npi,
                    ev.destination_addr, ev.dest_addr_ton, ev.dest_addr_npi,
                    ev.esm_class, ev.data_coding, ev.registered_delivery, ev.short_message,
                )  # fmt: skip
                self.seen.append(seen)
                answer = self.policy(seen) if self.policy else f"MSG{next(self._ids):06X}"
                if isinstance(answer, str):
                    ev.accept(answer)
                elif isinstance(answer, int):
                    ev.reject(answer)
                else:
                    self.held.append(ev)
            else:
                self.unbound += 1

    def receiver(self) -> smpp34.Esme:
        return next(e for e in self.esmes if e.can_receive)


class TinySmsc:
    """A minimal SMSC over ``Session(Role.SMSC)``: binds (password checked), submit_sm
    answered by ``policy``, enquire_link, unbind; ``deliver`` and ``drop`` for tests."""

    def __init__(self, password: str = "secret", policy: Policy | None = None) -> None:
        self.port = free_port()
        self.password, self.policy = password, policy
        self.seen: list[Seen] = []
        self.binds: list[str] = []  # bind PDU names, in order, accepted or not
        self.enquire_links = 0
        self.tlvs: list[tuple[tuple[int, bytes], ...]] = []  # of each submit_sm
        self.conns: list[tuple[Session, asyncio.StreamWriter]] = []
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> TinySmsc:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def drop(self) -> None:
        """Close every connection at once, as a crashing SMSC would."""
        for _, writer in self.conns:
            writer.transport.abort()
        self.conns.clear()

    def bound(self, receiver: bool) -> list[tuple[Session, asyncio.StreamWriter]]:
        names = ("bound_rx", "bound_trx") if receiver else ("bound_tx", "bound_trx")
        return [(s, w) for s, w in self.conns if s.state.value in names]

    def deliver(self, pdu: DeliverSm) -> None:
        session, writer = self.bound(receiver=True)[0]
        writer.write(session.send(pdu))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(Role.SMSC)
        self.conns.append((session, writer))
        try:
            while data := await reader.read(65536):
                session.receive_data(data)
                while (pdu := session.next_event()) is not None:
                    if (answer := self._answer(pdu)) is not None:
                        writer.write(session.send(answer))
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def _answer(self, pdu: Pdu) -> Pdu | None:
        seq = pdu.sequence_number
        binds = {
            BindTransceiver: BindTransceiverResp,
            BindTransmitter: BindTransmitterResp,
            BindReceiver: BindReceiverResp,
        }
        if isinstance(pdu, BindTransceiver | BindTransmitter | BindReceiver):
            self.binds.append(pdu.name)
            status = 0 if pdu.password == self.password else 0x0E  # ESME_RINVPASWD
            return binds[type(pdu)](sequence_number=seq, command_status=status, system_id="T")
        if isinstance(pdu, SubmitSm):
            seen = Seen(
                pdu.source_addr, pdu.source_addr_ton, pdu.source_addr_npi,
                pdu.destination_addr, pdu.dest_addr_ton, pdu.dest_addr_npi,
                pdu.esm_class, pdu.data_coding, pdu.registered_delivery, pdu.short_message,
            )  # fmt: skip
            self.seen.append(seen)
            self.tlvs.append(pdu.tlvs)
            answer = self.policy(seen) if self.policy else f"t{next(self._ids)}"
            if answer is None:
                return None
            if isinstance(answer, int):
                return SubmitSmResp(sequence_number=seq, command_status=answer)
            return SubmitSmResp(sequence_number=seq, message_id=answer)
        if isinstance(pdu, EnquireLink):
            self.enquire_links += 1
            return EnquireLinkResp(sequence_number=seq)
        if isinstance(pdu, Unbind):
            return UnbindResp(sequence_number=seq)
        return None
