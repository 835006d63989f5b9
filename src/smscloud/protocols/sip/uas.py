"""The answering side of one call, sans-IO: ``InboundCall`` (made by ``Answerer``).

How the call moves is told in ``uas_states`` with its table. Here: the INVITE server
transaction over UDP (RFC 3261 §17.2.1), the 2xx retransmitted until ACKed (§13.3.1.4), CANCEL
(§9.2), the dialog (§12.1.1) and its BYE in either direction (§15.1), and responses to requests
sent again kept for Timer J (§17.2.2). Responses go back where the request came from
(RFC 3581 §4); our BYE goes to the caller's Contact, or its first Record-Route.

Driving it: ``ring``, ``answer``, ``reject`` and ``hangup`` return the events they caused and
queue datagrams (``datagrams_to_send()``); the ``Answerer`` hands each call what arrives for
it and polls it at ``next_deadline()``.
"""

from __future__ import annotations

from .dialog import ALLOW, Dialog, branch, destination, respond
from .events import AnswererEvent, CallCancelled, CallConfirmed, CallEnded, CallStateError
from .headers import cseq, format_hostport, name_addr, parse_via, split_list, tag_of, uri_user
from .message import SipParseError, SipRequest, SipResponse
from .timers import Address, Datagram, Replay, Retransmission, Timers
from .uas_states import INBOUND_TRANSITIONS, InboundState, InboundTrigger

__all__ = ["InboundCall"]

S, T = InboundState, InboundTrigger
_BEFORE_FINAL = frozenset({S.PROCEEDING, S.RINGING})
_UP = frozenset({S.ACCEPTED, S.CONFIRMED})  # answered, and nobody has hung up


def _user(uri: str) -> str:
    try:
        return uri_user(uri)
    except SipParseError:
        return ""


class InboundCall:
    """One INVITE received from ``source``: 100 Trying is queued at once."""

    def __init__(
        self,
        invite: SipRequest,
        source: Address,
        now: float,
        *,
        local: Address,
        local_tag: str,
        timers: Timers | None = None,
    ) -> None:
        self.call_id = invite.header("Call-ID") or ""
        self.caller = _user(name_addr(invite.header("From") or "").uri)
        self.callee = _user(invite.uri)
        self.offer = invite.body
        self.source = source
        self.local, self.local_tag = local, local_tag
        self.timers = timers or Timers()
        self._invite = invite
        self._branch = parse_via(invite.header("Via") or "").branch
        self._cseq = cseq(invite.header("CSeq") or "")[0]
        contact_user = f"{self.callee}@" if self.callee else ""
        self._contact = ("Contact", f"<sip:{contact_user}{format_hostport(*local)}>")
        self._state = S.PROCEEDING
        self._last: Datagram | None = None  # our last response to the INVITE
        self._final_tx: Retransmission | None = None
        self._dialog: Dialog | None = None
        self._bye_tx: Retransmission | None = None
        self._bye_branch = ""
        self._branches = 0
        self._served = Replay()
        self._out: list[Datagram] = []
        self._reply(100)

    # --- state ---------------------------------------------------------------------------

    @property
    def state(self) -> InboundState:
        return self._state

    @property
    def finished(self) -> bool:
        """Terminated, with nothing left to send again or absorb."""
        return self._state is S.TERMINATED and self.next_deadline() is None

    def _go(self, trigger: InboundTrigger) -> None:
        target = INBOUND_TRANSITIONS[self._state].get(trigger)
        if target is None:
            raise CallStateError(f"{trigger.value} is not allowed when {self._state.value}")
        self._state = target

    # --- the driver's decisions ----------------------------------------------------------

    def ring(self, now: float) -> list[AnswererEvent]:
        """Send 180 Ringing."""
        self._go(T.RING)
        self._reply(180, (self._contact,))
        return []

    def answer(self, now: float, sdp: bytes) -> list[AnswererEvent]:
        """Send 200 with the SDP answer ``sdp``, again until the caller's ACK."""
        self._go(T.ANSWER)
        headers = (self._contact, ("Allow", ALLOW), ("Content-Type", "application/sdp"))
        sent = self._reply(200, headers, sdp)
        self._final_tx = Retransmission.start(sent, now, self.timers, capped=True)
        invite = self._invite
        contact = invite.header("Contact")
        to = invite.header("To") or ""
        self._dialog = Dialog(  # §12.1.1: the callee's view of the dialog
            call_id=self.call_id,
            local=f"{to};tag={self.local_tag}" if tag_of(to) is None else to,
            remote=invite.header("From") or "",
            remote_target=name_addr(contact).uri if contact else invite.uri,
            route_set=tuple(r for v in invite.headers_all("Record-Route") for r in split_list(v)),
            local_cseq=0,
        )
        return []

    def reject(self, now: float, status: int, reason: str | None = None) -> list[AnswererEvent]:
        """Refuse the call with ``status`` (300-699), sent again until ACKed."""
        if not 300 <= status <= 699:
            raise ValueError(f"reject with a final status 300-699, not {status}")
        self._go(T.REJECT)
        self._final(now, status, reason)
        return []

    def hangup(self, now: float) -> list[AnswererEvent]:
        """Hang up an answered call (BYE, after the ACK if it has not come yet)."""
        before = self._state
        self._go(T.HANGUP)
        if before is S.CONFIRMED:
            self._send_bye(now)
        return [CallEnded(self.call_id, now, "us")] if before in _UP else []

    # --- what the answerer hands over ----------------------------------------------------

    def receive(
        self, msg: SipRequest | SipResponse, source: Address, now: float
    ) -> list[AnswererEvent]:
        """Take a message of this call (its Call-ID) that came from ``source``."""
        top = msg.header("Via")
        if top is None:
            raise SipParseError("no Via")
        branch_id = parse_via(top).branch or ""
        if isinstance(msg, SipResponse):
            if self._bye_tx is not None and branch_id == self._bye_branch:
                if msg.status < 200:
                    self._bye_tx.slow_down()
                else:
                    self._bye_tx = None
            return []
        if msg.method == "ACK":
            return self._on_ack(msg, branch_id, now)
        if msg.method == "INVITE" and branch_id == self._branch:
            if self._last is not None:
                self._out.append(self._last)  # §17.2.1: the INVITE came again
            return []
        key = f"{branch_id} {msg.method}"
        if (kept := self._served.get(key)) is not None:
            self._out.append(kept)  # §17.2.2: a request sent again gets the same response
            return []
        status, events = self._on_request(msg, branch_id, now)
        headers = (("Allow", ALLOW),) if status in (200, 501) and msg.method != "BYE" else ()
        sent = (respond(msg, status, source=source, headers=headers).serialize(), source)
        self._out.append(sent)
        self._served.keep(key, sent, now + self.timers.give_up)
        if any(isinstance(e, CallCancelled) for e in events):
            self._final(now, 487)  # §9.2: the INVITE ends with 487, after the CANCEL's 200
        return events

    def _on_ack(self, msg: SipRequest, branch_id: str, now: float) -> list[AnswererEvent]:
        if cseq(msg.header("CSeq") or "")[0] != self._cseq:
            return []  # the ACK for a refused second INVITE (§14.2)
        if self._state in (S.ACCEPTED, S.CLOSING):  # the ACK for our 2xx (its own branch)
            self._final_tx = None
            closing = self._state is S.CLOSING
            self._go(T.ACK)
            if closing:
                self._send_bye(now)
                return []
            return [CallConfirmed(self.call_id, now)]
        if self._state is S.COMPLETED and branch_id == self._branch:  # §17.2.1
            self._final_tx = None
            self._go(T.ACK)
        return []  # an ACK sent again is absorbed (Timer I)

    def _on_request(
        self, msg: SipRequest, branch_id: str, now: float
    ) -> tuple[int, list[AnswererEvent]]:
        if msg.method == "CANCEL":
            if branch_id != self._branch:
                return 481, []
            if self._state not in _BEFORE_FINAL:
                return 200, []  # §9.2: too late to change anything
            self._go(T.CANCEL)
            return 200, [CallCancelled(self.call_id, now)]
        if msg.method == "INVITE":  # a second INVITE (§14.2)
            return (500 if self._state in _BEFORE_FINAL else 488), []
        if msg.method == "BYE":
            dialog = self._dialog
            tags = (tag_of(msg.header("To") or ""), tag_of(msg.header("From") or ""))
            if dialog is None or tags != (self.local_tag, dialog.remote_tag):
                return 481, []  # §12.2.2
            before = self._state
            self._go(T.BYE)
            self._final_tx = None
            return 200, [CallEnded(self.call_id, now, "them")] if before in _UP else []
        return (200 if msg.method in ("OPTIONS", "INFO") else 501), []

    # --- timers --------------------------------------------------------------------------

    def poll(self, now: float) -> list[AnswererEvent]:
        """Run the timers due at ``now``."""
        events: list[AnswererEvent] = []
        self._served.expire(now)
        if self._final_tx is not None:
            if self._final_tx.expired(now):  # Timer H, or the 2xx's give-up
                self._final_tx = None
                before = self._state
                self._go(T.TIMEOUT)
                if before in (S.ACCEPTED, S.CLOSING):  # §13.3.1.4: end it with a BYE
                    self._send_bye(now)
                if before is S.ACCEPTED:
                    events.append(CallEnded(self.call_id, now, "us"))
            elif (again := self._final_tx.due(now)) is not None:  # Timer G, or the 2xx's
                self._out.append(again)
        if self._bye_tx is not None:
            if self._bye_tx.expired(now):  # Timer F
                self._bye_tx = None
            elif (again := self._bye_tx.due(now)) is not None:  # Timer E
                self._out.append(again)
        return events

    def next_deadline(self) -> float | None:
        """When ``poll`` next has something to do, or None."""
        times = [self._served.deadline()]
        times += [tx.deadline for tx in (self._final_tx, self._bye_tx) if tx is not None]
        return min((t for t in times if t is not None), default=None)

    def datagrams_to_send(self) -> list[Datagram]:
        """The datagrams queued since the last call, each with where to send it."""
        out, self._out = self._out, []
        return out

    # --- sending -------------------------------------------------------------------------

    def _reply(
        self,
        status: int,
        headers: tuple[tuple[str, str], ...] = (),
        body: bytes = b"",
        reason: str | None = None,
    ) -> Datagram:
        tag = None if status == 100 else self.local_tag  # §8.2.6.2: 100 needs no tag
        response = respond(
            self._invite,
            status,
            to_tag=tag,
            source=self.source,
            headers=headers,
            body=body,
            reason=reason,
        )
        self._last = (response.serialize(), self.source)
        self._out.append(self._last)
        return self._last

    def _final(self, now: float, status: int, reason: str | None = None) -> None:
        sent = self._reply(status, reason=reason)
        self._final_tx = Retransmission.start(sent, now, self.timers, capped=True)  # Timer G/H

    def _send_bye(self, now: float) -> None:
        assert self._dialog is not None
        self._branches += 1
        self._bye_branch = branch(f"{self.call_id}/{self.local_tag}", self._branches)
        bye = self._dialog.request("BYE", self.local, self._bye_branch)
        try:
            to = destination(self._dialog.next_hop())
        except SipParseError:
            to = self.source  # a Contact we cannot route to: where the INVITE came from
        sent = (bye.serialize(), to)
        self._out.append(sent)
        self._bye_tx = Retransmission.start(sent, now, self.timers, capped=True)
