"""``SipTrunk`` against Debian's sipp as the answering phone (``tests/peers/sipp.py``).

Each test places real calls over loopback UDP to a sipp phone in one mode and checks both ends:
the ``CallOutcome`` and progress on ours, sipp's SIP flow and the RTP its relay recorded on
theirs. As in ``test_sipp_peer.py``, the assertions are on what a busy machine cannot change:
message flows, statuses, packet counts and RTP timestamps; spans of time only against bounds
that hold however late a timer fires.
"""

from __future__ import annotations

import asyncio
import math
import os
import socket
import struct
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from smscloud.carriers.voice.base import CallOutcome, CallRequest, NoLineError
from smscloud.carriers.voice.sip_trunk import SipTrunk, SipTrunkConfig
from smscloud.domain.voice_failures import failure_for_sip
from smscloud.protocols.rtp import PCMA, PCMU, RtpPacket, TelephoneEvent
from tests.peers.sipp import Mode, SippPeers, SippPhone, SippResult, udp_ports_of
from tests.support.clocks import DAYTIME, running_from

pytestmark = pytest.mark.slow

WAIT = 60.0  # a deadline for polls and for a whole call; met in milliseconds when idle
GAP = 0.5  # SipTrunkConfig.play_gap, the default
FRAME = 0.02  # seconds of audio in one RTP packet
T = TypeVar("T")


def sine(seconds: float, hz: float = 440.0) -> bytes:
    """8 kHz 16-bit little-endian mono PCM."""
    count = round(seconds * 8000)
    return b"".join(
        struct.pack("<h", round(8000 * math.sin(2 * math.pi * hz * i / 8000))) for i in range(count)
    )


AUDIO = sine(0.3125)  # 2500 samples: 15 whole frames and a partial one
FRAMES = math.ceil(len(AUDIO) / 2 / 160)  # 16


@pytest.fixture
def sipp(tmp_path: Path) -> Iterator[SippPeers]:
    """Every sipp of the test ends with it; their logs show with a failure's captured output."""
    with SippPeers(tmp_path) as peers:
        yield peers


class Progress:
    """A ``CallProgress`` that records each step; ``reached`` waits for one."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, str, float]] = []
        self._changed = asyncio.Event()

    async def ringing(self, call_id: str, at: float) -> None:
        self._note("ringing", call_id, at)

    async def answered(self, call_id: str, at: float) -> None:
        self._note("answered", call_id, at)

    async def key(self, call_id: str, key: str, at: float) -> None:
        self._note(f"key {key}", call_id, at)

    def _note(self, step: str, call_id: str, at: float) -> None:
        self.steps.append((step, call_id, at))
        self._changed.set()

    def names(self) -> list[str]:
        return [step for step, _, _ in self.steps]

    async def reached(self, step: str) -> None:
        async with asyncio.timeout(WAIT):
            while step not in self.names():
                self._changed.clear()
                await self._changed.wait()


def config_for(phone: SippPhone, **overrides: object) -> SipTrunkConfig:
    settings: dict[str, object] = {"host": phone.host, "port": phone.port, "name": "test"}
    settings.update(overrides)
    return SipTrunkConfig(**settings)  # type: ignore[arg-type]


def request(audio: bytes = AUDIO, play_times: int = 2, call_id: str = "c1") -> CallRequest:
    return CallRequest(call_id, "+8613800138000", audio, play_times)


def run(scenario: Callable[[SipTrunk], Awaitable[T]], config: SipTrunkConfig) -> T:
    """``scenario`` with a started trunk (stopped after it), in a new event loop."""

    async def main() -> T:
        trunk = SipTrunk(config, clock=running_from(DAYTIME))
        await trunk.start()
        try:
            async with asyncio.timeout(WAIT):
                return await scenario(trunk)
        finally:
            await trunk.stop()

    return asyncio.run(main())


def one_call(
    config: SipTrunkConfig, req: CallRequest | None = None
) -> tuple[CallOutcome, Progress]:
    async def scenario(trunk: SipTrunk) -> tuple[CallOutcome, Progress]:
        progress = Progress()
        return await trunk.call(req or request(), progress), progress

    return run(scenario, config)


def finished(sipp: SippPeers, phone: SippPhone) -> SippResult:
    """The phone's result once sipp has exited by itself, checked to be a clean exit."""
    result = phone.wait()
    assert result.exit_code == 0, sipp.report()
    assert not result.timed_out, sipp.report()
    return result


def relayed(phone: SippPhone, packets: int) -> None:
    """Wait until the phone's relay has recorded ``packets`` audio packets (it is a thread)."""
    deadline = time.monotonic() + WAIT
    while phone.rtp().packets < packets and time.monotonic() < deadline:
        time.sleep(0.01)
    assert phone.rtp().packets == packets


async def poll(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize(("codecs", "payload_type"), [((PCMU, PCMA), 0), ((PCMA,), 8)])
def test_an_answered_call_plays_the_audio_play_times_then_we_hang_up(
    sipp: SippPeers, codecs: tuple[int, ...], payload_type: int
) -> None:
    phone = sipp.phone(Mode.ANSWER, ring_seconds=0.2)
    outcome, progress = one_call(config_for(phone, codecs=codecs))
    result = finished(sipp, phone)

    assert (outcome.call_id, outcome.answered, outcome.sip_status) == ("c1", True, 200)
    assert (outcome.failure_code, outcome.hung_up_by, outcome.keys) == (0, "us", "")
    assert progress.names() == ["ringing", "answered"]
    assert {call_id for _, call_id, _ in progress.steps} == {"c1"}
    assert outcome.ringing_at is not None and outcome.answered_at is not None
    assert outcome.dialled_at <= outcome.ringing_at <= outcome.answered_at <= outcome.ended_at
    assert [at for _, _, at in progress.steps] == [outcome.ringing_at, outcome.answered_at]
    assert outcome.audio_seconds == pytest.approx(FRAMES * 2 * FRAME)
    # The last frame played out before the BYE: packets never leave early.
    assert outcome.talk_seconds >= (FRAMES * 2 * FRAME + GAP) * 0.99

    assert result.requests(sent=False) == ["INVITE", "ACK", "BYE"]
    assert result.statuses(sent=True) == [100, 180, 200, 200]
    rtp = result.rtp
    assert rtp is not None
    assert rtp.packets == FRAMES * 2  # ceil(samples / 160) per playing; the gap is no packets
    assert (rtp.lost, rtp.streams, rtp.payload_types) == (0, 1, frozenset({payload_type}))
    assert rtp.audio_seconds == pytest.approx(FRAMES * 2 * FRAME)
    assert rtp.media_seconds == pytest.approx(FRAMES * 2 * FRAME + GAP)  # by RTP timestamps
    markers = [i for i, p in enumerate(phone.relay.packets()) if p.marker]
    assert markers == [0, FRAMES]  # each playing a talkspurt


def test_the_phone_hanging_up_stops_the_audio(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.HANG_UP, hang_up_after=0.3)
    outcome, progress = one_call(config_for(phone), request(sine(1.0)))
    result = finished(sipp, phone)

    assert (outcome.answered, outcome.hung_up_by) == (True, "them")
    assert progress.names() == ["ringing", "answered"]
    assert result.requests(sent=True) == ["BYE"]
    assert result.requests(sent=False) == ["INVITE", "ACK"]
    sent = round(outcome.audio_seconds / FRAME)
    assert 0 < sent < 2 * 50
    relayed(phone, sent)


@pytest.mark.parametrize(("mode", "status"), [(Mode.BUSY, 486), (Mode.NOT_FOUND, 404)])
def test_a_rejected_call_fails_with_the_code_of_its_status(
    sipp: SippPeers, mode: Mode, status: int
) -> None:
    phone = sipp.phone(mode)
    outcome, progress = one_call(config_for(phone))
    result = finished(sipp, phone)

    assert (outcome.answered, outcome.sip_status) == (False, status)
    assert outcome.failure_code == failure_for_sip(status).code != 0
    assert (outcome.ringing_at, outcome.answered_at, outcome.hung_up_by) == (None, None, "")
    assert outcome.audio_seconds == 0.0
    assert progress.names() == []
    assert result.requests(sent=False) == ["INVITE", "ACK"]
    assert result.rtp is not None and result.rtp.packets == 0


def test_no_answer_cancels_after_the_timeout(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.NO_ANSWER)
    outcome, progress = one_call(config_for(phone, no_answer_timeout=1.0))
    result = finished(sipp, phone)

    assert (outcome.answered, outcome.sip_status) == (False, 408)
    assert outcome.failure_code == failure_for_sip(408).code
    assert progress.names() == ["ringing"]
    assert outcome.ringing_at is not None
    assert outcome.ended_at - outcome.ringing_at >= 0.99
    assert result.requests(sent=False) == ["INVITE", "CANCEL", "ACK"]
    assert result.statuses(sent=True) == [100, 180, 200, 487]


def test_a_digest_challenge_is_answered_with_the_credentials(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.CHALLENGE, user="alice", password="s3cret", realm="voice.test")
    config = config_for(phone, username="alice", password="s3cret")
    outcome, progress = one_call(config)
    result = finished(sipp, phone)

    assert (outcome.answered, outcome.hung_up_by) == (True, "us")
    assert progress.names() == ["ringing", "answered"]
    assert result.requests(sent=False) == ["INVITE", "ACK", "INVITE", "ACK", "BYE"]
    assert result.statuses(sent=True) == [401, 100, 180, 200, 200]
    auth = next(e for e in result.events if e.startswith("auth-"))
    assert auth.startswith("auth-ok call=1 Digest ") and 'username="alice"' in auth
    assert result.rtp is not None and result.rtp.packets == FRAMES * 2


def test_a_wrong_password_fails_with_the_code_of_403(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.CHALLENGE, user="alice", password="s3cret")
    outcome, _ = one_call(config_for(phone, username="alice", password="guess"))
    result = finished(sipp, phone)

    assert (outcome.answered, outcome.sip_status) == (False, 403)
    assert outcome.failure_code == failure_for_sip(403).code
    assert result.requests(sent=False) == ["INVITE", "ACK", "INVITE", "ACK"]


def test_keys_pressed_during_the_audio_are_reported(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.ANSWER)

    async def scenario(trunk: SipTrunk) -> tuple[CallOutcome, Progress]:
        progress = Progress()
        call = asyncio.create_task(trunk.call(request(sine(1.0)), progress))
        await poll(lambda: phone.rtp().packets > 0)
        ours = phone.relay.packets()[0].source  # where the trunk sends RTP from
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            # RFC 4733 §2.5.1: one press of 5, reported as its duration grows, the last thrice.
            reports = [(False, 160), (False, 320), (True, 480), (True, 480), (True, 480)]
            for sequence, (end, duration) in enumerate(reports):
                event = TelephoneEvent("5", end, 10, duration).pack()
                packet = RtpPacket(101, sequence, 8000, 0xABCD, event, marker=sequence == 0)
                sock.sendto(packet.pack(), ours)
        await progress.reached("key 5")
        return await call, progress

    outcome, progress = run(scenario, config_for(phone))
    finished(sipp, phone)

    assert outcome.keys == "5"
    assert progress.names() == ["ringing", "answered", "key 5"]
    assert outcome.hung_up_by == "us"


def test_a_call_beyond_max_calls_raises_no_line_error_without_dialling(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.NO_ANSWER, calls=2)

    async def scenario(trunk: SipTrunk) -> list[CallOutcome]:
        progress = Progress()
        first = asyncio.create_task(trunk.call(request(call_id="c1"), progress))
        await progress.reached("ringing")
        with pytest.raises(NoLineError):
            await trunk.call(request(call_id="c2"), Progress())
        outcomes = [await first]
        outcomes.append(await trunk.call(request(call_id="c3"), Progress()))  # the line is free
        return outcomes

    outcomes = run(scenario, config_for(phone, max_calls=1, no_answer_timeout=0.5))
    result = finished(sipp, phone)

    assert [(o.call_id, o.sip_status) for o in outcomes] == [("c1", 408), ("c3", 408)]
    assert result.requests(sent=False).count("INVITE") == 2
    assert result.calls == 2


def test_calls_that_cannot_be_placed_raise_before_dialling() -> None:
    async def main() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as far_end:
            far_end.bind(("127.0.0.1", 0))
            far_end.setblocking(False)
            trunk = SipTrunk(SipTrunkConfig(host="127.0.0.1", port=far_end.getsockname()[1]))
            with pytest.raises(NoLineError, match="not started"):
                await trunk.call(request(), Progress())
            await trunk.start()
            with pytest.raises(ValueError, match="neither a phone number"):
                await trunk.call(CallRequest("c1", "+86 138@x", AUDIO), Progress())
            with pytest.raises(ValueError, match="even length"):
                await trunk.call(CallRequest("c1", "+8613800138000", b"\0\0\0"), Progress())
            await trunk.stop()
            with pytest.raises(NoLineError, match="not started"):
                await trunk.call(request(), Progress())
            with pytest.raises(BlockingIOError):
                far_end.recv(65535)  # nothing was dialled

    asyncio.run(main())


@pytest.mark.parametrize(
    ("mode", "step", "requests"),
    [
        (Mode.NO_ANSWER, "ringing", ["INVITE", "CANCEL", "ACK"]),
        (Mode.ANSWER, "answered", ["INVITE", "ACK", "BYE"]),
    ],
)
def test_a_cancelled_call_still_cancels_or_hangs_up_and_closes_its_socket(
    sipp: SippPeers, mode: Mode, step: str, requests: list[str]
) -> None:
    phone = sipp.phone(mode)

    async def scenario(trunk: SipTrunk) -> set[int]:
        before = udp_ports_of(os.getpid())
        progress = Progress()
        call = asyncio.create_task(trunk.call(request(sine(1.0)), progress))
        await progress.reached(step)
        assert len(udp_ports_of(os.getpid()) - before) == 1  # the call's RTP socket
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        after = udp_ports_of(os.getpid()) - before
        await poll(lambda: not phone.running())  # the lingering call answers the phone's end
        return after

    assert run(scenario, config_for(phone)) == set()
    result = finished(sipp, phone)
    assert result.requests(sent=False) == requests


def test_stop_hangs_up_a_call_in_progress(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.ANSWER)

    async def scenario(trunk: SipTrunk) -> CallOutcome:
        progress = Progress()
        call = asyncio.create_task(trunk.call(request(sine(2.0)), progress))
        await progress.reached("answered")
        await trunk.stop()
        assert call.done()
        return await call

    outcome = run(scenario, config_for(phone))
    result = finished(sipp, phone)

    assert (outcome.answered, outcome.hung_up_by) == (True, "us")
    assert outcome.audio_seconds < 2 * 2.0
    assert result.requests(sent=False) == ["INVITE", "ACK", "BYE"]


def test_stray_datagrams_on_the_sip_port_are_dropped(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.BUSY)
    stray = (
        b"\r\n\r\n",  # a keep-alive (RFC 5626 §3.5.1)
        b"\xff\xfe not SIP at all",
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bKx\r\n"
        b"Call-ID: nobody@else\r\nCSeq: 1 BYE\r\n\r\n",  # no call of ours
    )

    async def scenario(trunk: SipTrunk) -> CallOutcome:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for datagram in stray:
                sock.sendto(datagram, trunk.address)
        return await trunk.call(request(), Progress())

    outcome = run(scenario, config_for(phone))
    finished(sipp, phone)
    assert outcome.sip_status == 486
