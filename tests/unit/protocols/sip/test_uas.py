"""``Answerer`` and ``InboundCall`` against scripted callers: sipp's INVITE, timers, oddities."""

from __future__ import annotations

import pytest

from smscloud.protocols.sip import (
    Answerer,
    CallCancelled,
    CallConfirmed,
    CallEnded,
    CallStateError,
    DigestRealm,
    InboundState,
    IncomingCall,
    SipParseError,
    SipRequest,
    SipResponse,
    build_answer,
    parse,
)

PHONE = ("127.0.0.1", 15070)
SIPP = ("127.0.0.1", 15071)
CALL_ID = "1-8830@127.0.0.1"
SIPP_SDP = (
    b"v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
    b"t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)
# The INVITE of sipp's built-in uac scenario (sip-tester 3.6.1), as it reached us.
SIPP_INVITE = (
    b"INVITE sip:1000@127.0.0.1:15070 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:15071;branch=z9hG4bK-8830-1-0\r\n"
    b"From: sipp <sip:sipp@127.0.0.1:15071>;tag=8830SIPpTag001\r\n"
    b"To: 1000 <sip:1000@127.0.0.1:15070>\r\n"
    b"Call-ID: 1-8830@127.0.0.1\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Contact: sip:sipp@127.0.0.1:15071\r\n"
    b"Max-Forwards: 70\r\n"
    b"Subject: Performance Test\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length:   129\r\n\r\n" + SIPP_SDP
)
INVITE = parse(SIPP_INVITE)
assert isinstance(INVITE, SipRequest)


def request(method: str, branch: str, *, cseq: int = 1, to_tag: str | None = "phonetag") -> bytes:
    to = "1000 <sip:1000@127.0.0.1:15070>" + (f";tag={to_tag}" if to_tag else "")
    return SipRequest(
        method,
        "sip:1000@127.0.0.1:15070",
        (
            ("Via", f"SIP/2.0/UDP 127.0.0.1:15071;branch={branch}"),
            ("From", "sipp <sip:sipp@127.0.0.1:15071>;tag=8830SIPpTag001"),
            ("To", to),
            ("Call-ID", CALL_ID),
            ("CSeq", f"{cseq} {method}"),
        ),
    ).serialize()


ACK_2XX = request("ACK", "z9hG4bK-8830-1-5")
ACK_NON_2XX = request("ACK", "z9hG4bK-8830-1-0")  # the INVITE's branch (§17.1.1.3)


def answerer(**kwargs: object) -> Answerer:
    return Answerer(PHONE, new_tag=lambda: "phonetag", **kwargs)  # type: ignore[arg-type]


def out(phone: Answerer) -> list[SipResponse | SipRequest]:
    sent = []
    for data, to in phone.datagrams_to_send():
        sent.append(parse(data))
        assert to in (SIPP, ("127.0.0.1", 5060))
    return sent


def statuses(phone: Answerer) -> list[int | str]:
    return [m.status if isinstance(m, SipResponse) else m.method for m in out(phone)]


def ringing() -> Answerer:
    phone = answerer()
    events = phone.receive(SIPP_INVITE, SIPP, 0.0)
    assert events == [IncomingCall(CALL_ID, 0.0, "sipp", "1000", SIPP_SDP, SIPP)]
    phone.call(CALL_ID).ring(0.1)
    return phone


def answered() -> Answerer:
    phone = ringing()
    out(phone)
    phone.call(CALL_ID).answer(1.0, build_answer(SIPP_SDP, "127.0.0.1", 30000))
    return phone


def test_trying_ringing_and_ok_bytes() -> None:
    phone = ringing()
    trying, ring = (m.serialize() for m in out(phone))
    head = (
        b"Via: SIP/2.0/UDP 127.0.0.1:15071;branch=z9hG4bK-8830-1-0\r\n"
        b"From: sipp <sip:sipp@127.0.0.1:15071>;tag=8830SIPpTag001\r\n"
    )
    rest = b"Call-ID: 1-8830@127.0.0.1\r\nCSeq: 1 INVITE\r\n"
    assert trying == (
        b"SIP/2.0 100 Trying\r\n"
        + head
        + b"To: 1000 <sip:1000@127.0.0.1:15070>\r\n"
        + rest
        + b"Content-Length: 0\r\n\r\n"
    )
    assert ring == (
        b"SIP/2.0 180 Ringing\r\n"
        + head
        + b"To: 1000 <sip:1000@127.0.0.1:15070>;tag=phonetag\r\n"
        + rest
        + b"Contact: <sip:1000@127.0.0.1:15070>\r\nContent-Length: 0\r\n\r\n"
    )
    phone.call(CALL_ID).answer(1.0, b"v=0\r\n")
    (ok,) = out(phone)
    assert isinstance(ok, SipResponse) and ok.status == 200 and ok.body == b"v=0\r\n"
    assert ok.header("Content-Type") == "application/sdp"


def test_the_invite_sent_again_gets_the_last_response() -> None:
    phone = ringing()
    out(phone)
    assert phone.receive(SIPP_INVITE, SIPP, 0.5) == []
    assert statuses(phone) == [180]


def test_200_sent_again_until_acked_then_given_up_with_a_bye() -> None:
    phone = answered()
    out(phone)
    sent_at = []
    now = 1.0
    while now < 40.0:
        now = phone.next_deadline() or 99.0
        phone.poll(now)
        if 200 in statuses(phone):
            sent_at.append(now)
    # §13.3.1.4: T1, doubling to T2; no ACK for 64·T1: a BYE (to the Contact) ends the call.
    assert sent_at == [1.5, 2.5, 4.5, 8.5, 12.5, 16.5, 20.5, 24.5, 28.5, 32.5]
    call = phone.calls[0]
    assert call.state is InboundState.TERMINATED
    assert phone.receive(ACK_2XX, SIPP, 40.0) == []  # too late: absorbed


def test_no_ack_ends_the_call_with_a_bye() -> None:
    phone = answered()
    out(phone)
    phone.poll(32.5)
    assert statuses(phone) == [200]
    events = phone.poll(33.0)
    assert events == [CallEnded(CALL_ID, 33.0, "us")]
    (bye,) = out(phone)
    assert isinstance(bye, SipRequest) and bye.method == "BYE"
    assert bye.uri == "sip:sipp@127.0.0.1:15071" and bye.header("CSeq") == "1 BYE"
    assert bye.header("From") == "1000 <sip:1000@127.0.0.1:15070>;tag=phonetag"
    assert bye.header("To") == "sipp <sip:sipp@127.0.0.1:15071>;tag=8830SIPpTag001"


def test_ack_confirms_and_bye_ends() -> None:
    phone = answered()
    out(phone)
    assert phone.receive(ACK_2XX, SIPP, 1.1) == [CallConfirmed(CALL_ID, 1.1)]
    assert phone.receive(ACK_2XX, SIPP, 1.2) == []  # sent again: absorbed
    assert phone.next_deadline() is None
    assert phone.receive(request("BYE", "b-bye", cseq=2), SIPP, 5.0) == [
        CallEnded(CALL_ID, 5.0, "them")
    ]
    assert statuses(phone) == [200]
    assert phone.receive(request("BYE", "b-bye", cseq=2), SIPP, 5.5) == []
    assert statuses(phone) == [200]  # §17.2.2: the same response, no second event
    phone.poll(37.0)
    assert phone.calls == []


def test_bye_before_the_ack() -> None:
    phone = answered()
    out(phone)
    assert phone.receive(request("BYE", "b-bye", cseq=2), SIPP, 1.2) == [
        CallEnded(CALL_ID, 1.2, "them")
    ]
    assert statuses(phone) == [200]
    phone.poll(1.5)
    assert out(phone) == []  # the 200 to the INVITE is no longer sent again


def test_hangup_waits_for_the_ack() -> None:
    phone = answered()
    out(phone)
    call = phone.call(CALL_ID)
    assert call.hangup(1.1) == [CallEnded(CALL_ID, 1.1, "us")]
    assert call.state is InboundState.CLOSING and out(phone) == []
    assert call.hangup(1.2) == []
    assert phone.receive(ACK_2XX, SIPP, 1.3) == []
    assert statuses(phone) == ["BYE"]
    assert phone.call(CALL_ID).state is InboundState.TERMINATED


def test_hangup_after_the_ack_and_the_bye_sent_again() -> None:
    phone = answered()
    phone.receive(ACK_2XX, SIPP, 1.1)
    out(phone)
    call = phone.call(CALL_ID)
    assert call.hangup(2.0) == [CallEnded(CALL_ID, 2.0, "us")]
    (bye,) = out(phone)
    assert isinstance(bye, SipRequest)
    phone.poll(2.5)
    assert out(phone) == [bye]  # Timer E
    trying = SipResponse(100, "Trying", bye.headers)
    phone.receive(trying.serialize(), SIPP, 2.6)
    phone.poll(3.5)
    assert out(phone) == [bye] and call.next_deadline() == 7.5  # T2 apart after a 1xx
    phone.receive(SipResponse(200, "OK", bye.headers).serialize(), SIPP, 4.0)
    # Finished, with no timer left: forgotten at once, not at a poll that may never come.
    assert call.finished and phone.calls == [] and phone.next_deadline() is None


def test_reject_is_sent_again_until_acked() -> None:
    phone = ringing()
    out(phone)
    phone.call(CALL_ID).reject(1.0, 480)
    assert statuses(phone) == [480]
    phone.poll(1.5)
    assert statuses(phone) == [480]  # Timer G
    call = phone.call(CALL_ID)
    phone.receive(ACK_NON_2XX, SIPP, 1.6)
    # The ACK finished it: forgotten at once (no deadline would ever poll it out).
    assert call.state is InboundState.TERMINATED and phone.calls == []
    assert phone.next_deadline() is None


def test_reject_never_acked_timer_h() -> None:
    phone = ringing()
    phone.call(CALL_ID).reject(1.0, 486)
    phone.poll(33.0)
    assert phone.calls == []


def test_cancel() -> None:
    phone = ringing()
    out(phone)
    cancel = request("CANCEL", "z9hG4bK-8830-1-0", to_tag=None)
    assert phone.receive(cancel, SIPP, 2.0) == [CallCancelled(CALL_ID, 2.0)]
    ok, terminated = out(phone)
    assert isinstance(ok, SipResponse) and ok.header("CSeq") == "1 CANCEL"
    assert isinstance(terminated, SipResponse) and terminated.status == 487
    assert terminated.header("To") == "1000 <sip:1000@127.0.0.1:15070>;tag=phonetag"
    assert phone.receive(cancel, SIPP, 2.1) == [] and statuses(phone) == [200]
    phone.receive(ACK_NON_2XX, SIPP, 2.2)
    assert phone.calls[0].state is InboundState.TERMINATED


def test_cancel_too_late_or_unknown() -> None:
    phone = answered()
    out(phone)
    assert phone.receive(request("CANCEL", "z9hG4bK-8830-1-0", to_tag=None), SIPP, 1.1) == []
    assert statuses(phone) == [200]
    assert phone.call(CALL_ID).state is InboundState.ACCEPTED
    phone.receive(request("CANCEL", "z9hG4bK-other", to_tag=None), SIPP, 1.2)
    assert statuses(phone) == [481]


def test_other_requests_in_a_call() -> None:
    phone = ringing()
    out(phone)
    phone.receive(request("INVITE", "z9hG4bK-second", cseq=2), SIPP, 0.5)
    assert statuses(phone) == [500]  # §14.2: before our final response
    phone.receive(request("BYE", "z9hG4bK-early", cseq=2), SIPP, 0.6)
    assert statuses(phone) == [481]  # no dialog yet
    phone.call(CALL_ID).answer(1.0, b"v=0\r\n")
    late = request("ACK", "z9hG4bK-second", cseq=2)  # the ACK for that 500, arriving late
    assert phone.receive(late, SIPP, 1.05) == []
    assert phone.call(CALL_ID).state is InboundState.ACCEPTED
    phone.receive(ACK_2XX, SIPP, 1.1)
    out(phone)
    phone.receive(request("INVITE", "z9hG4bK-reinvite", cseq=3), SIPP, 2.0)
    phone.receive(request("OPTIONS", "z9hG4bK-o", cseq=4), SIPP, 2.0)
    phone.receive(request("INFO", "z9hG4bK-i", cseq=5), SIPP, 2.0)
    phone.receive(request("REFER", "z9hG4bK-r", cseq=6), SIPP, 2.0)
    phone.receive(request("BYE", "z9hG4bK-x", cseq=7, to_tag="wrong"), SIPP, 2.0)
    assert statuses(phone) == [488, 200, 200, 501, 481]


def test_requests_outside_any_call() -> None:
    phone = answerer()
    for method, status in (("OPTIONS", 200), ("BYE", 481), ("CANCEL", 481), ("REGISTER", 501)):
        assert phone.receive(request(method, "z9hG4bKo", to_tag=None), SIPP, 0.0) == []
        assert statuses(phone) == [status]
    assert phone.receive(request("ACK", "z9hG4bKo"), SIPP, 0.0) == []
    late = SipResponse(200, "OK", parse(request("BYE", "z9hG4bKo")).headers)
    assert phone.receive(late, SIPP, 0.0) == []
    assert out(phone) == [] and phone.next_deadline() is None


def test_malformed_requests() -> None:
    phone = answerer()
    with pytest.raises(SipParseError, match="no Via, CSeq"):
        phone.receive(b"OPTIONS sip:x SIP/2.0\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\n\r\n", SIPP, 0.0)
    with pytest.raises(SipParseError):
        phone.receive(b"\x00", SIPP, 0.0)


def test_api_misuse() -> None:
    phone = ringing()
    call = phone.call(CALL_ID)
    with pytest.raises(ValueError, match="300-699"):
        call.reject(1.0, 200)
    with pytest.raises(CallStateError):
        call.hangup(1.0)  # reject an unanswered call instead
    call.answer(1.0, b"v=0\r\n")
    with pytest.raises(CallStateError):
        call.ring(1.1)
    with pytest.raises(KeyError):
        phone.call("nobody")


def test_rport_and_record_route() -> None:
    # RFC 3581 §4: rport asked, answered with where the request came from; §12.1.1: the
    # callee keeps Record-Route in order and copies it into its 18x/2xx.
    invite = SipRequest(
        "INVITE",
        "tel:+8613800138000",
        (
            ("Via", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat;rport"),
            ("Via", "SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKfirst"),
            ("Record-Route", "<sip:edge.example.net;lr>"),
            ("From", "<sip:caller@example.net>;tag=a"),
            ("To", "<tel:+8613800138000>"),
            ("Call-ID", "nat-call"),
            ("CSeq", "1 INVITE"),
            ("Contact", "<sip:caller@10.0.0.5:5060>"),
        ),
    )
    phone = answerer()
    (incoming,) = phone.receive(invite, ("203.0.113.9", 40123), 0.0)
    assert isinstance(incoming, IncomingCall) and incoming.callee == "+8613800138000"
    call = phone.call("nat-call")
    call.answer(0.1, b"v=0\r\n")
    trying, ok = (parse(d) for d, to in phone.datagrams_to_send() if to == ("203.0.113.9", 40123))
    assert trying.header("Via") == (
        "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat;received=203.0.113.9;rport=40123"
    )
    assert trying.headers_all("Via")[1] == "SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKfirst"
    assert (
        trying.header("Record-Route") is None
        and ok.header("Record-Route") == "<sip:edge.example.net;lr>"
    )
    phone.receive(
        request("ACK", "x").replace(CALL_ID.encode(), b"nat-call"), ("203.0.113.9", 40123), 0.2
    )
    call.hangup(1.0)
    ((data, to),) = phone.datagrams_to_send()
    bye = parse(data)
    assert to == ("edge.example.net", 5060)  # the first route
    assert isinstance(bye, SipRequest) and bye.uri == "sip:caller@10.0.0.5:5060"
    assert bye.header("Route") == "<sip:edge.example.net;lr>"
    assert bye.header("From") == "<tel:+8613800138000>;tag=phonetag"


def test_digest_challenge() -> None:
    realm = DigestRealm("sim", {"sipp": "pw"}, nonce="abc", opaque="o")
    phone = answerer(auth=realm)
    assert phone.receive(SIPP_INVITE, SIPP, 0.0) == []
    (challenge,) = out(phone)
    assert isinstance(challenge, SipResponse) and challenge.status == 401
    assert challenge.header("WWW-Authenticate") == (
        'Digest realm="sim", nonce="abc", opaque="o", qop="auth", algorithm=MD5'
    )
    assert phone.receive(SIPP_INVITE, SIPP, 0.2) == [] and out(phone) == [challenge]
    phone.poll(0.5)
    assert out(phone) == [challenge]  # Timer G
    phone.poll(33.0)
    assert phone.next_deadline() is None  # Timer H: forgotten without its ACK
    bad = SIPP_INVITE.replace(
        b"Max-Forwards",
        b'Authorization: Digest username="sipp", realm="sim", nonce="abc", '
        b'uri="sip:1000@127.0.0.1:15070", response="0"\r\nMax-Forwards',
    ).replace(b"-1-0", b"-2-0")
    assert phone.receive(bad, SIPP, 34.0) == []
    assert statuses(phone) == [401]
