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
    SubmitSmResp,
    Unbind,
)

from .config import SmscConfig
from .connection import SmscConnection
from .simulator import SmscSimulator, Submitted

__all__ = [
    "BadCommandLength",
    "DropsMidWindow",
    "NacksSubmits",
    "NeverAnswers",
    "QueueFull",
    "ReceiptBeforeResp",
    "RefusesBinds",
    "ThrottlesEveryNth",
    "UnbindsOnSubmit",
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
