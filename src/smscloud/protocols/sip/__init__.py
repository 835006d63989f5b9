"""Sans-IO SIP (RFC 3261) for voice calls: messages, Digest, SDP, and both ends of a call.

``OutboundCall`` places one call through a trunk (the platform's side); ``Answerer`` answers
many (the built-in phone simulator's side). Neither opens a socket or reads a clock: datagrams
go in with ``receive(datagram, source, now)``, timers run on ``poll(now)`` at
``next_deadline()``, and what to send comes out of ``datagrams_to_send()`` as
``(bytes, (host, port))`` pairs. Events are frozen dataclasses (``events``); each end's state
table is in ``uac_states`` and ``uas_states``. Lower layers: ``message`` (parse and serialize),
``headers`` (URIs, Via, CSeq, tags), ``digest`` (RFC 2617 / RFC 8760), ``sdp`` (G.711 offer
and answer), ``timers`` (UDP retransmission, §17), ``dialog`` (in-dialog requests, responses).
"""

from __future__ import annotations

from .answerer import Answerer, DigestRealm
from .digest import Challenge, DigestError, authorization, parse_challenge
from .events import (
    Answered,
    AnswererEvent,
    CallCancelled,
    CallConfirmed,
    CallEnded,
    CallEvent,
    CallStateError,
    Ended,
    Failed,
    IncomingCall,
    Ringing,
    Trying,
)
from .headers import cseq, name_addr, parse_uri, parse_via, tag_of, uri_user
from .message import SipMessage, SipParseError, SipRequest, SipResponse, parse
from .sdp import (
    PCMA,
    PCMU,
    TELEPHONE_EVENT,
    MediaDescription,
    SdpError,
    build_answer,
    build_offer,
    parse_answer,
)
from .timers import T1, T2, T4, Address, Datagram, Timers
from .uac import OutboundCall, Trunk
from .uac_states import (
    NO_ANSWER,
    NO_RESPONSE,
    OUTBOUND_TRANSITIONS,
    UNUSABLE_ANSWER,
    OutboundState,
    OutboundTrigger,
)
from .uas import InboundCall
from .uas_states import INBOUND_TRANSITIONS, InboundState, InboundTrigger

__all__ = [
    "INBOUND_TRANSITIONS",
    "NO_ANSWER",
    "NO_RESPONSE",
    "OUTBOUND_TRANSITIONS",
    "PCMA",
    "PCMU",
    "T1",
    "T2",
    "T4",
    "TELEPHONE_EVENT",
    "UNUSABLE_ANSWER",
    "Address",
    "Answered",
    "Answerer",
    "AnswererEvent",
    "CallCancelled",
    "CallConfirmed",
    "CallEnded",
    "CallEvent",
    "CallStateError",
    "Challenge",
    "Datagram",
    "DigestError",
    "DigestRealm",
    "Ended",
    "Failed",
    "InboundCall",
    "InboundState",
    "InboundTrigger",
    "IncomingCall",
    "MediaDescription",
    "OutboundCall",
    "OutboundState",
    "OutboundTrigger",
    "Ringing",
    "SdpError",
    "SipMessage",
    "SipParseError",
    "SipRequest",
    "SipResponse",
    "Timers",
    "Trunk",
    "Trying",
    "authorization",
    "build_answer",
    "build_offer",
    "cseq",
    "name_addr",
    "parse",
    "parse_answer",
    "parse_challenge",
    "parse_uri",
    "parse_via",
    "tag_of",
    "uri_user",
]
