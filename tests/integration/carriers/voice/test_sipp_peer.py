"""The sipp answering phone (tests/peers/sipp.py), each mode driven by a second sipp as caller.

The assertions are on what cannot depend on the machine's load: SIP message flows, final
statuses, RTP packet counts and the stream's length by its RTP timestamps. Wall-clock spans are
only checked against bounds a busy machine keeps (a timer never fires early).
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers import sipp as sipp_module
from tests.peers.sipp import Mode, SippCaller, SippPeers, SippPhone, SippResult

pytestmark = pytest.mark.slow

WAIT = 60.0  # a deadline for polls; met in milliseconds on an idle machine


@pytest.fixture
def sipp(tmp_path: Path) -> Iterator[SippPeers]:
    """Every sipp of the test ends with it; their logs show with a failure's captured output."""
    with SippPeers(tmp_path) as peers:
        yield peers


def finished(peers: SippPeers, *runs: SippPhone | SippCaller) -> list[SippResult]:
    """Each run's result once sipp has exited by itself, checked to be a clean exit."""
    results = [run.wait() for run in runs]
    for result in results:
        assert result.exit_code == 0, peers.report()
        assert not result.timed_out, peers.report()
    return results


def test_answer_records_the_whole_stream_and_answers_the_callers_bye(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.ANSWER)
    caller = sipp.caller(phone, audio_seconds=1.0, talk_seconds=3.0)
    called, answered = finished(sipp, caller, phone)

    assert called.events == ("final 200", "bye-sent", "bye-answered 200")
    assert called.statuses(sent=False) == [100, 180, 200, 200]
    assert answered.requests(sent=False) == ["INVITE", "ACK", "BYE"]
    assert answered.requests(sent=False, retransmissions=True).count("ACK") >= 2  # absorbed
    assert answered.statuses(sent=True) == [100, 180, 200, 200]
    assert answered.event_names() == ["invite", "answered", "ack", "bye-received"]
    assert (answered.calls, answered.successful, answered.failed) == (1, 1, 0)

    rtp = answered.rtp
    assert rtp is not None
    assert rtp.packets == 50  # 1 s of PCMA in 20 ms packets
    assert rtp.media_seconds == pytest.approx(1.0)
    assert rtp.audio_seconds == pytest.approx(1.0)
    assert (rtp.lost, rtp.streams, rtp.payload_types) == (0, 1, frozenset({8}))
    assert rtp.echoed == 50  # sipp's -rtp_echo sent each packet back to the caller
    # Paced in real time: the last packet cannot leave before its time; arrival can lag.
    assert 0.5 <= rtp.arrival_seconds <= 1.0 + 2.0


def test_answer_sdp_offers_g711_and_telephone_event_on_the_relay_port(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.ANSWER)
    finished(sipp, sipp.caller(phone, audio_seconds=0.2, talk_seconds=0.5), phone)

    answer = (phone.workdir / "phone.messages").read_text()
    assert f"m=audio {phone.media_port} RTP/AVP 0 8 101" in answer
    for line in ("a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event"):
        assert line in answer
    assert "c=IN IP4 127.0.0.1" in answer
    assert phone.media_port != phone.sipp_media_port


def test_hangup_sends_bye_after_the_talk_time(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.HANG_UP, hang_up_after=1.0)
    caller = sipp.caller(phone, audio_seconds=0.2, talk_seconds=30.0)
    called, answered = finished(sipp, caller, phone)

    assert called.events == ("final 200", "bye-received")
    assert answered.event_names() == ["invite", "answered", "ack", "bye-sent", "bye-answered"]
    assert answered.requests(sent=True) == ["BYE"]
    assert answered.statuses(sent=False) == [200]
    assert "BYE" not in answered.requests(sent=False)
    ack = next(m for m in answered.flow(sent=False) if m.method == "ACK")
    bye = next(m for m in answered.flow(sent=True) if m.method == "BYE")
    assert bye.call_id == ack.call_id
    # sipp's timers never fire early (millisecond resolution); the caller waited 30 s.
    assert 0.99 <= bye.at - ack.at < 30.0
    assert answered.rtp is not None and answered.rtp.packets == 10


@pytest.mark.parametrize(
    ("mode", "status"), [(Mode.BUSY, 486), (Mode.NOT_FOUND, 404)], ids=["busy", "not_found"]
)
def test_rejecting_modes_send_their_final_status_and_wait_for_the_ack(
    sipp: SippPeers, mode: Mode, status: int
) -> None:
    phone = sipp.phone(mode)
    called, answered = finished(sipp, sipp.caller(phone), phone)

    assert called.events == (f"final {status}",)
    assert called.statuses(sent=False) == [100, status]
    assert answered.requests(sent=False) == ["INVITE", "ACK"]
    assert answered.event_names() == ["invite", "rejected", "ack"]
    assert (answered.calls, answered.successful) == (1, 1)
    assert answered.rtp is not None and answered.rtp.packets == 0


def test_no_answer_rings_until_cancel_then_487(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.NO_ANSWER)
    caller = sipp.caller(phone, cancel_after=0.3)
    called, answered = finished(sipp, caller, phone)

    assert called.events == ("ringing", "cancel-sent", "cancel-answered 200", "final 487")
    assert answered.requests(sent=False) == ["INVITE", "CANCEL", "ACK"]
    sent = [(m.cseq, m.status) for m in answered.flow(sent=True)]
    assert sent == [("1 INVITE", 100), ("1 INVITE", 180), ("1 CANCEL", 200), ("1 INVITE", 487)]
    invite, cancel = (m for m in answered.flow(sent=False) if m.method in ("INVITE", "CANCEL"))
    assert cancel.at - invite.at >= 0.29  # the caller let it ring


def test_challenge_accepts_the_right_digest_and_answers(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.CHALLENGE, user="alice", password="s3cret", realm="voice.test")
    caller = sipp.caller(phone, user="alice", password="s3cret", audio_seconds=0.2, talk_seconds=1)
    called, answered = finished(sipp, caller, phone)

    assert called.events == ("final 401", "final 200", "bye-sent", "bye-answered 200")
    assert answered.requests(sent=False) == ["INVITE", "ACK", "INVITE", "ACK", "BYE"]
    assert answered.statuses(sent=True) == [401, 100, 180, 200, 200]
    auth = next(e for e in answered.events if e.startswith("auth-"))
    assert auth.startswith("auth-ok call=1 Digest ")
    assert 'username="alice"' in auth and 'realm="voice.test"' in auth and "qop=auth" in auth
    challenge = (phone.workdir / "phone.messages").read_text()
    assert 'WWW-Authenticate: Digest realm="voice.test"' in challenge
    assert answered.rtp is not None and answered.rtp.packets == 10


def test_challenge_refuses_a_wrong_password_with_403(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.CHALLENGE, user="alice", password="s3cret")
    caller = sipp.caller(phone, user="alice", password="guess")
    called, answered = finished(sipp, caller, phone)

    assert called.events == ("final 401", "final 403")
    assert answered.statuses(sent=True) == [401, 403]
    assert answered.requests(sent=False) == ["INVITE", "ACK", "INVITE", "ACK"]
    assert "auth-failed" in answered.event_names()


def test_one_phone_answers_several_calls_one_stream_each(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.ANSWER, calls=2)
    first = sipp.caller(phone, audio_seconds=0.2, talk_seconds=0.5)
    assert first.wait().exit_code == 0, sipp.report()
    assert phone.running()  # one call to go
    second = sipp.caller(phone, audio_seconds=0.4, talk_seconds=0.7)
    _, answered = finished(sipp, second, phone)

    assert (answered.calls, answered.successful) == (2, 2)
    assert answered.requests(sent=False).count("BYE") == 2
    rtp = answered.rtp
    assert rtp is not None
    assert (rtp.packets, rtp.streams, rtp.lost) == (30, 2, 0)
    assert rtp.media_seconds == pytest.approx(0.6)


def test_rtp_measures_from_headers_and_sipp_echoes_everything(sipp: SippPeers) -> None:
    """RTP sent straight to the phone's media port: counts, gaps, DTMF, RTCP, echo."""
    phone = sipp.phone(Mode.ANSWER)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(WAIT)
        sent = 0
        for seq in range(21):
            if seq == 7:
                continue  # one lost packet
            header = struct.pack("!BBHII", 0x80, 0, 1000 + seq, 5000 + 160 * seq, 0x1234)
            sock.sendto(header + b"\xff" * 160, (phone.host, phone.media_port))
            sent += 1
        event = struct.pack("!BBHII", 0x80, 0x80 | 101, 2000, 9000, 0x1234) + b"\x01\x0a\x00\xa0"
        padded = struct.pack("!BBHII", 0xA0, 8, 3000, 1, 0x5678) + b"\xd5" * 80 + b"\0\0\0\4"
        rtcp = struct.pack("!BBHI", 0x80, 201, 1, 0x1234)  # an empty receiver report
        for datagram in (event, padded, rtcp):
            sock.sendto(datagram, (phone.host, phone.media_port))
            sent += 1
        echoes = [sock.recvfrom(2048) for _ in range(sent)]

    assert {address for _, address in echoes} == {("127.0.0.1", phone.media_port)}
    deadline = time.monotonic() + WAIT
    while (rtp := phone.rtp()).echoed < sent and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (rtp.packets, rtp.event_packets, rtp.other_packets, rtp.echoed) == (21, 1, 1, sent)
    assert rtp.lost == 1
    assert rtp.streams == 2  # SSRC 0x1234 (PCMU) and 0x5678 (PCMA)
    assert rtp.payload_types == frozenset({0, 8, 101})
    assert rtp.media_seconds == pytest.approx((20 * 160 + 160 + 80) / 8000)
    assert rtp.audio_seconds == pytest.approx((20 * 160 + 80) / 8000)


def test_phone_nobody_calls_exits_at_its_timeout(sipp: SippPeers) -> None:
    phone = sipp.phone(Mode.ANSWER, timeout=1)
    result = phone.wait()
    assert result.timed_out and result.exit_code != 0
    assert (result.calls, result.events) == (0, ())


def test_leaving_the_block_kills_a_waiting_phone(tmp_path: Path) -> None:
    with SippPhone(tmp_path / "phone", Mode.NO_ANSWER) as phone:
        assert phone.running()
        proc = phone.proc
        assert proc is not None
    assert proc.returncode is not None  # ended and reaped
    assert not phone.running()


def test_a_port_taken_before_sipp_binds_it_means_a_new_start(
    sipp: SippPeers, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    picks = iter([int(taken.getsockname()[1])])
    real = sipp_module.free_udp_port
    monkeypatch.setattr(sipp_module, "free_udp_port", lambda host: next(picks, None) or real(host))
    with taken:
        phone = sipp.phone(Mode.BUSY)
        assert phone.attempts == 2
        assert phone.port != taken.getsockname()[1]
    called, _ = finished(sipp, sipp.caller(phone), phone)
    assert called.events == ("final 486",)
