"""ESME and SMSC session state machines (SMPP 3.4 §2.2-§2.4), sans-IO.

Theory of operation
-------------------
A session starts OPEN once TCP is up. The ESME sends bind_transmitter, bind_receiver or
bind_transceiver; a bind_*_resp with command_status 0 moves both ends to BOUND_TX,
BOUND_RX or BOUND_TRX (§2.2); a refused bind leaves them OPEN. An SMSC may first send
outbind (§2.2.1), to which the ESME answers with a bind_receiver. Either end then sends
unbind; its unbind_resp moves both ends to UNBOUND, after which only the socket closes
(CLOSED, set by ``close()``).

Which requests each end may send in which state is ``REQUESTS`` below (after §2.4,
Table 2-1). A response is allowed only for a request that is waiting for one. A request
received in the wrong state raises ``SessionError(ESME_RINVBNDSTS)`` so the caller can
answer with ``reject()`` (§2.4). Requests in flight are kept by sequence number; at most
``window`` of them (enquire_link and unbind aside) may wait for their responses at once.

No clock is read: every call that cares about time takes ``now`` (seconds, any epoch).
``enquire_link_due(now)`` says when the link has been quiet for ``enquire_interval``;
``expired(now)`` pops the requests that waited longer than ``response_timeout``.
"""

from __future__ import annotations

from enum import Enum

from .base import RESPONSE_BIT, Pdu
from .codec import PduError, encode
from .commands import COMMANDS, GenericNack
from .framing import Framer
from .status import CommandStatus

__all__ = ["REQUESTS", "Role", "Session", "SessionError", "State"]


class Role(Enum):
    ESME = "esme"
    SMSC = "smsc"


class State(Enum):
    OPEN = "open"
    BOUND_TX = "bound_tx"
    BOUND_RX = "bound_rx"
    BOUND_TRX = "bound_trx"
    UNBOUND = "unbound"
    CLOSED = "closed"


ESME, SMSC = Role.ESME, Role.SMSC
OPEN, TX, RX, TRX = State.OPEN, State.BOUND_TX, State.BOUND_RX, State.BOUND_TRX
BOUND = frozenset({TX, RX, TRX})
SENDS = frozenset({TX, TRX})  # ESME may submit
RECEIVES = frozenset({RX, TRX})  # SMSC may deliver

# request name -> {sender role: states in which that role may send it}
REQUESTS: dict[str, dict[Role, frozenset[State]]] = {
    "bind_transmitter": {ESME: frozenset({OPEN})},
    "bind_receiver": {ESME: frozenset({OPEN})},
    "bind_transceiver": {ESME: frozenset({OPEN})},
    "outbind": {SMSC: frozenset({OPEN})},
    "unbind": {ESME: BOUND, SMSC: BOUND},
    "enquire_link": {ESME: BOUND, SMSC: BOUND},
    "submit_sm": {ESME: SENDS},
    "submit_multi": {ESME: SENDS},
    "query_sm": {ESME: SENDS},
    "cancel_sm": {ESME: SENDS},
    "replace_sm": {ESME: SENDS},
    "deliver_sm": {SMSC: RECEIVES},
    "alert_notification": {SMSC: RECEIVES},
    "data_sm": {ESME: SENDS, SMSC: RECEIVES},
}
_BINDS = {"bind_transmitter_resp": TX, "bind_receiver_resp": RX, "bind_transceiver_resp": TRX}
_OUTSIDE_WINDOW = frozenset({"enquire_link", "unbind"})
_MAX_SEQUENCE = 0x7FFFFFFF  # §5.1.4: 0x00000001 to 0x7FFFFFFF


class SessionError(Exception):
    """A PDU not allowed now. ``status`` is what to answer a received request with
    (None: nothing to answer); ``pdu`` is the offending PDU when there is one."""

    def __init__(self, message: str, status: int | None = None, pdu: Pdu | None = None):
        super().__init__(message)
        self.status = status
        self.pdu = pdu


class Session:
    """One end of an SMPP session: ``receive_data``/``next_event`` in, ``send`` out."""

    def __init__(
        self,
        role: Role,
        *,
        window: int = 10,
        enquire_interval: float = 30.0,
        response_timeout: float = 10.0,
        now: float = 0.0,
    ) -> None:
        self.role = role
        self.state = State.OPEN
        self.window = window
        self.enquire_interval = enquire_interval
        self.response_timeout = response_timeout
        self.outstanding: dict[int, tuple[Pdu, float]] = {}  # our requests awaiting resp
        self._outside: set[int] = set()  # sequence numbers of those outside the window
        self.unanswered: dict[int, Pdu] = {}  # peer requests we owe a response
        self.last_received = now
        self._seq = 0
        self._framer = Framer()

    # --- outgoing -----------------------------------------------------------------------

    def assign(self, pdu: Pdu) -> Pdu:
        """``pdu`` with the next sequence number if it is a request without one."""
        if pdu.is_response or pdu.sequence_number:
            return pdu
        self._seq = self._seq % _MAX_SEQUENCE + 1
        return pdu.with_sequence(self._seq)

    def send(self, pdu: Pdu, now: float = 0.0) -> bytes:
        """Check ``pdu`` against the state table, record it, and return its bytes."""
        if self.state is State.CLOSED:
            raise SessionError("session is closed", pdu=pdu)
        pdu = self.assign(pdu)
        if pdu.is_response:
            self._send_response(pdu)
        else:
            allowed = REQUESTS.get(pdu.name, {}).get(self.role, frozenset())
            if self.state not in allowed:
                raise SessionError(f"{self.role.value} may not send {pdu.name} now", pdu=pdu)
            if pdu.name in _OUTSIDE_WINDOW:
                self._outside.add(pdu.sequence_number)
            elif self.in_window >= self.window:
                raise SessionError("window full", pdu=pdu)
            self.outstanding[pdu.sequence_number] = (pdu, now)
        return encode(pdu)

    def _send_response(self, pdu: Pdu) -> None:
        if pdu.command_id == GenericNack.command_id:
            self.unanswered.pop(pdu.sequence_number, None)
            return
        request = self.unanswered.get(pdu.sequence_number)
        if request is None or request.command_id | RESPONSE_BIT != pdu.command_id:
            raise SessionError(f"{pdu.name} answers no pending request", pdu=pdu)
        del self.unanswered[pdu.sequence_number]
        self._after_response(pdu)

    def reject(self, error: SessionError | PduError) -> bytes:
        """Bytes answering a refused request (§2.9, §3.3.3): its own ``*_resp`` carrying
        the status, or generic_nack when the header itself (length, id) was bad."""
        status = error.status if error.status is not None else CommandStatus.ESME_RSYSERR
        if isinstance(error, PduError):
            seq, command_id = error.sequence_number or 0, error.command_id or 0
        else:
            pdu = error.pdu
            seq, command_id = (pdu.sequence_number, pdu.command_id) if pdu else (0, 0)
        resp = COMMANDS.get(command_id | RESPONSE_BIT)
        header_fault = status in (CommandStatus.ESME_RINVCMDLEN, CommandStatus.ESME_RINVCMDID)
        if command_id & RESPONSE_BIT or resp is None or header_fault:
            resp = GenericNack
        self.unanswered.pop(seq, None)
        return encode(resp(sequence_number=seq, command_status=status))

    # --- incoming -----------------------------------------------------------------------

    def receive_data(self, data: bytes, now: float = 0.0) -> None:
        if data:
            self.last_received = now
        self._framer.feed(data)

    def next_event(self) -> Pdu | None:
        """The next received PDU, or None. Raises PduError for undecodable input and
        SessionError for a PDU the state table refuses."""
        pdu = self._framer.next_pdu()
        if pdu is None:
            return None
        if pdu.is_response:
            entry = self.outstanding.pop(pdu.sequence_number, None)
            if pdu.command_id == GenericNack.command_id:
                return pdu
            if entry is None or entry[0].command_id | RESPONSE_BIT != pdu.command_id:
                raise SessionError(f"unexpected {pdu.name}", None, pdu)
            self._after_response(pdu)
            return pdu
        peer = Role.SMSC if self.role is Role.ESME else Role.ESME
        if self.state not in REQUESTS.get(pdu.name, {}).get(peer, frozenset()):
            raise SessionError(f"{pdu.name} not allowed now", CommandStatus.ESME_RINVBNDSTS, pdu)
        self.unanswered[pdu.sequence_number] = pdu
        return pdu

    def _after_response(self, resp: Pdu) -> None:
        """State changes brought by a response, whichever end sent it."""
        if resp.name in _BINDS and resp.command_status == 0 and self.state is State.OPEN:
            self.state = _BINDS[resp.name]
        elif resp.name == "unbind_resp":
            self.state = State.UNBOUND

    # --- time and teardown --------------------------------------------------------------

    @property
    def in_window(self) -> int:
        # Counted, not walked: it is asked before every submit. The requests outside the
        # window (an enquire_link, an unbind) are a handful; forget those answered.
        if self._outside:
            self._outside = {seq for seq in self._outside if seq in self.outstanding}
        return len(self.outstanding) - len(self._outside)

    def enquire_link_due(self, now: float) -> bool:
        """True when bound, quiet for ``enquire_interval``, and no enquire_link pending."""
        pending = any(p.name == "enquire_link" for p, _ in self.outstanding.values())
        quiet = now - self.last_received >= self.enquire_interval
        return self.state in BOUND and quiet and not pending

    def expired(self, now: float) -> list[Pdu]:
        """Remove and return our requests that waited over ``response_timeout``."""
        late = [s for s, (_, t) in self.outstanding.items() if now - t >= self.response_timeout]
        return [self.outstanding.pop(s)[0] for s in late]

    def next_deadline(self) -> float | None:
        """The earliest time at which ``expired`` or ``enquire_link_due`` may change."""
        times = [t + self.response_timeout for _, t in self.outstanding.values()]
        if self.state in BOUND:
            times.append(self.last_received + self.enquire_interval)
        return min(times, default=None)

    def close(self) -> None:
        self.state = State.CLOSED
