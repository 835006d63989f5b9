"""The PDU base class: header values, TLVs and typed TLV accessors (SMPP 3.4 §3.2)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from .fields import Wire, validate
from .tlv import Tag, check_tlv, decode_tlv

__all__ = ["GENERIC_NACK", "RESPONSE_BIT", "Pdu", "body_fields"]

Tlvs = tuple[tuple[int, bytes], ...]
GENERIC_NACK = 0x80000000
RESPONSE_BIT = 0x80000000


@dataclass(frozen=True, slots=True, kw_only=True)
class Pdu:
    """Base of all PDUs: header values, TLVs as ``(tag, raw)`` pairs, typed accessors."""

    command_id: ClassVar[int] = 0
    name: ClassVar[str] = ""
    sequence_number: int = 0
    command_status: int = 0
    tlvs: tuple[tuple[int, bytes], ...] = ()

    def __init_subclass__(cls) -> None:
        # SubmitSmResp -> "submit_sm_resp", the spec's name for the command (§4).
        cls.name = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__.lstrip("_")).lower()

    def __post_init__(self) -> None:
        for attr in ("sequence_number", "command_status"):
            value = getattr(self, attr)
            if not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
                raise ValueError(f"{attr}: {value!r} is not a 4-octet unsigned integer")
        for name, wire in body_fields(type(self)):
            validate(name, wire, getattr(self, name))
        for tag, raw in self.tlvs:
            if not 0 <= tag <= 0xFFFF or not isinstance(raw, bytes):
                raise ValueError(f"bad TLV {tag!r}")
            check_tlv(tag, raw)

    @classmethod
    def from_wire(
        cls,
        sequence_number: int,
        command_status: int,
        tlvs: tuple[tuple[int, bytes], ...],
        values: dict[str, object],
    ) -> Pdu:
        """Build from body fields the decoder has read within their wire types, checking
        only the TLVs: validating every field again cost more than decoding it."""
        pdu = _builder(cls)(sequence_number, command_status, tlvs, values)
        for tag, raw in tlvs:
            check_tlv(tag, raw)
        return pdu

    def with_sequence(self, sequence_number: int) -> Pdu:
        """A copy with another sequence number. Only that field changes, so the others are
        not validated again (``dataclasses.replace`` would, for every PDU sent)."""
        if not 0 <= sequence_number <= 0xFFFFFFFF:
            raise ValueError(f"sequence_number: {sequence_number!r} is not 4 octets")
        twin = self._copy()
        object.__setattr__(twin, "sequence_number", sequence_number)
        return twin

    def evolve(self, **changes: object) -> Self:
        """A copy with ``changes``, validated as the constructor would validate them. The
        other fields were checked when this PDU was built: a sender that makes many PDUs
        from one template pays only for what differs (the constructor checks every field)."""
        cls = type(self)
        wires = _wires(cls)
        twin = self._copy()
        for name, value in changes.items():
            if name == "tlvs":
                for tag, raw in value:  # type: ignore[attr-defined]
                    if not 0 <= tag <= 0xFFFF or not isinstance(raw, bytes):
                        raise ValueError(f"bad TLV {tag!r}")
                    check_tlv(tag, raw)
            elif name in ("sequence_number", "command_status"):
                if not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
                    raise ValueError(f"{name}: {value!r} is not a 4-octet unsigned integer")
            elif name in wires:
                validate(name, wires[name], value)
            else:
                raise TypeError(f"{cls.__name__} has no field {name!r}")
            object.__setattr__(twin, name, value)
        return twin

    def _copy(self) -> Self:
        # copy.copy would pickle and unpickle the state; a loop over the fields cost as much
        # as the rest of building a submit_sm.
        twin: Self = _copier(type(self))(self)
        return twin

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESPONSE_BIT)

    def tlv(self, tag: int) -> bytes | None:
        """Raw value of the first TLV with ``tag``, or None."""
        return next((raw for t, raw in self.tlvs if t == tag), None)

    def tlv_int(self, tag: int) -> int | None:
        value = None if (raw := self.tlv(tag)) is None else decode_tlv(tag, raw)
        return value if isinstance(value, int) else None

    def tlv_str(self, tag: int) -> str | None:
        value = None if (raw := self.tlv(tag)) is None else decode_tlv(tag, raw)
        return value if isinstance(value, str) else None

    @property
    def receipted_message_id(self) -> str | None:
        return self.tlv_str(Tag.RECEIPTED_MESSAGE_ID)

    @property
    def delivery_state(self) -> int | None:
        """The message_state TLV (§5.3.2.35), 1..8."""
        return self.tlv_int(Tag.MESSAGE_STATE)

    @property
    def network_error_code(self) -> bytes | None:
        return self.tlv(Tag.NETWORK_ERROR_CODE)

    @property
    def message_payload(self) -> bytes | None:
        return self.tlv(Tag.MESSAGE_PAYLOAD)

    @property
    def sar(self) -> tuple[int, int, int] | None:
        """(sar_msg_ref_num, sar_total_segments, sar_segment_seqnum) if all present."""
        ref = self.tlv_int(Tag.SAR_MSG_REF_NUM)
        total = self.tlv_int(Tag.SAR_TOTAL_SEGMENTS)
        seq = self.tlv_int(Tag.SAR_SEGMENT_SEQNUM)
        return None if ref is None or total is None or seq is None else (ref, total, seq)


_SPECS: dict[type[Pdu], tuple[tuple[str, Wire], ...]] = {}
_SLOTS: dict[type[Pdu], tuple[str, ...]] = {}
_WIRES: dict[type[Pdu], dict[str, Wire]] = {}


def _slot_names(cls: type[Pdu]) -> tuple[str, ...]:
    """Every field of a PDU class (header values, TLVs, body)."""
    names = _SLOTS.get(cls)
    if names is None:
        names = _SLOTS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


_COPIERS: dict[type[Pdu], Callable[[Pdu], Any]] = {}
_BUILDERS: dict[type[Pdu], Callable[[int, int, Tlvs, dict[str, object]], Pdu]] = {}


def _copier(cls: type[Pdu]) -> Callable[[Pdu], Any]:
    """A function copying a ``cls`` PDU field by field, written out once per class."""
    copier = _COPIERS.get(cls)
    if copier is None:
        sets = [f"    set_(twin, {n!r}, pdu.{n})" for n in _slot_names(cls)]
        copier = _COPIERS[cls] = _generated(cls, "copy", "pdu", ["twin = new(cls)", *sets])
    return copier


def _builder(cls: type[Pdu]) -> Callable[[int, int, Tlvs, dict[str, object]], Pdu]:
    """``from_wire``'s assignments for ``cls``, written out once per class."""
    builder = _BUILDERS.get(cls)
    if builder is None:
        sets = [f"    set_(twin, {n!r}, values[{n!r}])" for n, _ in body_fields(cls)]
        head = [
            "twin = new(cls)",
            "    set_(twin, 'sequence_number', sequence_number)",
            "    set_(twin, 'command_status', command_status)",
            "    set_(twin, 'tlvs', tlvs)",
        ]
        params = "sequence_number, command_status, tlvs, values"
        builder = _BUILDERS[cls] = _generated(cls, "build", params, [*head, *sets])
    return builder


def _generated(cls: type[Pdu], name: str, params: str, body: list[str]) -> Any:
    """A function ``name(params)`` of ``body`` lines returning ``twin`` (as ``dataclasses``
    writes ``__init__``: from the class's own field names, nothing else)."""
    source = "\n".join([f"def {name}({params}):", "    " + body[0], *body[1:], "    return twin"])
    namespace: dict[str, Any] = {"new": object.__new__, "set_": object.__setattr__, "cls": cls}
    exec(source, namespace)  # the source above: field names of a declared PDU class
    return namespace[name]


def _wires(cls: type[Pdu]) -> dict[str, Wire]:
    wires = _WIRES.get(cls)
    if wires is None:
        wires = _WIRES[cls] = dict(body_fields(cls))
    return wires


def body_fields(cls: type[Pdu]) -> tuple[tuple[str, Wire], ...]:
    """The (name, wire type) pairs of a PDU class's body, in wire order."""
    spec = _SPECS.get(cls)
    if spec is None:
        spec = tuple(
            (f.name, f.metadata["wire"]) for f in dataclasses.fields(cls) if "wire" in f.metadata
        )
        _SPECS[cls] = spec
    return spec
