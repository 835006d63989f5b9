"""A minimal test ESME over ``Session(Role.ESME)`` and asyncio streams, plus helpers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec

from smscloud.protocols.smpp import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    DeliverSm,
    DeliverSmResp,
    Pdu,
    PduError,
    Role,
    Session,
    SessionError,
    SubmitSm,
    SubmitSmResp,
    UnbindResp,
    encode,
)

P = ParamSpec("P")
TIMEOUT = 2.0
BINDS = {"tx": BindTransmitter, "rx": BindReceiver, "trx": BindTransceiver}


def run_async(fn: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """Run an async test in a fresh event loop, with an overall timeout."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        async def main() -> None:
            async with asyncio.timeout(10):
                await fn(*args, **kwargs)

        asyncio.run(main())

    return wrapper


class Esme:
    """Sends requests, records every arriving PDU (or PduError) in ``history``, in order.

    deliver_sm is acknowledged automatically unless ``auto_ack`` is False; an unbind
    from the SMSC is answered.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.session = Session(Role.ESME)
        self.history: list[Pdu | PduError] = []
        self.auto_ack = True
        self.eof = asyncio.Event()
        self._changed = asyncio.Event()
        self._taken: set[int] = set()
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, port: int) -> Esme:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def _read(self) -> None:
        try:
            while data := await self.reader.read(65536):
                self.session.receive_data(data)
                while True:
                    try:
                        pdu = self.session.next_event()
                    except PduError as err:
                        self._record(err)
                        if err.status == 2:  # framing lost: stop, as an ESME would
                            return
                        continue
                    except SessionError as err:  # e.g. the answer to a send(raw=True)
                        if err.pdu is not None:
                            self._record(err.pdu)
                        continue
                    if pdu is None:
                        break
                    self._answer(pdu)
                    self._record(pdu)
        except ConnectionError:
            pass
        finally:
            self.eof.set()
            self._changed.set()

    def _answer(self, pdu: Pdu) -> None:
        if isinstance(pdu, DeliverSm) and self.auto_ack:
            self.send(DeliverSmResp(sequence_number=pdu.sequence_number))
        elif pdu.name == "unbind":
            self.send(UnbindResp(sequence_number=pdu.sequence_number))

    def _record(self, item: Pdu | PduError) -> None:
        self.history.append(item)
        self._changed.set()

    def send(self, pdu: Pdu, *, raw: bool = False) -> Pdu:
        """Send through the session; ``raw`` skips its state checks (to provoke the SMSC)."""
        pdu = self.session.assign(pdu)
        self.writer.write(encode(pdu) if raw else self.session.send(pdu))
        return pdu

    async def wait_for(
        self, match: Callable[[Pdu | PduError], bool], within: float = TIMEOUT
    ) -> Pdu | PduError:
        """The first not yet returned arrival that ``match``es, waiting for it if needed."""
        async with asyncio.timeout(within):
            while True:
                for i, item in enumerate(self.history):
                    if i not in self._taken and match(item):
                        self._taken.add(i)
                        return item
                if self.eof.is_set():
                    raise AssertionError(f"connection closed; history {self.history}")
                self._changed.clear()
                await self._changed.wait()

    async def response(self, request: Pdu) -> Pdu:
        seq = request.sequence_number
        item = await self.wait_for(
            lambda p: isinstance(p, Pdu) and p.is_response and p.sequence_number == seq
        )
        assert isinstance(item, Pdu)
        return item

    async def message_id(self, request: Pdu) -> str:
        """The message_id of the submit_sm_resp to ``request``, which must accept it."""
        resp = await self.response(request)
        assert isinstance(resp, SubmitSmResp) and resp.command_status == 0, resp
        return resp.message_id

    async def deliver(self, match: Callable[[DeliverSm], bool] = lambda p: True) -> DeliverSm:
        item = await self.wait_for(lambda p: isinstance(p, DeliverSm) and match(p))
        assert isinstance(item, DeliverSm)
        return item

    async def receipt(self) -> DeliverSm:
        return await self.deliver(is_receipt)

    async def bind(
        self, kind: str = "trx", system_id: str = "smscloud", password: str = "password"
    ) -> Pdu:
        return await self.response(self.send(BINDS[kind](system_id=system_id, password=password)))

    def submit(
        self, destination: str, text: bytes = b"hello", *, raw: bool = False, **fields: Any
    ) -> Pdu:
        values: dict[str, Any] = {
            "source_addr_ton": 5,
            "source_addr": "smscloud",
            "dest_addr_ton": 1,
            "dest_addr_npi": 1,
            "destination_addr": destination,
            "registered_delivery": 1,
            "short_message": text,
        }
        values.update(fields)
        return self.send(SubmitSm(**values), raw=raw)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def until(condition: Callable[[], bool], *esmes: Esme, within: float = TIMEOUT) -> None:
    """Wait until ``condition`` holds, re-checking whenever one of ``esmes`` receives."""
    async with asyncio.timeout(within):
        while not condition():
            for esme in esmes:
                esme._changed.clear()
            waits = [asyncio.ensure_future(esme._changed.wait()) for esme in esmes]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
                await asyncio.gather(*waits, return_exceptions=True)


def is_receipt(p: Pdu | PduError) -> bool:
    return isinstance(p, DeliverSm) and p.esm_class & 0x3C == 0x04
