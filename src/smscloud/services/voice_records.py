"""What the console reads of a tenant's voice messages: calls, their counts, recordings, and
what the send page offers (applications and approved voice templates).

Read only, and always scoped to one tenant: every query filters by ``tenant_id``, so another
tenant's call, file or template is not found, exactly like one that never existed. Calls are
read on the ``ix_voice_calls_tenant_time`` index, within a time range and a page.

A call's recording is a path the built-in phone network wrote (``delivery/call_records.recorded``);
:func:`recording_path` hands it out only when it lies inside the recordings directory, so a
row that points anywhere else (a store restored from another machine, a hand-edited row) is no
recording at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, func, select

from smscloud.domain.call_states import CallState
from smscloud.services.accounts.tenants import TenantProfile, tenant_profile
from smscloud.services.registry.voice_files import RegisteredVoiceFile
from smscloud.services.registry.voice_templates import RegisteredVoiceTemplate
from smscloud.services.statistics import SLOT, slot_of, total
from smscloud.store import schema as s

__all__ = [
    "RECORDINGS_DIR",
    "VOICE_SLOT",
    "VoiceAppChoice",
    "VoiceCallFilter",
    "VoiceCallRow",
    "VoiceChoices",
    "VoiceTemplateChoice",
    "inside",
    "own_voice_file",
    "own_voice_templates",
    "recording_path",
    "voice_call",
    "voice_calls",
    "voice_choices",
    "voice_quarter_hours",
]

RECORDINGS_DIR = "voice-recordings"  # under the data directory (``Platform._voice_carriers``)
VOICE_SLOT = SLOT  # seconds: counted by quarter hour, as the SMS statistics are
APPROVED = 0  # voice_templates.status

vc, a = s.voice_calls, s.applications


@dataclass(frozen=True, slots=True)
class VoiceCallRow:
    """A call as the records list and the call's page show it (never its recording's path)."""

    call_id: str
    created_at: float
    sdk_app_id: str
    app_name: str
    phone: str
    kind: str  # domain.voice_rules.VoiceKind
    template_id: int | None
    text: str
    play_times: int
    state: str  # domain.call_states.CallState
    dialled_at: float | None
    ringing_at: float | None
    answered_at: float | None
    ended_at: float | None
    failure_code: int
    hung_up_by: str
    keys: str
    fee_minutes: int
    unit_price: int  # micro-yuan per minute
    has_recording: bool

    @property
    def ring_seconds(self) -> float | None:
        """How long the phone rang: until answered, else until the call ended."""
        if self.ringing_at is None:
            return None
        stop = self.answered_at if self.answered_at is not None else self.ended_at
        return None if stop is None else max(0.0, stop - self.ringing_at)

    @property
    def talk_seconds(self) -> float | None:
        """How long the answered call lasted; None while unanswered or not ended."""
        if self.answered_at is None or self.ended_at is None:
            return None
        return max(0.0, self.ended_at - self.answered_at)

    @property
    def fee(self) -> int:
        """What the call costs, in micro-yuan: billed minutes at the call's price."""
        return self.fee_minutes * self.unit_price


@dataclass(frozen=True, slots=True)
class VoiceCallFilter:
    """Which of a tenant's calls a page shows: a time range, an application, a state, a
    number; one page."""

    begin: float
    end: float
    sdk_app_id: str = ""
    state: str = ""
    phone: str = ""  # E.164
    offset: int = 0
    limit: int = 50


def _columns() -> list[Any]:
    return [
        vc.c.call_id,
        vc.c.created_at,
        a.c.sdk_app_id,
        a.c.name.label("app_name"),
        vc.c.phone,
        vc.c.kind,
        vc.c.template_id,
        vc.c.text,
        vc.c.play_times,
        vc.c.state,
        vc.c.dialled_at,
        vc.c.ringing_at,
        vc.c.answered_at,
        vc.c.ended_at,
        vc.c.failure_code,
        vc.c.hung_up_by,
        vc.c["keys"],
        vc.c.fee_minutes,
        vc.c.unit_price,
        (vc.c.recording != "").label("has_recording"),
    ]


def _row(row: Any) -> VoiceCallRow:
    m = row._mapping
    return VoiceCallRow(
        call_id=str(m["call_id"]),
        created_at=float(m["created_at"]),
        sdk_app_id=str(m["sdk_app_id"]),
        app_name=str(m["app_name"]),
        phone=str(m["phone"]),
        kind=str(m["kind"]),
        template_id=None if m["template_id"] is None else int(m["template_id"]),
        text=str(m["text"]),
        play_times=int(m["play_times"]),
        state=str(m["state"]),
        dialled_at=m["dialled_at"],
        ringing_at=m["ringing_at"],
        answered_at=m["answered_at"],
        ended_at=m["ended_at"],
        failure_code=int(m["failure_code"]),
        hung_up_by=str(m["hung_up_by"]),
        keys=str(m["keys"]),
        fee_minutes=int(m["fee_minutes"]),
        unit_price=int(m["unit_price"]),
        has_recording=bool(m["has_recording"]),
    )


def voice_calls(conn: Connection, tenant_id: int, f: VoiceCallFilter) -> list[VoiceCallRow]:
    """One page of a tenant's calls, newest first (fetch ``limit + 1`` to learn whether
    another page follows)."""
    cond: list[Any] = [
        vc.c.tenant_id == tenant_id,
        vc.c.created_at >= f.begin,
        vc.c.created_at <= f.end,
    ]
    if f.sdk_app_id:
        cond.append(a.c.sdk_app_id == f.sdk_app_id)
    if f.state:
        cond.append(vc.c.state == f.state)
    if f.phone:
        cond.append(vc.c.phone == f.phone)
    rows = conn.execute(
        select(*_columns())
        .join(a, a.c.id == vc.c.app_id)
        .where(*cond)
        .order_by(vc.c.created_at.desc(), vc.c.id.desc())
        .limit(f.limit)
        .offset(f.offset)
    )
    return [_row(r) for r in rows]


def voice_call(conn: Connection, tenant_id: int, call_id: str) -> VoiceCallRow | None:
    """The tenant's call ``call_id``, or None."""
    row = conn.execute(
        select(*_columns())
        .join(a, a.c.id == vc.c.app_id)
        .where(vc.c.call_id == call_id, vc.c.tenant_id == tenant_id)
    ).first()
    return None if row is None else _row(row)


def recording_path(conn: Connection, tenant_id: int, call_id: str, data_dir: Path) -> Path | None:
    """Where the recording of the tenant's call ``call_id`` is, if it has one inside
    ``<data_dir>/voice-recordings``; None otherwise (another tenant's call included)."""
    kept = conn.execute(
        select(vc.c.recording).where(vc.c.call_id == call_id, vc.c.tenant_id == tenant_id)
    ).scalar()
    if not kept:
        return None
    return inside(Path(str(kept)), data_dir / RECORDINGS_DIR, suffixes=(".wav",))


def inside(path: Path, folder: Path, *, suffixes: tuple[str, ...]) -> Path | None:
    """``path`` resolved, when it is a file name with one of ``suffixes`` within ``folder``
    (links followed); else None."""
    try:
        real, root = path.resolve(), folder.resolve()
    except (OSError, RuntimeError):  # a loop of links
        return None
    if real.suffix.lower() not in suffixes or not real.is_relative_to(root) or real == root:
        return None
    return real


def voice_quarter_hours(
    conn: Connection, tenant_id: int, since: float
) -> dict[int, tuple[int, int, int, int]]:
    """(calls, answered, failed, billed minutes) of a tenant's calls since ``since``, by
    quarter hour (``created_at // VOICE_SLOT``), in one pass."""
    slot = slot_of(conn, vc.c.created_at, VOICE_SLOT)
    rows = conn.execute(
        select(
            slot,
            func.count(),
            total(and_(vc.c.state == CallState.ENDED.value, vc.c.answered_at.is_not(None))),
            total(vc.c.state == CallState.FAILED.value),
            total(vc.c.state == CallState.ENDED.value, vc.c.fee_minutes),
        )
        .where(vc.c.tenant_id == tenant_id, vc.c.created_at >= since)
        .group_by(slot)
    )
    out: dict[int, tuple[int, int, int, int]] = {}
    for r in rows:
        out[int(r[0])] = (int(r[1]), int(r[2]), int(r[3]), int(r[4]))
    return out


@dataclass(frozen=True, slots=True)
class VoiceAppChoice:
    """An active application a call may be placed from."""

    sdk_app_id: str
    name: str


@dataclass(frozen=True, slots=True)
class VoiceTemplateChoice:
    """An approved voice template a notification may play."""

    id: int
    name: str
    content: str


@dataclass(frozen=True, slots=True)
class VoiceChoices:
    """What the send page offers: the tenant, its active applications, its approved voice
    templates (oldest first)."""

    tenant: TenantProfile
    apps: list[VoiceAppChoice]
    templates: list[VoiceTemplateChoice]


def voice_choices(conn: Connection, tenant_id: int) -> VoiceChoices:
    """The tenant's active applications and approved, not deleted voice templates."""
    t = s.voice_templates
    apps = conn.execute(
        select(a.c.sdk_app_id, a.c.name)
        .where(a.c.tenant_id == tenant_id, a.c.status == "active")
        .order_by(a.c.id)
    )
    templates = conn.execute(
        select(t.c.id, t.c.name, t.c.content)
        .where(t.c.tenant_id == tenant_id, t.c.status == APPROVED, t.c.deleted.is_(False))
        .order_by(t.c.id)
    )
    return VoiceChoices(
        tenant=tenant_profile(conn, tenant_id),
        apps=[VoiceAppChoice(str(r.sdk_app_id), str(r.name)) for r in apps],
        templates=[VoiceTemplateChoice(int(r.id), str(r.name), str(r.content)) for r in templates],
    )


def own_voice_templates(conn: Connection, tenant_id: int) -> list[RegisteredVoiceTemplate]:
    """Every voice template of the tenant's not deleted (at most 1,000), newest first."""
    t = s.voice_templates
    rows = conn.execute(
        select(t).where(t.c.tenant_id == tenant_id, t.c.deleted.is_(False)).order_by(t.c.id.desc())
    ).mappings()
    return [RegisteredVoiceTemplate.from_row(r) for r in rows]


def own_voice_file(conn: Connection, tenant_id: int, row_id: int) -> RegisteredVoiceFile | None:
    """The tenant's voice file with row id ``row_id`` (not deleted), or None."""
    f = s.voice_files
    row = (
        conn.execute(
            select(f).where(f.c.id == row_id, f.c.tenant_id == tenant_id, f.c.deleted.is_(False))
        )
        .mappings()
        .first()
    )
    return None if row is None else RegisteredVoiceFile.from_row(row)
