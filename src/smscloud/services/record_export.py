"""A tenant's delivery records read for an export, a batch at a time.

An export may cover hundreds of thousands of messages (a bulk task, seven busy days), so it is
never read at once: each batch is one short read transaction of at most ``BATCH`` rows, and the
next starts after the last row seen, in the records page's own order (newest first, then by
id). This keyset walk costs the same at the millionth row as at the first, unlike OFFSET, and
the caller writes each batch out before asking for the next, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, fields
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, and_, or_, select

from smscloud.services.reports import RecordFilter, record_conditions
from smscloud.store import schema as s

T = TypeVar("T")
Reader = Callable[[Callable[[Connection], T]], Awaitable[T]]  # ``Database.read``
BATCH = 1000
m, a, t = s.messages, s.applications, s.templates


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """A message as an export writes it."""

    id: int
    created_at: float
    serial_no: str
    sdk_app_id: str
    phone: str
    sign_name: str
    template_id: int
    template_name: str
    content: str
    parts: int
    state: str
    request_code: str
    receipt_code: str
    done_at: float | None


_COLUMNS: dict[str, Any] = {f.name: getattr(m.c, f.name, None) for f in fields(ExportRecord)}
_COLUMNS["sdk_app_id"] = a.c.sdk_app_id
_COLUMNS["template_name"] = t.c.name


def record_batch(
    conn: Connection,
    tenant_id: int,
    f: RecordFilter,
    after: tuple[float, int] | None,
    limit: int = BATCH,
) -> list[ExportRecord]:
    """Up to ``limit`` of the tenant's messages ``f`` asks for, newest first, after the
    ``(created_at, id)`` of the last one of the previous batch."""
    cond = record_conditions(tenant_id, f)
    if after is not None:
        at, last = after
        cond.append(or_(m.c.created_at < at, and_(m.c.created_at == at, m.c.id < last)))
    columns = [c.label(name) for name, c in _COLUMNS.items()]
    rows = conn.execute(
        select(*columns)
        .select_from(
            m.join(a, a.c.id == m.c.app_id).outerjoin(
                t, and_(t.c.id == m.c.template_id, t.c.tenant_id == m.c.tenant_id)
            )
        )
        .where(*cond)
        .order_by(m.c.created_at.desc(), m.c.id.desc())
        .limit(limit)
    )
    return [
        ExportRecord(**{**row._mapping, "template_name": row.template_name or ""}) for row in rows
    ]


async def record_batches(
    read: Reader[list[ExportRecord]], tenant_id: int, f: RecordFilter, size: int = BATCH
) -> AsyncIterator[list[ExportRecord]]:
    """Every message ``f`` asks for, in batches of ``size``: the next batch is read only
    when the consumer asks for it."""
    after: tuple[float, int] | None = None
    while True:
        batch = await read(partial(record_batch, tenant_id=tenant_id, f=f, after=after, limit=size))
        if not batch:
            return
        yield batch
        if len(batch) < size:
            return
        after = (batch[-1].created_at, batch[-1].id)
