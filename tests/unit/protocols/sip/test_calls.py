"""``OutboundCall`` against ``Answerer``, back to back in memory, datagrams lost on purpose."""

from __future__ import annotations

from smscloud.domain.voice_failures import failure_for_sip
from smscloud.protocols.sip import (
    Answered,
    CallCancelled,
    CallConfirmed,
    CallEnded,
    DigestRealm,
    Ended,
    Failed,
    InboundState,
    IncomingCall,
    OutboundState,
    Ringing,
    Trying,
)
from smscloud.protocols.sip.digest import parse_credentials, verify

from .wire import CALLEE, CALLER, CALLER_SIP, TRUNK_RTP, Wire, label, make_wire

CALL_ID = "c0ffee@192.0.2.10"
ANSWERED_AT_3 = Answered(3.0, TRUNK_RTP, 0, 101)


def answered_call() -> Wire:
    wire = make_wire()
    wire.dial()
    wire.ring(1.0)
    wire.pick_up(3.0)
    assert wire.caller_events == [Trying(0.0), Ringing(1.0), ANSWERED_AT_3]
    assert wire.callee_events == [
        IncomingCall(CALL_ID, 0.0, CALLER, CALLEE, wire.phone.offer, CALLER_SIP),
        CallConfirmed(CALL_ID, 3.0),
    ]
    return wire


def test_answered_then_we_hang_up() -> None:
    wire = answered_call()
    wire.caller_hangs_up(20.0)
    assert wire.log == [
        (0.0, ">", "INVITE"),
        (0.0, "<", "100 INVITE"),
        (1.0, "<", "180 INVITE"),
        (3.0, "<", "200 INVITE"),
        (3.0, ">", "ACK"),
        (20.0, ">", "BYE"),
        (20.0, "<", "200 BYE"),
    ]
    assert wire.caller_events[-1] == Ended(20.0, "us")
    assert wire.callee_events[-1] == CallEnded(CALL_ID, 20.0, "them")
    assert wire.uac.state is OutboundState.ENDED and wire.uac.finished
    assert wire.phone.state is InboundState.TERMINATED
    wire.run_until(100.0)  # the callee keeps its 200 for a BYE sent again for 64·T1
    assert wire.uas.calls == [] and wire.uas.next_deadline() is None


def test_they_hang_up() -> None:
    wire = answered_call()
    wire.callee_hangs_up(15.0)
    assert wire.labels()[-2:] == ["< BYE", "> 200 BYE"]
    assert wire.caller_events[-1] == Ended(15.0, "them")
    assert wire.callee_events[-1] == CallEnded(CALL_ID, 15.0, "us")
    wire.run_until(100.0)
    assert wire.uac.finished and wire.uas.calls == []
    assert wire.lost == [] and len(wire.log) == 7


def test_busy() -> None:
    wire = make_wire()
    wire.dial()
    wire.refuse(2.0, 486)
    assert wire.labels() == ["> INVITE", "< 100 INVITE", "< 486 INVITE", "> ACK"]
    assert wire.caller_events == [Trying(0.0), Failed(2.0, 486, "Busy Here")]
    assert failure_for_sip(486).code == 10
    assert wire.uas.calls == []  # the ACK came: the phone's call is over and forgotten
    wire.run_until(40.0)  # Timer D over
    assert wire.uac.finished and wire.uas.calls == []


def test_not_found() -> None:
    wire = make_wire()
    wire.dial()
    wire.refuse(0.2, 404)
    assert wire.caller_events[-1] == Failed(0.2, 404, "Not Found")
    assert failure_for_sip(404).code == 8 and wire.labels()[-1] == "> ACK"


def test_no_answer() -> None:
    wire = make_wire(no_answer_timeout=45.0)
    wire.dial()
    wire.ring(2.0)
    wire.run_until(47.0)
    assert wire.log[3:] == [
        (47.0, ">", "CANCEL"),
        (47.0, "<", "200 CANCEL"),
        (47.0, "<", "487 INVITE"),
        (47.0, ">", "ACK"),
    ]
    assert wire.caller_events == [Trying(0.0), Ringing(2.0), Failed(47.0, 408, "No Answer")]
    assert wire.callee_events[-1] == CallCancelled(CALL_ID, 47.0)
    assert failure_for_sip(408).code == 5
    wire.run_until(100.0)
    assert wire.uac.finished and wire.uas.calls == []


def test_the_no_answer_timer_starts_with_trying_when_nothing_rings() -> None:
    wire = make_wire(no_answer_timeout=10.0)
    wire.dial()
    wire.run_until(10.0)
    assert wire.caller_events == [Trying(0.0), Failed(10.0, 408, "No Answer")]


def test_invite_lost_every_time() -> None:
    wire = make_wire()
    wire.lose("INVITE", 99)
    wire.dial()
    wire.run_until(40.0)
    # RFC 3261 §17.1.1.2: Timer A at 0.5 s, doubling: 0.5, 1, 2, 4, 8, 16 s apart.
    assert [t for t, _, _ in wire.lost] == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert wire.caller_events == [Failed(32.0, 0, "no response")]  # Timer B: 64·T1
    assert failure_for_sip(0).code == 6
    assert wire.uac.finished and wire.log == []


def test_invite_lost_once_then_retransmissions_stop_at_trying() -> None:
    wire = make_wire()
    wire.lose("INVITE")
    wire.dial()
    wire.run_until(10.0)
    assert wire.log == [(0.5, ">", "INVITE"), (0.5, "<", "100 INVITE")]
    assert len(wire.callee_events) == 1 and wire.caller_events == [Trying(0.5)]


def test_trying_lost_the_invite_sent_again_gets_it_again() -> None:
    wire = make_wire()
    wire.lose("100 INVITE")
    wire.dial()
    wire.run_until(1.0)
    assert wire.labels() == ["> INVITE", "> INVITE", "< 100 INVITE"]
    assert len(wire.callee_events) == 1  # one call, not two


def test_200_lost_then_sent_again_and_acked() -> None:
    wire = make_wire()
    wire.dial()
    wire.lose("200 INVITE", 2)
    wire.pick_up(3.0)
    wire.run_until(5.0)
    # §13.3.1.4: the callee sends its 2xx again at T1, 2·T1... until the ACK.
    assert [t for t, _, what in wire.lost] == [3.0, 3.5]
    assert wire.log[-2:] == [(4.5, "<", "200 INVITE"), (4.5, ">", "ACK")]
    assert wire.caller_events == [Trying(0.0), Answered(4.5, TRUNK_RTP, 0, 101)]
    assert wire.callee_events[-1] == CallConfirmed(CALL_ID, 4.5)


def test_ack_lost_the_caller_acks_the_200_again() -> None:
    wire = make_wire()
    wire.dial()
    wire.lose("ACK")
    wire.pick_up(3.0)
    wire.run_until(4.0)
    assert wire.lost == [(3.0, ">", "ACK")]
    assert wire.log[-3:] == [(3.0, "<", "200 INVITE"), (3.5, "<", "200 INVITE"), (3.5, ">", "ACK")]
    first, again = (d for d in wire.sent if label(d) == "ACK")
    assert first == again  # §13.2.2.4: the same ACK, for every 2xx that comes again
    assert [e for e in wire.caller_events if isinstance(e, Answered)] == [ANSWERED_AT_3]
    assert wire.callee_events[-1] == CallConfirmed(CALL_ID, 3.5)


def test_digest_challenge_then_success() -> None:
    realm = DigestRealm("sim", {"acct": "pw"}, nonce="n0nce")
    wire = make_wire(username="acct", password="pw", auth=realm)
    wire.dial()
    assert wire.labels() == ["> INVITE", "< 401 INVITE", "> ACK", "> INVITE", "< 100 INVITE"]
    wire.pick_up(1.0)
    assert wire.caller_events == [Trying(0.0), Answered(1.0, TRUNK_RTP, 0, 101)]
    invite = wire.uas.calls[0]._invite
    assert invite.header("CSeq") == "2 INVITE"
    credentials = parse_credentials(invite.header("Authorization") or "")
    assert (credentials.username, credentials.realm, credentials.nc) == ("acct", "sim", "00000001")
    assert verify(credentials, password="pw", method="INVITE")
    wire.run_until(40.0)
    assert wire.uas._challenges == {}  # the 401's ACK came


def test_digest_with_a_wrong_password_fails_once() -> None:
    realm = DigestRealm("sim", {"acct": "pw"}, nonce="n0nce")
    wire = make_wire(username="acct", password="nope", auth=realm)
    wire.dial()
    assert wire.labels() == [
        "> INVITE",
        "< 401 INVITE",
        "> ACK",
        "> INVITE",
        "< 401 INVITE",
        "> ACK",
    ]
    assert wire.caller_events == [Failed(0.0, 401, "Unauthorized")]


def test_without_credentials_a_challenge_fails_the_call() -> None:
    wire = make_wire(auth=DigestRealm("sim", {"acct": "pw"}, nonce="n0nce"))
    wire.dial()
    assert (
        wire.caller_events == [Failed(0.0, 401, "Unauthorized")] and failure_for_sip(401).code == 11
    )


def test_bye_lost_and_sent_again() -> None:
    wire = answered_call()
    wire.lose("BYE", 2)
    wire.caller_hangs_up(10.0)
    assert wire.caller_events[-1] == Ended(10.0, "us")  # at once, whatever the network does
    wire.run_until(12.0)
    # §17.1.2.2 Timer E: T1, then doubling up to T2.
    assert [t for t, _, _ in wire.lost] == [10.0, 10.5]
    assert wire.log[-2:] == [(11.5, ">", "BYE"), (11.5, "<", "200 BYE")]
    assert wire.callee_events[-1] == CallEnded(CALL_ID, 11.5, "them")
    assert wire.uac.next_deadline() is None


def test_their_200_to_our_bye_lost() -> None:
    wire = answered_call()
    wire.lose("200 BYE")
    wire.caller_hangs_up(10.0)
    wire.run_until(11.0)
    assert wire.log[-3:] == [(10.0, ">", "BYE"), (10.5, ">", "BYE"), (10.5, "<", "200 BYE")]
    assert [e for e in wire.callee_events if isinstance(e, CallEnded)] == [
        CallEnded(CALL_ID, 10.0, "them")
    ]


def test_their_bye_lost_and_our_200_sent_again() -> None:
    wire = answered_call()
    wire.lose("200 BYE")
    wire.callee_hangs_up(10.0)
    wire.run_until(11.0)
    assert wire.log[-3:] == [(10.0, "<", "BYE"), (10.5, "<", "BYE"), (10.5, ">", "200 BYE")]
    assert [e for e in wire.caller_events if isinstance(e, Ended)] == [Ended(10.0, "them")]


def test_486_and_its_ack_lost() -> None:
    wire = make_wire()
    wire.dial()
    wire.lose("486 INVITE")
    wire.lose("ACK")
    wire.refuse(1.0, 486)
    wire.run_until(3.0)
    # Timer G sends the 486 again; Timer D keeps our ACK for the one after.
    assert wire.log[2:] == [
        (1.5, "<", "486 INVITE"),
        (2.5, "<", "486 INVITE"),
        (2.5, ">", "ACK"),
    ]
    assert wire.caller_events[-1] == Failed(1.5, 486, "Busy Here")
    assert wire.lost == [(1.0, "<", "486 INVITE"), (1.5, ">", "ACK")]


def test_we_hang_up_while_it_rings() -> None:
    wire = make_wire()
    wire.dial()
    wire.ring(1.0)
    wire.caller_hangs_up(5.0)
    assert wire.labels()[3:] == ["> CANCEL", "< 200 CANCEL", "< 487 INVITE", "> ACK"]
    assert wire.caller_events[-1] == Failed(5.0, 487, "Request Terminated")


def test_hang_up_before_any_response_waits_for_one_to_cancel() -> None:
    wire = make_wire()
    wire.lose("INVITE")
    wire.dial()
    wire.caller_hangs_up(0.2)
    assert wire.uac.state is OutboundState.CANCELLING and wire.log == []
    wire.run_until(1.0)  # §9.1: no CANCEL before a provisional response
    assert wire.labels() == [
        "> INVITE",
        "< 100 INVITE",
        "> CANCEL",
        "< 200 CANCEL",
        "< 487 INVITE",
        "> ACK",
    ]
    assert wire.caller_events == [Trying(0.5), Failed(0.5, 487, "Request Terminated")]


def test_cancel_lost_and_sent_again() -> None:
    wire = make_wire(no_answer_timeout=5.0)
    wire.dial()
    wire.lose("CANCEL")
    wire.run_until(6.0)
    assert wire.log[-4:] == [
        (5.5, ">", "CANCEL"),
        (5.5, "<", "200 CANCEL"),
        (5.5, "<", "487 INVITE"),
        (5.5, ">", "ACK"),
    ]
    assert wire.caller_events[-1] == Failed(5.5, 408, "No Answer")


def test_answered_as_we_give_up() -> None:
    wire = make_wire(no_answer_timeout=5.0)
    wire.dial()
    wire.lose("CANCEL", 99)
    wire.run_until(5.0)
    wire.pick_up(5.2)  # the callee picks up while our CANCEL is lost
    assert wire.labels()[-4:] == ["< 200 INVITE", "> ACK", "> BYE", "< 200 BYE"]
    assert wire.caller_events[-2:] == [Answered(5.2, TRUNK_RTP, 0, 101), Ended(5.2, "us")]
    assert wire.callee_events[-1] == CallEnded(CALL_ID, 5.2, "them")
    assert wire.uac.state is OutboundState.ENDED


def test_no_final_response_after_cancel() -> None:
    wire = make_wire(no_answer_timeout=5.0)
    wire.dial()
    wire.lose("487 INVITE", 99)
    wire.run_until(40.0)
    # §9.1: 64·T1 after the CANCEL the INVITE is given up.
    assert wire.caller_events[-1] == Failed(37.0, 408, "No Answer")
