"""An ``OutboundCall`` and an ``Answerer`` wired back to back, on a clock the test moves."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from smscloud.protocols.sip import (
    Answerer,
    AnswererEvent,
    CallEvent,
    DigestRealm,
    InboundCall,
    OutboundCall,
    SipRequest,
    Trunk,
    build_answer,
    parse,
)
from smscloud.protocols.sip.headers import cseq

CALLER_SIP = ("192.0.2.10", 5062)  # our platform
CALLER_RTP = ("192.0.2.10", 40000)
TRUNK_SIP = ("198.51.100.7", 5060)  # the simulator, standing in for a trunk
TRUNK_RTP = ("198.51.100.7", 30000)
CALLEE = "8613800138000"
CALLER = "10086"


def label(datagram: bytes) -> str:
    """``INVITE`` for a request, ``180 INVITE`` for a response (status and CSeq method)."""
    msg = parse(datagram)
    if isinstance(msg, SipRequest):
        return msg.method
    return f"{msg.status} {cseq(msg.header('CSeq') or '')[1]}"


@dataclass
class Wire:
    """Carries datagrams between the two ends; ``lose`` drops the next ones with a label."""

    uac: OutboundCall
    uas: Answerer
    now: float = 0.0
    log: list[tuple[float, str, str]] = field(default_factory=list)  # (time, > or <, label)
    lost: list[tuple[float, str, str]] = field(default_factory=list)
    sent: list[bytes] = field(default_factory=list)  # every datagram, carried or lost
    caller_events: list[CallEvent] = field(default_factory=list)
    callee_events: list[AnswererEvent] = field(default_factory=list)
    _losses: Counter[str] = field(default_factory=Counter)

    def lose(self, what: str, times: int = 1) -> None:
        self._losses[what] += times

    def flush(self) -> None:
        """Deliver until both ends are quiet."""
        while True:
            up = self.uac.datagrams_to_send()
            down = self.uas.datagrams_to_send()
            if not up and not down:
                return
            for data, to in up:
                assert to == TRUNK_SIP
                if self._carry(">", data):
                    self.callee_events += self.uas.receive(data, CALLER_SIP, self.now)
            for data, to in down:
                assert to == CALLER_SIP
                if self._carry("<", data):
                    self.caller_events += self.uac.receive(data, TRUNK_SIP, self.now)

    def _carry(self, direction: str, data: bytes) -> bool:
        self.sent.append(data)
        what = label(data)
        if self._losses[what] > 0:
            self._losses[what] -= 1
            self.lost.append((self.now, direction, what))
            return False
        self.log.append((self.now, direction, what))
        return True

    def at(self, now: float) -> None:
        """Move the clock to ``now``, run both ends' timers, deliver."""
        self.now = now
        self.caller_events += self.uac.poll(now)
        self.callee_events += self.uas.poll(now)
        self.flush()

    def run_until(self, end: float) -> None:
        """Run every timer of both ends due up to ``end``, in order."""
        while True:
            due = [d for d in (self.uac.next_deadline(), self.uas.next_deadline()) if d is not None]
            if not due or min(due) > end:
                self.at(max(self.now, end))
                return
            self.at(min(due))

    def labels(self) -> list[str]:
        return [f"{d} {what}" for _, d, what in self.log]

    # --- what the people at either end do, at a time (timers due before it run first) ---

    @property
    def phone(self) -> InboundCall:
        (call,) = self.uas.calls
        return call

    def dial(self) -> None:
        self.caller_events += self.uac.start(self.now)
        self.flush()

    def ring(self, at: float) -> None:
        self.run_until(at)
        self.callee_events += self.phone.ring(at)
        self.flush()

    def pick_up(self, at: float) -> None:
        self.run_until(at)
        self.callee_events += self.phone.answer(at, build_answer(self.phone.offer, *TRUNK_RTP))
        self.flush()

    def refuse(self, at: float, status: int) -> None:
        self.run_until(at)
        self.callee_events += self.phone.reject(at, status)
        self.flush()

    def callee_hangs_up(self, at: float) -> None:
        self.run_until(at)
        self.callee_events += self.phone.hangup(at)
        self.flush()

    def caller_hangs_up(self, at: float) -> None:
        self.run_until(at)
        self.caller_events += self.uac.hangup(at)
        self.flush()


def make_wire(
    *,
    username: str = "",
    password: str = "",
    auth: DigestRealm | None = None,
    no_answer_timeout: float = 45.0,
) -> Wire:
    trunk = Trunk(TRUNK_SIP[0], TRUNK_SIP[1], username=username, password=password)
    uac = OutboundCall(
        trunk,
        local=CALLER_SIP,
        callee=CALLEE,
        caller=CALLER,
        rtp=CALLER_RTP,
        call_id="c0ffee@192.0.2.10",
        local_tag="uactag",
        cnonce="0a4f113b",
        no_answer_timeout=no_answer_timeout,
    )
    uas = Answerer(TRUNK_SIP, auth=auth, new_tag=iter(f"uastag{n}" for n in range(1, 99)).__next__)
    return Wire(uac, uas)
