"""The answering side's state table (``uas.InboundCall``), for the built-in phone simulator.

Theory of operation
-------------------
An INVITE that the ``Answerer`` accepts (after a Digest challenge, if it asks for one) starts
an ``InboundCall`` in PROCEEDING with 100 Trying already sent (RFC 3261 §17.2.1), and is
reported as ``IncomingCall``. The driver then decides, as a phone would: ``ring`` sends 180
(RINGING), ``answer`` sends 200 with the SDP answer (ACCEPTED), ``reject`` sends a final
status such as 486, 404 or 480 (COMPLETED). A retransmitted INVITE gets the last response
again. The 200 is sent again at T1, 2·T1... up to T2 until the caller's ACK arrives
(§13.3.1.4: the 2xx is the UAS core's to retransmit), which CONFIRMS the call; with no ACK
for 64·T1 the call is ended with a BYE. A non-2xx final response is sent again on Timer G
until its ACK, or for Timer H (64·T1) at most (§17.2.1); then the call is TERMINATED.

A CANCEL matching the INVITE's branch is answered 200 (§9.2); before any final response it
also ends the INVITE with 487 (COMPLETED, reported as ``CallCancelled``), after one it changes
nothing. A BYE inside the dialog is answered 200 and TERMINATES the call (``CallEnded`` by
them). ``hangup`` sends our own BYE, retransmitted on Timer E/F (§17.1.2.2); before the
caller's ACK the BYE waits for it (CLOSING; §15: a callee MUST NOT send BYE before the ACK
or the 2xx's give-up). OPTIONS and INFO get 200, other requests 501, a second INVITE 500
before our final response (§14.2) and 488 after it (the session stays as it was).

In short (``INBOUND_TRANSITIONS`` is the whole of it)::

    PROCEEDING --ring--> RINGING --answer--> ACCEPTED --ACK--> CONFIRMED --BYE/hangup--> TERMINATED
    PROCEEDING, RINGING --reject, CANCEL--> COMPLETED --ACK, Timer H--> TERMINATED
    ACCEPTED --BYE, no ACK for 64·T1 (we BYE)--> TERMINATED
    ACCEPTED --hangup--> CLOSING --ACK (then our BYE), BYE, 64·T1--> TERMINATED
"""

from __future__ import annotations

from enum import Enum

__all__ = ["INBOUND_TRANSITIONS", "InboundState", "InboundTrigger"]


class InboundState(Enum):
    PROCEEDING = "proceeding"  # INVITE received, 100 sent
    RINGING = "ringing"  # 180 sent
    ACCEPTED = "accepted"  # 2xx sent, waiting for its ACK
    CLOSING = "closing"  # 2xx sent, we hung up: BYE once the ACK comes
    CONFIRMED = "confirmed"  # 2xx ACKed: the call is up
    COMPLETED = "completed"  # a final response 300-699 sent, waiting for its ACK
    TERMINATED = "terminated"


class InboundTrigger(Enum):
    RING = "ring"  # ring()
    ANSWER = "answer"  # answer()
    REJECT = "reject"  # reject()
    CANCEL = "cancel"  # a CANCEL before our final response
    ACK = "ack"  # the ACK for our final response
    BYE = "bye"  # a BYE from the caller
    HANGUP = "hangup"  # hangup()
    TIMEOUT = "timeout"  # no ACK: 64·T1 for a 2xx, Timer H for others


S, T = InboundState, InboundTrigger
_UNANSWERED = {T.RING: S.RINGING, T.ANSWER: S.ACCEPTED, T.REJECT: S.COMPLETED}
INBOUND_TRANSITIONS: dict[InboundState, dict[InboundTrigger, InboundState]] = {
    S.PROCEEDING: {**_UNANSWERED, T.CANCEL: S.COMPLETED},
    S.RINGING: {**_UNANSWERED, T.CANCEL: S.COMPLETED},
    S.ACCEPTED: {
        T.ACK: S.CONFIRMED,
        T.BYE: S.TERMINATED,
        T.HANGUP: S.CLOSING,
        T.TIMEOUT: S.TERMINATED,  # §13.3.1.4: no ACK, end the call with a BYE
    },
    S.CLOSING: {
        T.ACK: S.TERMINATED,
        T.BYE: S.TERMINATED,
        T.HANGUP: S.CLOSING,
        T.TIMEOUT: S.TERMINATED,
    },
    S.CONFIRMED: {T.BYE: S.TERMINATED, T.HANGUP: S.TERMINATED},
    S.COMPLETED: {T.ACK: S.TERMINATED, T.TIMEOUT: S.TERMINATED, T.HANGUP: S.COMPLETED},
    S.TERMINATED: {T.BYE: S.TERMINATED, T.HANGUP: S.TERMINATED},
}
