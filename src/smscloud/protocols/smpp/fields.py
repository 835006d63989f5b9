"""Wire types of mandatory PDU fields (SMPP 3.4 §3.1) and the field declarators.

A PDU class declares each body field with one of ``int1``/``int2``/``int4``/``cstr``/
``short_message``/``dest_list``/``unsuccess_list``; the codec walks those declarations, so
the PDU classes in ``commands.py`` are the single table both directions follow.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .status import CommandStatus

__all__ = [
    "DestAddress",
    "DistributionList",
    "Kind",
    "UnsuccessSme",
    "Wire",
    "cstr",
    "dest_list",
    "int1",
    "int2",
    "int4",
    "short_message",
    "unsuccess_list",
    "validate",
]

S = CommandStatus


class Kind(Enum):
    INT1 = 1
    INT2 = 2
    INT4 = 4
    CSTR = 5  # C-Octet String, NUL terminated (§3.1)
    SM = 6  # sm_length (1 octet) then short_message (§5.2.21, §5.2.22)
    DESTS = 7  # number_of_dests then dest_address list (§4.5.1.1)
    UNSUCCESS = 8  # no_unsuccess then unsuccess_sme list (§4.5.2)


@dataclass(frozen=True, slots=True)
class Wire:
    """How one mandatory field travels; ``size`` of a C-string counts its NUL (§3.1)."""

    kind: Kind
    size: int = 0
    fixed: bool = False  # C-string that is empty or exactly size - 1 long (times, §7.1)
    status: int = S.ESME_RINVCMDLEN  # command_status to answer when this field is bad


def _field(default: Any, wire: Wire) -> Any:
    return dataclasses.field(default=default, metadata={"wire": wire})


def int1(status: int = S.ESME_RINVCMDLEN) -> Any:
    return _field(0, Wire(Kind.INT1, 1, status=status))


def int2() -> Any:
    return _field(0, Wire(Kind.INT2, 2))


def int4() -> Any:
    return _field(0, Wire(Kind.INT4, 4))


def cstr(size: int, status: int = S.ESME_RINVCMDLEN, *, fixed: bool = False) -> Any:
    return _field("", Wire(Kind.CSTR, size, fixed, status))


def short_message() -> Any:
    # sm_length is one octet and §5.2.21 caps it at 254.
    return _field(b"", Wire(Kind.SM, 254, status=S.ESME_RINVMSGLEN))


def dest_list() -> Any:
    return _field((), Wire(Kind.DESTS, 254, status=S.ESME_RINVNUMDESTS))


def unsuccess_list() -> Any:
    return _field((), Wire(Kind.UNSUCCESS, 255))


@dataclass(frozen=True, slots=True, kw_only=True)
class DestAddress:
    """An SME address in submit_multi's dest_address list (dest_flag 1, §4.5.1.1)."""

    ton: int = 0
    npi: int = 0
    address: str = ""

    def __post_init__(self) -> None:
        _check_int(self.ton, 1, "ton")
        _check_int(self.npi, 1, "npi")
        _check_cstr(self.address, 21, "address")


@dataclass(frozen=True, slots=True)
class DistributionList:
    """A distribution list name in submit_multi's dest_address list (dest_flag 2)."""

    name: str = ""

    def __post_init__(self) -> None:
        _check_cstr(self.name, 21, "name")


@dataclass(frozen=True, slots=True, kw_only=True)
class UnsuccessSme:
    """One failed destination in submit_multi_resp (§4.5.2)."""

    ton: int = 0
    npi: int = 0
    address: str = ""
    error_status_code: int = 0

    def __post_init__(self) -> None:
        _check_int(self.ton, 1, "ton")
        _check_int(self.npi, 1, "npi")
        _check_cstr(self.address, 21, "address")
        _check_int(self.error_status_code, 4, "error_status_code")


def _check_int(value: object, size: int, name: str) -> None:
    if not isinstance(value, int) or not 0 <= value < 1 << (8 * size):
        raise ValueError(f"{name}: {value!r} is not a {size}-octet unsigned integer")


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _check_cstr(value: object, size: int, name: str, fixed: bool = False) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected str")
    if "\0" in value or not (value.isascii() or _latin1(value)):
        raise ValueError(f"{name}: C-strings carry Latin-1 text without NUL")
    if len(value) > size - 1 or (fixed and len(value) not in (0, size - 1)):
        raise ValueError(f"{name}: {len(value)} characters do not fit {size} octets")


def validate(name: str, wire: Wire, value: object) -> None:
    """Raise ValueError unless ``value`` can be encoded as ``wire``."""
    if wire.kind in (Kind.INT1, Kind.INT2, Kind.INT4):
        _check_int(value, wire.size, name)
    elif wire.kind is Kind.CSTR:
        _check_cstr(value, wire.size, name, wire.fixed)
    elif wire.kind is Kind.SM:
        if not isinstance(value, bytes) or len(value) > wire.size:
            raise ValueError(f"{name}: at most {wire.size} bytes")
    else:
        dests = (DestAddress, DistributionList)
        allowed: tuple[type, ...] = dests if wire.kind is Kind.DESTS else (UnsuccessSme,)
        if not isinstance(value, tuple) or len(value) > wire.size:
            raise ValueError(f"{name}: expected a tuple of at most {wire.size} entries")
        if not all(isinstance(v, allowed) for v in value):
            raise ValueError(f"{name}: bad entry type")
