"""deliver_sm waiting for a receiver, per system_id, and their round robin.

Receipts and handset messages are kept while no receiver or transceiver of the system_id
is bound, as real SMSCs store them (§2.2: only those binds may be sent deliver_sm). A
deliver_sm whose deliver_sm_resp never came is parked until the system_id binds again; one
left unacknowledged by a closed session goes back to the front of the queue.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Sequence
from typing import cast

from smscloud.protocols.smpp import DeliverSm, Pdu, SessionError

from .connection import SmscConnection

__all__ = ["DeliveryQueue", "unsent"]


def unsent(pdu: DeliverSm) -> DeliverSm:
    """``pdu`` as it waits to be sent: it gets a new sequence number on the next send."""
    return pdu if pdu.sequence_number == 0 else cast(DeliverSm, pdu.with_sequence(0))


class DeliveryQueue:
    """``add`` deliver_sm, ``pump`` them into the receivers that have window room."""

    def __init__(self) -> None:
        self._pending: dict[str, deque[DeliverSm]] = {}
        self._parked: dict[str, list[DeliverSm]] = {}
        self._turn = itertools.count()

    def waiting(self, system_id: str) -> int:
        """How many deliver_sm wait for ``system_id`` (parked ones included)."""
        return len(self._pending.get(system_id, ())) + len(self._parked.get(system_id, ()))

    def add(self, system_id: str, pdus: Iterable[DeliverSm], *, front: bool = False) -> None:
        queue = self._pending.setdefault(system_id, deque())
        if front:
            queue.extendleft(reversed(list(pdus)))
        else:
            queue.extend(pdus)

    def contents(self) -> list[tuple[str, DeliverSm]]:
        """Every waiting deliver_sm with its system_id, parked ones first."""
        out = [(sid, pdu) for sid, pdus in self._parked.items() for pdu in pdus]
        out += [(sid, pdu) for sid, pdus in self._pending.items() for pdu in pdus]
        return out

    def park(self, system_id: str, pdu: DeliverSm) -> None:
        """Keep an unacknowledged deliver_sm until ``system_id`` binds again."""
        self._parked.setdefault(system_id, []).append(unsent(pdu))

    def release(self, system_id: str) -> None:
        """A bind: parked deliver_sm go first."""
        self.add(system_id, self._parked.pop(system_id, []), front=True)

    def requeue(self, system_id: str, requests: Iterable[Pdu]) -> None:
        """The deliver_sm among a closed session's unanswered requests, in order."""
        lost = [unsent(p) for p in requests if isinstance(p, DeliverSm)]
        self.add(system_id, lost, front=True)

    def pump(self, system_id: str, receivers: Sequence[SmscConnection]) -> None:
        """Send to ``receivers`` in turn while they have window room (§2.7)."""
        pending = self._pending.get(system_id)
        while pending:
            ready = [c for c in receivers if c.receives and c.has_room]
            if not ready:
                return
            try:
                ready[next(self._turn) % len(ready)].send(pending[0])
            except SessionError:
                return
            pending.popleft()
