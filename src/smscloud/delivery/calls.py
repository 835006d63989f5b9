"""DIAL: the worker that places voice calls, from QUEUED to ENDED or FAILED.

One loop claims due calls (``call_records.claim``) as lines free up: never more than the
carriers' lines together (each carrier's ``max_calls``) nor more than ``per_tenant`` live
calls of one tenant, across every worker. Each claimed call runs as its own task:

1. A call that waited past ``start_deadline`` is failed (code 22, system busy), not dialled
   late: a code read minutes after it was asked for is of no use.
2. Its audio is rendered (``carriers/voice/speech``; cached per text) or, for a file, decoded.
3. CALLING is committed, then the carrier dials; from here the call is never dialled again.
4. Progress (ringing, answered, keys) is written as it comes; the outcome ends the call in
   one transaction that bills answered talk time and queues the callbacks
   (``call_records.end``).

A carrier with no free line (``NoLineError``) hands the call back to the queue. While calls
last, their leases are renewed; a worker that dies leaves leases that run out, and the next
round of any worker ends those calls (``call_records.recover``): never redialled, never
billed twice (the state table and its reasons: ``domain/call_states.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import partial

from smscloud.carriers.voice.base import CallOutcome, CallRequest, NoLineError, VoiceCarrier
from smscloud.carriers.voice.speech import Speech
from smscloud.clock import Clock, system_clock
from smscloud.delivery import call_records
from smscloud.delivery.call_records import ClaimedCall
from smscloud.delivery.rounds import stop_task
from smscloud.domain.voice_failures import OTHER, SYSTEM_BUSY, failure_for_sip
from smscloud.domain.voice_rules import VoiceKind
from smscloud.store.database import Database

__all__ = ["CallWorker", "FileAudio"]

log = logging.getLogger(__name__)

# (tenant id, voice_files row id) -> one playing of the file as 8 kHz 16-bit mono PCM.
FileAudio = Callable[[int, int], Awaitable[bytes]]


class _Progress:
    """Where a carrier's progress of one call is written down."""

    def __init__(self, worker: CallWorker, row_id: int) -> None:
        self.worker, self.row_id = worker, row_id

    async def ringing(self, call_id: str, at: float) -> None:
        await self.worker.db.write(lambda c: call_records.ringing(c, self.row_id, at))

    async def answered(self, call_id: str, at: float) -> None:
        await self.worker.db.write(lambda c: call_records.answered(c, self.row_id, at))

    async def key(self, call_id: str, key: str, at: float) -> None:
        await self.worker.db.write(lambda c: call_records.key_pressed(c, self.row_id, key, at))


class CallWorker:
    """Claims and places calls through ``carriers``; one per delivery process."""

    def __init__(
        self,
        db: Database,
        carriers: Mapping[str, VoiceCarrier],
        speech: Speech,
        *,
        file_audio: FileAudio | None = None,
        clock: Clock = system_clock,
        lease: float = 30.0,
        start_deadline: float = 300.0,
        per_tenant: int = 20,
        poll_interval: float = 0.5,
    ) -> None:
        self.db, self.speech, self.clock = db, speech, clock
        self.carriers = dict(carriers)
        self.file_audio = file_audio
        self.lease, self.start_deadline = lease, start_deadline
        self.per_tenant, self.poll_interval = per_tenant, poll_interval
        self._busy: dict[str, int] = dict.fromkeys(self.carriers, 0)
        self._calls: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._renew_task: asyncio.Task[None] | None = None

    @property
    def lines(self) -> int:
        """Calls this worker could place at once."""
        return sum(c.max_calls for c in self.carriers.values())

    @property
    def in_progress(self) -> int:
        """Calls this worker holds now."""
        return len(self._calls)

    def notify(self) -> None:
        """A call was accepted: look now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        """Start the carriers and the loops."""
        self._busy = dict.fromkeys(self.carriers, 0)
        for carrier in self.carriers.values():
            await carrier.start()
        self._loop_task = asyncio.create_task(self._loop(), name="calls")
        self._renew_task = asyncio.create_task(self._renew_loop(), name="call-leases")

    async def stop(self) -> None:
        """Stop claiming; end the calls in progress (each still ends and is recorded)."""
        await stop_task(self._loop_task)
        self._loop_task = None
        held, calls = list(self._calls), list(self._calls.values())
        for task in calls:
            task.cancel()
        for task in calls:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if held:  # claimed, not dialled yet: back to the queue for the next worker
            await self.db.write(lambda c: call_records.hand_back(c, held))
        await stop_task(self._renew_task)
        self._renew_task = None
        for carrier in self.carriers.values():
            await carrier.stop()

    async def settle(self) -> None:
        """Wait until no call is held (tests and benches; bound it with asyncio.timeout)."""
        while self._calls:
            await asyncio.gather(*self._calls.values(), return_exceptions=True)

    # --- rounds ---------------------------------------------------------------------------
    async def round(self) -> int:
        """End abandoned calls, claim what free lines allow, start each; how many started."""
        now = self.clock()
        await self.db.write(lambda c: call_records.recover(c, now))
        # Calls no line took in time (every line busy, or none at all) fail, never wait on.
        await self.db.write(
            lambda c: call_records.expire_waiting(c, now - self.start_deadline, now)
        )
        free = self.lines - sum(self._busy.values()) - self._starting()
        if free <= 0:
            return 0
        claimed = await self.db.write(
            lambda c: call_records.claim(c, now, free, lease=self.lease, per_tenant=self.per_tenant)
        )
        for call in claimed:
            self._calls[call.row_id] = asyncio.create_task(
                self._place(call), name=f"call-{call.call_id}"
            )
        return len(claimed)

    def _starting(self) -> int:
        """Held calls not yet on a carrier's line."""
        return len(self._calls) - sum(self._busy.values())

    async def _loop(self) -> None:
        while True:
            try:
                started = await self.round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("call round failed")
                started = 0
            if not started:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_interval):
                        await self._wake.wait()

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            held = list(self._calls)
            until = self.clock() + self.lease
            try:
                await self.db.write(partial(call_records.renew, row_ids=held, until=until))
            except Exception:
                log.exception("renewing call leases failed")

    # --- one call -------------------------------------------------------------------------
    async def _place(self, call: ClaimedCall) -> None:
        try:
            await self._place_call(call)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("call %s failed", call.call_id)
        finally:
            self._calls.pop(call.row_id, None)
            self._wake.set()  # a line is free

    async def _place_call(self, call: ClaimedCall) -> None:
        if self.clock() - call.created_at > self.start_deadline:
            await self.db.write(
                lambda c: call_records.expire_too_late(c, call.row_id, self.clock())
            )
            return
        audio = await self._audio(call)
        name = self._free_carrier()
        if name is None:
            await self.db.write(lambda c: call_records.hand_back(c, [call.row_id]))
            return
        carrier = self.carriers[name]
        self._busy[name] += 1
        try:
            now = self.clock()
            if not await self.db.write(
                lambda c: call_records.dialled(c, call.row_id, name, now, self.lease)
            ):
                return
            request = CallRequest(call.call_id, call.phone, audio, call.play_times)
            outcome = await self._dial(carrier, request, call.row_id, now)
        finally:
            self._busy[name] -= 1
        await self.db.write(lambda c: call_records.end(c, call.row_id, outcome, self.clock()))

    async def _dial(
        self, carrier: VoiceCarrier, request: CallRequest, row_id: int, dialled_at: float
    ) -> CallOutcome:
        """The carrier's outcome; a carrier that fails after dialling ends the call as failed
        (never redialled). Cancelled (the worker stops): the carrier hangs up, the call is
        ended as it stands, and the cancel goes on."""
        try:
            return await carrier.call(request, _Progress(self, row_id))
        except NoLineError:
            # Rare: lines are counted before claiming. No phone rang, but CALLING is never
            # dialled again, so the call fails as the system being busy.
            log.warning("carrier had no free line for call %s", request.call_id)
            return _failed(request, dialled_at, self.clock(), 503, SYSTEM_BUSY.code)
        except asyncio.CancelledError:
            await self.db.write(lambda c: call_records.interrupt(c, row_id, self.clock()))
            raise
        except Exception:
            log.exception("carrier failed during call %s", request.call_id)
            return _failed(request, dialled_at, self.clock(), 0, OTHER.code)

    def _free_carrier(self) -> str | None:
        """The carrier with the most free lines, if any has one."""
        free = {n: c.max_calls - self._busy[n] for n, c in self.carriers.items()}
        best = max(free, key=lambda n: free[n], default=None)
        return best if best is not None and free[best] > 0 else None

    async def _audio(self, call: ClaimedCall) -> bytes:
        kind = VoiceKind(call.kind)
        language = "zh" if call.nation_code == "86" else "en"
        if kind is VoiceKind.CODE:
            return await self.speech.render_code(call.text, language=language)
        if kind is VoiceKind.FILE:
            if self.file_audio is None or call.file_id is None:
                raise RuntimeError("voice files cannot be played by this worker")
            return await self.file_audio(call.tenant_id, call.file_id)
        return await self.speech.render(call.text)


def _failed(
    request: CallRequest, dialled_at: float, now: float, status: int, code: int | None = None
) -> CallOutcome:
    return CallOutcome(
        call_id=request.call_id,
        answered=False,
        dialled_at=dialled_at,
        ringing_at=None,
        answered_at=None,
        ended_at=now,
        sip_status=status,
        failure_code=failure_for_sip(status).code if code is None else code,
    )
