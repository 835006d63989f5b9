"""Every SMPP 3.4 PDU, declared once (§4). Field order here is wire order.

Each class is a frozen dataclass whose body fields carry their wire type (``fields.py``);
``codec.encode``/``codec.decode`` follow these declarations, as Kannel's ``smpp_pdu.def``.
Header fields (``sequence_number``, ``command_status``) and ``tlvs`` live on ``base.Pdu``.
Sizes of C-strings count the NUL, as the spec's "Var. max" column does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .base import Pdu
from .fields import (
    DestAddress,
    DistributionList,
    UnsuccessSme,
    cstr,
    dest_list,
    int1,
    short_message,
    unsuccess_list,
)
from .status import CommandStatus as S

# --- session management, §4.1 -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Bind(Pdu):
    system_id: str = cstr(16, S.ESME_RINVSYSID)
    password: str = cstr(9, S.ESME_RINVPASWD)
    system_type: str = cstr(13, S.ESME_RINVSYSTYP)
    interface_version: int = int1()
    addr_ton: int = int1()
    addr_npi: int = int1()
    address_range: str = cstr(41)


@dataclass(frozen=True, slots=True, kw_only=True)
class _BindResp(Pdu):
    system_id: str = cstr(16, S.ESME_RINVSYSID)


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransmitter(_Bind):
    command_id: ClassVar[int] = 0x00000002


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransmitterResp(_BindResp):
    command_id: ClassVar[int] = 0x80000002


@dataclass(frozen=True, slots=True, kw_only=True)
class BindReceiver(_Bind):
    command_id: ClassVar[int] = 0x00000001


@dataclass(frozen=True, slots=True, kw_only=True)
class BindReceiverResp(_BindResp):
    command_id: ClassVar[int] = 0x80000001


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransceiver(_Bind):
    command_id: ClassVar[int] = 0x00000009


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransceiverResp(_BindResp):
    command_id: ClassVar[int] = 0x80000009


@dataclass(frozen=True, slots=True, kw_only=True)
class Outbind(Pdu):
    command_id: ClassVar[int] = 0x0000000B
    system_id: str = cstr(16, S.ESME_RINVSYSID)
    password: str = cstr(9, S.ESME_RINVPASWD)


@dataclass(frozen=True, slots=True, kw_only=True)
class Unbind(Pdu):
    command_id: ClassVar[int] = 0x00000006


@dataclass(frozen=True, slots=True, kw_only=True)
class UnbindResp(Pdu):
    command_id: ClassVar[int] = 0x80000006


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquireLink(Pdu):
    command_id: ClassVar[int] = 0x00000015


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquireLinkResp(Pdu):
    command_id: ClassVar[int] = 0x80000015


@dataclass(frozen=True, slots=True, kw_only=True)
class GenericNack(Pdu):
    command_id: ClassVar[int] = 0x80000000


# --- message submission and delivery, §4.4-§4.7 ------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Source(Pdu):
    service_type: str = cstr(6, S.ESME_RINVSERTYP)
    source_addr_ton: int = int1(S.ESME_RINVSRCTON)
    source_addr_npi: int = int1(S.ESME_RINVSRCNPI)
    source_addr: str = cstr(21, S.ESME_RINVSRCADR)


@dataclass(frozen=True, slots=True, kw_only=True)
class _ShortMessage(_Source):
    dest_addr_ton: int = int1(S.ESME_RINVDSTTON)
    dest_addr_npi: int = int1(S.ESME_RINVDSTNPI)
    destination_addr: str = cstr(21, S.ESME_RINVDSTADR)
    esm_class: int = int1(S.ESME_RINVESMCLASS)
    protocol_id: int = int1()
    priority_flag: int = int1(S.ESME_RINVPRTFLG)
    schedule_delivery_time: str = cstr(17, S.ESME_RINVSCHED, fixed=True)
    validity_period: str = cstr(17, S.ESME_RINVEXPIRY, fixed=True)
    registered_delivery: int = int1(S.ESME_RINVREGDLVFLG)
    replace_if_present_flag: int = int1(S.ESME_RINVREPFLAG)
    data_coding: int = int1()
    sm_default_msg_id: int = int1(S.ESME_RINVDFTMSGID)
    short_message: bytes = short_message()


@dataclass(frozen=True, slots=True, kw_only=True)
class _MessageIdResp(Pdu):
    message_id: str = cstr(65, S.ESME_RINVMSGID)


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitSm(_ShortMessage):
    command_id: ClassVar[int] = 0x00000004


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitSmResp(_MessageIdResp):
    command_id: ClassVar[int] = 0x80000004


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverSm(_ShortMessage):
    command_id: ClassVar[int] = 0x00000005


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverSmResp(_MessageIdResp):
    command_id: ClassVar[int] = 0x80000005


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitMulti(_Source):
    command_id: ClassVar[int] = 0x00000021
    dest_addresses: tuple[DestAddress | DistributionList, ...] = dest_list()
    esm_class: int = int1(S.ESME_RINVESMCLASS)
    protocol_id: int = int1()
    priority_flag: int = int1(S.ESME_RINVPRTFLG)
    schedule_delivery_time: str = cstr(17, S.ESME_RINVSCHED, fixed=True)
    validity_period: str = cstr(17, S.ESME_RINVEXPIRY, fixed=True)
    registered_delivery: int = int1(S.ESME_RINVREGDLVFLG)
    replace_if_present_flag: int = int1(S.ESME_RINVREPFLAG)
    data_coding: int = int1()
    sm_default_msg_id: int = int1(S.ESME_RINVDFTMSGID)
    short_message: bytes = short_message()


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitMultiResp(_MessageIdResp):
    command_id: ClassVar[int] = 0x80000021
    unsuccess_smes: tuple[UnsuccessSme, ...] = unsuccess_list()


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSm(Pdu):
    command_id: ClassVar[int] = 0x00000103
    service_type: str = cstr(6, S.ESME_RINVSERTYP)
    source_addr_ton: int = int1(S.ESME_RINVSRCTON)
    source_addr_npi: int = int1(S.ESME_RINVSRCNPI)
    source_addr: str = cstr(65, S.ESME_RINVSRCADR)
    dest_addr_ton: int = int1(S.ESME_RINVDSTTON)
    dest_addr_npi: int = int1(S.ESME_RINVDSTNPI)
    destination_addr: str = cstr(65, S.ESME_RINVDSTADR)
    esm_class: int = int1(S.ESME_RINVESMCLASS)
    registered_delivery: int = int1(S.ESME_RINVREGDLVFLG)
    data_coding: int = int1()


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSmResp(_MessageIdResp):
    command_id: ClassVar[int] = 0x80000103


# --- ancillary operations, §4.8-§4.12 -----------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class QuerySm(Pdu):
    command_id: ClassVar[int] = 0x00000003
    message_id: str = cstr(65, S.ESME_RINVMSGID)
    source_addr_ton: int = int1(S.ESME_RINVSRCTON)
    source_addr_npi: int = int1(S.ESME_RINVSRCNPI)
    source_addr: str = cstr(21, S.ESME_RINVSRCADR)


@dataclass(frozen=True, slots=True, kw_only=True)
class QuerySmResp(_MessageIdResp):
    command_id: ClassVar[int] = 0x80000003
    final_date: str = cstr(17, fixed=True)
    message_state: int = int1()
    error_code: int = int1()


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelSm(Pdu):
    command_id: ClassVar[int] = 0x00000008
    service_type: str = cstr(6, S.ESME_RINVSERTYP)
    message_id: str = cstr(65, S.ESME_RINVMSGID)
    source_addr_ton: int = int1(S.ESME_RINVSRCTON)
    source_addr_npi: int = int1(S.ESME_RINVSRCNPI)
    source_addr: str = cstr(21, S.ESME_RINVSRCADR)
    dest_addr_ton: int = int1(S.ESME_RINVDSTTON)
    dest_addr_npi: int = int1(S.ESME_RINVDSTNPI)
    destination_addr: str = cstr(21, S.ESME_RINVDSTADR)


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelSmResp(Pdu):
    command_id: ClassVar[int] = 0x80000008


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceSm(Pdu):
    command_id: ClassVar[int] = 0x00000007
    message_id: str = cstr(65, S.ESME_RINVMSGID)
    source_addr_ton: int = int1(S.ESME_RINVSRCTON)
    source_addr_npi: int = int1(S.ESME_RINVSRCNPI)
    source_addr: str = cstr(21, S.ESME_RINVSRCADR)
    schedule_delivery_time: str = cstr(17, S.ESME_RINVSCHED, fixed=True)
    validity_period: str = cstr(17, S.ESME_RINVEXPIRY, fixed=True)
    registered_delivery: int = int1(S.ESME_RINVREGDLVFLG)
    sm_default_msg_id: int = int1(S.ESME_RINVDFTMSGID)
    short_message: bytes = short_message()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceSmResp(Pdu):
    command_id: ClassVar[int] = 0x80000007


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertNotification(Pdu):
    command_id: ClassVar[int] = 0x00000102
    source_addr_ton: int = int1(S.ESME_RINVSRCTON)
    source_addr_npi: int = int1(S.ESME_RINVSRCNPI)
    source_addr: str = cstr(65, S.ESME_RINVSRCADR)
    esme_addr_ton: int = int1(S.ESME_RINVDSTTON)
    esme_addr_npi: int = int1(S.ESME_RINVDSTNPI)
    esme_addr: str = cstr(65, S.ESME_RINVDSTADR)


# Every concrete class above; the private bodies (_Bind, _Source...) have command_id 0.
ALL_PDUS: tuple[type[Pdu], ...] = tuple(
    c
    for c in list(globals().values())
    if isinstance(c, type) and issubclass(c, Pdu) and c.command_id
)
COMMANDS: dict[int, type[Pdu]] = {cls.command_id: cls for cls in ALL_PDUS}
