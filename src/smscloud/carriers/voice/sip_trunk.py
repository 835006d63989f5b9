"""``SipTrunk``: the ``VoiceCarrier`` seam over a SIP trunk, asyncio glue around a sans-IO core.

Everything SIP, RTP and G.711 lives in ``protocols``; this module only moves datagrams and
keeps time. One UDP socket carries the trunk's SIP: each datagram is parsed once and handed to
the ``OutboundCall`` its Call-ID names (RFC 3261 §8.1.1.4); a datagram that does not parse, or
names no call of ours, is dropped. Each ``OutboundCall`` is driven from that socket's callback
and from one ``loop.call_at`` timer set at its ``next_deadline()``, always with ``loop.time()``
as ``now``: its transaction timers (§17.1.1.2, §17.1.2.2) run on the loop's monotonic clock,
while the times a ``CallOutcome`` reports come from the platform's ``Clock``.

A call, in ``call``:

1. a line is taken (``max_calls`` at most, else ``NoLineError`` at once: nothing queues), an
   RTP socket bound on an even port (RFC 3550 §11), the INVITE sent with its SDP offer;
2. ``Ringing`` and ``Answered`` go to the ``CallProgress`` as they come; ``Failed`` ends the
   call with its SIP status and the failure code it maps to (``domain.voice_failures``);
3. once answered, the audio is encoded to the codec the answer chose (PCMU 0 or PCMA 8), cut
   into 20 ms packets (RFC 3551 §4.2) and played ``play_times`` times. The silence between
   two playings is sent as no packets at all, the timestamp moving on over it (RFC 3550 §5.1),
   each playing a talkspurt of its own (marker bit, RFC 3551 §4.1). A packet leaves when its
   timestamp says it is due, measured from the first: a loop that ran late shifts the rest of
   the schedule rather than send a burst. Telephone events arriving on the RTP socket in the
   negotiated payload type (RFC 4733 §2.5.2) are reported as keys;
4. when the last frame has played out we hang up (BYE, §15.1); their BYE stops the audio.

After ``call`` returns, the line is free, but the ``OutboundCall`` lingers until ``finished``:
it still retransmits a BYE (Timer E), ACKs a final response sent again (Timer D, 32 s) and
answers a request sent again (Timer J). Cancelling ``call`` sends CANCEL or BYE best-effort
and closes the RTP socket before the cancellation goes on. ``stop`` hangs up every call in
progress, waits for them to end (``STOP_GRACE`` at most), then closes the SIP socket: a call
still waiting then (its CANCEL unanswered) raises ``ConnectionAbortedError``.

Not done here: RTCP (RFC 3550 §6; trunks carrying G.711 do without), TCP or TLS, answers to
requests outside our calls (a trunk's OPTIONS keep-alive goes unanswered), and checking where
RTP comes from (keys are taken from any source).
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeAlias

from smscloud.clock import Clock, system_clock
from smscloud.domain.voice_failures import failure_for_sip
from smscloud.protocols.g711 import lin_to_alaw, lin_to_ulaw
from smscloud.protocols.rtp import (
    CLOCK_RATE,
    FRAME_OCTETS,
    FRAME_SECONDS,
    PCMA,
    PCMU,
    DtmfDetector,
    Packetizer,
    RtpPacket,
    RtpParseError,
)
from smscloud.protocols.sip import (
    Address,
    Answered,
    CallEvent,
    Ended,
    Failed,
    OutboundCall,
    OutboundState,
    Ringing,
    SipParseError,
    Trunk,
    parse,
)
from smscloud.protocols.sip.headers import format_hostport

from .base import CallOutcome, CallProgress, CallRequest, NoLineError

__all__ = ["STOP_GRACE", "SipTrunk", "SipTrunkConfig", "playlist", "sip_user"]

log = logging.getLogger(__name__)

STOP_GRACE = 5.0  # seconds stop() lets calls end (a BYE is at once; a CANCEL waits for 487)
_EVEN_PORT_TRIES = 64  # bind port 0 until the OS gives an even one: 2^-64 to fail
_NUMBER = re.compile(r"\+?[0-9]{1,32}")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")  # a named account: nothing a URI would escape


@dataclass(frozen=True, slots=True, kw_only=True)
class SipTrunkConfig:
    """One SIP trunk account. Times are seconds."""

    host: str
    port: int = 5060
    username: str = ""  # Digest credentials (RFC 3261 §22), if the trunk challenges
    password: str = ""
    domain: str = ""  # the URIs' host; default: host[:port]
    caller: str = ""  # the number shown; default: the username
    codecs: tuple[int, ...] = (PCMU, PCMA)  # offered in this order of preference
    max_calls: int = 10  # calls at once; the trunk's channel count
    local_host: str = "127.0.0.1"  # the address we bind and advertise (Via, Contact, SDP)
    no_answer_timeout: float = 45.0  # how long it may ring before we CANCEL
    play_gap: float = 0.5  # silence between two playings of the audio
    dial_plus: bool = False  # dial +8613800138000 rather than 8613800138000
    name: str = "sip"

    def __post_init__(self) -> None:
        if self.max_calls < 1:
            raise ValueError("max_calls must be at least 1")
        if not self.codecs or not set(self.codecs) <= {PCMU, PCMA}:
            raise ValueError("codecs are PCMU (0) and/or PCMA (8)")
        if self.no_answer_timeout <= 0 or self.play_gap < 0:
            raise ValueError("no_answer_timeout must be positive and play_gap not negative")


def sip_user(value: str, *, plus: bool = False) -> str:
    """The user part of a URI for a number (E.164, its ``+`` kept only if ``plus``) or a
    named account; ``ValueError`` for anything else, which would need escaping."""
    if _NUMBER.fullmatch(value):
        return value if plus or not value.startswith("+") else value[1:]
    if _NAME.fullmatch(value):
        return value
    raise ValueError(f"{value!r} is neither a phone number nor an account name")


def playlist(
    packetizer: Packetizer, audio: bytes, play_times: int, gap: float
) -> list[tuple[float, RtpPacket]]:
    """``audio`` (G.711) played ``play_times`` times, ``gap`` seconds apart, as packets with
    the offset each is due at after the first: the distance of their timestamps, since the
    silence between playings goes as no packets (``Packetizer.idle``, RFC 3550 §5.1)."""
    packets: list[RtpPacket] = []
    for playing in range(play_times):
        if playing:
            packetizer.idle(gap)
        packets += packetizer.packets(audio)
    first = packets[0].timestamp if packets else 0
    return [(((p.timestamp - first) % 2**32) / CLOCK_RATE, p) for p in packets]


class _Signal(Enum):
    STOP = "stop"  # stop(): hang up now
    CLOSED = "closed"  # the SIP socket is gone


@dataclass(frozen=True, slots=True)
class _Key:
    key: str


_Item: TypeAlias = CallEvent | _Key | _Signal  # what a call's inbox holds


class _Leg:
    """One ``OutboundCall`` driven by the SIP socket's callback and one timer, and the keys
    its RTP socket hears. Events go to ``inbox``, read by ``call`` until it returns."""

    def __init__(
        self, call: OutboundCall, transport: asyncio.DatagramTransport, legs: dict[str, _Leg]
    ) -> None:
        self.call = call
        self.inbox: asyncio.Queue[_Item] = asyncio.Queue()
        self.detector: DtmfDetector | None = None  # once answered, if DTMF was agreed
        self._transport = transport
        self._legs = legs  # the trunk's, which holds this leg until it is finished
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None

    def drive(self, step: Callable[[float], list[CallEvent]]) -> None:
        """Run one of the call's entry points now, send what it queued, set the next timer.

        The leg stays in the trunk's ``legs`` (where datagrams find it) until ``finished``.
        """
        for event in step(self._loop.time()):
            self.inbox.put_nowait(event)
        datagrams = self.call.datagrams_to_send()
        self._cancel_timer()
        if self._transport.is_closing():
            return  # the trunk stopped: nothing goes out any more
        for data, address in datagrams:
            self._transport.sendto(data, address)
        deadline = self.call.next_deadline()
        if deadline is not None:
            self._timer = self._loop.call_at(deadline, self.drive, self.call.poll)
        if self.call.finished:
            self._legs.pop(self.call.call_id, None)
        else:
            self._legs[self.call.call_id] = self

    def on_rtp(self, data: bytes, source: Address) -> None:
        """A datagram on the call's RTP socket: telephone events become keys (RFC 4733
        §2.5.2); the audio the far end sends back is not listened to."""
        if self.detector is None:
            return
        try:
            packet = RtpPacket.parse(data)
        except RtpParseError:
            return
        for key in self.detector.feed(packet):
            self.inbox.put_nowait(_Key(key))

    def close(self) -> None:
        """The SIP socket is closing: no more timers, and a waiting ``call`` is told."""
        self._cancel_timer()
        self.inbox.put_nowait(_Signal.CLOSED)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class _Endpoint(asyncio.DatagramProtocol):
    """A UDP socket whose datagrams go to ``receive``."""

    def __init__(self, receive: Callable[[bytes, Address], None]) -> None:
        self._receive = receive

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self._receive(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP socket: %s", exc)  # an ICMP port unreachable, say


class SipTrunk:
    """A voice carrier reached through a SIP trunk over UDP (see the module docstring)."""

    def __init__(self, config: SipTrunkConfig, *, clock: Clock = system_clock) -> None:
        self.config = config
        self.name = config.name
        self.max_calls = config.max_calls
        self._clock = clock
        self._transport: asyncio.DatagramTransport | None = None
        self._trunk = Trunk(config.host, config.port, config.username, config.password)
        self._legs: dict[str, _Leg] = {}  # by Call-ID, until each is finished
        self._lines: set[_Leg] = set()  # the calls whose ``call`` has not returned
        self._no_lines = asyncio.Event()
        self._stopping = False

    @property
    def address(self) -> Address:
        """Where our SIP socket is bound (and what Via and Contact say)."""
        if self._transport is None:
            raise RuntimeError("not started")
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    async def start(self) -> None:
        """Bind the SIP socket on a free port of ``local_host``; resolve the trunk's host."""
        if self._transport is not None:
            return
        loop = asyncio.get_running_loop()
        config = self.config
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Endpoint(self._on_sip), local_addr=(config.local_host, 0)
        )
        try:
            family = transport.get_extra_info("socket").family
            infos = await loop.getaddrinfo(
                config.host, config.port, family=family, type=socket.SOCK_DGRAM
            )
        except BaseException:
            transport.close()
            raise
        port = None if config.port == 5060 else config.port
        domain = config.domain or format_hostport(config.host, port)
        host = str(infos[0][4][0])  # sendto() must not resolve names on the loop
        self._trunk = Trunk(host, config.port, config.username, config.password, domain)
        self._transport = transport
        self._stopping = False

    async def call(self, request: CallRequest, progress: CallProgress) -> CallOutcome:
        """Dial ``request.phone``, play the audio once answered, hang up; see ``VoiceCarrier``.

        Before dialling: ``NoLineError`` when not started, every line is taken or no RTP port
        can be bound; ``ValueError`` for a phone or caller that is neither a number nor an
        account name, or audio of an odd length.
        """
        transport, config = self._transport, self.config
        if transport is None or self._stopping:
            raise NoLineError(f"{self.name}: not started")
        if len(self._lines) >= self.max_calls:
            raise NoLineError(f"{self.name}: all {self.max_calls} lines are busy")
        if len(request.audio) % 2:
            raise ValueError(f"16-bit PCM has an even length, not {len(request.audio)} octets")
        callee = sip_user(request.phone, plus=config.dial_plus)
        caller = request.caller or config.caller
        caller = sip_user(caller, plus=config.dial_plus) if caller else ""
        try:
            rtp_sock = _bind_even(config.local_host)
        except OSError as exc:
            raise NoLineError(f"{self.name}: no RTP port: {exc}") from exc
        call = OutboundCall(
            self._trunk,
            local=self.address,
            callee=callee,
            rtp=(config.local_host, rtp_sock.getsockname()[1]),
            caller=caller,
            codecs=config.codecs,
            no_answer_timeout=config.no_answer_timeout,
            # The platform's id names the SIP call too: one id in our logs, the trunk's
            # and (for the built-in network) its recording.
            call_id=f"{request.call_id}@{config.local_host}",
        )
        leg = _Leg(call, transport, self._legs)
        self._lines.add(leg)  # taken before any await: no two calls share the last line
        self._no_lines.clear()
        try:
            return await self._place(leg, rtp_sock, request, progress)
        finally:
            self._lines.discard(leg)
            if not self._lines:
                self._no_lines.set()

    async def _place(
        self, leg: _Leg, rtp_sock: socket.socket, request: CallRequest, progress: CallProgress
    ) -> CallOutcome:
        loop, call, call_id = asyncio.get_running_loop(), leg.call, request.call_id
        try:
            rtp, _ = await loop.create_datagram_endpoint(
                lambda: _Endpoint(leg.on_rtp), sock=rtp_sock
            )
        except BaseException:
            rtp_sock.close()
            raise
        dialled_at = self._clock()
        ringing_at: float | None = None
        try:
            leg.drive(call.start)
            while True:
                item = await leg.inbox.get()
                if isinstance(item, Ringing):
                    ringing_at = self._clock()
                    await progress.ringing(call_id, ringing_at)
                elif isinstance(item, Failed):
                    log.info("%s: call %s not answered: %s", self.name, call_id, item)
                    return CallOutcome(
                        call_id=call_id,
                        answered=False,
                        dialled_at=dialled_at,
                        ringing_at=ringing_at,
                        answered_at=None,
                        ended_at=self._clock(),
                        sip_status=item.status,
                        failure_code=failure_for_sip(item.status).code,
                    )
                elif isinstance(item, Answered):
                    answered_at = self._clock()
                    if item.dtmf_payload_type is not None:
                        leg.detector = DtmfDetector(item.dtmf_payload_type)
                    await progress.answered(call_id, answered_at)
                    by, sent = await self._play(leg, rtp, item, request, progress)
                    return CallOutcome(
                        call_id=call_id,
                        answered=True,
                        dialled_at=dialled_at,
                        ringing_at=ringing_at,
                        answered_at=answered_at,
                        ended_at=self._clock(),
                        sip_status=200,
                        hung_up_by=by,
                        keys=leg.detector.keys if leg.detector else "",
                        audio_seconds=sent * FRAME_OCTETS / CLOCK_RATE,
                    )
                elif item is _Signal.STOP:
                    leg.drive(call.hangup)  # CANCEL: the Failed it brings ends the call
                elif item is _Signal.CLOSED:
                    raise ConnectionAbortedError(f"{self.name}: stopped during the call")
        finally:
            if call.state is not OutboundState.IDLE:
                leg.drive(call.hangup)  # cancelled or failed on the way: CANCEL or BYE
            rtp.close()

    async def _play(
        self,
        leg: _Leg,
        rtp: asyncio.DatagramTransport,
        answered: Answered,
        request: CallRequest,
        progress: CallProgress,
    ) -> tuple[str, int]:
        """Send the audio on schedule, keys reported on the way: who hung up, packets sent."""
        loop = asyncio.get_running_loop()
        encode = lin_to_ulaw if answered.payload_type == PCMU else lin_to_alaw
        packetizer = Packetizer(answered.payload_type)
        audio = encode(request.audio)
        schedule: list[tuple[float, RtpPacket | None]] = [
            *playlist(packetizer, audio, request.play_times, self.config.play_gap)
        ]
        last = schedule[-1][0] + FRAME_SECONDS if schedule else 0.0
        schedule.append((last, None))  # hang up once the last frame has played out
        start, sent = loop.time(), 0
        for offset, packet in schedule:
            end = await self._until(start + offset, leg, request.call_id, progress)
            if isinstance(end, Ended):
                return end.by, sent  # their BYE: the audio stops here
            if end is _Signal.STOP or packet is None:
                break
            late = loop.time() - (start + offset)
            if late > FRAME_SECONDS:
                start += late  # the loop stalled: shift what is left rather than burst
            rtp.sendto(packet.pack(), answered.remote_rtp)
            sent += 1
        leg.drive(leg.call.hangup)
        return "us", sent

    async def _until(
        self, deadline: float, leg: _Leg, call_id: str, progress: CallProgress
    ) -> Ended | _Signal | None:
        """Report keys until the loop's ``deadline`` (None then), unless the call ends or
        ``stop`` asks to hang up first (that, then)."""
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    item = await leg.inbox.get()
            except TimeoutError:
                return None
            if isinstance(item, _Key):
                await progress.key(call_id, item.key, self._clock())
            elif item is _Signal.CLOSED:
                raise ConnectionAbortedError(f"{self.name}: stopped during the call")
            elif isinstance(item, Ended) or item is _Signal.STOP:
                return item

    async def stop(self) -> None:
        """Hang up every call in progress, let them end (``STOP_GRACE``), close the socket."""
        self._stopping = True
        for leg in self._lines:
            leg.inbox.put_nowait(_Signal.STOP)
        if self._lines:
            try:
                async with asyncio.timeout(STOP_GRACE):
                    await self._no_lines.wait()
            except TimeoutError:
                log.warning("%s: %d calls still up at stop", self.name, len(self._lines))
        for leg in {*self._legs.values(), *self._lines}:
            leg.close()
        self._legs.clear()
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def _on_sip(self, data: bytes, source: Address) -> None:
        try:
            msg = parse(data)
        except SipParseError as exc:
            log.debug("%s: dropped a datagram from %s: %s", self.name, source, exc)
            return
        leg = self._legs.get(msg.header("Call-ID") or "")
        if leg is None:
            log.debug("%s: dropped a message for no call of ours from %s", self.name, source)
            return
        try:
            leg.drive(lambda now: leg.call.receive(msg, source, now))
        except SipParseError as exc:
            log.debug("%s: dropped a message from %s: %s", self.name, source, exc)


def _bind_even(host: str) -> socket.socket:
    """A UDP socket on a free even port of ``host`` (RFC 3550 §11: RTP takes the even one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(_EVEN_PORT_TRIES):
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((host, 0))
        except OSError:
            sock.close()
            raise
        if sock.getsockname()[1] % 2 == 0:
            sock.setblocking(False)
            return sock
        sock.close()
    raise OSError("no even UDP port came free")
