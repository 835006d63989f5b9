"""The built-in phone network (``carriers/voice/simulator.py``) over real UDP on loopback.

Three kinds of caller: Debian's sipp (``tests/peers/sipp.py``), the independent one, for the
SIP flows of each magic number; an ``OutboundCall`` driven over asyncio in the test where RTP
must be checked to the sample; and bare datagrams where a caller must misbehave (no ACK, an
offer without G.711) or where the check is that nothing comes back. Nothing sleeps for a
fixed time: every wait polls a condition until a deadline, and "nothing came back" is shown
by the answer to a later OPTIONS arriving first (one socket, handled in order).
"""

from __future__ import annotations

import asyncio
import functools
import io
import os
import socket
import stat
import wave
from collections.abc import Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, ParamSpec

import pytest

from smscloud.carriers.voice.phone_numbers import Behaviour
from smscloud.carriers.voice.simulator import Outcome, SimulatedCall, VoiceSimulator
from smscloud.protocols.g711 import alaw_to_lin, lin_to_ulaw, ulaw_to_lin
from smscloud.protocols.rtp import DtmfDetector, Packetizer, RtpPacket, parse_telephone_event
from smscloud.protocols.sip import (
    PCMA,
    PCMU,
    Address,
    Answered,
    CallEvent,
    DigestRealm,
    Ended,
    Failed,
    OutboundCall,
    Ringing,
    SipMessage,
    SipRequest,
    SipResponse,
    Timers,
    Trunk,
    parse,
)
from smscloud.protocols.sip.sdp import parse_media
from tests.peers.sipp import SippPeers, SippResult

HOST = "127.0.0.1"
WAIT = 30.0  # a deadline for every poll; met in milliseconds on an idle machine
DEFAULT = "+8613800138000"
BUSY, NO_ANSWER, NOT_FOUND = "+8613800000001", "+8613800000002", "+8613800000003"
HANG_UP, PRESS_KEY, UNREACHABLE = "+8613800000006", "+8613800000008", "+8613800000009"

P = ParamSpec("P")


def run_async(fn: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """Run an async test in a fresh event loop, with an overall deadline."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        async def main() -> None:
            async with asyncio.timeout(4 * WAIT):
                await fn(*args, **kwargs)

        asyncio.run(main())

    return wrapper


async def until(check: Callable[[], bool], within: float = WAIT) -> None:
    """Poll ``check`` until it holds; fail at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


async def ended(sim: VoiceSimulator, count: int = 1) -> list[SimulatedCall]:
    """The simulator's ended calls, once there are ``count`` of them."""
    await until(lambda: len(sim.calls) >= count)
    return list(sim.calls)


async def port_closed(port: int) -> bool:
    """Whether nothing listens on UDP ``port``: Linux answers at once with ICMP port
    unreachable on loopback, which a connected socket reads as ConnectionRefusedError."""
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        sock.connect((HOST, port))
        sock.send(b"anyone there?")
        try:
            async with asyncio.timeout(WAIT):
                await loop.sock_recv(sock, 2048)
        except ConnectionRefusedError:
            return True
        return False


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, received: Callable[[bytes, Address], None]) -> None:
        self._received = received

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._received(data, (str(addr[0]), int(addr[1])))


async def _endpoint(received: Callable[[bytes, Address], None]) -> asyncio.DatagramTransport:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Datagrams(received), local_addr=(HOST, 0)
    )
    return transport


def _port(transport: asyncio.DatagramTransport) -> int:
    return int(transport.get_extra_info("sockname")[1])


# --- an in-test caller: OutboundCall over asyncio ------------------------------------------


class Caller:
    """One ``OutboundCall`` to the simulator over real UDP, with an RTP socket of its own
    that records what arrives. ``async with Caller(sim.port, number) as call:``."""

    def __init__(
        self, port: int, number: str, *, codecs: Sequence[int] = (PCMU, PCMA), user: str = "tester"
    ) -> None:
        self.port, self.number, self.codecs, self.user = port, number, tuple(codecs), user
        self.events: list[CallEvent] = []
        self.rtp: list[tuple[RtpPacket, Address, float]] = []  # packet, source, arrival
        self._timer: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> Caller:
        self.loop = asyncio.get_running_loop()
        self.sip = await _endpoint(self._on_sip)
        self.media = await _endpoint(self._on_rtp)
        try:
            self.call = OutboundCall(
                Trunk(HOST, self.port),
                local=(HOST, _port(self.sip)),
                callee=self.number,
                rtp=(HOST, _port(self.media)),
                caller=self.user,
                codecs=self.codecs,
            )
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        self._drive(self.call.start(self.loop.time()))
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.sip.close()
        self.media.close()

    def _drive(self, events: list[CallEvent]) -> None:
        self.events += events
        for data, to in self.call.datagrams_to_send():
            self.sip.sendto(data, to)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.call.next_deadline()
        if deadline is not None:
            delay = max(0.0, deadline - self.loop.time())
            self._timer = self.loop.call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._drive(self.call.poll(self.loop.time()))

    def _on_sip(self, data: bytes, source: Address) -> None:
        self._drive(self.call.receive(data, source, self.loop.time()))

    def _on_rtp(self, data: bytes, source: Address) -> None:
        self.rtp.append((RtpPacket.parse(data), source, self.loop.time()))

    def first(self, kind: type[Any]) -> Any:
        return next((e for e in self.events if isinstance(e, kind)), None)

    async def answered(self) -> Answered:
        await until(lambda: self.first(Answered) is not None or self.first(Failed) is not None)
        answered = self.first(Answered)
        assert answered is not None, self.events
        return answered  # type: ignore[no-any-return]

    async def failed(self) -> Failed:
        await until(lambda: self.first(Failed) is not None)
        return self.first(Failed)  # type: ignore[no-any-return]

    async def ended(self) -> Ended:
        await until(lambda: self.first(Ended) is not None)
        return self.first(Ended)  # type: ignore[no-any-return]

    def send_rtp(self, packets: list[RtpPacket]) -> None:
        answered = self.first(Answered)
        assert answered is not None
        for packet in packets:
            self.media.sendto(packet.pack(), answered.remote_rtp)

    def hangup(self) -> None:
        self._drive(self.call.hangup(self.loop.time()))


# --- bare datagrams, for callers that misbehave -----------------------------------------------


class RawSip:
    """A UDP socket that sends what the test builds and queues what comes back."""

    async def __aenter__(self) -> RawSip:
        self.inbox: asyncio.Queue[SipMessage] = asyncio.Queue()
        self.transport = await _endpoint(lambda data, _: self.inbox.put_nowait(parse(data)))
        self.address: Address = (HOST, _port(self.transport))
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.transport.close()

    def send(self, request: SipRequest, port: int) -> None:
        self.transport.sendto(request.serialize(), (HOST, port))

    async def next(self) -> SipMessage:
        async with asyncio.timeout(WAIT):
            return await self.inbox.get()

    async def response(self, status: int) -> SipResponse:
        """The next response with ``status``, skipping others (100, 180, retransmissions)."""
        while True:
            msg = await self.next()
            if isinstance(msg, SipResponse) and msg.status == status:
                return msg

    def request(
        self,
        method: str,
        number: str,
        *,
        call_id: str,
        branch: str,
        cseq: int = 1,
        to: str | None = None,
        body: bytes = b"",
    ) -> SipRequest:
        host, port = self.address
        headers = [
            ("Via", f"SIP/2.0/UDP {host}:{port};branch={branch};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<sip:raw@{host}>;tag=rawtag"),
            ("To", to or f"<sip:{number}@{HOST}>"),
            ("Call-ID", call_id),
            ("CSeq", f"{cseq} {method}"),
            ("Contact", f"<sip:raw@{host}:{port}>"),
        ]
        if body:
            headers.append(("Content-Type", "application/sdp"))
        return SipRequest(method, f"sip:{number}@{HOST}", tuple(headers), body)

    async def options_answered(self, port: int) -> list[SipMessage]:
        """Send OPTIONS and return what came before its 200: everything the simulator sent
        for the datagrams before it, since it handles one socket's datagrams in order."""
        call_id = f"options-{os.urandom(4).hex()}"
        self.send(self.request("OPTIONS", "0", call_id=call_id, branch="z9hG4bKopt"), port)
        before = []
        while (msg := await self.next()).header("Call-ID") != call_id:
            before.append(msg)
        assert isinstance(msg, SipResponse) and msg.status == 200
        return before


def offer(rtp_port: int, media: str = "8 0 101", event: int = 101) -> bytes:
    lines = [
        "v=0",
        f"o=raw 1 1 IN IP4 {HOST}",
        "s=-",
        f"c=IN IP4 {HOST}",
        "t=0 0",
        f"m=audio {rtp_port} RTP/AVP {media}",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:18 G729/8000",
        f"a=rtpmap:{event} telephone-event/8000",
        f"a=fmtp:{event} 0-16",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


# --- sipp as the caller -------------------------------------------------------------------


@pytest.fixture
def sipp(tmp_path: Path) -> Iterator[SippPeers]:
    """Every sipp of the test ends with it; their logs show with a failure's captured output."""
    with SippPeers(tmp_path) as peers:
        yield peers


async def sipp_call(sipp: SippPeers, sim: VoiceSimulator, number: str, **kwargs: Any) -> SippResult:
    """One sipp call to ``number``, run to its end (sipp's process waited for in a thread, so
    that the simulator keeps running on this loop)."""
    caller = await asyncio.to_thread(sipp.caller, (HOST, sim.port), number=number, **kwargs)
    return await asyncio.to_thread(caller.wait)


def clean(sipp: SippPeers, result: SippResult) -> SippResult:
    assert result.exit_code == 0, sipp.report()
    assert not result.timed_out, sipp.report()
    return result


@pytest.mark.slow
@run_async
async def test_sipp_default_number_is_answered_and_what_it_sent_is_recorded(
    sipp: SippPeers, tmp_path: Path
) -> None:
    recordings = tmp_path / "recordings"
    async with VoiceSimulator(ring_seconds=0.2, recordings_dir=recordings) as sim:
        result = clean(sipp, await sipp_call(sipp, sim, DEFAULT, audio_seconds=1.0, talk_seconds=2))
        (call,) = await ended(sim)
        assert call.rtp_port is not None and await port_closed(call.rtp_port)

    assert result.events == ("final 200", "bye-sent", "bye-answered 200")
    got = [(m.cseq, m.status) for m in result.flow(sent=False)]
    assert got == [("1 INVITE", 100), ("1 INVITE", 180), ("1 INVITE", 200), ("3 BYE", 200)]
    assert (call.behaviour, call.outcome, call.sip_status) == (
        Behaviour.ANSWER,
        Outcome.CALLER_HUNG_UP,
        200,
    )
    assert (call.caller, call.callee) == ("caller", DEFAULT)
    assert call.answered_at is not None and call.answered_at - call.started_at >= 0.2
    assert call.payload_type == PCMA  # sipp offers PCMA first
    assert call.rtp_port is not None and call.rtp_port % 2 == 0
    answer = (sipp.root / "sipp-caller" / "caller.messages").read_text()
    assert f"m=audio {call.rtp_port} RTP/AVP 8 101" in answer
    assert (call.packets, call.audio_seconds) == (50, 1.0)  # 1 s of PCMA, 20 ms packets

    assert call.recording is not None and call.recording.parent == recordings
    assert call.recording.name.startswith("+8613800138000-") and call.recording.suffix == ".wav"
    assert stat.S_IMODE(call.recording.stat().st_mode) == 0o600
    data = call.recording.read_bytes()
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt "
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.getnframes() == 8000  # every sample sipp sent
        assert wav.readframes(8000) == alaw_to_lin(b"\xd5" * 8000)  # its silence, decoded
    assert sim.active_calls == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("number", "status", "behaviour"),
    [(BUSY, 486, Behaviour.BUSY), (NOT_FOUND, 404, Behaviour.NOT_FOUND)],
    ids=["busy", "not_found"],
)
@run_async
async def test_sipp_busy_and_missing_numbers_refuse_the_call(
    sipp: SippPeers, number: str, status: int, behaviour: Behaviour
) -> None:
    async with VoiceSimulator(ring_seconds=0.0) as sim:
        result = clean(sipp, await sipp_call(sipp, sim, number))
        (call,) = await ended(sim)
    assert result.events == (f"final {status}",)
    assert result.statuses(sent=False) == [100, status]
    assert (call.behaviour, call.outcome, call.sip_status) == (
        behaviour,
        Outcome.REJECTED,
        status,
    )
    assert (call.answered_at, call.rtp_port, call.recording) == (None, None, None)


@pytest.mark.slow
@run_async
async def test_sipp_no_answer_number_rings_until_the_callers_cancel(sipp: SippPeers) -> None:
    async with VoiceSimulator(ring_seconds=0.0) as sim:
        result = clean(sipp, await sipp_call(sipp, sim, NO_ANSWER, cancel_after=0.3))
        (call,) = await ended(sim)
    assert result.events == ("ringing", "cancel-sent", "cancel-answered 200", "final 487")
    sent = [(m.cseq, m.status) for m in result.flow(sent=False)]
    assert sent == [("1 INVITE", 100), ("1 INVITE", 180), ("1 CANCEL", 200), ("1 INVITE", 487)]
    assert (call.outcome, call.sip_status, call.answered_at) == (Outcome.CANCELLED, 487, None)
    assert call.ended_at - call.started_at >= 0.3


@pytest.mark.slow
@run_async
async def test_sipp_early_hang_up_number_sends_bye_two_seconds_after_answering(
    sipp: SippPeers,
) -> None:
    async with VoiceSimulator(ring_seconds=0.0) as sim:
        result = clean(sipp, await sipp_call(sipp, sim, HANG_UP, talk_seconds=30))
        (call,) = await ended(sim)
    assert result.events == ("final 200", "bye-received")
    assert result.requests(sent=False) == ["BYE"]
    ok = next(m for m in result.flow(sent=False) if m.status == 200)
    bye = next(m for m in result.flow(sent=False) if m.method == "BYE")
    assert 1.99 <= bye.at - ok.at < 30.0  # sipp's wall clock: the timer never fires early
    assert (call.behaviour, call.outcome) == (Behaviour.HANG_UP, Outcome.HUNG_UP)
    assert call.answered_at is not None and call.ended_at - call.answered_at >= 2.0


@pytest.mark.slow
@run_async
async def test_sipp_unreachable_number_never_answers(sipp: SippPeers) -> None:
    async with VoiceSimulator(ring_seconds=0.0) as sim:
        result = await sipp_call(sipp, sim, UNREACHABLE, timeout=2)
        calls = list(sim.calls)
    assert result.timed_out, sipp.report()
    assert result.flow(sent=False) == []  # not even 100 Trying
    assert result.requests(sent=True, retransmissions=True).count("INVITE") >= 2
    (call,) = calls  # the INVITE sent again is the same call
    assert (call.behaviour, call.outcome, call.sip_status) == (
        Behaviour.UNREACHABLE,
        Outcome.IGNORED,
        0,
    )


@pytest.mark.slow
@run_async
async def test_sipp_with_digest_credentials_is_challenged_then_answered(sipp: SippPeers) -> None:
    realm = DigestRealm("voice.test", {"alice": "s3cret"}, nonce="0123456789abcdef")
    async with VoiceSimulator(ring_seconds=0.0, auth=realm) as sim:
        result = await sipp_call(
            sipp,
            sim,
            DEFAULT,
            user="alice",
            password="s3cret",
            auth_uri=f"{DEFAULT}@{HOST}:{sim.port}",  # the Request-URI (RFC 2617 §3.2.2.5)
            audio_seconds=0.2,
            talk_seconds=1,
        )
        (call,) = await ended(sim)
    clean(sipp, result)
    assert result.events == ("final 401", "final 200", "bye-sent", "bye-answered 200")
    assert (call.outcome, call.packets) == (Outcome.CALLER_HUNG_UP, 10)


# --- RTP to the sample, with the in-test caller -----------------------------------------------


@run_async
async def test_recording_places_audio_by_rtp_timestamp_in_the_callers_first_codec(
    tmp_path: Path,
) -> None:
    tone = bytes(range(0, 256, 2)) * 25  # 3200 samples (0.4 s) of a shrill μ-law pattern
    heard: list[SimulatedCall] = []
    async with (
        VoiceSimulator(
            ring_seconds=0.0, recordings_dir=tmp_path, on_call_ended=heard.append
        ) as sim,
        Caller(sim.port, "+86-138-0013-8000", codecs=(PCMU, PCMA)) as caller,
    ):
        answered = await caller.answered()
        assert answered.payload_type == PCMU and answered.remote_rtp[0] == HOST
        packetizer = Packetizer(PCMU, ssrc=7, sequence=65530, timestamp=2**32 - 800)
        first = packetizer.packets(tone)  # its timestamps wrap after 5 packets
        packetizer.idle(0.2)  # a pause sent as no packets at all
        second = packetizer.packets(tone[:1600])
        caller.send_rtp(first[:1] + first[4:] + second + first[1:4])  # out of order
        caller.hangup()
        (call,) = await ended(sim)

    assert heard == [call] and call.outcome is Outcome.CALLER_HUNG_UP
    assert (call.packets, call.audio_seconds, call.payload_type) == (30, 0.6, PCMU)
    assert call.recording is not None
    with wave.open(str(call.recording)) as wav:
        pcm = wav.readframes(wav.getnframes())
    silence = bytes(2 * 1600)
    # The three packets sent last were placed where their timestamps say.
    assert pcm == ulaw_to_lin(tone) + silence + ulaw_to_lin(tone[:1600])


@run_async
async def test_recording_of_a_second_stream_follows_the_first(tmp_path: Path) -> None:
    audio = lin_to_ulaw(bytes(range(256)) * 10)  # 1280 samples
    async with (
        VoiceSimulator(ring_seconds=0.0, recordings_dir=tmp_path) as sim,
        Caller(sim.port, DEFAULT, codecs=(PCMU,)) as caller,
    ):
        await caller.answered()
        caller.send_rtp(Packetizer(PCMU, ssrc=1, timestamp=10).packets(audio))
        caller.send_rtp(Packetizer(PCMU, ssrc=2, timestamp=99999).packets(audio))
        caller.hangup()
        (call,) = await ended(sim)
    assert call.recording is not None
    with wave.open(str(call.recording)) as wav:
        assert wav.readframes(wav.getnframes()) == ulaw_to_lin(audio) * 2


@run_async
async def test_no_recording_without_a_directory_or_without_audio(tmp_path: Path) -> None:
    async with VoiceSimulator(ring_seconds=0.0) as sim:
        async with Caller(sim.port, DEFAULT) as caller:
            await caller.answered()
            caller.send_rtp(Packetizer(PCMU).packets(bytes(160)))
            caller.hangup()
        async with Caller(sim.port, DEFAULT) as caller:  # to a directory, but silent
            sim.recordings_dir = tmp_path
            await caller.answered()
            caller.hangup()
        first, second = await ended(sim, 2)
    assert (first.packets, first.recording) == (1, None)
    assert (second.packets, second.recording) == (0, None)
    assert os.listdir(tmp_path) == []


@run_async
async def test_key_press_number_sends_1_as_telephone_events_a_second_after_answering() -> None:
    async with (
        VoiceSimulator(ring_seconds=0.0) as sim,
        Caller(sim.port, PRESS_KEY) as caller,
    ):
        answered = await caller.answered()
        assert answered.dtmf_payload_type == 101
        await until(lambda: len(caller.rtp) >= 7)
        detector = DtmfDetector(101)
        for packet, _, _ in caller.rtp:
            detector.feed(packet)
        packets = [p for p, _, _ in caller.rtp]
        sources = {source for _, source, _ in caller.rtp}
        first_arrival = caller.rtp[0][2]
        caller.hangup()
        (call,) = await ended(sim)

    assert detector.keys == "1"
    assert call.answered_at is not None and first_arrival >= call.answered_at + 1.0  # one clock
    assert sources == {answered.remote_rtp}  # from the port our SDP answer named
    assert {p.payload_type for p in packets} == {101}
    assert [p.marker for p in packets] == [True] + [False] * 6  # RFC 4733 §2.5.1.2
    assert len({(p.ssrc, p.timestamp) for p in packets}) == 1  # one press
    sequences = [p.sequence for p in packets]
    assert sequences == [(sequences[0] + i) & 0xFFFF for i in range(7)]  # §2.5.1.6
    events = [parse_telephone_event(p.payload) for p in packets]
    assert {e.key for e in events} == {"1"}
    assert [e.end for e in events] == [False] * 4 + [True] * 3  # the end, three times
    assert [e.duration for e in events] == [160, 320, 480, 640, 800, 800, 800]
    assert (call.behaviour, call.keys_sent, call.outcome) == (
        Behaviour.PRESS_KEY,
        "1",
        Outcome.CALLER_HUNG_UP,
    )


@run_async
async def test_key_press_uses_the_offers_payload_types() -> None:
    async with VoiceSimulator(ring_seconds=0.0) as sim, RawSip() as raw:
        heard: list[RtpPacket] = []
        media = await _endpoint(lambda data, _: heard.append(RtpPacket.parse(data)))
        sdp = offer(_port(media), media="8 96", event=96)
        raw.send(
            raw.request("INVITE", PRESS_KEY, call_id="k1", branch="z9hG4bKk1", body=sdp), sim.port
        )
        ok = await raw.response(200)
        answer = parse_media(ok.body)
        assert (answer.payload_types, answer.dtmf_payload_type) == ((PCMA,), 96)
        to = ok.header("To")
        raw.send(raw.request("ACK", PRESS_KEY, call_id="k1", branch="z9hG4bKk2", to=to), sim.port)
        await until(lambda: len(heard) >= 7)
        media.close()
    assert {p.payload_type for p in heard} == {96}
    detector = DtmfDetector(96)
    assert "".join(detector.feed(p) for p in heard) == "1"


# --- misbehaving callers, with bare datagrams ----------------------------------------------


@run_async
async def test_unreachable_number_gets_nothing_at_all() -> None:
    async with VoiceSimulator(ring_seconds=0.0) as sim, RawSip() as raw:
        invite = raw.request(
            "INVITE", UNREACHABLE, call_id="u1", branch="z9hG4bKu1", body=offer(4000)
        )
        raw.send(invite, sim.port)
        raw.send(invite, sim.port)  # sent again (Timer A)
        raw.send(raw.request("CANCEL", UNREACHABLE, call_id="u1", branch="z9hG4bKu1"), sim.port)
        assert await raw.options_answered(sim.port) == []
        assert sim.active_calls == 0
        (call,) = list(sim.calls)
    assert (call.call_id, call.caller, call.callee) == ("u1", "raw", UNREACHABLE)
    assert (call.outcome, call.sip_status, call.answered_at) == (Outcome.IGNORED, 0, None)


@run_async
async def test_an_offer_without_g711_is_refused_with_488() -> None:
    async with VoiceSimulator(ring_seconds=0.0) as sim, RawSip() as raw:
        sdp = offer(4000, media="18 101")
        raw.send(
            raw.request("INVITE", DEFAULT, call_id="g1", branch="z9hG4bKg1", body=sdp), sim.port
        )
        await raw.response(488)
        raw.send(raw.request("INVITE", DEFAULT, call_id="g2", branch="z9hG4bKg2"), sim.port)
        await raw.response(488)  # no offer at all (it would come in the ACK): not supported
        first, second = await ended(sim, 2)
    assert (first.outcome, first.sip_status) == (Outcome.REJECTED, 488)
    assert (second.outcome, second.sip_status) == (Outcome.REJECTED, 488)


@run_async
async def test_an_answer_never_acked_ends_with_our_bye() -> None:
    timers = Timers(t1=0.01, t2=0.04)  # 64·T1: 0.64 s
    async with VoiceSimulator(ring_seconds=0.0, timers=timers) as sim, RawSip() as raw:
        invite = raw.request("INVITE", DEFAULT, call_id="n1", branch="z9hG4bKn1", body=offer(4000))
        raw.send(invite, sim.port)
        await raw.response(200)
        while not isinstance(bye := await raw.next(), SipRequest):
            assert isinstance(bye, SipResponse) and bye.status == 200  # sent again meanwhile
        assert bye.method == "BYE" and bye.header("Call-ID") == "n1"
        (call,) = await ended(sim)
    assert call.outcome is Outcome.NO_ACK
    assert call.answered_at is not None and call.ended_at - call.answered_at >= 0.64


@run_async
async def test_a_vanished_caller_is_cut_off_at_the_max_call_length() -> None:
    async with VoiceSimulator(ring_seconds=0.0, max_call_seconds=0.5) as sim:
        async with Caller(sim.port, DEFAULT) as answered, Caller(sim.port, NO_ANSWER) as ringing:
            await answered.answered()
            assert (await answered.ended()).by == "them"  # our BYE
            failed = await ringing.failed()
        calls = {c.callee: c for c in await ended(sim, 2)}
        port = calls[DEFAULT].rtp_port
        assert port is not None and await port_closed(port)
    assert failed.status == 408
    assert (calls[DEFAULT].outcome, calls[DEFAULT].sip_status) == (Outcome.TIMED_OUT, 200)
    assert (calls[NO_ANSWER].outcome, calls[NO_ANSWER].sip_status) == (Outcome.TIMED_OUT, 408)
    for call in calls.values():
        assert call.ended_at - call.started_at >= 0.5


@run_async
async def test_stop_ends_the_calls_in_progress() -> None:
    sim = VoiceSimulator(ring_seconds=0.0)
    await sim.start()
    async with Caller(sim.port, DEFAULT) as answered, Caller(sim.port, NO_ANSWER) as ringing:
        await answered.answered()
        await until(lambda: sim.active_calls == 2 and ringing.first(Ringing) is not None)
        await sim.stop()
        assert (await answered.ended()).by == "them"
        assert (await ringing.failed()).status == 480
    outcomes = {(c.callee, c.outcome, c.sip_status) for c in sim.calls}
    assert outcomes == {(DEFAULT, Outcome.STOPPED, 200), (NO_ANSWER, Outcome.STOPPED, 480)}
    await sim.stop()  # twice is harmless


@run_async
async def test_history_is_bounded_and_the_callback_sees_every_call() -> None:
    seen: list[SimulatedCall] = []

    def callback(call: SimulatedCall) -> None:
        seen.append(call)
        raise RuntimeError("a broken callback stops nothing")

    async with VoiceSimulator(history=2, on_call_ended=callback) as sim, RawSip() as raw:
        for n in range(3):
            invite = raw.request("INVITE", UNREACHABLE, call_id=f"h{n}", branch=f"z9hG4bKh{n}")
            raw.send(invite, sim.port)
        assert await raw.options_answered(sim.port) == []
    assert [c.call_id for c in seen] == ["h0", "h1", "h2"]
    assert [c.call_id for c in sim.calls] == ["h1", "h2"]


@run_async
async def test_two_hundred_calls_at_once() -> None:
    count = 200
    async with VoiceSimulator(ring_seconds=0.05) as sim:
        callers = [Caller(sim.port, f"+86138{n:08d}") for n in range(100, 100 + count)]
        for caller in callers:
            await caller.__aenter__()
        try:
            await asyncio.gather(*(caller.answered() for caller in callers))
            assert sim.active_calls == count
            for caller in callers:
                caller.send_rtp(Packetizer(PCMU).packets(bytes(160 * 5)))
                caller.hangup()
            calls = await ended(sim, count)
        finally:
            for caller in callers:
                await caller.__aexit__(None, None, None)
    assert sim.active_calls == 0
    assert {c.outcome for c in calls} == {Outcome.CALLER_HUNG_UP}
    assert {c.packets for c in calls} == {5}
    assert len({c.rtp_port for c in calls}) == count  # one socket each
    assert len({c.callee for c in calls}) == count
