"""``SmppCarrier``: the ``Carrier`` seam over a pool of SMPP binds to one SMSC.

Submits spread over the bound sessions, least loaded first, each bind keeping up to
``window`` submit_sm in flight (§2.7: asynchronous operation). Every part of a long message
is its own submit_sm; a message is taken when all its parts got ESME_ROK, and its
``carrier_msg_id`` is the first part's id. Results, never exceptions:

- ESME_RTHROTTLED / ESME_RMSGQFUL (§5.1.3): the bind pauses and the part is retried, up to
  ``throttle_retries`` times, then a temporary failure;
- another ``is_temporary`` status, a response timeout, a lost connection, or no bound
  session within ``bind_wait``: temporary (the dispatcher retries later);
- any other status: permanent, with the status name as the error.

A long message's parts go in order, all under one concatenation reference derived from the
message id. When a part fails after earlier ones were taken, the result is a temporary
failure that names the parts taken (``SubmitResult.taken``); the retry (``Submission.taken``)
rebuilds the same parts and sends only those not taken, so the handset gets each part once.

Receipts and MO messages may arrive on any bind that receives; they are handed to the sink
in batches, one call per event-loop tick, and each deliver_sm is answered once the sink has
stored its batch: ESME_ROK then, ESME_RX_T_APPN if storing failed (§5.1.3: the SMSC retries
later). An unanswered deliver_sm is the SMSC's to keep, so a crash loses none. One exception:
the earlier parts of a concatenated MO message are answered as they come and held in memory
until the last part completes it (an SMSC with a window of one sends the next part only once
the previous is answered), so a crash between the parts loses them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smscloud.carriers.base import (
    InFlight,
    Receipt,
    Reply,
    ReportSink,
    Submission,
    SubmitResult,
    canonical_id,
)
from smscloud.protocols.smpp import DeliverSm, SubmitSm, SubmitSmResp, is_temporary, is_throttling

from .bind import Bind, NotBoundError, status_name
from .config import BindMode, SmppConfig
from .inbound import Reassembler, is_receipt, receipt_from, reply_from
from .outbound import BuildError, build_parts
from .pacing import RateMeter, TokenBucket

__all__ = ["CarrierHealth", "SmppCarrier"]

log = logging.getLogger(__name__)

_Outcome = tuple[str | None, str, bool]  # (message id, error, permanent)


@dataclass(frozen=True, slots=True)
class CarrierHealth:
    """A snapshot for metrics: ``errors`` counts failure kinds since start."""

    name: str
    binds: int
    bound: int
    window_in_use: int
    window_size: int
    submits_per_s: float
    reconnects: int
    errors: dict[str, int]


class SmppCarrier:
    """A carrier reached over SMPP 3.4 (see the module docstring)."""

    def __init__(self, name: str, config: SmppConfig, *, leased: bool = False) -> None:
        self.name = name
        self.config = config
        # ``leased``: ``start`` opens no session; a slot lease (``delivery.slots``) opens each
        # slot this worker holds, so several workers never bind the same slot twice.
        self.leased = leased
        self._slots: dict[int, list[Bind]] = {}
        self._binds: list[Bind] = []
        self._sink: ReportSink | None = None
        self._any_ready = asyncio.Event()
        self._bucket = TokenBucket(config.rate, config.burst)
        self._meter = RateMeter()
        self._errors: Counter[str] = Counter()
        self._mo = Reassembler(config.mo_part_timeout)
        self._receipts: list[Receipt] = []
        self._replies: list[Reply] = []
        self._batch: asyncio.Future[None] | None = None  # this tick's reports, once stored
        self._stopping = False

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self, sink: ReportSink) -> None:
        """Open every bind (unless leased); waits up to ``bind_wait`` for one to accept submits."""
        self._sink = sink
        if self.leased:
            return
        for slot in range(self.config.binds):
            self.open_slot(slot)
        try:
            async with asyncio.timeout(self.config.bind_wait):
                await self._any_ready.wait()
        except TimeoutError:
            log.warning("%s: no bind up yet; submits fail as temporary until one is", self.name)

    async def resume(self, in_flight: Sequence[InFlight]) -> None:
        """Nothing to do: the SMSC keeps receipts of messages we submitted and sends them
        once we bind again, on any bind that receives."""

    @property
    def slots(self) -> set[int]:
        """The bind slots open in this process."""
        return set(self._slots)

    @property
    def available(self) -> bool:
        """Whether this process may submit here (a leased carrier holds a slot)."""
        return bool(self._slots) or not self.leased

    def open_slot(self, slot: int) -> None:
        """Start slot ``slot``'s sessions: one transceiver, or a transmitter and a receiver."""
        if slot in self._slots:
            return
        if self.config.bind_mode is BindMode.TRANSCEIVER:
            kinds = ["transceiver"]
        else:
            kinds = ["transmitter", "receiver"]
        binds = []
        for kind in kinds:
            bind = Bind(self.config, kind, f"{self.name}-{kind}-{slot}", self._on_deliver)
            bind.on_change = self._ready_changed
            binds.append(bind)
            bind.start()
        self._slots[slot] = binds
        self._binds = [b for bs in self._slots.values() for b in bs]

    async def close_slot(self, slot: int) -> None:
        """Unbind slot ``slot``'s sessions (its lease is gone or being given up)."""
        binds = self._slots.pop(slot, [])
        self._binds = [b for bs in self._slots.values() for b in bs]
        await asyncio.gather(*(b.close() for b in binds))
        self._ready_changed()

    async def stop(self) -> None:
        """Unbind every session (each within ``unbind_timeout``), close, flush reports."""
        self._stopping = True
        await asyncio.gather(*(b.close() for b in self._binds))
        self._slots.clear()
        self._binds.clear()
        self._ready_changed()
        # Whatever came in as the binds closed was not answered: the SMSC keeps it, and
        # storing it now would store it twice when it is sent again.
        self._receipts.clear()
        self._replies.clear()
        if self._batch is not None:
            self._batch.cancel()
            self._batch = None

    def health(self) -> CarrierHealth:
        senders = [b for b in self._binds if b.can_submit]
        return CarrierHealth(
            name=self.name,
            binds=len(self._binds),
            bound=sum(b.ready.is_set() for b in self._binds),
            window_in_use=sum(b.in_window for b in senders),
            window_size=self.config.window * len(senders),
            submits_per_s=self._meter.rate(time.monotonic()),
            reconnects=sum(b.reconnects for b in self._binds),
            errors=dict(self._errors),
        )

    def _ready_changed(self) -> None:
        if any(b.can_submit and b.ready.is_set() for b in self._binds):
            self._any_ready.set()
        else:
            self._any_ready.clear()

    # --- submit -------------------------------------------------------------------------

    async def submit(self, batch: Sequence[Submission]) -> list[SubmitResult]:
        """One result per submission, in order; all of them in flight together."""
        return list(await asyncio.gather(*(self._submit_one(s) for s in batch)))

    async def _submit_one(self, sub: Submission) -> SubmitResult:
        try:
            # The message id is the reference: a retry in any worker builds the same parts.
            parts = build_parts(sub, self.config, sub.message_id)
        except BuildError as exc:
            self._errors["permanent"] += 1
            log.info("%s: message %d refused: %s", self.name, sub.message_id, exc)
            return SubmitResult(sub.message_id, None, exc.status.name, permanent=True)
        ids = self._resumable(sub, len(parts))
        for no, pdu in enumerate(parts, start=1):
            if no in ids:
                continue  # the SMSC holds this part already
            # In order: some SMSCs reassemble only parts that come in order.
            msg_id, error, permanent = await self._submit_part(pdu)
            if msg_id is None:
                self._errors["permanent" if permanent else "temporary"] += 1
                if permanent or not ids:
                    return SubmitResult(sub.message_id, None, error, permanent=permanent)
                taken = tuple(sorted(ids.items()))
                return SubmitResult(sub.message_id, None, error, taken=taken, parts=len(parts))
            ids[no] = msg_id
        ordered = tuple(ids[no] for no in range(1, len(parts) + 1))
        return SubmitResult(sub.message_id, ordered[0], part_ids=ordered if len(parts) > 1 else ())

    def _resumable(self, sub: Submission, built: int) -> dict[int, str]:
        """The parts of ``sub`` taken in an earlier attempt that this build can continue."""
        if not sub.taken:
            return {}
        if sub.parts != built or any(not 1 <= no <= built for no, _ in sub.taken):
            # Split differently than before (the carrier's settings changed): the old parts
            # belong to another split and cannot be completed; the message goes whole.
            log.warning(
                "%s: message %d was %d parts and is now %d: sent whole again",
                self.name,
                sub.message_id,
                sub.parts,
                built,
            )
            return {}
        return dict(sub.taken)

    async def _submit_part(self, pdu: SubmitSm) -> _Outcome:
        loop = asyncio.get_running_loop()
        status = 0
        for attempt in range(self.config.throttle_retries + 1):
            bind = await self._pick()
            if bind is None:
                return None, "unbound", False
            bind.assigned += 1
            try:
                if (wait := self._bucket.reserve(loop.time())) > 0:
                    await asyncio.sleep(wait)
                resp = await bind.request(pdu)
            except NotBoundError:
                self._errors["connection_lost"] += 1
                return None, "connection lost", False
            except TimeoutError:
                self._errors["timeout"] += 1
                return None, "timeout", False
            finally:
                bind.assigned -= 1
            status = resp.command_status
            if status == 0 and isinstance(resp, SubmitSmResp):
                self._meter.add(time.monotonic())
                return canonical_id(resp.message_id), "", False
            if not is_throttling(status):
                break
            self._errors["throttled"] += 1
            bind.pause(self.config.throttle_pause * (attempt + 1))
        if not status:  # generic_nack without a status: the SMSC is confused, try later
            return None, "generic_nack", False
        return None, status_name(status), not is_temporary(status)

    async def _pick(self) -> Bind | None:
        """The least loaded bound sender, waiting up to ``bind_wait`` for one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.bind_wait
        while not self._stopping:
            ready = [b for b in self._binds if b.can_submit and b.ready.is_set()]
            if ready:
                return min(ready, key=lambda b: b.assigned)
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                async with asyncio.timeout(remaining):
                    await self._any_ready.wait()
            except TimeoutError:
                break
        self._errors["unbound"] += 1
        return None

    # --- receipts and MO ----------------------------------------------------------------

    def _on_deliver(self, pdu: DeliverSm) -> int | asyncio.Future[None]:
        """Collect a receipt or MO part: the future the bind answers it after, once the
        sink has stored it. An unreadable receipt, which the SMSC would otherwise resend
        forever, is answered ESME_ROK at once, counted and logged."""
        now = time.time()
        if is_receipt(pdu):
            receipt = receipt_from(pdu, now)
            if receipt is None:
                self._errors["bad_receipt"] += 1
                log.warning("%s: receipt not understood: %r", self.name, pdu.short_message)
                return 0
            self._receipts.append(receipt)
        else:
            text = self._mo.add(pdu, time.monotonic())
            if text is None:
                return 0
            reply = reply_from(
                pdu, text, now, carrier=self.name, nation_code=self.config.nation_code
            )
            self._replies.append(reply)
        return self._this_batch()

    def _this_batch(self) -> asyncio.Future[None]:
        """The future of the reports collected in this event-loop tick, handed to the sink
        together when the tick ends."""
        if self._batch is None:
            loop = asyncio.get_running_loop()
            self._batch = loop.create_future()
            loop.call_soon(self._flush)
        return self._batch

    def _flush(self) -> None:
        batch, self._batch = self._batch, None
        receipts, self._receipts = self._receipts, []
        replies, self._replies = self._replies, []
        if batch is None:
            return
        try:
            assert self._sink is not None, "deliver_sm before start"
            stored = [self._sink.receipts(receipts)] if receipts else []
            if replies:
                stored.append(self._sink.replies(replies))
            done = asyncio.gather(*stored)
        except Exception as exc:  # the sink's fault must not kill the bind that read the PDU
            log.exception("%s: report sink failed", self.name)
            batch.set_exception(exc)
            return
        done.add_done_callback(lambda d: _pass_on(d, batch))


def _pass_on(source: asyncio.Future[Any], target: asyncio.Future[None]) -> None:
    """Complete ``target`` as ``source`` ended."""
    if target.done():
        return
    if source.cancelled():
        target.cancel()
    elif (exc := source.exception()) is not None:
        target.set_exception(exc)
    else:
        target.set_result(None)
