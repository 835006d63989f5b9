"""The calling side's state table (``uac.OutboundCall``), and what its failures mean.

Theory of operation
-------------------
``start`` sends the INVITE with an SDP offer and enters CALLING. Over UDP the INVITE client
transaction (RFC 3261 §17.1.1.2) sends it again at T1, 3·T1, 7·T1... (Timer A) until any
response comes; with none for 64·T1 (Timer B) the call FAILS with status 0. A provisional
response moves it to PROCEEDING: 100 is reported as ``Trying``, the first 180/183 as
``Ringing``. How long it may ring is ours to decide: ``no_answer_timeout`` counts from the
first 180/183 (or from the first provisional, if the trunk never says it rings); when it runs
out we CANCEL the INVITE (§9.1) and, once the trunk answers it with 487, the call FAILS with
status 408 (our no-answer). A 2xx ANSWERS the call: its ACK is a request of its own with a new
branch (§13.2.2.4), sent again for every retransmitted 2xx; the SDP answer says where RTP goes.
A final response of 300 or more is ACKed inside the transaction with the INVITE's branch
(§17.1.1.3), and ACKed again if it comes again while Timer D runs; it FAILS the call, except a
first 401/407 when we hold credentials: then the INVITE goes again with them (Digest, §22.2),
a new branch and the next CSeq, back in CALLING.

An answered call ENDS when we ``hangup`` (a BYE, sent again on Timer E until a response or
Timer F, §17.1.2.2) or when the trunk sends BYE (answered 200). Inside the dialog OPTIONS and
INFO get 200, other requests 501; requests outside it get 481 (§12.2.2). A request sent again
gets the same response (Timer J, §17.2.2). ``hangup`` before an answer cancels the INVITE.

Every datagram goes to the trunk (it is our outbound proxy, §8.1.2) except responses, which go
back where their request came from (RFC 3581 §4). Synthetic statuses in ``Failed``: 0 when
nothing answered the INVITE, 408 when our no-answer timer gave up, 488 when a 2xx carried no
usable SDP (ACKed, then BYE). Which failure a status means to the platform is not SIP's to
say: ``domain/voice_failures.py`` maps statuses to Tencent's failure codes.

In short (``OUTBOUND_TRANSITIONS`` is the whole of it)::

    IDLE --start--> CALLING --1xx--> PROCEEDING --2xx--> ANSWERED --hangup/BYE--> ENDED
    CALLING --2xx--> ANSWERED                      (no provisional response came first)
    CALLING, PROCEEDING --first 401/407--> CALLING (the INVITE again, with credentials)
    CALLING, PROCEEDING --3xx-6xx, 2xx without usable SDP--> FAILED;  CALLING --Timer B--> FAILED
    PROCEEDING --no-answer timer, hangup--> CANCELLING --487 (or any final), 64·T1--> FAILED
    CALLING --hangup--> CANCELLING                 (the CANCEL waits for a 1xx, §9.1)
    CANCELLING --2xx (it crossed our CANCEL)--> ENDED (ACK, then BYE, §15)
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "NO_ANSWER",
    "NO_RESPONSE",
    "OUTBOUND_TRANSITIONS",
    "UNUSABLE_ANSWER",
    "OutboundState",
    "OutboundTrigger",
]

NO_RESPONSE = 0  # Failed.status: the INVITE got no response at all (Timer B)
NO_ANSWER = 408  # Failed.status: our no-answer timer ran out (what 408 means in §21.4.9)
UNUSABLE_ANSWER = 488  # Failed.status: a 2xx whose SDP we cannot use (as 488, §21.4.26)


class OutboundState(Enum):
    IDLE = "idle"
    CALLING = "calling"  # INVITE sent, nothing heard (Timer A/B run)
    PROCEEDING = "proceeding"  # a provisional response came (the no-answer timer runs)
    CANCELLING = "cancelling"  # we gave up on the INVITE (CANCEL sent or waiting to be)
    ANSWERED = "answered"
    ENDED = "ended"
    FAILED = "failed"


class OutboundTrigger(Enum):
    START = "start"  # start()
    PROVISIONAL = "provisional"  # a 1xx to the INVITE
    CHALLENGE = "challenge"  # a first 401/407 we can answer with credentials
    ANSWER = "answer"  # a 2xx with a usable SDP answer
    BAD_ANSWER = "bad_answer"  # a 2xx without one
    REJECT = "reject"  # any other final response 300-699
    TIMEOUT = "timeout"  # Timer B, or 64·T1 after our CANCEL with no final response
    NO_ANSWER = "no_answer"  # our no-answer timer
    HANGUP = "hangup"  # hangup()
    BYE = "bye"  # a BYE from the far end


S, T = OutboundState, OutboundTrigger
_SETUP = {T.ANSWER: S.ANSWERED, T.BAD_ANSWER: S.FAILED, T.REJECT: S.FAILED}
OUTBOUND_TRANSITIONS: dict[OutboundState, dict[OutboundTrigger, OutboundState]] = {
    S.IDLE: {T.START: S.CALLING},
    S.CALLING: {
        T.PROVISIONAL: S.PROCEEDING,
        T.CHALLENGE: S.CALLING,
        **_SETUP,
        T.TIMEOUT: S.FAILED,
        T.HANGUP: S.CANCELLING,  # the CANCEL waits for a provisional response (§9.1)
    },
    S.PROCEEDING: {
        T.PROVISIONAL: S.PROCEEDING,
        T.CHALLENGE: S.CALLING,
        **_SETUP,
        T.NO_ANSWER: S.CANCELLING,
        T.HANGUP: S.CANCELLING,
    },
    S.CANCELLING: {
        T.PROVISIONAL: S.CANCELLING,
        **_SETUP,
        T.ANSWER: S.ENDED,  # answered as we gave up: ACK, then BYE (§15)
        T.TIMEOUT: S.FAILED,
        T.HANGUP: S.CANCELLING,
    },
    S.ANSWERED: {T.HANGUP: S.ENDED, T.BYE: S.ENDED},
    S.ENDED: {T.HANGUP: S.ENDED, T.BYE: S.ENDED},
    S.FAILED: {T.HANGUP: S.FAILED, T.BYE: S.FAILED},
}
