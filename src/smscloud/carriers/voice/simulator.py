"""The built-in phone network: SIP phones on loopback over UDP, for the embedded default.

What the SMPP simulator (``carriers.smsc``) is for SMS, this is for calls: the platform's SIP
trunk dials ``sip:<number>@host:port`` and the phone at that number answers as the magic
numbers of ``phone_numbers`` say (busy, not found, no answer, unreachable, answers and hangs
up, answers and presses a key; any other number answers and listens).

Theory of operation
-------------------
A thin asyncio driver over the sans-IO ``protocols.sip.Answerer``, which owns every
transaction, dialog and retransmission (RFC 3261 §13.3, §17.2). One UDP socket carries SIP
(§18): each datagram goes to ``Answerer.receive``, what it reports is acted on, and what it
queues (``datagrams_to_send``) is sent. Here only the phone's decisions are made, per
``IncomingCall``: reject at once with the number's status (486, 404: §13.3.1.3), or ring
(180, §13.3.1.1) and, ``ring_seconds`` later, answer (200 with an SDP answer, §13.3.1.4), and
later hang up (BYE, §15.1) if the number says so. INVITEs to the unreachable number never
reach the Answerer: every datagram of their Call-ID is dropped, so the caller's INVITE
transaction times out (§17.1.1.2, Timer B) as it would towards a phone that is gone.

Time: one timer handle on the event loop, armed for the earliest of the Answerer's
``next_deadline()`` (its retransmission timers, §17) and the calls' own deadlines (answer,
key press, hang-up, and ``max_call_seconds`` after the INVITE, which ends a call whose caller
vanished: with 408 while it rings, with our BYE once answered). When it fires, ``poll(now)``
runs the Answerer's timers and the calls' due actions. ``now`` is the loop's monotonic clock
(or the ``clock`` given); the wall clock is never read. The Answerer forgets a finished call
only on ``poll``, and a call that finishes on a datagram (the ACK of a 486) leaves it no
deadline to be polled at, so ``poll`` also runs after every datagram.

Media: answering binds one RTP socket for the call on a free even port (RFC 3550 §11) and
answers the offer with the first G.711 codec it lists (PCMU or PCMA, RFC 3264 §6.1: same
payload type numbers), plus the offer's ``telephone-event`` type if any (RFC 4733 §7.1.1).
An offer with neither codec, or no offer at all (the offer in the ACK, §13.2.1, is not
supported), is refused with 488 (§21.4.26) before ringing. The socket is read with
``loop.add_reader``, since it is made while a datagram is handled. Each packet
(``RtpPacket.parse``) of PCMU or PCMA is counted and, when ``recordings_dir`` is set, decoded
and put into the call's recording at the place its RTP timestamp says (RFC 3550 §5.1), so a
pause the caller sent as no packets at all is heard as silence and packets out of order land
where they belong; a new SSRC continues where the recording ends. Packets older than the
first of their stream are counted but not recorded, and the recording stops at
``max_call_seconds`` (it is kept in memory: 16 kB a second). When the call ends, what already
waits in the socket is read before it closes: audio sent just before the BYE counts.
The key-pressing phone sends RFC 4733 telephone events to the address of the caller's offer
(see ``_key_press``). Nothing else is sent: the phones listen.

Calls end in one of the ``Outcome``s: the RTP socket is closed at once, the recording (if
any audio came) is written as an 8 kHz 16-bit mono WAV, mode 0600, named after the callee
and a counter, in a worker thread; then the ``SimulatedCall`` joins ``calls`` (the last
``history`` kept) and goes to ``on_call_ended``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import secrets
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from types import TracebackType

from smscloud.private_files import create_once
from smscloud.protocols.g711 import alaw_to_lin, ulaw_to_lin
from smscloud.protocols.rtp import (
    CLOCK_RATE,
    FRAME_SECONDS,
    RtpPacket,
    RtpParseError,
    TelephoneEvent,
)
from smscloud.protocols.sip import (
    PCMA,
    PCMU,
    Address,
    Answerer,
    AnswererEvent,
    CallCancelled,
    CallEnded,
    CallStateError,
    DigestRealm,
    InboundCall,
    IncomingCall,
    SipMessage,
    SipParseError,
    SipRequest,
    Timers,
    build_answer,
    name_addr,
    parse,
    uri_user,
)
from smscloud.protocols.sip.sdp import MediaDescription, SdpError, parse_media

from .phone_numbers import Behaviour, Phone, phone_for
from .speech import wav_bytes

__all__ = ["HISTORY", "MAX_CALL_SECONDS", "Outcome", "SimulatedCall", "VoiceSimulator"]

log = logging.getLogger(__name__)

MAX_CALL_SECONDS = 600.0  # a call whose caller vanished ends after this long
HISTORY = 1000  # ended calls kept in ``VoiceSimulator.calls``
KEY_SECONDS = 0.1  # how long the key-pressing phone holds its key
KEY_VOLUME = 10  # RFC 4733 §2.3.4: -10 dBm0
_DECODE: dict[int, Callable[[bytes], bytes]] = {PCMU: ulaw_to_lin, PCMA: alaw_to_lin}
_STEP = round(FRAME_SECONDS * CLOCK_RATE)  # 160 timestamp units between event reports
_RECEIVE_BATCH = 64  # datagrams read per wake-up of one RTP socket: others get their turn
_DRAIN_LIMIT = 4096  # datagrams read from a socket being closed: its buffer's worth
_EVEN_PORT_TRIES = 64
_UNSAFE = re.compile(r"[^0-9A-Za-z+._-]")

Clock = Callable[[], float]


class Outcome(StrEnum):
    """How a simulated call ended."""

    REJECTED = "rejected"  # busy, not found, an unusable offer: ``sip_status`` says which
    CANCELLED = "cancelled"  # the caller's CANCEL while it rang: 487 (§9.2)
    CALLER_HUNG_UP = "caller_hung_up"  # the caller's BYE
    HUNG_UP = "hung_up"  # our BYE: the early hang-up number
    NO_ACK = "no_ack"  # our 200 was never ACKed: BYE after 64·T1 (§13.3.1.4)
    TIMED_OUT = "timed_out"  # ``max_call_seconds``: 408 while ringing, else our BYE
    IGNORED = "ignored"  # the unreachable number: nothing was ever sent
    STOPPED = "stopped"  # the simulator stopped during the call (480, or our BYE)


@dataclass(frozen=True, slots=True)
class SimulatedCall:
    """One call as the simulator saw it. Times are the simulator's clock (monotonic).

    ``sip_status`` is our final response to the INVITE (200 answered, 0 none at all);
    ``packets`` and ``audio_seconds`` count the caller's G.711 RTP (samples / 8000);
    ``recording`` is the WAV of what was heard, if ``recordings_dir`` was set and audio came.
    """

    call_id: str
    caller: str
    callee: str
    behaviour: Behaviour
    outcome: Outcome
    sip_status: int
    started_at: float
    answered_at: float | None
    ended_at: float
    payload_type: int | None = None  # the codec answered with
    rtp_port: int | None = None  # our RTP port, once answered
    packets: int = 0
    audio_seconds: float = 0.0
    keys_sent: str = ""
    recording: Path | None = None


def _bind_even(host: str) -> socket.socket:
    """A non-blocking UDP socket on a free even port (RFC 3550 §11: RTCP takes the odd one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(_EVEN_PORT_TRIES):
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
            if port % 2:  # the even one below it, if free
                sock.close()
                sock = socket.socket(family, socket.SOCK_DGRAM)
                sock.bind((host, port - 1))
        except OSError:
            sock.close()
            continue
        sock.setblocking(False)
        return sock
    raise OSError(f"no free even UDP port on {host}")


def _key_press(key: str, payload_type: int) -> list[tuple[float, bytes]]:
    """One press of ``key`` as RFC 4733 telephone events, each with its offset in seconds.

    Every packet carries the timestamp of the press's start and a growing duration, the
    first with the marker bit (§2.5.1.2); the final report (E bit) goes three times
    (§2.5.1.4), and every packet takes the next sequence number (§2.5.1.6). SSRC, sequence
    number and timestamp start at random (RFC 3550 §5.1).
    """
    ssrc, sequence, timestamp = secrets.randbits(32), secrets.randbits(16), secrets.randbits(32)
    reports = round(KEY_SECONDS / FRAME_SECONDS)
    out: list[tuple[float, bytes]] = []
    for i in range(reports + 2):
        duration = min(i + 1, reports) * _STEP
        event = TelephoneEvent(key, i + 1 >= reports, KEY_VOLUME, duration)
        seq = (sequence + i) & 0xFFFF
        packet = RtpPacket(payload_type, seq, timestamp, ssrc, event.pack(), marker=i == 0)
        out.append((i * FRAME_SECONDS, packet.pack()))
    return out


class _Media:
    """One call's RTP socket: the caller's G.711 counted and, if ``keep``, recorded."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, host: str, *, keep: bool, max_samples: int
    ) -> None:
        self.sock = _bind_even(host)
        self.port = int(self.sock.getsockname()[1])
        self.packets = self.samples = 0
        self.pcm: bytearray | None = bytearray() if keep else None
        self._max = max_samples
        self._ssrc: int | None = None
        self._base = 0  # the RTP timestamp of the recording's first sample, in this stream
        self._loop = loop
        self._open = True
        loop.add_reader(self.sock.fileno(), self._readable)

    def _readable(self, batch: int = _RECEIVE_BATCH) -> None:
        for _ in range(batch):
            try:
                data = self.sock.recv(65535)
            except OSError:  # BlockingIOError: all read
                return
            self.take(data)

    def take(self, data: bytes) -> None:
        """Count (and record) one datagram of the caller's."""
        try:
            packet = RtpPacket.parse(data)
        except RtpParseError:
            return
        decode = _DECODE.get(packet.payload_type)
        if decode is None:  # telephone-event, comfort noise, RTCP (RFC 5761 §4)...
            return
        self.packets += 1
        self.samples += len(packet.payload)
        if self.pcm is not None:
            self._record(packet, decode(packet.payload))

    def _record(self, packet: RtpPacket, linear: bytes) -> None:
        pcm = self.pcm
        assert pcm is not None
        if packet.ssrc != self._ssrc:  # a new stream goes on where the recording ends
            self._ssrc = packet.ssrc
            self._base = (packet.timestamp - len(pcm) // 2) & 0xFFFFFFFF
        offset = (packet.timestamp - self._base) & 0xFFFFFFFF
        if offset >= 1 << 31 or offset + len(linear) // 2 > self._max:
            return  # from before the stream's first packet, or past the longest call
        at = 2 * offset
        if at > len(pcm):
            pcm.extend(bytes(at - len(pcm)))  # not sent: silence
        pcm[at : at + len(linear)] = linear

    def send(self, data: bytes, to: Address) -> None:
        with contextlib.suppress(OSError):  # a full buffer, or an address we cannot reach
            self.sock.sendto(data, to)

    def close(self) -> None:
        """Close the socket, after reading what arrived before the call ended (the caller's
        audio sent just before its BYE may still wait in the socket's buffer)."""
        if self._open:
            self._open = False
            self._readable(_DRAIN_LIMIT)
            self._loop.remove_reader(self.sock.fileno())
            self.sock.close()


class _Call:
    """A call in progress: its phone, its RTP, and what is due when."""

    def __init__(
        self, incoming: IncomingCall, phone: Phone, inbound: InboundCall, end_at: float
    ) -> None:
        self.incoming, self.phone, self.inbound = incoming, phone, inbound
        self.end_at = end_at
        self.offer: MediaDescription | None = None
        self.codec: int | None = None
        self.media: _Media | None = None
        self.answered_at: float | None = None
        self.answer_at: float | None = None
        self.key_at: float | None = None
        self.hang_up_at: float | None = None
        self.sends: deque[tuple[float, bytes]] = deque()  # (when, RTP packet) to the caller
        self.keys = ""
        self.ended = False

    def next_deadline(self) -> float:
        times = [self.end_at, self.answer_at, self.key_at, self.hang_up_at]
        if self.sends:
            times.append(self.sends[0][0])
        return min(t for t in times if t is not None)


class _SipProtocol(asyncio.DatagramProtocol):
    def __init__(self, received: Callable[[bytes, Address], None]) -> None:
        self._received = received

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self._received(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:  # an ICMP error for what we sent
        log.debug("SIP socket: %s", exc)


def _user(uri: str) -> str:
    try:
        return uri_user(uri)
    except SipParseError:
        return ""


class VoiceSimulator:
    """The phone network: ``await start()``, dial ``sip:<number>@host:port``, ``await stop()``.

    ``host`` is also the address in our SDP: give a concrete one. ``port`` 0 takes a free
    port (read ``port`` after ``start``). ``auth`` makes every INVITE prove a Digest
    password first (RFC 3261 §22.2). ``timers`` are the SIP base timers (T1...).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        recordings_dir: Path | None = None,
        ring_seconds: float = 1.0,
        auth: DigestRealm | None = None,
        clock: Clock | None = None,
        max_call_seconds: float = MAX_CALL_SECONDS,
        history: int = HISTORY,
        on_call_ended: Callable[[SimulatedCall], None] | None = None,
        timers: Timers | None = None,
    ) -> None:
        if ring_seconds < 0 or max_call_seconds <= 0 or history < 1:
            raise ValueError("ring_seconds >= 0, max_call_seconds > 0 and history >= 1")
        self.host, self.port = host, port
        self.recordings_dir = recordings_dir
        self.ring_seconds = ring_seconds
        self.auth = auth
        self.max_call_seconds = max_call_seconds
        self.on_call_ended = on_call_ended
        self.timers = timers or Timers()
        self.calls: deque[SimulatedCall] = deque(maxlen=history)  # ended, oldest first
        self._clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._answerer = Answerer((host, port), auth=auth, timers=self.timers)  # until start
        self._live: dict[str, _Call] = {}
        self._ignored: dict[str, float] = {}  # Call-IDs of the unreachable number: until
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._writes: set[asyncio.Task[None]] = set()
        self._names = itertools.count(1)

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the SIP socket (a free port when ``port`` is 0) and take calls."""
        loop = self._loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _SipProtocol(self._on_datagram), local_addr=(self.host, self.port)
        )
        self._transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])
        self._answerer = Answerer((self.host, self.port), auth=self.auth, timers=self.timers)

    async def stop(self) -> None:
        """End every call (480 while ringing, BYE once answered), close every socket, and
        wait for the recordings to be written."""
        transport = self._transport
        if transport is None:
            return
        now = self.now()
        for call in list(self._live.values()):
            status = 480 if call.answered_at is None else 200
            with contextlib.suppress(CallStateError):
                if call.answered_at is None:
                    call.inbound.reject(now, 480)  # §21.4.18 Temporarily Unavailable
                else:
                    call.inbound.hangup(now)
            self._end(call, now, Outcome.STOPPED, status)
        self._flush()
        self._transport = None
        transport.close()
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._timer_at = None
        self._ignored.clear()
        await asyncio.gather(*self._writes)

    async def __aenter__(self) -> VoiceSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def active_calls(self) -> int:
        """Calls in progress (ringing or answered)."""
        return len(self._live)

    def now(self) -> float:
        """The simulator's time: ``clock()``, or the event loop's monotonic clock."""
        if self._clock is not None:
            return self._clock()
        assert self._loop is not None, "not started"
        return self._loop.time()

    # --- SIP in and out ------------------------------------------------------------------

    def _on_datagram(self, data: bytes, source: Address) -> None:
        if self._transport is None:
            return
        now = self.now()
        try:
            self._take(data, source, now)
        finally:
            self._flush()
            self._arm(now)

    def _take(self, data: bytes, source: Address, now: float) -> None:
        try:
            msg = parse(data)
        except SipParseError:
            return  # a keep-alive (a bare CRLF, or STUN: RFC 5626 §3.5), or not SIP at all
        call_id = msg.header("Call-ID") or ""
        if call_id in self._ignored or self._unreachable(msg):
            self._ignore(msg, call_id, now)
            return
        try:
            events = self._answerer.receive(msg, source, now)
        except SipParseError:
            return  # §8.1.1: without Via, From, To, Call-ID or CSeq
        events += self._answerer.poll(now)  # forget the calls this one finished
        self._handle(events, now)

    def _unreachable(self, msg: SipMessage) -> bool:
        if not isinstance(msg, SipRequest) or msg.method != "INVITE":
            return False
        return not phone_for(_user(msg.uri)).responds

    def _ignore(self, msg: SipMessage, call_id: str, now: float) -> None:
        """A datagram of a call to the unreachable number: dropped, its Call-ID kept for
        64·T1 after the last one (the caller's Timer B, §17.1.1.2)."""
        first = call_id not in self._ignored
        self._ignored[call_id] = now + self.timers.give_up
        if first and isinstance(msg, SipRequest):
            try:
                caller = _user(name_addr(msg.header("From") or "").uri)
            except SipParseError:
                caller = ""
            callee = _user(msg.uri)
            behaviour = phone_for(callee).behaviour
            record = SimulatedCall(
                call_id, caller, callee, behaviour, Outcome.IGNORED, 0, now, None, now
            )
            self._finish(record)

    def _flush(self) -> None:
        if self._transport is not None:
            for data, to in self._answerer.datagrams_to_send():
                self._transport.sendto(data, to)

    def _handle(self, events: list[AnswererEvent], now: float) -> None:
        for event in events:
            if isinstance(event, IncomingCall):
                self._incoming(event, now)
                continue
            call = self._live.get(event.call_id)
            if call is None:
                continue
            if isinstance(event, CallCancelled):
                self._end(call, now, Outcome.CANCELLED, 487)
            elif isinstance(event, CallEnded):  # "us": our 200 was never ACKed
                outcome = Outcome.CALLER_HUNG_UP if event.by == "them" else Outcome.NO_ACK
                self._end(call, now, outcome, 200)

    # --- the phones' decisions -----------------------------------------------------------

    def _incoming(self, incoming: IncomingCall, now: float) -> None:
        phone = phone_for(incoming.callee)
        inbound = self._answerer.call(incoming.call_id)
        call = _Call(incoming, phone, inbound, now + self.max_call_seconds)
        self._live[incoming.call_id] = call
        if phone.reject is not None:
            self._reject(call, now, phone.reject, Outcome.REJECTED)
            return
        if phone.answers:
            try:
                call.offer = parse_media(incoming.offer)
            except SdpError:
                call.offer = None  # no offer (it would come in the ACK): not supported
            offered = call.offer.payload_types if call.offer else ()
            call.codec = next((pt for pt in offered if pt in _DECODE), None)
            if call.codec is None:  # RFC 3264 §6: no G.711 to answer with
                self._reject(call, now, 488, Outcome.REJECTED)  # §21.4.26
                return
            call.answer_at = now + self.ring_seconds
        inbound.ring(now)

    def _reject(self, call: _Call, now: float, status: int, outcome: Outcome) -> None:
        call.inbound.reject(now, status)
        self._end(call, now, outcome, status)

    def _answer(self, call: _Call, now: float) -> None:
        call.answer_at = None
        assert self._loop is not None and call.codec is not None and call.offer is not None
        try:
            media = _Media(
                self._loop,
                self.host,
                keep=self.recordings_dir is not None,
                max_samples=round(self.max_call_seconds * CLOCK_RATE),
            )
        except OSError:
            log.exception("no RTP socket for call %s", call.incoming.call_id)
            self._reject(call, now, 503, Outcome.REJECTED)  # §21.5.4 Service Unavailable
            return
        call.media = media
        sdp = build_answer(
            call.incoming.offer,
            self.host,
            media.port,
            (call.codec,),
            session_id=secrets.randbits(31),  # RFC 4566 §5.2: unique
        )
        call.inbound.answer(now, sdp)
        call.answered_at = now
        phone = call.phone
        if phone.hang_up_after is not None:
            call.hang_up_at = now + phone.hang_up_after
        if phone.key_after is not None and call.offer.dtmf_payload_type is not None:
            call.key_at = now + phone.key_after  # no telephone-event offered: no key

    def _press_key(self, call: _Call, now: float) -> None:
        call.key_at = None
        key, offer = call.phone.key, call.offer
        assert key is not None and offer is not None and offer.dtmf_payload_type is not None
        for offset, packet in _key_press(key, offer.dtmf_payload_type):
            call.sends.append((now + offset, packet))
        call.keys += key

    def _hang_up(self, call: _Call, now: float, outcome: Outcome) -> None:
        call.inbound.hangup(now)  # BYE now, or once the ACK comes (§15)
        self._end(call, now, outcome, 200)

    def _run_due(self, call: _Call, now: float) -> None:
        if call.answer_at is not None and now >= call.answer_at:
            self._answer(call, now)
        if call.key_at is not None and now >= call.key_at and not call.ended:
            self._press_key(call, now)
        while call.sends and call.sends[0][0] <= now and call.media is not None:
            offer = call.offer
            assert offer is not None
            call.media.send(call.sends.popleft()[1], (offer.address, offer.port))
        if call.ended:
            return
        if call.hang_up_at is not None and now >= call.hang_up_at:
            self._hang_up(call, now, Outcome.HUNG_UP)
        elif now >= call.end_at:
            if call.answered_at is None:
                self._reject(call, now, 408, Outcome.TIMED_OUT)  # §21.4.9: it rang out
            else:
                self._hang_up(call, now, Outcome.TIMED_OUT)

    # --- time ----------------------------------------------------------------------------

    def _next_deadline(self) -> float | None:
        times = [call.next_deadline() for call in self._live.values()]
        if (answerer := self._answerer.next_deadline()) is not None:
            times.append(answerer)
        if self._ignored:
            times.append(min(self._ignored.values()))
        return min(times, default=None)

    def _arm(self, now: float) -> None:
        """Have ``_on_timer`` run at the next deadline (one timer handle for everything)."""
        deadline = self._next_deadline() if self._transport is not None else None
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = None, deadline
        if deadline is not None:
            assert self._loop is not None
            self._timer = self._loop.call_later(max(0.0, deadline - now), self._on_timer)

    def _on_timer(self) -> None:
        # The loop runs a timer up to its clock's resolution early: it is due all the same.
        now = max(self.now(), self._timer_at or 0.0)
        self._timer = self._timer_at = None
        try:
            self._handle(self._answerer.poll(now), now)
            for call in list(self._live.values()):
                self._run_due(call, now)
            for call_id, until in list(self._ignored.items()):
                if until <= now:
                    del self._ignored[call_id]
        finally:
            self._flush()
            self._arm(now)

    # --- the end of a call ---------------------------------------------------------------

    def _end(self, call: _Call, now: float, outcome: Outcome, status: int) -> None:
        call.ended = True
        incoming, media = call.incoming, call.media
        del self._live[incoming.call_id]
        if media is not None:
            media.close()
        record = SimulatedCall(
            call_id=incoming.call_id,
            caller=incoming.caller,
            callee=incoming.callee,
            behaviour=call.phone.behaviour,
            outcome=outcome,
            sip_status=status,
            started_at=incoming.at,
            answered_at=call.answered_at,
            ended_at=now,
            payload_type=call.codec if media is not None else None,
            rtp_port=media.port if media is not None else None,
            packets=media.packets if media is not None else 0,
            audio_seconds=media.samples / CLOCK_RATE if media is not None else 0.0,
            keys_sent=call.keys,
        )
        log.debug("call %s to %s: %s %d", incoming.call_id, incoming.callee, outcome, status)
        if media is not None and media.pcm and self.recordings_dir is not None:
            assert self._loop is not None
            task = self._loop.create_task(self._save(record, bytes(media.pcm)))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)
        else:
            self._finish(record)

    async def _save(self, record: SimulatedCall, pcm: bytes) -> None:
        try:
            path: Path | None = await asyncio.to_thread(self._write, record.callee, pcm)
        except OSError:
            log.exception("the recording of call %s was not written", record.call_id)
            path = None
        self._finish(replace(record, recording=path))

    def _write(self, callee: str, pcm: bytes) -> Path:
        """Write the WAV as a new 0600 file ``<callee>-<n>.wav`` (in a worker thread)."""
        assert self.recordings_dir is not None
        data = wav_bytes(pcm)
        stem = _UNSAFE.sub("_", callee)[:40] or "unknown"
        while True:  # numbers taken by an earlier run are skipped
            path = self.recordings_dir / f"{stem}-{next(self._names):06d}.wav"
            if create_once(path, data):
                return path

    def _finish(self, record: SimulatedCall) -> None:
        self.calls.append(record)
        if self.on_call_ended is not None:
            try:
                self.on_call_ended(record)
            except Exception:
                log.exception("on_call_ended failed for call %s", record.call_id)
