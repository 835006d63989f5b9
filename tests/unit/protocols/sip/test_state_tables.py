"""Walk both state tables: every arrow is taken by a real stimulus, every refusal is checked.

For each state a path of triggers brings a fresh call there; for each trigger a stimulus (a
datagram, a timer, an API call) fires it. An arrow in the table must land where the table
says; a trigger the table does not list must be refused (API calls) or change nothing
(datagrams).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from smscloud.protocols.sip import (
    INBOUND_TRANSITIONS,
    OUTBOUND_TRANSITIONS,
    Answerer,
    CallStateError,
    InboundCall,
    InboundState,
    InboundTrigger,
    OutboundState,
    OutboundTrigger,
    SipRequest,
    build_answer,
    build_offer,
    parse,
)
from smscloud.protocols.sip.dialog import respond

from .wire import CALLER_RTP, CALLER_SIP, TRUNK_RTP, TRUNK_SIP, make_wire

# --- the calling side ---------------------------------------------------------------------

OS, OT = OutboundState, OutboundTrigger
WWW = (("WWW-Authenticate", 'Digest realm="r", nonce="n"'),)


STRAY_INVITE = SipRequest(
    "INVITE",
    "sip:8613800138000@198.51.100.7",
    (
        ("Via", "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKstray"),
        ("From", "<sip:10086@198.51.100.7>;tag=uactag"),
        ("To", "<sip:8613800138000@198.51.100.7>"),
        ("Call-ID", "c0ffee@192.0.2.10"),
        ("CSeq", "1 INVITE"),
    ),
    build_offer(*CALLER_RTP),
)


class Caller:
    """A call and the trunk's view of it: the last INVITE, and the time."""

    def __init__(self) -> None:
        self.call = make_wire(username="u", password="p").uac
        self.invite: SipRequest | None = None
        self.now = 0.0

    def step(self, dt: float = 0.1) -> float:
        self.now += dt
        return self.now

    def drain(self) -> None:
        for data, _ in self.call.datagrams_to_send():
            msg = parse(data)
            if isinstance(msg, SipRequest) and msg.method == "INVITE":
                self.invite = msg

    def reply(
        self, status: int, headers: tuple[tuple[str, str], ...] = (), body: bytes = b""
    ) -> None:
        invite = self.invite or STRAY_INVITE  # before start(): a response to nothing of ours
        response = respond(invite, status, to_tag="t", headers=headers, body=body)
        self.call.receive(response.serialize(), TRUNK_SIP, self.step())
        self.drain()

    def answer(self) -> None:
        sdp = build_answer((self.invite or STRAY_INVITE).body, *TRUNK_RTP)
        self.reply(200, (("Contact", "<sip:gw@198.51.100.7>"),), sdp)

    def bye(self) -> None:
        bye = SipRequest(
            "BYE",
            "sip:10086@192.0.2.10:5062",
            (
                ("Via", "SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKtheirs"),
                ("From", "<sip:8613800138000@198.51.100.7>;tag=t"),
                ("To", "<sip:10086@198.51.100.7>;tag=uactag"),
                ("Call-ID", self.call.call_id),
                ("CSeq", "9 BYE"),
            ),
        )
        self.call.receive(bye.serialize(), TRUNK_SIP, self.step())
        self.drain()

    def poll_after(self, seconds: float) -> None:
        self.call.poll(self.step(seconds))
        self.drain()

    def api(self, action: Callable[[float], object]) -> None:
        action(self.step())
        self.drain()


# The way to each state, as a path of triggers from a new call.
CALLER_PATHS: dict[OutboundState, list[OutboundTrigger]] = {
    OS.IDLE: [],
    OS.CALLING: [OT.START],
    OS.PROCEEDING: [OT.START, OT.PROVISIONAL],
    OS.CANCELLING: [OT.START, OT.PROVISIONAL, OT.HANGUP],
    OS.ANSWERED: [OT.START, OT.ANSWER],
    OS.ENDED: [OT.START, OT.ANSWER, OT.HANGUP],
    OS.FAILED: [OT.START, OT.BAD_ANSWER],  # failed with a dialog, so that BYE can come
}
CALLER_STIMULI: dict[OutboundTrigger, Callable[[Caller], None]] = {
    OT.START: lambda c: c.api(c.call.start),
    OT.PROVISIONAL: lambda c: c.reply(180),
    OT.CHALLENGE: lambda c: c.reply(401, WWW),
    OT.ANSWER: Caller.answer,
    OT.BAD_ANSWER: lambda c: c.reply(200),
    OT.REJECT: lambda c: c.reply(486),
    OT.TIMEOUT: lambda c: c.poll_after(40.0),  # Timer B, or 64·T1 after our CANCEL
    OT.NO_ANSWER: lambda c: c.poll_after(45.0),
    OT.HANGUP: lambda c: c.api(c.call.hangup),
    OT.BYE: Caller.bye,
}
OUTBOUND_ARROWS = [
    (s, t, end) for s, arrows in OUTBOUND_TRANSITIONS.items() for t, end in arrows.items()
]


def caller_in(state: OutboundState) -> Caller:
    caller = Caller()
    for trigger in CALLER_PATHS[state]:
        expected = OUTBOUND_TRANSITIONS[caller.call.state][trigger]
        CALLER_STIMULI[trigger](caller)
        assert caller.call.state is expected
    assert caller.call.state is state
    return caller


def test_every_outbound_state_and_trigger_is_walked() -> None:
    assert set(OUTBOUND_TRANSITIONS) == set(OS) == set(CALLER_PATHS)
    assert {t for _, t, _ in OUTBOUND_ARROWS} == set(OT) == set(CALLER_STIMULI)


@pytest.mark.parametrize(("state", "trigger", "end"), OUTBOUND_ARROWS)
def test_outbound_arrow(state: OutboundState, trigger: OutboundTrigger, end: OutboundState) -> None:
    caller = caller_in(state)
    CALLER_STIMULI[trigger](caller)
    assert caller.call.state is end


# Timers are left out (a late poll fires whichever timer is running), and so is a 401 while
# CANCELLING: we no longer want the call, so there it is a REJECT, not a CHALLENGE.
ABSENT_OUTBOUND = [
    (s, t)
    for s in OS
    for t in OT
    if t not in OUTBOUND_TRANSITIONS[s]
    and t not in (OT.TIMEOUT, OT.NO_ANSWER)
    and (s, t) != (OS.CANCELLING, OT.CHALLENGE)
]


@pytest.mark.parametrize(("state", "trigger"), ABSENT_OUTBOUND)
def test_outbound_non_arrow(state: OutboundState, trigger: OutboundTrigger) -> None:
    caller = caller_in(state)
    if trigger in (OT.START, OT.HANGUP):
        with pytest.raises(CallStateError):
            CALLER_STIMULI[trigger](caller)
    else:
        CALLER_STIMULI[trigger](caller)  # a datagram the state has no use for
    assert caller.call.state is state


# --- the answering side -------------------------------------------------------------------

IS, IT = InboundState, InboundTrigger


class Callee:
    """A phone (an answerer and its one call) and a caller scripting requests to it."""

    def __init__(self) -> None:
        wire = make_wire()
        wire.dial()
        self.phone: Answerer = wire.uas
        self.invite = wire.phone._invite
        self.now = 0.0

    @property
    def call(self) -> InboundCall:
        return self.phone.calls[0]

    def send(self, method: str, branch: str, *, to_tag: str | None = "uastag1") -> None:
        to = "<sip:8613800138000@198.51.100.7>" + (f";tag={to_tag}" if to_tag else "")
        request = SipRequest(
            method,
            "sip:8613800138000@198.51.100.7",
            (
                ("Via", f"SIP/2.0/UDP 192.0.2.10:5062;branch={branch}"),
                ("From", "<sip:10086@198.51.100.7>;tag=uactag"),
                ("To", to),
                ("Call-ID", self.call.call_id),
                ("CSeq", f"1 {method}" if method != "BYE" else "2 BYE"),
            ),
        )
        self.now += 0.1
        self.phone.receive(request.serialize(), CALLER_SIP, self.now)

    @property
    def invite_branch(self) -> str:
        return (self.invite.header("Via") or "").split("branch=")[1].split(";")[0]

    def ack(self) -> None:
        final_2xx = self.call.state in (IS.ACCEPTED, IS.CLOSING)
        self.send("ACK", "z9hG4bKack2xx" if final_2xx else self.invite_branch)

    def api(self, action: Callable[..., object], *args: object) -> None:
        self.now += 0.1
        action(self.now, *args)

    def poll_after(self, seconds: float) -> None:
        self.now += seconds
        self.phone.poll(self.now)


CALLEE_PATHS: dict[InboundState, list[InboundTrigger]] = {
    IS.PROCEEDING: [],
    IS.RINGING: [IT.RING],
    IS.ACCEPTED: [IT.ANSWER],
    IS.CLOSING: [IT.ANSWER, IT.HANGUP],
    IS.CONFIRMED: [IT.ANSWER, IT.ACK],
    IS.COMPLETED: [IT.REJECT],
    IS.TERMINATED: [IT.ANSWER, IT.ACK, IT.BYE],  # with a dialog, so that BYE can come again
}
CALLEE_STIMULI: dict[InboundTrigger, Callable[[Callee], None]] = {
    IT.RING: lambda c: c.api(c.call.ring),
    IT.ANSWER: lambda c: c.api(c.call.answer, b"v=0\r\n"),
    IT.REJECT: lambda c: c.api(c.call.reject, 486),
    IT.CANCEL: lambda c: c.send("CANCEL", c.invite_branch, to_tag=None),
    IT.ACK: Callee.ack,
    IT.BYE: lambda c: c.send("BYE", "z9hG4bKb2"),
    IT.HANGUP: lambda c: c.api(c.call.hangup),
    IT.TIMEOUT: lambda c: c.poll_after(33.0),
}
INBOUND_ARROWS = [
    (s, t, end) for s, arrows in INBOUND_TRANSITIONS.items() for t, end in arrows.items()
]


def callee_in(state: InboundState) -> Callee:
    callee = Callee()
    for trigger in CALLEE_PATHS[state]:
        expected = INBOUND_TRANSITIONS[callee.call.state][trigger]
        CALLEE_STIMULI[trigger](callee)
        assert callee.call.state is expected
    assert callee.call.state is state
    return callee


def test_every_inbound_state_and_trigger_is_walked() -> None:
    assert set(INBOUND_TRANSITIONS) == set(IS) == set(CALLEE_PATHS)
    assert {t for _, t, _ in INBOUND_ARROWS} == set(IT) == set(CALLEE_STIMULI)


@pytest.mark.parametrize(("state", "trigger", "end"), INBOUND_ARROWS)
def test_inbound_arrow(state: InboundState, trigger: InboundTrigger, end: InboundState) -> None:
    callee = callee_in(state)
    CALLEE_STIMULI[trigger](callee)
    if callee.phone.calls:  # a terminated call may be forgotten at once
        assert callee.call.state is end
    else:
        assert end is IS.TERMINATED


# Timer-driven TIMEOUT is left out, as on the calling side.
ABSENT_INBOUND = [
    (s, t) for s in IS for t in IT if t not in INBOUND_TRANSITIONS[s] and t is not IT.TIMEOUT
]


@pytest.mark.parametrize(("state", "trigger"), ABSENT_INBOUND)
def test_inbound_non_arrow(state: InboundState, trigger: InboundTrigger) -> None:
    callee = callee_in(state)
    if trigger in (IT.RING, IT.ANSWER, IT.REJECT, IT.HANGUP):
        with pytest.raises(CallStateError):
            CALLEE_STIMULI[trigger](callee)
    else:
        CALLEE_STIMULI[trigger](callee)
    assert callee.call.state is state
