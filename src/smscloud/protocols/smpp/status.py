"""SMPP 3.4 command_status values (§5.1.3) and their retry classification."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["CommandStatus", "is_temporary", "is_throttling"]


class CommandStatus(IntEnum):
    """Error codes of SMPP 3.4 §5.1.3, Table 5-2."""

    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RINVPRTFLG = 0x06
    ESME_RINVREGDLVFLG = 0x07
    ESME_RSYSERR = 0x08
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVMSGID = 0x0C
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RCANCELFAIL = 0x11
    ESME_RREPLACEFAIL = 0x13
    ESME_RMSGQFUL = 0x14
    ESME_RINVSERTYP = 0x15
    ESME_RINVNUMDESTS = 0x33
    ESME_RINVDLNAME = 0x34
    ESME_RINVDESTFLAG = 0x40
    ESME_RINVSUBREP = 0x42
    ESME_RINVESMCLASS = 0x43
    ESME_RCNTSUBDL = 0x44
    ESME_RSUBMITFAIL = 0x45
    ESME_RINVSRCTON = 0x48
    ESME_RINVSRCNPI = 0x49
    ESME_RINVDSTTON = 0x50
    ESME_RINVDSTNPI = 0x51
    ESME_RINVSYSTYP = 0x53
    ESME_RINVREPFLAG = 0x54
    ESME_RINVNUMMSGS = 0x55
    ESME_RTHROTTLED = 0x58
    ESME_RINVSCHED = 0x61
    ESME_RINVEXPIRY = 0x62
    ESME_RINVDFTMSGID = 0x63
    ESME_RX_T_APPN = 0x64
    ESME_RX_P_APPN = 0x65
    ESME_RX_R_APPN = 0x66
    ESME_RQUERYFAIL = 0x67
    ESME_RINVOPTPARSTREAM = 0xC0
    ESME_ROPTPARNOTALLWD = 0xC1
    ESME_RINVPARLEN = 0xC2
    ESME_RMISSINGOPTPARAM = 0xC3
    ESME_RINVOPTPARAMVAL = 0xC4
    ESME_RDELIVERYFAILURE = 0xFE
    ESME_RUNKNOWNERR = 0xFF


# The spec names only two statuses as "try later": ESME_RX_T_APPN ("ESME Receiver Temporary
# App Error", §5.1.3) and the congestion pair RMSGQFUL/RTHROTTLED (§5.1.3, and §2.10 on
# throttling). RSYSERR is an SMSC-side fault, and RINVBNDSTS means the bind was lost; both
# succeed after a rebind or a pause. RUNKNOWNERR is retried because carriers use it for
# transient faults. Every other code, including vendor codes 0x400-0x4FF and
# RDELIVERYFAILURE (whose real cause is in the delivery_failure_reason TLV, §5.3.2.33),
# is treated as permanent so that a bad message is never retried forever.
_TEMPORARY = frozenset(
    {
        CommandStatus.ESME_RSYSERR,
        CommandStatus.ESME_RINVBNDSTS,
        CommandStatus.ESME_RMSGQFUL,
        CommandStatus.ESME_RTHROTTLED,
        CommandStatus.ESME_RX_T_APPN,
        CommandStatus.ESME_RUNKNOWNERR,
    }
)
_THROTTLING = frozenset({CommandStatus.ESME_RMSGQFUL, CommandStatus.ESME_RTHROTTLED})


def is_temporary(status: int) -> bool:
    """True if a request refused with ``status`` may succeed when sent again later."""
    return status in _TEMPORARY


def is_throttling(status: int) -> bool:
    """True if the peer asks us to slow down (queue full or throttled, §5.1.3)."""
    return status in _THROTTLING
