"""The answering side for many calls at once, sans-IO: ``Answerer`` (the phone simulator's).

One ``Answerer`` listens on one SIP address. Whatever arrives goes to the ``InboundCall`` of
its Call-ID; a new INVITE makes a new one (reported as ``IncomingCall``), after a Digest
challenge (RFC 3261 §22.2, 401 with ``WWW-Authenticate``) if the answerer was given a
``DigestRealm`` and the INVITE carries no valid credentials. The 401 is a final response like
any other: sent again on Timer G until the caller's ACK, for Timer H at most (§17.2.1).
Requests outside any call are answered statelessly (§8.2.7): OPTIONS with 200 (a trunk's
keep-alive), BYE, CANCEL and INFO with 481 (§12.2.2), anything else with 501.

Driving it: on a datagram call ``receive(datagram, source, now)``, at ``next_deadline()`` call
``poll(now)``, and after either (or after acting on a call, ``answerer.call(call_id)``) send
what ``datagrams_to_send()`` returns. Finished calls are forgotten on ``poll``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .dialog import ALLOW, respond
from .digest import DigestError, build_challenge, parse_credentials, verify
from .events import AnswererEvent, IncomingCall
from .headers import parse_via
from .message import SipMessage, SipParseError, SipRequest, SipResponse, parse
from .timers import Address, Datagram, Retransmission, Timers
from .uas import InboundCall

__all__ = ["Answerer", "DigestRealm"]

_REQUIRED = ("Via", "From", "To", "Call-ID", "CSeq")  # §8.1.1, Max-Forwards aside
_NEEDS_DIALOG = frozenset({"BYE", "CANCEL", "INFO", "UPDATE", "PRACK", "REFER", "NOTIFY"})


@dataclass(frozen=True, slots=True)
class DigestRealm:
    """Credentials the answerer demands: ``users`` maps user names to passwords.

    One fixed ``nonce`` serves every challenge: a simulator's, with no replay protection.
    """

    realm: str
    users: Mapping[str, str]
    nonce: str
    opaque: str | None = None


class Answerer:
    """Answers INVITEs sent to ``local``, one ``InboundCall`` per Call-ID."""

    def __init__(
        self,
        local: Address,
        *,
        auth: DigestRealm | None = None,
        new_tag: Callable[[], str] | None = None,
        timers: Timers | None = None,
    ) -> None:
        """``new_tag`` makes each call's To tag (random unless given, §19.3)."""
        self.local = local
        self.auth = auth
        self.timers = timers or Timers()
        self._new_tag = new_tag or (lambda: secrets.token_hex(6))
        self._calls: dict[str, InboundCall] = {}
        self._challenges: dict[str, Retransmission] = {}  # INVITE branch -> its 401
        self._out: list[Datagram] = []

    def call(self, call_id: str) -> InboundCall:
        """The call with this Call-ID (KeyError once forgotten)."""
        return self._calls[call_id]

    @property
    def calls(self) -> list[InboundCall]:
        return list(self._calls.values())

    def receive(
        self, datagram: bytes | SipMessage, source: Address, now: float
    ) -> list[AnswererEvent]:
        """Take a datagram (or a parsed message) from ``source``; SipParseError if malformed."""
        msg = parse(datagram) if isinstance(datagram, bytes) else datagram
        missing = [name for name in _REQUIRED if msg.header(name) is None]
        if missing:
            raise SipParseError(f"no {', '.join(missing)}")
        call = self._calls.get(msg.header("Call-ID") or "")
        if call is not None:
            events = call.receive(msg, source, now)
            if call.finished:  # e.g. the ACK for a rejection: no timer is left to poll it out
                self._out += call.datagrams_to_send()
                del self._calls[call.call_id]
            return events
        if isinstance(msg, SipResponse):
            return []  # for a call already forgotten
        branch_id = parse_via(msg.header("Via") or "").branch or ""
        if msg.method == "ACK":
            self._challenges.pop(branch_id, None)  # the ACK for a 401 (§17.2.1)
            return []
        if msg.method != "INVITE":
            status = 200 if msg.method == "OPTIONS" else 481 if msg.method in _NEEDS_DIALOG else 501
            headers = (("Allow", ALLOW),) if status != 481 else ()
            response = respond(msg, status, source=source, headers=headers)
            self._out.append((response.serialize(), source))
            return []
        if (challenge := self._challenges.get(branch_id)) is not None:
            self._out.append(challenge.datagram)  # the INVITE came again
            return []
        if self.auth is not None and not self._authorized(msg, self.auth):
            self._challenge(msg, source, now, self.auth)
            return []
        call = InboundCall(
            msg, source, now, local=self.local, local_tag=self._new_tag(), timers=self.timers
        )
        self._calls[call.call_id] = call
        return [IncomingCall(call.call_id, now, call.caller, call.callee, call.offer, source)]

    def poll(self, now: float) -> list[AnswererEvent]:
        """Run every call's timers and the challenges' (Timer G/H); forget finished calls."""
        events: list[AnswererEvent] = []
        for call in self.calls:
            events += call.poll(now)
            if call.finished:
                self._out += call.datagrams_to_send()
                del self._calls[call.call_id]
        for key, tx in list(self._challenges.items()):
            if tx.expired(now):
                del self._challenges[key]
            elif (again := tx.due(now)) is not None:
                self._out.append(again)
        return events

    def next_deadline(self) -> float | None:
        """When ``poll`` next has something to do, or None."""
        times = [call.next_deadline() for call in self._calls.values()]
        times += [tx.deadline for tx in self._challenges.values()]
        return min((t for t in times if t is not None), default=None)

    def datagrams_to_send(self) -> list[Datagram]:
        """Every datagram queued, by the answerer or any of its calls, with its address."""
        out, self._out = self._out, []
        for call in self._calls.values():
            out += call.datagrams_to_send()
        return out

    def _authorized(self, invite: SipRequest, auth: DigestRealm) -> bool:
        value = invite.header("Authorization")
        if value is None:
            return False
        try:
            credentials = parse_credentials(value)
        except DigestError:
            return False
        password = auth.users.get(credentials.username)
        return (
            password is not None
            and (credentials.realm, credentials.nonce) == (auth.realm, auth.nonce)
            and credentials.uri == invite.uri  # RFC 2617 §3.2.2.5
            and verify(credentials, password=password, method=invite.method, body=invite.body)
        )

    def _challenge(
        self, invite: SipRequest, source: Address, now: float, auth: DigestRealm
    ) -> None:
        value = build_challenge(auth.realm, auth.nonce, opaque=auth.opaque)
        response = respond(
            invite,
            401,
            to_tag=self._new_tag(),
            source=source,
            headers=(("WWW-Authenticate", value),),
        )
        sent = (response.serialize(), source)
        self._out.append(sent)
        branch_id = parse_via(invite.header("Via") or "").branch or ""
        self._challenges[branch_id] = Retransmission.start(sent, now, self.timers, capped=True)
