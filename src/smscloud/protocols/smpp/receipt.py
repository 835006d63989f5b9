"""Delivery receipts: the ``id:… stat:…`` text of SMPP 3.4 Appendix B, and message states.

The spec calls the format "SMSC vendor specific" and only gives an example, so the parser
is lenient: any case, fields in any order or missing, dates of 10 (YYMMDDhhmm) or 12
(YYMMDDhhmmss) digits, ids in hex or decimal. ``format_receipt`` writes the canonical form.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

__all__ = [
    "MessageState",
    "Receipt",
    "format_receipt",
    "is_final",
    "parse_receipt",
    "same_message_id",
    "stat_word",
    "state_from_stat",
]


class MessageState(IntEnum):
    """message_state values, SMPP 3.4 §5.2.28 (also the message_state TLV, §5.3.2.35)."""

    ENROUTE = 1
    DELIVERED = 2
    EXPIRED = 3
    DELETED = 4
    UNDELIVERABLE = 5
    ACCEPTED = 6
    UNKNOWN = 7
    REJECTED = 8


# Appendix B, Table B-2: the 7-letter stat words; the full names are seen in the wild.
_STATS: dict[str, MessageState] = {
    "ENROUTE": MessageState.ENROUTE,
    "DELIVRD": MessageState.DELIVERED,
    "DELIVERED": MessageState.DELIVERED,
    "EXPIRED": MessageState.EXPIRED,
    "DELETED": MessageState.DELETED,
    "UNDELIV": MessageState.UNDELIVERABLE,
    "UNDELIVERABLE": MessageState.UNDELIVERABLE,
    "ACCEPTD": MessageState.ACCEPTED,
    "ACCEPTED": MessageState.ACCEPTED,
    "UNKNOWN": MessageState.UNKNOWN,
    "REJECTD": MessageState.REJECTED,
    "REJECTED": MessageState.REJECTED,
}
_STAT_WORDS = {
    MessageState.ENROUTE: "ENROUTE",
    MessageState.DELIVERED: "DELIVRD",
    MessageState.EXPIRED: "EXPIRED",
    MessageState.DELETED: "DELETED",
    MessageState.UNDELIVERABLE: "UNDELIV",
    MessageState.ACCEPTED: "ACCEPTD",
    MessageState.UNKNOWN: "UNKNOWN",
    MessageState.REJECTED: "REJECTD",
}


def state_from_stat(stat: str) -> MessageState:
    """Map a receipt ``stat`` word to a state; anything unrecognised is UNKNOWN."""
    return _STATS.get(stat.strip().upper(), MessageState.UNKNOWN)


def is_final(state: int) -> bool:
    """Table B-2 lists every state but ENROUTE as final: no further receipt will follow."""
    return state in MessageState.__members__.values() and state != MessageState.ENROUTE


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """A parsed receipt; ``None`` marks a field the SMSC left out."""

    id: str
    stat: str
    sub: int | None = None
    dlvrd: int | None = None
    submit_date: datetime | None = None
    done_date: datetime | None = None
    err: str | None = None
    text: str | None = None

    @property
    def state(self) -> MessageState:
        return state_from_stat(self.stat)


_KEYS = re.compile(r"(?i)(?:^|(?<=\s))(id|sub|dlvrd|submit[ _]date|done[ _]date|stat|err|text)\s*:")


_DIGITS = re.compile(r"[0-9]+")
_HEX = re.compile(r"[0-9a-f]+")


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and _DIGITS.fullmatch(value) else None


def _date(value: str | None) -> datetime | None:
    if value is None or not _DIGITS.fullmatch(value) or len(value) not in (10, 12):
        return None
    # By hand: strptime costs a receipt more than the rest of its parsing. Two-digit years
    # follow strptime's %y (69-99 are 19xx, 00-68 are 20xx).
    yy = int(value[0:2])
    try:
        return datetime(
            1900 + yy if yy >= 69 else 2000 + yy,
            int(value[2:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[8:10]),
            int(value[10:12]) if len(value) == 12 else 0,
        )
    except ValueError:
        return None


# Appendix B's layout exactly, as most SMSCs write it: read with one match. Anything else
# (other order, case, spacing, missing keys) goes through the general reader below, which
# gives the same Receipt for this layout too (a property test holds them together).
_APPENDIX_B = re.compile(
    r"id:(\S+) sub:([0-9]{3}) dlvrd:([0-9]{3}) submit date:([0-9]{10}) done date:([0-9]{10})"
    r" stat:([A-Z]{7}) err:(\S{3}) text:(.*)",
    re.S,
)


def parse_receipt(body: str | bytes) -> Receipt | None:
    """Parse a receipt text; None if it has no ``id`` or no ``stat`` (not a receipt)."""
    text = body.decode("latin-1") if isinstance(body, bytes) else body
    if (exact := _APPENDIX_B.fullmatch(text)) is not None:
        rid, sub, dlvrd, submitted, done, stat, err, rest = exact.groups()
        return Receipt(
            id=rid,
            stat=stat,
            sub=int(sub),
            dlvrd=int(dlvrd),
            submit_date=_date(submitted),
            done_date=_date(done),
            err=err,
            text=rest,
        )
    return _parse_any(text)


def _parse_any(text: str) -> Receipt | None:
    fields: dict[str, str] = {}
    matches = list(_KEYS.finditer(text))
    for i, match in enumerate(matches):
        key = match.group(1).lower().replace("_", " ")
        if key in fields:
            continue
        if key == "text":  # free text runs to the end and may itself contain colons
            fields[key] = text[match.end() :]
            break
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        fields[key] = text[match.end() : end].strip()
    if not fields.get("id") or "stat" not in fields:
        return None
    return Receipt(
        id=fields["id"],
        stat=fields["stat"].upper(),
        sub=_int(fields.get("sub")),
        dlvrd=_int(fields.get("dlvrd")),
        submit_date=_date(fields.get("submit date")),
        done_date=_date(fields.get("done date")),
        err=fields.get("err"),
        text=fields.get("text"),
    )


def format_receipt(r: Receipt) -> str:
    """The Appendix B example layout; missing numbers print as 000, dates as 10 digits."""

    def num(n: int | None) -> str:
        return f"{n or 0:03d}"

    def date(d: datetime | None) -> str:
        return _minute(d.year, d.month, d.day, d.hour, d.minute) if d else "0000000000"

    return (
        f"id:{r.id} sub:{num(r.sub)} dlvrd:{num(r.dlvrd)} submit date:{date(r.submit_date)} "
        f"done date:{date(r.done_date)} stat:{r.stat} err:{r.err or '000'} text:{r.text or ''}"
    )


@functools.lru_cache(maxsize=64)
def _minute(year: int, month: int, day: int, hour: int, minute: int) -> str:
    # YYMMDDhhmm (Appendix B). Receipts come in bursts of the same minute: each is written
    # out once (strftime was a twentieth of the simulator's work per message).
    return f"{year % 100:02d}{month:02d}{day:02d}{hour:02d}{minute:02d}"


def stat_word(state: MessageState) -> str:
    """The 7-letter Appendix B word for ``state``."""
    return _STAT_WORDS[state]


def _as_int(value: str, base: int) -> int | None:
    digits = _HEX if base == 16 else _DIGITS
    return int(value, base) if digits.fullmatch(value) else None


def same_message_id(submitted: str, receipted: str) -> bool:
    """Whether a submit_sm_resp message_id and a receipt id name the same message.

    SMSCs disagree on the base: many answer submit_sm_resp in hex and write the receipt id
    in decimal (or the reverse), some pad with zeros. Equal text, equal numbers in the same
    base, or a hex/decimal cross-match all count.
    """
    a, b = submitted.strip().lower(), receipted.strip().lower()
    if a == b:
        return True
    for base_a, base_b in ((16, 16), (10, 10), (16, 10), (10, 16)):
        x, y = _as_int(a, base_a), _as_int(b, base_b)
        if x is not None and x == y:
            return True
    return False
