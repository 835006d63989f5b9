"""Arranging what the voice APIs need, as an operator would: a tenant allowed to call, its
approved voice templates and files, and a voice price for the mainland.

Rows are written directly (the voice registry's review is tested on its own): what matters
to the send APIs is an approved row (status 0) of the tenant's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert

from smscloud.domain.billing.prices import VOICE
from smscloud.store import schema as s
from smscloud.store.database import inserted_id
from tests.support.live import LiveServer, Tenant

APPROVED, PENDING = 0, 1  # voice_templates.status and voice_files.status
# Tencent prices voice per started minute; micro-yuan, so 0.12 yuan a minute.
MAINLAND_PRICE = 120_000
NOTICE = "您的订单{1}已发货，预计{2}送达。"


@dataclass
class VoiceTenant:
    """A tenant with a key, an application and an approved two-variable template."""

    t: Tenant
    template_id: str


def voice_template(
    conn: Connection, tenant_id: int, content: str, status: int = APPROVED, *, now: float
) -> int:
    """A voice template of the tenant's, in ``status``."""
    return inserted_id(
        conn.execute(
            insert(s.voice_templates).values(
                tenant_id=tenant_id,
                name="voice",
                content=content,
                remark="",
                status=status,
                review_reply="",
                deleted=False,
                created_at=now,
                reviewed_at=now if status == APPROVED else None,
            )
        )
    )


def voice_file(
    conn: Connection, tenant_id: int, fid: str, status: int = APPROVED, *, now: float
) -> int:
    """An uploaded recording of the tenant's (the row only: the sends read no audio)."""
    return inserted_id(
        conn.execute(
            insert(s.voice_files).values(
                tenant_id=tenant_id,
                fid=fid,
                media_type="wav",
                size=16_044,
                seconds=1.0,
                status=status,
                review_reply="",
                deleted=False,
                created_at=now,
                reviewed_at=now if status == APPROVED else None,
            )
        )
    )


def price_mainland_voice(conn: Connection) -> None:
    """The operator's voice price for the mainland: ``MAINLAND_PRICE``, whatever was seeded."""
    pr = s.prices
    conn.execute(delete(pr).where(pr.c.product == VOICE, pr.c.iso_code == "CN"))
    conn.execute(
        insert(pr).values(product=VOICE, iso_code="CN", nation_code="86", unit_price=MAINLAND_PRICE)
    )


def voice_tenant(live: LiveServer, *, account_type: str = "enterprise") -> VoiceTenant:
    """A verified tenant of ``account_type`` that may call the mainland, with the approved
    template :data:`NOTICE`; no SMS sign, template or package (voice is postpaid)."""
    t = live.tenant(account_type=account_type, units=0, sign=None, template=None)
    now = live.platform.clock()
    live.admin(price_mainland_voice)
    template_id = live.admin(lambda c: voice_template(c, t.id, NOTICE, now=now))
    return VoiceTenant(t, str(template_id))
