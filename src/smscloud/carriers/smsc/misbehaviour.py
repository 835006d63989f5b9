"""Misbehaving SMSCs, one small subclass per fault, for testing ESMEs against real failures.

After Jasmin's family of fake SMSCs. Each overrides one or two hooks of ``SmscSimulator``
and behaves normally otherwise (binds, enquire_link, receipts of what it does accept).
"""

from __future__ import annotations

import struct

from smscloud.protocols.smpp import (
    CommandStatus,
    EnquireLink,
    GenericNack,
    Pdu,
    SubmitSm,
    SubmitSmResp,
    Unbind,
)
from smscloud.protocols.smpp.udh import ESM_UDHI, Part, concat_of

from .config import SmscConfig
from .connection import SmscConnection
from .simulator import SmscSimulator, Submitted

__all__ = [
    "BadCommandLength",
    "DropsAfterAccepting",
    "DropsAfterFirstPart",
    "DropsMidWindow",
    "NacksSubmits",
    "NeverAnswers",
    "QueueFull",
    "ReceiptBeforeResp",
    "RefusesBinds",
    "ThrottlesEveryNth",
    "UnbindsOnSubmit",
    "part_number",
]

S = CommandStatus


class NeverAnswers(SmscSimulator):
    """Records every submit_sm and never answers it: the ESME's response timer must fire."""

    def handle_submit(self, conn: SmscConnection, record: Submitted) -> None:
        pass


class NacksSubmits(SmscSimulator):
    """Answers every submit_sm with generic_nack (§4.3), here with ESME_RSYSERR."""

    status = S.ESME_RSYSERR

    def handle_submit(self, conn: SmscConnection, record: Submitted) -> None:
        record.status = self.status
        seq = record.pdu.sequence_number
        conn.send(GenericNack(sequence_number=seq, command_status=self.status))


class UnbindsOnSubmit(SmscSimulator):
    """Sends unbind (§4.2) instead of answering the first submit_sm, then closes on the
    ESME's unbind_resp. The submit stays unanswered."""

    def handle_submit(self, conn: SmscConnection, record: Submitted) -> None:
        conn.send(Unbind())


class RefusesBinds(SmscSimulator):
    """Refuses every bind with ESME_RBINDFAIL, whatever the credentials."""

    def bind_status(self, conn: SmscConnection, pdu: Pdu) -> int:
        return S.ESME_RBINDFAIL


class BadCommandLength(SmscSimulator):
    """Right after a successful bind, sends an enquire_link whose command_length (8) is
    shorter than the header itself: the ESME must nack and drop the connection (§3.3.3)."""

    def after_bind(self, conn: SmscConnection) -> None:
        conn.write_raw(struct.pack("!IIII", 8, EnquireLink.command_id, 0, 0x7FFFFFFF))


class ReceiptBeforeResp(SmscSimulator):
    """Writes the delivery receipt on the wire before the submit_sm_resp that carries the
    message id, as some SMSCs do under load: the ESME must match receipts that precede
    their id. The receipt goes to a receiver of the system_id (best seen on a transceiver).
    """

    def answer_submit(self, conn: SmscConnection, record: Submitted, status: int) -> None:
        if status != S.ESME_ROK:
            super().answer_submit(conn, record, status)
            return
        record.status, record.message_id = status, self.new_message_id()
        self.deliver(record.system_id, self.consequences(record))
        seq = record.pdu.sequence_number
        conn.send(SubmitSmResp(sequence_number=seq, message_id=record.message_id))


class ThrottlesEveryNth(SmscSimulator):
    """Answers every ``every``-th submit_sm (counted over the whole simulator) with
    ESME_RTHROTTLED; the others behave normally."""

    def __init__(self, config: SmscConfig | None = None, *, every: int = 3) -> None:
        super().__init__(config)
        self.every, self._count = every, 0

    def submit_status(self, conn: SmscConnection, record: Submitted) -> int:
        self._count += 1
        if self._count % self.every == 0:
            return S.ESME_RTHROTTLED
        return super().submit_status(conn, record)


class DropsMidWindow(SmscSimulator):
    """Holds submit_sm unanswered and, when the ``after``-th arrives on a connection,
    drops that connection without answering any of them (a crash mid-window)."""

    def __init__(self, config: SmscConfig | None = None, *, after: int = 3) -> None:
        super().__init__(config)
        self.after = after

    def handle_submit(self, conn: SmscConnection, record: Submitted) -> None:
        if conn.submits >= self.after:
            conn.shutdown(abort=True)


class QueueFull(SmscSimulator):
    """Answers the first ``count`` submit_sm with ESME_RMSGQFUL (§5.1.3), a queue that
    is full for a while and then drains; later submits behave normally."""

    def __init__(self, config: SmscConfig | None = None, *, count: int = 3) -> None:
        super().__init__(config)
        self.count, self._seen = count, 0

    def submit_status(self, conn: SmscConnection, record: Submitted) -> int:
        self._seen += 1
        if self._seen <= self.count:
            return S.ESME_RMSGQFUL
        return super().submit_status(conn, record)


def part_number(pdu: SubmitSm) -> int | None:
    """Which part of a concatenated message ``pdu`` is (from 1); None for a whole message."""
    part = Part(
        short_message=pdu.short_message,
        data_coding=pdu.data_coding,
        esm_class=pdu.esm_class & ESM_UDHI,
        tlvs=pdu.tlvs,
    )
    try:
        info = concat_of(part)
    except ValueError:
        return None
    return info[2] if info is not None else None


class DropsAfterAccepting(SmscSimulator):
    """Accepts submit_sm as usual, but right after answering every ``every``-th accepted
    one (counted over the whole simulator) ends that connection: its FIN follows the answer,
    so the ESME knows exactly what was taken and loses the bind. Submits that still arrive
    on the closing connection are never answered (nor taken)."""

    def __init__(self, config: SmscConfig | None = None, *, every: int = 5) -> None:
        super().__init__(config)
        self.every, self._accepted = every, 0
        self.drops = 0
        self._closing: set[SmscConnection] = set()

    def drops_after(self, record: Submitted) -> bool:
        self._accepted += 1
        return self._accepted % self.every == 0

    def answer_submit(self, conn: SmscConnection, record: Submitted, status: int) -> None:
        if conn in self._closing:
            return
        super().answer_submit(conn, record, status)
        if status == S.ESME_ROK and self.drops_after(record):
            self.drops += 1
            self._closing.add(conn)
            conn.stop_writing()  # the ESME reads the answer, then the end of the stream

    def on_closed(self, conn: SmscConnection) -> None:
        self._closing.discard(conn)
        super().on_closed(conn)


class DropsAfterFirstPart(DropsAfterAccepting):
    """Closes the connection right after accepting the first part of every concatenated
    message: a bind lost between the parts of each long message."""

    def drops_after(self, record: Submitted) -> bool:
        return part_number(record.pdu) == 1
