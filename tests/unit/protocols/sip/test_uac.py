"""``OutboundCall`` against a scripted trunk: exact bytes, odd answers, the far end's requests."""

from __future__ import annotations

import hashlib

import pytest

from smscloud.domain.voice_failures import failure_for_sip
from smscloud.protocols.sip import (
    Answered,
    CallStateError,
    Ended,
    Failed,
    OutboundCall,
    OutboundState,
    SipParseError,
    SipRequest,
    SipResponse,
    Timers,
    Trunk,
    build_answer,
    parse,
)
from smscloud.protocols.sip.dialog import branch, respond

from .wire import CALLER_RTP, CALLER_SIP, TRUNK_RTP, TRUNK_SIP, make_wire

BRANCH_1 = "z9hG4bK62eebe1bf866d298e3a8224d"  # branch("c0ffee@192.0.2.10/uactag", 1)
INVITE_HEAD = (
    "INVITE sip:8613800138000@198.51.100.7 SIP/2.0\r\n"
    f"Via: SIP/2.0/UDP 192.0.2.10:5062;branch={BRANCH_1};rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:10086@198.51.100.7>;tag=uactag\r\n"
    "To: <sip:8613800138000@198.51.100.7>\r\n"
    "Call-ID: c0ffee@192.0.2.10\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:10086@192.0.2.10:5062>\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO\r\n"
    "User-Agent: smscloud\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 216\r\n"
    "\r\n"
).encode()


class ScriptedTrunk:
    """The far end, scripted: it answers what the call sent last."""

    def __init__(self, call: OutboundCall) -> None:
        self.call = call
        self.got: list[SipRequest] = []

    def take(self) -> list[SipRequest]:
        sent = []
        for data, to in self.call.datagrams_to_send():
            assert to == TRUNK_SIP
            msg = parse(data)
            assert isinstance(msg, SipRequest)
            sent.append(msg)
        self.got += sent
        return sent

    def reply(
        self,
        request: SipRequest,
        status: int,
        now: float,
        *,
        headers: tuple[tuple[str, str], ...] = (),
        body: bytes = b"",
        tag: str | None = "trunktag",
    ) -> list[object]:
        response = respond(request, status, to_tag=tag, headers=headers, body=body)
        return list(self.call.receive(response.serialize(), TRUNK_SIP, now))


def started(**kwargs: object) -> tuple[OutboundCall, ScriptedTrunk, SipRequest]:
    call = make_wire(**kwargs).uac  # type: ignore[arg-type]
    trunk = ScriptedTrunk(call)
    call.start(0.0)
    (invite,) = trunk.take()
    return call, trunk, invite


def sdp_answer(invite: SipRequest) -> tuple[tuple[str, str], ...]:
    return (("Contact", "<sip:gw@198.51.100.8:5070>"), ("Content-Type", "application/sdp"))


def answer(
    trunk: ScriptedTrunk, invite: SipRequest, now: float = 1.0, **kwargs: object
) -> list[object]:
    body = build_answer(invite.body, *TRUNK_RTP)
    headers = sdp_answer(invite) + kwargs.pop("extra", ())  # type: ignore[operator]
    return trunk.reply(invite, 200, now, headers=headers, body=body)


def test_invite_bytes_are_exact() -> None:
    call = make_wire().uac
    assert call.start(0.0) == []
    ((data, to),) = call.datagrams_to_send()
    assert to == TRUNK_SIP
    assert data == INVITE_HEAD + data[len(INVITE_HEAD) :] and data.endswith(b"a=sendrecv\r\n")
    assert len(data) - len(INVITE_HEAD) == 216
    assert branch("c0ffee@192.0.2.10/uactag", 1) == BRANCH_1
    assert call.next_deadline() == 0.5  # Timer A


def test_ack_for_a_failure_is_on_the_invites_branch() -> None:
    call, trunk, invite = started()
    assert trunk.reply(invite, 603, 0.3) == [Failed(0.3, 603, "Decline")]
    (ack,) = trunk.take()
    assert ack.serialize() == (
        b"ACK sip:8613800138000@198.51.100.7 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=" + BRANCH_1.encode() + b";rport\r\n"
        b"Max-Forwards: 70\r\n"
        b"From: <sip:10086@198.51.100.7>;tag=uactag\r\n"
        b"To: <sip:8613800138000@198.51.100.7>;tag=trunktag\r\n"
        b"Call-ID: c0ffee@192.0.2.10\r\n"
        b"CSeq: 1 ACK\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    assert failure_for_sip(603).code == 10 and call.next_deadline() == pytest.approx(
        32.3
    )  # Timer D


def test_ack_and_bye_for_a_2xx_follow_the_dialog() -> None:
    # §12.1.2: the route set is the 2xx's Record-Route reversed; §12.2.1.1: loose routing.
    call, trunk, invite = started()
    rr = (("Record-Route", "<sip:p2.example.net;lr>, <sip:p1.example.net;lr>"),)
    events = answer(trunk, invite, extra=rr)
    assert events == [Answered(1.0, TRUNK_RTP, 0, 101)]
    (ack,) = trunk.take()
    assert ack.method == "ACK" and ack.uri == "sip:gw@198.51.100.8:5070"
    assert ack.headers_all("Route") == ["<sip:p1.example.net;lr>", "<sip:p2.example.net;lr>"]
    assert ack.header("CSeq") == "1 ACK" and ack.header("Via") != invite.header("Via")
    assert ack.header("To") == "<sip:8613800138000@198.51.100.7>;tag=trunktag"
    assert call.hangup(9.0) == [Ended(9.0, "us")]
    (bye,) = trunk.take()
    assert (bye.uri, bye.header("CSeq")) == ("sip:gw@198.51.100.8:5070", "2 BYE")
    assert bye.headers_all("Route") == ack.headers_all("Route")
    assert call.hangup(9.5) == []  # hanging up twice is harmless


def test_a_strict_router_goes_in_the_request_uri() -> None:
    _, trunk, invite = started()
    answer(trunk, invite, extra=(("Record-Route", "<sip:strict.example.net>"),))
    (ack,) = trunk.take()
    assert ack.uri == "sip:strict.example.net"
    assert ack.headers_all("Route") == ["<sip:gw@198.51.100.8:5070>"]


def test_2xx_without_usable_sdp() -> None:
    call, trunk, invite = started()
    events = trunk.reply(invite, 200, 1.0, headers=(("Contact", "<sip:gw@198.51.100.8>"),))
    assert events == [Failed(1.0, 488, "unusable SDP answer: SDP must start with v=0")]
    assert [r.method for r in trunk.take()] == ["ACK", "BYE"]
    assert call.state is OutboundState.FAILED and failure_for_sip(488).code == 11


def test_2xx_sent_again_is_acked_again_and_a_forks_is_not() -> None:
    _, trunk, invite = started()
    answer(trunk, invite)
    (ack,) = trunk.take()
    assert answer(trunk, invite, 1.5) == []
    assert trunk.take() == [ack]
    body = build_answer(invite.body, *TRUNK_RTP)
    fork = trunk.reply(invite, 200, 1.6, headers=sdp_answer(invite), body=body, tag="other")
    assert fork == [] and trunk.take() == []


def test_proxy_challenge_then_a_challenged_bye() -> None:
    call, trunk, invite = started(username="acct", password="pw")
    challenge = (("Proxy-Authenticate", 'Digest realm="r", nonce="n", qop="auth"'),)
    assert trunk.reply(invite, 407, 0.1, headers=challenge) == []
    ack, again = trunk.take()
    assert ack.method == "ACK" and again.header("CSeq") == "2 INVITE"
    assert (again.header("Proxy-Authorization") or "").startswith('Digest username="acct"')
    assert again.header("Via") != invite.header("Via")  # a new transaction
    answer(trunk, again, 0.5)
    (ack2,) = trunk.take()
    assert ack2.header("Proxy-Authorization") == again.header("Proxy-Authorization")  # §13.2.2.4
    call.hangup(5.0)
    (bye,) = trunk.take()
    www = (("WWW-Authenticate", 'Digest realm="r", nonce="n", qop="auth"'),)
    trunk.reply(bye, 401, 5.1, headers=www)
    (bye2,) = trunk.take()
    assert (bye2.header("CSeq"), bye2.header("Proxy-Authorization")) == ("4 BYE", None)
    authorization = bye2.header("Authorization") or ""
    assert "nc=00000002" in authorization  # the nonce's second use

    def h(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha2 = h(f"BYE:{bye2.uri}")
    expected = h(f"{h('acct:r:pw')}:n:00000002:0a4f113b:auth:{ha2}")
    assert f'response="{expected}"' in authorization
    trunk.reply(bye2, 401, 5.2, headers=www)  # challenged again: given up
    assert trunk.take() == [] and call.next_deadline() == pytest.approx(32.1)  # Timer D only


def test_requests_from_the_far_end() -> None:
    call, trunk, invite = started()
    answer(trunk, invite)
    trunk.take()

    def send(method: str, *, to_tag: str = "uactag", branch_id: str = "z9hG4bKfar1") -> SipResponse:
        request = SipRequest(
            method,
            "sip:10086@192.0.2.10:5062",
            (
                ("Via", f"SIP/2.0/UDP 198.51.100.8:5070;branch={branch_id};rport"),
                ("From", "<sip:8613800138000@198.51.100.7>;tag=trunktag"),
                ("To", f"<sip:10086@198.51.100.7>;tag={to_tag}"),
                ("Call-ID", "c0ffee@192.0.2.10"),
                ("CSeq", f"7 {method}"),
            ),
        )
        call.receive(request.serialize(), ("198.51.100.8", 5070), 2.0)
        out = call.datagrams_to_send()
        if method == "ACK":
            assert out == []
            return SipResponse(200, "")
        ((data, to),) = out
        assert to == ("198.51.100.8", 5070)  # where the request came from (RFC 3581)
        response = parse(data)
        assert isinstance(response, SipResponse)
        return response

    options = send("OPTIONS", branch_id="b1")
    assert (options.status, options.header("Allow")) == (
        200,
        "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO",
    )
    via = options.header("Via") or ""
    assert via.endswith(";received=198.51.100.8;rport=5070")
    assert send("INFO", branch_id="b2").status == 200
    assert send("UPDATE", branch_id="b3").status == 501
    assert send("CANCEL", branch_id="b4").status == 481
    assert send("BYE", to_tag="stranger", branch_id="b5").status == 481
    assert send("OPTIONS", branch_id="b1") == options  # sent again: the same response
    send("ACK")
    assert call.state is OutboundState.ANSWERED


def test_other_calls_and_bad_datagrams() -> None:
    call = make_wire().uac
    stray = SipResponse(200, "OK", (("Call-ID", "c0ffee@192.0.2.10"),))
    assert call.receive(stray, TRUNK_SIP, 0.0) == []  # not started: nothing to match
    call.start(0.0)
    call.datagrams_to_send()
    other = SipResponse(180, "Ringing", (("Call-ID", "another"),))
    assert call.receive(other.serialize(), TRUNK_SIP, 0.1) == []
    with pytest.raises(SipParseError):
        call.receive(b"garbage", TRUNK_SIP, 0.1)
    with pytest.raises(SipParseError):
        call.receive(stray, TRUNK_SIP, 0.1)  # no Via
    unrelated = SipResponse(
        200,
        "OK",
        (("Via", "SIP/2.0/UDP x;branch=z9hG4bKx"), *stray.headers, ("CSeq", "9 MESSAGE")),
    )
    assert call.receive(unrelated, TRUNK_SIP, 0.1) == []
    assert call.datagrams_to_send() == [] and call.state is OutboundState.CALLING


def test_api_misuse() -> None:
    call = make_wire().uac
    with pytest.raises(CallStateError, match="hangup is not allowed when idle"):
        call.hangup(0.0)
    call.start(0.0)
    with pytest.raises(CallStateError, match="start is not allowed when calling"):
        call.start(0.0)


def test_defaults() -> None:
    call = OutboundCall(
        Trunk("trunk.example.net", 5080), local=CALLER_SIP, callee="1", rtp=CALLER_RTP
    )
    assert call.call_id.endswith("@192.0.2.10") and len(call.local_tag) == 12
    call.start(0.0)
    ((data, to),) = call.datagrams_to_send()
    assert to == ("trunk.example.net", 5080)
    assert data.startswith(b"INVITE sip:1@trunk.example.net:5080 SIP/2.0\r\n")
    assert b"From: <sip:anonymous@trunk.example.net:5080>;tag=" in data
    named = OutboundCall(
        Trunk("10.0.0.1", username="acct", domain="carrier.example"),
        local=("::1", 5060),
        callee="2",
        rtp=("::1", 4000),
        timers=Timers(t1=1.0),
    )
    named.start(0.0)
    ((data, to),) = named.datagrams_to_send()
    assert to == ("10.0.0.1", 5060) and named.next_deadline() == 1.0
    assert b"From: <sip:acct@carrier.example>" in data and b"Via: SIP/2.0/UDP [::1]:5060;" in data


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (486, 10),
        (600, 10),
        (603, 10),
        (404, 8),
        (604, 8),
        (480, 6),
        (408, 5),
        (503, 9),
        (500, 9),
        (0, 6),
        (402, 11),
        (488, 11),
    ],
)
def test_failure_codes(status: int, code: int) -> None:
    assert failure_for_sip(status).code == code
