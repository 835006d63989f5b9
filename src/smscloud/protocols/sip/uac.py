"""The calling side of one call through a SIP trunk, sans-IO: ``OutboundCall``.

How the call moves, and why, is told in ``uac_states`` with the table it follows. Here is the
machinery: the INVITE client transaction and its timers (RFC 3261 §17.1.1), ACKs (§17.1.1.3,
§13.2.2.4), CANCEL (§9.1), Digest answers to 401/407 (§22.2), the dialog and its BYE (§12,
§15.1), and the requests the far end sends us inside it.

Driving it
----------
Every entry point (``start``, ``receive``, ``poll``, ``hangup``) returns the events it caused
and queues datagrams: after each, send what ``datagrams_to_send()`` returns (each with its
address) and wake up at ``next_deadline()`` to call ``poll``. The call is over for good when
``finished``. No clock is read: ``now`` is always the caller's.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from .dialog import ALLOW, MAX_FORWARDS, Dialog, branch, respond, via
from .digest import DigestClient
from .events import Answered, CallEvent, CallStateError, Ended, Failed, Ringing, Trying
from .headers import cseq, format_hostport, name_addr, parse_via, split_list, tag_of
from .message import SipMessage, SipParseError, SipRequest, SipResponse, parse
from .sdp import PCMA, PCMU, SdpError, build_offer, parse_answer
from .timers import Address, Datagram, Replay, Retransmission, Timers
from .uac_states import (
    NO_ANSWER,
    NO_RESPONSE,
    OUTBOUND_TRANSITIONS,
    UNUSABLE_ANSWER,
    OutboundState,
    OutboundTrigger,
)

__all__ = ["OutboundCall", "Trunk"]

S, T = OutboundState, OutboundTrigger
_INVITING = frozenset({S.CALLING, S.PROCEEDING, S.CANCELLING})


@dataclass(frozen=True, slots=True)
class Trunk:
    """The SIP trunk calls go through. ``domain`` (default: host[:port]) names the URIs."""

    host: str
    port: int = 5060
    username: str = ""
    password: str = ""
    domain: str = ""


class OutboundCall:
    """One call placed through ``trunk`` to ``callee`` (the user part of the Request-URI)."""

    def __init__(
        self,
        trunk: Trunk,
        *,
        local: Address,
        callee: str,
        rtp: Address,
        caller: str = "",
        codecs: Sequence[int] = (PCMU, PCMA),
        call_id: str | None = None,
        local_tag: str | None = None,
        cnonce: str | None = None,
        no_answer_timeout: float = 45.0,
        timers: Timers | None = None,
        user_agent: str = "smscloud",
    ) -> None:
        """``local``: our SIP host and port (Via, Contact); ``rtp``: where we take RTP.

        ``caller`` (default: the trunk's username) is the From user. ``call_id``,
        ``local_tag`` and ``cnonce`` are random unless given (tests give them).
        """
        self.trunk, self.local, self.callee, self.codecs = trunk, local, callee, tuple(codecs)
        self.call_id = call_id or f"{secrets.token_hex(12)}@{format_hostport(local[0])}"
        self.local_tag = local_tag or secrets.token_hex(6)
        self.no_answer_timeout = no_answer_timeout
        self.timers = timers or Timers()
        self._digest = DigestClient(trunk.username, trunk.password, cnonce or secrets.token_hex(8))
        port = None if trunk.port == 5060 else trunk.port
        domain = trunk.domain or format_hostport(trunk.host, port)
        user = caller or trunk.username or "anonymous"
        self._peer: Address = (trunk.host, trunk.port)
        self._uri = f"sip:{callee}@{domain}"
        self._from = f"<sip:{user}@{domain}>;tag={self.local_tag}"
        self._to = f"<sip:{callee}@{domain}>"
        self._fixed = (
            ("Contact", f"<sip:{user}@{format_hostport(*local)}>"),
            ("Allow", ALLOW),
            ("User-Agent", user_agent),
            ("Content-Type", "application/sdp"),
        )
        self._offer = build_offer(rtp[0], rtp[1], self.codecs)
        self._state = S.IDLE
        self._branches = 0
        self._cseq = 0  # the current INVITE's
        self._invite = SipRequest("INVITE", self._uri)  # replaced by start()
        self._invite_tx: Retransmission | None = None
        self._auth: tuple[tuple[str, str], ...] = ()
        self._trying = self._ringing = False
        self._no_answer_at: float | None = None
        self._cancel_reason = (NO_ANSWER, "No Answer")
        self._cancel_pending = False
        self._cancel_tx: Retransmission | None = None
        self._cancel_deadline: float | None = None
        self._dialog: Dialog | None = None
        self._ack_2xx: Datagram | None = None
        self._bye: SipRequest | None = None
        self._bye_branch = ""
        self._bye_tx: Retransmission | None = None
        self._acks = Replay()  # Timer D: ACKs for final responses sent again
        self._served = Replay()  # Timer J: our responses to the far end's requests
        self._out: list[Datagram] = []

    # --- state ---------------------------------------------------------------------------

    @property
    def state(self) -> OutboundState:
        return self._state

    @property
    def finished(self) -> bool:
        """Ended or failed, with nothing left to send again or absorb."""
        return self._state in (S.ENDED, S.FAILED) and self.next_deadline() is None

    def _go(self, trigger: OutboundTrigger) -> None:
        target = OUTBOUND_TRANSITIONS[self._state].get(trigger)
        if target is None:
            raise CallStateError(f"{trigger.value} is not allowed when {self._state.value}")
        self._state = target

    # --- the driver's entry points -------------------------------------------------------

    def start(self, now: float) -> list[CallEvent]:
        """Send the INVITE."""
        self._go(T.START)
        self._send_invite(now)
        return []

    def hangup(self, now: float) -> list[CallEvent]:
        """End the call: BYE if answered, else CANCEL the INVITE; nothing once it is over."""
        before = self._state
        self._go(T.HANGUP)
        if before is S.ANSWERED:
            self._send_bye(now)
            return [Ended(now, "us")]
        if before in (S.CALLING, S.PROCEEDING):
            self._cancel_reason = (487, "Request Terminated")
            self._cancel_pending = True
            if before is S.PROCEEDING:
                self._send_cancel(now)
        return []

    def receive(self, datagram: bytes | SipMessage, source: Address, now: float) -> list[CallEvent]:
        """Take a datagram (or a message already parsed) from ``source``.

        Raises SipParseError for a malformed one; other calls' messages are ignored.
        """
        msg = parse(datagram) if isinstance(datagram, bytes) else datagram
        if msg.header("Call-ID") != self.call_id or self._state is S.IDLE:
            return []
        top = msg.header("Via")
        if top is None:
            raise SipParseError("no Via")
        branch_id = parse_via(top).branch or ""
        if isinstance(msg, SipResponse):
            return self._on_response(msg, branch_id, now)
        return self._on_request(msg, branch_id, source, now)

    def poll(self, now: float) -> list[CallEvent]:
        """Run the timers due at ``now``."""
        events: list[CallEvent] = []
        self._acks.expire(now)
        self._served.expire(now)
        if self._invite_tx is not None:
            if self._invite_tx.expired(now):  # Timer B (§17.1.1.2)
                self._invite_tx = None
                self._go(T.TIMEOUT)
                events.append(Failed(now, NO_RESPONSE, "no response"))
            elif (again := self._invite_tx.due(now)) is not None:  # Timer A
                self._out.append(again)
        no_answer_at, cancel_deadline = self._no_answer_at, self._cancel_deadline
        if self._state is S.PROCEEDING and no_answer_at is not None and now >= no_answer_at:
            self._go(T.NO_ANSWER)
            self._send_cancel(now)
        if self._state is S.CANCELLING and cancel_deadline is not None and now >= cancel_deadline:
            self._go(T.TIMEOUT)  # §9.1: no final response 64·T1 after our CANCEL
            events.append(Failed(now, *self._cancel_reason))
        self._cancel_tx = self._retransmit(self._cancel_tx, now)
        self._bye_tx = self._retransmit(self._bye_tx, now)
        return events

    def next_deadline(self) -> float | None:
        """When ``poll`` next has something to do, or None."""
        times = [self._acks.deadline(), self._served.deadline()]
        times += [tx.deadline for tx in (self._invite_tx, self._cancel_tx, self._bye_tx) if tx]
        if self._state is S.PROCEEDING:
            times.append(self._no_answer_at)
        elif self._state is S.CANCELLING:
            times.append(self._cancel_deadline)
        return min((t for t in times if t is not None), default=None)

    def datagrams_to_send(self) -> list[Datagram]:
        """The datagrams queued since the last call, each with where to send it."""
        out, self._out = self._out, []
        return out

    # --- sending -------------------------------------------------------------------------

    def _send(self, request: SipRequest) -> Datagram:
        datagram = (request.serialize(), self._peer)
        self._out.append(datagram)
        return datagram

    def _new_branch(self) -> str:
        self._branches += 1
        return branch(f"{self.call_id}/{self.local_tag}", self._branches)

    def _retransmit(self, tx: Retransmission | None, now: float) -> Retransmission | None:
        if tx is None or tx.expired(now):  # Timer F: give up, the call is over anyway
            return None
        if (again := tx.due(now)) is not None:  # Timer E
            self._out.append(again)
        return tx

    def _send_invite(self, now: float) -> None:
        self._cseq += 1
        headers = (
            via(self.local, self._new_branch()),
            MAX_FORWARDS,
            ("From", self._from),
            ("To", self._to),
            ("Call-ID", self.call_id),
            ("CSeq", f"{self._cseq} INVITE"),
            *self._auth,
            *self._fixed,
        )
        self._invite = SipRequest("INVITE", self._uri, headers, self._offer)
        self._invite_tx = Retransmission.start(
            self._send(self._invite), now, self.timers, capped=False
        )

    def _in_transaction(self, method: str, to: str) -> SipRequest:
        """ACK or CANCEL on the INVITE's branch (§17.1.1.3, §9.1)."""
        headers = (
            ("Via", self._invite.header("Via") or ""),
            MAX_FORWARDS,
            ("From", self._from),
            ("To", to),
            ("Call-ID", self.call_id),
            ("CSeq", f"{self._cseq} {method}"),
        )
        return SipRequest(method, self._uri, headers)

    def _send_cancel(self, now: float) -> None:
        self._cancel_pending = False
        cancel = self._send(self._in_transaction("CANCEL", self._to))
        self._cancel_tx = Retransmission.start(cancel, now, self.timers, capped=True)
        self._cancel_deadline = now + self.timers.give_up

    def _send_bye(self, now: float, auth: tuple[tuple[str, str], ...] = ()) -> None:
        assert self._dialog is not None
        self._bye_branch = self._new_branch()
        self._bye = self._dialog.request("BYE", self.local, self._bye_branch, headers=auth)
        self._bye_tx = Retransmission.start(self._send(self._bye), now, self.timers, capped=True)

    # --- receiving -----------------------------------------------------------------------

    def _on_response(self, msg: SipResponse, branch_id: str, now: float) -> list[CallEvent]:
        number, method = cseq(msg.header("CSeq") or "")
        invite_branch = parse_via(self._invite.header("Via") or "").branch
        if method == "INVITE" and 200 <= msg.status < 300:
            return self._on_2xx(msg, number, now)
        if method == "INVITE" and branch_id == invite_branch and self._state in _INVITING:
            return self._on_invite_response(msg, branch_id, now)
        if method == "INVITE" and msg.status >= 300 and (ack := self._acks.get(branch_id)):
            self._out.append(ack)  # the final response came again: so does its ACK
        elif method == "CANCEL" and branch_id == invite_branch and self._cancel_tx:
            if msg.status >= 200:
                self._cancel_tx = None
            else:
                self._cancel_tx.slow_down()
        elif method == "BYE" and self._bye_tx and branch_id == self._bye_branch:
            self._on_bye_response(msg, now)
        return []

    def _on_invite_response(self, msg: SipResponse, branch_id: str, now: float) -> list[CallEvent]:
        self._invite_tx = None  # any response stops Timer A; Timer B only runs in CALLING
        if msg.status < 200:
            return self._on_provisional(msg, now)
        to = msg.header("To") or self._to
        self._acks.keep(branch_id, self._send(self._in_transaction("ACK", to)), now + self.timers.d)
        if msg.status in (401, 407) and self._state is not S.CANCELLING:
            credentials = self._digest.answer(msg, self._invite)
            if credentials is not None:
                self._go(T.CHALLENGE)
                self._auth, self._no_answer_at = (credentials,), None
                self._send_invite(now)
                return []
        self._go(T.REJECT)
        status, reason = msg.status, msg.reason
        if status == 487 and self._cancel_deadline is not None:
            status, reason = self._cancel_reason  # terminated by our CANCEL: say why we sent it
        return [Failed(now, status, reason)]

    def _on_provisional(self, msg: SipResponse, now: float) -> list[CallEvent]:
        self._go(T.PROVISIONAL)
        events: list[CallEvent] = []
        if self._no_answer_at is None:
            self._no_answer_at = now + self.no_answer_timeout
        if msg.status == 100 and not self._trying:
            self._trying = True
            events.append(Trying(now))
        elif msg.status in (180, 183) and not self._ringing:
            self._ringing = True
            self._no_answer_at = now + self.no_answer_timeout  # it rings from now on
            events.append(Ringing(now))
        if self._cancel_pending:
            self._send_cancel(now)
        return events

    def _on_2xx(self, msg: SipResponse, number: int, now: float) -> list[CallEvent]:
        to = msg.header("To") or ""
        if self._state in _INVITING and number == self._cseq:
            self._invite_tx = None
            contact = msg.header("Contact")
            routes = [r for v in msg.headers_all("Record-Route") for r in split_list(v)]
            self._dialog = Dialog(
                call_id=self.call_id,
                local=self._from,
                remote=to,
                remote_target=name_addr(contact).uri if contact else self._uri,
                route_set=tuple(reversed(routes)),  # §12.1.2: the caller reverses them
                local_cseq=self._cseq,
            )
            ack = self._dialog.request(
                "ACK", self.local, self._new_branch(), cseq=self._cseq, headers=self._auth
            )
            self._ack_2xx = self._send(ack)
            return self._answered(msg, now)
        dialog = self._dialog
        if self._ack_2xx and dialog and (number, tag_of(to)) == (self._cseq, dialog.remote_tag):
            self._out.append(self._ack_2xx)  # §13.2.2.4: each 2xx sent again is ACKed
        return []

    def _answered(self, msg: SipResponse, now: float) -> list[CallEvent]:
        try:
            media = parse_answer(msg.body, self.codecs)
        except SdpError as exc:
            self._go(T.BAD_ANSWER)
            self._send_bye(now)
            return [Failed(now, UNUSABLE_ANSWER, f"unusable SDP answer: {exc}")]
        payload = next(pt for pt in media.payload_types if pt in self.codecs)
        answered = Answered(now, (media.address, media.port), payload, media.dtmf_payload_type)
        gave_up = self._state is S.CANCELLING
        self._go(T.ANSWER)
        if gave_up:
            self._send_bye(now)
            return [answered, Ended(now, "us")]
        return [answered]

    def _on_bye_response(self, msg: SipResponse, now: float) -> None:
        assert self._bye is not None and self._bye_tx is not None
        if msg.status < 200:
            self._bye_tx.slow_down()
            return
        self._bye_tx = None
        if msg.status in (401, 407) and (credentials := self._digest.answer(msg, self._bye)):
            self._send_bye(now, (credentials,))

    def _on_request(
        self, msg: SipRequest, branch_id: str, source: Address, now: float
    ) -> list[CallEvent]:
        if msg.method == "ACK":
            return []  # we answer no INVITE, so no ACK needs anything from us
        key = f"{branch_id} {msg.method}"
        if (kept := self._served.get(key)) is not None:
            self._out.append(kept)  # §17.2.2: a request sent again gets the same response
            return []
        dialog, events = self._dialog, list[CallEvent]()
        tags = (tag_of(msg.header("To") or ""), tag_of(msg.header("From") or ""))
        if dialog is None or tags != (self.local_tag, dialog.remote_tag) or msg.method == "CANCEL":
            status = 481  # §12.2.2: no such dialog (and no INVITE of theirs to cancel)
        elif msg.method == "BYE":
            status = 200
            if self._state is S.ANSWERED:
                events.append(Ended(now, "them"))
            self._go(T.BYE)
        else:
            status = 200 if msg.method in ("OPTIONS", "INFO") else 501
        extra = (("Allow", ALLOW),) if status in (200, 501) and msg.method != "BYE" else ()
        response = respond(msg, status, source=source, headers=extra)
        datagram = (response.serialize(), source)
        self._out.append(datagram)
        self._served.keep(key, datagram, now + self.timers.give_up)
        return events
