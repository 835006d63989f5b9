"""Submissions to submit_sm PDUs: addresses, data coding and long-message parts (pure)."""

from __future__ import annotations

import functools

from smscloud.carriers.base import Submission
from smscloud.protocols.smpp import Concat, SubmitSm, split
from smscloud.protocols.smpp.status import CommandStatus

from .config import SmppConfig

__all__ = ["TON_ALPHANUMERIC", "BuildError", "build_parts"]

TON_ALPHANUMERIC = 5  # §5.2.5: an alphanumeric source such as a brand name
_MAX_ADDR = 20  # source_addr and destination_addr are C-Octet Strings of 21 (§4.4.1)


class BuildError(ValueError):
    """A submission no SMSC could take; ``status`` names the SMPP error it would earn."""

    def __init__(self, status: CommandStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def _source(sub: Submission, config: SmppConfig) -> tuple[str, int, int]:
    """(source_addr, ton, npi): the sender id (or the configured default) plus the extend
    code, which carriers route replies by."""
    addr = (sub.sender_id or config.source_addr) + sub.extend_code
    if addr and not addr.isdigit():
        return addr, TON_ALPHANUMERIC, 0  # §5.2.5-6: alphanumeric TON, unknown NPI
    return addr, config.source_ton, config.source_npi


def build_parts(sub: Submission, config: SmppConfig, reference: int) -> list[SubmitSm]:
    """One submit_sm per part of ``sub`` (without sequence numbers), in order.

    Text goes as GSM 7-bit (data_coding 0, unpacked, §5.2.19) when every character has a
    GSM encoding, else UCS-2 (data_coding 8); a long text is split by ``config.long_method``
    with ``reference`` as the concatenation reference. Raises ``BuildError``.
    """
    source, ton, npi = _source(sub, config)
    dest = sub.phone.removeprefix("+")
    if len(source) > _MAX_ADDR:
        raise BuildError(CommandStatus.ESME_RINVSRCADR, f"source address {source!r} too long")
    if not dest.isdigit() or len(dest) > _MAX_ADDR:
        raise BuildError(CommandStatus.ESME_RINVDSTADR, f"bad destination {sub.phone!r}")
    limit = 0xFF if config.long_method is Concat.UDH8 else 0xFFFF
    try:
        parts = split(sub.text, method=config.long_method, reference=reference % (limit + 1))
    except ValueError as exc:  # over 255 parts
        raise BuildError(CommandStatus.ESME_RINVMSGLEN, str(exc)) from exc
    template = _template(config, source, ton, npi)
    return [
        template.evolve(
            destination_addr=dest,
            esm_class=part.esm_class,
            data_coding=part.data_coding,
            short_message=part.short_message,
            tlvs=part.tlvs,
        )
        for part in parts
    ]


@functools.lru_cache(maxsize=1024)
def _template(config: SmppConfig, source: str, ton: int, npi: int) -> SubmitSm:
    """The fields every submit_sm of one carrier and sender shares, checked once: building
    each PDU whole checked a dozen fields per message, most of them the same every time."""
    return SubmitSm(
        service_type=config.service_type,
        source_addr_ton=ton,
        source_addr_npi=npi,
        source_addr=source,
        dest_addr_ton=config.dest_ton,
        dest_addr_npi=config.dest_npi,
        registered_delivery=config.registered_delivery,
    )
