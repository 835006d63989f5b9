"""Sans-IO SMPP 3.4: PDUs in one declarative table, codec, framing, receipts, text.

Bytes in, PDUs out, no sockets: ``Framer.feed()`` then iterate, ``encode(pdu)`` to send.
"""

from __future__ import annotations

from .base import Pdu
from .codec import MAX_COMMAND_LENGTH, PduError, decode, encode
from .commands import (
    ALL_PDUS,
    COMMANDS,
    AlertNotification,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    CancelSm,
    CancelSmResp,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Outbind,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
)
from .fields import DestAddress, DistributionList, UnsuccessSme
from .framing import Framer
from .receipt import MessageState, Receipt, format_receipt, parse_receipt, same_message_id
from .session import Role, Session, SessionError, State
from .status import CommandStatus, is_temporary, is_throttling
from .tlv import Tag
from .udh import Concat, Part, join, parse_udh, split

__all__ = [
    "ALL_PDUS",
    "COMMANDS",
    "MAX_COMMAND_LENGTH",
    "AlertNotification",
    "BindReceiver",
    "BindReceiverResp",
    "BindTransceiver",
    "BindTransceiverResp",
    "BindTransmitter",
    "BindTransmitterResp",
    "CancelSm",
    "CancelSmResp",
    "CommandStatus",
    "Concat",
    "DataSm",
    "DataSmResp",
    "DeliverSm",
    "DeliverSmResp",
    "DestAddress",
    "DistributionList",
    "EnquireLink",
    "EnquireLinkResp",
    "Framer",
    "GenericNack",
    "MessageState",
    "Outbind",
    "Part",
    "Pdu",
    "PduError",
    "QuerySm",
    "QuerySmResp",
    "Receipt",
    "ReplaceSm",
    "ReplaceSmResp",
    "Role",
    "Session",
    "SessionError",
    "State",
    "SubmitMulti",
    "SubmitMultiResp",
    "SubmitSm",
    "SubmitSmResp",
    "Tag",
    "Unbind",
    "UnbindResp",
    "UnsuccessSme",
    "decode",
    "encode",
    "format_receipt",
    "is_temporary",
    "is_throttling",
    "join",
    "parse_receipt",
    "parse_udh",
    "same_message_id",
    "split",
]
