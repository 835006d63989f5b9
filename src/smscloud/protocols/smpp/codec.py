"""Encode and decode PDUs by walking the declarations in ``commands.py`` (SMPP 3.4 §3)."""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable
from typing import Any

from .base import RESPONSE_BIT, Pdu, body_fields
from .commands import COMMANDS
from .fields import DestAddress, DistributionList, Kind, UnsuccessSme, Wire
from .status import CommandStatus as S

__all__ = ["HEADER_LENGTH", "MAX_COMMAND_LENGTH", "PduError", "decode", "encode", "peek_header"]

HEADER = struct.Struct("!IIII")
HEADER_LENGTH = 16
# A 64 KiB message_payload (§5.3.2.32) plus its mandatory fields and other TLVs.
MAX_COMMAND_LENGTH = 0x10000 + 0x1000
_TLV_HEAD = struct.Struct("!HH")


class PduError(Exception):
    """A PDU that cannot be decoded; ``status`` is the command_status to answer with.

    ``command_id`` and ``sequence_number`` are set when the header was readable, so the
    caller can send the matching ``*_resp`` or a generic_nack (§3.3.3, §4.3).
    """

    def __init__(
        self,
        status: int,
        message: str,
        command_id: int | None = None,
        sequence_number: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.command_id = command_id
        self.sequence_number = sequence_number


def peek_header(data: bytes | bytearray | memoryview) -> tuple[int, int, int, int]:
    """(command_length, command_id, command_status, sequence_number) of a 16-octet header."""
    length, command_id, status, seq = HEADER.unpack_from(data, 0)
    return length, command_id, status, seq


# --- encoding -----------------------------------------------------------------------------


def _put_cstr(out: bytearray, value: str) -> None:
    out += value.encode("latin-1")
    out.append(0)


def _put(out: bytearray, wire: Wire, value: Any) -> None:
    kind = wire.kind
    if kind in (Kind.INT1, Kind.INT2, Kind.INT4):
        out += value.to_bytes(wire.size, "big")
    elif kind is Kind.CSTR:
        _put_cstr(out, value)
    elif kind is Kind.SM:
        out.append(len(value))
        out += value
    elif kind is Kind.DESTS:
        out.append(len(value))
        for dest in value:
            if isinstance(dest, DestAddress):
                out += bytes((1, dest.ton, dest.npi))  # dest_flag 1: SME address
                _put_cstr(out, dest.address)
            else:
                out.append(2)  # dest_flag 2: distribution list name
                _put_cstr(out, dest.name)
    else:
        out.append(len(value))
        for sme in value:
            out += bytes((sme.ton, sme.npi))
            _put_cstr(out, sme.address)
            out += sme.error_status_code.to_bytes(4, "big")


def _omit_body(pdu: Pdu) -> bool:
    # §4.1.1.2, §4.4.2 etc.: "The body is not returned if the command_status field contains
    # a non-zero value." We omit it only when nothing in it would be lost.
    if not pdu.is_response or pdu.command_status == 0 or pdu.tlvs:
        return False
    return all(
        getattr(pdu, f.name) == f.default for f in dataclasses.fields(pdu) if "wire" in f.metadata
    )


BodyWriter = Callable[[bytearray, Pdu], None]
_INT_FORMATS = {Kind.INT1: "B", Kind.INT2: "H", Kind.INT4: "I"}
_WRITERS: dict[type[Pdu], BodyWriter] = {}


def write_body_general(out: bytearray, pdu: Pdu) -> None:
    """The mandatory fields of ``pdu`` in wire order, one ``_put`` each (the reference)."""
    for name, wire in body_fields(type(pdu)):
        _put(out, wire, getattr(pdu, name))


def body_writer(cls: type[Pdu]) -> BodyWriter:
    """What writes the mandatory fields of a ``cls`` PDU: ``write_body_general`` unrolled.

    Walking the declarations for every PDU (a dispatch on each field's kind, a ``getattr``
    and a ``to_bytes`` per integer) cost a submit_sm more than all else in encoding it. The
    writer is generated once per class, as ``dataclasses`` generates ``__init__``: each
    run of integers is packed by one ``struct``, each C-string and short message written
    in line, lists through ``_put``. A property test holds it to the general writer.
    """
    writer = _WRITERS.get(cls)
    if writer is None:
        writer = _WRITERS[cls] = _compile_writer(cls)
    return writer


def _compile_writer(cls: type[Pdu]) -> BodyWriter:
    namespace: dict[str, Any] = {"_put": _put}
    lines = ["def write(out, pdu):", "    pass"]
    ints: list[tuple[str, Wire]] = []

    def pack_ints() -> None:
        if ints:
            packer = f"_pack{len(namespace)}"
            fmt = "!" + "".join(_INT_FORMATS[wire.kind] for _, wire in ints)
            namespace[packer] = struct.Struct(fmt).pack
            lines.append(f"    out += {packer}({', '.join(f'pdu.{n}' for n, _ in ints)})")
            ints.clear()

    for name, wire in body_fields(cls):
        if wire.kind in _INT_FORMATS:
            ints.append((name, wire))
            continue
        pack_ints()
        if wire.kind is Kind.CSTR:
            lines += [f"    out += pdu.{name}.encode('latin-1')", "    out.append(0)"]
        elif wire.kind is Kind.SM:
            lines += [f"    out.append(len(pdu.{name}))", f"    out += pdu.{name}"]
        else:  # lists of addresses or SMEs: rare, and written by the general code
            namespace[f"_wire_{name}"] = wire
            lines.append(f"    _put(out, _wire_{name}, pdu.{name})")
    pack_ints()
    exec("\n".join(lines), namespace)  # source made above from the declarations alone
    writer: BodyWriter = namespace["write"]
    return writer


def encode(pdu: Pdu) -> bytes:
    """The wire bytes of ``pdu`` (header included)."""
    body = bytearray()
    if not _omit_body(pdu):
        body_writer(type(pdu))(body, pdu)
        for tag, raw in pdu.tlvs:
            body += _TLV_HEAD.pack(tag, len(raw))
            body += raw
    length = HEADER_LENGTH + len(body)
    if length > MAX_COMMAND_LENGTH:
        raise ValueError(f"{pdu.name}: {length} octets exceed {MAX_COMMAND_LENGTH}")
    return HEADER.pack(length, pdu.command_id, pdu.command_status, pdu.sequence_number) + body


# --- decoding -----------------------------------------------------------------------------


class _Reader:
    __slots__ = ("buf", "command_id", "pos", "seq")

    def __init__(self, buf: bytes, command_id: int, seq: int) -> None:
        self.buf, self.pos, self.command_id, self.seq = buf, HEADER_LENGTH, command_id, seq

    def fail(self, status: int, message: str) -> PduError:
        return PduError(status, message, self.command_id, self.seq)

    def take(self, n: int, status: int = S.ESME_RINVCMDLEN) -> bytes:
        if self.pos + n > len(self.buf):
            raise self.fail(status, "body ends inside a mandatory field")
        chunk = self.buf[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def cstr(self, size: int, status: int, fixed: bool = False) -> str:
        end = self.buf.find(0, self.pos, self.pos + size)
        if end < 0:
            if self.buf.find(0, self.pos) < 0:
                raise self.fail(S.ESME_RINVCMDLEN, "C-string without NUL")
            raise self.fail(status, f"C-string longer than {size} octets")
        text = self.buf[self.pos : end].decode("latin-1")
        if fixed and len(text) not in (0, size - 1):
            raise self.fail(status, f"C-string must be empty or {size - 1} characters")
        self.pos = end + 1
        return text

    def field(self, wire: Wire) -> object:
        kind = wire.kind
        if kind in (Kind.INT1, Kind.INT2, Kind.INT4):
            return self.uint(wire.size)
        if kind is Kind.CSTR:
            return self.cstr(wire.size, wire.status, wire.fixed)
        if kind is Kind.SM:
            sm_length = self.uint(1)
            if sm_length > wire.size:  # §5.2.21: 0..254
                raise self.fail(S.ESME_RINVMSGLEN, f"sm_length {sm_length} > {wire.size}")
            return self.take(sm_length, S.ESME_RINVMSGLEN)
        count = self.uint(1)
        if kind is Kind.DESTS:
            if not 0 < count <= wire.size:  # §4.5.1: number_of_dests 1..254
                raise self.fail(wire.status, f"number_of_dests {count}")
            return tuple(self.dest() for _ in range(count))
        return tuple(self.unsuccess() for _ in range(count))

    def dest(self) -> DestAddress | DistributionList:
        flag = self.uint(1)
        if flag == 1:
            ton, npi = self.uint(1), self.uint(1)
            addr = self.cstr(21, S.ESME_RINVDSTADR)
            return DestAddress(ton=ton, npi=npi, address=addr)
        if flag == 2:
            return DistributionList(self.cstr(21, S.ESME_RINVDLNAME))
        raise self.fail(S.ESME_RINVDESTFLAG, f"dest_flag {flag}")

    def unsuccess(self) -> UnsuccessSme:
        ton, npi = self.uint(1), self.uint(1)
        addr = self.cstr(21, S.ESME_RINVDSTADR)
        return UnsuccessSme(ton=ton, npi=npi, address=addr, error_status_code=self.uint(4))

    def tlvs(self) -> tuple[tuple[int, bytes], ...]:
        out = []
        while self.pos < len(self.buf):
            if self.pos + 4 > len(self.buf):
                raise self.fail(S.ESME_RINVOPTPARSTREAM, "truncated TLV header")
            tag, length = _TLV_HEAD.unpack_from(self.buf, self.pos)
            self.pos += 4
            if self.pos + length > len(self.buf):
                raise self.fail(S.ESME_RINVOPTPARSTREAM, f"TLV 0x{tag:04X} overruns the PDU")
            out.append((tag, self.take(length)))
        return tuple(out)


_INT, _CSTR, _SM, _LIST = range(4)
_CODES = {Kind.INT1: _INT, Kind.INT2: _INT, Kind.INT4: _INT, Kind.CSTR: _CSTR, Kind.SM: _SM}
_Plan = tuple[tuple[str, int, Wire], ...]
_PLANS: dict[type[Pdu], _Plan] = {}


def _plan(cls: type[Pdu]) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = tuple((n, _CODES.get(w.kind, _LIST), w) for n, w in body_fields(cls))
        _PLANS[cls] = plan
    return plan


def _read_body(reader: _Reader, plan: _Plan) -> dict[str, object]:
    """The mandatory fields, as ``_Reader.field`` reads them one by one, inlined for the
    integers, C-strings and short messages every submit and receipt is made of (the
    method calls cost more than the reading). Errors go through ``_Reader`` unchanged."""
    buf, pos, end = reader.buf, reader.pos, len(reader.buf)
    values: dict[str, object] = {}
    for name, code, wire in plan:
        size = wire.size
        if code == _INT and pos + size <= end:
            values[name] = buf[pos] if size == 1 else int.from_bytes(buf[pos : pos + size], "big")
            pos += size
        elif code == _CSTR and (nul := buf.find(0, pos, pos + size)) >= 0 and not wire.fixed:
            values[name] = buf[pos:nul].decode("latin-1")
            pos = nul + 1
        elif code == _SM and pos < end and buf[pos] <= size and pos + 1 + buf[pos] <= end:
            values[name] = buf[pos + 1 : pos + 1 + buf[pos]]
            pos += 1 + buf[pos]
        else:  # a list, a fixed-length time, or an error to report: the general reader
            reader.pos = pos
            values[name] = reader.field(wire)
            pos = reader.pos
    reader.pos = pos
    return values


def decode(data: bytes | bytearray | memoryview) -> Pdu:
    """Decode exactly one PDU; raise ``PduError`` (and nothing else) if it is malformed."""
    buf = bytes(data)
    if len(buf) < HEADER_LENGTH:
        raise PduError(S.ESME_RINVCMDLEN, f"{len(buf)} octets: shorter than a header")
    length, command_id, status, seq = peek_header(buf)
    if length != len(buf) or length > MAX_COMMAND_LENGTH:
        raise PduError(S.ESME_RINVCMDLEN, f"command_length {length}", command_id, seq)
    cls = COMMANDS.get(command_id)
    if cls is None:
        raise PduError(S.ESME_RINVCMDID, f"command_id 0x{command_id:08X}", command_id, seq)
    if length == HEADER_LENGTH and command_id & RESPONSE_BIT:
        # §4.4.2: no body after a non-zero status. Some peers also send a bare header for
        # deliver_sm_resp with status 0 (message_id "unused"); accept that as empty too.
        return cls(sequence_number=seq, command_status=status)
    reader = _Reader(buf, command_id, seq)
    values = _read_body(reader, _plan(cls))
    tlvs = reader.tlvs()
    try:
        return cls.from_wire(seq, status, tlvs, values)
    except ValueError as exc:  # a known TLV with a bad length (§5.3.2)
        raise PduError(S.ESME_RINVPARLEN, str(exc), command_id, seq) from exc
