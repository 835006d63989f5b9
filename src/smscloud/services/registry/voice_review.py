"""The operator's review queue for voice templates and uploaded voice files.

Both are reviewed as SMS templates are (Tencent voice messaging: voice templates "are usable
once approved"; legacy v5 API: a voice file's review status): status 1 waits, the operator
sets 0 (approved, reply "通过" unless given) or -1 (rejected, with the reason the tenant sees),
and the tenant is told in the same transaction, by email and SMS (``services.notices``).
Deciding twice, or deciding what is not waiting, is refused, so two operators make one
decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, func, select, update

from smscloud.domain.errors import RuleViolation
from smscloud.domain.voice_templates import lint_voice_template
from smscloud.domain.work_time import ReviewWait, queue_key, review_wait
from smscloud.services import notices
from smscloud.store import schema as s

__all__ = [
    "PendingVoice",
    "PendingVoiceFile",
    "PendingVoiceTemplate",
    "ReviewKind",
    "VoiceDecision",
    "decide_voice",
    "pending_voice",
    "pending_voice_count",
]

ReviewKind = Literal["voice_template", "voice_file"]
PENDING = 1  # status: 0 approved, 1 under review, -1 rejected


@dataclass(frozen=True, slots=True)
class PendingVoiceTemplate:
    """A voice template waiting for the operator, with the lint findings on its text."""

    id: int
    tenant_id: int
    name: str
    content: str
    remark: str
    created_at: float
    wait: ReviewWait  # against the half-work-day promise, as the SMS queues
    findings: tuple[str, ...]
    kind: Literal["voice_template"] = "voice_template"


@dataclass(frozen=True, slots=True)
class PendingVoiceFile:
    """An uploaded recording waiting for the operator (who listens to it first)."""

    id: int
    tenant_id: int
    fid: str
    media_type: str
    size: int
    seconds: float
    created_at: float
    wait: ReviewWait
    kind: Literal["voice_file"] = "voice_file"


PendingVoice = PendingVoiceTemplate | PendingVoiceFile


@dataclass(frozen=True, slots=True)
class VoiceDecision:
    """What the operator decided: status 0 approved, -1 rejected."""

    kind: ReviewKind
    id: int
    tenant_id: int
    status: int
    reason: str


def pending_voice(conn: Connection, now: float, tz: ZoneInfo) -> list[PendingVoice]:
    """Everything voice waiting for review at ``now``, across tenants: templates, then files,
    each in the order of the SMS queues (past the half-work-day promise first, then the
    longest wait)."""
    t, f = s.voice_templates, s.voice_files
    templates: list[PendingVoiceTemplate] = []
    files: list[PendingVoiceFile] = []
    for row in conn.execute(
        select(t).where(t.c.status == PENDING, t.c.deleted.is_(False)).order_by(t.c.id)
    ).mappings():
        templates.append(
            PendingVoiceTemplate(
                id=int(row["id"]),
                tenant_id=int(row["tenant_id"]),
                name=str(row["name"]),
                content=str(row["content"]),
                remark=str(row["remark"]),
                created_at=float(row["created_at"]),
                wait=review_wait(float(row["created_at"]), now, tz),
                findings=tuple(x.message for x in lint_voice_template(str(row["content"]))),
            )
        )
    for row in conn.execute(
        select(f).where(f.c.status == PENDING, f.c.deleted.is_(False)).order_by(f.c.id)
    ).mappings():
        files.append(
            PendingVoiceFile(
                id=int(row["id"]),
                tenant_id=int(row["tenant_id"]),
                fid=str(row["fid"]),
                media_type=str(row["media_type"]),
                size=int(row["size"]),
                seconds=float(row["seconds"]),
                created_at=float(row["created_at"]),
                wait=review_wait(float(row["created_at"]), now, tz),
            )
        )
    templates.sort(key=lambda i: (queue_key(i.wait, i.created_at), i.id))
    files.sort(key=lambda i: (queue_key(i.wait, i.created_at), i.id))
    return [*templates, *files]


def pending_voice_count(conn: Connection) -> int:
    """Voice templates and files waiting for review."""
    return sum(
        int(
            conn.execute(
                select(func.count())
                .select_from(table)
                .where(table.c.status == PENDING, table.c.deleted.is_(False))
            ).scalar_one()
        )
        for table in (s.voice_templates, s.voice_files)
    )


def decide_voice(
    conn: Connection,
    kind: ReviewKind,
    item_id: int,
    *,
    approve: bool,
    reason: str = "",
    now: float,
) -> VoiceDecision:
    """Approve or reject one waiting voice template or file and tell its tenant."""
    name_of: ColumnElement[Any]
    if kind == "voice_template":
        table, noun = s.voice_templates, "voice template"
        name_of = table.c.name
    elif kind == "voice_file":
        # Tencent's answers name a file <sha1>.<type>; the tenant knows it by that.
        table, noun = s.voice_files, "voice file"
        name_of = table.c.fid + "." + table.c.media_type
    else:
        raise ValueError(f"unknown review kind {kind!r}")
    row = conn.execute(
        select(table.c.tenant_id, name_of.label("name")).where(
            table.c.id == item_id, table.c.deleted.is_(False)
        )
    ).first()
    if row is None:
        raise RuleViolation("ResourceNotFound", f"No {noun} with id {item_id}.")
    name = str(row.name)
    status = 0 if approve else -1
    done = conn.execute(
        update(table)
        .where(table.c.id == item_id, table.c.status == PENDING, table.c.deleted.is_(False))
        .values(status=status, review_reply=reason or ("通过" if approve else ""), reviewed_at=now)
    )
    if done.rowcount != 1:
        raise RuleViolation("FailedOperation", f"The {noun} {item_id} is not waiting for review.")
    tenant_id = int(row.tenant_id)
    notices.review_decided(conn, tenant_id, kind, name, approve, reason, now)
    return VoiceDecision(kind=kind, id=item_id, tenant_id=tenant_id, status=status, reason=reason)
