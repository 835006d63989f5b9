"""The demo data ``smscloud serve`` puts into an empty database, so ``make run`` is usable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import phonenumbers
from sqlalchemy import Connection, func, insert, select

from smscloud.clock import system_clock
from smscloud.domain.billing.prices import SMS_INTL, VOICE
from smscloud.private_files import write_private
from smscloud.services.accounts import tenants as accounts
from smscloud.services.billing import wallet
from smscloud.store import schema as s
from smscloud.store.database import inserted_id

DEMO_SIGN = "云短信"
DEMO_TEMPLATE = "您的验证码是{1}，{2}分钟内有效，请勿泄露。"
DEMO_NOTICE = "尊敬的{1}，您的订单{2}已发货，请注意查收。"
DEMO_VOICE_NOTICE = "您好，您的订单{1}已发货，请注意查收。"
DEMO_VOICE_PRICE = 150_000  # micro-yuan per started minute: ¥0.15, Mainland China only
CREDENTIALS_FILE = "demo-credentials.json"


DEMO_INTL_PRICE = 350_000  # micro-yuan per part: ¥0.35, one price for every region


def seed_prices(conn: Connection, unit_price: int = DEMO_INTL_PRICE) -> int:
    """A flat international SMS price for every region but the mainland, and a voice price for
    the mainland, on an empty table.

    Without a price a country cannot be sent to; operators import their own table
    (``smscloud admin price import``). Returns how many rows it added.
    """
    if conn.execute(select(func.count()).select_from(s.prices)).scalar_one():
        return 0
    rows = [
        {
            "product": SMS_INTL,
            "iso_code": region,
            "nation_code": str(phonenumbers.country_code_for_region(region)),
            "unit_price": unit_price,
        }
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        if region != "CN" and len(region) == 2
    ]
    # Voice: Mainland China numbers (as Tencent's voice messaging), per started minute.
    rows.append(
        {"product": VOICE, "iso_code": "CN", "nation_code": "86", "unit_price": DEMO_VOICE_PRICE}
    )
    conn.execute(insert(s.prices), rows)
    return len(rows)


def approved_sign(conn: Connection, tenant_id: int, name: str) -> int:
    """A Mainland China signature, approved (for the demo and benchmarks)."""
    now = system_clock()
    return inserted_id(
        conn.execute(
            insert(s.signs).values(
                tenant_id=tenant_id,
                name=name,
                sign_type=0,
                document_type=1,
                international=0,
                purpose=0,
                status=0,
                review_reply="通过",
                deleted=False,
                created_at=now,
                reviewed_at=now,
            )
        )
    )


def approved_template(
    conn: Connection, tenant_id: int, name: str, content: str, *, sms_type: int
) -> int:
    """A Mainland China template, approved (for the demo and benchmarks)."""
    now = system_clock()
    return inserted_id(
        conn.execute(
            insert(s.templates).values(
                tenant_id=tenant_id,
                name=name,
                content=content,
                sms_type=sms_type,
                international=0,
                remark="demo",
                status=0,
                review_reply="通过",
                deleted=False,
                created_at=now,
                reviewed_at=now,
            )
        )
    )


def approved_voice_template(conn: Connection, tenant_id: int, name: str, content: str) -> int:
    """A voice template, approved (for the demo and benchmarks)."""
    now = system_clock()
    return inserted_id(
        conn.execute(
            insert(s.voice_templates).values(
                tenant_id=tenant_id,
                name=name,
                content=content,
                remark="",
                status=0,
                review_reply="",
                deleted=False,
                created_at=now,
                reviewed_at=now,
            )
        )
    )


def seed_demo(conn: Connection, data_dir: Path) -> dict[str, Any] | None:
    """Seed once, on a database with no tenants; returns the credentials when it did."""
    if conn.execute(select(func.count()).select_from(s.tenants)).scalar_one():
        return None
    password = accounts.new_password()
    accounts.create_operator(conn, "admin", password)
    seed_prices(conn)
    tenant = accounts.create_tenant(conn, "Demo Co.", "enterprise", verified=True)
    tenant_password = accounts.new_password()
    accounts.create_tenant_user(conn, tenant.id, "demo@example.com", tenant_password)
    key = accounts.create_key(conn, tenant.id)
    app = accounts.create_app(conn, tenant.id, "Demo app")
    wallet.grant_package(conn, tenant.id, 10_000, package_type=0)
    sign_id = approved_sign(conn, tenant.id, DEMO_SIGN)
    template_id = approved_template(conn, tenant.id, "验证码", DEMO_TEMPLATE, sms_type=3)
    notice_id = approved_template(conn, tenant.id, "发货通知", DEMO_NOTICE, sms_type=2)
    voice_id = approved_voice_template(conn, tenant.id, "发货语音通知", DEMO_VOICE_NOTICE)
    creds = {
        "operator": {"username": "admin", "password": password},
        "tenant": {"id": tenant.id, "email": "demo@example.com", "password": tenant_password},
        "secret_id": key.secret_id,
        "secret_key": key.secret_key,
        "sdk_app_id": app.sdk_app_id,
        "app_key": app.app_key,
        "sign_name": DEMO_SIGN,
        "sign_id": int(sign_id),
        "template_id": str(template_id),
        "template": DEMO_TEMPLATE,
        "notice_template_id": str(notice_id),
        "notice_template": DEMO_NOTICE,
        "voice_template_id": str(voice_id),
        "voice_template": DEMO_VOICE_NOTICE,
    }
    path = data_dir / CREDENTIALS_FILE
    write_private(path, (json.dumps(creds, ensure_ascii=False, indent=2) + "\n").encode())
    return creds


def load_demo(data_dir: Path) -> dict[str, Any] | None:
    path = data_dir / CREDENTIALS_FILE
    return json.loads(path.read_text()) if path.exists() else None
